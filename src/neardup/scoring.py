"""Pair scorers: turn candidate pairs of rows into similarity scores in [0, 1].

The scorers here are zero-shot: nothing is trained, nothing is read from labels at run time.
Lexical features are fitted on the collection itself (TF-IDF document frequencies), which is
what makes them adapt to a marketplace's boilerplate words.

Features
--------
- :func:`char_ngram_similarity` — cosine of character n-gram TF-IDF vectors (``char_wb`` 2–4,
  sublinear tf) fitted on the collection; computed row-wise for the requested pairs only.
- :func:`embedding_similarity` — cosine of L2-normalised embeddings, row-wise.
- :func:`rescale_embedding_cosine` — affine map of a model's cosine onto ``[0, 1]``
  (e5's cosines live in ``[0.7, 1]``; the map keeps ranking, it only makes the two features
  commensurable before they are averaged).
- :func:`number_agreement` / :func:`number_disagreement` — (dis)agreement of digit-bearing
  tokens ("128gb" vs "64gb").
- :func:`combine_lift` — the asymmetric combination the default scorer uses.

Scorers
-------
:class:`DefaultPairScorer` is the recipe the dedup pipeline links on by default; see its
docstring for the constants and the data they were chosen on. :class:`LexicalScorer` and
:class:`EmbeddingScorer` are the single-feature variants. All follow the :class:`PairScorer`
protocol: ``name`` and ``score(texts, embeddings, left, right) -> float32``.

Pairs are addressed by row position, as in :class:`neardup.pairs.Pairs` (``left``/``right``
int64 arrays of equal length); scorers return one float32 per pair in the same order.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np
import scipy.sparse as sp

from neardup._threads import run_chunks
from neardup.text import NormalizedTexts, normalize, normalize_all

__all__ = [
    "PairScorer",
    "DefaultPairScorer",
    "LexicalScorer",
    "EmbeddingScorer",
    "char_ngram_similarity",
    "char_ngram_matrix",
    "embedding_similarity",
    "rescale_embedding_cosine",
    "number_agreement",
    "number_disagreement",
    "combine_lift",
    "combine_mean",
    "digit_tokens",
    "E5_COSINE_RANGE",
    "MODEL_COSINE_RANGES",
    "calibrate_cosine_range",
    "recorded_link_threshold",
    "cosine_range_for",
    "estimate_cosine_range",
    "DEFAULT_LIFT",
    "DEFAULT_DROP",
    "DEFAULT_NUMBER_PENALTY",
    "DEFAULT_COSINE_RANGE",
]

#: Range of cosine values mapped onto ``[0, 1]`` before the embedding score is combined with the
#: lexical score. For multilingual-e5-small (``query:`` prompt) unrelated texts sit near
#: 0.75–0.82 and near-duplicates at 0.9–1.0. The anchor recipe (ANCHORS.md) used ``[0.8, 1]``;
#: 0.82 was chosen with the other DefaultPairScorer constants (Shopee dev half A + STS-b dev).
E5_COSINE_RANGE: tuple[float, float] = (0.82, 1.0)

#: Cosine ranges mapped onto [0, 1] before the embedding score meets the lexical one. Each model
#: spreads cosines differently (e5's unrelated neighbours sit at 0.83-0.87, MiniLM's at 0.3-0.5),
#: so one linear map per model puts them on a common scale.
#: - e5-small: chosen with the default recipe on Shopee dev half A (see DefaultPairScorer).
#: - MiniLM, mpnet: derived, not tuned with the recipe: the map sends the model's tuned
#:   connected-components threshold on Shopee dev (0.705, ANCHORS.md) to the value e5's tuned
#:   threshold (0.92) gets under its own map, (0.92 - 0.82) / 0.18 = 0.556.
#: - e5-small's static tier (``@static``, model2vec-distilled): the lower end chosen on Shopee
#:   dev half A from {estimated, 0.6, 0.7, 0.75, 0.8, 0.85} for pair F1 at the automatic
#:   threshold (0.728 at 0.80; 0.587 with the per-collection estimate, whose 1st percentile is
#:   ~0.5 because static cosines spread wide), checked on half B: 0.801 against 0.666.
#:   (On neardup.synth's template-sharing negatives it does not help: 0.274 against 0.311.)
#: Other models: estimated per collection (see :func:`estimate_cosine_range`).
MODEL_COSINE_RANGES: dict[str, tuple[float, float]] = {
    "multilingual-e5-small": E5_COSINE_RANGE,
    "multilingual-e5-small@static": (0.80, 1.0),
    "all-MiniLM-L6-v2": (0.34, 1.0),
    "all-mpnet-base-v2": (0.34, 1.0),
}


#: Manifest a trained bi-encoder folder carries (see neardup.train.bi_encoder); it may hold
#: the cosine range calibrated on the training run's dev split.
TRAINED_MANIFEST = "neardup_training.json"


def _trained_manifest_entry(model_name: str, key: str) -> Any:
    """``key`` of the training manifest in the folder ``model_name``, or None."""
    import json
    from pathlib import Path

    try:
        manifest = json.loads((Path(model_name) / TRAINED_MANIFEST).read_text(encoding="utf-8"))
        return manifest.get(key)
    except (OSError, ValueError, AttributeError):
        return None


def cosine_range_for(model_name: str | None) -> tuple[float, float] | None:
    """The recorded cosine range of a model, or None (then it is estimated per collection).

    Presets have theirs in :data:`MODEL_COSINE_RANGES`; a folder written by ``neardup train
    bi-encoder`` carries one calibrated on its dev split (:func:`calibrate_cosine_range`).
    """
    if not model_name:
        return None
    known = MODEL_COSINE_RANGES.get(model_name)
    if known is not None:
        return known
    recorded = _trained_manifest_entry(model_name, "cosine_range")
    if isinstance(recorded, list) and len(recorded) == 2:
        return (float(recorded[0]), float(recorded[1]))
    return None


def recorded_link_threshold(model_name: str | None, scorer: str, cluster: str) -> float | None:
    """The link threshold a folder written by ``neardup train bi-encoder`` on groups carries
    for this scorer and clustering (tuned for row-F1 on its dev split), or None."""
    if not model_name:
        return None
    recorded = _trained_manifest_entry(model_name, "link_threshold")
    if (not isinstance(recorded, dict) or recorded.get("scorer") != scorer
            or recorded.get("cluster") != cluster):
        return None
    try:
        value = float(recorded["value"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if 0.0 < value <= 1.0 else None


def calibrate_cosine_range(
    base_range: tuple[float, float] | None, base_threshold: float, trained_threshold: float
) -> tuple[float, float] | None:
    """The cosine range of a fine-tuned model, from the dev-tuned thresholds of both models.

    Fine-tuning moves cosines (a trained e5 links groups at cosine 0.54 where the base model
    needed 0.88), so the base model's range would mis-scale every pair. The new range sends
    the trained model's dev-tuned threshold to the value the base model's threshold gets under
    the base range: both models then meet the lexical score on the same scale. None when the
    base model has no recorded range or the thresholds make no sense.
    """
    if base_range is None:
        return None
    lo, hi = base_range
    target = (base_threshold - lo) / (hi - lo)
    if not (0.0 < target < 1.0 and -1.0 < trained_threshold < 1.0):
        return None
    new_lo = (trained_threshold - target) / (1.0 - target)
    return (max(-1.0, float(new_lo)), 1.0)


def estimate_cosine_range(cos: np.ndarray) -> tuple[float, float]:
    """Range for an unknown model: from the 1st percentile of the candidate-pair cosines to 1.

    For e5-small on Shopee kNN candidates the 1st percentile is 0.83, next to the 0.82 chosen
    there, so this reproduces the recorded map where one exists. Below
    :data:`MIN_RANGE_SAMPLE` cosines a percentile says nothing (with one pair it *is* that
    pair's cosine, which would zero its embedding evidence, and a pair's score would depend on
    which others it was scored with): the plain cosine scale [0, 1] is used instead.
    """
    c = np.asarray(cos, np.float64)
    c = c[np.isfinite(c)]
    if c.size < MIN_RANGE_SAMPLE:
        return (0.0, 1.0)
    lo = float(np.percentile(c, 1))
    return (min(lo, 0.99), 1.0)


#: Fewest candidate-pair cosines :func:`estimate_cosine_range` reads a range off.
MIN_RANGE_SAMPLE = 100

_CHUNK = 100_000  # pairs per row-wise product chunk (bounds temporary memory per thread)
_MIN_CHUNK = 4_096  # below this a thread costs more than it saves


def _as_index(a: np.ndarray | Sequence[int], name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.int64).ravel()
    return arr


def _check_pairs(n: int, left: np.ndarray, right: np.ndarray) -> None:
    if left.shape != right.shape:
        raise ValueError(f"pair arrays differ in length: {left.shape[0]} and {right.shape[0]}")
    if left.size:
        lo = min(int(left.min()), int(right.min()))
        hi = max(int(left.max()), int(right.max()))
        if lo < 0 or hi >= n:
            raise ValueError(f"pair row positions must lie in [0, {n}); got [{lo}, {hi}]")


def char_ngram_matrix(
    texts: Sequence[str],
    *,
    ngram_range: tuple[int, int] = (2, 4),
    analyzer: str = "char_wb",
    fit_texts: Sequence[str] | None = None,
    sublinear_tf: bool = True,
    normalize_text: bool = True,
) -> sp.csr_matrix:
    """L2-normalised character n-gram TF-IDF rows for ``texts`` (CSR, float32).

    The vocabulary and document frequencies come from ``fit_texts`` when given, else from
    ``texts`` themselves (the collection being deduplicated). Texts are passed through
    :func:`neardup.text.normalize` first unless ``normalize_text`` is False.
    """
    prep = normalize_all if normalize_text else list
    docs = prep(texts)
    fit_docs = docs if fit_texts is None else prep(fit_texts)
    if not any(fit_docs):
        return sp.csr_matrix((len(docs), 0), dtype=np.float32)
    from neardup import ngrams

    if ngrams.supports(analyzer, ngram_range):
        # the same matrix as scikit-learn's below, built with numpy (see neardup.ngrams)
        fast = ngrams.char_wb_tfidf(
            docs, ngram_range=ngram_range, sublinear_tf=sublinear_tf,
            fit_docs=None if fit_texts is None else fit_docs,
        )
        if fast is not None:
            return fast
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngram_range,
        sublinear_tf=sublinear_tf,
        lowercase=False,
        dtype=np.float32,
        min_df=1,
    )
    if fit_texts is None:
        # one pass of the (pure Python) n-gram analyser instead of two; fit_transform leaves
        # column indices unsorted within rows, sorting them gives exactly transform's matrix
        x = vec.fit_transform(docs).astype(np.float32).tocsr()
        x.sort_indices()
        return x
    vec.fit(fit_docs)
    x = vec.transform(docs).astype(np.float32).tocsr()
    return x  # TfidfVectorizer L2-normalises rows (empty rows stay zero)


def _rowwise_sparse_dot(x: sp.csr_matrix, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    out = np.zeros(left.shape[0], dtype=np.float32)

    def chunk(s: int, e: int) -> None:
        out[s:e] = np.asarray(x[left[s:e]].multiply(x[right[s:e]]).sum(axis=1)).ravel()

    # scipy's sparse kernels release the GIL: two threads gave 1.5x on the two cores here
    run_chunks(chunk, left.shape[0], _CHUNK, _MIN_CHUNK)
    return out


def char_ngram_similarity(
    texts: Sequence[str],
    pairs_left: np.ndarray | Sequence[int],
    pairs_right: np.ndarray | Sequence[int],
    *,
    ngram_range: tuple[int, int] = (2, 4),
    analyzer: str = "char_wb",
    fit_texts: Sequence[str] | None = None,
    matrix: sp.csr_matrix | None = None,
) -> np.ndarray:
    """Cosine of char n-gram TF-IDF vectors for the given pairs (float32 in ``[0, 1]``).

    TF-IDF (sublinear tf) is fitted on ``fit_texts`` or, by default, on ``texts``. Only the
    requested pairs are computed (row-wise products of sparse rows), never the n×n matrix.
    Pass ``matrix`` (from :func:`char_ngram_matrix`) to reuse a fitted matrix across calls.
    """
    left = _as_index(pairs_left, "left")
    right = _as_index(pairs_right, "right")
    _check_pairs(len(texts), left, right)
    x = (
        matrix
        if matrix is not None
        else char_ngram_matrix(
            texts, ngram_range=ngram_range, analyzer=analyzer, fit_texts=fit_texts
        )
    )
    if left.size == 0:
        return np.zeros(0, np.float32)
    return np.clip(_rowwise_sparse_dot(x, left, right), 0.0, 1.0)


def embedding_similarity(
    embeddings: np.ndarray,
    left: np.ndarray | Sequence[int],
    right: np.ndarray | Sequence[int],
) -> np.ndarray:
    """Row-wise cosine (dot product) of L2-normalised ``embeddings`` for the pairs (float32)."""
    emb = np.asarray(embeddings)
    if emb.ndim != 2:
        raise ValueError(f"embeddings must be a 2-d array, got shape {emb.shape}")
    left = _as_index(left, "left")
    right = _as_index(right, "right")
    _check_pairs(emb.shape[0], left, right)
    out = np.empty(left.shape[0], dtype=np.float32)

    def chunk(s: int, e: int) -> None:
        a = emb[left[s:e]].astype(np.float32, copy=False)
        b = emb[right[s:e]].astype(np.float32, copy=False)
        out[s:e] = np.einsum("ij,ij->i", a, b)

    # gathers and einsum release the GIL: 1.4x with two threads on 3M pairs of 256-d rows
    run_chunks(chunk, left.shape[0], _CHUNK, _MIN_CHUNK)
    return out


def rescale_embedding_cosine(
    cos: np.ndarray, lo: float = E5_COSINE_RANGE[0], hi: float = E5_COSINE_RANGE[1]
) -> np.ndarray:
    """Map cosine ``lo → 0`` and ``hi → 1``, clipped to ``[0, 1]`` (float32)."""
    if hi <= lo:
        raise ValueError(f"rescale range must have hi > lo, got [{lo}, {hi}]")
    return np.clip((np.asarray(cos, np.float32) - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


# a word run with a digit in it, with ".", ",", ":" or "/" kept where a digit follows, so that
# 3.5 and 5.3, 05/06/2023 and 06/05/2023 or 10:45 and 45:10 are different numbers (split at
# the punctuation, each pair was the same set {3, 5}). A match starts at a minus sign or a
# word's first character: the scan reaches that before any later one, so matches are whole
# words, and the lookbehind spares the scan a retry at every later character of a word
# without a digit.
_DIGIT_TOKEN = re.compile(r"(?:\u2212(?=\d)|(?<!\w))\w*\d(?:\w|[.,:/](?=\d))*", re.UNICODE)
# a decimal digit of another script than ASCII (Arabic-Indic, Devanagari, ...)
_OTHER_DIGIT = re.compile(r"(?![0-9])\d", re.UNICODE)
# Thousands separators ("80,000", "1.000.000") go; a decimal comma becomes a point ("1,7" and
# "1.7"); a date's dots become slashes ("05.06.2023" and "05/06/2023"). So one number written
# two ways is one token. A comma or point before exactly three digits is read as grouping, as
# sellers and news write prices and counts ("1.500" is 1500, not 1.5).
_GROUPING = re.compile(r"(?<=\d)[.,](?=\d{3}(?!\d))")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_DOTTED_DATE = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})(?!\d)")
_SEPARATORS = re.compile(r"\d[.,]\d")


def _canonical_number(token: str) -> str:
    if _SEPARATORS.search(token):
        token = _DOTTED_DATE.sub(r"\1/\2/\3", token)
        token = _DECIMAL_COMMA.sub(".", _GROUPING.sub("", token))
    return token


@functools.cache
def _ascii_digits() -> dict[int, str]:
    """Every decimal digit (Arabic-Indic, Devanagari, ...) to its ASCII digit; NFKC already
    folds the full-width ones."""
    return {cp: str(unicodedata.digit(chr(cp))) for cp in range(0x20000)
            if unicodedata.category(chr(cp)) == "Nd" and not chr(cp).isascii()}
_HAS_DIGIT = re.compile(r"\d", re.UNICODE)
# Units that sellers write both glued to a number and apart from it ("500ml" and "500 ml":
# 43 of Shopee dev's 500 groups hold both forms): a number followed by one of them is read as
# one token, so the two agree. Only words that are units wherever they follow a number (no
# "x", "in", "pro", "s"; no Russian "г", which is "year" in "2023 г." as often as grams), in
# the languages of the shared data; case-folded, as the text is.
_UNITS = (
    "ml", "cl", "dl", "l", "ltr", "liter", "litre", "liters", "litres", "g", "gr", "gram",
    "grams", "gramm", "kg", "mg", "lb", "lbs", "oz", "mm", "cm", "km", "m", "meter", "inch",
    "inches", "ft", "kb", "mb", "gb", "tb", "mah", "w", "kw", "watt", "v", "volt", "hz", "khz",
    "mhz", "ghz", "mp", "pcs", "pc", "ply", "lembar", "buah", "biji", "pack", "pak",
    "гр", "кг", "мг", "мл", "л", "мм", "см", "км", "м", "кб", "мб", "гб", "тб", "шт",
    "вт", "квт", "гц", "мач",
)
_UNIT_GAP = re.compile(
    r"(\d)\s+(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")(?!\w)", re.UNICODE
)


def digit_tokens(text: str) -> frozenset[str]:
    """Digit-bearing tokens of the text ("128gb", "v2", "3.5mm", "05/06/2023"), as a set.

    Read from the NFKC, case-folded text before punctuation is removed (see
    :func:`neardup.text.normalize`); separators stay inside a token only between digits, and a
    number written apart from its unit is read with it ("500 ml" gives "500ml", as "500ml" does).
    One number written two ways is one token: a minus sign is kept ("-5" is not "5"), thousands
    separators dropped, a decimal comma read as a point, other scripts' digits as ASCII digits.
    """
    return _digit_tokens_of_kept(normalize(text, strip_punctuation=False))


def _digit_tokens_of_kept(folded: str) -> frozenset[str]:
    """:func:`digit_tokens` of a text from its ``normalize(text, strip_punctuation=False)``."""
    if not folded.isascii() and _OTHER_DIGIT.search(folded):
        folded = folded.translate(_ascii_digits())
    folded = _UNIT_GAP.sub(r"\1\2", folded)
    return frozenset(_canonical_number(t) for t in _DIGIT_TOKEN.findall(folded))


def _digit_jaccard(
    texts: Sequence[str],
    left: np.ndarray | Sequence[int],
    right: np.ndarray | Sequence[int],
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: Jaccard of digit-bearing token sets (0 when both empty) and how many of the two
    texts have such tokens (0, 1 or 2)."""
    left = _as_index(left, "left")
    right = _as_index(right, "right")
    _check_pairs(len(texts), left, right)
    jaccard = np.zeros(left.shape[0], dtype=np.float32)
    if left.size == 0:
        return jaccard, np.zeros(0, dtype=np.int8)
    # Each text's token set as a 0/1 row of a sparse (texts x tokens) matrix, so that per pair
    # |A & B| is a row-wise dot product and |A| a row sum: no Python loop over (millions of)
    # pairs. Only texts that occur in a pair are tokenised.
    used = np.unique(np.concatenate([left, right]))
    norm = normalize_all(texts)  # the carried forms when texts is a NormalizedTexts
    kept = texts.kept if isinstance(texts, NormalizedTexts) else None
    vocab: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    for i in used.tolist():
        # the carried form says cheaply whether there is a digit at all; only then are the
        # tokens read, from the carried punctuation-kept form or else the text itself
        if _HAS_DIGIT.search(norm[i]):
            tokens = (digit_tokens(texts[i]) if kept is None
                      else _digit_tokens_of_kept(kept[i]))
            indices.extend(vocab.setdefault(t, len(vocab)) for t in tokens)
        indptr.append(len(indices))
    sets = sp.csr_matrix(
        (np.ones(len(indices), np.float32), np.asarray(indices, np.int64), np.asarray(indptr)),
        shape=(used.size, max(len(vocab), 1)),
    )
    size = np.diff(sets.indptr).astype(np.int64)
    li, ri = np.searchsorted(used, left), np.searchsorted(used, right)
    n_sides = ((size[li] > 0).astype(np.int8) + (size[ri] > 0).astype(np.int8)).astype(np.int8)
    # a pair with tokens on one side only has Jaccard 0: multiply only where both have some
    both = np.flatnonzero(n_sides == 2)
    inter = np.rint(_rowwise_sparse_dot(sets, li[both], ri[both])).astype(np.int64)
    union = size[li[both]] + size[ri[both]] - inter
    # same arithmetic as len(a & b) / len(a | b) in Python floats, then stored as float32
    jaccard[both] = inter / union
    return jaccard, n_sides


