"""Fine-tune a bi-encoder (sentence embedding model) on the user's own data.

:func:`train_bi_encoder` reads a training file (see :mod:`neardup.train.data` for the four
shapes), holds out a dev split, trains with sentence-transformers'
``SentenceTransformerTrainer`` and writes a sentence-transformers folder that every neardup
command takes as ``--model`` (``dedup``, ``search``, ``evaluate``, ``index build``).

Losses by task (the first is the default):

* ``pairs`` (``text1, text2, label``): ``online-contrastive`` (only the hard pairs of each
  batch: positives farther apart than the closest negative, negatives closer than the
  farthest positive) or ``contrastive``; both on cosine distance with ``margin`` (0.5).
* ``positives`` (``query, positive[, negative]``): ``mnrl`` (multiple-negatives ranking: the
  other rows' positives are negatives; batches hold no text twice; with a negative column
  this is supervised SimCSE) or ``triplet-mean-closest``. ``hard_negatives=k`` first adds
  ``k`` negatives per query mined from the base model's nearest neighbours.
* ``groups`` (``text, label``): ``multi-similarity`` (with its miner), ``triplet`` (triplet
  margin, semi-hard miner) or ``triplet-mean-closest``; batches hold several texts per label.
* ``texts`` (one column): ``simcse`` — unsupervised SimCSE, each text paired with itself and
  the two passes told apart only by dropout, with the multiple-negatives ranking loss.

The base model is a preset name, a local sentence-transformers folder, or a Hugging Face id
already in the local cache (never downloaded here); ``architecture="bilstm"`` trains a small
word+char BiLSTM from scratch instead (:mod:`neardup.train.bilstm`). The model's prompts
(``query: ``/``passage: `` for e5) are used in training exactly as neardup uses them later,
and kept in the saved folder.

The best checkpoint by the dev metric is kept (``load_best_model_at_end``), with optional
early stopping. The folder is written next to ``output`` first and renamed into place only
when complete, with ``neardup_training.json`` recording the data, options, losses and the
dev metrics of the base and the trained model.
"""

from __future__ import annotations

import contextlib
import json
import math
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from neardup.errors import InputError, ModelError, require
from neardup.models.presets import DEFAULT_MODEL
from neardup.scoring import TRAINED_MANIFEST
from neardup.train.base_model import resolve_base_model
from neardup.train.data import (
    GroupedTexts,
    LabelledPairs,
    PlainTexts,
    PositivePairs,
    ScoredPairs,
    Task,
    TrainingData,
    load_training_data,
    split_training_data,
)

__all__ = [
    "LOSSES",
    "MANIFEST",
    "BiEncoderOptions",
    "BiEncoderTrainResult",
    "train_bi_encoder",
]

#: File written into the model folder with what was trained, how, and how well.
MANIFEST = TRAINED_MANIFEST  # the scorer reads the calibrated cosine range from it

#: Losses each task accepts; the first is the default. CoSENT on 0/1 pairs ranks every
#: duplicate pair of a batch above every non-duplicate one, the order AP measures.
LOSSES: dict[Task, tuple[str, ...]] = {
    "pairs": ("online-contrastive", "contrastive", "cosent"),
    "scored": ("cosent",),
    "positives": ("mnrl", "triplet-mean-closest"),
    "groups": ("multi-similarity", "triplet", "triplet-mean-closest"),
    "texts": ("simcse",),
}
_DEFAULT_MARGIN: dict[str, float] = {
    "online-contrastive": 0.5,
    "contrastive": 0.5,
    "triplet": 0.2,
    "triplet-mean-closest": 0.25,
}
_PML_LOSSES = ("multi-similarity", "triplet")
# Usual learning rates: full fine-tuning nudges pre-trained weights; LoRA adapters start at
# zero and need larger steps; a BiLSTM from scratch larger still.
_LEARNING_RATES = {"transformer": 2e-5, "lora": 2e-4, "bilstm": 1e-3}
_DEVICES = ("cpu", "cuda", "mps")
_EXTRA_FEATURE = "Training a bi-encoder (neardup train bi-encoder)"
# Embeddings of the saved folder must match the trained model's to this cosine distance.
_RELOAD_TOLERANCE = 1e-4

Architecture = Literal["transformer", "bilstm"]


