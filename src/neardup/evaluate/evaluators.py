"""Evaluators in the style of sentence-transformers' ``evaluation`` module.

Each evaluator is built once from gold data and then called with a model; it returns an
:class:`EvaluationResult` — a plain ``dict[str, float]`` of metrics that also carries
``primary_metric`` (the key to select models by) and ``greater_is_better``. Metric names
follow sentence-transformers (``cosine_ap``, ``spearman_cosine``, ...) and get a
``"<name>_"`` prefix when the evaluator has a ``name``.

* :class:`PairEvaluator` — scored text pairs (binary: AP / best F1; graded: Spearman).
* :class:`RetrievalEvaluator` — exact top-k search, nDCG@10 and friends.
* :class:`EmbeddingEvaluator` — alignment / uniformity of positive pairs.
* :class:`ClusterEvaluator` — a clustering function against gold groups, row-F1.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence, cast

import numpy as np
from numpy.typing import ArrayLike

from neardup.errors import InputError
from neardup.evaluate.metrics import (
    alignment,
    best_accuracy_threshold,
    cluster_metrics,
    pair_metrics,
    pearson,
    retrieval_metrics,
    spearman,
    uniformity,
)
from neardup.models.base import Encoder, TextKind
from neardup.models.texts import SYMMETRIC_KIND

if TYPE_CHECKING:
    from neardup.evaluate.data import GroupData, PairData, RetrievalData

__all__ = [
    "EvaluationResult",
    "PairScorer",
    "PairEvaluator",
    "RetrievalEvaluator",
    "EmbeddingEvaluator",
    "ClusterEvaluator",
    "top_k_inner_product",
]

#: ``scorer(texts1, texts2, encoder) -> scores``: one similarity per pair, higher = more alike.
PairScorer = Callable[[list[str], list[str], Encoder], np.ndarray]


class EvaluationResult(dict[str, float]):
    """Metrics by name, plus which one is primary.

    A ``dict`` so it can be logged, compared and dumped to JSON as is; :meth:`as_record`
    adds the ``primary_metric`` key for reports.
    """

    def __init__(
        self, metrics: Mapping[str, float], primary_metric: str, greater_is_better: bool = True
    ) -> None:
        super().__init__({k: float(v) for k, v in metrics.items()})
        if primary_metric not in self:
            raise ValueError(f"primary metric {primary_metric!r} is not among {sorted(self)}")
        self.primary_metric = primary_metric
        self.greater_is_better = greater_is_better

    @property
    def primary_score(self) -> float:
        return self[self.primary_metric]

    def as_record(self) -> dict[str, float | str | bool]:
        """``{"primary_metric": name, "greater_is_better": ..., **metrics}`` for JSON reports."""
        return {
            "primary_metric": self.primary_metric,
            "greater_is_better": self.greater_is_better,
            **self,
        }

    def __repr__(self) -> str:
        return f"EvaluationResult({dict(self)!r}, primary_metric={self.primary_metric!r})"


def _prefixed(name: str, metrics: Mapping[str, float]) -> dict[str, float]:
    return {(f"{name}_{k}" if name else k): v for k, v in metrics.items()}


def _encode_unique(
    encoder: Encoder,
    texts: Sequence[str],
    *,
    kind: TextKind,
    batch_size: int,
    show_progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of the distinct texts and, per input text, its row in them.

    Pair and group data repeat texts a lot (one question in many pairs); encoding each
    distinct text once is the single biggest saving in evaluation.
    """
    index: dict[str, int] = {}
    rows = np.fromiter((index.setdefault(t, len(index)) for t in texts), np.int64, len(texts))
    emb = np.asarray(
        encoder.encode(list(index), kind=kind, batch_size=batch_size, show_progress=show_progress),
        dtype=np.float32,
    )
    if emb.ndim != 2 or emb.shape[0] != len(index):
        raise ValueError(
            f"encoder {getattr(encoder, 'name', encoder)!r} returned shape {emb.shape} for "
            f"{len(index)} texts; expected ({len(index)}, dim)"
        )
    return emb, rows


def _normalize(x: np.ndarray) -> np.ndarray:
    # The Encoder contract says rows are L2-normalised; renormalising is cheap and makes
    # "cosine" true even for a backend that forgets.
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def _detect_kind(labels: np.ndarray, label_kind: str) -> str:
    if label_kind not in ("auto", "binary", "graded"):
        raise ValueError(f"label_kind must be 'auto', 'binary' or 'graded', got {label_kind!r}")
    if label_kind != "auto":
        return label_kind
    return "binary" if bool(np.isin(labels, (0, 1)).all()) else "graded"


