"""A pair scorer learned from labelled pairs (duplicate / not duplicate).

The zero-shot :class:`~neardup.scoring.DefaultPairScorer` combines a few similarity features
with hand-set constants. When labelled pairs from the user's own domain exist (entity matching
benchmarks, a few hundred reviewed candidate pairs), a small classifier on the same kind of
features learns how much each one matters there (e.g. that the model number decides the match
and the shared brand words do not).

Pieces
------
- :class:`PairFeatures` — per-pair features, computed row-wise for the requested pairs only
  (never an n×n matrix): embedding cosine (raw), char_wb 2–4 TF-IDF cosine fitted on the texts
  being scored, word-token Jaccard, digit-token Jaccard, "both texts have digit tokens",
  number disagreement, length ratio and the exact Jaccard of character 3-gram sets.
- :class:`LearnedPairScorer` — scikit-learn style estimator (``HistGradientBoostingClassifier``
  or ``LogisticRegression``, probabilities calibrated with ``CalibratedClassifierCV``) that
  follows the :class:`~neardup.scoring.PairScorer` protocol, so
  ``Deduplicator(scorer=LearnedPairScorer.load(folder))`` (or ``scorer="folder"``) links on it.
  ``threshold_`` is the F1-best threshold on a held-out stratified split; the dedup pipeline
  uses it when the threshold is ``"auto"``.
- :func:`train_pair_scorer` — load a labelled pairs file, train, and compare with the
  zero-shot default scorer on the same held-out split (:class:`TrainReport`).

Only load scorer folders you trust: the classifier is stored with joblib (pickle).
"""

from __future__ import annotations

import json
import re
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from neardup.errors import InputError, ModelError
from neardup.pairs import check_pair_texts, distinct_pair_texts
from neardup.scoring import LexicalScorer, embedding_similarity
from neardup.text import normalize_all

__all__ = [
    "PairFeatures",
    "LearnedPairScorer",
    "TrainReport",
    "SplitScores",
    "train_pair_scorer",
    "is_scorer_folder",
    "MANIFEST",
    "MIN_PAIRS",
    "MIN_PER_CLASS",
]

#: Name of the manifest file inside a saved scorer folder (its presence marks the folder).
MANIFEST = "scorer.json"
_MODEL_FILE = "model.joblib"
_FORMAT = "neardup-learned-pair-scorer"
_FORMAT_VERSION = 1

#: Fewest labelled pairs :func:`train_pair_scorer` / :meth:`LearnedPairScorer.fit` accept.
MIN_PAIRS = 20
#: Fewest pairs of each class: the held-out split and 3-fold calibration each need some.
MIN_PER_CLASS = 5

CLASSIFIERS: tuple[str, ...] = ("gbdt", "logistic")
CALIBRATIONS: tuple[str, ...] = ("sigmoid", "isotonic")
#: Below this many rows classifiers run on one OpenMP thread: on small data thread start-up
#: costs far more than it saves (100x on a busy 2-core machine).
_SINGLE_THREAD_ROWS = 50_000

_TOKEN = re.compile(r"\w+", re.UNICODE)
_DIGIT = re.compile(r"\d")
_CHUNK = 200_000


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------


def _words(doc: str) -> list[str]:
    return _TOKEN.findall(doc)


def _char3(doc: str) -> list[str]:
    # as neardup.candidates.minhash.shingle_set: a shorter non-empty text is its own shingle
    if 0 < len(doc) < 3:
        return [doc]
    return [doc[i : i + 3] for i in range(len(doc) - 2)]


def _binary_matrix(docs: list[str], analyzer) -> tuple[sp.csr_matrix, np.ndarray]:
    """Binary document × term matrix (CSR, float32) and its terms; no columns when empty."""
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(analyzer=analyzer, binary=True, lowercase=False, dtype=np.float32)
    try:
        x = vec.fit_transform(docs)
    except ValueError:  # empty vocabulary: every text is empty
        return sp.csr_matrix((len(docs), 0), dtype=np.float32), np.zeros(0, dtype=object)
    return x.tocsr(), vec.get_feature_names_out()


