"""Atomic writes: old files survive failures, no temporary files are left behind."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from neardup.errors import InputError
from neardup.io import atomic as atomic_module
from neardup.io import atomic_output_dir, atomic_path, read_table, write_table


def test_atomic_path_replaces_on_success(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        assert tmp.name.endswith(".csv")  # extension kept for format/compression inference
        tmp.write_text("new")
        assert target.read_text() == "old"  # not visible until the block ends
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_atomic_path_keeps_old_file_when_the_block_fails(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_text("half a fi")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_atomic_path_keeps_permissions_and_creates_parents(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o640)
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    with atomic_path(tmp_path / "a" / "b" / "c.txt") as tmp:
        tmp.write_text("deep")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "deep"


def test_atomic_path_refuses_a_folder(tmp_path):
    with pytest.raises(InputError, match="existing folder"):
        with atomic_path(tmp_path):
            pass


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.parquet", "out.csv.gz"])
def test_write_table_failing_midway_leaves_old_file(tmp_path, monkeypatch, name):
    target = tmp_path / name
    write_table(pd.DataFrame({"id": ["1"], "text": ["old"]}), target)
    before = target.read_bytes()

    def partial_then_fail(self, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"partial")
        raise OSError("disk full")

    for method in ("to_csv", "to_parquet"):
        monkeypatch.setattr(pd.DataFrame, method, partial_then_fail)
    import neardup.io.writers as writers

    monkeypatch.setattr(writers, "_write_jsonl", lambda df, path, *a: partial_then_fail(df, path))
    with pytest.raises(OSError, match="disk full"):
        write_table(pd.DataFrame({"id": ["2"], "text": ["new"]}), target)
    monkeypatch.undo()

    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == [name]
    assert read_table(target)["text"].tolist() == ["old"]


def test_write_table_mixed_type_column_to_parquet(tmp_path):
    frame = pd.DataFrame({"id": ["007", 8, None], "text": ["a", "b", "c"]})
    back = read_table(write_table(frame, tmp_path / "m.parquet"))
    assert back["id"].tolist()[:2] == ["007", "8"] and back["id"].isna().tolist()[2]


def test_output_dir_merges_and_keeps_unrelated_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    (out / "clusters.csv").write_text("old")
    with atomic_output_dir(out, ledger=True) as stage:
        assert stage.parent == tmp_path and stage != out
        (stage / "clusters.csv").write_text("new")
        (stage / "sub").mkdir()
        (stage / "sub" / "pairs.csv").write_text("pairs")
    assert (out / "mine.txt").read_text() == "keep"
    assert (out / "clusters.csv").read_text() == "new"
    assert (out / "sub" / "pairs.csv").read_text() == "pairs"
    assert os.listdir(tmp_path) == ["out"]  # staging folder removed


def test_output_dir_is_created(tmp_path):
    with atomic_output_dir(tmp_path / "new" / "out") as stage:
        (stage / "a.csv").write_text("a")
    assert (tmp_path / "new" / "out" / "a.csv").read_text() == "a"


def test_output_dir_untouched_when_the_block_fails(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "clusters.csv").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output_dir(out, ledger=True) as stage:
            (stage / "clusters.csv").write_text("new")
            (stage / "pairs.csv").write_text("new")
            raise RuntimeError("the second step failed")
    assert os.listdir(out) == ["clusters.csv"]
    assert (out / "clusters.csv").read_text() == "old"
    assert os.listdir(tmp_path) == ["out"]
    with pytest.raises(RuntimeError):
        with atomic_output_dir(tmp_path / "never") as stage:
            raise RuntimeError("failed before anything")
    assert not (tmp_path / "never").exists()


def test_output_dir_moves_last_files_last(tmp_path, monkeypatch):
    moved: list[str] = []
    real_replace = os.replace

    def recording_replace(src, dst):
        moved.append(os.path.basename(dst))
        real_replace(src, dst)

    monkeypatch.setattr(atomic_module.os, "replace", recording_replace)
    with atomic_output_dir(tmp_path / "idx", last=["a_manifest.json"]) as stage:
        for name in ("a_manifest.json", "b.bin", "c.parquet"):
            (stage / name).write_text(name)
    assert moved == ["b.bin", "c.parquet", "a_manifest.json"]


def test_output_dir_refuses_a_file(tmp_path):
    (tmp_path / "out").write_text("i am a file")
    with pytest.raises(InputError, match="it is a file"):
        with atomic_output_dir(tmp_path / "out"):
            pass


def test_a_replaced_folder_is_readable_whatever_its_files_were_written_with(tmp_path):
    from neardup.io.atomic import atomic_replace_dir

    with atomic_replace_dir(tmp_path / "model") as stage:
        (stage / "model.safetensors").write_bytes(b"x")
        os.chmod(stage / "model.safetensors", 0o600)  # as safetensors writes it
    mode = stat.S_IMODE(os.stat(tmp_path / "model" / "model.safetensors").st_mode)
    assert mode == 0o644


def test_output_dir_removes_only_what_an_earlier_run_wrote(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with atomic_output_dir(out, ledger=True) as stage:
        for name in ("clusters.csv", "summary.json", "deduplicated.tsv"):
            (stage / name).write_text("first run")
    with atomic_output_dir(out, ledger=True) as stage:  # another kind of run into the same folder
        (stage / "leaks.csv").write_text("second run")
        (stage / "summary.json").write_text("second run")
    assert sorted(p.name for p in out.iterdir()) == [
        ".neardup-outputs.json", "leaks.csv", "notes.txt", "summary.json"]
    assert (out / "summary.json").read_text() == "second run"
    # a failed run changes nothing, the ledger included
    with pytest.raises(RuntimeError):
        with atomic_output_dir(out, ledger=True) as stage:
            (stage / "other.csv").write_text("x")
            raise RuntimeError("failed")
    assert sorted(p.name for p in out.iterdir()) == [
        ".neardup-outputs.json", "leaks.csv", "notes.txt", "summary.json"]


def test_a_damaged_ledger_removes_nothing_outside_the_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "precious.txt").write_text("keep")
    (out / "mine.csv").write_text("keep")
    (out / ".neardup-outputs.json").write_text(
        '{"files": ["../precious.txt", "/etc/hostname", "mine.csv"]}')
    with atomic_output_dir(out, ledger=True) as stage:
        (stage / "new.csv").write_text("x")
    assert (tmp_path / "precious.txt").exists()
    # a name the ledger lists is treated as an earlier output: that is what the ledger is for
    assert not (out / "mine.csv").exists()
    (out / ".neardup-outputs.json").write_text("not json")
    (out / "kept.csv").write_text("keep")
    with atomic_output_dir(out, ledger=True) as stage:
        (stage / "new.csv").write_text("y")
    assert (out / "kept.csv").exists()
