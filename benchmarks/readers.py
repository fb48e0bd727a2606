"""Readers of the shared data's own formats, used by several benchmark scripts.

The scripts run as ``python benchmarks/<name>.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np


def read_paraphraser(data: Path) -> tuple[list[str], list[str], np.ndarray]:
    """paraphraser-ru train pairs with 0/1 labels (classes 0 and 1 positive, -1 negative)."""
    path = data / "paraphraser-ru" / "paraphrases_train.xml"
    # The XML declaration says 'UTF8', which ElementTree rejects: drop that line.
    root = ET.fromstring(path.read_text(encoding="utf-8").split("\n", 1)[1])
    left, right, labels = [], [], []
    for pair in root.iter("paraphrase"):
        values = {v.get("name"): v.text or "" for v in pair.iter("value")}
        left.append(values["text_1"])
        right.append(values["text_2"])
        labels.append(int(int(values["class"]) >= 0))
    return left, right, np.asarray(labels)


def read_ditto(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """A DITTO/ER-Magellan split file: ``text1 TAB text2 TAB label`` per line."""
    t1, t2, y = [], [], []
    with open(path, encoding="utf-8", newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not row:
                continue
            if len(row) != 3:
                raise SystemExit(f"{path}, line {lineno}: expected 3 tab-separated fields")
            t1.append(row[0].strip())
            t2.append(row[1].strip())
            y.append(int(row[2]))
    return t1, t2, np.array(y, np.int64)
