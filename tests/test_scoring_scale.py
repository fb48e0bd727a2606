"""The vectorised scoring internals give exactly the numbers of the plain definitions."""

from __future__ import annotations

import numpy as np

from neardup.scoring import (
    char_ngram_matrix,
    digit_tokens,
    number_agreement,
    number_disagreement,
)
from neardup.synth import make_near_duplicates

TEXTS = make_near_duplicates(800, seed=41).texts + ["", "no digits", "12 12 x1", "x1 y2 z3"]


def test_number_features_equal_python_sets() -> None:
    rng = np.random.default_rng(0)
    left = rng.integers(0, len(TEXTS), 5000)
    right = rng.integers(0, len(TEXTS), 5000)
    toks = [digit_tokens(t) for t in TEXTS]
    agree = np.empty(5000, np.float32)
    disagree = np.empty(5000, np.float32)
    for k, (i, j) in enumerate(zip(left.tolist(), right.tolist())):
        a, b = toks[i], toks[j]
        jac = len(a & b) / len(a | b) if (a or b) else 0.0
        agree[k] = 1.0 if not (a or b) else jac
        # as the definition: Jaccard stored as float32 first, then 1 - it in float32
        disagree[k] = np.float32(1.0) - np.float32(jac) if (a and b) else 0.0
    np.testing.assert_array_equal(number_agreement(TEXTS, left, right), agree)
    np.testing.assert_array_equal(number_disagreement(TEXTS, left, right), disagree)
    assert 0 < (disagree > 0).mean() < 1  # the sample has both kinds of pairs


def test_one_pass_tfidf_equals_fit_then_transform() -> None:
    one_pass = char_ngram_matrix(TEXTS)
    two_pass = char_ngram_matrix(TEXTS, fit_texts=TEXTS)
    np.testing.assert_array_equal(one_pass.indptr, two_pass.indptr)
    np.testing.assert_array_equal(one_pass.indices, two_pass.indices)
    np.testing.assert_array_equal(one_pass.data, two_pass.data)
