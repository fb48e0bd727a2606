"""Name resolution, presets and the errors users see; no model is loaded here."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from neardup.errors import ModelError
from neardup.models import DEFAULT_MODEL, PRESETS, Preset, load_encoder, resolve_model_path
from neardup.models.cache import build_folder_atomically
from neardup.models.presets import find_preset


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEARDUP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_presets() -> None:
    assert DEFAULT_MODEL == "multilingual-e5-small"
    assert set(PRESETS) == {
        "multilingual-e5-small",
        "all-MiniLM-L6-v2",
        "use-multilingual",
        "all-mpnet-base-v2",
    }
    assert "multilingual" in PRESETS[DEFAULT_MODEL].languages
    for alias, name in [
        ("e5-small", "multilingual-e5-small"),
        ("minilm", "all-MiniLM-L6-v2"),
        ("usem3", "use-multilingual"),
        ("mpnet", "all-mpnet-base-v2"),
        ("  MiniLM ", "all-MiniLM-L6-v2"),
    ]:
        preset = find_preset(alias)
        assert preset is not None and preset.name == name
    e5 = PRESETS["multilingual-e5-small"]
    assert isinstance(e5, Preset) and e5.dim == 384
    assert dict(e5.prompts) == {"query": "query: ", "passage": "passage: "}
    with pytest.raises(dataclasses.FrozenInstanceError):
        e5.dim = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        e5.prompts["query"] = "x"  # type: ignore[index]


def test_unknown_name_fails_fast_with_presets() -> None:
    start = time.perf_counter()
    with pytest.raises(ModelError) as info:
        load_encoder("no-such-model-xyz")
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "'no-such-model-xyz'" in message
    for name in PRESETS:
        assert name in message
    assert "HF_HUB_OFFLINE" in message


def test_unreachable_hub_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("huggingface_hub")
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)

    def no_network(*args: object, **kwargs: object) -> None:
        raise ConnectionError("no route to huggingface.co")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", no_network)
    with pytest.raises(ModelError, match="could not be reached.*no route"):
        load_encoder("someone/some-model")


def test_typo_suggests_preset() -> None:
    with pytest.raises(ModelError, match="Did you mean 'all-MiniLM-L6-v2'"):
        load_encoder("minilmm")


def test_missing_path_is_not_sent_to_the_hub(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such folder"):
        load_encoder(str(tmp_path / "missing" / "model"))
    with pytest.raises(ModelError, match="no such folder"):
        resolve_model_path("./not-here")


def test_folder_without_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="neither modules.json nor config.json"):
        load_encoder(tmp_path)
    file = tmp_path / "weights.bin"
    file.write_bytes(b"")
    with pytest.raises(ModelError, match="is a file"):
        load_encoder(file)


def test_use_has_no_folder() -> None:
    with pytest.raises(ModelError, match="numpy"):
        resolve_model_path("usem3")


def test_atomic_build_leaves_nothing_on_failure(tmp_path: Path) -> None:
    final = tmp_path / "cache" / "model"

    def broken(folder: Path) -> None:
        (folder / "half-written").write_text("x")
        raise RuntimeError("crash while converting")

    with pytest.raises(RuntimeError):
        build_folder_atomically(final, broken)
    assert not final.exists()
    assert list(final.parent.iterdir()) == []

    built: list[Path] = []
    result = build_folder_atomically(final, lambda folder: built.append(folder))
    assert result == final and final.is_dir() and len(built) == 1
    build_folder_atomically(final, broken)  # exists: not rebuilt
    assert list(final.parent.iterdir()) == [final]


def test_a_presets_hub_id_offline_points_to_the_preset() -> None:
    with pytest.raises(ModelError) as info:
        load_encoder("sentence-transformers/all-MiniLM-L6-v2")
    assert "Did you mean 'all-MiniLM-L6-v2'" in str(info.value)


@pytest.mark.parametrize("name", [b"minilm", 123, None, ["minilm"]])
def test_a_name_that_is_not_text_is_named(name: object) -> None:
    with pytest.raises(ModelError, match="must be a string or a path, got " + type(name).__name__):
        load_encoder(name)  # type: ignore[arg-type]


def test_a_device_the_machine_lacks_does_not_blame_the_cache() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelError) as info:
        load_encoder("all-MiniLM-L6-v2", device="cuda")
    assert "on device 'cuda'" in str(info.value) and "delete" not in str(info.value)
