import math

import numpy as np
import pytest

from neardup import _threads
from neardup.candidates.lexical import char_tfidf, project_tfidf
from neardup.scoring import char_ngram_similarity, embedding_similarity
from neardup.synth import make_near_duplicates


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
@pytest.mark.parametrize("total", [1, 999, 100_000, 255_701, 1_000_003])
def test_even_chunks_stay_under_the_cap_and_give_every_thread_as_many(
    monkeypatch: pytest.MonkeyPatch, workers: int, total: int
) -> None:
    monkeypatch.setattr(_threads, "cpu_count", lambda: workers)
    size = _threads.even_chunk(total, 100_000, 4_096)
    chunks = math.ceil(total / size)
    assert size <= 100_000
    if total >= workers * 4_096:
        assert chunks % workers == 0
        # near-equal: the last chunk is short by less than one item per chunk
        assert total - (chunks - 1) * size > size - chunks
    else:
        assert size == 4_096 or chunks == 1


def test_pair_scores_and_projection_do_not_depend_on_the_thread_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = make_near_duplicates(3_000, seed=3).texts
    x = char_tfidf(texts)
    rng = np.random.default_rng(0)
    left = rng.integers(0, len(texts), 20_000)
    right = rng.integers(0, len(texts), 20_000)
    emb = rng.standard_normal((len(texts), 16)).astype(np.float32)
    results = []
    for workers in (1, 2, 3):
        monkeypatch.setattr(_threads, "cpu_count", lambda w=workers: w)
        results.append((char_ngram_similarity(texts, left, right, matrix=x),
                        embedding_similarity(emb, left, right), project_tfidf(x)))
    for got in results[1:]:
        for a, b in zip(results[0], got):
            np.testing.assert_array_equal(a, b)
