"""`neardup export`: an ONNX folder that loads as --model and reproduces the torch vectors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from neardup.cli.main import main

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture()
def model(tiny_st_model: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_st_model, tmp_path / "tiny"))


def test_export_writes_loadable_folder_close_to_torch(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from neardup.models import load_encoder

    out = tmp_path / "onnx"
    assert main(["export", str(model), "--output", str(out), "--int8"]) == 0
    printed = capsys.readouterr().out
    assert "model.onnx" in printed and "model_int8.onnx" in printed
    assert (out / "model.onnx").is_file() and (out / "model_int8.onnx").is_file()

    texts = ["red phone case", "blue cable charger", "кошка дом"]
    reference = load_encoder(str(model)).encode(texts)
    fp32 = load_encoder(str(out)).encode(texts)
    np.testing.assert_allclose(np.sum(reference * fp32, axis=1), 1.0, atol=1e-4)
    int8 = load_encoder(f"{out}@onnx-int8").encode(texts)
    assert np.sum(reference * int8, axis=1).min() > 0.95


@pytest.mark.parametrize("saturates", [True, False])
def test_export_says_when_int8_weights_were_avoided(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, saturates: bool,
) -> None:
    from neardup.models import cpu

    monkeypatch.setattr(cpu, "int8_products_saturate", lambda: saturates)
    assert main(["export", str(model), "--output", str(tmp_path / "onnx"), "--int8"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert ("uint8 weights" in printed) is saturates


def test_export_refuses_existing_output(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exists"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    assert main(["export", str(model), "--output", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "user data"


def test_export_missing_model_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(tmp_path / "nope"), "--output", str(tmp_path / "o")]) == 2
    assert "nope" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
