"""neardup: find near-duplicate and semantically similar texts.

>>> from neardup import Deduplicator
>>> result = Deduplicator().deduplicate(["Hello world!", "hello world", "Something else"])
>>> result.groups()
[['0', '1']]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Deduplicator",
    "DedupResult",
    "LeakResult",
    "Index",
    "SearchHit",
    "load_encoder",
    "NeardupError",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover
    from neardup.dedup import Deduplicator, DedupResult, LeakResult
    from neardup.errors import NeardupError
    from neardup.index import Index, SearchHit
    from neardup.models import load_encoder

_LAZY = {
    "Deduplicator": "neardup.dedup",
    "DedupResult": "neardup.dedup",
    "LeakResult": "neardup.dedup",
    "Index": "neardup.index",
    "SearchHit": "neardup.index",
    "load_encoder": "neardup.models",
    "NeardupError": "neardup.errors",
}


def __getattr__(name: str) -> Any:
    # lazy, so `import neardup` (and the CLI's start-up) does not import torch or faiss
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'neardup' has no attribute {name!r}")
