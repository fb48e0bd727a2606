"""A small multilingual sample collection with known duplicate groups.

The sample is written by code (no download): hand-written news headlines and product titles in
English, Russian and Indonesian, each with variants a real corpus has — OCR noise, abridgement
and hand-written paraphrases — plus unrelated items that must stay apart. The
``group`` column holds the true grouping so ``neardup evaluate`` can score the result.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from neardup.errors import InputError

# Each story: a base text and hand-written paraphrases (same meaning, different words).
_STORIES: list[tuple[str, list[str]]] = [
    (
        "Central bank raises interest rates by half a percentage point to fight inflation",
        ["The central bank lifted its key rate by 0.5 points in a bid to curb inflation"],
    ),
    (
        "Heavy rain causes flooding in the northern districts, hundreds of homes evacuated",
        ["Hundreds of families evacuated as floods hit northern districts after heavy rain"],
    ),
    (
        "Scientists discover a new species of frog in the rainforest of Borneo",
        ["A previously unknown frog species has been found in Borneo's rainforest"],
    ),
    (
        "City council approves plan to build a new bridge across the river",
        [],
    ),
    (
        "Local football club signs young striker on a three-year contract",
        ["Young forward joins the local football club on a three year deal"],
    ),
    (
        "Electric car sales doubled last year, according to an industry report",
        [],
    ),
    (
        "Центральный банк повысил ключевую ставку до 16 процентов годовых",
        ["ЦБ поднял ключевую ставку до 16% годовых"],
    ),
    (
        "В Москве открылась новая станция метро на Большой кольцевой линии",
        ["На Большой кольцевой линии московского метро открыли новую станцию"],
    ),
    (
        "Сборная России по хоккею выиграла товарищеский матч у команды Белоруссии",
        [],
    ),
    (
        "Учёные создали новый материал для солнечных батарей с рекордным КПД",
        ["Создан материал для солнечных панелей с рекордной эффективностью"],
    ),
    (
        "В регионе ожидаются сильные морозы до минус тридцати градусов",
        [],
    ),
    (
        "Pemerintah menaikkan harga bahan bakar minyak mulai bulan depan",
        ["Harga BBM akan naik mulai bulan depan, kata pemerintah"],
    ),
    (
        "Banjir melanda Jakarta setelah hujan deras sepanjang malam",
        ["Hujan deras semalaman menyebabkan banjir di Jakarta"],
    ),
    (
        "Timnas Indonesia menang 2-0 atas Vietnam di babak kualifikasi",
        [],
    ),
    (
        "Gunung Merapi kembali erupsi, warga diminta menjauh dari lereng",
        ["Merapi erupsi lagi, penduduk diimbau menjauhi lereng gunung"],
    ),
    (
        "Samsung Galaxy A54 5G 8GB/256GB Awesome Black - Garansi Resmi",
        ["Samsung A54 5G RAM 8 256GB Hitam Garansi Resmi Indonesia"],
    ),
    (
        "Apple iPhone 13 128GB Midnight - original, sealed box",
        [],
    ),
    (
        "Sepatu Lari Pria Nike Air Zoom Pegasus 39 Original",
        ["Nike Air Zoom Pegasus 39 sepatu running pria ORIGINAL"],
    ),
]

# Items with no duplicate; several are deliberately close in topic or wording to a story so
# that a good pipeline must keep them apart (different model numbers, different events).
_SINGLETONS: list[str] = [
    "Apple iPhone 13 256GB Blue - original, sealed box",
    "Samsung Galaxy A34 5G 6GB/128GB Awesome Silver",
    "Sepatu Lari Wanita Adidas Ultraboost 22 Original",
    "Central bank leaves interest rates unchanged for the third month",
    "Heavy snow closes mountain roads in the southern region",
    "City council rejects plan for a new shopping centre downtown",
    "Центральный банк сохранил ключевую ставку на прежнем уровне",
    "В Санкт-Петербурге открылся новый мост через Неву",
    "Harga beras turun di pasar tradisional menjelang panen raya",
    "Timnas Indonesia kalah 0-1 dari Thailand dalam laga persahabatan",
    "A new museum of modern art opens in the old harbour warehouse",
    "Researchers report progress in battery recycling technology",
    "Фермеры начали посевную кампанию раньше обычного",
    "Universitas membuka program beasiswa untuk mahasiswa berprestasi",
]

_OCR_SWAPS = {
    "o": "0", "l": "1", "i": "l", "e": "c", "a": "o", "m": "rn", "s": "5",
    "о": "0", "е": "с", "а": "о", "и": "н",
}


def _ocr_noise(text: str, rng: random.Random, rate: float = 0.06) -> str:
    out = []
    for ch in text:
        if ch.lower() in _OCR_SWAPS and rng.random() < rate:
            out.append(_OCR_SWAPS[ch.lower()])
        elif ch == " " and rng.random() < rate / 2:
            continue  # OCR often loses spaces
        else:
            out.append(ch)
    return "".join(out)


def _abridge(text: str, rng: random.Random) -> str:
    words = text.split()
    keep = max(4, int(len(words) * rng.uniform(0.65, 0.85)))
    return " ".join(words[:keep])


def _case_and_punct(text: str, rng: random.Random) -> str:
    return (text.upper() if rng.random() < 0.5 else text.lower()).rstrip(".") + " !!"


@dataclass(frozen=True)
class SampleFiles:
    """Paths of the sample files that :func:`write_sample` created."""

    news: Path
    n_rows: int
    n_groups: int  #: true groups, singletons included
    n_duplicate_groups: int  #: true groups of two or more rows (what a perfect dedup reports)


def make_sample(seed: int = 7) -> pd.DataFrame:
    """Build the sample as a DataFrame with columns ``id, title, source, group``."""
    rng = random.Random(seed)
    rows: list[tuple[str, str]] = []
    for g, (base, paraphrases) in enumerate(_STORIES):
        group = f"g{g:02d}"
        rows.append((base, group))
        rows.append((_ocr_noise(base, rng), group))
        if rng.random() < 0.6:
            rows.append((_abridge(base, rng), group))
        if rng.random() < 0.4:
            rows.append((_case_and_punct(base, rng), group))
        for p in paraphrases:
            rows.append((p, group))
    for s, text in enumerate(_SINGLETONS):
        rows.append((text, f"s{s:02d}"))
    rng.shuffle(rows)
    sources = ["wire", "web", "print"]
    return pd.DataFrame(
        {
            "id": [f"doc-{i:03d}" for i in range(len(rows))],
            "title": [t for t, _ in rows],
            "source": [sources[i % 3] for i in range(len(rows))],
            "group": [g for _, g in rows],
        }
    )


def write_sample(directory: str | Path, seed: int = 7) -> SampleFiles:
    """Write ``news.csv`` into ``directory`` (created if needed) and describe it.

    A ``news.csv`` already there is replaced only when it is a sample too (the same header); any
    other file (the user's own) is refused rather than overwritten.
    """
    from neardup.io import write_table

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"cannot write the sample into {directory}: it is a file, not a "
                         "folder; pass a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the folder {directory}: {err.strerror}; pass a folder "
                         "that can be created") from None
    frame = make_sample(seed)
    path = directory / "news.csv"
    if path.exists():
        # a sample an older neardup wrote has the same header: that one may be replaced
        first = None
        if path.is_file():
            with open(path, encoding="utf-8", errors="replace") as fh:
                first = fh.readline().rstrip("\r\n")
        if first != ",".join(frame.columns):
            raise InputError(
                f"{path} already exists and is not neardup's sample; pass another folder, "
                "or move that file away first"
            )
    write_table(frame, path)
    sizes = frame["group"].value_counts()
    return SampleFiles(news=path, n_rows=len(frame), n_groups=int(sizes.size),
                       n_duplicate_groups=int((sizes > 1).sum()))
