"""The deduplication pipeline: encode → candidates → score → link → cluster → representatives.

``Deduplicator`` is configured once (``__init__`` only stores parameters) and applied to
collections with :meth:`Deduplicator.deduplicate` (one collection) or
:meth:`Deduplicator.find_leaks` (test rows that duplicate a train row).

Why the pipeline looks the way it does:

* Rows whose normalised text is identical are collapsed first, so each distinct text is encoded
  and compared once; the copies rejoin their text's cluster at the end.
* Distinct texts are processed in a canonical order (sorted by normalised text), so candidate
  search, tie-breaking and community detection see the same input whatever order the user's
  file has: groups do not depend on input order.
* Zero-shot neural similarity alone loses to character n-grams on product and citation data,
  so the default scorer combines both (see :mod:`neardup.scoring`); the default threshold is
  read off the collection's own candidate-score distribution (see :mod:`neardup.threshold`).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Literal

import numpy as np
import pandas as pd

from neardup.cluster.agglomerative import link_cut, linked_mask
from neardup.errors import InputError, ResultWarning
from neardup.models.base import Encoder
from neardup.models.texts import SYMMETRIC_KIND  # re-exported: benchmarks use it
from neardup.pairs import Pairs, distinct_pair_texts
from neardup.rerank.pipeline import DEFAULT_FLOOR, DEFAULT_TOP_K
from neardup.text import NormalizedTexts, normalize, normalize_all, punctuation_stripped

if TYPE_CHECKING:
    from neardup.rerank import Reranker, RerankStats

ClusterMethod = Literal["components", "leiden", "agglomerative"]
RepresentativeStrategy = Literal["first", "longest", "central"]
CandidateSource = Literal["knn", "minhash", "lexical-knn"]


CLUSTER_METHODS: tuple[str, ...] = ("components", "leiden", "agglomerative")
CANDIDATE_SOURCES: tuple[str, ...] = ("knn", "minhash", "lexical-knn")
# Embedding neighbours find paraphrases; character neighbours find model numbers and OCR noise
# that embeddings blur. Chosen on Shopee dev (see BENCHMARKS.md).
DEFAULT_CANDIDATES: tuple[str, ...] = ("knn", "lexical-knn")
SCORERS: tuple[str, ...] = ("default", "lexical", "embedding")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdInfo:
    """The link threshold used and where it came from ("user", "auto:<method>", "scorer": the
    held-out F1-best threshold a learned scorer carries, "model": the dev-tuned one a
    bi-encoder trained on groups carries, or "reranker": the one a trained re-ranker
    carries)."""

    value: float
    source: str
    details: dict[str, float] = field(default_factory=dict)


@dataclass
class DedupResult:
    """Outcome of deduplicating one collection. Row positions follow the input order."""

    ids: list[str]
    labels: np.ndarray  # int64 cluster id per row, numbered by first appearance
    is_representative: np.ndarray  # bool, exactly one True per cluster
    pairs: Pairs  # linked pairs over row positions (score = pair score; 1.0 for exact copies)
    threshold: ThresholdInfo
    timings: dict[str, float]
    empty_rows: list[int]
    n_candidates: int
    model: str | None
    scorer: str
    cluster_method: str
    # set when a re-ranker re-scored the candidates: then ``pairs`` scores and ``threshold`` are
    # the re-ranker's, and ``timings["rerank"]`` its time
    rerank: "RerankStats | None" = None
    # distinct texts whose linked candidates number at least the kNN ``k``: their own k
    # nearest neighbours may all be linked, so a group larger than k + 1 may have been split
    # (average linkage and Leiden count a missing pair as 0); raise ``k`` when this is > 0
    n_rows_at_k: int = 0

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    @property
    def n_clusters(self) -> int:
        return int(self.labels.max()) + 1 if self.labels.size else 0

    @property
    def n_duplicate_groups(self) -> int:
        """Clusters with more than one row."""
        if not self.labels.size:
            return 0
        return int((np.bincount(self.labels) > 1).sum())

    @property
    def n_removed(self) -> int:
        return self.n_rows - int(self.is_representative.sum())

    def groups(self) -> list[list[str]]:
        """Ids of every cluster with more than one row, representative first."""
        members: dict[int, list[int]] = {}
        for row, label in enumerate(self.labels.tolist()):
            members.setdefault(label, []).append(row)
        out = []
        for rows in members.values():
            if len(rows) > 1:
                rows.sort(key=lambda r: (not self.is_representative[r], r))
                out.append([self.ids[r] for r in rows])
        return out

    def clusters_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": self.ids,
                "cluster_id": self.labels.astype(np.int64),
                "is_representative": self.is_representative.astype(bool),
            }
        )

    def pairs_frame(self) -> pd.DataFrame:
        ids = np.asarray(self.ids, dtype=object)
        return pd.DataFrame(
            {
                "id_a": ids[self.pairs.left],
                "id_b": ids[self.pairs.right],
                "score": np.round(self.pairs.score.astype(np.float64), 6),
            }
        )


@dataclass
class LeakResult:
    """Test rows that duplicate a train row (train/test leakage)."""

    test_ids: list[str]
    train_ids: list[str]
    is_leaked: np.ndarray  # bool per test row
    match_train: np.ndarray  # int64 best-matching train row per test row, -1 if none linked
    match_score: np.ndarray  # float32 score of that match (nan if none)
    threshold: ThresholdInfo
    timings: dict[str, float]
    empty_rows: list[int]
    model: str | None
    scorer: str
    rerank: "RerankStats | None" = None  # set when a re-ranker re-scored the candidates

    @property
    def n_leaked(self) -> int:
        return int(self.is_leaked.sum())

    def matches_frame(self) -> pd.DataFrame:
        rows = np.flatnonzero(self.is_leaked)
        train = np.asarray(self.train_ids, dtype=object)
        return pd.DataFrame(
            {
                "test_id": [self.test_ids[r] for r in rows],
                "train_id": train[self.match_train[rows]] if rows.size else [],
                "score": np.round(self.match_score[rows].astype(np.float64), 6),
            }
        )


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


@dataclass(frozen=True)
class _Collapsed:
    """Distinct non-empty texts in canonical order and the map from rows to them."""

    # one raw text per distinct normalised text, canonical order; carries the normalised forms
    texts: NormalizedTexts
    row_to_unique: np.ndarray  # int64 per input row, -1 for empty rows
    empty_rows: list[int]
    sources: np.ndarray | None = None  # source code per distinct text, when linking across

    def first_rows(self) -> np.ndarray:
        """The first input row of each distinct text (int64, one per text)."""
        out = np.full(len(self.texts), -1, dtype=np.int64)
        rows = np.flatnonzero(self.row_to_unique >= 0)
        uniques, first = np.unique(self.row_to_unique[rows], return_index=True)
        out[uniques] = rows[first]
        return out


def _collapse(texts: Sequence[str], sources: Sequence[str] | None = None) -> _Collapsed:
    keys: dict[str, list[int]] = {}
    norm_of: dict[str, str] = {}
    # per key, the smallest raw text and its punctuation-kept form (number tokens read it)
    first: dict[str, tuple[str, str]] = {}
    empty: list[int] = []
    for row, text in enumerate(texts):
        kept = normalize(text, strip_punctuation=False)
        key = norm = _key_of_kept(kept)
        if not key:  # nothing visible (see text.is_blank)
            empty.append(row)
            continue
        if sources is not None:
            # copies are merged within a source only, so every distinct text keeps one source
            key = f"{sources[row]}\x00{key}"
            norm_of[key] = norm
        keys.setdefault(key, []).append(row)
        if key not in first or text < first[key][0]:
            first[key] = (text, kept)
    # canonical order: by normalised text; the representative raw text of a key is the
    # smallest raw text, so neither depends on row order
    ordered = sorted(keys)
    row_to_unique = np.full(len(texts), -1, dtype=np.int64)
    uniques: list[str] = []
    kept_forms: list[str] = []
    for u, key in enumerate(ordered):
        row_to_unique[keys[key]] = u
        raw, kept = first[key]
        uniques.append(raw)
        kept_forms.append(kept)
    normalized = [norm_of[k] for k in ordered] if sources is not None else ordered
    unique_sources = None
    if sources is not None:
        codes = {s: i for i, s in enumerate(sorted(set(map(str, sources))))}
        unique_sources = np.array([codes[str(sources[keys[k][0]])] for k in ordered], np.int64)
    return _Collapsed(NormalizedTexts(uniques, normalized, kept_forms), row_to_unique, empty,
                      unique_sources)


@dataclass
class CandidateGraph:
    """Scored candidate pairs between the distinct texts of a collection (before linking)."""

    texts: list[str]
    collapsed: _Collapsed
    scored: Pairs  # over positions in ``collapsed.texts``
    timings: dict[str, float]
    model: str | None
    scorer: str
    rerank: "RerankStats | None" = None  # set when ``scored`` holds re-ranker scores

    @property
    def density(self) -> float:
        """Candidate pairs over all pairs of distinct texts (what decides whether the
        automatic threshold's guard band applies)."""
        m = len(self.collapsed.texts)
        return len(self.scored) / max(m * (m - 1) / 2, 1)


def _row_labels(collapsed: _Collapsed, unique_labels: np.ndarray) -> np.ndarray:
    """Expand labels of distinct texts to rows; empty rows become singletons."""
    r2u = collapsed.row_to_unique
    n = r2u.shape[0]
    raw = np.empty(n, dtype=np.int64)
    nonempty = r2u >= 0
    raw[nonempty] = unique_labels[r2u[nonempty]]
    offset = int(unique_labels.max()) + 1 if unique_labels.size else 0
    raw[~nonempty] = offset + np.arange(int((~nonempty).sum()))
    return _canonical_labels(raw) if n else raw


def _canonical_labels(raw: np.ndarray) -> np.ndarray:
    """Renumber cluster ids by first appearance so ids are 0..k-1 in row order."""
    _, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.ravel()]