def number_agreement(
    texts: Sequence[str],
    left: np.ndarray | Sequence[int],
    right: np.ndarray | Sequence[int],
) -> np.ndarray:
    """Jaccard of the digit-bearing token sets of each pair (float32).

    1.0 when neither text has a digit-bearing token (no evidence either way), 0.0 when exactly
    one has some, else ``|A ∩ B| / |A ∪ B|``.
    """
    jaccard, n_sides = _digit_jaccard(texts, left, right)
    # no digit-bearing token on either side: no evidence either way
    return np.where(n_sides == 0, np.float32(1.0), jaccard).astype(np.float32)


def number_disagreement(
    texts: Sequence[str],
    left: np.ndarray | Sequence[int],
    right: np.ndarray | Sequence[int],
) -> np.ndarray:
    """``1 - Jaccard`` of the digit-bearing token sets when BOTH texts have such tokens, else 0.

    "iphone 12 128gb" vs "iphone 12 64gb" → 1 - 1/3; "kaos polos" vs "kaos 3 pcs" → 0 (a number
    on one side only is not evidence of a different item: titles often omit sizes). Used as a
    penalty by :class:`DefaultPairScorer`; it also helps STS (numbers change meaning there too).
    """
    jaccard, n_sides = _digit_jaccard(texts, left, right)
    return np.where(n_sides == 2, 1.0 - jaccard, np.float32(0.0)).astype(np.float32)


