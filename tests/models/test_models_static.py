"""The static tier: distil the tiny BERT fixture with model2vec, load it, use it everywhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("model2vec")
pytest.importorskip("skeletoken")
pytest.importorskip("transformers")

from neardup.errors import ModelError  # noqa: E402
from neardup.models import load_encoder  # noqa: E402
from neardup.models.base import Encoder  # noqa: E402
from neardup.models.static import (  # noqa: E402
    MANIFEST_FILE,
    DistillResult,
    StaticEncoder,
    distill,
    is_static_folder,
)

TEXTS = [
    "the red phone case",
    "case phone red the",  # the same tokens in another order: a static model cannot tell
    "new black laptop charger",
    "old blue shoes for sale",
    "кошка и собака дома",
    "a green shirt with a white watch",
    "",
    "price 1 2 3",
]


@pytest.fixture(scope="module")
def static_folder(tiny_st_model: Path, tmp_path_factory: pytest.TempPathFactory) -> DistillResult:
    """The tiny model distilled once for this module (hidden size 32, so PCA keeps 32)."""
    return distill(tiny_st_model, tmp_path_factory.mktemp("static") / "tiny-static")


def test_distill_writes_a_model2vec_folder_with_a_manifest(
    static_folder: DistillResult, tiny_st_model: Path
) -> None:
    folder = static_folder.folder
    assert is_static_folder(folder)
    for name in ("config.json", "model.safetensors", "tokenizer.json", MANIFEST_FILE):
        assert (folder / name).is_file(), name
    manifest = json.loads((folder / MANIFEST_FILE).read_text("utf-8"))
    # The tiny model is 32 wide: the default 256 PCA dimensions are capped, and said so.
    assert static_folder.dim == manifest["dim"] == 32
    assert static_folder.pca_dims == manifest["pca_dims"] == 32
    assert manifest["source_model"] == str(tiny_st_model)
    assert manifest["vocab_size"] == static_folder.vocab_size > 100
    assert manifest["distill_seconds"] >= 0
    assert manifest["source_prompts"] == {}
    # Nothing is left beside the output (the staging folder is gone).
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


def test_pca_dims_reduce_the_vectors(tiny_st_model: Path, tmp_path: Path) -> None:
    result = distill(tiny_st_model, tmp_path / "s16", pca_dims=16)
    assert result.dim == 16
    encoder = StaticEncoder(result.folder)
    assert encoder.encode(TEXTS[:2]).shape == (2, 16)


def test_vectors_match_model2vec_after_normalisation(static_folder: DistillResult) -> None:
    from model2vec import StaticModel

    encoder = StaticEncoder(static_folder.folder)
    ours = encoder.encode(TEXTS)
    # model2vec as shipped: float16 table, its own normalisation (in float16 output).
    theirs = StaticModel.from_pretrained(static_folder.folder).encode(TEXTS, normalize=False)
    theirs = theirs.astype(np.float32)
    norms = np.linalg.norm(theirs, axis=1, keepdims=True)
    theirs = np.divide(theirs, norms, out=np.zeros_like(theirs), where=norms > 0)
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), 32)
    assert ours.flags.c_contiguous
    # We average in float32, model2vec in float16: they differ by float16 rounding only.
    np.testing.assert_allclose(ours, theirs, atol=2e-3)
    empty = TEXTS.index("")
    assert not ours[empty].any()  # no token: the zero vector, similar to nothing
    others = np.delete(ours, empty, axis=0)
    np.testing.assert_allclose(np.linalg.norm(others, axis=1), 1.0, atol=1e-5)
    # Bag of tokens: word order does not matter.
    assert float(ours[0] @ ours[1]) == pytest.approx(1.0, abs=1e-5)


def test_encoder_protocol_batches_and_kinds(static_folder: DistillResult) -> None:
    encoder = StaticEncoder(static_folder.folder)
    assert isinstance(encoder, Encoder)
    assert encoder.name == str(static_folder.folder)
    assert encoder.dim == 32
    assert encoder.prompts == {}
    many = [f"{TEXTS[i % len(TEXTS)]} {i % 10}" for i in range(2500)]
    together = encoder.encode(many, batch_size=5000)
    batched = encoder.encode(many, batch_size=7)  # several model2vec batches
    np.testing.assert_array_equal(together, batched)
    single = encoder.encode([many[1234]])
    np.testing.assert_allclose(single[0], together[1234], atol=1e-6)
    # No prompts: the query vectors are the passage vectors.
    np.testing.assert_array_equal(encoder.encode(TEXTS, kind="query"), encoder.encode(TEXTS))
    assert encoder.encode([]).shape == (0, 32)
    with pytest.raises(ValueError, match="kind"):
        encoder.encode(TEXTS, kind="document")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        encoder.encode(TEXTS, batch_size=0)
    with pytest.raises(TypeError, match="wrap a single text"):
        encoder.encode("one text")  # type: ignore[arg-type]


def test_load_encoder_recognises_static_folders(static_folder: DistillResult) -> None:
    folder = static_folder.folder
    encoder = load_encoder(folder)
    assert isinstance(encoder, StaticEncoder)
    assert encoder.name == str(folder)
    suffixed = load_encoder(f"{folder}@static")
    assert isinstance(suffixed, StaticEncoder)
    np.testing.assert_array_equal(suffixed.encode(TEXTS), encoder.encode(TEXTS))


def test_deduplicator_with_a_static_folder(static_folder: DistillResult) -> None:
    from neardup.dedup import Deduplicator

    texts = [t for t in TEXTS if t]
    result = Deduplicator(
        model=str(static_folder.folder), scorer="embedding", candidates=["knn"], threshold=0.999
    ).deduplicate(texts)
    assert result.model == str(static_folder.folder)
    # The reordered copy joins its original; every other text differs by a token or more.
    assert result.labels[0] == result.labels[1]
    assert len(set(result.labels.tolist())) == len(texts) - 1


def test_index_build_search_save_load(static_folder: DistillResult, tmp_path: Path) -> None:
    pytest.importorskip("faiss")
    from neardup.index import Index

    texts = [t for t in TEXTS if t]
    ids = [f"t{i}" for i in range(len(texts))]
    index = Index.build(texts, ids, load_encoder(static_folder.folder))
    hits = index.search("old blue shoes for sale", k=2)[0]
    assert hits[0].id == "t3"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    index.save(tmp_path / "idx")
    # Reopened without an encoder: the manifest's model name loads the static folder again.
    reopened = Index.load(tmp_path / "idx")
    assert isinstance(reopened.encoder, StaticEncoder)
    assert [h.id for h in reopened.search("old blue shoes for sale", k=2)[0]] == [
        h.id for h in hits
    ]


def test_cli_distill_writes_the_folder(tiny_st_model: Path, tmp_path: Path, capsys) -> None:
    from neardup.cli.main import main

    out = tmp_path / "cli-static"
    code = main(["distill", str(tiny_st_model), "--output", str(out), "--pca-dims", "8"])
    assert code == 0
    assert is_static_folder(out)
    assert StaticEncoder(out).dim == 8
    assert str(out) in capsys.readouterr().out
    # A second run refuses to write over it, with exit code 2 and the folder named.
    assert main(["distill", str(tiny_st_model), "--output", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["distill", str(tiny_st_model), "--output", str(tmp_path / "x"),
                 "--pca-dims", "-1"]) == 2


def test_bad_inputs_give_clear_errors(
    static_folder: DistillResult, tiny_st_model: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelError, match="neither a preset nor a folder"):
        distill(missing, tmp_path / "out")
    not_a_model = tmp_path / "notes"
    not_a_model.mkdir()
    (not_a_model / "readme.txt").write_text("hello")
    with pytest.raises(ModelError, match="neither modules.json nor config.json"):
        distill(not_a_model, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written on failure
    with pytest.raises(ModelError, match="already a static model"):
        distill(static_folder.folder, tmp_path / "out")
    with pytest.raises(ModelError, match="pca_dims"):
        distill(tiny_st_model, tmp_path / "out", pca_dims=0)
    with pytest.raises(ModelError, match="sif_coefficient"):
        distill(tiny_st_model, tmp_path / "out", sif_coefficient=2.0)
    with pytest.raises(ModelError, match="does not exist"):
        StaticEncoder(missing)
    with pytest.raises(ModelError, match="not a static"):
        StaticEncoder(tiny_st_model)
    with pytest.raises(ModelError, match="not a static model folder.*neardup distill"):
        load_encoder(f"{tiny_st_model}@static")
    with pytest.raises(ModelError, match="Only transformer presets"):
        load_encoder("use-multilingual@static")
    with pytest.raises(ModelError, match="@static"):
        load_encoder(f"{tiny_st_model}@statik")


def test_broken_static_folder_names_the_folder(
    static_folder: DistillResult, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(static_folder.folder, broken)
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelError, match="broken.*Distil it again"):
        StaticEncoder(broken)
    (broken / MANIFEST_FILE).write_text('{"format": "neardup-static", "format_version": 99}')
    with pytest.raises(ModelError, match="format version 99"):
        StaticEncoder(broken)


def test_texts_outside_the_vocabulary_get_no_shared_vector() -> None:
    import numpy as np

    from neardup.models.static import _silence_word_start_piece

    class Model:  # the parts of model2vec's StaticModel the function touches
        tokens = ["<pad>", "<unk>", "\u2581", "\u2581hello"]
        embedding = np.ones((4, 3), dtype=np.float32)

    model = Model()
    _silence_word_start_piece(model)
    assert not model.embedding[2].any() and model.embedding[3].all()
    other = Model()
    other.tokens = ["[PAD]", "[UNK]", "hello"]  # WordPiece: nothing to do
    other.embedding = np.ones((3, 3), dtype=np.float32)
    _silence_word_start_piece(other)
    assert other.embedding.all()


def test_folders_that_are_not_embedding_models_are_refused(
    static_folder: DistillResult, tiny_st_model: Path, tmp_path: Path
) -> None:
    from neardup.rerank.cross_encoder import MANIFEST as RERANKER_MANIFEST

    reranker = tmp_path / "reranker"
    shutil.copytree(tiny_st_model, reranker)
    (reranker / RERANKER_MANIFEST).write_text("{}")
    with pytest.raises(ModelError, match="is a cross-encoder"):
        distill(reranker, tmp_path / "out")
    # a config.json but no tokenizer or weights: named, not a transformers traceback
    pooling_only = tmp_path / "pooling"
    pooling_only.mkdir()
    (pooling_only / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"Cannot load a tokenizer and transformer from .*pooling"):
        distill(pooling_only, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ModelError, match="no ONNX form: load it as"):
        load_encoder(f"{static_folder.folder}@onnx")


def test_an_output_path_blocked_by_a_file_is_named(tiny_st_model: Path, tmp_path: Path) -> None:
    from neardup.errors import InputError

    (tmp_path / "d1.csv").write_text("x")
    with pytest.raises(InputError, match=r"d1\.csv' is a file, not a folder"):
        distill(tiny_st_model, tmp_path / "d1.csv" / "sub")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="link to .*nowhere.*does not exist"):
        distill(tiny_st_model, tmp_path / "dangling")


def test_a_static_encoder_is_named_by_its_absolute_folder(static_folder: DistillResult,
                                                          monkeypatch) -> None:
    # an index records the name: a relative one would not be found from another directory
    folder = Path(static_folder.folder)
    monkeypatch.chdir(folder.parent)
    encoder = StaticEncoder(folder.name)
    assert encoder.name == str(folder.absolute())
