"""Reading and writing tables: formats, faithful reads, collections and atomic writes.

Example (with a ``products.csv`` of your own)::

    from neardup.io import read_table, load_collection, write_table
    frame = read_table("products.csv")
    coll = load_collection(frame, ["title", "description"], "sku", source="products.csv")
    write_table(frame.assign(cluster=labels), "products.dedup.parquet")
"""

from __future__ import annotations

from neardup.io.atomic import atomic_output_dir, atomic_path
from neardup.io.collection import Collection, load_collection
from neardup.io.formats import FORMATS, Format, detect_format
from neardup.io.readers import DEFAULT_BATCH_SIZE, iter_batches, read_table
from neardup.io.writers import write_table

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "FORMATS",
    "Collection",
    "Format",
    "atomic_output_dir",
    "atomic_path",
    "detect_format",
    "iter_batches",
    "load_collection",
    "read_table",
    "write_table",
]