@runtime_checkable
class PairScorer(Protocol):
    """Scores pairs of rows of a collection; higher means more alike, in ``[0, 1]``."""

    name: str

    def score(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None,
        left: np.ndarray,
        right: np.ndarray,
    ) -> np.ndarray: ...


@dataclass
class LexicalScorer:
    """Character n-gram TF-IDF cosine only (needs no embeddings).

    The TF-IDF matrix of the last collection seen is kept, keyed by the texts' content, so scoring
    several batches of pairs of one collection fits it once.
    """

    ngram_range: tuple[int, int] = (2, 4)
    analyzer: str = "char_wb"
    name: str = "char-tfidf"
    _key: int | None = field(default=None, repr=False, compare=False)
    _matrix: sp.csr_matrix | None = field(default=None, repr=False, compare=False)

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        key = hash((len(texts), tuple(texts)))
        if self._matrix is None or self._key != key:
            self._matrix = char_ngram_matrix(
                texts, ngram_range=self.ngram_range, analyzer=self.analyzer
            )
            self._key = key
        return self._matrix

    def score(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None,
        left: np.ndarray,
        right: np.ndarray,
    ) -> np.ndarray:
        return char_ngram_similarity(texts, left, right, matrix=self.matrix(texts))


@dataclass
class EmbeddingScorer:
    """Embedding cosine only, optionally rescaled from ``cosine_range`` to ``[0, 1]``."""

    cosine_range: tuple[float, float] | None = None
    name: str = "embedding-cosine"

    def score(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None,
        left: np.ndarray,
        right: np.ndarray,
    ) -> np.ndarray:
        if embeddings is None:
            raise ValueError("EmbeddingScorer needs embeddings; got None")
        cos = embedding_similarity(embeddings, left, right)
        if self.cosine_range is None:
            # scores live in [0, 1] (the PairScorer contract; a missing pair counts 0), and a
            # negative cosine is no more a duplicate than an orthogonal one
            return np.clip(cos, 0.0, 1.0)
        return rescale_embedding_cosine(cos, *self.cosine_range)


