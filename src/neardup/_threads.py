"""Chunked work on threads, for numpy and scipy kernels that release the GIL."""

from __future__ import annotations

import os
from collections.abc import Callable


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def run_chunks(work: Callable[[int, int], None], total: int, chunk: int,
               min_chunk: int = 1) -> None:
    """Call ``work(start, stop)`` over ``[0, total)`` in slices of at most ``chunk`` items
    (:func:`even_chunk` sizes them), on up to :func:`cpu_count` threads. Each call must write
    only its own slice of the output, so the result does not depend on scheduling."""
    size = even_chunk(total, chunk, min_chunk)
    starts = range(0, total, size)
    workers = min(len(starts), cpu_count())
    if workers <= 1:
        for start in starts:
            work(start, min(start + size, total))
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        # list(): re-raises the first error
        list(pool.map(lambda start: work(start, min(start + size, total)), starts))


def even_chunk(total: int, cap: int, floor: int = 1) -> int:
    """The chunk size :func:`run_chunks` uses: at most ``cap``, splitting ``total`` items into a
    multiple of :func:`cpu_count` chunks of near-equal size (but not below ``floor``), so that
    no thread is left with one chunk more than the others: 255,000 pairs in chunks of 100,000
    kept one of two threads busy for two chunks while the other had one."""
    workers = cpu_count()
    n = max(1, -(-total // max(cap, 1)))
    n = -(-n // workers) * workers
    return max(1, floor, min(cap, -(-total // n)))
