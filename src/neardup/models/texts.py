"""Argument checks shared by the encoders, so bad input fails with a clear message."""

from __future__ import annotations

from collections.abc import Sequence

from neardup.errors import InputError

KINDS = ("query", "passage")

# Comparing texts with each other (dedup, pair scoring, STS) is a symmetric task; e5 is trained
# with its "query: " prompt on both sides for those (and scores 1-2 Spearman points higher on
# STS with it than with "passage: "). "passage" is for the documents of a search index. Models
# without prompts ignore the kind.
SYMMETRIC_KIND = "query"

# Prompt names that sentence-transformers models use for each kind, most specific first.
PROMPT_NAMES: dict[str, tuple[str, ...]] = {
    "query": ("query",),
    "passage": ("passage", "document"),
}


def prompt_name_for(prompts: dict[str, str], kind: str) -> str | None:
    """The model's prompt name for ``kind`` ("passage" falls back to "document"), or None."""
    for candidate in PROMPT_NAMES[kind]:
        if candidate in prompts:
            return candidate
    return None


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be 'query' or 'passage', got {kind!r}")


def check_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, after checking every item is a string.

    A missing cell read by pandas arrives as a float NaN or None; the tokenizer would fail
    on it with an unhelpful message, so we name the position instead.
    """
    if isinstance(texts, str):
        raise TypeError("encode() takes a sequence of texts; wrap a single text in a list")
    items = list(texts)
    for position, text in enumerate(items):
        if not isinstance(text, str):
            raise InputError(
                f"Text at position {position} is {text!r} ({type(text).__name__}), not a "
                "string. Fill or drop empty cells before encoding."
            )
    return items


def check_encode_args(texts: Sequence[str], kind: str, batch_size: int) -> list[str]:
    """The checks every encoder's ``encode`` starts with; returns ``texts`` as a list."""
    check_kind(kind)
    items = check_texts(texts)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return items