def _check_texts(texts: Sequence[str], what: str) -> list[str]:
    out = []
    for row, text in enumerate(texts):
        if text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
            out.append("")
        elif isinstance(text, str):
            out.append(text)
        else:
            raise InputError(
                f"{what}: row {row} has a {type(text).__name__} where a text was expected "
                f"({text!r:.60}); convert the column to strings"
            )
    return out


def _check_ids(ids: Sequence[str] | None, n: int, what: str) -> list[str]:
    if ids is None:
        return [str(i) for i in range(n)]
    ids = [str(i) for i in ids]
    if len(ids) != n:
        raise InputError(f"{what}: {len(ids)} ids for {n} texts; give one id per text")
    seen: dict[str, int] = {}
    dups: list[str] = []
    for row, i in enumerate(ids):
        if i in seen:
            dups.append(f"{i!r} (rows {seen[i]} and {row})")
        else:
            seen[i] = row
    if dups:
        raise InputError(
            f"{what}: ids must be unique, but {len(dups)} repeat: {', '.join(dups[:5])}"
            f"{' …' if len(dups) > 5 else ''}; pick a unique id column or use row numbers"
        )
    return ids


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


class Deduplicator:
    """Find groups of near-duplicate texts and keep one representative per group.

    Parameters are only stored here (scikit-learn style); the model is loaded on first use.

    Args:
        model: preset name, sentence-transformers folder, Hugging Face id, an ``Encoder``, or
            ``None`` for a purely lexical pipeline (MinHash candidates, character n-gram score).
        threshold: link pairs whose score is at least this; ``"auto"`` reads it off the
            collection's own candidate-score distribution (printed so it can be reused).
        candidates: candidate sources to combine: ``"knn"`` (embedding neighbours),
            ``"minhash"`` (MinHash-LSH on character 3-grams), ``"lexical-knn"`` (character
            TF-IDF neighbours). Exact copies are always found.
        k: neighbours per text for the kNN sources.
        knn_method: ``"auto"``, ``"exact"``, ``"hnsw"`` or ``"ivf"`` (see
            :func:`neardup.candidates.knn.knn_search`).
        minhash_threshold: Jaccard level at which MinHash-LSH proposes a pair.
        scorer: ``"default"`` (character n-grams and embeddings combined), ``"lexical"``,
            ``"embedding"``, a folder saved by ``neardup train scorer`` (a
            :class:`~neardup.train.scorer.LearnedPairScorer`), or an object with ``name`` and
            ``score(texts, embeddings, left, right)``. A scorer with a ``default_threshold``
            (a learned one) supplies the threshold when it is ``"auto"``.
        cluster: ``"components"``, ``"leiden"`` (cuts chains) or ``"agglomerative"``
            (average linkage on the candidate graph).
        representative: ``"first"`` (first row in input order), ``"longest"`` or
            ``"central"`` (highest summed link score within its group).
        batch_size: encoding batch size.
        show_progress: progress bars for the long stages.
        embedding_store: ``"memory"`` or ``"disk"``: where the embeddings of the distinct
            texts are kept while deduplicating (``"disk"``: a temporary memory-mapped file in
            ``embedding_dir``, written chunk by chunk; see :mod:`neardup.store`).
        embedding_dtype: ``"float32"`` or ``"float16"`` (half the memory; cosines move by
            ~1e-3, so results may differ slightly from float32).
        embedding_dir: folder of the disk store's temporary file (default: the system's).
        rerank: a folder trained by ``neardup train cross-encoder`` or a
            :class:`~neardup.rerank.Reranker`. The candidates that pass a loose pre-filter
            (``rerank_floor``, ``rerank_top_k``, ``rerank_max_pairs``) are re-scored with it and
            linked on its scores; the others are not linked. Clustering stays as configured.
        rerank_threshold: link threshold on the re-ranker's scores; default: the one it was
            calibrated to on dev pairs. (``threshold`` must then stay ``"auto"``: it is a
            threshold on first-stage scores.)
        rerank_floor: first-stage score from which every candidate is re-ranked (see
            :data:`neardup.rerank.DEFAULT_FLOOR`: suits the default and lexical scorers).
        rerank_top_k: each text's best-scoring candidates re-ranked whatever their score.
        rerank_max_pairs: at most this many pairs are re-ranked (the highest-scoring first);
            the rest are counted in ``result.rerank.n_over_limit``, warned about, and not linked.
        rerank_batch_size: pairs per re-ranker batch.
    """

    def __init__(
        self,
        model: str | Encoder | None = "multilingual-e5-small",
        *,
        threshold: float | Literal["auto"] = "auto",
        candidates: Sequence[str] | None = None,
        k: int = 30,
        knn_method: str = "auto",
        minhash_threshold: float = 0.5,
        scorer: str | object = "default",
        cluster: str = "agglomerative",
        representative: str = "first",
        batch_size: int = 64,
        show_progress: bool = False,
        embedding_store: str = "memory",
        embedding_dtype: str = "float32",
        embedding_dir: str | None = None,
        rerank: "str | Path | Reranker | None" = None,
        rerank_threshold: float | None = None,
        rerank_floor: float = DEFAULT_FLOOR,
        rerank_top_k: int = DEFAULT_TOP_K,
        rerank_max_pairs: int | None = None,
        rerank_batch_size: int = 32,
    ) -> None:
        self.model = model
        self.threshold = threshold
        self.candidates = candidates
        self.k = k
        self.knn_method = knn_method
        self.minhash_threshold = minhash_threshold
        self.scorer = scorer
        self.cluster = cluster
        self.representative = representative
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.embedding_store = embedding_store
        self.embedding_dtype = embedding_dtype
        self.embedding_dir = embedding_dir
        self.rerank = rerank
        self.rerank_threshold = rerank_threshold
        self.rerank_floor = rerank_floor
        self.rerank_top_k = rerank_top_k
        self.rerank_max_pairs = rerank_max_pairs
        self.rerank_batch_size = rerank_batch_size

    # -- configuration checks ---------------------------------------------------------------

    def _validate(self) -> None:
        if self.cluster not in CLUSTER_METHODS:
            raise InputError(
                f"unknown clustering method {self.cluster!r}; choose one of {', '.join(CLUSTER_METHODS)}"
            )
        if self.knn_method not in ("auto", "exact", "hnsw", "ivf"):
            # checked before encoding, and also when no kNN source runs (--model none)
            raise InputError(
                f"unknown kNN method {self.knn_method!r}; choose auto, exact, hnsw or ivf"
            )
        if self.representative not in ("first", "longest", "central"):
            raise InputError(
                f"unknown representative strategy {self.representative!r}; "
                "choose first, longest or central"
            )
        if isinstance(self.threshold, str):
            if self.threshold != "auto":
                raise InputError(f"threshold must be a number or 'auto', got {self.threshold!r}")
        elif not _is_number(self.threshold):
            raise InputError(f"threshold must be a number or 'auto', got {self.threshold!r}")
        elif not (-1.0 <= float(self.threshold) <= 1.0):
            raise InputError(f"threshold must lie in [-1, 1], got {self.threshold}")
        elif float(self.threshold) <= 0 and self.cluster != "components":
            # checked here, not only when some collection has candidates to cluster
            raise InputError(
                f"threshold {self.threshold} links pairs that were never candidates under "
                f"{self.cluster} clustering (a missing pair counts as 0); give a threshold "
                "above 0, or cluster='components' (--method components)."
            )
        if not _is_number(self.k) or int(self.k) != self.k or self.k < 1:
            raise InputError(f"k must be a whole number of at least 1, got {self.k!r}")
        if not _is_number(self.minhash_threshold) or not 0 < self.minhash_threshold <= 1:
            raise InputError(f"minhash_threshold must lie in (0, 1], got {self.minhash_threshold!r}")
        if isinstance(self.candidates, str):
            raise InputError(f"candidates must be a list of sources, got the string "
                             f"{self.candidates!r}; write [{self.candidates!r}]")
        if self.candidates is not None and not self._candidate_sources():
            raise InputError("candidates is empty: give at least one source ("
                             f"{', '.join(CANDIDATE_SOURCES)}), or None for the default")
        for source in self._candidate_sources():
            if source not in CANDIDATE_SOURCES:
                raise InputError(
                    f"unknown candidate source {source!r}; choose from {', '.join(CANDIDATE_SOURCES)}"
                )
            if source == "knn" and self.model is None:
                raise InputError("candidate source 'knn' needs a model; give --model or drop knn")
        if isinstance(self._scorer_arg(), str) and self._scorer_arg() not in SCORERS:
            from neardup.train.scorer import is_scorer_folder

            if not is_scorer_folder(self._scorer_arg()):
                raise InputError(
                    f"unknown scorer {self._scorer_arg()!r}; choose one of {', '.join(SCORERS)}, or "
                    "give a folder made by `neardup train scorer`"
                )
        if self.model is None and self._scorer_arg() in ("default", "embedding"):
            # without a model the default falls back to lexical; "embedding" cannot
            if self._scorer_arg() == "embedding":
                raise InputError("scorer 'embedding' needs a model; give --model or use 'lexical'")
        if self.rerank is not None:
            self._validate_rerank()
        else:
            given = [name for name, value, default in (
                ("rerank_threshold", self.rerank_threshold, None),
                ("rerank_max_pairs", self.rerank_max_pairs, None),
                ("rerank_floor", self.rerank_floor, DEFAULT_FLOOR),
                ("rerank_top_k", self.rerank_top_k, DEFAULT_TOP_K),
            ) if value != default]
            if given:
                # without a re-ranker these would be dropped silently, and the links made at a
                # threshold the user did not ask for
                flag = "--" + given[0].replace("_", "-")
                raise InputError(f"{given[0]} ({flag}) applies to a re-ranker's scores, but no "
                                 "re-ranker is given: add rerank=DIR (--rerank DIR) or drop it.")
        from neardup.store import STORE_DTYPES, STORE_KINDS

        if self.embedding_store not in STORE_KINDS or self.embedding_dtype not in STORE_DTYPES:
            raise InputError(
                f"embedding_store must be one of {', '.join(STORE_KINDS)} and embedding_dtype "
                f"one of {', '.join(STORE_DTYPES)}; got {self.embedding_store!r}, "
                f"{self.embedding_dtype!r}"
            )
        if self.embedding_dir is not None and not Path(self.embedding_dir).is_dir():
            # checked before encoding, not when the first chunk is written
            raise InputError(f"embedding_dir {str(self.embedding_dir)!r} is not an existing "
                             "folder; create it or give another.")

    def _embed(self, encoder: Encoder, texts: list[str]) -> np.ndarray:
        """Embeddings of the distinct texts, in memory or in a disk store (neardup.store)."""
        if self.embedding_store == "memory" and self.embedding_dtype == "float32":
            return encoder.encode(
                texts, kind=SYMMETRIC_KIND, batch_size=self.batch_size,
                show_progress=self.show_progress,
            )
        from neardup.store import encode_to_store

        return encode_to_store(
            encoder, texts, kind=SYMMETRIC_KIND, batch_size=self.batch_size,
            store=self.embedding_store, dtype=self.embedding_dtype,  # type: ignore[arg-type]
            directory=self.embedding_dir, show_progress=self.show_progress,
        ).vectors

    def _validate_rerank(self) -> None:
        from neardup.rerank import is_reranker_folder
        from neardup.rerank.pipeline import check_rerank_options

        if isinstance(self.rerank, (str, Path)):
            if not is_reranker_folder(self.rerank):
                raise InputError(
                    f"rerank {str(self.rerank)!r} is not a re-ranker folder (a folder with "
                    "neardup_reranker.json); train one with `neardup train cross-encoder PAIRS "
                    "--output FOLDER`"
                )
        elif not callable(getattr(self.rerank, "score", None)):
            raise InputError(
                f"rerank must be a re-ranker folder or an object with score(texts_a, texts_b), "
                f"got {type(self.rerank).__name__}"
            )
        if self.threshold != "auto":
            raise InputError(
                "with a re-ranker the link threshold applies to its scores: give it as "
                "rerank_threshold (--rerank-threshold) and leave threshold at 'auto' (the "
                "first-stage pre-filter is rerank_floor / --rerank-floor)"
            )
        t = self.rerank_threshold
        if t is not None and not (0.0 < float(t) <= 1.0):
            raise InputError(f"rerank threshold must lie in (0, 1], got {t}")
        check_rerank_options(float(self.rerank_floor), int(self.rerank_top_k), self.rerank_max_pairs)
        if self.rerank_batch_size < 1:
            raise InputError(f"rerank batch size must be at least 1, got {self.rerank_batch_size}")

    def _candidate_sources(self) -> tuple[str, ...]:
        if self.candidates is not None:
            return tuple(dict.fromkeys(self.candidates))
        if self.model is None:
            return tuple(s for s in DEFAULT_CANDIDATES if s != "knn") or ("minhash",)
        return tuple(DEFAULT_CANDIDATES)

    # -- components ---------------------------------------------------------------------------

    def _encoder(self) -> Encoder | None:
        if self.model is None:
            return None
        if isinstance(self.model, str):
            cached = getattr(self, "_encoder_cache", None)
            if cached is not None and cached[0] == self.model:
                return cached[1]
            from neardup.models import load_encoder

            encoder = load_encoder(self.model)
            # cache on the instance: loading a model is the slowest part of a small job
            self._encoder_cache = (self.model, encoder)
            return encoder
        return self.model

    def _scorer_arg(self):  # -> str | PairScorer
        """``scorer`` with a path (``pathlib.Path``) read as the folder name it is."""
        return os.fspath(self.scorer) if isinstance(self.scorer, os.PathLike) else self.scorer

    def _pair_scorer(self):  # -> PairScorer
        from neardup import scoring

        if not isinstance(self._scorer_arg(), str) or self._scorer_arg() not in SCORERS:
            scorer = self._learned_scorer()
            if hasattr(scorer, "check_encoder"):  # a learned scorer needs its training model
                scorer.check_encoder(self._encoder())
            return scorer
        if self._scorer_arg() == "lexical" or (self._scorer_arg() == "default" and self.model is None):
            return scoring.LexicalScorer()
        if self._scorer_arg() == "embedding":
            return scoring.EmbeddingScorer()
        encoder = self._encoder()
        name = encoder.name if encoder is not None else None
        return scoring.DefaultPairScorer(cosine_range=scoring.cosine_range_for(name))

    def _learned_scorer(self):  # -> PairScorer
        """The scorer object given, or the learned scorer saved in the folder given (cached)."""
        if not isinstance(self._scorer_arg(), str):
            return self._scorer_arg()
        cached = getattr(self, "_scorer_cache", None)
        if cached is not None and cached[0] == self._scorer_arg():
            return cached[1]
        from neardup.train.scorer import LearnedPairScorer

        scorer = LearnedPairScorer.load(self._scorer_arg())
        self._scorer_cache = (self._scorer_arg(), scorer)
        return scorer

    def _reranker(self) -> "Reranker":
        """The re-ranker given, or the one saved in the folder given (loaded once)."""
        if not isinstance(self.rerank, (str, Path)):
            assert self.rerank is not None
            return self.rerank
        cached = getattr(self, "_reranker_cache", None)
        if cached is not None and cached[0] == self.rerank:
            return cached[1]
        from neardup.rerank import load_reranker

        reranker = load_reranker(self.rerank)
        self._reranker_cache = (self.rerank, reranker)
        return reranker

    def _rerank_stage(
        self, texts: list[str], pairs: Pairs, timer: _Timer
    ) -> tuple[Pairs, "RerankStats"]:
        from neardup.rerank import rerank_pairs

        with timer.stage("rerank"):  # loading the model counts: it is part of the cost
            reranker = self._reranker()
            return rerank_pairs(
                texts, pairs, reranker, floor=float(self.rerank_floor),
                top_k=int(self.rerank_top_k), max_pairs=self.rerank_max_pairs,
                batch_size=self.rerank_batch_size, show_progress=self.show_progress,
            )

    def _model_name(self, encoder: Encoder | None) -> str | None:
        return None if encoder is None else encoder.name

    def _find_candidates(
        self,
        texts: list[str],
        embeddings: np.ndarray | None,
        timer: _Timer,
        scorer: object,
        by_source: bool = False,
    ) -> Pairs:
        from neardup import candidates as cand

        found = Pairs.empty()
        for source in self._candidate_sources():
            with timer.stage(f"candidates:{source}"):
                if source == "knn":
                    assert embeddings is not None
                    neighbors = cand.knn_search(
                        embeddings,
                        k=min(self.k, max(len(texts) - 1, 1)),
                        method=self.knn_method,
                        show_progress=self.show_progress,
                    )
                    pairs = neighbors.to_pairs()
                elif source == "minhash":
                    pairs = cand.minhash_pairs(
                        texts, threshold=self.minhash_threshold, show_progress=self.show_progress,
                        # identical texts of different sources are distinct rows here: "star"
                        # would link others only to the first copy, which the source rule may
                        # then drop (a same-source copy), losing the cross-source link
                        duplicates="full" if by_source else "star",
                    )
                else:
                    # the scorer fits the same TF-IDF; fit it once and share it
                    matrix = scorer.matrix(texts) if hasattr(scorer, "matrix") else None
                    pairs = cand.lexical_knn_pairs(
                        texts, k=min(self.k, max(len(texts) - 1, 1)), matrix=matrix
                    )
            found = found.union(pairs)
        return found

    def _choose_threshold(self, scores: np.ndarray, density: float | None = None
                          ) -> ThresholdInfo:
        """``density``: the candidate graph's (:attr:`CandidateGraph.density`); None keeps the
        automatic threshold's guard band on."""
        if self.rerank is not None:
            if self.rerank_threshold is not None:
                return ThresholdInfo(float(self.rerank_threshold), "user")
            calibrated = getattr(self._reranker(), "default_threshold", None)
            if calibrated is None:
                raise InputError(
                    f"the re-ranker {getattr(self._reranker(), 'name', self.rerank)!r} carries "
                    "no calibrated threshold; "
                    "give rerank_threshold (--rerank-threshold)"
                )
            # a threshold <= 0 would link every re-ranked pair; clustering needs > 0
            return ThresholdInfo(max(float(calibrated), 1e-6), "reranker")
        if self.threshold != "auto":
            return ThresholdInfo(float(self.threshold), "user")
        if not len(scores):  # nothing to link: no threshold to read off
            return ThresholdInfo(float("nan"), "auto:no-candidates")
        # a learned scorer carries the threshold it was tuned to on held-out labelled pairs
        scorer_threshold = getattr(self._pair_scorer(), "default_threshold", None)
        if scorer_threshold is not None:
            return ThresholdInfo(float(scorer_threshold), "scorer")
        recorded = self._model_link_threshold()
        if recorded is not None:
            return ThresholdInfo(recorded, "model")
        from neardup.threshold import auto_threshold

        # single-linkage clustering chains, so its recorded constants (the guard band's centre)
        # are higher than average linkage's; Leiden is closer to average linkage
        linkage = "components" if self.cluster == "components" else "average"
        choice = auto_threshold(scores, scorer=self._pair_scorer().name, linkage=linkage,
                                density=density)
        return ThresholdInfo(float(choice.value), f"auto:{choice.method}", dict(choice.details))

    def _model_link_threshold(self) -> float | None:
        """The dev-tuned threshold a trained bi-encoder folder carries for the default scorer
        and this clustering. On Shopee's unseen 30 % it beat the collection's own mixture
        threshold for each of five trained models (row-F1 +0.013 to +0.037; BENCHMARKS.md): a
        fine-tuned model moves the duplicate/near-miss boundary where the mixture's guard band
        no longer reaches."""
        if self._scorer_arg() != "default" or self.model is None:
            return None
        from neardup import scoring

        encoder = self._encoder()
        name = None if encoder is None else str(encoder.name)
        return scoring.recorded_link_threshold(name, "default", self.cluster)

    def _cluster(self, n: int, scored: Pairs, threshold: float) -> np.ndarray:
        from neardup import cluster as cl

        # the clusterings' shared slack for float32 scores (neardup.cluster.agglomerative)
        linked = scored.select(linked_mask(scored.score, threshold))
        if self.cluster == "components":
            return cl.connected_components(n, linked)
        if self.cluster == "leiden":
            # CPM gains w - resolution for a pair of weight w: at resolution == threshold a pair
            # exactly at the threshold (or a float32 hair below it) would not link, unlike the
            # other clusterings; the same slack keeps "at or above the threshold links"
            return cl.leiden(n, linked, resolution=max(link_cut(threshold), 0.0),
                             objective="CPM")
        return cl.agglomerative(n, scored, threshold=threshold, linkage="average")

    # -- public API ---------------------------------------------------------------------------

    def candidate_graph(
        self, texts: Sequence[str], *, sources: Sequence[str] | None = None
    ) -> "CandidateGraph":
        """Encode, find candidates and score them, without linking.

        Clustering the returned graph at several thresholds (:meth:`cluster_graph`) is how
        ``neardup evaluate`` sweeps thresholds without re-encoding.
        """
        self._validate()
        texts = _check_texts(texts, "texts")
        if not texts:
            raise InputError("the collection is empty: there is nothing to deduplicate")
        timer = _Timer()
        if sources is not None:
            # by position, as texts are: a pandas Series' index labels must not pick the rows
            sources = sources.tolist() if hasattr(sources, "tolist") else list(sources)
        if sources is not None and len(sources) != len(texts):
            raise InputError(f"{len(sources)} source labels for {len(texts)} texts")
        with timer.stage("prepare"):
            collapsed = _collapse(texts, sources)
        uniques = collapsed.texts
        encoder = self._encoder() if len(uniques) > 1 else None
        scorer = self._pair_scorer()
        embeddings = None
        if encoder is not None:
            with timer.stage("encode"):
                embeddings = self._embed(encoder, uniques)
        if len(uniques) > 1:
            candidates = self._find_candidates(uniques, embeddings, timer, scorer,
                                               by_source=collapsed.sources is not None)
            if collapsed.sources is not None:
                src = collapsed.sources
                candidates = candidates.select(src[candidates.left] != src[candidates.right])
            with timer.stage("score"):
                scores = scorer.score(uniques, embeddings, candidates.left, candidates.right)
                _check_scores(scores, candidates, scorer, lambda a, b: "rows {} and {}".format(
                    *sorted(int(r) for r in collapsed.first_rows()[[a, b]])))
                scored = candidates.with_scores(scores)
        else:
            scored = Pairs.empty()
        rerank = None
        if self.rerank is not None:
            scored, rerank = self._rerank_stage(uniques, scored, timer)
        model = encoder.name if encoder is not None else (
            self.model if isinstance(self.model, str) else None
        )
        return CandidateGraph(texts, collapsed, scored, timer.timings, model, scorer.name, rerank)

    def graph_threshold(self, graph: "CandidateGraph") -> ThresholdInfo:
        """The threshold :meth:`deduplicate` links ``graph`` at (the given one, or the
        automatic one from the graph's scores and density)."""
        return self._choose_threshold(graph.scored.score, graph.density)

    def cluster_graph(self, graph: "CandidateGraph", threshold: float) -> np.ndarray:
        """Cluster labels per input row (canonical numbering) when linking at ``threshold``."""
        if not _is_number(threshold) or (threshold <= 0 and self.cluster != "components"):
            # the check the constructor makes for its own threshold
            raise InputError(
                f"cannot link at threshold {threshold!r} with {self.cluster} clustering: give a "
                "finite threshold above 0 (a missing pair counts as 0)"
            )
        if len(graph.collapsed.texts) > 1:
            unique_labels = self._cluster(len(graph.collapsed.texts), graph.scored, threshold)
        else:
            unique_labels = np.zeros(len(graph.collapsed.texts), dtype=np.int64)
        return _row_labels(graph.collapsed, unique_labels)

    def deduplicate(
        self,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        *,
        sources: Sequence[str] | None = None,
    ) -> DedupResult:
        """Group near-duplicates in one collection.

        Rows with empty text are reported in ``empty_rows`` and kept as singletons.

        ``sources`` (one label per row, e.g. the shop or data set a record came from) restricts
        linking to pairs from different sources: record linkage between sources that each
        contain their own near-variants. Identical texts within a source are still merged.
        """
        texts = _check_texts(texts, "texts")
        ids = _check_ids(ids, len(texts), "texts")
        graph = self.candidate_graph(texts, sources=sources)
        timer = _Timer()
        threshold = self.graph_threshold(graph)
        with timer.stage("cluster"):
            if len(graph.collapsed.texts) > 1 and len(graph.scored):
                unique_labels = self._cluster(
                    len(graph.collapsed.texts), graph.scored, threshold.value
                )
            else:
                unique_labels = np.arange(len(graph.collapsed.texts), dtype=np.int64)
        with timer.stage("report"):
            result = self._assemble(ids, graph.texts, graph.collapsed, unique_labels,
                                    graph.scored, threshold)
        result.timings = {**graph.timings, **timer.timings}
        result.n_rows_at_k = self._rows_at_k(graph, threshold.value)
        result.model = graph.model
        result.scorer = graph.scorer
        result.rerank = graph.rerank
        if graph.rerank is not None:
            # the first stage's candidates, as without a re-ranker; graph.scored holds only
            # the pairs the re-ranker scored (counted in result.rerank)
            result.n_candidates = int(graph.rerank.n_candidates)
        return result

    def _rows_at_k(self, graph: "CandidateGraph", threshold: float) -> int:
        """Distinct texts with at least ``k`` linked candidates (see ``DedupResult.n_rows_at_k``);
        warns when there are any. No kNN source, or ``k`` covering the collection: 0."""
        n = len(graph.collapsed.texts)
        k = int(self.k)
        knn_sources = {"knn", "lexical-knn"} & set(self._candidate_sources())
        if not knn_sources or k >= n - 1 or not len(graph.scored) or not np.isfinite(threshold):
            return 0
        linked = graph.scored.select(linked_mask(graph.scored.score, threshold))
        degree = (np.bincount(linked.left, minlength=n)
                  + np.bincount(linked.right, minlength=n))
        count = int((degree >= k).sum())
        if count:
            warnings.warn(
                f"k={k} may have split large groups: {count} distinct texts have {k} or more "
                f"linked candidates, so their own {k} nearest neighbours may all be linked "
                f"and more may exist. Either their groups are larger than k (deduplicate "
                f"again with a larger k, --k) or the threshold links too much (raise it)",
                ResultWarning,
                stacklevel=3,
            )
        return count

    def score_pairs(self, texts1: Sequence[str], texts2: Sequence[str]) -> np.ndarray:
        """Score text pairs with the same scorer ``deduplicate`` links on."""
        texts1 = _check_texts(texts1, "texts1")
        texts2 = _check_texts(texts2, "texts2")
        if len(texts1) != len(texts2):
            raise InputError(f"{len(texts1)} first texts but {len(texts2)} second texts")
        self._validate()
        if self.rerank is not None:
            scores = np.asarray(
                self._reranker().score(texts1, texts2, batch_size=self.rerank_batch_size,
                                       show_progress=self.show_progress),
                dtype=np.float32,
            )
            return _copies_score_one(texts1, texts2, scores)
        uniques, left, right = distinct_pair_texts(texts1, texts2)
        encoder = self._encoder()
        scorer = self._pair_scorer()
        embeddings = None
        if encoder is not None:
            embeddings = encoder.encode(
                uniques, kind=SYMMETRIC_KIND, batch_size=self.batch_size,
                show_progress=self.show_progress,
            )
        scores = np.asarray(scorer.score(uniques, embeddings, left, right), dtype=np.float32)
        return _copies_score_one(texts1, texts2, scores)

    def _assemble(
        self,
        ids: list[str],
        texts: list[str],
        collapsed: _Collapsed,
        unique_labels: np.ndarray,
        scored: Pairs,
        threshold: ThresholdInfo,
    ) -> DedupResult:
        from neardup.cluster import choose_representatives

        n = len(texts)
        r2u = collapsed.row_to_unique
        nonempty = r2u >= 0
        labels = _row_labels(collapsed, unique_labels)

        # linked pairs between distinct texts, expanded to the first row of each text, plus
        # star edges from that row to its exact copies
        first_row = collapsed.first_rows()
        linked = scored.select(
            linked_mask(scored.score, threshold.value)
            & (unique_labels[scored.left] == unique_labels[scored.right])
        ) if len(scored) else scored
        left = [first_row[linked.left]]
        right = [first_row[linked.right]]
        score = [linked.score]
        copies = (
            np.flatnonzero(nonempty & (first_row[np.maximum(r2u, 0)] != np.arange(n)))
            if first_row.size
            else np.zeros(0, dtype=np.int64)
        )
        if copies.size:
            left.append(first_row[r2u[copies]])
            right.append(copies)
            score.append(np.ones(copies.size, dtype=np.float32))
        row_pairs = Pairs.from_arrays(np.concatenate(left), np.concatenate(right), np.concatenate(score))

        if self.representative == "first":
            reps = choose_representatives(labels, texts, strategy="first")
        else:
            reps = choose_representatives(
                labels, texts, strategy=self.representative, pairs=row_pairs
            )
        return DedupResult(
            ids=ids,
            labels=labels,
            is_representative=np.asarray(reps, dtype=bool),
            pairs=row_pairs,
            threshold=threshold,
            timings={},
            empty_rows=list(collapsed.empty_rows),
            n_candidates=len(scored),
            model=None,
            scorer="",
            cluster_method=self.cluster,
        )

    def find_leaks(
        self,
        test_texts: Sequence[str],
        train_texts: Sequence[str],
        *,
        test_ids: Sequence[str] | None = None,
        train_ids: Sequence[str] | None = None,
    ) -> LeakResult:
        """Find test rows that duplicate a train row.

        Each test row is compared with its ``k`` nearest train rows (embedding kNN and/or
        character n-gram neighbours, plus exact copies); a test row leaks when its best pair
        score reaches the threshold.
        """
        self._validate()
        test_texts = _check_texts(test_texts, "test texts")
        train_texts = _check_texts(train_texts, "train texts")
        test_ids = _check_ids(test_ids, len(test_texts), "test texts")
        train_ids = _check_ids(train_ids, len(train_texts), "train texts")
        if not test_texts:
            raise InputError("the test collection is empty: there is nothing to check")
        if not train_texts:
            raise InputError("the train collection (--against) is empty: there is nothing to match")
        timer = _Timer()
        with timer.stage("prepare"):
            test_c = _collapse(test_texts)
            train_c = _collapse(train_texts)
        encoder = self._encoder()
        scorer = self._pair_scorer()
        nt, nr = len(test_c.texts), len(train_c.texts)
        # one text list: test uniques first, then train uniques, so scorers see both
        combined = test_c.texts + train_c.texts
        embeddings = None
        if encoder is not None and nt and nr:
            with timer.stage("encode"):
                # the same store as deduplicate (memory, or a disk file in float16)
                embeddings = self._embed(encoder, combined)
        left_parts: list[np.ndarray] = []
        right_parts: list[np.ndarray] = []
        if nt and nr:
            from neardup import candidates as cand

            sources = self._candidate_sources()
            k = min(self.k, nr)
            if "knn" in sources and embeddings is not None:
                with timer.stage("candidates:knn"):
                    nb = cand.cross_knn(embeddings[:nt], embeddings[nt:], k=k)
                    rows = np.repeat(np.arange(nt), nb.indices.shape[1])
                    cols = nb.indices.ravel()
                    ok = cols >= 0
                    left_parts.append(rows[ok])
                    right_parts.append(cols[ok] + nt)
            if "lexical-knn" in sources or "minhash" in sources or embeddings is None:
                with timer.stage("candidates:lexical-knn"):
                    # the TF-IDF over test + train texts is the scorer's own; fit it once
                    matrix = scorer.matrix(combined) if hasattr(scorer, "matrix") else None
                    rows, cols = cand.lexical_cross_knn(
                        test_c.texts, train_c.texts, k=k, matrix=matrix
                    )
                    left_parts.append(rows)
                    right_parts.append(cols + nt)
        rerank = None
        if left_parts:
            cand_pairs = Pairs.from_arrays(np.concatenate(left_parts), np.concatenate(right_parts))
            with timer.stage("score"):
                scores = scorer.score(combined, embeddings, cand_pairs.left, cand_pairs.right)
            # rows are looked up only to name a bad pair (first_rows is a pass over all rows)
            _check_scores(scores, cand_pairs, scorer, lambda a, b: (
                f"test row {int(test_c.first_rows()[a])} and "
                f"train row {int(train_c.first_rows()[b - nt])}"))
            cand_pairs = cand_pairs.with_scores(scores)
            if self.rerank is not None:
                cand_pairs, rerank = self._rerank_stage(combined, cand_pairs, timer)
        else:
            cand_pairs = Pairs.empty()
        # the guard band stays on here: its density rule was measured on collections
        # deduplicated within themselves, not on test-against-train candidate sets
        threshold = self._choose_threshold(cand_pairs.score)

        with timer.stage("report"):
            best_train = np.full(nt, -1, dtype=np.int64)
            best_score = np.full(nt, -np.inf, dtype=np.float32)
            # pairs are (test, train) with left < right because test uniques come first
            for t, r, s in zip(cand_pairs.left.tolist(), cand_pairs.right.tolist(),
                               cand_pairs.score.tolist()):
                if s > best_score[t] or (s == best_score[t] and r - nt < best_train[t]):
                    best_score[t], best_train[t] = s, r - nt
            # exact copies always leak, whatever the threshold
            train_keys = {t: u for u, t in enumerate(normalize_all(train_c.texts))}
            exact = np.zeros(len(best_train), dtype=bool)
            for u, text in enumerate(normalize_all(test_c.texts)):
                hit = train_keys.get(text)
                if hit is not None:
                    best_train[u], best_score[u], exact[u] = hit, 1.0, True
            # (a NaN threshold, when there were no candidate pairs, links nothing else)
            leaked_u = exact | ((best_train >= 0) & (best_score >= threshold.value))
            # map uniques back to rows; a train unique maps to its first row
            train_first = train_c.first_rows()
            r2u = test_c.row_to_unique
            is_leaked = np.zeros(len(test_texts), dtype=bool)
            match_train = np.full(len(test_texts), -1, dtype=np.int64)
            match_score = np.full(len(test_texts), np.nan, dtype=np.float32)
            rows = np.flatnonzero(r2u >= 0)
            u = r2u[rows]
            hit = leaked_u[u]
            is_leaked[rows[hit]] = True
            match_train[rows[hit]] = train_first[best_train[u[hit]]]
            match_score[rows[hit]] = best_score[u[hit]]
        timer.timings.setdefault("encode", 0.0)
        return LeakResult(
            test_ids=test_ids,
            train_ids=train_ids,
            is_leaked=is_leaked,
            match_train=match_train,
            match_score=match_score,
            threshold=threshold,
            timings=timer.timings,
            empty_rows=list(test_c.empty_rows),
            model=self._model_name(encoder),
            scorer=scorer.name,
            rerank=rerank,
        )


