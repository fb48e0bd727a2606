"""Loaders: good files in every format, and each bad input naming what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neardup.errors import InputError
from neardup.evaluate.data import load_beir, load_groups, load_pairs
from neardup.io import read_table


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(path: Path, rows: list[dict]) -> Path:
    return _write(path, "".join(json.dumps(r) + "\n" for r in rows))


# --- pairs -------------------------------------------------------------------------------------


def test_pairs_csv_binary(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "pairs.csv",
        'text1,text2,label\nhello,hello!,1\n"a, b",NA,0\nx,y,true\nu,v,False\n',
    )
    d = load_pairs(p)
    assert d.label_kind == "binary"
    assert d.labels.dtype == np.int64 and d.labels.tolist() == [1, 0, 1, 0]
    assert d.texts1 == ["hello", "a, b", "x", "u"]
    assert d.texts2[1] == "NA"  # read as text, not as a missing value
    assert d.n_positive == 2 and "binary labels (2 positive)" in d.summary()


def test_pairs_tsv_graded_with_custom_columns(tmp_path: Path) -> None:
    p = _write(tmp_path / "sts.tsv", "s1\ts2\tscore\na\tb\t4.5\nc\td\t0\ne\tf\t2\n")
    d = load_pairs(p, text1_col="s1", text2_col="s2", label_col="score")
    assert d.label_kind == "graded"
    assert d.labels.dtype == np.float64 and d.labels.tolist() == [4.5, 0.0, 2.0]
    assert "graded" in d.summary()


def test_pairs_jsonl_and_parquet(tmp_path: Path) -> None:
    rows = [
        {"text1": "a", "text2": "b", "label": True},
        {"text1": "c", "text2": "d", "label": False},
    ]
    assert load_pairs(_jsonl(tmp_path / "p.jsonl", rows)).labels.tolist() == [1, 0]
    pq = tmp_path / "p.parquet"
    pd.DataFrame(rows).to_parquet(pq)
    d = load_pairs(pq)
    assert d.label_kind == "binary" and d.texts2 == ["b", "d"]


def test_pairs_forced_kinds(tmp_path: Path) -> None:
    p = _write(tmp_path / "p.csv", "text1,text2,label\na,b,1\nc,d,0\n")
    assert load_pairs(p, label_kind="graded").label_kind == "graded"
    q = _write(tmp_path / "q.csv", "text1,text2,label\na,b,1\nc,d,0.5\n")
    with pytest.raises(InputError, match=r"row 2 .*'0\.5'"):
        load_pairs(q, label_kind="binary")


def test_pairs_missing_column(tmp_path: Path) -> None:
    p = _write(tmp_path / "p.csv", "text1,second,label\na,b,1\n")
    with pytest.raises(InputError, match=r"no column 'text2'.*'second'.*text2_col") as e:
        load_pairs(p)
    assert str(p) in str(e.value)


def test_pairs_bad_label_names_row_and_value(tmp_path: Path) -> None:
    p = _write(tmp_path / "p.csv", "text1,text2,label\na,b,1\nc,d,maybe\n")
    with pytest.raises(InputError, match=r"p\.csv, row 2 .*column 'label'.*'maybe'"):
        load_pairs(p)
    q = _jsonl(tmp_path / "p.jsonl", [{"text1": "a", "text2": "b", "label": None}])
    with pytest.raises(InputError, match="row 1.*None"):
        load_pairs(q)


def test_pairs_missing_text_and_bad_json(tmp_path: Path) -> None:
    p = _jsonl(tmp_path / "p.jsonl", [{"text1": "a", "text2": "b", "label": 1},
                                     {"text1": None, "text2": "b", "label": 1}])
    with pytest.raises(InputError, match="row 2 .*column 'text1': the text is missing"):
        load_pairs(p)
    q = _write(tmp_path / "q.jsonl", '{"text1": "a", "text2": "b", "label": 1}\n\n{oops\n')
    with pytest.raises(InputError, match="q.jsonl.*line 3 is not valid JSON"):
        load_pairs(q)


def test_table_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Cannot tell the format.*csv"):
        read_table(_write(tmp_path / "p.txt", "x"))
    with pytest.raises(InputError, match="not found.*nope.csv"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="empty"):
        load_pairs(_write(tmp_path / "e.csv", ""))
    with pytest.raises(InputError, match="no data rows"):
        load_pairs(_write(tmp_path / "h.csv", "text1,text2,label\n"))


# --- groups ------------------------------------------------------------------------------------


def test_groups(tmp_path: Path) -> None:
    p = _write(tmp_path / "g.csv", "text,label\na,x\nb,y\nc,x\nd,007\n")
    d = load_groups(p)
    assert d.texts == ["a", "b", "c", "d"]
    assert d.labels.tolist() == [0, 1, 0, 2]  # numbered by first appearance
    assert d.label_values == ["x", "y", "007"] and d.n_groups == 3
    assert "4 texts in 3 groups" in d.summary()


def test_groups_custom_columns_and_errors(tmp_path: Path) -> None:
    p = _jsonl(tmp_path / "g.jsonl", [{"title": "a", "pid": 5}, {"title": "b", "pid": 5}])
    assert load_groups(p, text_col="title", label_col="pid").labels.tolist() == [0, 0]
    with pytest.raises(InputError, match="no column 'label'.*label_col"):
        load_groups(p, text_col="title")
    q = _write(tmp_path / "g.csv", "text,label\na,x\nb,\n")
    with pytest.raises(InputError, match="row 2 .*column 'label'.*label of its own"):
        load_groups(q)


# --- BEIR --------------------------------------------------------------------------------------


def _beir(root: Path, qrels: str = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\n") -> Path:
    root.mkdir()
    _jsonl(root / "corpus.jsonl", [
        {"_id": "d1", "title": "T1", "text": "doc one"},
        {"_id": "d2", "text": "doc two"},
        {"_id": 3, "title": "", "text": "doc three"},
    ])
    _jsonl(root / "queries.jsonl", [{"_id": "q1", "text": "first"}, {"_id": "q2", "text": "x"}])
    (root / "qrels").mkdir()
    _write(root / "qrels" / "test.tsv", qrels)
    return root


def test_beir_good(tmp_path: Path) -> None:
    d = load_beir(_beir(tmp_path / "b"))
    assert list(d.corpus) == ["d1", "d2", "3"]
    assert d.corpus["d1"] == {"title": "T1", "text": "doc one"}
    assert d.corpus["d2"] == {"title": "", "text": "doc two"}
    assert d.corpus_texts() == {"d1": "T1 doc one", "d2": "doc two", "3": "doc three"}
    assert d.corpus_texts(with_title=False)["d1"] == "doc one"
    assert d.queries == {"q1": "first"}  # q2 is not judged in this split
    assert d.qrels == {"q1": {"d1": 1, "d2": 2}}
    assert "3 documents, 1 queries" in d.summary()


def test_beir_headerless_qrels(tmp_path: Path) -> None:
    d = load_beir(_beir(tmp_path / "b", "q1\td1\t1\n"))
    assert d.qrels == {"q1": {"d1": 1}}


@pytest.mark.parametrize("name", ["corpus.jsonl", "queries.jsonl"])
def test_beir_missing_file(tmp_path: Path, name: str) -> None:
    root = _beir(tmp_path / "b")
    (root / name).unlink()
    with pytest.raises(InputError, match=f"{name}: file not found.*BEIR"):
        load_beir(root)


def test_beir_missing_split_lists_present_ones(tmp_path: Path) -> None:
    root = _beir(tmp_path / "b")
    with pytest.raises(InputError, match=r"qrels/dev\.tsv: file not found; splits present: test"):
        load_beir(root, split="dev")
    with pytest.raises(InputError, match="folder not found"):
        load_beir(tmp_path / "nowhere")


def test_beir_bad_contents(tmp_path: Path) -> None:
    root = _beir(tmp_path / "a", "query-id\tcorpus-id\tscore\nq1\td1\thigh\n")
    with pytest.raises(InputError, match=r"test\.tsv, line 2: score 'high'"):
        load_beir(root)
    root = _beir(tmp_path / "b", "q9\td1\t1\n")
    with pytest.raises(InputError, match="judged queries are not in.*'q9'"):
        load_beir(root)
    root = _beir(tmp_path / "c", "q1\tgone\t1\nq1\td1\t1\n")
    with pytest.warns(UserWarning, match="1 judged documents are not in.*'gone'"):
        load_beir(root)
    root = _beir(tmp_path / "d")
    _jsonl(root / "corpus.jsonl", [{"_id": "d1", "text": "a"}, {"_id": "d1", "text": "b"}])
    with pytest.raises(InputError, match="line 2: _id 'd1' repeats line 1"):
        load_beir(root)
    _jsonl(root / "corpus.jsonl", [{"_id": "d1", "body": "a"}])
    with pytest.raises(InputError, match='corpus.jsonl, line 1: no "text" field'):
        load_beir(root)


def test_gzipped_jsonl(tmp_path: Path) -> None:
    import gzip

    p = tmp_path / "g.jsonl.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "a", "label": 1}) + "\n")
    assert load_groups(p).texts == ["a"]


def test_beir_files_with_a_byte_order_mark(tmp_path: Path) -> None:
    root = _beir(tmp_path / "b", "q1\td1\t1\n")
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        path = root / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    d = load_beir(root)
    assert d.qrels == {"q1": {"d1": 1}} and list(d.corpus)[0] == "d1"


def test_group_labels_of_different_json_types_stay_apart(tmp_path: Path) -> None:
    # in Python True == 1 == 1.0: as written they are three labels
    rows = [{"text": "a", "label": True}, {"text": "b", "label": 1}, {"text": "c", "label": 1.0},
            {"text": "d", "label": True}, {"text": "e", "label": "1"}]
    _jsonl(tmp_path / "g.jsonl", rows)
    d = load_groups(tmp_path / "g.jsonl")
    assert d.labels.tolist() == [0, 1, 2, 0, 3]
