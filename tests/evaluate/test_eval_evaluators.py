"""Evaluators with a tiny bag-of-characters encoder (no neural model)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pytest

from neardup.errors import InputError
from neardup.evaluate import (
    ClusterEvaluator,
    EmbeddingEvaluator,
    PairEvaluator,
    RetrievalEvaluator,
    average_precision,
    ndcg_at_k,
    top_k_inner_product,
)
from neardup.models.base import Encoder

ALPHABET = "abcdefghijklmnopqrstuvwxyz"


class CharEncoder:
    """Letter counts, L2-normalised. Records every call to check kinds and deduplication."""

    name = "chars"
    dim = len(ALPHABET)

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: str = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        self.calls.append((kind, list(texts)))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                if ch in ALPHABET:
                    out[i, ALPHABET.index(ch)] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def test_fake_encoder_is_an_encoder() -> None:
    assert isinstance(CharEncoder(), Encoder)


# --- pairs -------------------------------------------------------------------------------------

T1 = ["ab", "ab", "ab", "ab"]
T2 = ["ab", "aab", "ac", "cd"]
# cosines with "ab" = (1, 1)/sqrt2: "ab" 1; "aab" (2,1)/sqrt5 -> 3/sqrt10; "ac" 1/2; "cd" 0


def test_pair_evaluator_binary() -> None:
    enc = CharEncoder()
    ev = PairEvaluator(T1, T2, [1, 0, 1, 0])
    res = ev(enc)
    assert ev.primary_metric == res.primary_metric == "cosine_ap"
    # ranking by cosine: pos, neg, pos, neg -> AP (1 + 2/3) / 2
    assert res["cosine_ap"] == pytest.approx(5 / 6)
    assert res.primary_score == pytest.approx(5 / 6)
    assert res["cosine_f1"] == pytest.approx(0.8)
    assert res["cosine_f1_threshold"] == pytest.approx(0.5)
    assert set(res) >= {"cosine_precision", "cosine_recall", "cosine_accuracy",
                        "cosine_accuracy_threshold"}
    # each distinct text encoded once, with the symmetric prompt dedup compares texts with
    assert enc.calls == [("query", ["ab", "aab", "ac", "cd"])]
    assert res.as_record()["primary_metric"] == "cosine_ap"


def test_pair_evaluator_graded_and_name_prefix() -> None:
    res = PairEvaluator(T1, T2, [5.0, 4.0, 2.5, 0.0], name="sts")(CharEncoder())
    assert res.primary_metric == "sts_spearman_cosine"
    assert res["sts_spearman_cosine"] == pytest.approx(1.0)
    assert -1 <= res["sts_pearson_cosine"] <= 1


def test_pair_evaluator_custom_scorer_and_given_threshold() -> None:
    def scorer(a: list[str], b: list[str], encoder: Encoder) -> np.ndarray:
        assert a == T1 and b == T2
        return np.array([0.9, 0.8, 0.7, 0.1])

    res = PairEvaluator(T1, T2, [1, 0, 1, 0], scorer=scorer, threshold=0.75)(None)
    assert res.primary_metric == "score_ap"
    assert res["score_ap"] == pytest.approx(5 / 6)
    assert (res["score_f1"], res["score_f1_threshold"]) == pytest.approx((0.8, 0.7))
    assert res["score_given_f1"] == pytest.approx(0.5)
    bad = PairEvaluator(T1, T2, [1, 0, 1, 0], scorer=lambda a, b, e: np.zeros(3))
    with pytest.raises(ValueError, match="one score per pair"):
        bad(None)


def test_pair_evaluator_input_errors() -> None:
    with pytest.raises(InputError, match="no pair is labelled 1"):
        PairEvaluator(["a"], ["b"], [0])
    with pytest.raises(ValueError, match="one label per pair"):
        PairEvaluator(["a"], ["b"], [0, 1])
    with pytest.raises(TypeError, match="needs an encoder"):
        PairEvaluator(["a"], ["b"], [1])(None)


# --- retrieval ---------------------------------------------------------------------------------

CORPUS = {"d1": "aaaa", "d2": "bbbb", "d3": "abab", "d4": "cccc"}
QUERIES = {"q1": "aaa", "q2": "bbb", "q3": "zzz", "q4": "ccc"}
QRELS = {"q1": {"d1": 1}, "q2": {"d2": 1, "d3": 1}, "q3": {"d4": 0}, "q4": {"d3": 1}}


def test_retrieval_evaluator() -> None:
    enc = CharEncoder()
    ev = RetrievalEvaluator(CORPUS, QUERIES, QRELS, ks=(1, 10))
    ranked = ev.search(enc)
    assert list(ranked) == ["q1", "q2", "q4"]  # q3 has nothing relevant
    assert ranked["q1"][:2] == ["d1", "d3"]
    assert ranked["q4"][0] == "d4"  # "ccc" vs "abab": cosine 0, d3 ranks below d4
    res = ev(enc)
    assert res.primary_metric == "ndcg@10"
    # q1, q2 perfect; q4's one relevant doc shares no letter: ties at 0 broken by corpus order
    # (d1, d2, d3) -> rank 4 behind d4 -> nDCG 1/log2(5)
    assert res["ndcg@10"] == pytest.approx(ndcg_at_k(ranked, QRELS, 10))
    assert res["ndcg@10"] == pytest.approx((1 + 1 + 1 / math.log2(5)) / 3)
    assert res["precision@1"] == pytest.approx(2 / 3)
    assert res["n_queries"] == 3
    kinds = [k for k, _ in enc.calls[-2:]]
    assert kinds == ["passage", "query"]


def test_retrieval_ignores_identical_ids_like_beir() -> None:
    corpus = {"a": "aaaa", "b": "aaab"}
    qrels = {"a": {"b": 1}}
    res = RetrievalEvaluator(corpus, {"a": "aaaa"}, qrels)(CharEncoder())
    assert res["ndcg@10"] == 1.0  # the query's own document is skipped
    res = RetrievalEvaluator(corpus, {"a": "aaaa"}, qrels, ignore_identical_ids=False)(
        CharEncoder()
    )
    assert res["mrr@10"] == pytest.approx(0.5)


def test_shared_id_numbering_keeps_other_documents_reachable() -> None:
    # queries and documents each numbered from 1: document "1" is not query "1"
    corpus = {"1": "aaab", "2": "cccc"}
    queries = {"1": "aaaa", "2": "cccd"}
    qrels = {"1": {"2": 1}, "2": {"2": 1}}  # query 2's relevant document has its id
    ranked = RetrievalEvaluator(corpus, queries, qrels).search(CharEncoder())
    assert ranked["1"][0] == "1"  # a wrong document, ranked first, counts against query 1
    assert ranked["2"][0] == "2"  # and the relevant one is found
    beir = RetrievalEvaluator(corpus, queries, qrels, ignore_identical_ids=True)
    assert "2" not in beir.search(CharEncoder())["2"]
    with pytest.raises(ValueError, match="ignore_identical_ids"):
        RetrievalEvaluator(corpus, queries, qrels, ignore_identical_ids="yes")


def test_retrieval_blocks_give_the_same_result() -> None:
    big = RetrievalEvaluator(CORPUS, QUERIES, QRELS).search(CharEncoder())
    tiny = RetrievalEvaluator(CORPUS, QUERIES, QRELS, max_block_elements=1).search(CharEncoder())
    assert big == tiny
    with pytest.raises(InputError, match="no text.*'q1'"):
        RetrievalEvaluator(CORPUS, {}, QRELS)


def test_top_k_inner_product_matches_full_sort() -> None:
    rng = np.random.default_rng(4)
    q = rng.integers(0, 3, (13, 4)).astype(np.float32)  # small integers: many ties
    c = rng.integers(0, 3, (50, 4)).astype(np.float32)
    idx, sc = top_k_inner_product(q, c, 7, max_block_elements=120)
    full = q @ c.T
    for i in range(13):
        ref = np.lexsort((np.arange(50), -full[i]))[:7]
        assert idx[i].tolist() == ref.tolist()
        assert sc[i].tolist() == full[i, ref].tolist()


# --- embeddings and clusters -------------------------------------------------------------------


def test_embedding_evaluator() -> None:
    ev = EmbeddingEvaluator(["ab", "cd"], ["ba", "dc"])
    res = ev(CharEncoder())
    assert res["alignment"] == pytest.approx(0.0, abs=1e-6)  # anagrams embed identically
    # 4 distinct texts, 2 distinct vectors: 6 pairs, 2 at distance 0 and 4 at squared
    # distance 2 (orthogonal unit vectors) -> log((2 + 4 exp(-4)) / 6)
    assert res["uniformity"] == pytest.approx(math.log((2 + 4 * math.exp(-4)) / 6), abs=1e-5)
    assert res.primary_metric == "alignment" and res.greater_is_better is False
    # over the given texts only: one pair at squared distance 2 -> log exp(-4) = -4
    res = EmbeddingEvaluator(["ab", "cd"], ["ba", "dc"], uniformity_texts=["ab", "cd"])(
        CharEncoder()
    )
    assert res["uniformity"] == pytest.approx(-4.0, abs=1e-5)


def test_cluster_evaluator() -> None:
    texts = ["apple", "apricot", "banana", "blueberry", "cherry"]
    gold = [0, 0, 1, 1, 2]

    def by_first_two_letters(ts: list[str]) -> np.ndarray:
        keys = [t[:2] for t in ts]
        return np.unique(keys, return_inverse=True)[1]

    res = ClusterEvaluator(texts, gold, by_first_two_letters, name="fruit")()
    # predicted: {apple, apricot}, {banana}, {blueberry}, {cherry}
    # row F1: 1, 1, 2/3, 2/3, 1 -> 13/15
    assert res.primary_metric == "fruit_row_f1"
    assert res["fruit_row_f1"] == pytest.approx(13 / 15)
    assert (res["fruit_pair_precision"], res["fruit_pair_recall"]) == pytest.approx((1.0, 0.5))
    with pytest.raises(ValueError, match="label every text"):
        ClusterEvaluator(texts, gold, lambda ts: np.zeros(2))()


def test_average_precision_is_reexported() -> None:
    assert average_precision([1, 0], [0.2, 0.1]) == 1.0


def test_evaluators_from_loaded_files(tmp_path) -> None:
    import json

    from neardup.evaluate import load_beir, load_groups, load_pairs

    root = tmp_path / "beir"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": d, "title": "", "text": t}) + "\n" for d, t in CORPUS.items())
    )
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in QUERIES.items())
    )
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    res = RetrievalEvaluator.from_data(load_beir(root))(CharEncoder())
    assert res.primary_score == 1.0 and res["n_queries"] == 2

    pairs = tmp_path / "pairs.csv"
    pairs.write_text("text1,text2,label\nab,ab,1\nab,aab,0\nab,ac,1\nab,cd,0\n")
    assert PairEvaluator.from_data(load_pairs(pairs))(CharEncoder())["cosine_ap"] == (
        pytest.approx(5 / 6)
    )
    emb = EmbeddingEvaluator.from_data(load_pairs(pairs))(CharEncoder())
    assert emb["alignment"] == pytest.approx(np.mean([0.0, 2 - 2 * 0.5]))

    groups = tmp_path / "groups.jsonl"
    groups.write_text("".join(json.dumps({"text": t, "label": t[0]}) + "\n"
                              for t in ["ab", "ac", "bd"]))
    res = ClusterEvaluator.from_data(load_groups(groups), lambda ts: np.zeros(len(ts)))()
    # predicted one cluster of 3; true {ab, ac}, {bd}: row F1 = (4/5 + 4/5 + 2/4) / 3
    assert res["row_f1"] == pytest.approx((0.8 + 0.8 + 0.5) / 3)