@dataclass(frozen=True)
class BiEncoderOptions:
    """How to train; every field is recorded in ``neardup_training.json``.

    ``learning_rate=None`` picks 2e-5 (full fine-tuning), 2e-4 (``lora``) or 1e-3
    (``bilstm``). ``max_steps`` overrides ``epochs`` when set. ``eval_steps=None``
    evaluates (and checkpoints) once per epoch. ``patience`` stops after that many
    evaluations without a better dev score. ``dev_fraction=0`` trains without a dev set.
    ``columns`` assigns file columns to the task's roles in order (needs ``task``).
    """

    model: str = DEFAULT_MODEL
    architecture: Architecture = "transformer"
    task: str = "auto"
    columns: tuple[str, ...] | None = None
    loss: str | None = None
    margin: float | None = None
    epochs: float = 1.0
    max_steps: int | None = None
    batch_size: int = 32
    learning_rate: float | None = None
    warmup_ratio: float = 0.1
    max_length: int | None = None
    seed: int = 0
    dev_fraction: float = 0.2
    patience: int | None = None
    eval_steps: int | None = None
    hard_negatives: int = 0
    lora: bool = False
    lora_rank: int = 8
    freeze_embeddings: bool = False
    device: str | None = None
    # bfloat16 mixed precision (autocast; the saved model stays float32): ~1.5x faster steps
    # on CPUs with AVX-512 BF16 (measured on the cross-encoder, see CrossEncoderOptions.bf16)
    bf16: bool = False

    def check(self) -> None:
        """Raise :class:`InputError` naming the first option that cannot work."""
        if self.bf16 and self.architecture != "transformer":
            raise InputError("--bf16 is for transformer models; drop it with "
                             f"--architecture {self.architecture}.")
        if self.lora_rank < 1:
            raise InputError(f"--lora-rank must be at least 1, got {self.lora_rank}.")
        optional_ints = {"max_steps": self.max_steps, "max_length": self.max_length,
                         "patience": self.patience, "eval_steps": self.eval_steps}
        for name, value in optional_ints.items():
            if value is not None and value < 1:
                raise InputError(
                    f"--{name.replace('_', '-')} must be at least 1 (or left out), got {value}."
                )
        if self.batch_size < 2:
            raise InputError("--batch-size must be at least 2: the losses compare texts "
                             "within a batch.")
        if not (self.epochs > 0 and math.isfinite(self.epochs)):
            raise InputError(f"--epochs must be positive, got {self.epochs}.")
        if self.learning_rate is not None and not (self.learning_rate > 0
                                                   and math.isfinite(self.learning_rate)):
            raise InputError(f"--lr must be positive, got {self.learning_rate}.")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise InputError(f"--warmup-ratio must be in [0, 1), got {self.warmup_ratio}.")
        if not 0.0 <= self.dev_fraction < 1.0:
            raise InputError(f"--dev-fraction must be in [0, 1), got {self.dev_fraction}.")
        if self.margin is not None and not (self.margin > 0 and math.isfinite(self.margin)):
            raise InputError(f"--margin must be positive, got {self.margin}.")
        if self.hard_negatives < 0:
            raise InputError(f"--hard-negatives must be 0 or more, got {self.hard_negatives}.")
        if self.architecture not in ("transformer", "bilstm"):
            raise InputError(
                f"Unknown architecture {self.architecture!r}; choose transformer (fine-tune "
                "--model) or bilstm (a small word+char BiLSTM trained from scratch)."
            )
        if self.architecture == "bilstm":
            for flag, on in (("--lora", self.lora), ("--freeze-embeddings",
                                                     self.freeze_embeddings),
                             ("--hard-negatives", self.hard_negatives > 0)):
                if on:
                    raise InputError(
                        f"{flag} applies to fine-tuning a pre-trained transformer; the BiLSTM "
                        f"is trained from scratch. Drop {flag} or use --architecture "
                        "transformer."
                    )
        if self.lora and self.freeze_embeddings:
            raise InputError(
                "--freeze-embeddings has no effect with --lora: LoRA already freezes every "
                "base weight and trains small adapters. Drop one of them."
            )
        if self.device is not None and self.device.split(":")[0] not in _DEVICES:
            raise InputError(f"Unknown device {self.device!r}; use cpu, cuda or mps.")

    @property
    def resolved_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        kind = "bilstm" if self.architecture == "bilstm" else "lora" if self.lora else "transformer"
        return _LEARNING_RATES[kind]


