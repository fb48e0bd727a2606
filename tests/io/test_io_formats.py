"""Format detection from file names."""

from __future__ import annotations

import pytest

from neardup.errors import InputError
from neardup.io import detect_format


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", "csv"),
        ("A.CSV", "csv"),
        ("a.tsv", "tsv"),
        ("a.tab", "tsv"),
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.parquet", "parquet"),
        ("a.pq", "parquet"),
        ("a.csv.gz", "csv"),
        ("a.tsv.bz2", "tsv"),
        ("a.jsonl.xz", "jsonl"),
        ("dir.v2/data.2024.csv", "csv"),
    ],
)
def test_detect_by_extension(name, expected):
    assert detect_format(name) == expected


def test_override_wins_and_accepts_aliases():
    assert detect_format("data.txt", "tsv") == "tsv"
    assert detect_format("data.csv", "JSONL") == "jsonl"
    assert detect_format("data", "ndjson") == "jsonl"


def test_unknown_override_lists_formats():
    with pytest.raises(InputError) as err:
        detect_format("a.csv", "xlsx")
    assert "'xlsx'" in str(err.value) and "csv, tsv, jsonl, parquet" in str(err.value)


@pytest.mark.parametrize("name", ["data.xlsx", "data", "data.txt.gz"])
def test_unknown_extension_lists_accepted_and_mentions_format_option(name):
    with pytest.raises(InputError) as err:
        detect_format(name)
    message = str(err.value)
    assert name in message
    assert ".csv" in message and ".jsonl" in message and ".parquet" in message
    assert "--format" in message


def test_compressed_parquet_is_refused():
    with pytest.raises(InputError, match="Parquet compresses internally"):
        detect_format("data.parquet.gz")


def test_json_is_accepted_when_it_is_json_lines(tmp_path):
    lines = tmp_path / "data.json"
    lines.write_text('{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n')
    assert detect_format(lines) == "jsonl"
    assert detect_format(tmp_path / "not-yet-written.json") == "jsonl"


def test_json_array_is_refused_with_a_conversion_hint(tmp_path):
    array = tmp_path / "data.json"
    array.write_text('  [{"id": 1, "text": "a"}]')
    with pytest.raises(InputError) as err:
        detect_format(array)
    assert "JSON array" in str(err.value) and "jq -c" in str(err.value)
