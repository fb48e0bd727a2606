"""From a table to ids and texts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neardup.errors import InputError
from neardup.io import load_collection, read_table


def test_single_column_and_row_number_ids():
    frame = pd.DataFrame({"text": ["a", "b", "c"]})
    coll = load_collection(frame, ["text"], None, source="x.csv")
    assert coll.texts == ["a", "b", "c"]
    assert coll.ids == ["0", "1", "2"]
    assert coll.empty_rows == []
    assert coll.frame is frame
    assert len(coll) == 3
    assert "rows=3" in repr(coll)


def test_several_text_columns_are_joined_skipping_empty_parts():
    frame = pd.DataFrame(
        {
            "title": ["Red shoe", None, "  ", "Blue hat"],
            "body": ["size 42", "only body", None, ""],
        }
    )
    coll = load_collection(frame, ["title", "body"], None, source="x.csv")
    assert coll.texts == ["Red shoe size 42", "only body", "", "Blue hat"]
    assert coll.empty_rows == [2]


def test_empty_rows_are_reported_and_kept(tmp_path):
    (tmp_path / "a.csv").write_text('id,text\na,hello\nb,\nc,"   "\nd,world\n')
    coll = load_collection(read_table(tmp_path / "a.csv"), ["text"], "id", source="a.csv")
    assert coll.ids == ["a", "b", "c", "d"]
    assert coll.empty_rows == [1, 2]
    assert len(coll.texts) == 4


def test_blank_lines_of_a_one_text_per_line_file_keep_row_numbers(tmp_path):
    (tmp_path / "a.csv").write_text("text\nhello\n\nworld\nhello\n\n")
    coll = load_collection(read_table(tmp_path / "a.csv"), ["text"], None, source="a.csv")
    assert coll.ids == ["0", "1", "2", "3"]
    assert coll.texts == ["hello", "", "world", "hello"]
    assert coll.empty_rows == [1]


def test_numbers_in_text_columns_are_converted():
    frame = pd.DataFrame({"t": [1, 2, 3], "u": [1.5, np.nan, 3.0]})
    coll = load_collection(frame, ["t", "u"], None, source="x.parquet")
    assert coll.texts == ["1 1.5", "2", "3 3.0"]


def test_ids_keep_their_text_and_integers_become_strings():
    frame = pd.DataFrame({"id": ["007", "008"], "n": [7, 8], "f": [7.0, 8.0], "text": ["a", "b"]})
    assert load_collection(frame, "text", "id", source="s").ids == ["007", "008"]
    assert load_collection(frame, "text", "n", source="s").ids == ["7", "8"]
    assert load_collection(frame, "text", "f", source="s").ids == ["7", "8"]


def test_missing_text_column_lists_available_and_suggests():
    frame = pd.DataFrame({"id": [1], "Text": ["a"], "title": ["b"]})
    with pytest.raises(InputError) as err:
        load_collection(frame, ["text"], None, source="data.csv")
    message = str(err.value)
    assert "'data.csv' has no column 'text'" in message
    assert "Available columns: 'id', 'Text', 'title'" in message
    assert "Did you mean 'Text'" in message
    assert "--text" in message


def test_missing_id_column():
    frame = pd.DataFrame({"text": ["a"]})
    with pytest.raises(InputError) as err:
        load_collection(frame, ["text"], "sku", source="data.csv")
    assert "no column 'sku'" in str(err.value) and "--id" in str(err.value)


def test_no_text_column_given():
    with pytest.raises(InputError, match="--text"):
        load_collection(pd.DataFrame({"t": ["a"]}), [], None, source="s")


def test_duplicate_ids_are_named_with_rows():
    frame = pd.DataFrame({"id": ["a", "b", "a", "c", "b", "a"], "text": list("uvwxyz")})
    with pytest.raises(InputError) as err:
        load_collection(frame, ["text"], "id", source="data.csv")
    message = str(err.value)
    assert "column 'id' is not unique" in message
    assert "'a' in rows 0, 2, 5" in message and "'b' in rows 1, 4" in message
    assert "drop --id" in message


def test_missing_ids_are_refused():
    frame = pd.DataFrame({"id": ["a", None, ""], "text": ["x", "y", "z"]})
    with pytest.raises(InputError, match=r"no id in rows 1, 2.*drop --id"):
        load_collection(frame, ["text"], "id", source="data.csv")


def test_empty_collection():
    with pytest.raises(InputError, match="'data.csv' has no rows"):
        load_collection(pd.DataFrame({"text": []}), ["text"], None, source="data.csv")


@pytest.mark.parametrize("value", [["a", "b"], {"k": "v"}])
def test_containers_in_text_columns_are_refused(value):
    frame = pd.DataFrame({"text": ["ok", "fine", None]}, dtype=object)
    frame.at[2, "text"] = value
    with pytest.raises(InputError) as err:
        load_collection(frame, ["text"], None, source="data.jsonl")
    message = str(err.value)
    assert "'data.jsonl' row 2, column 'text'" in message
    assert type(value).__name__ in message


def test_jsonl_list_value_end_to_end(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n{"text": ["y", "z"]}\n')
    frame = read_table(tmp_path / "a.jsonl")
    with pytest.raises(InputError, match="row 1, column 'text' holds a list"):
        load_collection(frame, ["text"], None, source="a.jsonl")


def test_empty_rows_are_the_ones_dedup_counts_empty():
    from neardup.dedup import Deduplicator

    texts = ["hello", "\u200b", "😀", "  ", "\ufeff\u200b x"]
    coll = load_collection(pd.DataFrame({"text": texts}), ["text"], None, source="x.csv")
    assert coll.empty_rows == [1, 3]
    assert Deduplicator(None, threshold=0.5).deduplicate(coll.texts).empty_rows == [1, 3]