@dataclass(frozen=True)
class BiEncoderTrainResult:
    """What :func:`train_bi_encoder` did and how well it worked.

    ``base_metrics`` / ``trained_metrics`` are neardup's dev metrics of the model before and
    after training (empty without a dev set), selected by ``primary_metric``.
    ``loss_history`` holds the training loss at each logging step (every step for short runs);
    ``dev_history`` the primary dev metric at each evaluation, as ``(step, value)``.
    ``train_seconds`` is the whole ``trainer.train()`` call (evaluations and checkpoints
    included), ``step_seconds`` the optimisation steps alone.
    """

    output: Path
    task: Task
    loss: str
    base_model: str
    architecture: Architecture
    options: BiEncoderOptions
    n_train: int
    n_dev: int
    dev_source: str
    shared_dev_texts: int
    primary_metric: str | None
    base_metrics: dict[str, float]
    trained_metrics: dict[str, float]
    loss_history: list[float]
    dev_history: list[tuple[int, float]]
    steps: int
    best_step: int | None
    trainable_parameters: int
    total_parameters: int
    device: str
    train_seconds: float
    step_seconds: float
    total_seconds: float
    hard_negatives_mined: int = 0
    # the range the default pair scorer maps this model's cosines from (see
    # neardup.scoring.calibrate_cosine_range); None: estimated per collection at use
    cosine_range: tuple[float, float] | None = None
    # groups only: the default pipeline's link threshold with the best row-F1 on the dev split
    # ({"value", "scorer", "cluster", "dev_row_f1", ...}); dedup uses it under threshold "auto"
    link_threshold: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def seconds_per_step(self) -> float:
        """Wall time of the optimisation steps alone (no evaluation or checkpointing)."""
        return self.step_seconds / self.steps if self.steps else float("nan")

    @property
    def improvement(self) -> float | None:
        """Trained minus base primary metric, or None without a dev set."""
        if self.primary_metric is None:
            return None
        return self.trained_metrics[self.primary_metric] - self.base_metrics[self.primary_metric]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "neardup-bi-encoder-training",
            "format_version": 1,
            "output": str(self.output),
            "task": self.task,
            "loss": self.loss,
            "base_model": self.base_model,
            "architecture": self.architecture,
            "options": asdict(self.options),
            "n_train": self.n_train,
            "n_dev": self.n_dev,
            "dev_source": self.dev_source,
            "shared_dev_texts": self.shared_dev_texts,
            "primary_metric": self.primary_metric,
            "dev_metrics_before": self.base_metrics,
            "dev_metrics_after": self.trained_metrics,
            "loss_history": self.loss_history,
            "dev_history": [list(point) for point in self.dev_history],
            "steps": self.steps,
            "best_step": self.best_step,
            "trainable_parameters": self.trainable_parameters,
            "total_parameters": self.total_parameters,
            "device": self.device,
            "hard_negatives_mined": self.hard_negatives_mined,
            "cosine_range": None if self.cosine_range is None else list(self.cosine_range),
            "link_threshold": self.link_threshold,
            "train_seconds": self.train_seconds,
            "step_seconds": self.step_seconds,
            "seconds_per_step": self.seconds_per_step if self.steps else None,
            "total_seconds": self.total_seconds,
            "notes": self.notes,
        }


# --------------------------------------------------------------------------------------------
# Checks before training
# --------------------------------------------------------------------------------------------


def _check_output(output: Path) -> None:
    from neardup.io.atomic import check_output_folder

    check_output_folder(output, MANIFEST, "model", "neardup train bi-encoder")


def _choose_loss(task: Task, loss: str | None) -> str:
    if loss is None:
        return LOSSES[task][0]
    if loss not in LOSSES[task]:
        raise InputError(
            f"Loss {loss!r} does not fit {task} data; choose one of: {', '.join(LOSSES[task])}."
        )
    return loss


@dataclass(frozen=True)
class _Sets:
    train: TrainingData
    dev: LabelledPairs | ScoredPairs | PositivePairs | GroupedTexts | None
    source: str
    shared_texts: int


def _dev_sets(data: TrainingData, dev: str | Path | None, options: BiEncoderOptions,
              encoding: str | None, fmt: str | None = None) -> _Sets:
    if dev is not None:
        # the dev file has the training file's columns, and so its format
        dev_data = load_training_data(dev, task=options.task, columns=options.columns,
                                      fmt=fmt, encoding=encoding)
        if isinstance(dev_data, PlainTexts):
            raise InputError(f"{dev}: a dev file needs labels to measure with: pairs "
                             "(text1,text2,label), positives (query,positive) or groups "
                             "(text,label).")
        seen = set(data.all_texts())
        shared = len({t for t in dev_data.all_texts() if t in seen})
        return _Sets(data, dev_data, f"file {dev}", shared)
    if isinstance(data, PlainTexts) or options.dev_fraction == 0:
        return _Sets(data, None, "none", 0)
    split = split_training_data(data, options.dev_fraction, options.seed)
    dev_part = data.subset(split.dev)
    assert not isinstance(dev_part, PlainTexts)
    return _Sets(data.subset(split.train), dev_part, f"split: {split.method}",
                 split.shared_texts)


def _check_scored_sides(sets: _Sets) -> None:
    """CoSENT learns from pairs of pairs whose scores differ, and Spearman needs two grades:
    refuse a side holding one score only, before the model loads."""
    for side, part in (("training", sets.train), ("dev", sets.dev)):
        if isinstance(part, ScoredPairs) and np.unique(part.scores).size < 2:
            where = (f"the dev split ({sets.source})" if side == "dev" and sets.source
                     .startswith("split") else f"the {side} set")
            raise InputError(
                f"every pair in {where} has the score {float(part.scores[0]):g}; training on "
                "graded pairs needs different scores on both sides. Add pairs with other "
                "scores, pass a dev file with --dev, or --dev-fraction 0."
            )


