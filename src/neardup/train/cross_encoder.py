"""Fine-tune a cross-encoder re-ranker on labelled pairs (duplicate / not duplicate).

No pretrained cross-encoder ships in any package neardup can load offline, so training starts
from a packaged bi-encoder's transformer (by default the ``multilingual-e5-small`` preset): a
sentence-transformers folder loads as a ``CrossEncoder`` whose one-output classification head
is new, and binary cross-entropy teaches it to read both texts at once.

The recipe (:func:`train_cross_encoder`):

1. Read the pairs file (``text1, text2, label``; CSV/TSV/JSONL/Parquet) and check everything
   before any model is loaded: columns, 0/1 labels (the row and value are named), empty texts,
   the same pair labelled both ways, enough pairs of each class, the options, and that the base
   model resolves offline.
2. Hold out dev pairs: a stratified split over *distinct pairs* (a pair and its swapped copy,
   or a repeat of it, never straddle train and dev), or a dev file.
3. Optionally mine hard negatives: for each distinct first text of a positive training pair, its
   nearest training texts under a bi-encoder that are not known duplicates of it (see
   :func:`mine_hard_negatives`).
4. Optionally add each training pair swapped (duplicates are symmetric).
5. Train with sentence-transformers' ``CrossEncoderTrainer`` and ``BinaryCrossEntropyLoss``,
   measuring dev AP (:func:`neardup.evaluate.metrics.average_precision`) before training and
   every ``eval_steps``; the best-scoring weights are kept (in memory, not as checkpoints).
6. Calibrate the link threshold: the F1-best threshold on dev
   (:meth:`neardup.train.scorer.SplitScores.of`), with the scoring the re-ranker will use.
7. Write the model and ``neardup_reranker.json`` (threshold, dev metrics, base model, options,
   timings) atomically.

The result compares the trained re-ranker with the base bi-encoder's cosine on the same dev
pairs (:class:`CrossEncoderTrainResult`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from neardup.errors import InputError, ModelError, require
from neardup.evaluate.data import PairData
from neardup.pairs import distinct_pair_texts
from neardup.train.base_model import resolve_base_model
from neardup.train.data import distinct_pairs
from neardup.train.scorer import MIN_PAIRS, MIN_PER_CLASS, SplitScores, held_out_split

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from neardup.models.base import Encoder

__all__ = [
    "CrossEncoderOptions",
    "CrossEncoderTrainResult",
    "LossPoint",
    "EvalPoint",
    "train_cross_encoder",
    "load_labelled_pairs",
    "split_pairs",
    "mine_hard_negatives",
    "resolve_base_model",
    "DEFAULT_BASE_MODEL",
]

DEFAULT_BASE_MODEL = "multilingual-e5-small"
#: A mined negative must be this much (relative) less similar to its anchor than the anchor's
#: least similar known duplicate: the closest unlabelled neighbours of a text are often
#: unlabelled duplicates, and training them as negatives teaches the wrong thing. 5% is the
#: NV-Retriever "TopK-PercPos (95%)" setting sentence-transformers recommends.
NEGATIVE_RELATIVE_MARGIN = 0.05
#: Dev evaluations per epoch when ``eval_steps`` is not given.
EVALS_PER_EPOCH = 4


# --------------------------------------------------------------------------------------------
# Options and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrossEncoderOptions:
    """Training options; the defaults suit a few thousand pairs on a CPU.

    Args:
        epochs: passes over the training pairs (fractions allowed).
        batch_size: pairs per optimisation step.
        learning_rate: peak AdamW learning rate (linear decay after warm-up).
        warmup: warm-up length: a fraction of all steps if < 1, else a number of steps.
        max_length: tokens per pair (both texts together); longer pairs are truncated.
        seed: seed of the dev split, the new head's initialisation and the batch order.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``…; ``None`` picks CUDA when available.
        freeze_embeddings: do not train the token-embedding matrix. In multilingual-e5-small
            it holds 96M of the 118M parameters (250k tokens × 384); freezing it saves its
            gradient and AdamW state (~1.1 GB) and the update over it: on one CPU thread a
            batch of 16 pairs of 128 tokens took 5.2 s instead of 6.1 s. The transformer
            layers, which do most of the work, still train.
        hard_negatives: negatives to mine per distinct first text of a positive training pair
            (0: none).
        negatives_model: bi-encoder that mines them (preset, folder); default: the base model.
        swap_augment: also train on every pair with its texts swapped.
        symmetric: score pairs in both orders and average, when evaluating, calibrating and
            later re-ranking (stored in the manifest).
        dev_fraction: share of distinct pairs held out when no dev file is given.
        eval_steps: evaluate dev AP every this many steps (default: 4 times per epoch).
        threads: torch CPU threads while training (default: torch's choice).
        bf16: train in bfloat16 mixed precision (autocast; the weights and the saved model
            stay float32). On this project's CPU (AVX-512 BF16) a step of 16 pairs of 128
            tokens on e5-small took 1.29 s instead of 1.94 s; recent GPUs gain more. A CPU
            without native bfloat16 emulates it, slower than float32.
    """

    epochs: float = 1.0
    batch_size: int = 16
    learning_rate: float = 5e-5
    warmup: float = 0.1
    max_length: int = 128
    seed: int = 0
    device: str | None = None
    freeze_embeddings: bool = False
    hard_negatives: int = 0
    negatives_model: str | None = None
    swap_augment: bool = True
    symmetric: bool = True
    dev_fraction: float = 0.2
    eval_steps: int | None = None
    threads: int | None = None
    bf16: bool = False

    def check(self, *, dev_given: bool = False) -> None:
        """Raise an :class:`InputError` naming the first bad option and its allowed range."""
        checks: list[tuple[bool, str]] = [
            (math.isfinite(self.epochs) and self.epochs > 0, f"epochs must be > 0, got {self.epochs}"),
            (self.batch_size >= 1, f"batch size must be at least 1, got {self.batch_size}"),
            (math.isfinite(self.learning_rate) and 0 < self.learning_rate < 1,
             f"learning rate must lie in (0, 1), got {self.learning_rate}"),
            (math.isfinite(self.warmup) and self.warmup >= 0
             and (self.warmup < 1 or float(self.warmup).is_integer()),
             f"warm-up must be a fraction in [0, 1) of the steps or a whole number of steps, "
             f"got {self.warmup}"),
            (self.max_length >= 8, f"max length must be at least 8 tokens, got {self.max_length}"),
            (self.hard_negatives >= 0,
             f"hard negatives must be 0 or more, got {self.hard_negatives}"),
            # a dev file replaces the split, so the fraction is not used then
            (dev_given or 0.0 < self.dev_fraction < 1.0,
             f"--dev-fraction must lie in (0, 1), got {self.dev_fraction}"),
            (self.device is None or str(self.device).split(":")[0] in ("cpu", "cuda", "mps"),
             f"unknown device {self.device!r}; use cpu, cuda (or cuda:N) or mps"),
            (self.eval_steps is None or self.eval_steps >= 1,
             f"eval steps must be at least 1, got {self.eval_steps}"),
            (self.threads is None or self.threads >= 1,
             f"threads must be at least 1, got {self.threads}"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(message)
        if self.negatives_model is not None and self.hard_negatives == 0:
            raise InputError(
                "a negatives model was given but hard negatives are off; set hard_negatives "
                "(--hard-negatives N) or drop the negatives model"
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LossPoint:
    """Training loss logged at a step."""

    step: int
    loss: float


@dataclass(frozen=True)
class EvalPoint:
    """Dev average precision and binary cross-entropy of the cross-encoder at a step
    (0 = before training)."""

    step: int
    ap: float
    loss: float


@dataclass
class CrossEncoderTrainResult:
    """What :func:`train_cross_encoder` did and how well the result does on dev.

    ``baseline`` is the base bi-encoder's cosine on the dev pairs (the zero-shot score the
    re-ranker replaces), ``trained`` the saved re-ranker's scores; each at its own F1-best
    threshold, and ``threshold`` (the trained one) is what ``neardup dedup --rerank`` links at.
    """

    output: Path
    base_model: str
    n_train_pairs: int
    n_train_positive: int
    n_hard_negatives: int
    n_train_examples: int
    n_dev_pairs: int
    n_dev_positive: int
    baseline: SplitScores | None
    trained: SplitScores
    threshold: float
    steps: int
    best_step: int
    seconds_per_step: float
    train_seconds: float
    total_seconds: float
    device: str
    n_trainable_parameters: int
    n_parameters: int
    options: CrossEncoderOptions
    losses: list[LossPoint] = field(default_factory=list)
    evals: list[EvalPoint] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "base_model": self.base_model,
            "n_train_pairs": self.n_train_pairs,
            "n_train_positive": self.n_train_positive,
            "n_hard_negatives": self.n_hard_negatives,
            "n_train_examples": self.n_train_examples,
            "n_dev_pairs": self.n_dev_pairs,
            "n_dev_positive": self.n_dev_positive,
            "baseline": None if self.baseline is None else self.baseline.as_dict(),
            "trained": self.trained.as_dict(),
            "threshold": self.threshold,
            "steps": self.steps,
            "best_step": self.best_step,
            "seconds_per_step": self.seconds_per_step,
            "train_seconds": self.train_seconds,
            "total_seconds": self.total_seconds,
            "device": self.device,
            "n_trainable_parameters": self.n_trainable_parameters,
            "n_parameters": self.n_parameters,
            "options": self.options.as_dict(),
            "losses": [asdict(p) for p in self.losses],
            "evals": [asdict(p) for p in self.evals],
        }


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def load_labelled_pairs(
    path: str | Path,
    *,
    text1_col: str = "text1",
    text2_col: str = "text2",
    label_col: str = "label",
) -> PairData:
    """Read duplicate/not-duplicate pairs for training; errors name the file, row, column, value.

    Labels must be 0/1 (true/false and yes/no are read as 1/0); texts must be non-empty.
    """
    from neardup.evaluate.data import _parse_label, _read_table, _require_columns, _texts

    table = _read_table(Path(path))
    _require_columns(table, {"text1_col": text1_col, "text2_col": text2_col, "label_col": label_col})
    texts1, texts2 = _texts(table, text1_col), _texts(table, text2_col)
    for col, texts in ((text1_col, texts1), (text2_col, texts2)):
        for i, t in enumerate(texts):
            if not t.strip():
                raise InputError(
                    f"{table.path}, {table.where(i)}, column {col!r}: the text is empty; a "
                    "pair needs two texts. Fill it in or remove the row"
                )
    labels = np.empty(len(texts1), dtype=np.int64)
    for i, raw in enumerate(table.frame[label_col].tolist()):
        v = _parse_label(raw)
        if v not in (0.0, 1.0):
            raise InputError(
                f"{table.path}, {table.where(i)}, column {label_col!r}: label {raw!r} is not 0 "
                "or 1. A cross-encoder learns from duplicate (1) / not duplicate (0) labels; "
                "fix the value or remove the row (or name the label column with --label)"
            )
        labels[i] = int(v)
    return PairData(texts1, texts2, labels, "binary", table.path)


def _distinct_pairs(data: PairData, where: str) -> tuple[list[list[int]], np.ndarray]:
    return distinct_pairs(data.texts1, data.texts2, data.labels, where)


def _check_classes(labels: np.ndarray, where: str, need: int, what: str) -> None:
    n_pos = int(labels.sum())
    n_neg = int(labels.size - n_pos)
    for cls, count in ((1, n_pos), (0, n_neg)):
        if count < need:
            raise InputError(
                f"{where}: only {count} {what} have label {cls} "
                f"({'duplicate' if cls else 'not duplicate'}); training a cross-encoder needs at "
                f"least {need} of each class{' to measure and calibrate it on' if what.startswith('dev') else ''}"
            )


def split_pairs(
    data: PairData, *, dev_fraction: float, seed: int, where: str = "pairs"
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, dev)``: stratified by label over distinct pairs.

    Rows holding the same pair (in either order, after normalisation) stay on one side, so the
    dev score is not inflated by pairs the model trained on.
    """
    groups, labels = _distinct_pairs(data, where)
    if len(groups) < MIN_PAIRS:
        raise InputError(
            f"{where}: only {len(groups)} distinct pairs; training a cross-encoder needs at least "
            f"{MIN_PAIRS} (with {MIN_PER_CLASS} or more of each label)"
        )
    _check_classes(labels, where, MIN_PER_CLASS, "distinct pairs")
    # the scorer's stratified split over the distinct pairs, refused (with the counts) when a
    # side would lack a label
    train_g, dev_g = held_out_split(np.asarray(labels), dev_fraction, seed, 1, where)
    train = np.sort(np.concatenate([groups[g] for g in train_g]).astype(np.int64))
    dev = np.sort(np.concatenate([groups[g] for g in dev_g]).astype(np.int64))
    return train, dev


