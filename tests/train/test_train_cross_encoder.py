"""Cross-encoder training on tiny data the tests write, from the tiny BERT of tiny_models.py."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("datasets")

from neardup.cli.main import main
from neardup.errors import InputError, ModelError
from neardup.evaluate.data import PairData
from neardup.rerank import MANIFEST, load_reranker
from neardup.train import cross_encoder as ce
from neardup.train.cross_encoder import (
    CrossEncoderOptions,
    load_labelled_pairs,
    mine_hard_negatives,
    split_pairs,
    train_cross_encoder,
)

from fakes import TrigramEncoder

WORDS = "new old phone case cable charger laptop shoes shirt bag watch book price sale".split()


def colour_pairs(n: int = 24, seed: int = 0) -> pd.DataFrame:
    """Pairs whose label a 2-layer BERT can learn in a few steps: both texts say "red" (1) or
    both say "blue" (0). Tests the training loop, not duplicate semantics."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        for label, colour in ((1, "red"), (0, "blue")):
            a = rng.sample(WORDS, 3) + [colour]
            b = rng.sample(WORDS, 3) + [colour]
            rng.shuffle(a)
            rng.shuffle(b)
            rows.append((" ".join(a), " ".join(b), label))
    return pd.DataFrame(rows, columns=["text1", "text2", "label"])


@pytest.fixture
def base(tiny_st_model: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_st_model, tmp_path / "base"))


