"""Re-ranking: loading trained folders, the pre-filter, and the dedup pipeline's rerank stage."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pytest

from neardup.cli.main import main
from neardup.dedup import Deduplicator
from neardup.errors import InputError, ModelError
from neardup.pairs import Pairs
from neardup.rerank import MANIFEST, Reranker, load_reranker, select_for_rerank

from fakes import TrigramEncoder

WORDS = "new old phone case cable charger laptop shoes shirt bag watch book price sale".split()


@dataclass
class ColourReranker:
    """A stand-in re-ranker: pairs where both texts say "red" are duplicates."""

    name: str = "fake-colour"
    threshold: float | None = 0.5
    calls: list[int] = field(default_factory=list)

    @property
    def default_threshold(self) -> float | None:
        return self.threshold

    def score(self, texts_a: Sequence[str], texts_b: Sequence[str], *, batch_size: int = 32,
              show_progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts_a))
        return np.array([0.9 if "red" in a and "red" in b else 0.1
                         for a, b in zip(texts_a, texts_b)], dtype=np.float32)


# Lexically, 0-3 are all near-copies; the re-ranker links 0-1 only, and 4-5 (lexically far
# apart) only through it.
TEXTS = [
    "red phone case leather new",      # 0
    "red phone case lether new",       # 1
    "blue phone case leather new",     # 2
    "blue phone case lether new",      # 3
    "red charger",                     # 4
    "laptop bag red",                  # 5
    "old book for sale",               # 6
]


def _groups(result) -> set[frozenset[str]]:
    return {frozenset(g) for g in result.groups()}


# --------------------------------------------------------------------------------------------
# The pre-filter and the pipeline, with a stand-in re-ranker
# --------------------------------------------------------------------------------------------


def test_select_for_rerank_keeps_floor_and_top_k_and_counts_the_cap() -> None:
    pairs = Pairs.from_arrays(np.array([0, 0, 0, 1, 2]), np.array([1, 2, 3, 2, 3]),
                              np.array([0.9, 0.5, 0.05, 0.1, 0.02]))
    keep, below, over = select_for_rerank(pairs, floor=0.4, top_k=0, max_pairs=None)
    assert keep.tolist() == [True, True, False, False, False] and (below, over) == (3, 0)
    # top-1 per text adds each text's best pair: 3's best is (0, 3) at 0.05
    keep, below, over = select_for_rerank(pairs, floor=0.4, top_k=1, max_pairs=None)
    assert keep.tolist() == [True, True, True, False, False] and below == 2
    keep, below, over = select_for_rerank(pairs, floor=0.4, top_k=1, max_pairs=2)
    assert keep.tolist() == [True, True, False, False, False] and (below, over) == (2, 1)
    with pytest.raises(InputError, match=r"top_k \(--rerank-top-k\) must be 0 or more"):
        select_for_rerank(pairs, floor=0.4, top_k=-1, max_pairs=None)


def test_dedup_links_on_reranker_scores_only() -> None:
    reranker = ColourReranker()
    assert isinstance(reranker, Reranker)
    result = Deduplicator(TrigramEncoder(dim=128), rerank=reranker, cluster="components",
                          rerank_floor=0.0).deduplicate(TEXTS)
    assert _groups(result) == {frozenset({"0", "1", "4", "5"})}
    assert result.threshold.value == 0.5 and result.threshold.source == "reranker"
    np.testing.assert_allclose(result.pairs.score, 0.9)
    stats = result.rerank
    assert stats is not None and stats.model == "fake-colour"
    assert stats.n_scored == sum(reranker.calls) == stats.n_candidates == result.n_candidates
    assert "rerank" in result.timings


def test_pairs_outside_the_prefilter_are_not_reranked_nor_linked() -> None:
    reranker = ColourReranker()
    dd = Deduplicator(None, rerank=reranker, cluster="components", rerank_floor=0.6,
                      rerank_top_k=0)
    result = dd.deduplicate(TEXTS)
    # only the lexical near-copies pass a floor of 0.6; 4-5 is never re-ranked, so not linked
    assert _groups(result) == {frozenset({"0", "1"})}
    stats = result.rerank
    assert stats.n_scored == sum(reranker.calls) >= 2 and stats.n_below_floor > 0
    assert stats.n_scored + stats.n_below_floor == stats.n_candidates


def test_max_pairs_cap_is_warned_and_counted() -> None:
    dd = Deduplicator(None, rerank=ColourReranker(), rerank_floor=0.0, rerank_max_pairs=1,
                      cluster="components")
    with pytest.warns(UserWarning, match=r"re-ranking the 1 best of \d+ candidate pairs"):
        result = dd.deduplicate(TEXTS)
    stats = result.rerank
    assert stats.n_scored == 1 and stats.n_over_limit == stats.n_candidates - 1
    # only the best first-stage pair was re-ranked: linked if the stand-in says so
    first = Deduplicator(None).candidate_graph(TEXTS)
    best = int(np.argmax(first.scored.score))
    a, b = (first.collapsed.texts[first.scored.left[best]],
            first.collapsed.texts[first.scored.right[best]])
    expected = {frozenset({str(TEXTS.index(a)), str(TEXTS.index(b))})} if "red" in a + b else set()
    assert ("red" in a) == ("red" in b)
    assert _groups(result) == expected


def test_rerank_threshold_and_configuration_errors(tmp_path: Path) -> None:
    high = Deduplicator(None, rerank=ColourReranker(), rerank_threshold=0.95, rerank_floor=0.0)
    result = high.deduplicate(TEXTS)
    assert result.threshold.source == "user" and result.groups() == []
    with pytest.raises(InputError, match="give it as rerank_threshold"):
        Deduplicator(None, threshold=0.5, rerank=ColourReranker()).deduplicate(TEXTS)
    with pytest.raises(InputError, match="not a re-ranker folder"):
        Deduplicator(None, rerank=tmp_path).deduplicate(TEXTS)
    with pytest.raises(InputError, match="carries no calibrated threshold"):
        Deduplicator(None, rerank=ColourReranker(threshold=None)).deduplicate(TEXTS)
    with pytest.raises(InputError, match=r"rerank threshold must lie in \(0, 1\]"):
        Deduplicator(None, rerank=ColourReranker(), rerank_threshold=0).deduplicate(TEXTS)


def test_find_leaks_links_on_reranker_scores() -> None:
    test = ["red phone case lether new", "blue phone case lether new", "laptop bag red"]
    train = ["red phone case leather new", "blue phone case leather new", "red charger"]
    leaks = Deduplicator(None, rerank=ColourReranker(), rerank_floor=0.0).find_leaks(test, train)
    assert leaks.is_leaked.tolist() == [True, False, True]
    assert leaks.rerank is not None and leaks.threshold.source == "reranker"


# --------------------------------------------------------------------------------------------
# A folder trained through the CLI
# --------------------------------------------------------------------------------------------


def colour_pairs(n: int, seed: int) -> pd.DataFrame:
    """Pairs a 2-layer BERT learns in a few steps: both texts say "red" (1) or "blue" (0)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        for label, colour in ((1, "red"), (0, "blue")):
            a, b = rng.sample(WORDS, 3) + [colour], rng.sample(WORDS, 3) + [colour]
            rng.shuffle(a)
            rng.shuffle(b)
            rows.append((" ".join(a), " ".join(b), label))
    return pd.DataFrame(rows, columns=["text1", "text2", "label"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_st_model: Path) -> Path:
    pytest.importorskip("datasets")
    root = tmp_path_factory.mktemp("rerank")
    base = Path(shutil.copytree(tiny_st_model, root / "base"))
    data = root / "pairs.jsonl"
    colour_pairs(24, seed=0).to_json(data, orient="records", lines=True)
    folder = root / "reranker"
    code = main(["train", "cross-encoder", str(data), "-o", str(folder), "--base-model",
                 str(base), "--epochs", "2", "--batch-size", "8", "--lr", "1e-2", "--warmup",
                 "0", "--no-swap", "--threads", "1", "--quiet"])
    assert code == 0
    return folder


def test_trained_folder_scores_are_probabilities_and_symmetric(trained: Path) -> None:
    reranker = load_reranker(trained)
    manifest = json.loads((trained / MANIFEST).read_text())
    assert reranker.default_threshold == pytest.approx(manifest["threshold"])
    assert reranker.symmetric is manifest["symmetric"] is True
    frame = colour_pairs(5, seed=2)
    a, b = frame["text1"].tolist(), frame["text2"].tolist()
    ab, ba = reranker.score(a, b, batch_size=3), reranker.score(b, a, batch_size=7)
    assert ab.shape == (10,) and ((ab >= 0) & (ab <= 1)).all()
    np.testing.assert_allclose(ab, ba, atol=1e-6)
    assert ab[frame["label"] == 1].min() > ab[frame["label"] == 0].max()

    with pytest.warns(UserWarning, match="calibrated with symmetric=True"):
        one_way = load_reranker(trained, symmetric=False)
    forward, backward = one_way.score(a, b), one_way.score(b, a)
    assert np.abs(forward - backward).max() > 1e-6  # a cross-encoder alone is not symmetric
    np.testing.assert_allclose((forward + backward) / 2, ab, atol=1e-6)


def test_dedup_with_a_trained_folder_links_pairs_at_or_above_its_threshold(trained: Path) -> None:
    texts = [" ".join(t) for t in (["red", "phone", "case"], ["phone", "case", "red"],
                                   ["blue", "phone", "case"], ["case", "blue", "phone"],
                                   ["red", "bag", "sale"], ["old", "watch", "blue"])]
    dd = Deduplicator(None, rerank=trained, cluster="components", rerank_floor=0.0)
    graph = dd.candidate_graph(texts)
    threshold = load_reranker(trained).default_threshold
    scored, uniques = graph.scored, graph.collapsed.texts
    assert len(scored) == graph.rerank.n_scored > 0
    expected = load_reranker(trained).score([uniques[i] for i in scored.left],
                                            [uniques[i] for i in scored.right])
    np.testing.assert_allclose(scored.score, expected, atol=1e-6)
    result = dd.deduplicate(texts)
    assert result.threshold.value == pytest.approx(threshold)
    linked = {frozenset((texts[a], texts[b]))
              for a, b in zip(result.pairs.left.tolist(), result.pairs.right.tolist())}
    passing = {frozenset((uniques[a], uniques[b]))
               for a, b, s in zip(scored.left.tolist(), scored.right.tolist(),
                                  scored.score.tolist()) if s >= threshold}
    assert linked == passing and linked  # components: exactly the pairs that pass
    assert all(s >= threshold for s in result.pairs.score.tolist())


def test_load_reranker_errors_name_the_folder(tmp_path: Path, trained: Path) -> None:
    with pytest.raises(ModelError, match=r"does not exist.*neardup train cross-encoder"):
        load_reranker(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelError, match="is a file"):
        load_reranker(tmp_path / "file")
    with pytest.raises(ModelError, match=r"no neardup_reranker.json"):
        load_reranker(tmp_path)
    broken = Path(shutil.copytree(trained, tmp_path / "broken"))
    manifest = json.loads((broken / MANIFEST).read_text())
    (broken / MANIFEST).write_text(json.dumps({**manifest, "threshold": 3}))
    with pytest.raises(ModelError, match=r"'threshold' must be a number in \[0, 1\], got 3"):
        load_reranker(broken)
    (broken / MANIFEST).write_text("{not json")
    with pytest.raises(ModelError, match="unreadable re-ranker manifest"):
        load_reranker(broken)
    (broken / MANIFEST).write_text(json.dumps(manifest))
    (broken / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="cannot load the cross-encoder"):
        load_reranker(broken)


def test_cli_dedup_rerank_end_to_end(trained: Path, tmp_path: Path, capsys) -> None:
    rows = [("p1", "red phone case"), ("p2", "phone case red"), ("p3", "blue phone case"),
            ("p4", "case blue phone"), ("p5", "old watch")]
    src = tmp_path / "items.csv"
    pd.DataFrame(rows, columns=["sku", "title"]).to_csv(src, index=False)
    out = tmp_path / "out"
    code = main(["dedup", str(src), "--text", "title", "--id", "sku", "-o", str(out),
                 "--model", "none", "--method", "components", "--rerank", str(trained),
                 "--rerank-floor", "0", "--quiet"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((trained / MANIFEST).read_text())
    assert summary["threshold_source"] == "reranker"
    assert summary["threshold"] == pytest.approx(manifest["threshold"])
    assert summary["rerank"]["pairs_scored"] > 0 and summary["rerank"]["model"] == str(trained)
    assert "rerank" in summary["timings_s"]
    pairs = pd.read_csv(out / "pairs.csv")
    assert (pairs["score"] >= manifest["threshold"] - 1e-6).all()
    assert "re-ranked" in capsys.readouterr().out

    code = main(["dedup", str(src), "--text", "title", "-o", str(out), "--model", "none",
                 "--threshold", "0.5", "--rerank", str(trained), "--quiet"])
    assert code == 2
    assert "--rerank-threshold" in capsys.readouterr().err


def test_candidate_count_is_the_first_stage_count_when_reranking() -> None:
    dd = Deduplicator(None, rerank=ColourReranker(), cluster="components", rerank_floor=0.6,
                      rerank_top_k=0)
    result = dd.deduplicate(TEXTS)
    assert result.rerank.n_scored < result.rerank.n_candidates
    assert result.n_candidates == result.rerank.n_candidates == len(
        Deduplicator(None).candidate_graph(TEXTS).scored)


@pytest.mark.parametrize("option", [dict(rerank_threshold=0.9), dict(rerank_max_pairs=5),
                                    dict(rerank_floor=0.1), dict(rerank_top_k=1)])
def test_rerank_options_without_a_reranker_are_refused(option) -> None:
    from neardup.errors import InputError

    with pytest.raises(InputError, match="no re-ranker is given"):
        Deduplicator(None, **option).deduplicate(TEXTS)


@dataclass
class _BadReranker:
    """Returns ``value`` for every pair (a broken custom re-ranker)."""

    value: float
    name: str = "bad"
    default_threshold: float | None = 0.5

    def score(self, texts_a, texts_b, *, batch_size=32, show_progress=False):
        return np.full(len(texts_a), self.value, dtype=np.float32)


@pytest.mark.parametrize("value", [float("nan"), 7.5, -3.0])
@pytest.mark.parametrize("cluster", ["components", "agglomerative"])
def test_reranker_scores_outside_probabilities_are_refused(value, cluster) -> None:
    dd = Deduplicator(None, rerank=_BadReranker(value), rerank_floor=0.0, cluster=cluster)
    with pytest.raises(InputError, match=r"re-ranker 'bad' gave \d+ of \d+ pairs a score "
                                         r"outside \[0, 1\]"):
        dd.deduplicate(TEXTS)


def test_reranker_options_and_attributes_are_checked_with_names() -> None:
    with pytest.raises(InputError, match=r"max_pairs \(--rerank-max-pairs\) must be a whole number.*10.0"):
        Deduplicator(None, rerank=ColourReranker(), rerank_max_pairs=10.0).deduplicate(TEXTS)

    class Bare:  # no name, no default_threshold
        def score(self, texts_a, texts_b, *, batch_size=32, show_progress=False):
            return np.full(len(texts_a), 0.9, dtype=np.float32)

    with pytest.raises(InputError, match="carries no calibrated threshold"):
        Deduplicator(None, rerank=Bare(), rerank_floor=0.0).deduplicate(TEXTS)
    result = Deduplicator(None, rerank=Bare(), rerank_floor=0.0,
                          rerank_threshold=0.5).deduplicate(TEXTS)
    assert result.rerank.model == "Bare"


def test_score_pairs_with_a_reranker_gives_copies_one() -> None:
    dd = Deduplicator(None, rerank=ColourReranker())
    scores = dd.score_pairs(["Blue phone, case", "blue phone case"], ["blue phone case!", "x"])
    assert scores[0] == 1.0 and scores[1] == pytest.approx(0.1)
