"""Character n-gram TF-IDF (``char_wb``) computed with numpy: scikit-learn's matrix, faster.

The pair scorer and the lexical candidate search both rest on scikit-learn's
``TfidfVectorizer(analyzer="char_wb", sublinear_tf=True)``. Its analyser is a Python loop that
builds one ``str`` per n-gram and a dict of every distinct n-gram: on the 100,000-text synthetic
collection (:mod:`neardup.synth`) fitting it took 12 s of a 55 s pipeline, and at a million
texts the dict of n-gram strings is one of the largest transients. This module builds the same
matrix from arrays of code points:

1. each text's words (``str.split``) are padded with a space on both sides, as scikit-learn
   does, and all padded words are laid end to end in one code-point array;
2. code points are renumbered densely (1..U in code-point order), so an n-gram of up to four
   characters packs exactly into one ``uint64`` (16 bits per character, 0 = no character).
   Packed keys sort in the same order as the n-gram strings do in Python, so the columns come
   out in scikit-learn's (alphabetical) vocabulary order, and the matrix is the same, not
   merely equivalent;
3. the n-grams of each length are the windows that fit inside a padded word; a padded word
   shorter than the smallest n is one n-gram, as in scikit-learn's ``_char_wb_ngrams``;
4. counts, sublinear tf (``1 + ln tf``), smoothed idf (``ln((1 + n) / (1 + df)) + 1``) and L2
   normalisation follow ``TfidfTransformer``.

Texts are processed in chunks, so the per-position arrays never exist for the whole collection
at once. Collections whose alphabet exceeds 65,535 distinct characters, n-grams longer than
four characters, or other analysers go to scikit-learn (:func:`supports`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

#: Bits per character in a packed n-gram key; 4 x 16 = 64 bits.
_BITS = 16
_MAX_N = 64 // _BITS
#: Distinct characters a collection may have for the packed keys (ids 1..65534; 0 = none,
#: 65535 = a character the fit texts do not have, so no n-gram holding it is in the vocabulary).
MAX_ALPHABET = (1 << _BITS) - 2
_UNKNOWN = (1 << _BITS) - 1
#: Texts per chunk: bounds the per-position arrays (~40 bytes per character of a chunk).
CHUNK_TEXTS = 50_000
#: Factorised n-gram codes kept between the vocabulary pass and the counting pass (see
#: :func:`char_wb_tfidf`); beyond this the keys are recomputed.
KEPT_BYTES = 512 << 20


def supports(analyzer: str, ngram_range: tuple[int, int]) -> bool:
    """Whether :func:`char_wb_tfidf` handles these settings (else use scikit-learn)."""
    lo, hi = ngram_range
    return analyzer == "char_wb" and 1 <= lo <= hi <= _MAX_N


def _padded_words(docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Code points of all padded words end to end, each word's length and text, text count."""
    # " w1  w2 " is the padded words " w1 " and " w2 " back to back; split() has removed every
    # whitespace character from the words, so the only spaces left are the pads
    words = [d.split() for d in docs]
    padded = [" " + "  ".join(w) + " " if w else "" for w in words]
    flat = np.frombuffer("".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    n_words = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    if flat.size == 0:
        return flat, np.zeros(0, np.int64), np.zeros(0, np.int64), len(docs)
    inner = flat != 32
    # word interiors are the runs of non-space code points
    edges = np.diff(np.concatenate([[False], inner, [False]]).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    lengths = ends - starts + 2
    assert int(lengths.sum()) == flat.size  # the padded words tile the array
    word_doc = np.repeat(np.arange(len(docs), dtype=np.int64), n_words)
    return flat, lengths, word_doc, len(docs)


class _Alphabet:
    """Dense ids for the code points of a collection, in code-point order (0 = no character)."""

    def __init__(self, chunks: list[np.ndarray]) -> None:
        present = np.zeros(0x110000, dtype=bool)
        for flat in chunks:
            present[flat] = True
        self.size = int(present.sum())
        self.table = np.full(0x110000, _UNKNOWN, dtype=np.uint64)
        self.table[present] = np.arange(1, self.size + 1, dtype=np.uint64)

    def ids(self, flat: np.ndarray) -> np.ndarray:
        return self.table[flat]


def _keys(
    ids: np.ndarray, lengths: np.ndarray, word_doc: np.ndarray, ngram_range: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Packed key and text of every n-gram occurrence (in no particular order)."""
    lo, hi = ngram_range
    total = ids.size
    padded_ids = np.concatenate([ids, np.zeros(_MAX_N, np.uint64)])
    # characters left in the padded word from each position: an n-gram starts where >= n
    room = np.repeat(np.cumsum(lengths), lengths) - np.arange(total, dtype=np.int64)
    pos_doc = np.repeat(word_doc, lengths)
    keys: list[np.ndarray] = []
    docs: list[np.ndarray] = []
    key = np.zeros(total, dtype=np.uint64)
    for n in range(1, hi + 1):  # the n-gram key at each position extends the (n-1)-gram's
        key |= padded_ids[n - 1 : n - 1 + total] << np.uint64(_BITS * (_MAX_N - n))
        if n >= lo:
            fits = room >= n
            keys.append(key[fits])
            docs.append(pos_doc[fits])
    short = np.flatnonzero(lengths < lo)
    if short.size:  # a padded word shorter than every n counts once, whole
        starts = np.cumsum(lengths) - lengths
        whole = np.zeros(short.size, dtype=np.uint64)
        for j in range(int(lengths[short].max())):
            inside = j < lengths[short]
            whole[inside] |= padded_ids[starts[short][inside] + j] << np.uint64(
                _BITS * (_MAX_N - 1 - j)
            )
        keys.append(whole)
        docs.append(word_doc[short])
    return np.concatenate(keys), np.concatenate(docs)


def _counts(key: np.ndarray, doc: np.ndarray, vocab: "pd.Index", n_docs: int) -> sp.csr_matrix:
    """Per-text n-gram counts over ``vocab`` (sorted keys); keys not in it are dropped."""
    col = vocab.get_indexer(key)  # a hash lookup: ~3x faster than searchsorted here
    return _counts_of_columns(col, doc, len(vocab), n_docs)


def _counts_of_columns(col: np.ndarray, doc: np.ndarray, n_cols: int, n_docs: int) -> sp.csr_matrix:
    known = col >= 0
    x = sp.csr_matrix(
        (np.ones(int(known.sum()), np.float32), (doc[known], col[known])),
        shape=(n_docs, n_cols),
    )
    x.sum_duplicates()  # sorts each row's columns and adds repeated n-grams
    return x


def char_wb_tfidf(
    docs: Sequence[str],
    *,
    ngram_range: tuple[int, int] = (2, 4),
    fit_docs: Sequence[str] | None = None,
    sublinear_tf: bool = True,
) -> sp.csr_matrix | None:
    """``TfidfVectorizer(analyzer="char_wb", lowercase=False, ...).fit(fit_docs).transform(docs)``.

    ``fit_docs`` defaults to ``docs``. Returns L2-normalised float32 CSR rows with sorted
    column indices, or ``None`` when the alphabet is too large for packed keys (the caller then
    uses scikit-learn). The caller ensures the fit texts have at least one n-gram.
    """
    if not supports("char_wb", ngram_range):
        raise ValueError(f"char_wb_tfidf needs 1 <= n <= {_MAX_N}, got {ngram_range}")
    same = fit_docs is None
    fit_docs = docs if fit_docs is None else fit_docs
    fit_chunks = [
        _padded_words(fit_docs[s : s + CHUNK_TEXTS]) for s in range(0, len(fit_docs), CHUNK_TEXTS)
    ]
    alphabet = _Alphabet([c[0] for c in fit_chunks])
    if alphabet.size > MAX_ALPHABET:
        return None

    def keys(chunk: tuple[np.ndarray, np.ndarray, np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
        flat, lengths, word_doc, _ = chunk
        return _keys(alphabet.ids(flat), lengths, word_doc, ngram_range)

    # The first pass factorises each chunk's n-gram keys. While the codes fit in KEPT_BYTES
    # (8 bytes per n-gram occurrence: about 100,000 short texts) they are kept, and the second
    # pass maps each chunk's distinct keys to columns instead of recomputing and looking up
    # every occurrence; further chunks are recomputed (at a million texts all the keys would
    # be ~2.5 GB).
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = []
    kept_bytes = 0
    distinct = []
    for chunk in fit_chunks:
        key, doc = keys(chunk)
        if kept_bytes + 8 * key.size <= KEPT_BYTES:
            codes, uniques = pd.factorize(key)
            kept.append((codes.astype(np.int32), doc.astype(np.int32), uniques))
            kept_bytes += 8 * key.size
            distinct.append(uniques)
        else:
            kept.append(None)
            distinct.append(pd.unique(key))
        del key, doc
    vocab = pd.Index(np.unique(np.concatenate(distinct)))
    del distinct
    df = np.zeros(len(vocab), dtype=np.int64)  # each (text, n-gram) counted once
    fit_counts = []
    for chunk, codes_of in zip(fit_chunks, kept):
        if codes_of is None:
            counts = _counts(*keys(chunk), vocab, int(chunk[3]))
        else:
            codes, doc, uniques = codes_of
            column = vocab.get_indexer(uniques)  # all present: the vocabulary holds them
            counts = _counts_of_columns(column[codes], doc, len(vocab), int(chunk[3]))
        df += np.bincount(counts.indices, minlength=len(vocab))
        if same:
            fit_counts.append(counts)
    del kept
    idf = np.log((1.0 + len(fit_docs)) / (1.0 + df)) + 1.0

    def weigh(counts: sp.csr_matrix) -> sp.csr_matrix:
        data = counts.data.astype(np.float64)
        if sublinear_tf:
            data = np.log(data) + 1.0
        data *= idf[counts.indices]
        row_nnz = np.diff(counts.indptr)
        row_of = np.repeat(np.arange(counts.shape[0]), row_nnz)
        norms = np.sqrt(np.bincount(row_of, weights=data**2, minlength=counts.shape[0]))
        data /= norms[row_of]  # rows without n-grams have no entries to divide
        return sp.csr_matrix((data.astype(np.float32), counts.indices, counts.indptr),
                             shape=counts.shape)

    if same:
        rows = [weigh(c) for c in fit_counts]
    else:
        rows = [
            weigh(_counts(*keys(_padded_words(docs[s : s + CHUNK_TEXTS])), vocab,
                          min(CHUNK_TEXTS, len(docs) - s)))
            for s in range(0, len(docs), CHUNK_TEXTS)
        ]
    del fit_counts
    out = sp.vstack(rows, format="csr") if rows else sp.csr_matrix((0, len(vocab)), dtype=np.float32)
    out.indices = out.indices.astype(np.int32, copy=False)
    out.has_sorted_indices = True  # each chunk's rows were sorted by sum_duplicates
    return out
