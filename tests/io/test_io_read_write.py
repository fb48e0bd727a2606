"""Reading and writing tables: faithful round trips and clear read errors."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from neardup.errors import InputError
from neardup.io import iter_batches, read_table, write_table

TEXTS = [
    'plain, with comma',
    'a "quoted" word',
    "two\nlines",
    "tab\there",
    "NA",
    "ünïcödé – 東京",
]
IDS = ["007", "1e5", "0x1F", "NaN", "12345678901234567890", "-0"]

ROUND_TRIP_NAMES = [
    "t.csv",
    "t.tsv",
    "t.jsonl",
    "t.parquet",
    "t.csv.gz",
    "t.jsonl.gz",
    "t.tsv.xz",
]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"id": IDS, "text": TEXTS, "lang": ["en"] * 5 + ["ja"]})


@pytest.mark.parametrize("name", ROUND_TRIP_NAMES)
def test_round_trip_keeps_ids_and_texts_exact(tmp_path, name):
    path = write_table(_frame(), tmp_path / name)
    back = read_table(path)
    assert list(back.columns) == ["id", "text", "lang"]
    assert back["id"].tolist() == IDS
    assert back["text"].tolist() == TEXTS
    assert isinstance(back.index, pd.RangeIndex)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary files left


def test_csv_numeric_looking_ids_stay_strings(tmp_path):
    (tmp_path / "a.csv").write_text("id,text\n007,x\n8,y\n9.0,z\n")
    assert read_table(tmp_path / "a.csv")["id"].tolist() == ["007", "8", "9.0"]


def test_csv_only_empty_cells_are_missing(tmp_path):
    (tmp_path / "a.csv").write_text("id,text\n1,NA\n2,\n3,null\n")
    texts = read_table(tmp_path / "a.csv")["text"].tolist()
    assert texts[0] == "NA" and texts[2] == "null" and pd.isna(texts[1])


def test_jsonl_keeps_integer_ids_exact_despite_gaps(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 9007199254740993, "t": "a"}\n\n{"id": null, "t": "b"}\n')
    frame = read_table(path)
    assert frame["id"].iloc[0] == 9007199254740993  # > 2**53: a float would round it
    assert pd.isna(frame["id"].iloc[1])


def test_excel_byte_order_mark_is_dropped(tmp_path):
    (tmp_path / "a.csv").write_bytes("\ufeffid,text\n1,x\n".encode("utf-8"))
    assert list(read_table(tmp_path / "a.csv").columns) == ["id", "text"]


def test_other_encodings_and_separators(tmp_path):
    (tmp_path / "a.csv").write_bytes("id;text\n1;café\n".encode("cp1252"))
    frame = read_table(tmp_path / "a.csv", encoding="cp1252", sep=";")
    assert frame["text"].tolist() == ["café"]


def test_columns_selects_and_names_missing(tmp_path):
    write_table(_frame(), tmp_path / "a.parquet")
    assert list(read_table(tmp_path / "a.parquet", columns=["text"]).columns) == ["text"]
    with pytest.raises(InputError) as err:
        read_table(tmp_path / "a.parquet", columns=["txt"])
    assert "'txt'" in str(err.value) and "'id', 'text', 'lang'" in str(err.value)


def test_parquet_index_is_kept_as_a_column(tmp_path):
    _frame().set_index("id").to_parquet(tmp_path / "a.parquet")
    back = read_table(tmp_path / "a.parquet")
    assert back["id"].tolist() == IDS and isinstance(back.index, pd.RangeIndex)


@pytest.mark.parametrize("name", ["b.csv", "b.jsonl", "b.parquet"])
def test_iter_batches_matches_read_table(tmp_path, name):
    frame = pd.DataFrame({"id": [f"{i:03d}" for i in range(25)], "text": ["x"] * 25})
    write_table(frame, tmp_path / name)
    batches = list(iter_batches(tmp_path / name, None, 10))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert batches[1].index[0] == 10  # global row positions
    pd.testing.assert_frame_equal(
        pd.concat(batches).reset_index(drop=True), read_table(tmp_path / name)
    )


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".csv.gz"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_blank_line_in_one_column_file_is_an_empty_row(tmp_path, suffix, newline):
    # One text per line: a blank line is a text (empty), so the rows after it keep their
    # numbers; the blank lines after the last text are only the file's ending.
    # (a CSV's quoted empty field is an empty text too; in a TSV without CSV quoting, which
    # this one is, "" would be two quote characters)
    empty = '""' if ".csv" in suffix else ""
    body = newline.join(["text", "first", "", "third", empty, "fifth", "", "", ""])
    path = tmp_path / f"t{suffix}"
    data = body.encode()
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    expected = ["first", None, "third", None, "fifth"]
    values = [None if pd.isna(v) else v for v in read_table(path)["text"]]
    assert values == expected
    for size in (1, 2, 4, 10):
        batches = list(iter_batches(path, None, size))
        assert all(len(b) for b in batches)
        joined = pd.concat(batches)
        assert list(joined.index) == list(range(5))
        assert [None if pd.isna(v) else v for v in joined["text"]] == expected


@pytest.mark.parametrize("first", ['"quoted" word', "plain"])
def test_empty_row_of_a_one_column_tsv_round_trips(tmp_path, first):
    (tmp_path / "t.tsv").write_text(f"text\n{first}\n\nlast\n")
    frame = read_table(tmp_path / "t.tsv")
    write_table(frame, tmp_path / "out.tsv")
    again = read_table(tmp_path / "out.tsv")
    assert [None if pd.isna(v) else v for v in again["text"]] == [first, None, "last"]


@pytest.mark.parametrize("header", ["id,text\n", "text\n"])
def test_header_only_csv_yields_one_empty_batch_with_the_columns(tmp_path, header):
    (tmp_path / "t.csv").write_text(header)
    batches = list(iter_batches(tmp_path / "t.csv", None, 10))
    assert len(batches) == 1 and len(batches[0]) == 0
    assert list(batches[0].columns) == header.strip().split(",")


def test_blank_lines_between_records_of_a_wider_table_are_no_rows(tmp_path):
    (tmp_path / "t.csv").write_text("id,text\na,first\n\nb,second\n\n")
    assert read_table(tmp_path / "t.csv")["id"].tolist() == ["a", "b"]


def test_iter_batches_checks_eagerly(tmp_path):
    with pytest.raises(InputError, match="File not found"):
        iter_batches(tmp_path / "missing.csv", "csv", 10)
    (tmp_path / "a.csv").write_text("id,text\n1,x\n")
    with pytest.raises(InputError, match="'body'"):
        iter_batches(tmp_path / "a.csv", None, 10, columns=["body"])
    with pytest.raises(InputError, match="batch_size"):
        iter_batches(tmp_path / "a.csv", None, 0)


# ----------------------------------------------------------------------------- errors


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError) as err:
        read_table(tmp_path / "nope.csv")
    assert "File not found" in str(err.value) and "nope.csv" in str(err.value)


@pytest.mark.parametrize("name", ["e.csv", "e.jsonl", "e.parquet"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(InputError, match=r"is empty \(0 bytes\)"):
        read_table(tmp_path / name)


def test_compressed_empty_file(tmp_path):
    (tmp_path / "e.csv.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(InputError, match="no header row"):
        read_table(tmp_path / "e.csv.gz")


def test_blank_jsonl(tmp_path):
    (tmp_path / "e.jsonl").write_text("\n\n")
    with pytest.raises(InputError, match="holds no records"):
        read_table(tmp_path / "e.jsonl")


def test_header_only_csv_gives_zero_rows(tmp_path):
    (tmp_path / "h.csv").write_text("id,text\n")
    assert read_table(tmp_path / "h.csv").shape == (0, 2)


def test_undecodable_bytes_give_offset_line_and_option(tmp_path):
    (tmp_path / "l.csv").write_bytes(b"id,text\n1,ok\n2,caf\xe9\n")
    with pytest.raises(InputError) as err:
        read_table(tmp_path / "l.csv")
    message = str(err.value)
    assert "utf-8" in message
    assert "0xE9 at offset 18 (line 3)" in message
    assert "--encoding" in message and "cp1252" in message


def test_undecodable_bytes_in_jsonl(tmp_path):
    (tmp_path / "l.jsonl").write_bytes(b'{"t": "ok"}\n{"t": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"offset 22 \(line 2\).*--encoding"):
        read_table(tmp_path / "l.jsonl")


def test_unknown_encoding(tmp_path):
    (tmp_path / "a.csv").write_text("id\n1\n")
    with pytest.raises(InputError, match="Unknown encoding 'utf9'"):
        read_table(tmp_path / "a.csv", encoding="utf9")


def test_csv_parse_error_gives_line(tmp_path):
    (tmp_path / "p.csv").write_text("id,text\n1,a\n2,b\n3,c,extra\n")
    with pytest.raises(InputError) as err:
        read_table(tmp_path / "p.csv")
    message = str(err.value)
    assert "record 4 (the header is record 1) has 3 fields, but the header has 2" in message
    assert "--sep" in message


def test_csv_trailing_separators_keep_every_column(tmp_path):
    # one empty field more per data row than the header: pandas alone would make the ids
    # the index and shift the texts into the id column
    (tmp_path / "t.csv").write_text("id,text\n007,hello there,\n008,something else,\n")
    frame = read_table(tmp_path / "t.csv")
    assert frame.columns.tolist() == ["id", "text"]
    assert frame["id"].tolist() == ["007", "008"]
    assert frame["text"].tolist() == ["hello there", "something else"]
    assert frame.index.equals(pd.RangeIndex(2))


@pytest.mark.parametrize("batched", [False, True])
def test_csv_extra_value_without_column_is_refused(tmp_path, batched):
    (tmp_path / "t.csv").write_text("id,text\n1,hello,\n2,hi,stray\n")
    with pytest.raises(InputError, match=r"data row 2 .*'stray' has no column"):
        if batched:
            list(iter_batches(tmp_path / "t.csv", batch_size=1))
        else:
            read_table(tmp_path / "t.csv")


def test_jsonl_round_trip_keeps_numbers_exact(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "007", "p": 1e-12, "q": 0.1234567890123, "n": {"a": [1, 2]}}\n'
                   '{"id": "008", "p": 2.5e-11, "q": 1}\n')
    back = write_table(read_table(src), tmp_path / "out.jsonl").read_text().splitlines()
    import json

    assert json.loads(back[0]) == {"id": "007", "p": 1e-12, "q": 0.1234567890123,
                                   "n": {"a": [1, 2]}}
    second = json.loads(back[1])
    assert second["q"] == 1 and isinstance(second["q"], int) and second["n"] is None


def test_jsonl_parse_error_gives_line(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"id": 1}\n{"id": 2,}\n')
    with pytest.raises(InputError, match="line 2 is not valid JSON"):
        read_table(tmp_path / "p.jsonl")
    (tmp_path / "q.jsonl").write_text('{"id": 1}\n[1, 2]\n')
    with pytest.raises(InputError, match="line 2 holds a JSON list, not an object"):
        read_table(tmp_path / "q.jsonl")


def test_corrupt_parquet(tmp_path):
    (tmp_path / "c.parquet").write_bytes(b"this is not parquet at all")
    with pytest.raises(InputError, match="as Parquet"):
        read_table(tmp_path / "c.parquet")


def test_corrupt_gzip(tmp_path):
    (tmp_path / "c.csv.gz").write_bytes(b"not gzip data")
    with pytest.raises(InputError, match="gzip-compressed CSV"):
        read_table(tmp_path / "c.csv.gz")


def test_folder_instead_of_file(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        read_table(tmp_path / "d.csv")


# Unquoted TSV, as NLP data sets write it (MRPC, GLUE): quotes are part of the text
UNQUOTED_TSV = (
    "id\ts1\ts2\tlabel\n"
    '1\t"The result is an overall package."\tThe result is a package.\t1\n'
    '2\t"Open quote never closed, he said\tHe said "no" twice\t0\n'
    "3\tplain\ttext\t1\n"
)


def test_unquoted_tsv_keeps_its_quotes_and_writes_them_back(tmp_path):
    src = tmp_path / "mrpc.tsv"
    src.write_text(UNQUOTED_TSV, encoding="utf-8")
    frame = read_table(src)
    assert frame["id"].tolist() == ["1", "2", "3"]
    assert frame["s1"].tolist() == ['"The result is an overall package."',
                                    '"Open quote never closed, he said', "plain"]
    assert frame["s2"][1] == 'He said "no" twice'
    out = write_table(frame, tmp_path / "out.tsv")
    assert out.read_text(encoding="utf-8") == UNQUOTED_TSV
    # a value that needs quoting to survive is written quoted, and reads back
    frame.loc[2, "s1"] = "now\twith a tab"
    again = read_table(write_table(frame, tmp_path / "quoted.tsv"))
    assert again["s1"].tolist() == frame["s1"].tolist()
    batches = list(iter_batches(src, batch_size=2))
    assert pd.concat(batches)["s1"].tolist() == read_table(src)["s1"].tolist()


def test_csv_quoted_tsv_is_still_read_with_quoting(tmp_path):
    frame = pd.DataFrame({"text": ['a "quoted" word', "tab\there", '"whole"'],
                          "id": ["1", "2", "3"]})
    src = tmp_path / "pandas.tsv"
    frame.to_csv(src, sep="\t", index=False)  # pandas quotes the first two values
    back = read_table(src)
    assert back["text"].tolist() == frame["text"].tolist()
    assert back.attrs == {}


def test_parquet_rows_are_written_back_with_their_arrow_types(tmp_path):
    import datetime
    import decimal

    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({
        "id": ["a", "b", "c"],
        "big": pa.array([9007199254740993, None, 3], pa.int64()),  # not exact as a float64
        "small": pa.array([1, None, 2], pa.uint8()),
        "st": pa.array([{"a": 1}, None, {"a": None}], pa.struct([("a", pa.int8())])),
        "m": pa.array([[("color", 1)], [("size", 2)], None], pa.map_(pa.string(), pa.int64())),
        "dec": pa.array([decimal.Decimal("1.50"), None, decimal.Decimal("123.45")],
                        pa.decimal128(5, 2)),
        "day": pa.array([datetime.date(2020, 1, 1), None, datetime.date(2021, 2, 3)]),
        "cat": pa.array(["u", "v", "u"]).dictionary_encode(),
    })
    pq.write_table(table, tmp_path / "in.parquet")
    frame = read_table(tmp_path / "in.parquet")
    assert frame["big"].tolist()[0] == 9007199254740993
    assert str(frame["big"].astype("string")[2]) == "3"  # a text column reads "3", not "3.0"
    write_table(frame.iloc[[0, 2]], tmp_path / "out.parquet")
    back = pq.read_table(tmp_path / "out.parquet")
    assert back.schema.equals(table.schema)
    assert back.to_pylist() == table.take([0, 2]).to_pylist()
    # batched reading gives the same types
    batches = list(iter_batches(tmp_path / "in.parquet", batch_size=2))
    assert batches[0]["big"].tolist()[0] == 9007199254740993


def test_a_parquet_column_the_caller_changed_keeps_its_new_values(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["a", "b"], "price": [1, 2], "code": ["x", "y"]}),
                   tmp_path / "p.parquet")
    frame = read_table(tmp_path / "p.parquet")
    frame["price"] = frame["price"] * 1.5  # int64 -> 1.5, 3.0
    frame["code"] = [1, 2]  # strings -> integers
    write_table(frame, tmp_path / "out.parquet")
    back = pq.read_table(tmp_path / "out.parquet").to_pydict()
    assert back["price"] == [1.5, 3.0] and back["code"] == [1, 2]