# ---------------------------------------------------------------------------------------------
# Pairs
# ---------------------------------------------------------------------------------------------


class PairEvaluator:
    """Scores labelled text pairs and measures how well the score separates or ranks them.

    Binary labels (0/1): average precision (primary, threshold-free) and accuracy, precision,
    recall and F1 at the best-F1 threshold, plus the best-accuracy threshold (as
    sentence-transformers' ``BinaryClassificationEvaluator``). If ``threshold`` is given, the
    same metrics at that fixed threshold are added as ``<score>_given_*`` — the honest number
    when the threshold was not tuned on this data. Graded labels: Spearman (primary) and
    Pearson correlation (as ``EmbeddingSimilarityEvaluator``).

    The score is the cosine of the two texts' ``"passage"`` embeddings unless ``scorer``
    is given; ``score_name`` labels the metrics (default ``"cosine"``, or ``"score"`` with a
    custom scorer).
    """

    def __init__(
        self,
        texts1: Sequence[str],
        texts2: Sequence[str],
        labels: ArrayLike,
        *,
        label_kind: str = "auto",
        scorer: PairScorer | None = None,
        score_name: str | None = None,
        threshold: float | None = None,
        name: str = "",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> None:
        y = np.asarray(labels)
        if not (len(texts1) == len(texts2) == y.shape[0]):
            raise ValueError(
                f"got {len(texts1)} first texts, {len(texts2)} second texts and {y.shape[0]} "
                "labels; give one label per pair"
            )
        if y.shape[0] == 0:
            raise InputError("PairEvaluator needs at least one labelled pair")
        self.texts1, self.texts2 = list(texts1), list(texts2)
        self.label_kind = _detect_kind(y, label_kind)
        if self.label_kind == "binary":
            if not np.isin(y, (0, 1)).all():
                raise InputError("binary labels must be 0/1; pass label_kind='graded' for scores")
            self.labels = y.astype(np.int64)
            if self.labels.sum() == 0:
                raise InputError(
                    "no pair is labelled 1 (duplicate); precision, recall and AP need at least "
                    "one positive pair"
                )
        else:
            self.labels = y.astype(np.float64)
            if np.unique(self.labels).size < 2:
                raise InputError("every graded label is the same; correlation needs variation")
        self.scorer = scorer
        self.score_name = score_name or ("cosine" if scorer is None else "score")
        self.threshold = threshold
        self.name = name
        self.batch_size = batch_size
        self.show_progress = show_progress
        s = self.score_name
        key = f"{s}_ap" if self.label_kind == "binary" else f"spearman_{s}"
        self.primary_metric = f"{name}_{key}" if name else key
        self.greater_is_better = True

    @classmethod
    def from_data(cls, data: "PairData", **kwargs: Any) -> "PairEvaluator":
        """Build from :func:`neardup.evaluate.data.load_pairs` output (keeps its label kind)."""
        kwargs.setdefault("label_kind", data.label_kind)
        return cls(data.texts1, data.texts2, data.labels, **kwargs)

    def scores(self, encoder: Encoder | None) -> np.ndarray:
        """One score per pair: the custom scorer's, or the cosine of the embeddings."""
        if self.scorer is not None:
            # a lexical scorer may need no encoder: pass along whatever we were given
            raw = self.scorer(self.texts1, self.texts2, cast(Encoder, encoder))
            out = np.asarray(raw, dtype=np.float64)
            if out.shape != (len(self.texts1),):
                raise ValueError(
                    f"scorer returned shape {out.shape} for {len(self.texts1)} pairs; it must "
                    "return one score per pair"
                )
            if not np.isfinite(out).all():
                raise ValueError("scorer returned NaN or infinite scores")
            return out
        if encoder is None:
            raise TypeError("PairEvaluator needs an encoder (or a scorer that needs none)")
        emb, rows = _encode_unique(
            encoder, self.texts1 + self.texts2, kind=SYMMETRIC_KIND,
            batch_size=self.batch_size, show_progress=self.show_progress,
        )
        emb = _normalize(emb.astype(np.float64))
        n = len(self.texts1)
        return np.einsum("ij,ij->i", emb[rows[:n]], emb[rows[n:]])

    def __call__(self, encoder: Encoder | None = None) -> EvaluationResult:
        scores = self.scores(encoder)
        s = self.score_name
        if self.label_kind == "graded":
            metrics = {
                f"pearson_{s}": pearson(self.labels, scores),
                f"spearman_{s}": spearman(self.labels, scores),
            }
        else:
            best = pair_metrics(self.labels, scores)  # threshold=None: best F1
            acc = best_accuracy_threshold(self.labels, scores)
            metrics = {
                f"{s}_ap": best.ap,
                f"{s}_f1": best.f1,
                f"{s}_precision": best.precision,
                f"{s}_recall": best.recall,
                f"{s}_f1_threshold": best.threshold,
                f"{s}_accuracy": acc.accuracy,
                f"{s}_accuracy_threshold": acc.threshold,
            }
            if self.threshold is not None:
                given = pair_metrics(self.labels, scores, self.threshold)
                metrics.update(
                    {
                        f"{s}_given_threshold": given.threshold,
                        f"{s}_given_f1": given.f1,
                        f"{s}_given_precision": given.precision,
                        f"{s}_given_recall": given.recall,
                        f"{s}_given_accuracy": given.accuracy,
                    }
                )
        return EvaluationResult(_prefixed(self.name, metrics), self.primary_metric)


# ---------------------------------------------------------------------------------------------
# Retrieval
# ---------------------------------------------------------------------------------------------


def top_k_inner_product(
    queries: np.ndarray, corpus: np.ndarray, k: int, *, max_block_elements: int = 1 << 24
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` corpus rows by inner product for each query row.

    Returns ``(indices, scores)``, both ``(n_queries, k)``, best first; equal scores are
    ordered by corpus row so results are deterministic. Queries are processed in blocks of
    ``max_block_elements // n_corpus`` rows so the score matrix in memory stays around
    ``max_block_elements`` floats (64 MiB by default) however large the corpus is.
    """
    n_q, n_c = queries.shape[0], corpus.shape[0]
    k = min(int(k), n_c)
    if k < 1:
        raise ValueError("top_k_inner_product needs k >= 1 and a non-empty corpus")
    block = max(1, min(n_q, max_block_elements // max(n_c, 1)))
    out_idx = np.empty((n_q, k), dtype=np.int64)
    out_sc = np.empty((n_q, k), dtype=np.float32)
    corpus_t = np.ascontiguousarray(corpus.T)
    for start in range(0, n_q, block):
        sims = queries[start : start + block] @ corpus_t
        if k < n_c:
            # argpartition alone picks arbitrarily among scores tied with the k-th best;
            # take everything strictly better, then the lowest rows among the tied ones
            kth = np.partition(sims, n_c - k, axis=1)[:, n_c - k : n_c - k + 1]
            better = sims > kth
            need = k - better.sum(axis=1, keepdims=True)
            tied = sims == kth
            chosen = better | (tied & (np.cumsum(tied, axis=1) <= need))
            idx = np.nonzero(chosen)[1].reshape(sims.shape[0], k)  # exactly k per row
        else:
            idx = np.broadcast_to(np.arange(n_c), sims.shape).copy()
        sc = np.take_along_axis(sims, idx, axis=1)
        order = np.lexsort((idx, -sc), axis=-1)  # by score desc, then row asc
        out_idx[start : start + block] = np.take_along_axis(idx, order, axis=1)
        out_sc[start : start + block] = np.take_along_axis(sc, order, axis=1)
    return out_idx, out_sc


class RetrievalEvaluator:
    """Encodes a corpus (``kind="passage"``) and queries (``kind="query"``), retrieves by exact
    inner product and reports nDCG@k, Recall@k, MRR@k, P@1 and MAP@R (primary: nDCG@10, or
    nDCG at the largest k when 10 is not in ``ks``).

    Only queries judged relevant to at least one document are evaluated.
    ``ignore_identical_ids``: True (BEIR's default) never returns a document whose id equals
    the query id, the convention for sets like Quora where queries are also documents; False
    returns it. "auto" (default) skips it only where it is the query itself: the same text,
    and not judged relevant to it. Files that number queries and documents each from 1 then
    keep document 5 in query 5's ranking (BEIR's rule would drop it, and could make a
    relevant document unreachable).
    """

    def __init__(
        self,
        corpus: Mapping[str, str],
        queries: Mapping[str, str],
        qrels: Mapping[str, Mapping[str, float]],
        *,
        ks: Sequence[int] = (1, 5, 10, 100),
        ignore_identical_ids: bool | Literal["auto"] = "auto",
        name: str = "",
        batch_size: int = 64,
        show_progress: bool = False,
        max_block_elements: int = 1 << 24,
    ) -> None:
        if not corpus:
            raise InputError("the retrieval corpus is empty")
        self.ks = sorted({int(k) for k in ks})
        if not self.ks or self.ks[0] < 1:
            raise ValueError(f"ks must be positive cutoffs, got {list(ks)}")
        judged = [q for q, rels in qrels.items() if any(r > 0 for r in rels.values())]
        if not judged:
            raise InputError("no query in qrels has a relevant document (score > 0)")
        missing = [q for q in judged if q not in queries]
        if missing:
            raise InputError(
                f"{len(missing)} judged queries have no text (first: "
                f"{', '.join(map(repr, missing[:5]))}); add them to the queries"
            )
        self.corpus_ids = list(corpus)
        self.corpus_texts = [corpus[d] for d in self.corpus_ids]
        self._corpus_text = dict(zip(self.corpus_ids, self.corpus_texts))
        self.query_ids = judged
        self.query_texts = [queries[q] for q in judged]
        self.qrels = {q: dict(qrels[q]) for q in judged}
        if ignore_identical_ids not in (True, False, "auto"):
            raise ValueError(
                f"ignore_identical_ids must be True, False or 'auto', got {ignore_identical_ids!r}")
        self.ignore_identical_ids = ignore_identical_ids
        self.name = name
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.max_block_elements = max_block_elements
        primary_k = 10 if 10 in self.ks else self.ks[-1]
        key = f"ndcg@{primary_k}"
        self.primary_metric = f"{name}_{key}" if name else key
        self.greater_is_better = True

    @classmethod
    def from_data(
        cls, data: "RetrievalData", *, with_title: bool = True, **kwargs: Any
    ) -> "RetrievalEvaluator":
        """Build from :func:`neardup.evaluate.data.load_beir` output."""
        return cls(data.corpus_texts(with_title=with_title), data.queries, data.qrels, **kwargs)

    def search(self, encoder: Encoder) -> dict[str, list[str]]:
        """Ranked document ids per judged query, deep enough for every metric."""
        # MAP@R looks R deep, which may exceed max(ks)
        max_r = max(sum(1 for r in rels.values() if r > 0) for rels in self.qrels.values())
        depth = max(self.ks[-1], max_r) + (1 if self.ignore_identical_ids else 0)
        c = _normalize(
            np.asarray(
                encoder.encode(self.corpus_texts, kind="passage", batch_size=self.batch_size,
                               show_progress=self.show_progress),
                dtype=np.float32,
            )
        )
        q = _normalize(
            np.asarray(
                encoder.encode(self.query_texts, kind="query", batch_size=self.batch_size,
                               show_progress=self.show_progress),
                dtype=np.float32,
            )
        )
        idx, _ = top_k_inner_product(q, c, depth, max_block_elements=self.max_block_elements)
        ranked: dict[str, list[str]] = {}
        for qid, text, row in zip(self.query_ids, self.query_texts, idx.tolist()):
            docs = [self.corpus_ids[i] for i in row]
            if self._skips_itself(qid, text):
                docs = [d for d in docs if d != qid]
            ranked[qid] = docs
        return ranked

    def _skips_itself(self, qid: str, text: str) -> bool:
        if self.ignore_identical_ids != "auto":
            return bool(self.ignore_identical_ids)
        own = self._corpus_text.get(qid)
        return (own is not None and own.strip() == text.strip()
                and not self.qrels[qid].get(qid, 0) > 0)

    def __call__(self, encoder: Encoder) -> EvaluationResult:
        metrics = retrieval_metrics(self.search(encoder), self.qrels, self.ks).as_dict()
        return EvaluationResult(_prefixed(self.name, metrics), self.primary_metric)


# ---------------------------------------------------------------------------------------------
# Embedding geometry
# ---------------------------------------------------------------------------------------------


class EmbeddingEvaluator:
    """Alignment of positive pairs and uniformity of all their texts (Wang & Isola 2020).

    Both are lower-is-better (``greater_is_better = False``); primary is ``alignment``, but
    read the two together: collapsing every text to one vector gives perfect alignment and
    the worst uniformity. Uniformity runs over the distinct texts of both sides (or
    ``uniformity_texts``), subsampled to ``max_samples`` with a warning.
    """

    def __init__(
        self,
        texts1: Sequence[str],
        texts2: Sequence[str],
        *,
        uniformity_texts: Sequence[str] | None = None,
        alpha: float = 2.0,
        t: float = 2.0,
        max_samples: int | None = 10_000,
        name: str = "",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> None:
        if len(texts1) != len(texts2):
            raise ValueError(f"got {len(texts1)} first and {len(texts2)} second texts")
        if not texts1:
            raise InputError("EmbeddingEvaluator needs at least one positive pair")
        self.texts1, self.texts2 = list(texts1), list(texts2)
        self.uniformity_texts = None if uniformity_texts is None else list(uniformity_texts)
        self.alpha, self.t, self.max_samples = alpha, t, max_samples
        self.name = name
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.primary_metric = f"{name}_alignment" if name else "alignment"
        self.greater_is_better = False

    @classmethod
    def from_data(cls, data: "PairData", **kwargs: Any) -> "EmbeddingEvaluator":
        """Positive pairs of binary :class:`PairData` (label 1)."""
        if data.label_kind != "binary":
            raise InputError("alignment needs positive pairs: give binary (0/1) pair labels")
        pos = np.flatnonzero(data.labels == 1).tolist()
        return cls([data.texts1[i] for i in pos], [data.texts2[i] for i in pos], **kwargs)

    def __call__(self, encoder: Encoder) -> EvaluationResult:
        n = len(self.texts1)
        extra = self.uniformity_texts or []
        emb, rows = _encode_unique(
            encoder, self.texts1 + self.texts2 + extra, kind=SYMMETRIC_KIND,
            batch_size=self.batch_size, show_progress=self.show_progress,
        )
        emb = _normalize(emb.astype(np.float64))
        align = alignment(emb[rows[:n]], emb[rows[n : 2 * n]], self.alpha)
        uni_rows = np.unique(rows[2 * n :] if self.uniformity_texts is not None else rows)
        if uni_rows.size < 2:
            warnings.warn("uniformity needs 2 distinct texts; reporting NaN", RuntimeWarning,
                          stacklevel=2)
            uni = float("nan")
        else:
            uni = uniformity(emb[uni_rows], self.t, max_samples=self.max_samples)
        metrics = {"alignment": align, "uniformity": uni}
        return EvaluationResult(
            _prefixed(self.name, metrics), self.primary_metric, greater_is_better=False
        )


# ---------------------------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------------------------


class ClusterEvaluator:
    """Runs ``cluster_fn(texts) -> labels`` and compares the clusters with gold groups.

    Reports row-F1 (primary, the Shopee metric), pair precision/recall/F1, ARI and NMI (see
    :func:`neardup.evaluate.metrics.cluster_metrics`). The evaluator takes no encoder:
    ``cluster_fn`` owns its model and settings (bind them with ``functools.partial``).
    """

    def __init__(
        self,
        texts: Sequence[str],
        labels: ArrayLike,
        cluster_fn: Callable[[list[str]], ArrayLike],
        *,
        name: str = "",
    ) -> None:
        y = np.asarray(labels)
        if y.shape != (len(texts),):
            raise ValueError(f"got {len(texts)} texts but labels of shape {y.shape}")
        if not len(texts):
            raise InputError("ClusterEvaluator needs at least one text")
        self.texts = list(texts)
        self.labels = y
        self.cluster_fn = cluster_fn
        self.name = name
        self.primary_metric = f"{name}_row_f1" if name else "row_f1"
        self.greater_is_better = True

    @classmethod
    def from_data(
        cls, data: "GroupData", cluster_fn: Callable[[list[str]], ArrayLike], **kwargs: Any
    ) -> "ClusterEvaluator":
        return cls(data.texts, data.labels, cluster_fn, **kwargs)

    def __call__(self) -> EvaluationResult:
        pred = np.asarray(self.cluster_fn(list(self.texts)))
        if pred.shape != self.labels.shape:
            raise ValueError(
                f"cluster_fn returned labels of shape {pred.shape} for {len(self.texts)} "
                "texts; it must label every text, in input order"
            )
        metrics = cluster_metrics(self.labels, pred).as_dict()
        return EvaluationResult(_prefixed(self.name, metrics), self.primary_metric)