def _subset(data: PairData, rows: np.ndarray) -> PairData:
    r = rows.tolist()
    return PairData(
        [data.texts1[i] for i in r], [data.texts2[i] for i in r],
        np.asarray(data.labels)[rows], "binary", data.path,
    )


# --------------------------------------------------------------------------------------------
# Hard negatives
# --------------------------------------------------------------------------------------------


def mine_hard_negatives(
    data: PairData,
    encoder: "Encoder",
    k: int,
    *,
    batch_size: int = 64,
    show_progress: bool = False,
) -> list[tuple[str, str]]:
    """Hard negative pairs ``(anchor, negative)`` from the texts of ``data``.

    Anchors are the distinct first texts of positive pairs; candidates are all texts of
    ``data`` ranked by ``encoder`` cosine. A candidate is skipped when it is a known duplicate
    of the anchor (in the same connected component of positive pairs: duplicates are
    transitive), when the pair is labelled already, or when it is within
    :data:`NEGATIVE_RELATIVE_MARGIN` of the anchor's least similar known duplicate (it may be an
    unlabelled duplicate). The first ``k`` remaining candidates are returned per anchor.

    sentence-transformers' ``util.mine_hard_negatives`` excludes only each anchor's own listed
    positives (not their duplicates, nor the anchor's own text when it also appears as a second
    text) and needs a torch ``SentenceTransformer``; this works with any neardup encoder.
    """
    from neardup.candidates import cross_knn
    from neardup.models.texts import SYMMETRIC_KIND

    if k <= 0:
        return []
    texts, left, right = distinct_pair_texts(data.texts1, data.texts2)
    y = np.asarray(data.labels, dtype=np.int64)
    pos = y == 1
    if not pos.any():
        return []
    from neardup.cluster._graph import component_labels

    component = component_labels(len(texts), left[pos], right[pos])
    labelled = {(int(a), int(b)) for a, b in zip(left, right)}
    labelled |= {(b, a) for a, b in labelled}
    emb = np.asarray(
        encoder.encode(texts, kind=SYMMETRIC_KIND, batch_size=batch_size,
                       show_progress=show_progress),
        dtype=np.float32,
    )
    anchors = np.unique(left[pos])
    # an anchor's hardest known duplicate sets how close a negative may come
    pos_sim = (emb[left[pos]] * emb[right[pos]]).sum(axis=1)
    floor = np.full(len(texts), np.inf, dtype=np.float32)
    np.minimum.at(floor, left[pos], pos_sim)
    limit = floor.copy()
    anchored = np.isfinite(floor)
    limit[anchored] -= np.abs(floor[anchored]) * NEGATIVE_RELATIVE_MARGIN
    largest = int(np.bincount(component).max())
    search = min(len(texts), k * 10 + largest + 1)
    nb = cross_knn(emb[anchors], emb, k=search)
    out: list[tuple[str, str]] = []
    for row, anchor in enumerate(anchors.tolist()):
        taken = 0
        for cand, sim in zip(nb.indices[row].tolist(), nb.scores[row].tolist()):
            if taken == k:
                break
            if (
                cand < 0
                or component[cand] == component[anchor]
                or (anchor, cand) in labelled
                or sim > limit[anchor]
            ):
                continue
            out.append((texts[anchor], texts[cand]))
            taken += 1
    return out


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _resolve_train_device(device: str | None) -> str:
    import torch

    from neardup.models.st_encoder import resolve_device

    chosen = resolve_device(device)
    if chosen.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(
            f"device {chosen!r} was asked for but torch sees no CUDA GPU; use --device cpu, or "
            "leave the device unset to pick one automatically"
        )
    if chosen == "mps" and not torch.backends.mps.is_available():
        raise InputError("device 'mps' was asked for but is not available; use --device cpu")
    return chosen