def _check_train_side(train: TrainingData, options: BiEncoderOptions) -> None:
    if len(train) < 2:
        raise InputError(
            f"only {len(train)} training row(s) remain after holding out the dev split; add "
            "data or lower --dev-fraction."
        )
    if isinstance(train, GroupedTexts):
        # sentence-transformers' GROUP_BY_LABEL sampler emits texts two per label.
        if options.batch_size < 4 or options.batch_size % 2:
            raise InputError(
                f"--batch-size must be even and at least 4 for groups (batches take two texts "
                f"of each label), got {options.batch_size}."
            )
    if isinstance(train, GroupedTexts) and int((train.group_sizes > 1).sum()) < 2:
        raise InputError("the training side has fewer than two groups with two or more texts; "
                         "add groups or pass a separate dev file with --dev.")
    if options.hard_negatives:
        if not isinstance(train, PositivePairs):
            raise InputError("--hard-negatives mines negatives for query,positive data; "
                             f"this file holds {train.task}.")
        if train.negatives is not None:
            raise InputError("--hard-negatives adds negatives to query,positive pairs, but the "
                             "file already has a negative column; drop one of the two.")
        if len(set(train.positives)) <= options.hard_negatives + 1:
            raise InputError(f"--hard-negatives {options.hard_negatives} needs more distinct "
                             "positives than that to choose negatives from.")


# --------------------------------------------------------------------------------------------
# Model, datasets and losses
# --------------------------------------------------------------------------------------------


def _load_base(path: Path, device: str) -> Any:
    from sentence_transformers import SentenceTransformer

    from neardup.models.quiet import quiet_transformers
    from neardup.models.st_encoder import uses_neardup_modules

    try:
        # no "Loading weights" bar and load reports: the trainer draws its own progress
        with quiet_transformers():
            return SentenceTransformer(str(path), device=device, local_files_only=True,
                                       trust_remote_code=uses_neardup_modules(path))
    except Exception as exc:
        raise ModelError(f"Cannot load base model folder {str(path)!r}: {exc}") from exc


def _freeze_word_embeddings(model: Any) -> int:
    hf = model.transformers_model
    if hf is None:
        raise InputError("--freeze-embeddings needs a transformer base model; this one has "
                         "no transformers backbone.")
    weight = hf.get_input_embeddings().weight
    weight.requires_grad_(False)
    return int(weight.numel())


def _add_lora(model: Any, rank: int) -> None:
    peft: Any = require("peft", "train", "LoRA fine-tuning (--lora)")
    if model.transformers_model is None:
        raise InputError("--lora needs a transformer base model; this one has no "
                         "transformers backbone.")
    config = dict(r=rank, lora_alpha=2 * rank, lora_dropout=0.1)
    try:
        # peft knows the attention projections of common encoders (BERT, XLM-R, MPNet).
        model.add_adapter(peft.LoraConfig(**config))
    except ValueError:
        model.add_adapter(peft.LoraConfig(target_modules="all-linear", **config))


def _merge_lora(model: Any) -> None:
    """Fold LoRA adapters into the base weights, so the saved folder is a plain model that
    loads without peft."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    hf = model.transformers_model
    for name, module in list(hf.named_modules()):
        if isinstance(module, BaseTunerLayer):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            parent = hf.get_submodule(parent_name) if parent_name else hf
            setattr(parent, child, module.get_base_layer())
    # transformers decides "save only the adapter" from these markers.
    hf._hf_peft_config_loaded = False
    if hasattr(hf, "peft_config"):
        del hf.peft_config


def _prompt_columns(model: Any, task: Task, columns: list[str]) -> dict[str, str] | None:
    """Column -> prompt text for the trainer, as neardup applies prompts at use: in query ->
    positive data the query gets the query prompt and the documents the passage prompt; texts
    compared with each other (pairs, groups, SimCSE) get the symmetric prompt that dedup uses."""
    from neardup.models.texts import SYMMETRIC_KIND, prompt_name_for

    prompts = {k: v for k, v in (model.prompts or {}).items() if v}
    passage = prompt_name_for(prompts, "passage")
    query = prompt_name_for(prompts, "query")
    symmetric = prompt_name_for(prompts, SYMMETRIC_KIND)
    out: dict[str, str] = {}
    for col in columns:
        if col in ("label", "score"):
            continue
        if task == "positives":
            name = query if col == "anchor" else passage
        else:
            name = symmetric
        if name is not None:
            out[col] = prompts[name]
    return out or None


def _columns(train: TrainingData) -> dict[str, list[Any]]:
    """Columns for ``datasets.Dataset``, named as sentence-transformers' losses expect."""
    if isinstance(train, LabelledPairs):
        return {"sentence1": train.texts1, "sentence2": train.texts2,
                "label": train.labels.astype(int).tolist()}
    if isinstance(train, ScoredPairs):
        return {"sentence1": train.texts1, "sentence2": train.texts2,
                "score": train.scores.astype(float).tolist()}
    if isinstance(train, PositivePairs):
        cols: dict[str, list[Any]] = {"anchor": train.queries, "positive": train.positives}
        if train.negatives is not None:
            cols["negative"] = train.negatives
        return cols
    if isinstance(train, GroupedTexts):
        return {"text": train.texts, "label": train.labels.astype(int).tolist()}
    # SimCSE: a text and itself; distinct texts only, so no batch holds one text twice.
    texts = list(dict.fromkeys(train.texts))
    return {"anchor": texts, "positive": texts}


