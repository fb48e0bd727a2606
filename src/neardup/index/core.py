"""A persistent, searchable FAISS index of texts with ids and metadata.

Storage folder (written by :meth:`Index.save`, read by :meth:`Index.load`):

``index.faiss``
    the FAISS index (``faiss.write_index``); vectors are keyed by an internal int64 id.
``items.parquet``
    one row per live item: ``id``, ``text``, the metadata columns and ``_faiss_id``.
``manifest.json``
    format version, neardup version, model name, dim, prompts, metric, index type and
    parameters, count, timestamps and file sizes. Written last, so that a manifest always
    describes complete files; the recorded sizes let :meth:`Index.load` spot a folder left
    inconsistent by an interrupted save.

Vectors are L2-normalised and compared by inner product, i.e. cosine similarity.

Index types
-----------
``"flat"``
    exact search (``IndexIDMap2(IndexFlatIP)``); removals delete vectors at once.
``"hnsw"``
    approximate graph search (``IndexIDMap2(IndexHNSWFlat)``, inner product). HNSW graphs
    cannot delete nodes (FAISS raises "remove_ids not implemented"), so removed items become
    *tombstones*: their vectors stay in the graph, searches ask FAISS for ``k`` plus the
    number of tombstones and drop them, and :meth:`Index.save` (or :meth:`Index.compact`)
    rebuilds the graph without them. Saved indexes therefore never contain tombstones.
``"auto"``
    ``"flat"`` below :data:`AUTO_HNSW_THRESHOLD` vectors at build time, else ``"hnsw"``.
    The type is fixed at build; an index that grows by :meth:`Index.add` keeps it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from neardup.errors import InputError, ModelError, require
from neardup.io.atomic import atomic_output_dir
from neardup.io.values import plain_value
from neardup.io.writers import write_table

if TYPE_CHECKING:
    from neardup.models.base import Encoder

IndexType = Literal["flat", "hnsw"]

FORMAT_VERSION = 1
FORMAT_NAME = "neardup-index"
INDEX_FILE = "index.faiss"
ITEMS_FILE = "items.parquet"
MANIFEST_FILE = "manifest.json"
METRIC = "cosine"

#: "auto" picks HNSW from this many vectors on. Below it an exact flat scan of normalised
#: float32 vectors takes a few milliseconds per query on one core (50,000 x 384 dims is
#: ~19M multiply-adds), gives exact results and needs no graph build; above it query time
#: grows linearly while HNSW stays near logarithmic at >0.95 recall with the parameters below.
AUTO_HNSW_THRESHOLD = 50_000

#: Graph degree. 32 is the usual recall/memory balance for 256-1024-dim text embeddings.
HNSW_M = 32
#: Candidate list size while building. FAISS's default (40) gives noticeably lower recall on
#: text embeddings; 200 costs build time once and pays at every query.
HNSW_EF_CONSTRUCTION = 200
#: Candidate list size while searching (raised to k plus tombstones when that is larger).
#: FAISS's default (16) is too small for k=10 with good recall.
HNSW_EF_SEARCH = 128

_ID = "id"
_TEXT = "text"
_FID = "_faiss_id"
RESERVED_COLUMNS: tuple[str, ...] = (_ID, _TEXT, _FID)
_EXAMPLES = 5


def _faiss() -> Any:
    return require("faiss", "faiss", "The search index")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _neardup_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("neardup")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _listed(values: Iterable[object]) -> str:
    items = [repr(v) for v in values]
    if len(items) > _EXAMPLES:
        return ", ".join(items[:_EXAMPLES]) + f" and {len(items) - _EXAMPLES} more"
    return ", ".join(items)


def _nullable(items: pd.DataFrame) -> pd.DataFrame:
    """Integer and boolean metadata columns as pandas' nullable types, which hold missing
    values without becoming floats (or objects)."""
    out = items.copy()
    for col in out.columns:
        if col in RESERVED_COLUMNS:
            continue
        kind = out[col].dtype.kind
        if kind == "O":
            # booleans or integers with missing values arrive as objects (pandas, Arrow)
            kind = _object_kind(out[col])
        if kind in "iu":
            out[col] = out[col].astype("Int64")
        elif kind == "b":
            out[col] = out[col].astype("boolean")
    return out


def _object_kind(column: pd.Series) -> str:
    """"b", "i" or "s" when every present value of an object column is a bool, an integer or
    a string; "O" otherwise (also when none is present)."""
    present = column.dropna().tolist()
    if not present:
        return "O"
    if all(isinstance(v, (bool, np.bool_)) for v in present):
        return "b"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
           for v in present):
        return "i"
    if all(isinstance(v, str) for v in present):
        return "s"
    return "O"


def _match_metadata_types(items: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """New metadata in the types the index already holds for the same columns.

    CSV cells arrive as strings: "3" for a column of integers is converted, "three" is
    refused with the column named, rather than turning every stored value into a string.
    """
    out = meta.copy()
    for col in out.columns:
        if col not in items.columns or col in RESERVED_COLUMNS:
            continue
        have, new = items[col].dtype, out[col].dtype
        if have.kind not in "iufb":
            if new.kind in "iufb" and _object_kind(items[col]) == "s":
                # a text column stays text: 3 would be 3 until the index is saved, then "3"
                out[col] = out[col].map(lambda v: v if pd.isna(v) else str(v)).astype(object)
            continue
        if out[col].isna().all():
            out[col] = out[col].astype("float64" if have.kind == "f" else
                                       "boolean" if have.kind == "b" else "Int64")
            continue
        if new.kind in "iufb":
            if (have.kind == "b") != (new.kind == "b"):
                out[col] = _bool_number_mix(col, have, out[col])
            continue
        values = out[col].astype("string").str.strip()
        try:
            if have.kind == "b":
                mapping = {"true": True, "false": False, "1": True, "0": False}
                lowered = values.str.lower()
                bad = lowered.notna() & ~lowered.isin(list(mapping))
                if bad.any():
                    raise ValueError(values[bad].iloc[0])
                out[col] = lowered.map(mapping).astype("boolean")
            else:
                numbers = pd.to_numeric(values, errors="raise")
                if have.kind in "iu":
                    out[col] = numbers.astype("Int64")  # raises on 3.5
                else:
                    out[col] = numbers.astype("float64")
        except (ValueError, TypeError) as exc:
            sample = next((v for v in meta[col].tolist() if not _is_number_like(v, have.kind)),
                          str(exc))
            raise InputError(
                f"Metadata column {col!r} holds {have} values in the index, but the rows to add "
                f"have {sample!r}; give values of the same type, or a new column name."
            ) from None
    return out


def _bool_number_mix(col: str, have: np.dtype, values: pd.Series) -> pd.Series:
    """Numbers for a boolean column (1/0 only) or booleans for a numeric one: refused unless
    the meaning is plain, since pandas would silently make the column objects (then text)."""
    if have.kind == "b":
        present = values.dropna()
        if present.isin([0, 1]).all():
            return values.map(lambda v: v if pd.isna(v) else bool(v)).astype("boolean")
        sample = present[~present.isin([0, 1])].iloc[0]
    else:
        sample = values.dropna().iloc[0]
    sample = sample.item() if isinstance(sample, np.generic) else sample
    raise InputError(
        f"Metadata column {col!r} holds {have} values in the index, but the rows to add "
        f"have {sample!r}; give values of the same type, or a new column name."
    )


def _is_number_like(value: Any, kind: str) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return True
    text = str(value).strip().lower()
    if kind == "b":
        return text in ("true", "false", "1", "0")
    try:
        number = float(text)
    except ValueError:
        return False
    return kind not in "iu" or number.is_integer()


@dataclass(frozen=True)
class SearchHit:
    """One search result: the item's ``id``, cosine ``score`` (higher is closer), ``text``
    and its ``metadata`` (column -> value, ``None`` where the item has no value)."""

    id: str
    score: float
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def _as_str_list(values: str | Iterable[Any], what: str) -> list[str]:
    if isinstance(values, str):
        return [values]
    out: list[str] = []
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise InputError(
                f"{what}[{i}] is a {type(value).__name__} ({value!r}); {what} must be strings."
            )
        out.append(value)
    return out


def _as_ids(values: str | Iterable[Any]) -> list[str]:
    if isinstance(values, str):
        return [values]
    out: list[str] = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            out.append(str(int(value)))  # integer ids are fine; they are stored as strings
        else:
            raise InputError(
                f"ids[{i}] is a {type(value).__name__} ({value!r}); ids must be strings or "
                "integers."
            )
    return out


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer (the number of results), got {k!r}.")
    return int(k)


def _resolve_type(index_type: str, n: int) -> IndexType:
    if index_type == "auto":
        return "flat" if n < AUTO_HNSW_THRESHOLD else "hnsw"
    if index_type in ("flat", "hnsw"):
        return index_type  # type: ignore[return-value]
    raise InputError(f"Unknown index type {index_type!r}. Use 'auto', 'flat' or 'hnsw'.")


def _default_params(index_type: IndexType) -> dict[str, int]:
    if index_type == "hnsw":
        return {"M": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": HNSW_EF_SEARCH}
    return {}


def _new_faiss_index(index_type: IndexType, dim: int, params: Mapping[str, int]) -> Any:
    faiss = _faiss()
    if index_type == "flat":
        inner = faiss.IndexFlatIP(dim)
    else:
        inner = faiss.IndexHNSWFlat(dim, int(params["M"]), faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = int(params["ef_construction"])
        inner.hnsw.efSearch = int(params["ef_search"])
    # IDMap2 maps our stable int64 ids to vectors and can reconstruct them by id
    return faiss.IndexIDMap2(inner)


def _empty_items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            _ID: pd.Series([], dtype=object),
            _TEXT: pd.Series([], dtype=object),
            _FID: pd.Series([], dtype=np.int64),
        }
    )


def _encoder_prompts(encoder: Any) -> dict[str, str] | None:
    prompts = getattr(encoder, "prompts", None)
    if isinstance(prompts, Mapping):
        return {str(k): str(v) for k, v in prompts.items()}
    return None


class Index:
    """Texts, ids and metadata with their vectors, searchable by cosine similarity.

    Create one with :meth:`build` or :meth:`load`; then :meth:`add`, :meth:`remove`,
    :meth:`search` and :meth:`save`. ``len(index)`` is the number of live items.

    Example::

        index = Index.build(texts, ids, encoder)
        index.search("cheap flights to rome", k=5)[0][0].id
        index.save("my-index")
        index = Index.load("my-index")  # the model named in the manifest
    """

    def __init__(
        self,
        encoder: Encoder,
        *,
        index_type: IndexType,
        index_params: Mapping[str, int],
        faiss_index: Any,
        items: pd.DataFrame,
        next_faiss_id: int,
        created: str,
        updated: str,
        batch_size: int = 64,
        path: Path | None = None,
    ) -> None:
        """Internal: use :meth:`build` or :meth:`load`."""
        self.encoder = encoder
        self.model_name: str = str(encoder.name)
        self.dim: int = int(encoder.dim)
        self.index_type: IndexType = index_type
        self.index_params: dict[str, int] = dict(index_params)
        self.batch_size = batch_size
        self.path = path
        self.created = created
        self.updated = updated
        self._faiss = faiss_index
        self._items = items.reset_index(drop=True)
        self._next_fid = int(next_faiss_id)
        self._tombstones: set[int] = set()
        self._reindex()

    # ------------------------------------------------------------------ construction

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        ids: Sequence[str],
        encoder: Encoder,
        *,
        metadata: pd.DataFrame | None = None,
        index_type: str = "auto",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> Index:
        """Encode ``texts`` as passages and index them under ``ids``.

        ``metadata`` rows go with ``texts`` by position and come back in
        :attr:`SearchHit.metadata`; its columns may not be named ``id``, ``text`` or
        ``_faiss_id``. ``index_type`` is ``"auto"``, ``"flat"`` or ``"hnsw"`` (see the module
        docs). An empty ``texts`` gives an empty index that items can be added to.
        """
        text_list = _as_str_list(texts, "texts")
        resolved = _resolve_type(index_type, len(text_list))
        params = _default_params(resolved)
        now = _now()
        index = cls(
            encoder,
            index_type=resolved,
            index_params=params,
            faiss_index=_new_faiss_index(resolved, int(encoder.dim), params),
            items=_empty_items(),
            next_faiss_id=0,
            created=now,
            updated=now,
            batch_size=batch_size,
        )
        index.add(text_list, ids, metadata, show_progress=show_progress)
        index.updated = now
        return index

    # ---------------------------------------------------------------------- queries

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item_id: object) -> bool:
        # integer ids are stored as strings, as add and remove take them
        try:
            return _as_ids([item_id])[0] in self._id_set
        except InputError:
            return False

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path is not None else ""
        return (
            f"Index(model={self.model_name!r}, dim={self.dim}, type={self.index_type!r}, "
            f"items={len(self)}{where})"
        )

    @property
    def ids(self) -> list[str]:
        """Ids of the live items, in insertion order."""
        return [str(v) for v in self._items[_ID].tolist()]

    @property
    def metadata_columns(self) -> list[str]:
        return [c for c in self._items.columns if c not in RESERVED_COLUMNS]

    @property
    def items(self) -> pd.DataFrame:
        """A copy of the live items: ``id``, ``text`` and metadata columns."""
        return self._items.drop(columns=[_FID]).copy()

    # --------------------------------------------------------------------- mutation

    def add(
        self,
        texts: str | Sequence[str],
        ids: str | Sequence[str],
        metadata: pd.DataFrame | None = None,
        *,
        show_progress: bool = False,
    ) -> None:
        """Encode and add items. Ids must be new: one already in the index is refused
        (remove it first to replace it). Metadata columns not seen before are added; items
        without a value for a column get ``None``."""
        text_list = _as_str_list(texts, "texts")
        id_list = _as_ids(ids)
        if len(text_list) != len(id_list):
            raise InputError(
                f"Got {len(text_list)} texts but {len(id_list)} ids; give one id per text."
            )
        self._check_new_ids(id_list)
        meta = self._check_metadata(metadata, len(text_list))
        if not text_list:
            return
        if meta is not None and len(self._items):
            meta = _match_metadata_types(_nullable(self._items), meta)
        vectors = self._encode(text_list, "passage", show_progress=show_progress)
        fids = np.arange(self._next_fid, self._next_fid + len(text_list), dtype=np.int64)
        new_items = pd.DataFrame({_ID: id_list, _TEXT: text_list, _FID: fids})
        if meta is not None:
            new_items = pd.concat([new_items, meta], axis=1)  # both indexed 0..n-1
        self._faiss.add_with_ids(vectors, fids)
        self._next_fid += len(text_list)
        if len(self._items) == 0:
            columns = list(self._items.columns) + [
                c for c in new_items.columns if c not in self._items.columns
            ]
            self._items = new_items.reindex(columns=columns)
        else:
            # rows lacking a column (old or new ones) must not turn 3 into 3.0
            # (and once more after: a column all missing so far takes the type of its values)
            self._items = _nullable(pd.concat([_nullable(self._items), _nullable(new_items)],
                                              ignore_index=True, sort=False))
        self._items[_FID] = self._items[_FID].astype(np.int64)
        self._touch()

    def remove(self, ids: str | Iterable[str], *, missing_ok: bool = False) -> int:
        """Remove items by id; returns how many were removed.

        Unknown ids raise :class:`InputError` naming them, unless ``missing_ok``.
        """
        wanted = list(dict.fromkeys(_as_ids(ids)))
        unknown = [i for i in wanted if i not in self._id_set]
        if unknown and not missing_ok:
            raise InputError(
                f"{len(unknown)} id{'s are' if len(unknown) > 1 else ' is'} not in the index: "
                f"{_listed(unknown)}. Check the ids, or pass missing_ok=True (--missing-ok) "
                "to skip unknown ones."
            )
        mask = self._items[_ID].isin(wanted).to_numpy()
        if not mask.any():
            return 0
        fids = self._items[_FID].to_numpy(dtype=np.int64)[mask]
        if self.index_type == "flat":
            self._faiss.remove_ids(np.ascontiguousarray(fids))
        else:
            self._tombstones.update(int(f) for f in fids)
        self._items = self._items.loc[~mask].reset_index(drop=True)
        self._touch()
        return int(mask.sum())

    def compact(self) -> None:
        """Rebuild an HNSW graph without the vectors of removed items (no-op otherwise)."""
        if not self._tombstones:
            return
        faiss = _faiss()
        inner = faiss.downcast_index(self._faiss.index)
        vectors = inner.reconstruct_n(0, inner.ntotal)
        fids = faiss.vector_to_array(self._faiss.id_map).astype(np.int64)
        keep = ~np.isin(fids, np.fromiter(self._tombstones, dtype=np.int64))
        rebuilt = _new_faiss_index(self.index_type, self.dim, self.index_params)
        if keep.any():
            rebuilt.add_with_ids(
                np.ascontiguousarray(vectors[keep]), np.ascontiguousarray(fids[keep])
            )
        self._faiss = rebuilt
        self._tombstones.clear()

    # ----------------------------------------------------------------------- search

    def search(
        self, queries: str | Sequence[str], k: int = 10
    ) -> list[list[SearchHit]]:
        """The ``k`` items closest to each query (encoded with the query prompt).

        Returns one list per query, best first; ties are ordered by id so results are
        deterministic. ``k`` larger than the index returns every item.
        """
        k = _check_k(k)
        query_list = _as_str_list(queries, "queries")
        if not query_list:
            return []
        if len(self) == 0:
            return [[] for _ in query_list]
        vectors = self._encode(query_list, "query")
        ntotal = int(self._faiss.ntotal)
        # tombstoned vectors can fill the first places: ask for enough to still have k live;
        # one more than that shows whether a tie crosses the cut (with exactly k fetched, the
        # k-th score always equals the lowest fetched, and every search ran twice)
        fetch = min(k + 1 + len(self._tombstones), ntotal)
        while True:
            scores, labels = self._raw_search(vectors, fetch)
            positions = self._position_of_fid.get_indexer(labels.ravel()).reshape(labels.shape)
            if fetch >= ntotal or not self._cut_is_ambiguous(scores, positions, k):
                break
            fetch = min(2 * fetch, ntotal)
        item_ids = self._items[_ID].to_numpy()
        texts = self._items[_TEXT].to_numpy()
        meta_cols = self.metadata_columns
        # only the rows hit, as objects: nullable integer columns would come out of to_numpy()
        # as floats (3 -> 3.0), and converting whole columns per call costs O(index size)
        hit_rows = np.unique(positions[positions >= 0])
        row_of = {int(p): i for i, p in enumerate(hit_rows.tolist())}
        meta_values = [self._items[c].iloc[hit_rows].astype(object).to_numpy()
                       for c in meta_cols]
        results: list[list[SearchHit]] = []
        for row in range(len(query_list)):
            found = [
                (float(scores[row, j]), str(item_ids[pos]), int(pos))
                for j, pos in enumerate(positions[row])
                if pos >= 0  # -1: empty slot, or a tombstone
            ]
            found.sort(key=lambda hit: (-hit[0], hit[1]))
            results.append(
                [
                    SearchHit(
                        id=item_id,
                        score=score,
                        text=str(texts[pos]),
                        metadata={
                            c: plain_value(values[row_of[pos]])
                            for c, values in zip(meta_cols, meta_values)
                        },
                    )
                    for score, item_id, pos in found[:k]
                ]
            )
        return results

    def _raw_search(self, vectors: np.ndarray, fetch: int) -> tuple[np.ndarray, np.ndarray]:
        if self.index_type == "hnsw":
            params = _faiss().SearchParametersHNSW()
            # the candidate list must be at least as long as the results asked for
            params.efSearch = max(int(self.index_params.get("ef_search", HNSW_EF_SEARCH)), fetch)
            return self._faiss.search(vectors, fetch, params=params)
        return self._faiss.search(vectors, fetch)

    @staticmethod
    def _cut_is_ambiguous(scores: np.ndarray, positions: np.ndarray, k: int) -> bool:
        """Whether some query has fewer than k live hits, or a tie across the last place.

        FAISS breaks ties by storage order, so when the k-th live score equals the lowest
        score fetched, items with that same score may lie beyond the cut; fetching more lets
        the (score, id) sort pick them deterministically.
        """
        for row_scores, row_positions in zip(scores, positions):
            live = row_scores[row_positions >= 0]
            if len(live) < k or live[k - 1] == row_scores[-1]:
                return True
        return False

    # ---------------------------------------------------------------------- storage

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the index to folder ``path`` (default: where it was loaded from or last saved).

        Files go to a staging folder next to ``path`` first and replace the old ones only when
        all are written, so a failed save leaves the previous index intact. Other files in the
        folder are kept. A non-empty folder that is not an index is refused.
        """
        if path is None:
            if self.path is None:
                raise InputError("This index has never been saved: give a folder to save it to.")
            folder = self.path
        else:
            folder = Path(path)
        if folder.exists() and not folder.is_dir():
            raise InputError(
                f"Cannot save the index to {str(folder)!r}: it is a file. Give a folder name."
            )
        if folder.is_dir() and any(folder.iterdir()) and not (folder / MANIFEST_FILE).exists():
            raise InputError(
                f"Cannot save the index to {str(folder)!r}: the folder holds other files and is "
                f"not a neardup index (no {MANIFEST_FILE}). Choose a new or empty folder."
            )
        self.compact()  # saved indexes never carry tombstones
        faiss = _faiss()
        with atomic_output_dir(folder, last=[MANIFEST_FILE]) as staging:
            faiss.write_index(self._faiss, str(staging / INDEX_FILE))
            write_table(self._items, staging / ITEMS_FILE, "parquet")
            manifest = self._manifest(
                {
                    INDEX_FILE: (staging / INDEX_FILE).stat().st_size,
                    ITEMS_FILE: (staging / ITEMS_FILE).stat().st_size,
                }
            )
            (staging / MANIFEST_FILE).write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        self.path = folder
        return folder

    def _manifest(self, sizes: Mapping[str, int]) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "neardup_version": _neardup_version(),
            "model": self.model_name,
            "dim": self.dim,
            "prompts": _encoder_prompts(self.encoder),
            "metric": METRIC,
            "index_type": self.index_type,
            "index_params": self.index_params,
            "count": len(self),
            "next_faiss_id": self._next_fid,
            "metadata_columns": self.metadata_columns,
            "created": self.created,
            "updated": self.updated,
            "files": {name: {"bytes": int(size)} for name, size in sizes.items()},
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str], encoder: Encoder | None = None) -> Index:
        """Open an index folder written by :meth:`save`.

        Without ``encoder`` the model named in the manifest is loaded. A given encoder must be
        that model (same name and dimension): vectors of different models are not comparable.
        """
        folder = Path(path)
        manifest = read_manifest(folder)
        name, dim = str(manifest["model"]), int(manifest["dim"])
        if encoder is None:
            encoder = _load_encoder(name, folder)
        from neardup.models.loader import same_model

        if not same_model(str(encoder.name), name) or int(encoder.dim) != dim:
            raise InputError(
                f"The index at {str(folder)!r} was built with model {name!r} (dim {dim}), but "
                f"the encoder given is {str(encoder.name)!r} (dim {int(encoder.dim)}). Vectors "
                f"of different models cannot be compared: use --model {name}, or rebuild the "
                f"index with {str(encoder.name)!r}."
            )
        stored_prompts, given_prompts = manifest.get("prompts"), _encoder_prompts(encoder)
        if (isinstance(stored_prompts, dict) and given_prompts is not None
                and stored_prompts != given_prompts):
            # same model, other prompts: the stored vectors came from other inputs
            raise InputError(
                f"The index at {str(folder)!r} was built with prompts {stored_prompts}, but the "
                f"encoder given uses {given_prompts}. Queries would be embedded differently "
                "from the stored texts: use the encoder the index was built with, or rebuild "
                "the index."
            )
        faiss = _faiss()
        try:
            faiss_index = faiss.read_index(str(folder / INDEX_FILE))
            # integers with missing values read back as integers, not floats
            import pyarrow.parquet as pq

            from neardup.io.readers import nullable_integers

            items = _nullable(pq.read_table(folder / ITEMS_FILE).to_pandas(
                types_mapper=nullable_integers))
        except Exception as exc:  # faiss raises RuntimeError, arrow its own errors
            raise InputError(
                f"Cannot read the index at {str(folder)!r}: {exc}. The files are damaged: "
                "rebuild the index."
            ) from None
        count = int(manifest["count"])
        if int(faiss_index.ntotal) != count or len(items) != count or int(faiss_index.d) != dim:
            raise InputError(
                f"The index at {str(folder)!r} is inconsistent: the manifest says {count} items "
                f"of dim {dim}, {INDEX_FILE} holds {int(faiss_index.ntotal)} of dim "
                f"{int(faiss_index.d)} and {ITEMS_FILE} {len(items)} rows. Rebuild the index."
            )
        items[_ID] = items[_ID].astype(str)
        items[_FID] = items[_FID].astype(np.int64)
        # equal counts are not enough: files from two different saves (an interrupted one)
        # can hold as many vectors as rows, yet for other items
        if count and hasattr(faiss_index, "id_map"):
            stored = np.sort(faiss.vector_to_array(faiss_index.id_map).astype(np.int64))
            if not np.array_equal(stored, np.sort(items[_FID].to_numpy())):
                raise InputError(
                    f"The index at {str(folder)!r} is inconsistent: the vectors in {INDEX_FILE} "
                    f"belong to other items than the rows of {ITEMS_FILE} (an interrupted save, "
                    "or files copied from different indexes). Rebuild the index."
                )
        index_type = manifest["index_type"]
        if index_type not in ("flat", "hnsw"):
            raise InputError(
                f"The index at {str(folder)!r} has unknown index type {index_type!r} in "
                f"{MANIFEST_FILE}. Rebuild the index."
            )
        params = {str(k): int(v) for k, v in dict(manifest.get("index_params") or {}).items()}
        if index_type == "hnsw" and "ef_search" in params:
            faiss.downcast_index(faiss_index.index).hnsw.efSearch = params["ef_search"]
        return cls(
            encoder,
            index_type=index_type,
            index_params=params,
            faiss_index=faiss_index,
            items=items,
            next_faiss_id=int(
                manifest.get("next_faiss_id", int(items[_FID].max()) + 1 if count else 0)
            ),
            created=str(manifest.get("created", "")),
            updated=str(manifest.get("updated", "")),
            path=folder,
        )

    # ---------------------------------------------------------------------- helpers

    def _reindex(self) -> None:
        self._id_set: set[str] = set(self._items[_ID].tolist())
        self._position_of_fid = pd.Index(self._items[_FID].to_numpy(dtype=np.int64))

    def _touch(self) -> None:
        self._reindex()
        self.updated = _now()

    def _encode(
        self, texts: list[str], kind: Literal["query", "passage"], *, show_progress: bool = False
    ) -> np.ndarray:
        vectors = self.encoder.encode(
            texts, kind=kind, batch_size=self.batch_size, show_progress=show_progress
        )
        vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        if vectors.shape != (len(texts), self.dim):
            raise ModelError(
                f"Model {self.model_name!r} returned vectors of shape {vectors.shape} for "
                f"{len(texts)} texts; expected ({len(texts)}, {self.dim})."
            )
        # the Encoder contract promises unit vectors; renormalising is cheap insurance that
        # inner product really is cosine (zero vectors, e.g. of empty texts, stay zero)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return vectors

    def _check_new_ids(self, ids: list[str]) -> None:
        seen: set[str] = set()
        repeated: dict[str, None] = {}
        for item_id in ids:
            if item_id in seen:
                repeated[item_id] = None
            seen.add(item_id)
        if repeated:
            raise InputError(
                f"Duplicate ids among the items given: {_listed(repeated)}. Each item needs a "
                "unique id."
            )
        existing = [i for i in ids if i in self._id_set]
        if existing:
            raise InputError(
                f"{len(existing)} id{'s are' if len(existing) > 1 else ' is'} already in the "
                f"index: {_listed(existing)}. Remove {'them' if len(existing) > 1 else 'it'} "
                "first to replace, or use new ids."
            )

    def _check_metadata(self, metadata: pd.DataFrame | None, n: int) -> pd.DataFrame | None:
        if metadata is None:
            return None
        if not isinstance(metadata, pd.DataFrame):
            raise InputError(
                f"metadata must be a pandas DataFrame (one row per text), got "
                f"{type(metadata).__name__}."
            )
        if len(metadata) != n:
            raise InputError(
                f"metadata has {len(metadata)} rows for {n} texts; give one row per text."
            )
        names = [str(c) for c in metadata.columns]
        clash = [c for c in names if c in RESERVED_COLUMNS]
        if clash:
            raise InputError(
                f"Metadata column {_listed(clash)} clashes with what the index stores itself "
                f"({', '.join(RESERVED_COLUMNS)}). Rename or drop it."
            )
        if len(set(names)) != len(names):
            raise InputError(f"Metadata columns repeat a name: {_listed(names)}.")
        out = metadata.reset_index(drop=True)
        out.columns = names
        return out


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the index at ``folder``, checked for format and file sizes."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(
            f"No index at {str(folder)!r}: the folder does not exist. Check the path, or build "
            "an index first."
        )
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise InputError(
            f"{str(folder)!r} is not a neardup index: {MANIFEST_FILE} is missing. Give the folder "
            "an index was saved to."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read {str(path)!r}: {exc}. Rebuild the index.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise InputError(f"{str(path)!r} is not a neardup index manifest. Rebuild the index.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InputError(
            f"The index at {str(folder)!r} has format version {version!r}, newer than this "
            f"neardup ({_neardup_version()}) reads (up to {FORMAT_VERSION}). Upgrade neardup."
        )
    for key in ("model", "dim", "index_type", "count"):
        if key not in manifest:
            raise InputError(f"{str(path)!r} lacks {key!r}. Rebuild the index.")
    for key in ("dim", "count"):
        value = manifest[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InputError(
                f"{str(path)!r} has {key}={value!r}, not a count (the manifest was edited or "
                "damaged). Rebuild the index."
            )
    if not isinstance(manifest["model"], str) or not isinstance(manifest["index_type"], str):
        raise InputError(f"{str(path)!r} names its model or index type with a non-string "
                         f"({manifest['model']!r}, {manifest['index_type']!r}). Rebuild the index.")
    for name, info in dict(manifest.get("files") or {}).items():
        file = folder / name
        if not file.is_file():
            raise InputError(f"The index at {str(folder)!r} lacks {name}. Rebuild the index.")
        expected = int(info.get("bytes", -1)) if isinstance(info, dict) else -1
        if expected >= 0 and file.stat().st_size != expected:
            raise InputError(
                f"The index at {str(folder)!r} is inconsistent: {name} has "
                f"{file.stat().st_size} bytes, the manifest says {expected} (an interrupted "
                "save, or files copied from different indexes). Rebuild the index."
            )
    return manifest


def _load_encoder(name: str, folder: Path) -> Encoder:
    try:
        # imported here: the models package pulls in heavy optional dependencies
        from neardup.models import load_encoder
    except ImportError as exc:
        raise ModelError(
            f"The index at {str(folder)!r} needs model {name!r}, which cannot be loaded here "
            f"({exc}). Pass an encoder explicitly."
        ) from exc
    return load_encoder(name)