def _trainable(model: Any) -> dict[str, Any]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


class _DevTracker:
    """Dev AP at chosen steps; keeps a copy of the best weights (trainable ones only, so
    frozen embeddings cost no memory) to restore after training.

    Best = highest AP, ties broken by lower dev cross-entropy: on an easy dev set AP saturates
    at 1.0 early, while the later, better-separated model is the one worth keeping.
    """

    def __init__(self, dev: PairData, symmetric: bool, batch_size: int) -> None:
        self.dev = dev
        self.symmetric = symmetric
        self.batch_size = batch_size
        self.history: list[EvalPoint] = []
        self.best_key = (-math.inf, -math.inf)
        self.best_step = 0
        self.best_state: dict[str, Any] | None = None

    def scores(self, model: Any) -> np.ndarray:
        from neardup.rerank.cross_encoder import CrossEncoderReranker

        reranker = CrossEncoderReranker(model, name="dev", symmetric=self.symmetric)
        return reranker.score(self.dev.texts1, self.dev.texts2, batch_size=self.batch_size * 2)

    def evaluate(self, model: Any, step: int) -> float:
        from neardup.evaluate.metrics import average_precision

        was_training = model.training
        scores = self.scores(model).astype(np.float64)
        model.train(was_training)
        y = np.asarray(self.dev.labels, dtype=np.float64)
        p = np.clip(scores, 1e-7, 1 - 1e-7)
        loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        ap = float(average_precision(y.astype(np.int64), scores))
        self.history.append(EvalPoint(step, ap, loss))
        if (ap, -loss) > self.best_key:
            self.best_key, self.best_step = (ap, -loss), step
            self.best_state = {n: p.detach().clone() for n, p in _trainable(model).items()}
        return ap

    def restore_best(self, model: Any) -> None:
        import torch

        if self.best_state is None:
            return
        params = _trainable(model)
        with torch.no_grad():
            for name, value in self.best_state.items():
                params[name].copy_(value)


