"""Text normalisation shared by exact matching, MinHash and character n-gram scoring."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+", re.UNICODE)
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalize(text: str, *, strip_punctuation: bool = True) -> str:
    """Canonical form used for matching: NFKC, case-folded, punctuation to space, spaces folded.

    NFKC folds full-width and compatibility characters (common in OCR and marketplace data);
    casefold handles more than ``lower`` (German sharp s, Cyrillic variants).
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    if strip_punctuation:
        text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()
