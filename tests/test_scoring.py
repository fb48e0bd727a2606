"""Unit tests for neardup.scoring on tiny hand-made data (no shared data, no neural model)."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.pairs import Pairs
from neardup.scoring import (
    DefaultPairScorer,
    EmbeddingScorer,
    LexicalScorer,
    PairScorer,
    char_ngram_matrix,
    char_ngram_similarity,
    combine_lift,
    combine_mean,
    digit_tokens,
    embedding_similarity,
    number_agreement,
    number_disagreement,
    rescale_embedding_cosine,
)

TEXTS = [
    "Apple iPhone 12 128GB Black",
    "apple iphone 12 128gb  black!",
    "Apple iPhone 12 64GB Black",
    "Samsung Galaxy S21 Ultra",
    "kaos polos cotton combed 30s",
]


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _emb() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 8))
    base[1] = base[0] + 0.01  # near-identical to row 0
    base[2] = base[0] + 0.3
    return _unit(base)


def test_char_similarity_identical_after_normalisation_is_one() -> None:
    s = char_ngram_similarity(TEXTS, np.array([0]), np.array([1]))
    assert s.dtype == np.float32
    assert s[0] == pytest.approx(1.0, abs=1e-5)


def test_char_similarity_orders_pairs_sensibly() -> None:
    s = char_ngram_similarity(TEXTS, np.array([0, 0, 0]), np.array([2, 3, 4]))
    assert s[0] > s[1] > 0.0
    assert s[0] > s[2]
    assert np.all((s >= 0) & (s <= 1))


def test_char_similarity_matches_dense_cosine() -> None:
    x = char_ngram_matrix(TEXTS)
    dense = (x @ x.T).toarray()
    left = np.array([0, 1, 2, 3])
    right = np.array([4, 3, 0, 2])
    got = char_ngram_similarity(TEXTS, left, right, matrix=x)
    np.testing.assert_allclose(got, dense[left, right], atol=1e-6)


def test_char_similarity_symmetric_and_accepts_pairs_arrays() -> None:
    p = Pairs.from_arrays(np.array([2, 0]), np.array([0, 3]))
    a = char_ngram_similarity(TEXTS, p.left, p.right)
    b = char_ngram_similarity(TEXTS, p.right, p.left)
    np.testing.assert_allclose(a, b, atol=1e-7)


def test_char_similarity_fit_texts_and_empty_pairs() -> None:
    out = char_ngram_similarity(TEXTS, np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert out.shape == (0,)
    s = char_ngram_similarity(TEXTS[:2], [0], [1], fit_texts=TEXTS)
    assert s[0] == pytest.approx(1.0, abs=1e-5)


def test_char_similarity_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="row positions"):
        char_ngram_similarity(TEXTS, np.array([0]), np.array([5]))
    with pytest.raises(ValueError, match="differ in length"):
        char_ngram_similarity(TEXTS, np.array([0, 1]), np.array([2]))


def test_char_similarity_handles_empty_texts() -> None:
    s = char_ngram_similarity(["", "   ", "abc"], np.array([0, 0]), np.array([1, 2]))
    assert np.all(s == 0)


def test_embedding_similarity_is_rowwise_dot() -> None:
    e = _emb()
    left, right = np.array([0, 1, 3]), np.array([1, 2, 4])
    got = embedding_similarity(e, left, right)
    np.testing.assert_allclose(got, np.sum(e[left] * e[right], axis=1), rtol=1e-6)
    assert got.dtype == np.float32


def test_rescale_clips_to_unit_interval() -> None:
    r = rescale_embedding_cosine(np.array([0.5, 0.8, 0.9, 1.0, 1.2]), 0.8, 1.0)
    np.testing.assert_allclose(r, [0, 0, 0.5, 1, 1], atol=1e-6)
    with pytest.raises(ValueError):
        rescale_embedding_cosine(np.array([0.5]), 1.0, 0.8)


def test_digit_tokens_and_number_agreement() -> None:
    assert digit_tokens("iPhone 12 128GB") == frozenset({"12", "128gb"})
    agree = number_agreement(TEXTS, np.array([0, 0, 3, 4]), np.array([1, 2, 4, 4]))
    assert agree[0] == pytest.approx(1.0)
    assert agree[1] == pytest.approx(1 / 3)  # {12,128gb} vs {12,64gb}
    assert agree[2] == pytest.approx(0.0)  # {s21} vs {30s}: disjoint
    both_empty = number_agreement(["abc", "abd"], [0], [1])
    assert both_empty[0] == pytest.approx(1.0)


TRICKY = [
    "iPhone 12 128GB", "v2_beta x86-64 3.5mm", "Телефон Xiaomi 12Т 256ГБ", "a1b c2 d e3f",
    "２５６ＧＢ full-width", "x² super³", "no digits here", "", "٣٤٥ arabic-indic", "12 12 12",
]


def test_digit_tokens_are_the_word_runs_that_hold_a_digit() -> None:
    import re

    from neardup.text import normalize

    for text in TRICKY:
        # without separators between digits, the tokens are the normalised words with a digit
        if re.search(r"\d[.,:/]\d", text):
            continue
        words = re.findall(r"\w+", normalize(text).replace("٣٤٥", "345"))  # digits as ASCII
        assert digit_tokens(text) == frozenset(w for w in words if re.search(r"\d", w)), text
    assert digit_tokens("v2_beta x86-64 3.5mm") == {"v2_beta", "x86", "64", "3.5mm"}
    assert digit_tokens("version 2.") == {"2"}  # a full stop after a number is not a decimal


def test_one_number_written_two_ways_is_one_token() -> None:
    same = [
        ("Population 1,000", "population 1000"), ("1.000.000 rub", "1000000 rub"),
        ("чайник 1,7 л", "чайник 1.7л"), ("on 05.06.2023", "on 05/06/2023"),
        ("٣٤٥ arabic", "345 arabic"), ("low -5 C", "low −5 C"), ("до +5", "до 5"),
    ]
    for a, b in same:
        assert digit_tokens(a) == digit_tokens(b), (a, b)
    different = [("low -5 C", "low 5 C"), ("3.5 mm", "5.3 mm"), ("05/06/2023", "06/05/2023"),
                 ("в 2023 г.", "500 гр")]
    for a, b in different:
        assert digit_tokens(a) != digit_tokens(b), (a, b)
    # the Russian year abbreviation is not grams
    assert digit_tokens("в 2023 г.") == digit_tokens("в 2023 году") == {"2023"}


def test_a_number_apart_from_its_unit_is_the_same_token() -> None:
    # sellers write "500 ml" and "500ml" for the same bottle; the number penalty must not
    # tell them apart, and must still tell 128 GB from 64 GB
    assert digit_tokens("Botol 500 ml") == digit_tokens("botol 500ML") == {"500ml"}
    assert digit_tokens("Вода 1,5 л") == digit_tokens("вода 1,5л") == {"1.5л"}
    assert digit_tokens("iPhone 12 Pro 128 GB") == {"12", "128gb"}
    agree = number_agreement(["ssd 128 gb", "ssd 128gb", "ssd 64 gb"], [0, 0], [1, 2])
    assert agree.tolist() == [1.0, 0.0]
    # words that are not units wherever they follow a number stay apart
    assert digit_tokens("2 in 1, 3 x 4, 10 mls") == {"2", "1", "3", "4", "10"}


@pytest.mark.parametrize(("a", "b"), [
    ("Monitor 3.5 inch black", "Monitor 5.3 inch black"),
    ("Meeting on 05/06/2023 in Berlin", "Meeting on 06/05/2023 in Berlin"),
    ("Flight 10:45 to Paris", "Flight 45:10 to Paris"),
])
def test_swapped_decimals_dates_and_times_disagree(a: str, b: str) -> None:
    assert number_disagreement([a, b], [0], [1])[0] == pytest.approx(1.0)
    assert number_disagreement([a, a.upper()], [0], [1])[0] == 0.0


def test_scores_are_the_same_from_texts_that_carry_their_normalised_forms() -> None:
    from neardup.text import NormalizedTexts, normalize

    texts = TEXTS + TRICKY
    carried = NormalizedTexts(texts, [normalize(t) for t in texts])
    both = NormalizedTexts(texts, [normalize(t) for t in texts],
                           [normalize(t, strip_punctuation=False) for t in texts])
    rng = np.random.default_rng(3)
    left, right = rng.integers(0, len(texts), 60), rng.integers(0, len(texts), 60)
    np.testing.assert_array_equal(number_disagreement(carried, left, right),
                                  number_disagreement(texts, left, right))
    # number tokens read the carried punctuation-kept forms when there are some
    np.testing.assert_array_equal(number_disagreement(both, left, right),
                                  number_disagreement(texts, left, right))
    wrong = NormalizedTexts(["5.5 kg", "5 5 kg"], ["5 5 kg", "5 5 kg"], ["5 5 kg", "5 5 kg"])
    assert number_disagreement(wrong, [0], [1])[0] == 0.0  # read from the carried forms
    assert number_disagreement(["5.5 kg", "5 5 kg"], [0], [1])[0] == 1.0
    plain, fast = DefaultPairScorer(), DefaultPairScorer()
    np.testing.assert_array_equal(fast.score(carried, None, left, right),
                                  plain.score(texts, None, left, right))


def test_number_disagreement_needs_numbers_on_both_sides() -> None:
    d = number_disagreement(TEXTS, np.array([0, 0, 0, 3]), np.array([1, 2, 4, 4]))
    np.testing.assert_allclose(d, [0.0, 2 / 3, 1.0, 1.0], atol=1e-6)
    assert number_disagreement(["kaos polos", "kaos 3 pcs"], [0], [1])[0] == 0.0


def test_default_scorer_formula_on_hand_made_cosines() -> None:
    texts = ["abc def", "abc def", "ghi jkl", "mno pqr"]
    e = np.zeros((4, 2), np.float32)
    e[:, 0] = 1.0
    e[3] = [0.82, np.sqrt(1 - 0.82**2)]  # cos(0, 3) = 0.82 -> rescaled 0
    sc = DefaultPairScorer()
    s = sc.score(texts, e, np.array([0, 0, 0]), np.array([1, 2, 3]))
    # identical text and embedding -> 1; unrelated text with identical embedding: e=1, lex=0
    # -> 1 - 0.1; cos at the lower end of the range with no shared n-grams -> 0
    np.testing.assert_allclose(s, [1.0, 0.9, 0.0], atol=1e-5)


def test_combine_lift_only_raises() -> None:
    lex = np.array([0.9, 0.1, 0.5], np.float32)
    emb = np.array([0.5, 0.6, 0.5], np.float32)
    out = combine_lift(lex, emb, 0.5)
    np.testing.assert_allclose(out, [0.7, 0.6, 0.5], atol=1e-6)
    np.testing.assert_allclose(combine_lift(lex, emb, 1.0), np.maximum(lex, emb))
    np.testing.assert_allclose(
        combine_lift(lex, emb, 0.3, 0.3), combine_mean(lex, emb, 0.3), atol=1e-6
    )
    np.testing.assert_allclose(combine_lift(lex, emb, 0.5, 0.1), [0.7, 0.55, 0.5], atol=1e-6)
    np.testing.assert_allclose(combine_mean(lex, emb, 0.5), (lex + emb) / 2, atol=1e-6)


def test_default_scorer_protocol_and_modes() -> None:
    e = _emb()
    left, right = np.array([0, 0, 3]), np.array([1, 2, 4])
    sc = DefaultPairScorer()
    assert isinstance(sc, PairScorer)
    s = sc.score(TEXTS, e, left, right)
    assert s.dtype == np.float32 and s.shape == (3,)
    assert np.all((s >= 0) & (s <= 1))
    assert s[0] > s[2]
    lex_only = sc.score(TEXTS, None, left, right)
    lex = LexicalScorer().score(TEXTS, None, left, right)
    numdis = number_disagreement(TEXTS, left, right)
    np.testing.assert_allclose(lex_only, np.clip(lex - 0.1 * numdis, 0, 1), atol=1e-6)
    plain = DefaultPairScorer(number_penalty=0.0).score(TEXTS, None, left, right)
    np.testing.assert_allclose(plain, lex, atol=1e-6)
    mean = DefaultPairScorer(combine="mean", weight=0.5).score(TEXTS, e, left, right)
    assert mean.shape == (3,)
    with pytest.raises(ValueError):
        DefaultPairScorer(combine="median")
    with pytest.raises(ValueError, match="embeddings"):
        sc.score(TEXTS, e[:3], left, right)


def test_embedding_scorer() -> None:
    e = _emb()
    sc = EmbeddingScorer()
    np.testing.assert_allclose(
        sc.score(TEXTS, e, np.array([0]), np.array([1])),
        embedding_similarity(e, [0], [1]),
    )
    assert EmbeddingScorer(cosine_range=(0.8, 1.0)).score(TEXTS, e, [0], [1])[0] <= 1.0
    with pytest.raises(ValueError):
        sc.score(TEXTS, None, np.array([0]), np.array([1]))


def test_lexical_scorer_reuses_matrix_for_same_texts() -> None:
    sc = LexicalScorer()
    a = sc.score(TEXTS, None, np.array([0]), np.array([2]))
    b = sc.score(TEXTS, None, np.array([0]), np.array([2]))
    np.testing.assert_array_equal(a, b)
    other = ["x y z", "x y z"]
    assert sc.score(other, None, np.array([0]), np.array([1]))[0] == pytest.approx(1.0, abs=1e-5)


def test_cosine_range_is_recorded_per_model_and_estimated_otherwise() -> None:
    from neardup.scoring import cosine_range_for, estimate_cosine_range

    assert cosine_range_for("multilingual-e5-small") == (0.82, 1.0)
    assert cosine_range_for("multilingual-e5-small@static") == (0.80, 1.0)
    assert cosine_range_for("some/unknown-model") is None
    cos = np.linspace(0.2, 0.9, 101)
    lo, hi = estimate_cosine_range(cos)
    assert hi == 1.0 and lo == pytest.approx(np.percentile(cos, 1))


def test_default_scorer_without_a_recorded_range_spreads_scores() -> None:
    from neardup.scoring import DefaultPairScorer

    rng = np.random.default_rng(0)
    emb = rng.normal(size=(6, 8)).astype(np.float32)
    emb[1] = emb[0] + 0.05 * rng.normal(size=8)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    texts = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    left, right = np.array([0, 0, 2, 3]), np.array([1, 2, 4, 5])
    fixed = DefaultPairScorer(number_penalty=0.0).score(texts, emb, left, right)
    adaptive = DefaultPairScorer(cosine_range=None, number_penalty=0.0).score(texts, emb, left, right)
    # with e5's range every cosine of this toy model is below 0.82 except the near-copy
    assert adaptive[0] == pytest.approx(fixed[0], abs=0.05)
    assert adaptive[1:].max() > fixed[1:].max()


def test_calibrated_cosine_range_maps_the_trained_threshold_where_the_base_one_went() -> None:
    from neardup.scoring import E5_COSINE_RANGE, calibrate_cosine_range

    lo, hi = calibrate_cosine_range(E5_COSINE_RANGE, base_threshold=0.91, trained_threshold=0.55)
    assert hi == 1.0
    # e5's 0.91 sits at (0.91 - 0.82) / 0.18 = 0.5 of its range; the trained 0.55 must too
    assert (0.55 - lo) / (hi - lo) == pytest.approx(0.5)
    assert calibrate_cosine_range(None, 0.91, 0.55) is None
    assert calibrate_cosine_range(E5_COSINE_RANGE, 0.5, 0.55) is None  # base below its range


def test_trained_folder_carries_its_cosine_range(tmp_path) -> None:
    import json

    from neardup.scoring import cosine_range_for

    (tmp_path / "neardup_training.json").write_text(json.dumps({"cosine_range": [0.3, 1.0]}))
    assert cosine_range_for(str(tmp_path)) == (0.3, 1.0)
    (tmp_path / "neardup_training.json").write_text(json.dumps({"cosine_range": None}))
    assert cosine_range_for(str(tmp_path)) is None
    assert cosine_range_for(str(tmp_path / "missing")) is None
    assert cosine_range_for("multilingual-e5-small") == (0.82, 1.0)


def test_estimated_range_needs_enough_cosines() -> None:
    from neardup.scoring import MIN_RANGE_SAMPLE, estimate_cosine_range

    # one pair: its own cosine would be the floor and its embedding evidence zero
    assert estimate_cosine_range(np.array([0.93])) == (0.0, 1.0)
    assert estimate_cosine_range(np.linspace(0.5, 0.9, MIN_RANGE_SAMPLE - 1)) == (0.0, 1.0)
    assert estimate_cosine_range(np.linspace(0.5, 0.9, MIN_RANGE_SAMPLE))[0] > 0.5