@pytest.fixture
def pairs_csv(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.csv"
    colour_pairs().to_csv(path, index=False)
    return path


FAST = dict(epochs=4.0, batch_size=8, learning_rate=1e-2, warmup=0.0, swap_augment=False,
            threads=1)


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace the training step: errors must come before it; calls are recorded."""
    calls: list[dict] = []

    def fake_fit(base_path, texts_a, texts_b, targets, dev, opts, device, show_progress):
        calls.append({"a": texts_a, "b": texts_b, "y": targets, "dev": dev})
        raise RuntimeError("training started")

    monkeypatch.setattr(ce, "_fit", fake_fit)
    return calls


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def test_training_lowers_the_loss_raises_dev_ap_and_saves_a_loadable_reranker(
    base: Path, pairs_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reranker"
    # a gentler rate for longer: at FAST's 1e-2 the loss fell this much for 2 of 5 seeds only
    # (checked over seeds 0-4: this setting lowers it from 0.70 to 0.13-0.23 for all five)
    options = CrossEncoderOptions(**{**FAST, "learning_rate": 3e-3, "epochs": 12.0})
    result = train_cross_encoder(pairs_csv, out, base_model=base, options=options)

    losses = [p.loss for p in result.losses]
    assert len(losses) == result.steps >= 8
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.05
    assert result.evals[0].step == 0  # the untrained cross-encoder is measured too
    best = max(e.ap for e in result.evals)
    assert best > result.evals[0].ap + 0.1
    # the saved model is the best evaluation's weights, calibrated with the same scoring
    assert result.trained.ap == pytest.approx(best, abs=1e-9)
    # AP saturates at 1.0 here; ties go to the lower dev loss (the better-separated model)
    assert result.best_step == max(result.evals, key=lambda e: (e.ap, -e.loss)).step
    assert result.best_step > min(e.step for e in result.evals if e.ap == best)
    assert result.baseline is not None and 0 <= result.baseline.ap <= 1
    assert result.n_dev_pairs + result.n_train_pairs == 48
    assert result.seconds_per_step > 0

    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["threshold"] == pytest.approx(result.threshold)
    assert manifest["base_model"] == str(base)
    assert manifest["options"]["learning_rate"] == 3e-3
    assert manifest["dev_metrics"]["ap"] == pytest.approx(result.trained.ap)
    assert manifest["baseline_metrics"]["ap"] == pytest.approx(result.baseline.ap)
    assert manifest["training_seconds"] > 0

    reranker = load_reranker(out)
    assert reranker.default_threshold == pytest.approx(result.threshold)
    frame = colour_pairs(6, seed=1)
    scores = reranker.score(frame["text1"].tolist(), frame["text2"].tolist())
    assert scores.dtype == np.float32 and ((scores >= 0) & (scores <= 1)).all()
    # it learnt the rule on unseen pairs
    from neardup.evaluate.metrics import average_precision

    assert average_precision(frame["label"].to_numpy(), scores) > 0.9

    # a re-ranker makes no embeddings: refused as --model
    from neardup.models import load_encoder

    with pytest.raises(ModelError, match="cross-encoder"):
        load_encoder(str(out))
    # retraining replaces the whole folder: nothing of the earlier one survives
    (out / "stale.txt").write_text("from before")
    train_cross_encoder(pairs_csv, out, base_model=base,
                        options=CrossEncoderOptions(**{**FAST, "epochs": 1.0}))
    assert not (out / "stale.txt").exists() and (out / MANIFEST).is_file()


def test_freezing_embeddings_trains_fewer_weights(base: Path, pairs_csv: Path, tmp_path: Path) -> None:
    opts = CrossEncoderOptions(**{**FAST, "epochs": 0.2}, freeze_embeddings=True)
    frozen = train_cross_encoder(pairs_csv, tmp_path / "f", base_model=base, options=opts,
                                 baseline=False)
    vocab = json.loads((base / "config.json").read_text())["vocab_size"]
    assert frozen.n_parameters - frozen.n_trainable_parameters == vocab * 32
    assert frozen.baseline is None


def test_progress_in_a_log_file_is_a_line_per_dev_evaluation(
    base: Path, pairs_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opts = CrossEncoderOptions(**{**FAST, "epochs": 0.5}, eval_steps=2)
    result = train_cross_encoder(pairs_csv, tmp_path / "p", base_model=base, options=opts,
                                 baseline=False, show_progress=True)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ": dev AP " in ln]
    assert len(lines) == len([e for e in result.evals if e.step > 0]) >= 2
    assert lines[0].startswith("step 2/") and "s a step" in lines[0]


def test_bf16_training_runs_in_bfloat16_and_saves_float32(
    base: Path, pairs_csv: Path, tmp_path: Path, linear_dtypes: list, saved_weight_dtypes
) -> None:
    import torch

    opts = CrossEncoderOptions(**{**FAST, "epochs": 0.2}, bf16=True)
    result = train_cross_encoder(pairs_csv, tmp_path / "b", base_model=base, options=opts,
                                 baseline=False)
    assert torch.bfloat16 in linear_dtypes
    assert saved_weight_dtypes(result.output) == {np.dtype(np.float32)}
    scores = load_reranker(result.output).score(["red shoes"], ["red bag"])
    assert np.isfinite(scores).all()


def test_split_keeps_each_distinct_pair_on_one_side_and_is_seeded() -> None:
    frame = colour_pairs(20)
    # the first pair again, swapped and with different case: the same pair
    t1, t2 = frame.loc[0, "text1"], frame.loc[0, "text2"]
    frame.loc[len(frame)] = (t2.upper(), t1, frame.loc[0, "label"])
    data = PairData(frame["text1"].tolist(), frame["text2"].tolist(),
                    frame["label"].to_numpy(), "binary")
    train, dev = split_pairs(data, dev_fraction=0.25, seed=3)
    assert sorted(np.concatenate([train, dev]).tolist()) == list(range(len(frame)))
    last = len(frame) - 1
    assert (0 in dev) == (last in dev)
    assert set(np.asarray(data.labels)[dev].tolist()) == {0, 1}
    again, _ = split_pairs(data, dev_fraction=0.25, seed=3)
    other, _ = split_pairs(data, dev_fraction=0.25, seed=4)
    assert again.tolist() == train.tolist() and other.tolist() != train.tolist()
    # the file sorted the other way round: the same pairs in dev
    back = frame.iloc[::-1].reset_index(drop=True)
    reversed_data = PairData(back["text1"].tolist(), back["text2"].tolist(),
                             back["label"].to_numpy(), "binary")
    _, dev_back = split_pairs(reversed_data, dev_fraction=0.25, seed=3)
    pairs_in = lambda d, rows: sorted(  # noqa: E731
        tuple(sorted((d.texts1[i].lower(), d.texts2[i].lower()))) for i in rows.tolist())
    assert pairs_in(reversed_data, dev_back) == pairs_in(data, dev)


def test_mined_negatives_skip_known_duplicates_and_labelled_pairs() -> None:
    texts1 = ["blue cotton shirt size m", "blue cotton shirt size m", "red leather bag"]
    texts2 = ["blue cotton shirt size M!", "blue coton shirt size m", "blue cotton shirts"]
    # "blue cotton shirts" is labelled 0 with the bag only; it is the shirts' nearest
    # non-duplicate, so it is their hard negative
    data = PairData(texts1, texts2, np.array([1, 1, 0]), "binary")
    negatives = mine_hard_negatives(data, TrigramEncoder(dim=256), 1)
    assert negatives == [("blue cotton shirt size m", "blue cotton shirts")]
    # with more wanted than exist, only non-duplicates, never the anchor's own group
    more = mine_hard_negatives(data, TrigramEncoder(dim=256), 5)
    group = {"blue cotton shirt size m", "blue cotton shirt size M!", "blue coton shirt size m"}
    assert all(a == "blue cotton shirt size m" and b not in group for a, b in more)
    assert {b for _, b in more} == {"blue cotton shirts", "red leather bag"}


def test_swapped_pairs_and_mined_negatives_reach_the_trainer(
    base: Path, pairs_csv: Path, tmp_path: Path, no_training: list[dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the random tiny BERT puts every text at cosine ~1, so the margin rule (rightly) finds no
    # negative; a trigram encoder separates them
    monkeypatch.setattr(ce, "_bi_encoder", lambda name, path, device: TrigramEncoder(dim=256))
    # on these random-word pairs the margin rule finds a negative for few anchors, and for
    # some splits none: seed 1's training side has two (counted below with the same function)
    opts = CrossEncoderOptions(hard_negatives=1, swap_augment=True, dev_fraction=0.25, seed=1)
    with pytest.raises(RuntimeError, match="training started"):
        train_cross_encoder(pairs_csv, tmp_path / "m", base_model=base, options=opts)
    frame = pd.read_csv(pairs_csv)
    data = PairData(frame["text1"].tolist(), frame["text2"].tolist(), frame["label"].to_numpy(),
                    "binary")
    train_rows, _ = split_pairs(data, dev_fraction=0.25, seed=1)
    expected = mine_hard_negatives(ce._subset(data, train_rows), TrigramEncoder(dim=256), 1)
    call = no_training[0]
    n_dev = len(call["dev"])
    n_train = 48 - n_dev
    n = len(call["y"]) // 2
    assert call["a"][:n] == call["b"][n:] and call["b"][:n] == call["a"][n:]
    assert call["y"][:n] == call["y"][n:]
    n_mined = n - n_train
    assert 0 < n_mined == len(expected) <= 24  # at most one per distinct positive anchor
    assert call["y"][n_train:n] == [0.0] * n_mined
    assert not (tmp_path / "m").exists()


# --------------------------------------------------------------------------------------------
# Bad input: a clear error, before any training
# --------------------------------------------------------------------------------------------


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".jsonl"):
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    return path


@pytest.mark.parametrize(
    ("edit", "name", "pattern"),
    [
        (lambda f: f.drop(columns="text2"), "bad.csv", r"no column 'text2'.*text2_col"),
        (lambda f: f.assign(label=["1", "0", "2"] + f["label"].astype(str).tolist()[3:]),
         "bad.tsv", r"row 3 .*column 'label': label '2' is not 0 or 1"),
        (lambda f: f.assign(label=[1, "maybe"] + f["label"].tolist()[2:]),
         "bad.jsonl", r"row 2 .*label 'maybe' is not 0 or 1"),
        (lambda f: f.assign(text1=["", *f["text1"].tolist()[1:]]), "bad.jsonl",
         r"row 1 .*column 'text1': the text is empty"),
        (lambda f: f.head(0), "bad.csv", r"no data rows"),
        (lambda f: f.head(10), "bad.csv", r"only 10 distinct pairs"),
        (lambda f: f[f["label"] == 1], "bad.csv", r"only 0 distinct pairs have label 0"),
        (lambda f: pd.concat([f, f.head(1).assign(label=0)]), "bad.csv",
         r"rows 1 and 49 .*same pair of texts with labels 1 and 0"),
    ],
    ids=["missing-column", "label-2", "label-word", "empty-text", "header-only", "too-few",
         "one-class", "conflict"],
)
def test_bad_pairs_files_fail_before_training(
    tmp_path: Path, base: Path, no_training: list[dict], edit, name: str, pattern: str
) -> None:
    path = _write(tmp_path, edit(colour_pairs()), name)
    with pytest.raises(InputError, match=pattern):
        train_cross_encoder(path, tmp_path / "out", base_model=base)
    assert no_training == [] and not (tmp_path / "out").exists()


def test_empty_file_and_label_column_override(tmp_path: Path, no_training: list[dict]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        train_cross_encoder(empty, tmp_path / "out")
    frame = colour_pairs().rename(columns={"text1": "q", "text2": "d", "label": "dup"})
    data = load_labelled_pairs(_write(tmp_path, frame), text1_col="q", text2_col="d",
                               label_col="dup")
    assert len(data) == 48 and data.labels.dtype == np.int64


@pytest.mark.parametrize(
    ("base_model", "pattern"),
    [
        ("no-such-model-xyz", r"cannot be found offline.*never downloads"),
        ("folder-without-config", r"has no config.json"),
    ],
)
def test_unresolvable_base_model_fails_before_training(
    tmp_path: Path, pairs_csv: Path, no_training: list[dict], base_model: str, pattern: str
) -> None:
    if base_model.startswith("folder"):
        (tmp_path / base_model).mkdir()
        base_model = str(tmp_path / base_model)
    with pytest.raises(ModelError, match=pattern):
        train_cross_encoder(pairs_csv, tmp_path / "out", base_model=base_model)
    assert no_training == []


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        (dict(epochs=0), "epochs must be > 0"),
        (dict(batch_size=0), "batch size must be at least 1"),
        (dict(learning_rate=2.0), r"learning rate must lie in \(0, 1\)"),
        (dict(warmup=1.5), "warm-up must be"),
        (dict(max_length=4), "max length must be at least 8"),
        (dict(dev_fraction=1.0), r"--dev-fraction must lie in \(0, 1\)"),
        (dict(device="bogus"), r"unknown device 'bogus'"),
        (dict(negatives_model="x"), "hard negatives are off"),
        (dict(device="cuda:7"), "sees no CUDA GPU"),
    ],
)
def test_bad_options_fail_before_training(
    tmp_path: Path, pairs_csv: Path, base: Path, no_training: list[dict], options: dict,
    pattern: str,
) -> None:
    if options.get("device", "").startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            pytest.skip("a GPU is present")
    with pytest.raises(InputError, match=pattern):
        train_cross_encoder(pairs_csv, tmp_path / "out", base_model=base,
                            options=CrossEncoderOptions(**options))
    assert no_training == []


def test_cli_reports_bad_labels_with_row_and_exit_code_2(
    tmp_path: Path, base: Path, no_training: list[dict], capsys: pytest.CaptureFixture[str]
) -> None:
    frame = colour_pairs()
    frame.loc[4, "label"] = 7
    path = _write(tmp_path, frame)
    code = main(["train", "cross-encoder", str(path), "-o", str(tmp_path / "out"),
                 "--base-model", str(base), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "row 5" in err and "label '7' is not 0 or 1" in err
    assert no_training == []


def test_foreign_output_folder_is_refused_and_max_length_capped(
    base: Path, pairs_csv: Path, tmp_path: Path, no_training: list[dict]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text("{}")
    with pytest.raises(InputError, match="not a re-ranker written by"):
        train_cross_encoder(pairs_csv, mine, base_model=base, options=CrossEncoderOptions(**FAST))
    assert (mine / "config.json").read_text() == "{}"
    assert not no_training  # refused before any training step
    # a max length beyond the model's position embeddings is not refused up front (it is cut
    # to them inside training: test_check_max_length_caps_at_the_position_embeddings)
    with pytest.raises(RuntimeError, match="training started"):
        train_cross_encoder(pairs_csv, tmp_path / "m", base_model=base,
                            options=CrossEncoderOptions(**{**FAST, "max_length": 100000}))
    assert no_training[0]["y"] is not None


def test_check_max_length_caps_at_the_position_embeddings() -> None:
    from types import SimpleNamespace as NS

    from neardup.train.base_model import check_max_length

    bert = NS(config=NS(max_position_embeddings=512, model_type="bert"))
    xlmr = NS(config=NS(max_position_embeddings=514, model_type="xlm-roberta"))
    soft = NS(model_max_length=128)  # sentence-transformers' max_seq_length: a soft default
    assert check_max_length(100000, bert, soft) == 512
    assert check_max_length(100000, xlmr, soft) == 512  # two positions reserved
    assert check_max_length(64, bert, soft) == 64
    # no position embeddings recorded: the tokenizer's limit, unless it is a placeholder
    assert check_max_length(100000, NS(config=NS()), soft) == 128
    assert check_max_length(100000, NS(), NS(model_max_length=int(1e30))) == 100000


def test_a_dev_file_makes_the_dev_fraction_unused(
    tmp_path: Path, pairs_csv: Path, base: Path, no_training: list[dict]
) -> None:
    with pytest.raises(RuntimeError, match="training started"):  # got past the checks
        train_cross_encoder(pairs_csv, tmp_path / "out", base_model=base, dev=pairs_csv,
                            options=CrossEncoderOptions(dev_fraction=0.0))
