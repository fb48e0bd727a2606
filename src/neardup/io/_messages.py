"""Message helpers shared by the readers and :func:`load_collection`."""

from __future__ import annotations

import difflib
from typing import Iterable, Sequence

from neardup.errors import InputError

_MAX_LISTED = 30


def quoted_list(names: Iterable[object], limit: int = _MAX_LISTED) -> str:
    """``'a', 'b', 'c'`` (and ``... and 12 more`` past ``limit``)."""
    items = [repr(str(n)) for n in names]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f", ... and {len(items) - limit} more"
    return ", ".join(items) if items else "(none)"


def missing_column_error(
    source: str, missing: Sequence[object], available: Sequence[object], option: str | None
) -> InputError:
    """An error naming the missing column(s), the available ones and a close match if any."""
    names = [str(a) for a in available]
    which = quoted_list(missing)
    noun = "column" if len(missing) == 1 else "columns"
    hints = []
    for name in missing:
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        lowered = [a for a in names if a.casefold() == str(name).casefold()]
        guess = lowered[0] if lowered else (close[0] if close else None)
        if guess is not None:
            hints.append(f"did you mean {guess!r} instead of {str(name)!r}?")
    hint = (" " + " ".join(h[0].upper() + h[1:] for h in hints)) if hints else ""
    fix = f" Pass an existing column with {option}." if option else ""
    return InputError(
        f"{source!r} has no {noun} {which}. Available columns: {quoted_list(names)}.{hint}{fix}"
    )