def combine_lift(
    lexical: np.ndarray, embedding: np.ndarray, lift: float, drop: float = 0.0
) -> np.ndarray:
    """``e + lift * max(0, lex - e) - drop * max(0, e - lex)`` (float32).

    Both inputs are in ``[0, 1]`` (rescale the embedding cosine first). Lexical evidence above the
    embedding score raises the score by ``lift`` of the gap; lexical evidence below it lowers the
    score by only ``drop`` of the gap. ``lift = drop = w`` is the weighted mean
    ``w*lex + (1-w)*e``; ``lift=1, drop=0`` is ``max(lex, e)``. A small ``drop`` is what keeps
    paraphrases (same meaning, different words: e high, lex low) from being pushed down, which a
    weighted mean does and which costs STS Spearman about 2 points.
    """
    lex = np.asarray(lexical, np.float32)
    emb = np.asarray(embedding, np.float32)
    zero = np.float32(0)
    out = emb + np.float32(lift) * np.maximum(zero, lex - emb)
    if drop:
        out = out - np.float32(drop) * np.maximum(zero, emb - lex)
    return out.astype(np.float32)


def combine_mean(lexical: np.ndarray, embedding: np.ndarray, weight: float) -> np.ndarray:
    """``weight * lexical + (1 - weight) * embedding`` (float32)."""
    lex = np.asarray(lexical, np.float32)
    emb = np.asarray(embedding, np.float32)
    return (np.float32(weight) * lex + np.float32(1 - weight) * emb).astype(np.float32)