#: Batch sampler per task: in-batch negatives must not repeat a text; metric learning needs
#: several texts of each label in a batch.
_SAMPLERS: dict[Task, str] = {
    "pairs": "batch_sampler",
    "scored": "batch_sampler",
    "positives": "no_duplicates",
    "groups": "group_by_label",
    "texts": "no_duplicates",
}


def _make_loss(name: str, model: Any, margin: float | None) -> Any:
    from sentence_transformers.sentence_transformer import losses

    from neardup.train.losses import MeanClosestNegativeTripletLoss, MetricLearningLoss

    m = margin if margin is not None else _DEFAULT_MARGIN.get(name)
    if name == "online-contrastive":
        return losses.OnlineContrastiveLoss(model, margin=m)
    if name == "contrastive":
        return losses.ContrastiveLoss(model, margin=m)
    if name == "cosent":
        return losses.CoSENTLoss(model)
    if name in ("mnrl", "simcse"):
        return losses.MultipleNegativesRankingLoss(model)
    if name == "triplet-mean-closest":
        return MeanClosestNegativeTripletLoss(model, margin=m)
    if name == "multi-similarity":
        return MetricLearningLoss.multi_similarity(model)
    return MetricLearningLoss.triplet(model, margin=m)


def _mine_hard_negatives(dataset: Any, model: Any, k: int, batch_size: int, seed: int,
                         show_progress: bool) -> tuple[Any, int]:
    """``dataset`` with ``k`` negative columns, and how many rows got mined negatives.

    Negatives are the base model's nearest neighbours among all positives, skipping any
    within 5% of the positive's score (likely unlabelled duplicates). Rows for which no such
    neighbour exists get random other positives instead of being dropped, so a weak base
    model does not shrink the training set.
    """
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    from neardup.models.texts import prompt_name_for

    prompts = {k_: v for k_, v in (model.prompts or {}).items() if v}
    mined = mine_hard_negatives(
        dataset, model, anchor_column_name="anchor", positive_column_name="positive",
        num_negatives=k, relative_margin=0.05, sampling_strategy="top",
        output_format="n-tuple",
        query_prompt_name=prompt_name_for(prompts, "query"),
        corpus_prompt_name=prompt_name_for(prompts, "passage"),
        batch_size=batch_size, verbose=show_progress,
    )
    negative_cols = [c for c in mined.column_names if c not in ("anchor", "positive")]
    found: dict[tuple[str, str], list[str]] = {}
    for row in mined:
        found[(row["anchor"], row["positive"])] = [row[c] for c in negative_cols]
    anchors, positives = list(dataset["anchor"]), list(dataset["positive"])
    pool = list(dict.fromkeys(positives))
    rng = np.random.default_rng(seed)
    negatives: list[list[str]] = []
    for anchor, positive in zip(anchors, positives):
        chosen = found.get((anchor, positive))
        if chosen is None or len(chosen) < k:
            others = [t for t in pool if t != positive and t != anchor]
            chosen = [others[int(i)] for i in rng.choice(len(others), size=k, replace=False)]
        negatives.append(chosen)
    names = ["negative"] if k == 1 else [f"negative_{i + 1}" for i in range(k)]
    columns: dict[str, list[str]] = {"anchor": anchors, "positive": positives}
    for i, name in enumerate(names):
        columns[name] = [row[i] for row in negatives]
    n_mined = sum(1 for a, p in zip(anchors, positives) if len(found.get((a, p), [])) >= k)
    return Dataset.from_dict(columns), n_mined