def _make_callback(tracker: _DevTracker, model: Any, eval_steps: int, show_progress: bool):
    from transformers import TrainerCallback

    class _Callback(TrainerCallback):  # type: ignore[misc]
        """Collects losses, times the optimisation steps alone, evaluates on dev, draws a bar."""

        def __init__(self) -> None:
            self.losses: list[LossPoint] = []
            self.step_seconds = 0.0
            self.train_seconds = 0.0
            self._start = 0.0
            self._progress: Any = None
            self._task: Any = None
            self._log: Any = None

        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            if show_progress:
                from rich.console import Console
                from rich.progress import Progress

                console = Console(stderr=True)
                if not console.is_terminal:
                    # a live bar draws nothing into a log file (nohup, CI): print a line at
                    # each dev evaluation instead
                    self._log = console
                    return
                self._progress = Progress(console=console, transient=True)
                self._progress.start()
                self._task = self._progress.add_task("training", total=state.max_steps)

        def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            self._start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            self.step_seconds += time.perf_counter() - self._start
            step = state.global_step
            if step % eval_steps == 0 or step == state.max_steps:
                ap = tracker.evaluate(model, step)
                if self._progress is not None:
                    self._progress.update(self._task, description=f"training (dev AP {ap:.3f})")
                if self._log is not None:
                    loss = f", loss {self.losses[-1].loss:.4f}" if self.losses else ""
                    self._log.print(
                        f"step {step}/{state.max_steps}: dev AP {ap:.4f}{loss} "
                        f"({self.step_seconds / max(step, 1):.2f} s a step)",
                        markup=False, highlight=False,
                    )
            if self._progress is not None:
                self._progress.update(self._task, completed=step)

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if logs and "loss" in logs:
                self.losses.append(LossPoint(int(state.global_step), float(logs["loss"])))

        def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
            if self._progress is not None:
                self._progress.stop()

    return _Callback()


