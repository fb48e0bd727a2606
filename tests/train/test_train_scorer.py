"""The learned pair scorer on synthetic product-title pairs the tests write (no neural model)."""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pytest

from neardup.cli.main import main
from neardup.dedup import Deduplicator
from neardup.errors import InputError, ModelError
from neardup.evaluate.metrics import average_precision
from neardup.train.scorer import (
    MANIFEST,
    LearnedPairScorer,
    PairFeatures,
    is_scorer_folder,
    train_pair_scorer,
)

# --------------------------------------------------------------------------------------------
# Synthetic data: product titles; duplicates share the model number, hard negatives share
# everything else
# --------------------------------------------------------------------------------------------

BRANDS = ["Samsung", "Sony", "Canon", "Nikon", "Logitech", "Asus", "Lenovo", "Philips", "Bosch",
          "Garmin", "Dell", "Acer"]
KINDS = ["laptop", "camera", "headphones", "monitor", "mouse", "drill", "watch", "router",
         "speaker", "keyboard"]
COLOURS = ["black", "white", "silver", "blue", "red"]
FILLER = ["new", "original", "genuine", "free shipping", "best price", "official", "sale"]


class FakeEncoder:
    """Deterministic stand-in for a bi-encoder: hashed word tokens, L2-normalised."""

    prompts: dict[str, str] = {}

    def __init__(self, name: str = "fake-words", dim: int = 32) -> None:
        self.name = name
        self.dim = dim

    def encode(self, texts: Sequence[str], *, kind: str = "passage", batch_size: int = 64,
               show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in text.lower().split():
                out[row, zlib.crc32(tok.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=out, where=norms > 0)


def _model_number(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHKLMNPRSTX") for _ in range(2))
    return f"{letters}{rng.randint(100, 999)}"


def _title(brand: str, kind: str, model: str, rng: random.Random) -> str:
    words = [brand, kind, model, rng.choice(COLOURS)]
    if rng.random() < 0.5:
        words.append(rng.choice(FILLER))
    return " ".join(words)


def _variant(title: str, rng: random.Random) -> str:
    words = title.split()
    brand, kind, model = words[0], words[1], words[2]
    rest = [w for w in words[3:] if rng.random() < 0.6]
    if rng.random() < 0.5:
        rest.append(rng.choice(FILLER))
    shown_model = model if rng.random() < 0.6 else model.lower()
    head = [brand, kind, shown_model] if rng.random() < 0.5 else [brand, shown_model, kind]
    out = " ".join(head + rest)
    return out.upper() if rng.random() < 0.15 else out


def make_pairs(n_products: int, seed: int) -> pd.DataFrame:
    """Per product: one duplicate pair, one hard negative (other model number), one easy one."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n_products):
        brand, kind = rng.choice(BRANDS), rng.choice(KINDS)
        model = _model_number(rng)
        title = _title(brand, kind, model, rng)
        rows.append((title, _variant(title, rng), 1))
        other = _model_number(rng)
        rows.append((title, _variant(title.replace(model, other), rng), 0))
        far = _title(rng.choice(BRANDS), rng.choice(KINDS), _model_number(rng), rng)
        rows.append((title, far, 0))
    frame = pd.DataFrame(rows, columns=["text1", "text2", "label"])
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


TRAIN = make_pairs(80, seed=1)  # 240 pairs, 80 positive
TEST = make_pairs(40, seed=2)  # held out: other products, other model numbers


@pytest.fixture(scope="module")
def lexical_scorer() -> LearnedPairScorer:
    return LearnedPairScorer().fit(TRAIN.text1.tolist(), TRAIN.text2.tolist(), TRAIN.label)


@pytest.fixture(scope="module")
def embedding_scorer() -> LearnedPairScorer:
    return LearnedPairScorer(model="logistic", calibration="sigmoid").fit(
        TRAIN.text1.tolist(), TRAIN.text2.tolist(), TRAIN.label.to_numpy(), encoder=FakeEncoder()
    )


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------


def test_features_are_the_documented_ones() -> None:
    texts = ["Sony camera AB123 16GB", "sony AB123 camera 16gb!", "Sony camera AB124 32GB", "ab"]
    f = PairFeatures()
    x = f.transform(texts, None, [0, 0, 3], [1, 2, 3])
    row = dict(zip(f.names, x[0]))
    assert row["word_jaccard"] == pytest.approx(1.0)  # same token set after normalisation
    assert row["digit_jaccard"] == pytest.approx(1.0) and row["both_digits"] == 1.0
    assert row["number_disagreement"] == 0.0
    assert row["char_tfidf_cosine"] > 0.8
    hard = dict(zip(f.names, x[1]))
    assert hard["digit_jaccard"] == 0.0 and hard["number_disagreement"] == 1.0
    assert hard["length_ratio"] == pytest.approx(1.0)
    same_short = dict(zip(f.names, x[2]))  # a text shorter than 3 characters is its own 3-gram
    assert same_short["char3_jaccard"] == 1.0
    with_emb = PairFeatures(use_embeddings=True)
    emb = FakeEncoder().encode(texts)
    assert with_emb.names[0] == "embedding_cosine"
    assert with_emb.transform(texts, emb, [0], [1]).shape == (1, len(f.names) + 1)
    assert f.transform(texts, None, [], []).shape == (0, len(f.names))


# --------------------------------------------------------------------------------------------
# Fitting and scoring
# --------------------------------------------------------------------------------------------


def test_learned_scorer_ranks_held_out_pairs(lexical_scorer: LearnedPairScorer) -> None:
    scores = lexical_scorer.score_pairs(TEST.text1.tolist(), TEST.text2.tolist())
    assert scores.dtype == np.float32 and scores.shape == (len(TEST),)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert average_precision(TEST.label, scores) > 0.95
    s = lexical_scorer
    assert s.name == "learned" and s.model_name_ is None and s.embedding_dim_ is None
    assert 0.0 < s.default_threshold <= 1.0 and s.default_threshold == s.threshold_
    assert s.dev_metrics_["n_pairs"] == 48 and s.dev_metrics_["ap"] > 0.9
    # the held-out threshold separates the held-out test pairs too
    pred = scores >= s.threshold_
    f1 = 2 * np.sum(pred & (TEST.label == 1)) / (pred.sum() + (TEST.label == 1).sum())
    assert f1 > 0.85


def test_learned_scorer_with_an_encoder(embedding_scorer: LearnedPairScorer) -> None:
    enc = FakeEncoder()
    s = embedding_scorer
    assert s.model_name_ == "fake-words" and s.embedding_dim_ == 32
    assert s.feature_names_[0] == "embedding_cosine"
    scores = s.score_pairs(TEST.text1.tolist(), TEST.text2.tolist(), encoder=enc)
    assert average_precision(TEST.label, scores) > 0.95
    texts = TEST.text1.tolist()[:4]
    with pytest.raises(ModelError, match="dim 16"):
        s.score(texts, FakeEncoder(dim=16).encode(texts), np.array([0]), np.array([1]))
    with pytest.raises(InputError, match="fake-words"):
        s.score(texts, None, np.array([0]), np.array([1]))
    with pytest.raises(ModelError, match="other-model"):
        s.check_encoder(FakeEncoder(name="other-model"))


# --------------------------------------------------------------------------------------------
# Persistence
# --------------------------------------------------------------------------------------------


def test_save_load_round_trip(lexical_scorer, embedding_scorer, tmp_path: Path) -> None:
    texts = TEST.text1.tolist() + TEST.text2.tolist()
    left = np.arange(len(TEST))
    right = left + len(TEST)
    emb = FakeEncoder().encode(texts)
    for scorer, embeddings in ((lexical_scorer, None), (embedding_scorer, emb)):
        folder = tmp_path / scorer.model
        scorer.save(folder)
        assert is_scorer_folder(folder) and is_scorer_folder(str(folder))
        loaded = LearnedPairScorer.load(folder)
        np.testing.assert_array_equal(
            loaded.score(texts, embeddings, left, right),
            scorer.score(texts, embeddings, left, right),
        )
        assert loaded.threshold_ == scorer.threshold_
        assert loaded.model_name_ == scorer.model_name_
        manifest = json.loads((folder / MANIFEST).read_text())
        assert manifest["features"] == scorer.feature_names_
        assert manifest["model"] == scorer.model
        assert manifest["training_size"] == len(TRAIN)
        assert manifest["encoder"] == scorer.model_name_
        assert set(manifest["dev_metrics"]) >= {"ap", "f1", "threshold"}
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging
    assert not is_scorer_folder(tmp_path) and not is_scorer_folder("default")
    with pytest.raises(ModelError, match="not a learned scorer folder"):
        LearnedPairScorer.load(tmp_path)


# --------------------------------------------------------------------------------------------
# Dedup with a learned scorer
# --------------------------------------------------------------------------------------------

COLLECTION = [
    "Sony camera KX410 black",              # 0 group A
    "sony KX410 camera black original",     # 1 group A
    "SONY CAMERA KX410",                    # 2 group A
    "Sony camera KX417 black",              # 3 hard negative of A
    "Bosch drill PT220 blue",               # 4 group B
    "Bosch PT220 drill blue free shipping",  # 5 group B
    "Bosch drill PT290 blue",               # 6 hard negative of B
    "Garmin watch MN555 silver",            # 7
]
GROUPS = {frozenset({"0", "1", "2"}), frozenset({"4", "5"})}


def test_dedup_with_a_loaded_scorer(lexical_scorer, embedding_scorer, tmp_path: Path) -> None:
    folder = tmp_path / "scorer"
    lexical_scorer.save(folder)
    for scorer in (LearnedPairScorer.load(folder), str(folder)):
        dd = Deduplicator(None, scorer=scorer, cluster="agglomerative")
        result = dd.deduplicate(COLLECTION)
        assert {frozenset(g) for g in result.groups()} == GROUPS
        assert result.threshold.source == "scorer"
        assert result.threshold.value == pytest.approx(lexical_scorer.threshold_)
        assert result.scorer == "learned"
    # a user threshold still wins
    result = Deduplicator(None, scorer=str(folder), threshold=0.999).deduplicate(COLLECTION)
    assert result.threshold.source == "user"
    # scored pairs through the same entry point as the evaluate command
    pairs = Deduplicator(None, scorer=str(folder)).score_pairs(COLLECTION[:2], COLLECTION[1:3])
    assert pairs.shape == (2,)

    emb_folder = tmp_path / "scorer-emb"
    embedding_scorer.save(emb_folder)
    result = Deduplicator(FakeEncoder(), scorer=str(emb_folder)).deduplicate(COLLECTION)
    assert {frozenset(g) for g in result.groups()} == GROUPS
    with pytest.raises(InputError, match="trained with embeddings"):
        Deduplicator(None, scorer=str(emb_folder)).deduplicate(COLLECTION)
    with pytest.raises(ModelError, match="other-model"):
        Deduplicator(FakeEncoder(name="other-model"), scorer=str(emb_folder)).deduplicate(
            COLLECTION
        )
    with pytest.raises(InputError, match="unknown scorer"):
        Deduplicator(None, scorer=str(tmp_path / "nothing")).deduplicate(COLLECTION)


# --------------------------------------------------------------------------------------------
# Training from a file, bad input
# --------------------------------------------------------------------------------------------


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_train_pair_scorer_reports_both_scorers(tmp_path: Path) -> None:
    data = _write(TRAIN, tmp_path / "pairs.csv")
    report = train_pair_scorer(data, model_name=FakeEncoder(), classifier="logistic",
                               output=tmp_path / "out")
    assert report.n_pairs == len(TRAIN) and report.n_positive == 80 and report.n_dev == 48
    assert report.model_name == "fake-words"
    assert [name for name, _ in report.rows()][1] == "default (zero-shot)"
    assert report.learned.ap > 0.9
    assert report.cosine is not None
    assert report.learned.threshold == report.scorer.threshold_
    assert is_scorer_folder(tmp_path / "out")
    assert json.dumps(report.as_dict())


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda f: f.assign(label=f.label.where(f.index != 7, 2)), r"row 8.*'2'|row 8.*\b2\b"),
        (lambda f: f.assign(label=f.label.astype(object).where(f.index != 3, "maybe")),
         "row 4.*'maybe'"),
        (lambda f: f.assign(label=0), "every pair has label 0"),
        (lambda f: f.head(12), "only 12 labelled pairs"),
        (lambda f: pd.concat([f[f.label == 0], f[f.label == 1].head(3)]),
         "only 3 pairs have label 1"),
        # row 5 repeated with its texts swapped and the other label
        (lambda f: pd.concat([f, f.iloc[[4]].assign(text1=f.text2.iloc[4], text2=f.text1.iloc[4],
                                                    label=1 - int(f.label.iloc[4]))],
                             ignore_index=True),
         "rows 5 and .* same pair of texts with labels"),
    ],
    ids=["label-2", "label-text", "one-class", "too-few", "few-positives", "contradiction"],
)
def test_bad_training_input(tmp_path: Path, mutate, match: str) -> None:
    data = _write(mutate(TRAIN.copy()), tmp_path / "pairs.csv")
    with pytest.raises(InputError, match=match):
        train_pair_scorer(data, model_name=None)


def test_fit_names_a_bad_label() -> None:
    labels = TRAIN.label.tolist()
    labels[5] = 0.5
    with pytest.raises(InputError, match="pair 5 is 0.5"):
        LearnedPairScorer().fit(TRAIN.text1.tolist(), TRAIN.text2.tolist(), labels)
    with pytest.raises(InputError, match="unknown classifier 'svm'"):
        LearnedPairScorer(model="svm").fit(TRAIN.text1.tolist(), TRAIN.text2.tolist(),
                                           TRAIN.label)


# --------------------------------------------------------------------------------------------
# CLI end to end
# --------------------------------------------------------------------------------------------


def test_cli_train_then_dedup(tmp_path: Path, capsys) -> None:
    data = _write(TRAIN.rename(columns={"text1": "a", "text2": "b", "label": "dup"}),
                  tmp_path / "pairs.csv")
    scorer_dir = tmp_path / "scorer"
    code = main(["train", "scorer", str(data), "--output", str(scorer_dir), "--model", "none",
                 "--text1", "a", "--text2", "b", "--label", "dup", "--classifier", "gbdt"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "learned (gbdt)" in printed and "default (zero-shot)" in printed
    assert is_scorer_folder(scorer_dir)

    items = tmp_path / "items.csv"
    pd.DataFrame({"sku": [f"s{i}" for i in range(len(COLLECTION))], "title": COLLECTION}).to_csv(
        items, index=False
    )
    out = tmp_path / "out"
    code = main(["dedup", str(items), "--text", "title", "--id", "sku", "--output", str(out),
                 "--scorer", str(scorer_dir), "--model", "none", "--quiet"])
    assert code == 0
    clusters = pd.read_csv(out / "clusters.csv", dtype=str)
    cluster_of = dict(zip(clusters["id"], clusters["cluster_id"]))
    assert cluster_of["s0"] == cluster_of["s1"] == cluster_of["s2"]
    assert cluster_of["s4"] == cluster_of["s5"]
    assert len({cluster_of[s] for s in ("s0", "s3", "s4", "s6", "s7")}) == 5
    summary = json.loads((out / "summary.json").read_text())
    assert summary["threshold_source"] == "scorer" and summary["scorer"] == "learned"

    # bad labels through the CLI: exit 2 with the value named, nothing written
    bad = TRAIN.copy()
    bad.loc[3, "label"] = 7
    code = main(["train", "scorer", str(_write(bad, tmp_path / "bad.csv")), "--output",
                 str(tmp_path / "never"), "--model", "none"])
    assert code == 2
    assert "'7'" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()
    # the built-in scorers still work
    assert main(["dedup", str(items), "--text", "title", "--output", str(tmp_path / "lex"),
                 "--scorer", "lexical", "--model", "none", "--threshold", "0.5", "-q"]) == 0


@pytest.mark.parametrize("fraction", [1e-6, 0.999])
def test_dev_fraction_that_cannot_split_fails_before_the_model_loads(tmp_path: Path,
                                                                      fraction: float) -> None:
    data = _write(TRAIN.copy(), tmp_path / "pairs.csv")
    # a model name that cannot load: the split must be refused before anyone tries
    with pytest.raises(InputError, match="hold out|holding out"):
        train_pair_scorer(data, model_name="no-such-model-anywhere", dev_fraction=fraction)


def test_held_out_split_keeps_a_repeated_pair_on_one_side() -> None:
    from neardup.train.scorer import held_out_split, pair_groups

    rng = np.random.default_rng(0)
    left = rng.integers(0, 40, size=200)
    right = (left + rng.integers(1, 40, size=200)) % 40
    # every third row repeats an earlier pair with its texts swapped
    left[::3], right[::3] = right[1::3][: left[::3].size], left[1::3][: left[::3].size]
    y = (rng.random(200) < 0.3).astype(np.int64)
    groups = pair_groups(left, right)
    y = y[np.unique(groups, return_index=True)[1]][groups]  # one label per distinct pair
    train, dev = held_out_split(y, 0.2, 0, 3, groups=groups)
    assert set(groups[train]).isdisjoint(groups[dev])
    assert len(train) + len(dev) == 200 and set(y[dev]) == {0, 1}


def test_an_output_that_cannot_be_written_fails_before_the_model_loads(tmp_path: Path) -> None:
    data = _write(TRAIN.copy(), tmp_path / "pairs.csv")
    with pytest.raises(InputError, match="it is a file"):
        train_pair_scorer(data, model_name="no-such-model-anywhere", output=data)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "readme.txt").write_text("mine")
    with pytest.raises(InputError, match="not a scorer written by"):
        train_pair_scorer(data, model_name="no-such-model-anywhere", output=other)


class _RetrainedEncoder(FakeEncoder):
    """The same name and dimension as FakeEncoder, other weights (a model retrained in place)."""

    def encode(self, texts: Sequence[str], **kwargs) -> np.ndarray:
        out = super().encode(texts, **kwargs)
        return np.roll(out, 1, axis=1)


def test_a_model_retrained_under_the_same_name_is_noticed(tmp_path: Path) -> None:
    data = _write(TRAIN, tmp_path / "pairs.csv")
    train_pair_scorer(data, model_name=FakeEncoder(), classifier="logistic",
                      output=tmp_path / "scorer")
    scorer = LearnedPairScorer.load(tmp_path / "scorer")
    scorer.check_encoder(FakeEncoder())  # the same vectors: fine
    with pytest.raises(ModelError, match="embeds probe texts differently"):
        scorer.check_encoder(_RetrainedEncoder())


def test_a_small_training_set_does_not_give_a_constant_scorer() -> None:
    # 45 pairs: with scikit-learn's 20 rows per leaf no calibration fold could split, every
    # pair got one score and dedup linked every candidate
    small = make_pairs(15, seed=3)
    scorer = LearnedPairScorer().fit(small.text1.tolist(), small.text2.tolist(), small.label)
    scores = scorer.score_pairs(TEST.text1.tolist(), TEST.text2.tolist())
    assert np.unique(scores).size > 1
    assert average_precision(TEST.label.to_numpy(), scores) > 0.8


def test_pairs_equal_after_normalisation_stay_on_one_side_of_the_split() -> None:
    from neardup.train.data import pair_key

    base = TRAIN.head(60)
    loud = pd.DataFrame({"text1": base.text1.str.upper(), "text2": base.text2.str.upper() + " !",
                         "label": base.label})
    both = pd.concat([base, loud], ignore_index=True)
    scorer = LearnedPairScorer().fit(both.text1.tolist(), both.text2.tolist(), both.label)
    keys = [pair_key(a, b) for a, b in zip(both.text1, both.text2)]
    dev = set(scorer.dev_index_.tolist())
    assert {keys[i] for i in dev}.isdisjoint({keys[i] for i in range(len(keys)) if i not in dev})


def test_fit_refuses_a_pair_labelled_both_ways() -> None:
    flipped = TRAIN.head(10).assign(label=lambda f: 1 - f.label)
    both = pd.concat([TRAIN, flipped], ignore_index=True)
    with pytest.raises(InputError, match="same pair of texts with labels"):
        LearnedPairScorer().fit(both.text1.tolist(), both.text2.tolist(), both.label)


def test_a_scorer_folder_given_as_a_path(lexical_scorer: LearnedPairScorer, tmp_path: Path) -> None:
    folder = tmp_path / "scorer"
    lexical_scorer.save(folder)
    texts = TEST.text1.tolist()[:20] + TEST.text2.tolist()[:20]
    by_path = Deduplicator(None, scorer=folder, show_progress=False).deduplicate(texts)
    by_name = Deduplicator(None, scorer=str(folder), show_progress=False).deduplicate(texts)
    assert by_path.labels.tolist() == by_name.labels.tolist()
    assert by_path.threshold.source == "scorer"