# --------------------------------------------------------------------------------------------
# Output folder
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _work_dir(output: Path) -> Iterator[Path]:
    """A scratch folder for checkpoints next to ``output`` (same filesystem as the staged
    model), removed whatever happens."""
    output.parent.mkdir(parents=True, exist_ok=True)
    work = output.parent / f".{output.name}.training-{secrets.token_hex(4)}"
    work.mkdir()
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_reload(folder: Path, encoder: Any, texts: list[str]) -> None:
    from neardup.models.st_encoder import SentenceTransformerEncoder

    sample = list(dict.fromkeys(texts))[:8]
    reloaded = SentenceTransformerEncoder.from_folder(
        folder, str(folder), str(encoder.model.device)
    )
    a, b = encoder.encode(sample), reloaded.encode(sample)
    gap = float(np.max(1.0 - np.sum(a * b, axis=1))) if sample else 0.0
    if gap > _RELOAD_TOLERANCE:
        raise ModelError(f"The saved model does not reproduce the trained one (cosine gap "
                         f"{gap:.2e}); this is a bug in neardup, please report it.")


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def train_bi_encoder(
    data: str | Path,
    output: str | Path,
    options: BiEncoderOptions | None = None,
    *,
    dev: str | Path | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    show_progress: bool = False,
) -> BiEncoderTrainResult:
    """Train a bi-encoder on the file ``data`` and write it to the folder ``output``.

    ``dev`` names a labelled dev file (same columns as ``data``) instead of an automatic
    split. Everything the user can get wrong (options, columns, labels, groups, base model,
    output folder) is checked and reported as :class:`InputError` / :class:`ModelError`
    before any model is loaded. Returns a :class:`BiEncoderTrainResult`; the same facts are
    in ``output/neardup_training.json``.
    """
    started = time.perf_counter()
    opts = options or BiEncoderOptions()
    plan = _plan(data, Path(output), opts, dev, fmt, encoding)

    from neardup.models.st_encoder import SentenceTransformerEncoder
    from neardup.train.st_evaluator import NeardupDevEvaluator

    model, base_name, notes = _build_model(plan, opts)
    evaluator = None if plan.sets.dev is None else NeardupDevEvaluator(plan.sets.dev, name="dev")
    base_metrics: dict[str, float] = {}
    if evaluator is not None:
        base_metrics = dict(evaluator.measure(SentenceTransformerEncoder(model, base_name)))
    if opts.freeze_embeddings:
        frozen = _freeze_word_embeddings(model)
        notes.append(f"froze the word-embedding matrix ({frozen:,} parameters)")
    if opts.lora:
        _add_lora(model, opts.lora_rank)
    train_set, mined = _train_set(plan.sets.train, model, opts, notes, show_progress)
    loss = _make_loss(plan.loss, model, opts.margin)
    trainable = sum(int(p.numel()) for p in model.parameters() if p.requires_grad)
    total = sum(int(p.numel()) for p in model.parameters())

    from neardup.io.atomic import atomic_replace_dir

    # the model is staged next to the output and replaces it whole only when complete
    with _work_dir(plan.output) as work, atomic_replace_dir(plan.output) as staged:
        trainer = _trainer(model, loss, train_set, evaluator, opts, plan.device,
                           work / "checkpoints", show_progress, plan.data.task)
        timer = _step_timer()
        trainer.add_callback(timer)
        from neardup.models.quiet import quiet_transformers

        t0 = time.perf_counter()
        # without progress: also no "Writing model shards" bar per checkpoint and no "Loading
        # weights" bar when the best checkpoint is reloaded (reports still show)
        with quiet_transformers(reports=False) if not show_progress else contextlib.nullcontext():
            trainer.train()
        train_seconds = time.perf_counter() - t0
        if opts.lora:
            _merge_lora(model)
        encoder = SentenceTransformerEncoder(model, str(plan.output))
        trained_metrics = {} if evaluator is None else dict(evaluator.measure(encoder))
        primary, dev_history, best_step = _selection(trainer.state, evaluator)
        cosine_range = _cosine_range(base_name, base_metrics, trained_metrics, notes)
        link_threshold = None
        if isinstance(plan.sets.dev, GroupedTexts):
            link_threshold = _link_threshold(encoder, plan.sets.dev, cosine_range, notes)
        if primary is not None and trained_metrics[primary] < base_metrics[primary]:
            notes.append("the trained model scores below the base model on the dev set: try a "
                         "lower learning rate, fewer epochs or more data")
        with quiet_transformers():  # no "Writing model shards" / "Loading weights" bars
            model.save(str(staged), create_model_card=False)
            _check_reload(staged, encoder, plan.sets.train.all_texts())
        result = BiEncoderTrainResult(
            output=plan.output, task=plan.data.task, loss=plan.loss, base_model=base_name,
            architecture=opts.architecture, options=opts, n_train=len(plan.sets.train),
            n_dev=0 if plan.sets.dev is None else len(plan.sets.dev),
            dev_source=plan.sets.source, shared_dev_texts=plan.sets.shared_texts,
            primary_metric=primary, base_metrics=base_metrics, trained_metrics=trained_metrics,
            loss_history=[float(h["loss"]) for h in trainer.state.log_history if "loss" in h],
            dev_history=dev_history, steps=int(trainer.state.global_step), best_step=best_step,
            trainable_parameters=trainable, total_parameters=total, device=plan.device,
            train_seconds=train_seconds, step_seconds=timer.seconds,
            total_seconds=time.perf_counter() - started, hard_negatives_mined=mined,
            cosine_range=cosine_range, link_threshold=link_threshold, notes=notes,
        )
        (staged / MANIFEST).write_text(json.dumps(result.as_dict(), indent=2, default=str),
                                       encoding="utf-8")
    return result


