"""ParaPhraser: weight-averaged "soups" of the CoSENT runs, and a scorer stacked on one (dropped).

    .venv/bin/python benchmarks/paraphraser_soups.py [--data ../shared/data]

Reproduces the two ParaPhraser lines of BENCHMARKS.md's sixth-session notes. Needs the CoSENT
models ``benchmarks/training.py --only paraphraser-cosent`` writes (with
``NEARDUP_COSENT_EPOCHS=2``, ``NEARDUP_COSENT_UNFROZEN=1`` and ``NEARDUP_COSENT_BATCH=64`` for
the others) in ``.neardup-cache/bench/training/models``; missing ones are skipped. (The
``-2ep`` model the sixth session averaged was trained by an earlier form of that experiment,
with the 0/1 labels read as graded scores; today's command trains it on the pairs task.)

- Soups: the models' weights averaged uniformly, and greedily (ingredients added in order of
  dev AP while dev AP rises; Wortsman et al. 2022). Dev AP on the trainer's own dev split of
  the 80 % training file, AP on the held-out 20 %.
- Stacked scorer: a learned pair scorer (logistic regression and gradient boosting) over the
  3-epoch model's cosine and the lexical features, fitted on that dev split.

~1 minute of encoding per model on 2 cores. Exits 0 with a message when the data is absent.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

import training as T
from neardup.evaluate.metrics import average_precision
from neardup.train.data import load_training_data, split_training_data

MODELS = ("paraphraser-cosent-3ep", "paraphraser-cosent-2ep-unfrozen",
          "paraphraser-cosent-3ep-batch64", "paraphraser-cosent-2ep")


def soup(folders: list[Path], out: Path) -> Path:
    """A copy of the first folder with the models' weights averaged."""
    from safetensors.torch import load_file, save_file

    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(folders[0], out)
    states = [load_file(str(f / "model.safetensors")) for f in folders]
    mean = {k: (sum(s[k].float() for s in states) / len(states)).contiguous() for k in states[0]}
    save_file(mean, str(out / "model.safetensors"), metadata={"format": "pt"})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=T.DEFAULT_DATA)
    parser.add_argument("--work", type=Path, default=T.DEFAULT_WORK)
    args = parser.parse_args(argv)
    if not (args.data / "paraphraser-ru").is_dir():
        print(f"skipped: {args.data / 'paraphraser-ru'} not found (see ../shared/data)")
        return 0
    train_file = args.work / "paraphraser" / "train.csv"
    folders = [args.work / "models" / m for m in MODELS if (args.work / "models" / m).is_dir()]
    if not train_file.is_file() or not folders:
        print("skipped: run `benchmarks/training.py --only paraphraser-cosent` first")
        return 0
    data = load_training_data(train_file)
    dev = data.subset(split_training_data(data, 0.2, T.SEED).dev)
    _, test = T.held_out_pairs(T.paraphraser(args.data), 0.2)

    def both(folder: Path) -> tuple[float, float]:
        d = T.cosines(folder, dev.texts1, dev.texts2)
        t = T.cosines(folder, test.texts1, test.texts2)
        return average_precision(dev.labels, d), average_precision(test.labels, t)

    rows: list[tuple[str, float, float]] = []
    single = {f.name: both(f) for f in folders}
    rows += [(name, *aps) for name, aps in single.items()]
    order = sorted(folders, key=lambda f: -single[f.name][0])
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        rows.append(("uniform soup of all", *both(soup(order, Path(tmp) / "uniform"))))
        chosen, best = [order[0]], single[order[0].name][0]
        for f in order[1:]:
            dev_ap, test_ap = both(soup([*chosen, f], Path(tmp) / "candidate"))
            if dev_ap > best:
                chosen, best, greedy_test = [*chosen, f], dev_ap, test_ap
        if len(chosen) > 1:
            rows.append((f"greedy soup ({' + '.join(f.name for f in chosen)})", best, greedy_test))

    from neardup.models import load_encoder
    from neardup.train.scorer import LearnedPairScorer

    encoder = load_encoder(str(folders[0]))
    for model in ("logistic", "gbdt"):
        scorer = LearnedPairScorer(model).fit(dev.texts1, dev.texts2, dev.labels, encoder=encoder)
        scores = scorer.score_pairs(test.texts1, test.texts2, encoder=encoder)
        rows.append((f"{model} scorer stacked on {folders[0].name}, fitted on dev",
                     float("nan"), average_precision(test.labels, scores)))
    print("| system | dev AP | held-out AP |")
    print("|---|---|---|")
    for name, dev_ap, test_ap in rows:
        print(f"| {name} | {'-' if np.isnan(dev_ap) else f'{dev_ap:.4f}'} | {test_ap:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