def _rowwise_dot(x: sp.csr_matrix, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    out = np.zeros(left.shape[0], dtype=np.float32)
    if x.shape[1] == 0:
        return out
    for s in range(0, left.shape[0], _CHUNK):
        a = x[left[s : s + _CHUNK]]
        b = x[right[s : s + _CHUNK]]
        out[s : s + _CHUNK] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def _jaccard(x: sp.csr_matrix, sizes: np.ndarray, left: np.ndarray, right: np.ndarray):
    """Jaccard of binary rows for the pairs (0 when both sets are empty) and the union size."""
    inter = _rowwise_dot(x, left, right)
    union = sizes[left] + sizes[right] - inter
    jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return jac.astype(np.float32), union


@dataclass
class _Collection:
    """Per-collection state the features need: token sets and lengths of normalised texts."""

    words: sp.csr_matrix
    word_sizes: np.ndarray
    digits: sp.csr_matrix
    digit_sizes: np.ndarray
    char3: sp.csr_matrix
    char3_sizes: np.ndarray
    lengths: np.ndarray


class PairFeatures:
    """Per-pair features of a collection, computed for the requested pairs only.

    Features (in :attr:`names` order):

    - ``embedding_cosine`` — raw cosine of the L2-normalised embeddings (only with
      ``use_embeddings=True``);
    - ``char_tfidf_cosine`` — cosine of char_wb 2–4 TF-IDF vectors (sublinear tf) fitted on the
      texts being scored, as in :class:`~neardup.scoring.LexicalScorer`;
    - ``word_jaccard`` — Jaccard of the ``\\w+`` token sets of the normalised texts;
    - ``digit_jaccard`` — Jaccard of the digit-bearing token sets (0 when both are empty);
    - ``both_digits`` — 1 when both texts have a digit-bearing token;
    - ``number_disagreement`` — ``1 - digit_jaccard`` when both have some, else 0
      (:func:`~neardup.scoring.number_disagreement`);
    - ``length_ratio`` — shorter / longer normalised length in characters (1 when both empty);
    - ``char3_jaccard`` — exact Jaccard of the character 3-gram sets of the normalised texts.

    Every text-level structure is built once per collection (cached by content, so scoring
    several batches of pairs of one collection builds it once); pair features are row-wise
    products of sparse rows.
    """

    BASE_NAMES: tuple[str, ...] = (
        "char_tfidf_cosine",
        "word_jaccard",
        "digit_jaccard",
        "both_digits",
        "number_disagreement",
        "length_ratio",
        "char3_jaccard",
    )

    def __init__(self, *, use_embeddings: bool = False, ngram_range: tuple[int, int] = (2, 4)):
        self.use_embeddings = use_embeddings
        self.ngram_range = tuple(ngram_range)
        self._lex = LexicalScorer(ngram_range=self.ngram_range)
        self._key: int | None = None
        self._coll: _Collection | None = None

    @property
    def names(self) -> list[str]:
        return (["embedding_cosine"] if self.use_embeddings else []) + list(self.BASE_NAMES)

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The fitted char n-gram TF-IDF rows (cached), shareable with lexical candidates."""
        return self._lex.matrix(texts)

    def _collection(self, texts: Sequence[str]) -> _Collection:
        key = hash((len(texts), tuple(texts)))
        if self._coll is None or self._key != key:
            docs = normalize_all(texts)
            words, terms = _binary_matrix(docs, _words)
            mask = np.fromiter((bool(_DIGIT.search(t)) for t in terms), bool, len(terms))
            digits = words[:, np.flatnonzero(mask)].tocsr() if mask.any() else sp.csr_matrix(
                (len(docs), 0), dtype=np.float32
            )
            char3, _ = _binary_matrix(docs, _char3)
            self._coll = _Collection(
                words=words,
                word_sizes=np.asarray(words.getnnz(axis=1), np.float32),
                digits=digits,
                digit_sizes=np.asarray(digits.getnnz(axis=1), np.float32),
                char3=char3,
                char3_sizes=np.asarray(char3.getnnz(axis=1), np.float32),
                lengths=np.fromiter((len(d) for d in docs), np.float32, len(docs)),
            )
            self._key = key
        return self._coll

    def transform(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None,
        left: np.ndarray | Sequence[int],
        right: np.ndarray | Sequence[int],
    ) -> np.ndarray:
        """Feature matrix ``(len(left), len(names))`` float32 for pairs of rows of ``texts``."""
        left = np.asarray(left, dtype=np.int64).ravel()
        right = np.asarray(right, dtype=np.int64).ravel()
        n = len(texts)
        if left.shape != right.shape:
            raise ValueError(f"pair arrays differ in length: {left.size} and {right.size}")
        if left.size and (min(left.min(), right.min()) < 0 or max(left.max(), right.max()) >= n):
            raise ValueError(f"pair row positions must lie in [0, {n})")
        cols: list[np.ndarray] = []
        if self.use_embeddings:
            if embeddings is None:
                raise ValueError("these features include the embedding cosine; got no embeddings")
            emb = np.asarray(embeddings)
            if emb.ndim != 2 or emb.shape[0] != n:
                raise ValueError(f"embeddings of shape {emb.shape} for {n} texts")
            cols.append(embedding_similarity(emb, left, right))
        if left.size == 0:
            return np.zeros((0, len(self.names)), np.float32)
        cols.append(self._lex.score(texts, None, left, right))
        c = self._collection(texts)
        word_j, _ = _jaccard(c.words, c.word_sizes, left, right)
        digit_j, _ = _jaccard(c.digits, c.digit_sizes, left, right)
        both = ((c.digit_sizes[left] > 0) & (c.digit_sizes[right] > 0)).astype(np.float32)
        numdis = np.where(both > 0, 1.0 - digit_j, 0.0).astype(np.float32)
        la, lb = c.lengths[left], c.lengths[right]
        longer = np.maximum(la, lb)
        ratio = np.divide(np.minimum(la, lb), longer, out=np.ones_like(la), where=longer > 0)
        char3_j, _ = _jaccard(c.char3, c.char3_sizes, left, right)
        cols += [word_j, digit_j, both, numdis, ratio.astype(np.float32), char3_j]
        return np.column_stack(cols).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _check_labels(labels: Any, where: str = "") -> np.ndarray:
    """0/1 labels as int64, or an InputError naming the first bad position and value."""
    prefix = f"{where}: " if where else ""
    values = list(labels.tolist() if isinstance(labels, np.ndarray) else labels)
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        ok = isinstance(v, (bool, np.bool_, int, np.integer, float, np.floating)) and float(v) in (
            0.0,
            1.0,
        )
        if not ok:
            raise InputError(
                f"{prefix}label of pair {i} is {v!r}; labels must be 0 (not a duplicate) or "
                "1 (duplicate)"
            )
        out[i] = int(float(v))
    return out


def _check_training(y: np.ndarray, where: str = "") -> None:
    prefix = f"{where}: " if where else ""
    n = int(y.size)
    if n < MIN_PAIRS:
        raise InputError(
            f"{prefix}only {n} labelled pairs; training a scorer needs at least {MIN_PAIRS} "
            f"(with at least {MIN_PER_CLASS} duplicates and {MIN_PER_CLASS} non-duplicates)"
        )
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == n:
        only = 1 if n_pos else 0
        raise InputError(
            f"{prefix}every pair has label {only}; training a scorer needs both duplicates "
            "(label 1) and non-duplicates (label 0)"
        )
    for cls, count in ((1, n_pos), (0, n - n_pos)):
        if count < MIN_PER_CLASS:
            raise InputError(
                f"{prefix}only {count} pairs have label {cls}; training a scorer needs at "
                f"least {MIN_PER_CLASS} of each class (for the held-out split and calibration)"
            )


def pair_groups(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """One id per distinct unordered pair of text indices (first appearance numbering)."""
    lo = np.minimum(left, right).astype(np.int64)
    hi = np.maximum(left, right).astype(np.int64)
    _, first, inverse = np.unique(lo * (int(hi.max(initial=0)) + 1) + hi, return_index=True,
                                  return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]


def normalized_pair_groups(texts: Sequence[str], left: np.ndarray,
                           right: np.ndarray) -> np.ndarray:
    """:func:`pair_groups` over the texts' normalised forms: pairs that differ only in case or
    punctuation have the same lexical features, so they are one pair for the held-out split."""
    keys = normalize_all(texts)
    _, ids = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
    ids = ids.ravel().astype(np.int64)
    return pair_groups(ids[np.asarray(left, np.int64)], ids[np.asarray(right, np.int64)])


def held_out_split(y: np.ndarray, dev_fraction: float, seed: int, cv: int,
                   where: str = "", groups: np.ndarray | None = None,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, dev)``, stratified by label: the scorer's held-out split.

    With ``groups`` (see :func:`pair_groups`), rows of one group (a pair repeated, or repeated
    with its texts swapped) go to the same side: its features are symmetric, so a copy on
    each side would inflate the dev scores and the threshold chosen on them. Refuses (with
    the counts) a split whose dev side lacks a class or whose training side has fewer than
    ``cv`` pairs of a class, which calibration's ``cv`` folds need; cheap, so
    :func:`train_pair_scorer` runs it before any model loads.
    """
    from sklearn.model_selection import train_test_split

    prefix = f"{where}: " if where else ""
    y = np.asarray(y)
    g = np.arange(y.size) if groups is None else np.asarray(groups, dtype=np.int64)
    _, first_row = np.unique(g, return_index=True)  # groups are numbered 0..n_groups-1
    idx = np.arange(first_row.size)
    counts = {cls: int(np.sum(y == cls)) for cls in (1, 0)}
    fix = ("choose a dev fraction nearer 0.2 (--dev-fraction) or add labelled pairs")
    try:
        train_g, dev_g = train_test_split(
            idx, test_size=float(dev_fraction), stratify=y[first_row], random_state=seed
        )
        if groups is None:  # one row per group: the order train_test_split gave
            train_idx, dev_idx = train_g, dev_g
        else:
            in_dev = np.isin(g, dev_g)
            train_idx, dev_idx = np.flatnonzero(~in_dev), np.flatnonzero(in_dev)
    except ValueError as exc:
        raise InputError(
            f"{prefix}cannot hold out {dev_fraction:g} of {y.size} pairs ({counts[1]} labelled "
            f"1, {counts[0]} labelled 0) with both labels on both sides ({exc}); {fix}."
        ) from None
    for cls in (1, 0):
        n_dev, n_train = int(np.sum(y[dev_idx] == cls)), int(np.sum(y[train_idx] == cls))
        if n_dev < 1 or n_train < cv:
            raise InputError(
                f"{prefix}holding out {dev_fraction:g} of the pairs leaves {n_train} pairs "
                f"labelled {cls} to train on and {n_dev} to measure; calibration needs at "
                f"least {cv} to train on and one to measure. {fix[0].upper()}{fix[1:]}."
            )
    return train_idx, dev_idx


def _threads(n_rows: int):
    """Context limiting OpenMP/BLAS threads to 1 for small inputs (a no-op otherwise)."""
    import contextlib

    if n_rows >= _SINGLE_THREAD_ROWS:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _separating_threshold(scores: np.ndarray, best: float) -> float:
    """Midway between the F1-best threshold and the next lower score.

    ``score >= t`` then makes the same decisions on the held-out pairs, but leaves a margin on
    both sides (the F1-best value itself is the lowest admitted score, right at the edge).
    """
    s = np.asarray(scores, np.float64)
    lower = s[s < best]
    return float((best + lower.max()) / 2) if lower.size else float(best)


def _encode(encoder, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
    from neardup.models.texts import SYMMETRIC_KIND

    return np.asarray(
        encoder.encode(texts, kind=SYMMETRIC_KIND, batch_size=batch_size,
                       show_progress=show_progress),
        dtype=np.float32,
    )


# --------------------------------------------------------------------------------------------
# The scorer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitScores:
    """Quality of one scorer on the held-out split: AP, and F1 at its F1-best threshold.

    The threshold is placed midway between the lowest admitted score and the next lower score
    (same decisions on this split, a margin on both sides)."""

    ap: float
    f1: float
    precision: float
    recall: float
    threshold: float

    @classmethod
    def of(cls, labels: np.ndarray, scores: np.ndarray) -> "SplitScores":
        from neardup.evaluate.metrics import average_precision, best_f1_threshold

        best = best_f1_threshold(labels, scores)
        return cls(float(average_precision(labels, scores)), best.f1, best.precision,
                   best.recall, _separating_threshold(scores, best.threshold))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class LearnedPairScorer(BaseEstimator):
    """Calibrated P(duplicate) of a text pair, learned from labelled pairs.

    Follows the :class:`~neardup.scoring.PairScorer` protocol (``name`` and
    ``score(texts, embeddings, left, right) -> float32``), so it plugs into
    :class:`~neardup.dedup.Deduplicator` (``scorer=LearnedPairScorer.load(folder)`` or
    ``scorer="folder"``); the pipeline then links at :attr:`default_threshold` unless given a
    threshold.

    Args:
        model: ``"gbdt"`` (``HistGradientBoostingClassifier``) or ``"logistic"``
            (standardised features + ``LogisticRegression``).
        calibration: ``"sigmoid"`` (Platt) or ``"isotonic"`` (``CalibratedClassifierCV``,
            ``cv``-fold). Sigmoid is the default: isotonic overfits small calibration sets, its
            step function ties many pairs, and on the held-out 20% of the three ER-Magellan
            train sets (see ``benchmarks/learned_scorer.py``) sigmoid had the higher AP.
        cv: calibration folds.
        dev_fraction: share of the pairs held out (stratified) to pick ``threshold_`` and
            measure ``dev_metrics_``.
        seed: seed of the split and the classifier.
        refit: after choosing the threshold, refit on all pairs (train + held-out). Off by
            default: then ``threshold_`` and ``dev_metrics_`` describe exactly the stored
            model (with a refit the threshold only carries over approximately).
        batch_size: encoding batch size when :meth:`fit` is given an encoder.

    Learned attributes: ``estimator_``, ``features_`` (:class:`PairFeatures`),
    ``feature_names_``, ``model_name_`` (encoder name or None), ``embedding_dim_``,
    ``threshold_``, ``dev_metrics_``, ``n_pairs_``, ``n_positive_``, ``dev_index_``.
    """

    name = "learned"

    def __init__(
        self,
        model: str = "gbdt",
        *,
        calibration: str = "sigmoid",
        cv: int = 3,
        dev_fraction: float = 0.2,
        seed: int = 0,
        refit: bool = False,
        batch_size: int = 64,
    ) -> None:
        self.model = model
        self.calibration = calibration
        self.cv = cv
        self.dev_fraction = dev_fraction
        self.seed = seed
        self.refit = refit
        self.batch_size = batch_size

    # -- training -------------------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.model not in CLASSIFIERS:
            raise InputError(
                f"unknown classifier {self.model!r}; choose {' or '.join(CLASSIFIERS)}"
            )
        if self.calibration not in CALIBRATIONS:
            raise InputError(
                f"unknown calibration {self.calibration!r}; choose {' or '.join(CALIBRATIONS)}"
            )
        if not 0.0 < float(self.dev_fraction) < 1.0:
            raise InputError(f"dev_fraction must lie in (0, 1), got {self.dev_fraction}")

    def _make_estimator(self, method: str, n_rows: int):
        from sklearn.calibration import CalibratedClassifierCV

        if self.model == "gbdt":
            from sklearn.ensemble import HistGradientBoostingClassifier

            # Each calibration fold fits (cv-1)/cv of the rows; with scikit-learn's 20 rows
            # per leaf a fold under 40 rows cannot split at all and the scorer came out
            # constant (every candidate pair linked). Leaves shrink with the data, down to 2;
            # from 600 training pairs up it is scikit-learn's default.
            fold = n_rows * (self.cv - 1) // self.cv
            leaf = int(min(20, max(2, fold // 20)))
            base = HistGradientBoostingClassifier(random_state=self.seed, min_samples_leaf=leaf)
        else:
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            base = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        return CalibratedClassifierCV(base, method=method, cv=self.cv)

    def fit(
        self,
        texts1: Sequence[str],
        texts2: Sequence[str],
        labels: Sequence[int] | np.ndarray,
        encoder=None,
    ) -> "LearnedPairScorer":
        """Fit on labelled pairs (1 = duplicate). ``encoder`` adds the embedding cosine feature."""
        texts1 = check_pair_texts(texts1, "texts1")
        texts2 = check_pair_texts(texts2, "texts2")
        y = _check_labels(labels)
        if not (len(texts1) == len(texts2) == y.size):
            raise InputError(
                f"{len(texts1)} first texts, {len(texts2)} second texts and {y.size} labels; "
                "give one of each per pair"
            )
        self._check_params()
        _check_training(y)
        from neardup.train.data import distinct_pairs

        distinct_pairs(texts1, texts2, y, "labels")  # one pair labelled 0 and 1: an error
        uniques, left, right = distinct_pair_texts(texts1, texts2)
        embeddings = (
            _encode(encoder, uniques, self.batch_size, False) if encoder is not None else None
        )
        self.fit_collection(
            uniques, embeddings, left, right, y,
            None if encoder is None else str(getattr(encoder, "name", "encoder")),
        )
        self.record_encoder(encoder)
        return self

    def record_encoder(self, encoder) -> None:
        """Keep the vectors ``encoder`` gives a few fixed probe texts, so that a model of the
        same name whose weights changed (retrained into the same folder) is noticed."""
        self.encoder_probe_ = None if encoder is None else _probe(encoder)

    def fit_collection(
        self,
        texts: list[str],
        embeddings: np.ndarray | None,
        left: np.ndarray,
        right: np.ndarray,
        labels: np.ndarray | Sequence[int],
        model_name: str | None = None,
    ) -> "LearnedPairScorer":
        """Fit on pairs of rows of a collection whose embeddings are already computed.

        ``texts`` are the distinct texts, ``left``/``right`` each pair's positions in them,
        ``embeddings`` their L2-normalised vectors (or None for a lexical-only scorer) and
        ``model_name`` the encoder's name, recorded so that scoring with another model fails.
        """

        self._check_params()
        y = _check_labels(labels)
        _check_training(y)
        left = np.asarray(left, dtype=np.int64).ravel()
        right = np.asarray(right, dtype=np.int64).ravel()
        if not (left.size == right.size == y.size):
            raise InputError(f"{left.size} left rows, {right.size} right rows and {y.size} labels")
        features = PairFeatures(use_embeddings=embeddings is not None)
        x = features.transform(texts, embeddings, left, right)
        train_idx, dev_idx = held_out_split(y, self.dev_fraction, self.seed, self.cv,
                                            groups=normalized_pair_groups(texts, left, right))
        method = self.calibration
        with _threads(y.size):
            est = self._make_estimator(method, train_idx.size)
            est.fit(x[train_idx], y[train_idx])
            dev_scores = est.predict_proba(x[dev_idx])[:, 1].astype(np.float32)
            if np.ptp(dev_scores) == 0:
                # one score for every pair: whatever the threshold, all pairs link or none
                raise InputError(
                    f"the {self.model} scorer learned nothing from {train_idx.size} training "
                    f"pairs: it gives every held-out pair the score {float(dev_scores[0]):.4g}. "
                    "Add labelled pairs, or use the logistic classifier (--classifier logistic)"
                )
            metrics = SplitScores.of(y[dev_idx], dev_scores)
            if self.refit:
                est = self._make_estimator(method, y.size)
                est.fit(x, y)
        self.estimator_ = est
        self.calibration_ = method
        self.features_ = features
        self.feature_names_ = features.names
        self.model_name_ = model_name
        self.embedding_dim_ = None if embeddings is None else int(np.asarray(embeddings).shape[1])
        self.threshold_ = float(metrics.threshold)
        self.dev_metrics_ = {**metrics.as_dict(), "n_pairs": int(dev_idx.size),
                             "n_positive": int(y[dev_idx].sum())}
        self.n_pairs_ = int(y.size)
        self.n_positive_ = int(y.sum())
        self.dev_index_ = np.sort(dev_idx)
        self._dev_scores = dev_scores[np.argsort(dev_idx)]
        return self

    # -- scoring --------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise ValueError("this LearnedPairScorer is not fitted; call fit() or load() first")

    @property
    def default_threshold(self) -> float | None:
        """The F1-best threshold on the held-out split (what ``threshold="auto"`` links at)."""
        return getattr(self, "threshold_", None)

    @property
    def needs_embeddings(self) -> bool:
        self._check_fitted()
        return self.model_name_ is not None

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Char n-gram TF-IDF rows (cached), shared with lexical-knn candidate search."""
        self._check_fitted()
        return self.features_.matrix(texts)

    def check_encoder(self, encoder) -> None:
        """Raise a clear error when ``encoder`` is not the one the scorer was trained with."""
        self._check_fitted()
        if self.model_name_ is None:
            return
        if encoder is None:
            raise InputError(
                f"this learned scorer was trained with embeddings of {self.model_name_!r}; "
                f"run it with that model (--model {self.model_name_}), or train one with "
                "--model none for a lexical-only scorer"
            )
        name = str(getattr(encoder, "name", ""))
        dim = getattr(encoder, "dim", None)
        from neardup.models.loader import same_model

        if not same_model(name, self.model_name_) or (
            dim is not None and int(dim) != self.embedding_dim_
        ):
            raise ModelError(
                f"this learned scorer was trained with embeddings of {self.model_name_!r} "
                f"(dim {self.embedding_dim_}), but the model in use is {name!r} (dim {dim}); "
                f"use --model {self.model_name_}, or retrain the scorer with this model"
            )
        recorded = getattr(self, "encoder_probe_", None)
        # the pipeline asks at each step that uses the scorer: probe an encoder object once
        if recorded is not None and getattr(self, "_probed", None) is not encoder:
            now = _probe(encoder)
            cos = float(np.min(np.sum(np.asarray(recorded) * now, axis=1)))
            if cos < PROBE_MIN_COSINE:
                raise ModelError(
                    f"the model {name!r} embeds probe texts differently from the model of that "
                    f"name this scorer was trained with (cosine {cos:.3f}; was the model "
                    "retrained into the same folder?); retrain the scorer with this model"
                )
            self._probed = encoder

    def score(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None,
        left: np.ndarray,
        right: np.ndarray,
    ) -> np.ndarray:
        """Calibrated P(duplicate) per pair of rows of ``texts`` (float32 in [0, 1])."""
        self._check_fitted()
        if self.model_name_ is not None:
            if embeddings is None:
                raise InputError(
                    f"this learned scorer was trained with embeddings of {self.model_name_!r} "
                    f"(dim {self.embedding_dim_}); score with that model's embeddings "
                    f"(--model {self.model_name_})"
                )
            emb = np.asarray(embeddings)
            if emb.ndim != 2 or emb.shape[1] != self.embedding_dim_:
                raise ModelError(
                    f"embeddings have dim {emb.shape[-1] if emb.ndim else '?'} but this learned "
                    f"scorer was trained on {self.model_name_!r} embeddings of dim "
                    f"{self.embedding_dim_}; use --model {self.model_name_} or retrain"
                )
        else:
            embeddings = None  # lexical-only scorer: embeddings given are not used
        x = self.features_.transform(texts, embeddings, left, right)
        if x.shape[0] == 0:
            return np.zeros(0, np.float32)
        with _threads(x.shape[0]):
            p = self.estimator_.predict_proba(x)[:, 1]
        return np.clip(p, 0.0, 1.0).astype(np.float32)

    def score_pairs(
        self, texts1: Sequence[str], texts2: Sequence[str], *, encoder=None
    ) -> np.ndarray:
        """Scores of explicit text pairs (encodes their distinct texts when given an encoder)."""
        self._check_fitted()
        if len(texts1) != len(texts2):
            raise InputError(f"{len(texts1)} first texts but {len(texts2)} second texts")
        if self.model_name_ is not None:
            self.check_encoder(encoder)
        uniques, left, right = distinct_pair_texts(list(texts1), list(texts2))
        emb = (
            _encode(encoder, uniques, self.batch_size, False)
            if encoder is not None and self.model_name_ is not None
            else None
        )
        return self.score(uniques, emb, left, right)

    # -- persistence ----------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        import sklearn

        self._check_fitted()
        return {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "name": self.name,
            "features": list(self.feature_names_),
            "model": self.model,
            "calibration": self.calibration_,
            "params": self.get_params(),
            "training_size": self.n_pairs_,
            "training_positive": self.n_positive_,
            "encoder": self.model_name_,
            "embedding_dim": self.embedding_dim_,
            "encoder_probe": (None if getattr(self, "encoder_probe_", None) is None
                              else np.round(self.encoder_probe_, 5).tolist()),
            "threshold": self.threshold_,
            "dev_metrics": self.dev_metrics_,
            "sklearn_version": sklearn.__version__,
        }

    def save(self, folder: str | Path) -> Path:
        """Write ``model.joblib`` and ``scorer.json`` into ``folder`` atomically."""
        import joblib

        from neardup.io.atomic import atomic_output_dir

        folder = Path(folder)
        manifest = self.manifest()
        with atomic_output_dir(folder, last=(MANIFEST,)) as stage:
            joblib.dump(self.estimator_, stage / _MODEL_FILE)
            (stage / MANIFEST).write_text(json.dumps(manifest, indent=2, default=float) + "\n",
                                          encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "LearnedPairScorer":
        """Load a scorer saved by :meth:`save` (only load folders you trust: joblib/pickle)."""
        import joblib
        import sklearn

        folder = Path(folder)
        path = folder / MANIFEST
        if not path.is_file():
            raise ModelError(
                f"{folder}: not a learned scorer folder (no {MANIFEST}); train one with "
                "`neardup train scorer DATA --output FOLDER`"
            )
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: unreadable scorer manifest ({exc})") from None
        if manifest.get("format") != _FORMAT or manifest.get("format_version") != _FORMAT_VERSION:
            raise ModelError(
                f"{path}: not a neardup learned scorer manifest of version {_FORMAT_VERSION} "
                f"(format {manifest.get('format')!r}, version {manifest.get('format_version')!r})"
            )
        if manifest.get("sklearn_version") != sklearn.__version__:
            warnings.warn(
                f"{folder}: scorer saved with scikit-learn {manifest.get('sklearn_version')}, "
                f"loading with {sklearn.__version__}; retrain it if scores look wrong",
                UserWarning,
                stacklevel=2,
            )
        try:
            estimator = joblib.load(folder / _MODEL_FILE)
        except Exception as exc:  # noqa: BLE001 - any unpickling problem is the folder's
            raise ModelError(
                f"{folder / _MODEL_FILE}: cannot load the classifier ({exc})"
            ) from None
        params = {k: v for k, v in manifest.get("params", {}).items()
                  if k in cls._get_param_names()}
        self = cls(**params)
        self.estimator_ = estimator
        self.calibration_ = manifest.get("calibration", self.calibration)
        self.model_name_ = manifest.get("encoder")
        self.embedding_dim_ = manifest.get("embedding_dim")
        probe = manifest.get("encoder_probe")  # absent in scorers saved before it existed
        self.encoder_probe_ = None if probe is None else np.asarray(probe, dtype=np.float32)
        self.features_ = PairFeatures(use_embeddings=self.model_name_ is not None)
        self.feature_names_ = list(manifest["features"])
        if self.feature_names_ != self.features_.names:
            raise ModelError(
                f"{path}: features {self.feature_names_} differ from what this version "
                f"computes ({self.features_.names}); retrain the scorer"
            )
        self.threshold_ = float(manifest["threshold"])
        self.dev_metrics_ = dict(manifest.get("dev_metrics", {}))
        self.n_pairs_ = int(manifest.get("training_size", 0))
        self.n_positive_ = int(manifest.get("training_positive", 0))
        return self


#: Texts whose vectors identify a scorer's embedding model (a few languages and shapes).
PROBE_TEXTS = ("red cotton shirt size M", "Samsung Galaxy A54 5G 8GB 256GB",
               "кошка сидит на окне", "harga murah sepatu anak")
#: Lowest cosine between recorded and current probe vectors that counts as the same model: the
#: same weights through ONNX int8 stay above 0.99 (BENCHMARKS: min cosine 0.995), while a
#: fine-tune moves the vectors further.
PROBE_MIN_COSINE = 0.98


def _probe(encoder) -> np.ndarray:
    from neardup.models.texts import SYMMETRIC_KIND

    vectors = np.asarray(encoder.encode(list(PROBE_TEXTS), kind=SYMMETRIC_KIND), np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def is_scorer_folder(path: Any) -> bool:
    """Whether ``path`` names an existing folder holding a learned scorer manifest."""
    if not isinstance(path, (str, Path)) or not str(path):
        return False
    p = Path(path)
    return p.is_dir() and (p / MANIFEST).is_file()


# --------------------------------------------------------------------------------------------
# Training from a file
# --------------------------------------------------------------------------------------------


@dataclass
class TrainReport:
    """Held-out quality of a freshly trained scorer next to the zero-shot default scorer.

    Both are measured on the same stratified held-out split (``n_dev`` pairs) at their own
    F1-best threshold there; the learned scorer's threshold is the ``threshold_`` it keeps.
    """

    data: str
    n_pairs: int
    n_positive: int
    n_dev: int
    model_name: str | None
    classifier: str
    learned: SplitScores
    baseline: SplitScores
    cosine: SplitScores | None
    encode_seconds: float
    train_seconds: float
    scorer: LearnedPairScorer = field(repr=False)
    output: str | None = None

    def rows(self) -> list[tuple[str, SplitScores]]:
        out = [
            (f"learned ({self.classifier})", self.learned),
            ("default (zero-shot)", self.baseline),
        ]
        if self.cosine is not None:
            out.append((f"{self.model_name} cosine", self.cosine))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "n_pairs": self.n_pairs,
            "n_positive": self.n_positive,
            "n_dev": self.n_dev,
            "model": self.model_name,
            "classifier": self.classifier,
            "learned": self.learned.as_dict(),
            "default": self.baseline.as_dict(),
            "cosine": None if self.cosine is None else self.cosine.as_dict(),
            "encode_seconds": self.encode_seconds,
            "train_seconds": self.train_seconds,
            "output": self.output,
        }


def _check_scorer_output(output: Path) -> None:
    from neardup.io.atomic import check_output_folder, make_parent

    check_output_folder(output, MANIFEST, "scorer", "neardup train scorer")
    make_parent(output)


def train_pair_scorer(
    path: str | Path,
    *,
    model_name: Any = "multilingual-e5-small",
    text1_col: str = "text1",
    text2_col: str = "text2",
    label_col: str = "label",
    dev_fraction: float = 0.2,
    seed: int = 0,
    classifier: str = "gbdt",
    calibration: str = "sigmoid",
    output: str | Path | None = None,
    batch_size: int = 64,
    show_progress: bool = False,
) -> TrainReport:
    """Train a :class:`LearnedPairScorer` on a labelled pairs file and compare it zero-shot.

    ``model_name``: a model preset/folder/id, an ``Encoder`` object, or ``None`` for a
    lexical-only scorer. Labels must be 0/1 (true/false); ``output`` saves the scorer there.
    """
    from neardup.evaluate.data import load_pairs
    from neardup.scoring import DefaultPairScorer, cosine_range_for

    if output is not None:
        # before the encoding and training that a late failure would waste
        _check_scorer_output(Path(output))
    data = load_pairs(path, text1_col=text1_col, text2_col=text2_col, label_col=label_col,
                      label_kind="binary")
    y = np.asarray(data.labels, dtype=np.int64)
    _check_training(y, str(path))
    from neardup.train.data import distinct_pairs

    distinct_pairs(data.texts1, data.texts2, y, str(path))  # contradictory labels: an error
    scorer = LearnedPairScorer(classifier, calibration=calibration, dev_fraction=dev_fraction,
                               seed=seed, batch_size=batch_size)
    scorer._check_params()
    uniques, left, right = distinct_pair_texts(data.texts1, data.texts2)
    # the split fit_collection will make, checked before any model work
    held_out_split(y, dev_fraction, seed, scorer.cv, str(path),
                   groups=normalized_pair_groups(uniques, left, right))
    encoder = None
    if model_name is not None:
        if isinstance(model_name, str):
            from neardup.models import load_encoder

            encoder = load_encoder(model_name)
        else:
            encoder = model_name
    start = time.perf_counter()
    embeddings = (
        _encode(encoder, uniques, batch_size, show_progress) if encoder is not None else None
    )
    encode_s = time.perf_counter() - start
    name = None if encoder is None else str(encoder.name)
    start = time.perf_counter()
    scorer.fit_collection(uniques, embeddings, left, right, y, name)
    scorer.record_encoder(encoder)
    train_s = time.perf_counter() - start

    dev = scorer.dev_index_
    y_dev = y[dev]
    learned = SplitScores.of(y_dev, scorer._dev_scores)
    default = DefaultPairScorer(cosine_range=cosine_range_for(name))
    baseline = SplitScores.of(y_dev, default.score(uniques, embeddings, left[dev], right[dev]))
    cosine = None
    if embeddings is not None:
        cosine = SplitScores.of(y_dev, embedding_similarity(embeddings, left[dev], right[dev]))
    if output is not None:
        scorer.save(output)
    return TrainReport(
        data=str(path), n_pairs=int(y.size), n_positive=int(y.sum()), n_dev=int(dev.size),
        model_name=name, classifier=classifier, learned=learned, baseline=baseline,
        cosine=cosine, encode_seconds=encode_s, train_seconds=train_s, scorer=scorer,
        output=None if output is None else str(output),
    )