# The dev metric holding the similarity threshold each task was best at (groups: clustering
# row-F1, pairs: pair F1); the two models' thresholds calibrate the trained model's cosines.
_THRESHOLD_METRICS = ("row_f1_threshold", "cosine_f1_threshold")


def _cosine_range(base_name: str, base: dict[str, float], trained: dict[str, float],
                  notes: list[str]) -> tuple[float, float] | None:
    from neardup.scoring import calibrate_cosine_range, cosine_range_for

    key = next((k for k in _THRESHOLD_METRICS if k in base and k in trained), None)
    if key is None:
        return None
    from neardup.models.presets import find_preset

    preset = find_preset(base_name)
    base_range = cosine_range_for(preset.name if preset is not None else base_name)
    found = calibrate_cosine_range(base_range, base[key], trained[key])
    if found is not None:
        notes.append(f"dedup maps this model's cosines from [{found[0]:.3f}, 1] (dev {key} "
                     f"{base[key]:.3f} before, {trained[key]:.3f} after training)")
    return found


def _link_threshold(encoder: Any, dev: GroupedTexts, cosine_range: tuple[float, float] | None,
                    notes: list[str]) -> dict[str, Any] | None:
    """Deduplicate the dev split with the default pipeline and this model, and keep the link
    threshold with the best row-F1 (the middle one where several tie).

    The collection's own mixture threshold is tuned to the zero-shot model's score
    distribution; a fine-tuned model shifts it (on Shopee the mixture then sat at its guard
    band's floor, 0.24, where the dev split's best was 0.26-0.28).
    """
    from neardup.dedup import Deduplicator
    from neardup.evaluate.run import middle_of_best, sweep_group_thresholds
    from neardup.scoring import DefaultPairScorer

    dd = Deduplicator(encoder, scorer=DefaultPairScorer(cosine_range=cosine_range),
                      show_progress=False)
    graph = dd.candidate_graph(list(dev.texts))
    if not len(graph.scored):
        return None
    # the sweep `neardup evaluate` runs on groups, chosen by row-F1 rather than pair F1
    sweep = sweep_group_thresholds(dd, graph, dev.labels, 50)
    if not sweep:
        return None
    best = middle_of_best(sweep, "row_f1")
    chosen, row_f1 = best["threshold"], best["row_f1"]
    notes.append(f"dedup links this model's pairs at {chosen:.4f} under --threshold auto "
                 f"(row-F1 {row_f1:.4f} on the dev split's {len(dev)} texts)")
    return {"value": chosen, "scorer": "default", "cluster": "agglomerative",
            "dev_row_f1": row_f1, "dev_texts": len(dev),
            "criterion": "row-F1 of the default pipeline on the dev split"}


@dataclass(frozen=True)
class _Plan:
    """Everything checked before a model is loaded."""

    output: Path
    data: TrainingData
    loss: str
    sets: _Sets
    base_path: Path | None
    device: str


def _plan(data: str | Path, output: Path, opts: BiEncoderOptions, dev: str | Path | None,
          fmt: str | None, encoding: str | None) -> _Plan:
    opts.check()
    for module in ("sentence_transformers", "datasets", "accelerate"):
        require(module, "train", _EXTRA_FEATURE)
    _check_output(output)
    full = load_training_data(data, task=opts.task, columns=opts.columns, fmt=fmt,
                              encoding=encoding)
    loss = _choose_loss(full.task, opts.loss)
    if loss in _PML_LOSSES:
        require("pytorch_metric_learning", "train", f"The {loss} loss")
    if opts.lora:
        require("peft", "train", "LoRA fine-tuning (--lora)")
    sets = _dev_sets(full, dev, opts, encoding, fmt)
    if opts.patience is not None and sets.dev is None:
        # checked on the sets, not the options: a --dev file makes --dev-fraction 0 irrelevant
        raise InputError("--patience needs a dev set to watch: pass --dev FILE or drop "
                         "--dev-fraction 0 (plain texts have no dev set).")
    _check_train_side(sets.train, opts)
    _check_scored_sides(sets)
    base_path = None if opts.architecture == "bilstm" else resolve_base_model(opts.model)

    import torch

    from neardup.models.st_encoder import resolve_device

    device = resolve_device(opts.device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for, but torch sees no CUDA GPU; use --device "
                         "cpu or leave --device out.")
    return _Plan(output, full, loss, sets, base_path, device)


def _build_model(plan: _Plan, opts: BiEncoderOptions) -> tuple[Any, str, list[str]]:
    """The model to train, the name its "before" metrics go under, and report notes."""
    from transformers import set_seed

    set_seed(opts.seed)
    if plan.base_path is None:
        from neardup.train.bilstm import build_bilstm_model

        model = build_bilstm_model(plan.sets.train.all_texts(), seed=opts.seed,
                                   device=plan.device, max_seq_length=opts.max_length or 128)
        return model, "bilstm (random initialisation)", []
    model = _load_base(plan.base_path, plan.device)
    notes: list[str] = []
    if opts.max_length is not None:
        from neardup.train.base_model import check_max_length

        readable = check_max_length(opts.max_length, model[0].auto_model, model.tokenizer)
        if readable < opts.max_length:
            notes.append(f"--max-length {opts.max_length} is more than the base model reads; "
                         f"texts are cut at {readable} tokens")
        model.max_seq_length = readable
    return model, opts.model, notes


