"""The numpy char_wb TF-IDF must be scikit-learn's matrix: same columns, same values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from neardup import ngrams
from neardup.scoring import char_ngram_matrix
from neardup.synth import make_near_duplicates
from neardup.text import normalize

TRICKY = [
    "a",  # padded word of 3 characters: shorter than a 4-gram
    "ab cd",
    "",
    "   ",
    "iphone 12 128gb",
    "a b c d e",
    "ёлка ёлка ёлка",  # repeated n-grams: counts, sublinear tf
    "x" * 12,
    "🙂 ok",  # a code point above the BMP
    "tab\tand\nnewline  spaces",
    "東京 タワー",
    "ab",
]


def reference(docs, fit=None, ngram_range=(2, 4), sublinear_tf=True) -> sp.csr_matrix:
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=sublinear_tf,
                          lowercase=False, dtype=np.float32)
    if fit is None:
        x = vec.fit_transform(docs).tocsr()
        x.sort_indices()
        return x
    return vec.fit(fit).transform(docs).tocsr()


def assert_same(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-6)
    assert b.dtype == np.float32


@pytest.mark.parametrize("ngram_range", [(2, 4), (1, 1), (1, 4), (3, 4), (4, 4), (3, 3)])
def test_same_matrix_as_sklearn_on_tricky_texts(ngram_range) -> None:
    got = ngrams.char_wb_tfidf(TRICKY, ngram_range=ngram_range)
    assert_same(reference(TRICKY, ngram_range=ngram_range), got)


def test_same_matrix_without_sublinear_tf() -> None:
    got = ngrams.char_wb_tfidf(TRICKY, sublinear_tf=False)
    assert_same(reference(TRICKY, sublinear_tf=False), got)


def test_transform_with_other_fit_texts_drops_unknown_ngrams_and_characters() -> None:
    fit = ["ab cd", "ёлка", "iphone 13"]
    # "abz" holds a character the fit texts lack: its n-grams must not alias "ab"'s
    docs = ["abz", "ab", "zzz", "iphone 12"]
    assert_same(reference(docs, fit), ngrams.char_wb_tfidf(docs, fit_docs=fit))
    assert_same(reference(TRICKY, fit), ngrams.char_wb_tfidf(TRICKY, fit_docs=fit))


@pytest.mark.parametrize("kept_bytes", [0, 1_500_000, ngrams.KEPT_BYTES])  # ~1 MB a chunk
def test_same_matrix_on_a_generated_collection_spanning_chunks(monkeypatch, kept_bytes) -> None:
    """Several chunks, one partial; their n-gram codes all kept, some kept (the rest
    recomputed) or none kept."""
    monkeypatch.setattr(ngrams, "CHUNK_TEXTS", 700)
    monkeypatch.setattr(ngrams, "KEPT_BYTES", kept_bytes)
    docs = [normalize(t) for t in make_near_duplicates(2_000, seed=3).texts]
    assert_same(reference(docs), ngrams.char_wb_tfidf(docs))
    assert_same(reference(docs[:900], docs[900:]), ngrams.char_wb_tfidf(docs[:900], fit_docs=docs[900:]))


def test_large_alphabet_falls_back_to_sklearn() -> None:
    docs = ["".join(chr(0x10000 + i + j) for j in range(3)) for i in range(0, 66_000, 3)]
    assert ngrams.char_wb_tfidf(docs) is None  # more distinct characters than packed keys hold
    assert_same(reference(docs), char_ngram_matrix(docs, normalize_text=False))


def test_unsupported_settings_are_refused() -> None:
    assert not ngrams.supports("char", (2, 4))
    assert not ngrams.supports("char_wb", (2, 5))
    with pytest.raises(ValueError, match="1 <= n <= 4"):
        ngrams.char_wb_tfidf(["abc"], ngram_range=(2, 5))


def test_scorer_matrix_matches_sklearn_on_normalised_text() -> None:
    texts = ["iPhone 12 128GB", "iphone 12, 128 gb", "Ёлка", "", "Samsung  S21"]
    got = char_ngram_matrix(texts)
    assert_same(reference([normalize(t) for t in texts]), got)
