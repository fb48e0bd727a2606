"""Optional progress display shared by the candidate generators."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], *, total: int, description: str, enabled: bool) -> Iterator[T]:
    """Yield ``items``, drawing a progress bar on stderr when ``enabled``.

    rich is a core dependency (the CLI uses it), so no optional import is needed; the bar goes
    to stderr so that piped stdout output stays clean.
    """
    if not enabled:
        yield from items
        return
    from rich.console import Console
    from rich.progress import track

    yield from track(
        items,
        total=total,
        description=description,
        console=Console(stderr=True),
        transient=True,
    )