def _check_scores(scores: np.ndarray, candidates: Pairs, scorer: object,
                  describe: Callable[[int, int], str]) -> None:
    """Refuse NaN or infinite pair scores, naming the first pair by its input rows
    (``describe``); a NaN neither links nor stays apart: no clustering can place it."""
    scores = np.asarray(scores)
    if scores.shape != (len(candidates),):
        raise InputError(
            f"the scorer {getattr(scorer, 'name', scorer)!r} returned {scores.shape} scores "
            f"for {len(candidates)} candidate pairs; it must return one score per pair"
        )
    bad = ~np.isfinite(scores)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = describe(int(candidates.left[i]), int(candidates.right[i]))
        raise InputError(
            f"the scorer {getattr(scorer, 'name', scorer)!r} gave {int(bad.sum())} of "
            f"{scores.size} candidate pairs a score that is not a number, the first "
            f"{float(scores[i])} for {where}; the model's embeddings or the scorer produce "
            "NaN or infinity (check the model's output for NaN)"
        )


def deduplicate(
    texts: Sequence[str],
    ids: Sequence[str] | None = None,
    *,
    sources: Sequence[str] | None = None,
    **kwargs,
) -> DedupResult:
    """Shortcut for ``Deduplicator(**kwargs).deduplicate(texts, ids, sources=sources)``."""
    return Deduplicator(**kwargs).deduplicate(texts, ids, sources=sources)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)) and bool(np.isfinite(value))


def _copies_score_one(texts1: Sequence[str], texts2: Sequence[str],
                      scores: np.ndarray) -> np.ndarray:
    """Copies after normalisation get 1.0, the score deduplicate links them with (before any
    scorer or re-ranker sees them); blank texts are never copies."""
    for i, (a, b) in enumerate(zip(texts1, texts2)):
        key = _copy_key(a)
        if key and key == _copy_key(b):
            scores[i] = 1.0
    return scores


def _copy_key(text: str) -> str:
    """The key ``_collapse`` merges copies by: the normalised text, or for a text of symbols
    only (emoji, "***") the text as written; empty exactly when the text is blank."""
    return _key_of_kept(normalize(text, strip_punctuation=False))


def _key_of_kept(kept: str) -> str:
    """:func:`_copy_key` from the text's ``normalize(text, strip_punctuation=False)``."""
    return punctuation_stripped(kept) or kept
