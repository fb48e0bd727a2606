"""Learned pair scorer vs the zero-shot scorers on the ER-Magellan (DITTO) entity-matching pairs.

    .venv/bin/python benchmarks/learned_scorer.py [--data ../shared/data] [--model none,e5]
        [--only Structured_Amazon-Google,...] [--classifier gbdt|logistic]

For each variant of ``er-magellan-ditto/`` that exists (Structured Amazon-Google, Structured and
Dirty Walmart-Amazon): train :class:`~neardup.train.scorer.LearnedPairScorer` on ``train.txt``
(it holds out 20% of it, stratified, to pick its threshold) and score ``test.txt``. Texts are the
DITTO serialisation (``COL title VAL ... COL price VAL ...``), used as they are by every scorer.

Columns of the table:

- ``AP`` — average precision of the pair scores on test.txt;
- ``F1 @ train thr.`` — F1 on test at a threshold chosen on train.txt only: the learned
  scorer's own ``threshold_`` (held-out 20% of train); for the zero-shot scorers, the F1-best
  threshold of their scores on train.txt. This is the honest number;
- ``best F1`` — F1 at the F1-best threshold on test itself (an oracle, optimistic for all rows).

Zero-shot rows: ``DefaultPairScorer`` (lexical + rescaled e5 cosine, or lexical-only without a
model) and, with a model, the raw e5 cosine. TF-IDF statistics are fitted on each file's own
texts, as the dedup pipeline does on a collection. Embeddings are cached under ``--cache``
(default /tmp/scorer/bench). Exits 0 with a message when the data folder is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neardup.dedup import SYMMETRIC_KIND
from neardup.evaluate.metrics import average_precision, best_f1_threshold
from neardup.scoring import DefaultPairScorer, cosine_range_for, embedding_similarity
from neardup.train.scorer import LearnedPairScorer
from readers import read_ditto

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("NEARDUP_DATA", REPO.parent / "shared" / "data"))
DATASETS = ("Structured_Amazon-Google", "Structured_Walmart-Amazon", "Dirty_Walmart-Amazon")
MODEL_ALIASES = {"e5": "multilingual-e5-small"}


class CachedEncoder:
    """An encoder whose outputs are cached on disk by content (encoding dominates run time)."""

    def __init__(self, name: str, cache: Path) -> None:
        from neardup.models import load_encoder

        self.inner = load_encoder(name)
        self.name, self.dim = self.inner.name, self.inner.dim
        self.cache = cache
        self.seconds = 0.0

    def encode(self, texts: Sequence[str], *, kind: str = "passage", batch_size: int = 64,
               show_progress: bool = False) -> np.ndarray:
        key = hashlib.sha1("\x00".join([self.name, kind, *texts]).encode()).hexdigest()[:16]
        path = self.cache / f"{self.name}-{key}.npy"
        if path.exists():
            return np.load(path)
        start = time.perf_counter()
        vectors = self.inner.encode(texts, kind=kind, batch_size=batch_size,
                                    show_progress=show_progress)
        self.seconds += time.perf_counter() - start
        self.cache.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors


@dataclass
class Split:
    texts: list[str]  # distinct texts
    left: np.ndarray
    right: np.ndarray
    labels: np.ndarray
    texts1: list[str]
    texts2: list[str]


def read_split(path: Path) -> Split:
    t1, t2, y = read_ditto(path)
    position: dict[str, int] = {}
    for t in t1 + t2:
        position.setdefault(t, len(position))
    return Split(
        list(position),
        np.array([position[t] for t in t1], np.int64),
        np.array([position[t] for t in t2], np.int64),
        np.array(y, np.int64),
        t1,
        t2,
    )


def f1_at(labels: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    pred = scores >= threshold
    tp = int(np.sum(pred & (labels == 1)))
    return 2 * tp / (int(pred.sum()) + int(labels.sum())) if pred.any() else 0.0


def zero_shot_scores(
    split: Split, emb: np.ndarray | None, model: str | None
) -> dict[str, np.ndarray]:
    out = {}
    default = DefaultPairScorer(cosine_range=cosine_range_for(model))
    name = "default (lexical + e5)" if emb is not None else "default (lexical only)"
    out[name] = default.score(split.texts, emb, split.left, split.right)
    if emb is not None:
        out[f"{model} cosine"] = embedding_similarity(emb, split.left, split.right)
    return out


def run_one(dataset: Path, model: str | None, classifier: str, cache: Path, calibration: str,
            refit: bool) -> list[dict]:
    train, test = read_split(dataset / "train.txt"), read_split(dataset / "test.txt")
    encoder = CachedEncoder(model, cache) if model else None
    emb_train = emb_test = None
    encode_s = 0.0
    if encoder is not None:
        emb_train = encoder.encode(train.texts, kind=SYMMETRIC_KIND, show_progress=True)
        emb_test = encoder.encode(test.texts, kind=SYMMETRIC_KIND, show_progress=True)
        encode_s = encoder.seconds
    name = encoder.name if encoder is not None else None

    scorer = LearnedPairScorer(classifier, calibration=calibration, refit=refit)
    start = time.perf_counter()
    scorer.fit_collection(train.texts, emb_train, train.left, train.right, train.labels, name)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    learned = scorer.score(test.texts, emb_test, test.left, test.right)
    score_s = time.perf_counter() - start

    rows = [dict(scorer=f"learned ({classifier}, {scorer.calibration_})", scores=learned,
                 threshold=scorer.threshold_, train_s=train_s, score_s=score_s)]
    train_zero = zero_shot_scores(train, emb_train, name)
    for label, scores in zero_shot_scores(test, emb_test, name).items():
        thr = best_f1_threshold(train.labels, train_zero[label]).threshold
        rows.append(dict(scorer=label, scores=scores, threshold=thr, train_s=None, score_s=None))
    for r in rows:
        s = r.pop("scores")
        r["ap"] = average_precision(test.labels, s)
        r["f1_train_thr"] = f1_at(test.labels, s, r["threshold"])
        r["best_f1"] = best_f1_threshold(test.labels, s).f1
        r.update(dataset=dataset.name, model=name or "none", encode_s=encode_s,
                 n_train=len(train.labels), n_test=len(test.labels),
                 dev=scorer.dev_metrics_)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--only", default=",".join(DATASETS))
    ap.add_argument("--model", default="none,e5", help="comma list: none, e5 or a model name")
    ap.add_argument("--classifier", default="gbdt", choices=("gbdt", "logistic"))
    ap.add_argument("--calibration", default="sigmoid", choices=("sigmoid", "isotonic"))
    ap.add_argument("--refit", action="store_true",
                    help="refit on all of train.txt after picking the threshold on its 20%%")
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("NEARDUP_BENCH_CACHE", "/tmp/scorer/bench")))
    args = ap.parse_args(argv)

    root = args.data / "er-magellan-ditto"
    if not root.is_dir():
        print(f"skipped: {root} not found (the shared data folder is absent)")
        return 0
    datasets = [root / d for d in args.only.split(",") if (root / d / "train.txt").is_file()]
    if not datasets:
        print(f"skipped: none of {args.only} found under {root}")
        return 0
    models = [None if m == "none" else MODEL_ALIASES.get(m, m) for m in args.model.split(",")]

    rows: list[dict] = []
    for dataset in datasets:
        for model in models:
            print(f"… {dataset.name}, model {model or 'none'}", file=sys.stderr, flush=True)
            rows += run_one(dataset, model, args.classifier, args.cache, args.calibration,
                            args.refit)

    print("| data | embeddings | scorer | AP | F1 @ train thr. | best F1 (oracle) | threshold "
          "| train s |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        train_s = f"{r['train_s']:.1f}" if r["train_s"] is not None else ""
        print(f"| {r['dataset']} | {r['model']} | {r['scorer']} | {r['ap']:.3f} | "
              f"{r['f1_train_thr']:.3f} | {r['best_f1']:.3f} | {r['threshold']:.3f} | {train_s} |")
    print()
    seen = set()
    for r in rows:
        key = (r["dataset"], r["model"])
        if key in seen or r["train_s"] is None:
            continue
        seen.add(key)
        print(f"- {r['dataset']} / {r['model']}: {r['n_train']} train pairs, {r['n_test']} test; "
              f"learned scorer trained in {r['train_s']:.1f}s, "
              f"scored test in {r['score_s']:.2f}s; encoding {r['encode_s']:.0f}s (0 = cached); "
              f"held-out dev AP {r['dev']['ap']:.3f} F1 {r['dev']['f1']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