def _examples(
    train: PairData, negatives: list[tuple[str, str]], swap: bool
) -> tuple[list[str], list[str], list[float]]:
    a = list(train.texts1) + [n[0] for n in negatives]
    b = list(train.texts2) + [n[1] for n in negatives]
    y = [float(v) for v in np.asarray(train.labels).tolist()] + [0.0] * len(negatives)
    if swap:
        a, b, y = a + b, b + a, y + y
    return a, b, y


def _versions() -> dict[str, str]:
    from neardup.models.cache import package_versions

    return package_versions(("neardup", "sentence-transformers", "transformers", "torch"))


def _bi_encoder(name: str, path: Path, device: str) -> "Encoder":
    """The model as a bi-encoder: a preset by name (so it keeps its name and prompts), anything
    else from the folder it resolved to offline."""
    from neardup.models import load_encoder
    from neardup.models.presets import find_preset

    return load_encoder(name if find_preset(name) is not None else path, device=device)


def _baseline(
    encoder: "Encoder", dev: PairData, batch_size: int, show_progress: bool
) -> SplitScores:
    from neardup.models.texts import SYMMETRIC_KIND

    texts, left, right = distinct_pair_texts(dev.texts1, dev.texts2)
    emb = np.asarray(
        encoder.encode(texts, kind=SYMMETRIC_KIND, batch_size=batch_size,
                       show_progress=show_progress),
        dtype=np.float32,
    )
    return SplitScores.of(np.asarray(dev.labels), (emb[left] * emb[right]).sum(axis=1))


