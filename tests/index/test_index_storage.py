"""Saving and loading index folders."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from neardup.errors import InputError
from neardup.index import FORMAT_VERSION, Index
from neardup.index import core

QUERIES = ["cheap flight", "chocolate", "dataframe tutorial", "cars", "forecast"]


def _build(corpus: dict[str, str], encoder, **kwargs) -> Index:
    return Index.build(list(corpus.values()), list(corpus), encoder, **kwargs)


def _results(index: Index) -> list[list[tuple[str, float]]]:
    return [[(h.id, round(h.score, 6)) for h in hits] for hits in index.search(QUERIES, k=4)]


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_round_trip_gives_identical_results(corpus, encoder, make_encoder, tmp_path, index_type):
    meta = pd.DataFrame({"n": range(len(corpus)), "lang": ["en"] * len(corpus)})
    index = _build(corpus, encoder, index_type=index_type, metadata=meta)
    index.save(tmp_path / "idx")
    loaded = Index.load(tmp_path / "idx", encoder=make_encoder())
    assert len(loaded) == len(index)
    assert loaded.index_type == index_type
    assert loaded.ids == index.ids
    assert _results(loaded) == _results(index)
    hit = loaded.search("used cars for sale", k=1)[0][0]
    assert hit.metadata == {"n": 7, "lang": "en"}


def test_folder_layout_and_manifest(corpus, encoder, tmp_path):
    _build(corpus, encoder, index_type="hnsw").save(tmp_path / "idx")
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == [
        "index.faiss",
        "items.parquet",
        "manifest.json",
    ]
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == "fake-trigram" and manifest["dim"] == 64
    assert manifest["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert manifest["metric"] == "cosine"
    assert manifest["index_type"] == "hnsw"
    assert manifest["index_params"]["M"] == core.HNSW_M
    assert manifest["count"] == len(corpus)
    assert manifest["neardup_version"]
    assert manifest["created"] and manifest["updated"]
    items = pd.read_parquet(tmp_path / "idx" / "items.parquet")
    assert list(items.columns[:3]) == ["id", "text", "_faiss_id"]
    assert str(items["_faiss_id"].dtype) == "int64"
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no staging folder left behind


def test_add_remove_survive_save_and_load(corpus, encoder, make_encoder, tmp_path):
    index = _build(corpus, encoder, index_type="hnsw")
    index.save(tmp_path / "idx")
    index.remove(["a1"])
    index.add(["fresh mango smoothie"], ["n1"])
    index.save()  # back to the folder it was saved to
    loaded = Index.load(tmp_path / "idx", encoder=make_encoder())
    assert "a1" not in loaded and "n1" in loaded
    assert loaded._faiss.ntotal == len(loaded)  # noqa: SLF001 - compacted on save
    assert loaded.search("mango", k=1)[0][0].id == "n1"
    assert "a1" not in [h.id for h in loaded.search("cheap flights to rome", k=20)[0]]
    # faiss ids keep increasing: a later add never reuses the id of a removed vector
    loaded.add(["another item"], ["n2"])
    assert loaded._items["_faiss_id"].is_unique  # noqa: SLF001


def test_load_without_encoder_uses_the_manifest_model(
    corpus, encoder, make_encoder, tmp_path, monkeypatch
):
    import neardup.models  # imported here: only this test needs the models package

    _build(corpus, encoder).save(tmp_path / "idx")
    asked: list[str] = []

    def fake_load_encoder(name: str):
        asked.append(name)
        return make_encoder(name=name)

    monkeypatch.setattr(neardup.models, "load_encoder", fake_load_encoder, raising=False)
    loaded = Index.load(tmp_path / "idx")
    assert asked == ["fake-trigram"]
    assert loaded.search("used cars", k=1)[0][0].id == "e1"


@pytest.mark.parametrize(
    ("name", "dim", "shown"),
    [
        ("other-model", 64, "'other-model' (dim 64)"),
        ("fake-trigram", 32, "'fake-trigram' (dim 32)"),
    ],
)
def test_load_with_another_model_is_refused(
    corpus, encoder, make_encoder, tmp_path, name, dim, shown
):
    _build(corpus, encoder).save(tmp_path / "idx")
    with pytest.raises(InputError) as err:
        Index.load(tmp_path / "idx", encoder=make_encoder(name=name, dim=dim))
    message = str(err.value)
    assert "'fake-trigram' (dim 64)" in message and shown in message
    assert "--model fake-trigram" in message and "rebuild" in message


def test_failed_save_leaves_the_old_index_intact(
    corpus, encoder, make_encoder, tmp_path, monkeypatch
):
    old = _build(corpus, encoder)
    old.save(tmp_path / "idx")
    before = {p.name: p.read_bytes() for p in (tmp_path / "idx").iterdir()}
    expected = _results(old)

    new = Index.build(["something else entirely"], ["z"], make_encoder())

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(core, "write_table", broken_write)  # fails after index.faiss is staged
    with pytest.raises(OSError, match="disk full"):
        new.save(tmp_path / "idx")
    monkeypatch.undo()

    assert {p.name: p.read_bytes() for p in (tmp_path / "idx").iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]
    assert _results(Index.load(tmp_path / "idx", encoder=make_encoder())) == expected


def test_save_keeps_unrelated_files_but_refuses_foreign_folders(corpus, encoder, tmp_path):
    index = _build(corpus, encoder)
    index.save(tmp_path / "idx")
    (tmp_path / "idx" / "NOTES.txt").write_text("mine")
    index.save(tmp_path / "idx")
    assert (tmp_path / "idx" / "NOTES.txt").read_text() == "mine"

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "report.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a neardup index"):
        index.save(tmp_path / "docs")
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["report.txt"]


def test_load_errors_name_the_problem(corpus, encoder, make_encoder, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        Index.load(tmp_path / "missing", encoder=encoder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="manifest.json is missing"):
        Index.load(tmp_path / "empty", encoder=encoder)

    _build(corpus, encoder).save(tmp_path / "idx")
    manifest_path = tmp_path / "idx" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="Upgrade neardup"):
        Index.load(tmp_path / "idx", encoder=make_encoder())


def test_files_from_an_interrupted_save_are_detected(corpus, encoder, make_encoder, tmp_path):
    _build(corpus, encoder).save(tmp_path / "a")
    Index.build(["x", "y"], ["1", "2"], make_encoder()).save(tmp_path / "b")
    # simulate a crash between moves: new items, old index and manifest
    (tmp_path / "a" / "items.parquet").write_bytes((tmp_path / "b" / "items.parquet").read_bytes())
    with pytest.raises(InputError, match="inconsistent"):
        Index.load(tmp_path / "a", encoder=make_encoder())


def test_same_sized_files_from_two_saves_are_detected(corpus, encoder, make_encoder, tmp_path):
    first = _build(corpus, encoder)
    first.save(tmp_path / "a")
    old_items = (tmp_path / "a" / "items.parquet").read_bytes()
    # the same number of vectors, for other items: a remove and an add of one item
    first.remove(["a1"])
    first.add(["cheap trains to rome"], ["a9"])
    first.save(tmp_path / "a")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    (tmp_path / "a" / "items.parquet").write_bytes(old_items)  # half of an interrupted save
    manifest["files"]["items.parquet"]["bytes"] = len(old_items)
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="belong to other items"):
        Index.load(tmp_path / "a", encoder=make_encoder())


def test_metadata_keeps_its_types_across_adds(corpus, encoder, make_encoder, tmp_path):
    index = Index.build(["red apple pie", "blue sky"], ["a", "b"], encoder,
                        metadata=pd.DataFrame({"n": [3, 4], "ok": [True, False],
                                               "tags": [["x", "y"], []]}))
    index.add(["green tea"], ["c"])  # no metadata: n must not become 3.0
    index.add(["hot coffee"], ["d"], metadata=pd.DataFrame({"n": ["5"], "ok": ["true"]}))
    with pytest.raises(InputError, match=r"'n' holds Int64 values .* 'five'"):
        index.add(["cold milk"], ["e"], metadata=pd.DataFrame({"n": ["five"]}))
    index.save(tmp_path / "idx")
    back = Index.load(tmp_path / "idx", encoder=make_encoder())
    hits = {h.id: h.metadata for h in back.search("red apple pie", k=4)[0]}
    assert hits["a"] == {"n": 3, "ok": True, "tags": ["x", "y"]}
    assert isinstance(hits["a"]["n"], int)
    assert hits["c"] == {"n": None, "ok": None, "tags": None}
    assert hits["d"]["n"] == 5 and hits["d"]["ok"] is True


def test_load_with_other_prompts_is_refused(corpus, encoder, make_encoder, tmp_path):
    _build(corpus, encoder).save(tmp_path / "idx")
    other = make_encoder()
    other.prompts = {"query": "", "passage": ""}
    with pytest.raises(InputError, match="prompts"):
        Index.load(tmp_path / "idx", encoder=other)
    assert len(Index.load(tmp_path / "idx", encoder=make_encoder())) == len(corpus)


def _meta(index: Index, item_id: str) -> dict:
    """The metadata search returns for an item."""
    hits = [h for h in index.search("tea", k=len(index))[0] if h.id == item_id]
    return hits[0].metadata


def test_a_column_first_seen_in_an_add_keeps_its_integers(encoder, make_encoder, tmp_path):
    index = Index.build(["red apple pie", "blue sky"], ["a", "b"], encoder)
    index.add(["green tea"], ["c"], metadata=pd.DataFrame({"year": [2021]}))
    assert _meta(index, "c") == {"year": 2021}
    index.save(tmp_path / "idx")
    back = Index.load(tmp_path / "idx", encoder=make_encoder())
    year = _meta(back, "c")["year"]
    assert year == 2021 and isinstance(year, int)
    assert _meta(back, "a") == {"year": None}


def test_booleans_and_numbers_do_not_mix_into_text(encoder, make_encoder, tmp_path):
    index = Index.build(["red apple pie", "blue sky"], ["a", "b"], encoder,
                        metadata=pd.DataFrame({"ok": [True, False], "n": [1, 2]}))
    index.add(["green tea"], ["c"], metadata=pd.DataFrame({"ok": [1]}))  # 1/0 mean True/False
    with pytest.raises(InputError, match=r"'ok' holds boolean values .* have 5;"):
        index.add(["hot coffee"], ["d"], metadata=pd.DataFrame({"ok": [5]}))
    with pytest.raises(InputError, match=r"'n' holds Int64 values .* have True;"):
        index.add(["hot coffee"], ["d"], metadata=pd.DataFrame({"n": [True]}))
    index.save(tmp_path / "idx")
    back = Index.load(tmp_path / "idx", encoder=make_encoder())
    assert _meta(back, "a") == {"ok": True, "n": 1}
    assert _meta(back, "c") == {"ok": True, "n": None}
    assert _meta(back, "c")["ok"] is True


def test_numbers_added_to_a_text_column_stay_text(encoder, make_encoder, tmp_path):
    index = Index.build(["red apple pie", "blue sky"], ["a", "b"], encoder,
                        metadata=pd.DataFrame({"sku": ["A1", "B2"]}))
    index.add(["green tea"], ["c"], metadata=pd.DataFrame({"sku": [3]}))
    assert _meta(index, "c") == {"sku": "3"}  # the same before and after a save
    index.save(tmp_path / "idx")
    assert _meta(Index.load(tmp_path / "idx", encoder=make_encoder()), "c") == {"sku": "3"}


@pytest.mark.parametrize("key, value", [("count", None), ("dim", "384"), ("count", -1)])
def test_a_damaged_manifest_count_is_named(corpus, encoder, make_encoder, tmp_path, key, value):
    _build(corpus, encoder).save(tmp_path / "idx")
    path = tmp_path / "idx" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest[key] = value
    path.write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=rf"{key}={value!r}.*Rebuild"):
        Index.load(tmp_path / "idx", encoder=make_encoder())


def test_integer_ids_are_members_as_they_are_removable(corpus, encoder):
    index = Index.build(["red apple pie", "blue sky"], ["1", "2"], encoder)
    assert 1 in index and "1" in index and 3 not in index and True not in index
    assert index.remove([1]) == 1 and 1 not in index


def test_a_column_missing_so_far_takes_the_type_of_its_first_values(encoder, make_encoder,
                                                                     tmp_path):
    index = Index.build(["red apple pie", "blue sky"], ["a", "b"], encoder,
                        metadata=pd.DataFrame({"t": [None, None], "ok": [True, None]}))
    index.add(["green tea"], ["c"], metadata=pd.DataFrame({"t": [7], "ok": [0]}))
    index.save(tmp_path / "idx")
    back = Index.load(tmp_path / "idx", encoder=make_encoder())
    for idx in (index, back):
        meta = _meta(idx, "c")
        assert meta == {"t": 7, "ok": False} and isinstance(meta["t"], int)
        assert _meta(idx, "a") == {"t": None, "ok": True}