def _train_set(train: TrainingData, model: Any, opts: BiEncoderOptions, notes: list[str],
               show_progress: bool) -> tuple[Any, int]:
    """The ``datasets.Dataset`` to train on (with mined negatives when asked) and how many
    queries got mined negatives."""
    from datasets import Dataset

    train_set = Dataset.from_dict(_columns(train))
    if not opts.hard_negatives:
        return train_set, 0
    train_set, mined = _mine_hard_negatives(train_set, model, opts.hard_negatives,
                                            opts.batch_size, opts.seed, show_progress)
    if mined < len(train_set):
        notes.append(f"hard negatives found for {mined:,} of {len(train_set):,} queries; "
                     "the rest got random other positives as negatives")
    return train_set, mined


def _selection(state: Any, evaluator: Any) -> tuple[str | None, list[tuple[int, float]],
                                                     int | None]:
    """The primary metric's name, its value at each evaluation, and the kept step."""
    if evaluator is None:
        return None, [], None
    key = f"eval_{evaluator.primary_metric}"
    history = [(int(h["step"]), float(h[key])) for h in state.log_history if key in h]
    best_step = None
    if state.best_model_checkpoint:
        best_step = int(str(state.best_model_checkpoint).rsplit("-", 1)[-1])
    return evaluator.primary_metric[len(f"{evaluator.name}_"):], history, best_step


def _step_timer() -> Any:
    """A trainer callback adding up the wall time between each step's start and end, which
    leaves out evaluation and checkpointing (they run after ``on_step_end``)."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.seconds = 0.0
            self._start = 0.0

        def on_step_begin(self, *args: Any, **kwargs: Any) -> None:
            self._start = time.perf_counter()

        def on_step_end(self, *args: Any, **kwargs: Any) -> None:
            self.seconds += time.perf_counter() - self._start

    return StepTimer()


def _trainer(model: Any, loss: Any, train_set: Any, evaluator: Any, opts: BiEncoderOptions,
             device: str, checkpoints: Path, show_progress: bool, task: Task) -> Any:
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from transformers import EarlyStoppingCallback, PrinterCallback

    steps_per_epoch = math.ceil(len(train_set) / opts.batch_size)
    total_steps = opts.max_steps or max(1, math.ceil(steps_per_epoch * opts.epochs))
    # (a run shorter than one epoch is still measured: transformers ends the partial epoch,
    # and evaluates, when max_steps stops it; tests/train checks this)
    eval_steps = opts.eval_steps
    if eval_steps is not None:
        schedule: dict[str, Any] = {"eval_strategy": "steps", "save_strategy": "steps",
                                    "eval_steps": eval_steps, "save_steps": eval_steps}
    else:
        schedule = {"eval_strategy": "epoch", "save_strategy": "epoch"}
    if evaluator is None:
        schedule = {"eval_strategy": "no", "save_strategy": "no"}
    else:
        schedule.update(load_best_model_at_end=True, greater_is_better=True,
                        metric_for_best_model=f"eval_{evaluator.primary_metric}",
                        save_total_limit=1, save_only_model=True)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=opts.epochs,
        max_steps=opts.max_steps or -1,
        per_device_train_batch_size=opts.batch_size,
        learning_rate=opts.resolved_learning_rate,
        # transformers 5 reads a float below 1 as a share of all steps.
        warmup_steps=opts.warmup_ratio if opts.warmup_ratio > 0 else 0,
        seed=opts.seed,
        data_seed=opts.seed,
        batch_sampler=_SAMPLERS[task],
        prompts=_prompt_columns(model, task, list(train_set.column_names)),
        logging_steps=max(1, total_steps // 100),
        report_to="none",
        use_cpu=device == "cpu",
        bf16=bool(opts.bf16),
        disable_tqdm=not show_progress,
        dataloader_num_workers=0,
        **schedule,
    )
    callbacks = []
    if evaluator is not None and opts.patience is not None:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=opts.patience))

    class _Trainer(SentenceTransformerTrainer):  # type: ignore[misc]
        def add_model_card_callback(self, default_args_dict: dict[str, Any]) -> None:
            # No model card is written (neardup_training.json records the run), so skip the
            # callback that encodes sample texts for one.
            return None

    trainer = _Trainer(model=model, args=args, train_dataset=train_set, loss=loss,
                       evaluator=evaluator, callbacks=callbacks)
    if not show_progress:
        # Without progress bars transformers prints every log dict instead; stay quiet.
        trainer.remove_callback(PrinterCallback)
    return trainer