def _bi_encoder_stage(
    base_name: str,
    base_path: Path,
    negatives_path: Path | None,
    train: PairData,
    dev: PairData,
    opts: CrossEncoderOptions,
    device: str,
    baseline: bool,
    show_progress: bool,
) -> tuple[SplitScores | None, list[tuple[str, str]]]:
    """The base bi-encoder's cosine on dev (the "before" score) and the mined hard negatives."""
    base_encoder = None
    if baseline or (opts.hard_negatives > 0 and negatives_path is None):
        base_encoder = _bi_encoder(base_name, base_path, device)
    base_scores = (
        _baseline(base_encoder, dev, opts.batch_size * 2, show_progress)
        if baseline and base_encoder is not None else None
    )
    negatives: list[tuple[str, str]] = []
    if opts.hard_negatives > 0:
        miner = (
            base_encoder if negatives_path is None
            else _bi_encoder(str(opts.negatives_model), negatives_path, device)
        )
        assert miner is not None
        negatives = mine_hard_negatives(train, miner, opts.hard_negatives,
                                        batch_size=opts.batch_size * 2,
                                        show_progress=show_progress)
    return base_scores, negatives


def train_cross_encoder(
    data: str | Path | PairData,
    output: str | Path,
    *,
    base_model: str | os.PathLike[str] = DEFAULT_BASE_MODEL,
    dev: str | Path | PairData | None = None,
    text1_col: str = "text1",
    text2_col: str = "text2",
    label_col: str = "label",
    options: CrossEncoderOptions | None = None,
    baseline: bool = True,
    show_progress: bool = False,
) -> CrossEncoderTrainResult:
    """Train a cross-encoder re-ranker on labelled pairs and save it to ``output``.

    ``data`` (and ``dev``) is a pairs file (CSV, TSV, JSONL or Parquet; columns named by
    ``text1_col``, ``text2_col``, ``label_col``) or :class:`~neardup.evaluate.data.PairData`.
    Without ``dev``, ``options.dev_fraction`` of the distinct pairs is held out. ``base_model``
    is a preset or a local model folder (nothing is downloaded). ``baseline=False`` skips
    measuring the base bi-encoder's cosine on dev.

    Every input problem raises an :class:`~neardup.errors.InputError` or
    :class:`~neardup.errors.ModelError` before a model is loaded. The folder is written
    atomically: a failed run leaves an existing ``output`` as it was.
    """
    started = time.perf_counter()
    opts = options or CrossEncoderOptions()
    opts.check(dev_given=dev is not None)
    for module in ("sentence_transformers", "datasets", "accelerate"):
        require(module, "train", "Training a cross-encoder")
    output = Path(output)
    from neardup.io.atomic import check_output_folder
    from neardup.rerank.cross_encoder import MANIFEST as RERANKER_MANIFEST

    check_output_folder(output, RERANKER_MANIFEST, "re-ranker", "neardup train cross-encoder")

    # -- data, split and models: all checked before anything heavy is loaded ------------------
    def read(src: str | Path | PairData) -> PairData:
        if isinstance(src, PairData):
            if src.label_kind != "binary":
                raise InputError("the pairs have graded labels; a cross-encoder needs 0/1 labels")
            return src
        return load_labelled_pairs(src, text1_col=text1_col, text2_col=text2_col,
                                   label_col=label_col)

    pairs = read(data)
    where = str(pairs.path or "pairs")
    if dev is None:
        train_rows, dev_rows = split_pairs(pairs, dev_fraction=opts.dev_fraction, seed=opts.seed,
                                           where=where)
        train_data, dev_data = _subset(pairs, train_rows), _subset(pairs, dev_rows)
    else:
        train_data, dev_data = pairs, read(dev)
        groups, labels = _distinct_pairs(train_data, where)
        if len(groups) < MIN_PAIRS:
            raise InputError(f"{where}: only {len(groups)} distinct pairs; training a "
                             f"cross-encoder needs at least {MIN_PAIRS}")
        _check_classes(labels, where, MIN_PER_CLASS, "distinct pairs")
        _distinct_pairs(dev_data, str(dev_data.path or "dev pairs"))
    _check_classes(np.asarray(dev_data.labels), str(dev_data.path or where), 1, "dev pairs")
    base_path = resolve_base_model(base_model)
    base_name = os.fspath(base_model)
    negatives_path = (
        resolve_base_model(opts.negatives_model, "negatives model")
        if opts.negatives_model is not None else None
    )
    device = _resolve_train_device(opts.device)

    with _torch_threads(opts.threads):
        base_scores, negatives = _bi_encoder_stage(
            base_name, base_path, negatives_path, train_data, dev_data, opts, device, baseline,
            show_progress,
        )
        texts_a, texts_b, targets = _examples(train_data, negatives, opts.swap_augment)
        model, tracker, callback, steps = _fit(
            base_path, texts_a, texts_b, targets, dev_data, opts, device, show_progress
        )
        train_seconds = callback.train_seconds
        # calibrate on dev with the scoring the re-ranker will use
        dev_scores = tracker.scores(model)
    trained = SplitScores.of(np.asarray(dev_data.labels), dev_scores)
    n_params = sum(p.numel() for p in model.parameters())
    n_trainable = sum(p.numel() for p in _trainable(model).values())

    from neardup.io.atomic import atomic_replace_dir
    from neardup.models.quiet import quiet_transformers
    from neardup.rerank.cross_encoder import RerankerManifest

    manifest = RerankerManifest(
        threshold=float(trained.threshold),
        symmetric=opts.symmetric,
        base_model=base_name,
        # what the model reads: a --max-length beyond its position embeddings was capped
        max_length=int(getattr(model, "max_seq_length", None) or opts.max_length),
        dev_metrics={**trained.as_dict(), "n_pairs": len(dev_data),
                     "n_positive": int(np.asarray(dev_data.labels).sum())},
        baseline_metrics=None if base_scores is None else base_scores.as_dict(),
        options=opts.as_dict(),
        n_train_pairs=len(train_data),
        n_dev_pairs=len(dev_data),
        training_seconds=float(train_seconds),
        versions=_versions(),
    )
    # the whole folder is replaced: files of an earlier model must not outlive it
    with atomic_replace_dir(output) as stage, quiet_transformers():
        model.save(str(stage), create_model_card=False)
        manifest.write(stage)

    return CrossEncoderTrainResult(
        output=output,
        base_model=base_name,
        n_train_pairs=len(train_data),
        n_train_positive=int(np.asarray(train_data.labels).sum()),
        n_hard_negatives=len(negatives),
        n_train_examples=len(targets),
        n_dev_pairs=len(dev_data),
        n_dev_positive=int(np.asarray(dev_data.labels).sum()),
        baseline=base_scores,
        trained=trained,
        threshold=float(trained.threshold),
        steps=steps,
        best_step=tracker.best_step,
        seconds_per_step=callback.step_seconds / steps if steps else float("nan"),
        train_seconds=float(train_seconds),
        total_seconds=time.perf_counter() - started,
        device=device,
        n_trainable_parameters=int(n_trainable),
        n_parameters=int(n_params),
        options=opts,
        losses=list(callback.losses),
        evals=list(tracker.history),
    )


