"""A persistent FAISS index of texts: build, add, remove, search, save, load.

FAISS is optional (``pip install "neardup[faiss]"``); importing this package does not need it.
"""

from __future__ import annotations

from neardup.index.core import (
    AUTO_HNSW_THRESHOLD,
    FORMAT_VERSION,
    Index,
    IndexType,
    SearchHit,
    read_manifest,
)

__all__ = [
    "AUTO_HNSW_THRESHOLD",
    "FORMAT_VERSION",
    "Index",
    "IndexType",
    "SearchHit",
    "read_manifest",
]
