"""The dev metric of positive-pair training must not reward retrieving a query for itself."""

from __future__ import annotations

import pytest

from neardup.train.data import PositivePairs
from neardup.train.st_evaluator import _retrieval
from tests.fakes import TrigramEncoder

PAIRS = [
    ("the cat sat on the mat", "a cat sits on the mat"),
    ("stock markets fell sharply today", "stock market falls sharply"),
    ("new phone released with better camera", "new phone launch: better camera"),
    ("heavy rain floods the city centre", "city centre flooded after heavy rain"),
]


def test_symmetric_pairs_do_not_retrieve_the_query_itself() -> None:
    # pairs given both ways, as for duplicate questions: every query is also a document
    queries = [a for a, _ in PAIRS] + [b for _, b in PAIRS]
    positives = [b for _, b in PAIRS] + [a for a, _ in PAIRS]
    result = _retrieval(PositivePairs(queries, positives), TrigramEncoder(), 8)
    # the trigram encoder puts each text's paraphrase first once the text itself is skipped;
    # counting the text itself would give recall@1 = 0 and MRR@10 = 0.5
    assert result["recall@1"] == pytest.approx(1.0)
    assert result["mrr@10"] == pytest.approx(1.0)


def test_one_way_pairs_with_negatives_still_rank_the_positive_first() -> None:
    queries = [a for a, _ in PAIRS]
    positives = [b for _, b in PAIRS]
    negatives = positives[1:] + positives[:1]
    result = _retrieval(PositivePairs(queries, positives, negatives), TrigramEncoder(), 8)
    assert result["recall@1"] == pytest.approx(1.0)


def test_group_dev_threshold_reproduces_its_row_f1() -> None:
    import numpy as np

    from neardup.cluster import agglomerative
    from neardup.evaluate.metrics import cluster_metrics
    from neardup.pairs import Pairs
    from neardup.train.st_evaluator import group_metrics

    class Fixed:  # identical vectors for two texts of different groups
        name, dim = "fixed", 3
        vectors = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0.05], [0, 0, 1]],
                           np.float32)

        def encode(self, texts, *, kind="passage", batch_size=32, show_progress=False):
            return self.vectors[[int(t) for t in texts]]

    labels = np.array([0, 1, 2, 2, 3])
    result = group_metrics(Fixed(), [str(i) for i in range(5)], labels)
    emb = Fixed.vectors / np.linalg.norm(Fixed.vectors, axis=1, keepdims=True)
    sims = emb @ emb.T
    i, j = np.triu_indices(5, 1)
    keep = sims[i, j] > 0
    pairs = Pairs.from_arrays(i[keep], j[keep], sims[i, j][keep])
    linked = agglomerative(5, pairs, threshold=result["row_f1_threshold"])
    assert cluster_metrics(labels, linked).row_f1 == pytest.approx(result["row_f1"])