#: Constants of :class:`DefaultPairScorer` (see its docstring for where they come from).
DEFAULT_LIFT = 0.5
DEFAULT_DROP = 0.1
DEFAULT_NUMBER_PENALTY = 0.1
DEFAULT_COSINE_RANGE: tuple[float, float] = E5_COSINE_RANGE


@dataclass
class DefaultPairScorer:
    """The default pair score the dedup pipeline links on (and the pair score for pair tasks).

    With embeddings::

        e   = clip((cos - 0.82) / (1 - 0.82), 0, 1)        # e5 cosine, query: prompt
        lex = char_wb 2-4 TF-IDF cosine (sublinear tf, fitted on the collection, normalised text)
        s   = e + 0.5 * max(0, lex - e) - 0.1 * max(0, e - lex) - 0.1 * numdis

    where ``numdis`` is :func:`number_disagreement` (1 - Jaccard of digit-bearing tokens when both
    texts have some). Scores are clipped to ``[0, 1]``. Without embeddings (lexical-only mode)
    ``s = lex - 0.1 * numdis``.

    Where the constants come from: chosen on Shopee dev half A (250 of the 500 label groups,
    class-disjoint split with numpy seed 0; average-linkage clustering on the candidate graph,
    best pair F1) subject to not lowering STS-b *dev* Spearman (en, ru) below the e5 cosine
    alone; grid lo ∈ {0.78, 0.8, 0.82, 0.85}, lift ∈ {0.4 … 1}, drop ∈ {0 … 0.5}, number penalty
    ∈ {0 … 0.4}. Checked (not tuned) on Shopee half B and the full dev set, STS-b test en/ru,
    ParaPhraser-ru and Amazon-Google. The cosine range assumes multilingual-e5-small with the
    ``query:`` prompt (its unrelated pairs sit at cos ≈ 0.75–0.82); for another encoder pass its
    own ``cosine_range``.
    """

    lift: float = DEFAULT_LIFT
    drop: float = DEFAULT_DROP
    number_penalty: float = DEFAULT_NUMBER_PENALTY
    # None: estimated from the scored pairs (estimate_cosine_range), for models with no record
    cosine_range: tuple[float, float] | None = DEFAULT_COSINE_RANGE
    combine: str = "lift"
    weight: float = 0.5
    ngram_range: tuple[int, int] = (2, 4)
    name: str = "default"
    _lex: LexicalScorer | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.combine not in ("lift", "mean"):
            raise ValueError(f"combine must be 'lift' or 'mean', got {self.combine!r}")
        if self._lex is None:
            self._lex = LexicalScorer(ngram_range=self.ngram_range)

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The fitted char n-gram TF-IDF rows (cached), shared with lexical candidate search."""
        assert self._lex is not None
        return self._lex.matrix(texts)

    def components(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None,
        left: np.ndarray,
        right: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Per-pair features before combination: ``lexical``, ``numdis`` and maybe ``embedding``."""
        assert self._lex is not None
        left = _as_index(left, "left")
        right = _as_index(right, "right")
        out = {"lexical": self._lex.score(texts, None, left, right)}
        out["numdis"] = (
            number_disagreement(texts, left, right)
            if self.number_penalty
            else np.zeros(left.shape[0], np.float32)
        )
        if embeddings is not None:
            emb = np.asarray(embeddings)
            if emb.shape[0] != len(texts):
                raise ValueError(f"{emb.shape[0]} embeddings for {len(texts)} texts")
            cos = embedding_similarity(emb, left, right)
            lo_hi = self.cosine_range or estimate_cosine_range(cos)
            out["embedding"] = rescale_embedding_cosine(cos, *lo_hi)
        return out

    def score(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None,
        left: np.ndarray,
        right: np.ndarray,
    ) -> np.ndarray:
        f = self.components(texts, embeddings, left, right)
        if "embedding" not in f:
            s = f["lexical"]
        elif self.combine == "lift":
            s = combine_lift(f["lexical"], f["embedding"], self.lift, self.drop)
        else:
            s = combine_mean(f["lexical"], f["embedding"], self.weight)
        s = s - np.float32(self.number_penalty) * f["numdis"]
        return np.clip(s, 0.0, 1.0).astype(np.float32)
