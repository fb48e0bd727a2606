"""End-to-end `neardup` commands on tiny files the tests write (lexical mode: no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from neardup.cli.main import main

ROWS = [
    ("p1", "Samsung Galaxy A54 5G 8GB 256GB black", "phones"),
    ("p2", "Samsung Galaxy A54 5G 8GB/256GB Black!", "phones"),
    ("p3", "samsung galaxy a54 5g 8gb 256gb blck", "phones"),
    ("p4", "Chocolate cake recipe with dark cocoa", "food"),
    ("p5", "", "misc"),
    ("p6", "Used cars for sale near the river district", "cars"),
]


@pytest.fixture
def products(tmp_path: Path) -> Path:
    path = tmp_path / "products.csv"
    pd.DataFrame(ROWS, columns=["sku", "title", "category"]).to_csv(path, index=False)
    return path


def run(*args: str) -> int:
    return main([str(a) for a in args])


def test_dedup_writes_the_three_outputs(products: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = run("dedup", products, "--text", "title", "--id", "sku", "--output", out,
               "--model", "none", "--threshold", "0.5", "--quiet")
    assert code == 0
    clusters = pd.read_csv(out / "clusters.csv", dtype=str)
    assert list(clusters.columns) == ["id", "cluster_id", "is_representative"]
    assert clusters["id"].tolist() == ["p1", "p2", "p3", "p4", "p5", "p6"]
    cluster_of = dict(zip(clusters["id"], clusters["cluster_id"]))
    assert cluster_of["p1"] == cluster_of["p2"] == cluster_of["p3"]
    assert len({cluster_of[i] for i in ("p1", "p4", "p5", "p6")}) == 4
    pairs = pd.read_csv(out / "pairs.csv", dtype={"id_a": str, "id_b": str})
    assert {frozenset(p) for p in zip(pairs["id_a"], pairs["id_b"])} <= {
        frozenset(("p1", "p2")), frozenset(("p1", "p3")), frozenset(("p2", "p3"))
    }
    kept = pd.read_csv(out / "deduplicated.csv", dtype=str, keep_default_na=False)
    assert kept["sku"].tolist() == ["p1", "p4", "p5", "p6"]
    assert list(kept.columns) == ["sku", "title", "category"]  # the input's own columns
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"] == 6 and summary["rows_removed"] == 2
    printed = capsys.readouterr()
    assert "rows removed" in printed.out
    assert "empty text" in printed.err  # the empty row is reported, not dropped


def test_dedup_keeps_input_format(tmp_path: Path) -> None:
    src = tmp_path / "items.jsonl"
    pd.DataFrame(ROWS, columns=["sku", "title", "category"]).to_json(
        src, orient="records", lines=True
    )
    out = tmp_path / "out"
    assert run("dedup", src, "-t", "title", "-t", "category", "--output", out,
               "--model", "none", "--threshold", "0.5", "-q") == 0
    kept = pd.read_json(out / "deduplicated.jsonl", lines=True)
    assert len(kept) == 4


def test_against_reports_leaks(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    pd.DataFrame({"q": ["How do I reset my password?", "Best pizza in town"]}).to_csv(train, index=False)
    pd.DataFrame({"q": ["how do i reset my password", "Where is the station?"]}).to_csv(test, index=False)
    out = tmp_path / "out"
    assert run("dedup", test, "--against", train, "--text", "q", "--output", out,
               "--model", "none", "--threshold", "0.8", "-q") == 0
    leaks = pd.read_csv(out / "leaks.csv", dtype=str)
    assert leaks[["test_id", "train_id"]].values.tolist() == [["0", "0"]]
    clean = pd.read_csv(out / "clean.csv")
    assert clean["q"].tolist() == ["Where is the station?"]


@pytest.mark.parametrize(
    "make_args, needle",
    [
        (lambda p, o: ["dedup", p.parent / "missing.csv", "-t", "title", "-o", o], "missing.csv"),
        (lambda p, o: ["dedup", p, "-t", "headline", "-o", o], "headline"),
        (lambda p, o: ["dedup", p, "-t", "title", "--id", "category", "-o", o], "category"),
        (lambda p, o: ["dedup", p, "-o", o], "--text"),
        (lambda p, o: ["dedup", p, "-t", "title", "-o", o, "--threshold", "abc"], "abc"),
        (lambda p, o: ["dedup", p, "-t", "title", "-o", o, "--model", "no-such-model-xyz"],
         "no-such-model-xyz"),
    ],
)
def test_bad_input_gives_a_clear_error_and_no_output(
    products: Path, tmp_path: Path, capsys, make_args, needle: str
) -> None:
    out = tmp_path / "out"
    args = make_args(products, out)
    if "--model" not in args:
        args += ["--model", "none"]
    code = run(*args)
    assert code == 2
    assert needle in capsys.readouterr().err
    assert not out.exists()


def test_empty_collection_is_an_error(tmp_path: Path, capsys) -> None:
    src = tmp_path / "empty.csv"
    src.write_text("title\n")
    assert run("dedup", src, "-t", "title", "-o", tmp_path / "out", "--model", "none") == 2
    assert "empty" in capsys.readouterr().err.lower()


def test_unknown_encoding_names_the_file(tmp_path: Path, capsys) -> None:
    src = tmp_path / "latin.csv"
    src.write_bytes("title\ncaf\xe9 au lait\n".encode("latin-1"))
    code = run("dedup", src, "-t", "title", "-o", tmp_path / "out", "--model", "none")
    assert code == 2
    err = capsys.readouterr().err
    assert "latin.csv" in err and "--encoding" in err
    # and it works once the encoding is given
    assert run("dedup", src, "-t", "title", "-o", tmp_path / "out", "--model", "none",
               "--encoding", "latin-1", "-q") == 0


def test_existing_outputs_survive_a_failed_run(products: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("dedup", products, "-t", "title", "-o", out, "--model", "none",
               "--threshold", "0.5", "-q") == 0
    before = (out / "clusters.csv").read_bytes()
    assert run("dedup", products, "-t", "nope", "-o", out, "--model", "none") == 2
    assert (out / "clusters.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [
        ".neardup-outputs.json", "clusters.csv", "deduplicated.csv", "pairs.csv", "summary.json"
    ]


def test_a_later_run_leaves_no_outputs_of_an_earlier_one(products: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (tmp_path / "out").mkdir()
    (out / "notes.txt").write_text("mine")
    assert run("dedup", products, "-t", "title", "-o", out, "--model", "none", "-q") == 0
    jsonl = tmp_path / "products.jsonl"
    pd.read_csv(products).to_json(jsonl, orient="records", lines=True)
    assert run("dedup", jsonl, "-t", "title", "-o", out, "--model", "none", "-q") == 0
    # deduplicated.csv described the CSV run: it is gone, the user's file stays
    assert sorted(p.name for p in out.iterdir()) == [
        ".neardup-outputs.json", "clusters.csv", "deduplicated.jsonl", "notes.txt", "pairs.csv",
        "summary.json"]
    assert run("dedup", products, "--against", jsonl, "-t", "title", "-o", out, "--model",
               "none", "-q") == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".neardup-outputs.json", "clean.csv", "leaks.csv", "notes.txt"]


def test_sample_then_evaluate_groups(tmp_path: Path, capsys) -> None:
    assert run("sample", tmp_path / "s") == 0
    news = tmp_path / "s" / "news.csv"
    frame = pd.read_csv(news)
    assert {"id", "title", "group"} <= set(frame.columns)
    assert frame["group"].value_counts().max() >= 3
    capsys.readouterr()
    code = run("evaluate", news, "--task", "groups", "--text", "title", "--label", "group",
               "--model", "none", "--json")
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "groups"
    assert 0.0 < report["metrics"]["row_f1@best"] <= 1.0
    assert report["best_threshold"] is not None


def test_evaluate_pairs_prints_best_threshold(tmp_path: Path, capsys) -> None:
    src = tmp_path / "pairs.csv"
    pd.DataFrame(
        {
            "text1": ["cheap flights to rome", "red shoes size 42", "python tutorial", "apple pie"],
            "text2": ["cheap flight to rome", "red shoes size 42 new", "car insurance", "tax law"],
            "label": [1, 1, 0, 0],
        }
    ).to_csv(src, index=False)
    assert run("evaluate", src, "--model", "none", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "pairs"
    assert report["metrics"]["ap"] == pytest.approx(1.0)
    assert report["metrics"]["f1"] == pytest.approx(1.0)


def test_evaluate_bad_labels_name_the_row(tmp_path: Path, capsys) -> None:
    src = tmp_path / "pairs.csv"
    pd.DataFrame({"text1": ["a", "b"], "text2": ["c", "d"], "label": ["1", "maybe"]}).to_csv(
        src, index=False
    )
    assert run("evaluate", src, "--model", "none") == 2
    assert "maybe" in capsys.readouterr().err


# ------------------------------------------------------------------ usage and odd inputs


@pytest.mark.parametrize("args", [("dedup", "x.csv", "--no-such-option"), ("dedup",),
                                  ("dedup", "x.csv", "--k", "abc")])
def test_usage_errors_exit_2_without_traceback(args, capsys) -> None:
    assert run(*args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("Error" in err or "Usage" in err)


def test_brackets_in_names_are_printed_as_they_are(tmp_path: Path, capsys) -> None:
    # console markup would eat "[v2]" and crash on "[/b]"
    src = tmp_path / "export [v2].csv"
    pd.DataFrame({"id": ["1", "2"], "[/b]": ["a b c", "x y z"]}).to_csv(src, index=False)
    assert run("dedup", src, "--text", "nope", "--model", "none", "-o", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "export [v2].csv" in err and "'[/b]'" in err
    assert run("dedup", src, "--text", "[/b]", "--model", "none", "-o", tmp_path / "o",
               "--quiet") == 0


def test_sep_option_reads_and_writes_the_separator(tmp_path: Path) -> None:
    src = tmp_path / "semi.csv"
    src.write_text("id;title\n1;Red shirt size M\n2;Red shirt size M!\n3;Blue jeans\n")
    out = tmp_path / "o"
    assert run("dedup", src, "--text", "title", "--id", "id", "--sep", ";", "--model", "none",
               "--threshold", "0.5", "-o", out, "--quiet") == 0
    assert (out / "deduplicated.csv").read_text().splitlines() == [
        "id;title", "1;Red shirt size M", "3;Blue jeans"]


def test_against_uses_the_format_given(tmp_path: Path) -> None:
    test, train = tmp_path / "test.txt", tmp_path / "train.txt"
    test.write_text("id,text\nt1,the quick brown fox jumps\nt2,completely unrelated words\n")
    train.write_text("id,text\nr1,the quick brown fox jumps!\n")
    out = tmp_path / "o"
    assert run("dedup", test, "--against", train, "--format", "csv", "--text", "text", "--id",
               "id", "--model", "none", "--threshold", "0.5", "-o", out, "--quiet") == 0
    assert pd.read_csv(out / "leaks.csv")["test_id"].tolist() == ["t1"]


def test_nothing_to_link_writes_valid_json(tmp_path: Path, capsys) -> None:
    src = tmp_path / "one.csv"
    src.write_text("id,text\n1,just one row\n")
    out = tmp_path / "o"
    assert run("dedup", src, "--text", "text", "--model", "none", "-o", out, "--quiet") == 0
    summary = json.loads((out / "summary.json").read_text(),
                         parse_constant=lambda c: pytest.fail(f"{c} in summary.json"))
    assert summary["threshold"] is None
    assert "--threshold nan" not in capsys.readouterr().err


def test_output_folder_dot(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,a b c d\n2,a b c d\n")
    monkeypatch.chdir(tmp_path)
    assert run("dedup", "in.csv", "--text", "text", "--model", "none", "-o", ".", "--quiet") == 0
    assert (tmp_path / "clusters.csv").is_file() and (tmp_path / "deduplicated.csv").is_file()


def test_blocked_output_changes_nothing(tmp_path: Path, products: Path) -> None:
    out = tmp_path / "o"
    (out / "pairs.csv").mkdir(parents=True)
    (out / "clusters.csv").write_text("OLD")
    assert run("dedup", products, "--text", "title", "--model", "none", "-o", out,
               "--quiet") == 2
    assert (out / "clusters.csv").read_text() == "OLD"  # no mix of old and new outputs
    assert sorted(p.name for p in out.iterdir()) == ["clusters.csv", "pairs.csv"]


def test_header_with_empty_and_repeated_names_is_written_back(tmp_path: Path) -> None:
    src = tmp_path / "h.csv"
    src.write_text(",id,text,text\n0,1,alpha beta gamma,x\n2,3,zzz qqq www,z\n")
    out = tmp_path / "o"
    assert run("dedup", src, "--text", "text", "--id", "id", "--model", "none", "-o", out,
               "--quiet") == 0
    assert (out / "deduplicated.csv").read_text() == src.read_text()


def test_decimal_ids_from_parquet(tmp_path: Path) -> None:
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "d.parquet"
    pq.write_table(pa.table({
        "id": pa.array([decimal.Decimal(7), decimal.Decimal("8.50")], pa.decimal128(10, 2)),
        "text": ["alpha beta", "gamma delta"]}), src)
    out = tmp_path / "o"
    assert run("dedup", src, "--text", "text", "--id", "id", "--model", "none", "-o", out,
               "--quiet") == 0
    assert pd.read_csv(out / "clusters.csv", dtype=str)["id"].tolist() == ["7", "8.50"]


def test_evaluate_refuses_labels_without_duplicates(tmp_path: Path, capsys) -> None:
    src = tmp_path / "zero.csv"
    src.write_text("text1,text2,label\na b,a b c,0\nx y,x y z,0\n")
    assert run("evaluate", src, "--model", "none") == 2
    assert "no duplicate (1) pair" in capsys.readouterr().err


def test_evaluate_honours_format(tmp_path: Path, capsys) -> None:
    src = tmp_path / "pairs.txt"
    src.write_text("text1,text2,label\nred shirt,red shirt!,1\nred shirt,blue jeans,0\n"
                   "green cup,green cup.,1\ngreen cup,old lamp,0\n")
    assert run("evaluate", src, "--format", "csv", "--model", "none", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["ap"] == pytest.approx(1.0)


def test_against_file_with_its_own_columns_and_format(tmp_path: Path) -> None:
    test = tmp_path / "test.csv"
    test.write_text("id,text\nt1,the quick brown fox jumps\nt2,completely unrelated words\n")
    train = tmp_path / "train.parquet"
    pd.DataFrame({"qid": ["r1"], "question": ["the quick brown fox jumps!"]}).to_parquet(train)
    out = tmp_path / "o"
    assert run("dedup", test, "--against", train, "--text", "text", "--id", "id",
               "--against-text", "question", "--against-id", "qid", "--model", "none",
               "--threshold", "0.5", "-o", out, "--quiet") == 0
    leaks = pd.read_csv(out / "leaks.csv")
    assert leaks[["test_id", "train_id"]].values.tolist() == [["t1", "r1"]]
    assert run("dedup", test, "--against", train, "--text", "text", "--against-text",
               "question", "--link-across", "id", "--model", "none", "-o", out) == 2
    assert run("dedup", test, "--against", train, "--text", "text", "--against-text",
               "question", "--method", "leiden", "--model", "none", "-o", out) == 2


def test_a_group_larger_than_k_is_flagged_in_the_summary(tmp_path: Path, capsys) -> None:
    src = tmp_path / "many.csv"
    titles = [f"Samsung Galaxy A54 5G 8GB 256GB {colour}" for colour in
              ("black", "blue", "green", "pink", "gold", "gray", "teal", "navy")]
    pd.DataFrame({"title": titles}).to_csv(src, index=False)
    out = tmp_path / "o"
    assert run("dedup", src, "--text", "title", "--model", "none", "-o", out,
               "--threshold", "0.3", "--k", "3") == 0
    printed = capsys.readouterr()
    # the table wraps long cells: compare the words, without its borders
    words = " ".join(printed.out.replace("│", " ").split())
    assert "larger groups may be split; rerun with a larger --k" in words
    assert "UserWarning" not in printed.err  # said once, in the summary
    assert json.loads((out / "summary.json").read_text())["rows_at_k"] > 0


def _leaks(out: Path) -> list[list[str]]:
    return pd.read_csv(out / "leaks.csv", dtype=str)[["test_id", "train_id"]].values.tolist()


def test_against_shares_format_and_sep_only_with_a_file_of_inputs_kind(tmp_path: Path) -> None:
    # --format tsv for a tab-separated test.csv means the same for train.csv
    test, train = tmp_path / "test.csv", tmp_path / "train.csv"
    test.write_text("id\ttext\nt1\tthe quick brown fox jumps\nt2\tcompletely unrelated words\n")
    train.write_text("id\ttext\nr1\tthe quick brown fox jumps!\n")
    out = tmp_path / "o"
    assert run("dedup", test, "--against", train, "--format", "tsv", "--text", "text", "--id",
               "id", "--model", "none", "--threshold", "0.5", "-o", out, "--quiet") == 0
    assert _leaks(out) == [["t1", "r1"]]
    # --sep ';' of a semicolon test.csv is not forced onto a .tsv train file
    semi, tsv = tmp_path / "semi.csv", tmp_path / "train.tsv"
    semi.write_text("id;text\nt1;the quick brown fox jumps\nt2;completely unrelated words\n")
    tsv.write_text("id\ttext\nr1\tthe quick brown fox jumps!\n")
    assert run("dedup", semi, "--against", tsv, "--sep", ";", "--text", "text", "--id", "id",
               "--model", "none", "--threshold", "0.5", "-o", out, "--quiet") == 0
    assert _leaks(out) == [["t1", "r1"]]


def test_against_file_without_inputs_id_column(tmp_path: Path, capsys) -> None:
    test, train = tmp_path / "test.csv", tmp_path / "train.csv"
    test.write_text("id,text\nt1,the quick brown fox jumps\nt2,completely unrelated words\n")
    train.write_text("text\nsomething else entirely\nthe quick brown fox jumps!\n")
    out = tmp_path / "o"
    args = ["dedup", test, "--against", train, "--text", "text", "--id", "id", "--model",
            "none", "--threshold", "0.5", "-o", out, "--quiet"]
    assert run(*args) == 2
    assert "--against-id ''" in capsys.readouterr().err
    assert not out.exists()
    assert run(*args, "--against-id", "") == 0
    assert _leaks(out) == [["t1", "1"]]  # the train file's row number


def test_a_separator_longer_than_one_character_is_refused(tmp_path: Path, capsys) -> None:
    src = tmp_path / "ms.csv"
    src.write_text("id||text\n1||a b\n2||c d\n")
    assert run("dedup", src, "--text", "text", "--sep", "||", "--model", "none",
               "-o", tmp_path / "o") == 2
    assert "must be one character" in capsys.readouterr().err


def test_evaluate_pairs_threshold_carried_to_dedup_makes_the_same_cut(tmp_path: Path,
                                                                      capsys) -> None:
    from neardup.dedup import Deduplicator
    from neardup.evaluate.metrics import pair_metrics

    rows = [("the cat sat on the mat", "the cat sat on a mat", 1),
            ("hello world program", "hello world programs", 1),
            ("buy cheap shoes now", "buy cheap shoe now", 1),
            ("apple pie recipe", "banana bread recipe", 0),
            ("red car fast", "blue sky slow", 0),
            ("quantum physics lecture", "quantum physics lectures notes", 0),
            ("good morning", "good morning everyone", 1),
            ("dog barks loudly", "the weather is nice today", 0)]
    src = tmp_path / "pairs.csv"
    pd.DataFrame(rows, columns=["text1", "text2", "label"]).to_csv(src, index=False)
    assert run("evaluate", src, "--model", "none", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    carried = report["best_threshold"]
    scores = Deduplicator(None).score_pairs([r[0] for r in rows], [r[1] for r in rows])
    labels = [r[2] for r in rows]
    at_carried = pair_metrics(labels, scores, threshold=carried)
    assert at_carried.f1 == pytest.approx(report["metrics"]["f1"])
    assert len(repr(carried)) <= 8  # short enough to type, e.g. 0.7151 rather than 0.71516...
    assert run("evaluate", src, "--model", "none") == 0
    printed = capsys.readouterr().out
    assert f"--threshold {carried!r}" in printed


def test_evaluate_pairs_without_a_separating_threshold_offers_none(tmp_path: Path,
                                                                  capsys) -> None:
    src = tmp_path / "pairs.csv"
    src.write_text("text1,text2,label\naaa,zzz,1\nbbb,yyy,0\nccc,xxx,0\n")
    assert run("evaluate", src, "--model", "none") == 0
    printed = capsys.readouterr().out
    assert "--threshold 0" not in printed and "none to carry" in printed


def test_evaluate_groups_without_duplicates_prefers_merging_nothing(tmp_path: Path,
                                                                   capsys) -> None:
    src = tmp_path / "groups.csv"
    texts = ["red phone case leather new", "blue phone case leather new", "red charger cable",
             "laptop bag red", "old book for sale", "new shoes shirt"]
    pd.DataFrame({"text": texts, "label": range(6)}).to_csv(src, index=False)
    assert run("evaluate", src, "--model", "none", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["row_f1@best"] == pytest.approx(1.0)
    assert report["metrics"]["pair_fp@best"] == 0


def test_evaluate_refuses_options_its_task_ignores(tmp_path: Path, capsys) -> None:
    src = tmp_path / "groups.csv"
    pd.DataFrame({"text": ["a b c", "a b c d", "x y z"], "label": [1, 1, 2]}).to_csv(src,
                                                                                   index=False)
    assert run("evaluate", src, "--model", "none", "--text2", "foo") == 2
    assert "--text2 has no effect on a groups evaluation" in capsys.readouterr().err


def test_model_none_is_read_as_presets_are(products: Path, tmp_path: Path) -> None:
    assert run("dedup", products, "--text", "title", "--model", " None ", "--threshold", "0.5",
               "-o", tmp_path / "o", "--quiet") == 0
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["model"] is None


def test_the_printed_automatic_threshold_reproduces_the_run(products: Path, tmp_path: Path,
                                                            capsys) -> None:
    import re

    assert run("dedup", products, "--text", "title", "--model", "none", "-o", tmp_path / "a",
               "--quiet") == 0
    printed = capsys.readouterr()
    value = re.search(r"--threshold (\S+),", printed.out + printed.err).group(1)
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert float(value) == summary["threshold"]  # exactly the value used, not a rounding
    assert run("dedup", products, "--text", "title", "--model", "none", "-o", tmp_path / "b",
               "--threshold", value, "--quiet") == 0
    assert (tmp_path / "a" / "clusters.csv").read_text() == (
        tmp_path / "b" / "clusters.csv").read_text()


def test_sample_refuses_a_file_it_did_not_write(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "s"
    assert run("sample", folder) == 0
    assert "18 true groups of duplicates and 14 singletons" in capsys.readouterr().out
    assert run("sample", folder) == 0  # rewriting the sample (make demo twice) is fine
    (folder / "news.csv").write_text("my,own,data\n")
    assert run("sample", folder) == 2
    assert "not neardup's sample" in capsys.readouterr().err
    assert (folder / "news.csv").read_text() == "my,own,data\n"
    assert run("sample", folder / "news.csv") == 2
    assert "it is a file" in capsys.readouterr().err


def test_against_file_errors_name_the_against_options(tmp_path: Path, capsys) -> None:
    test, train = tmp_path / "test.csv", tmp_path / "train.csv"
    test.write_text("id,text\nt1,the quick brown fox jumps\nt2,completely unrelated words\n")
    train.write_text("id,q\n1,the quick brown fox jumps!\n1,something else\n")
    base = ["dedup", test, "--against", train, "--text", "text", "--id", "id", "--model",
            "none", "-o", tmp_path / "o", "--quiet"]
    assert run(*base, "--against-text", "q") == 2  # repeated train ids
    err = capsys.readouterr().err
    assert "--against-id ''" in err and "drop --id" not in err
    assert run(*base, "--against-id", "") == 2  # no column "text" in the train file
    assert "--against-text" in capsys.readouterr().err


def test_link_across_refuses_rows_without_a_source(tmp_path: Path, capsys) -> None:
    path = tmp_path / "shops.csv"
    path.write_text("id,title,shop\na1,iphone 13 128gb black,\na2,iphone 13 128gb black!,A\n"
                    "b1,iphone 13 128 gb black,\n")
    assert run("dedup", path, "--text", "title", "--id", "id", "--link-across", "shop",
               "--model", "none", "-o", tmp_path / "o", "--quiet") == 2
    err = capsys.readouterr().err
    assert "'shop'" in err and "2 rows (0, 2;" in err
    assert not (tmp_path / "o").exists()


def test_an_unknown_knn_method_is_refused_without_a_model(products: Path, tmp_path: Path,
                                                           capsys) -> None:
    assert run("dedup", products, "--text", "title", "--model", "none", "--knn-method", "foo",
               "-o", tmp_path / "o", "--quiet") == 2
    assert "unknown kNN method 'foo'" in capsys.readouterr().err


def test_a_run_never_removes_its_own_input(tmp_path: Path) -> None:
    # "check leaks, then dedup the clean set" into the same folder: clean.csv is an output of
    # the first run and the input of the second
    test, train = tmp_path / "test.csv", tmp_path / "train.csv"
    test.write_text("id,title\nt1,the quick brown fox jumps\nt2,completely unrelated words\n"
                    "t3,completely unrelated words!\n")
    train.write_text("id,title\n1,the quick brown fox jumps!\n")
    out = tmp_path / "o"
    assert run("dedup", test, "--against", train, "-t", "title", "--id", "id", "--model",
               "none", "-o", out, "-q") == 0
    assert run("dedup", out / "clean.csv", "-t", "title", "--id", "id", "--model", "none",
               "-o", out, "-q") == 0
    assert (out / "clean.csv").exists() and not (out / "leaks.csv").exists()
    assert run("dedup", test, "--against", out / "deduplicated.csv", "-t", "title", "--id",
               "id", "--model", "none", "-o", out, "-q") == 0
    assert (out / "deduplicated.csv").exists()