def _fit(
    base_path: Path,
    texts_a: list[str],
    texts_b: list[str],
    targets: list[float],
    dev: PairData,
    opts: CrossEncoderOptions,
    device: str,
    show_progress: bool,
) -> tuple[Any, _DevTracker, Any, int]:
    """Load the base as a cross-encoder, train it, and restore the best dev-AP weights."""
    from datasets import Dataset
    from sentence_transformers import CrossEncoder
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    from transformers import set_seed
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from neardup.models.quiet import quiet_transformers

    # the new head's initial weights come from the global generator
    set_seed(opts.seed)
    try:
        with quiet_transformers():
            model = CrossEncoder(
                str(base_path), num_labels=1, max_length=opts.max_length, device=device,
                local_files_only=True,
            )
    except Exception as exc:  # noqa: BLE001 - report which folder failed and why
        raise ModelError(
            f"cannot load {str(base_path)!r} as a cross-encoder base ({type(exc).__name__}: "
            f"{exc}); give a sentence-transformers or transformers model folder"
        ) from None
    from neardup.train.base_model import check_max_length

    readable = check_max_length(opts.max_length, model.model, model.tokenizer)
    if readable < opts.max_length:
        if opts.max_length != CrossEncoderOptions.max_length:  # asked for, not the default
            log.warning("--max-length %d is more than %s reads; using %d tokens",
                        opts.max_length, base_path, readable)
        model.max_seq_length = readable
    if opts.freeze_embeddings:
        embeddings = model.model.get_input_embeddings()
        embeddings.weight.requires_grad_(False)

    steps_per_epoch = max(1, math.ceil(len(targets) / opts.batch_size))
    eval_steps = opts.eval_steps or max(1, steps_per_epoch // EVALS_PER_EPOCH)
    tracker = _DevTracker(dev, opts.symmetric, opts.batch_size)
    tracker.evaluate(model, 0)

    dataset = Dataset.from_dict({"text1": texts_a, "text2": texts_b, "label": targets})
    with tempfile.TemporaryDirectory(prefix="neardup-ce-") as scratch:
        args = CrossEncoderTrainingArguments(
            output_dir=scratch,
            num_train_epochs=opts.epochs,
            per_device_train_batch_size=opts.batch_size,
            learning_rate=opts.learning_rate,
            warmup_steps=opts.warmup if opts.warmup < 1 else int(opts.warmup),
            seed=opts.seed,
            data_seed=opts.seed,
            logging_steps=1,
            eval_strategy="no",
            save_strategy="no",
            report_to="none",
            use_cpu=device == "cpu",
            bf16=bool(opts.bf16),
            dataloader_num_workers=0,
            disable_tqdm=True,
        )
        callback = _make_callback(tracker, model, eval_steps, show_progress)
        with quiet_transformers():
            trainer = CrossEncoderTrainer(
                model=model, args=args, train_dataset=dataset,
                loss=BinaryCrossEntropyLoss(model), callbacks=[callback],
            )
        for noisy in (PrinterCallback, ProgressCallback):
            trainer.remove_callback(noisy)
        start = time.perf_counter()
        # transformers warns that e5's tokenizer and config disagree on BOS/EOS ids (unused by
        # a classifier); real problems raise
        with quiet_transformers():
            trainer.train()
        callback.train_seconds = time.perf_counter() - start
    steps = int(trainer.state.global_step)
    tracker.restore_best(model)
    model.eval()
    return model, tracker, callback, steps
