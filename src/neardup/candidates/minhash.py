"""Near-duplicate candidates by MinHash LSH over character n-gram shingles.

Pipeline:

1. Normalise every text (:func:`neardup.text.normalize`) and collapse identical normalised
   texts: they have identical shingle sets, so hashing them once is both faster and keeps a
   repeated boilerplate text from flooding every LSH bucket. Empty normalised texts never
   match anything (same rule as :func:`neardup.candidates.exact.exact_groups`).
2. Shingle each distinct text into character ``ngram``-grams (a text shorter than ``ngram``
   is one shingle: the whole text) and compute a datasketch ``MinHash`` per text. Hashing is
   batched: each distinct shingle is SHA1-hashed once per call and ``MinHash.generator``
   reuses the permutation state, which keeps 100k short texts to a few seconds.
3. Band the signatures with the ``(bands, rows)`` that ``datasketch.MinHashLSH`` chooses for
   ``threshold`` with false negatives weighted :data:`FALSE_NEGATIVE_WEIGHT` (0.9) against
   false positives 0.1, and collect texts that share a band. With datasketch's equal weights a
   pair at exactly ``threshold`` was missed 45-69 % of the time (128 permutations, thresholds
   0.5-0.9) and one 0.05 above it 20-34 %; step 4 removes the extra collisions that the recall
   costs, so only their scoring time is paid. The bucketing is done with numpy (``np.unique`` over each band's bytes) instead of
   ``MinHashLSH.insert``/``query``: it yields exactly the same candidates but datasketch's
   per-key Python inserts cost ~5 us x bands per text (about 11 s for 100k texts at
   ``threshold=0.5``) against well under a second here.
4. Score candidates (exact Jaccard of the shingle sets, or the MinHash estimate) and keep
   those with ``score >= threshold``: LSH collisions below the threshold are false positives
   of the banding, not near-duplicates.

LSH is probabilistic: a pair with Jaccard just above ``threshold`` can be missed (128
permutations: 5-19 % at exactly the threshold for thresholds 0.3-0.9, at most 5 % at 0.05
above it, less further up). Nothing else drops pairs: every text in a
shared bucket is paired, so a bucket of ``c`` distinct texts costs ``c * (c - 1) / 2`` pairs;
that only grows large when many distinct texts really are near-duplicates of each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from neardup.candidates._progress import progress
from neardup.candidates.exact import Normalizer, group_pairs, labels_from_keys, normalize_all
from neardup.errors import InputError
from neardup.pairs import Pairs
from neardup.text import normalize

DuplicateMode = Literal["star", "full"]

#: Weight of false negatives in datasketch's choice of bands (false positives get the rest):
#: recall near the threshold matters more than candidates that the exact score filters out.
FALSE_NEGATIVE_WEIGHT = 0.9

# Estimated scores are computed on blocks of candidate pairs to bound the (pairs, num_perm)
# boolean temporary to ~32 MB.
_SCORE_BLOCK = 1 << 18


def shingle_set(text: str, ngram: int) -> frozenset[str]:
    """Character ``ngram``-grams of ``text``; a shorter non-empty text is its own shingle."""
    if not text:
        return frozenset()
    if len(text) <= ngram:
        return frozenset((text,))
    return frozenset(text[i : i + ngram] for i in range(len(text) - ngram + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Exact Jaccard similarity of two shingle sets (0.0 when both are empty)."""
    inter = len(a & b)
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


def _signatures(
    sets: Sequence[frozenset[str]], *, num_perm: int, seed: int, show_progress: bool
) -> np.ndarray:
    """MinHash signatures as a ``(len(sets), num_perm)`` uint32 array."""
    from datasketch import MinHash
    from datasketch.hashfunc import sha1_hash32

    # SHA1 is datasketch's default shingle hash; caching it per distinct shingle removes the
    # dominant cost for short texts, whose n-grams repeat heavily across a corpus.
    cache: dict[str, int] = {}
    for shingles in sets:
        for g in shingles:
            if g not in cache:
                cache[g] = sha1_hash32(g.encode("utf-8"))
    out = np.empty((len(sets), num_perm), dtype=np.uint32)
    generator = MinHash.generator(sets, num_perm=num_perm, seed=seed, hashfunc=cache.__getitem__)
    for i, mh in enumerate(
        progress(generator, total=len(sets), description="MinHash", enabled=show_progress)
    ):
        out[i] = mh.hashvalues
    return out


def _lsh_params(threshold: float, num_perm: int) -> list[tuple[int, int]]:
    """Band column ranges chosen by datasketch's MinHashLSH optimiser for ``threshold``."""
    from datasketch import MinHashLSH

    weights = (1 - FALSE_NEGATIVE_WEIGHT, FALSE_NEGATIVE_WEIGHT)
    try:
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    except ValueError:
        # At high thresholds (0.99 for 128 permutations, 1.0 always) the optimiser wants a
        # single band, which MinHashLSH refuses. Two bands of num_perm // 2 rows catch more
        # true pairs than one band would; extra collisions are removed by the score filter.
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=(2, num_perm // 2))
    return [(int(a), int(b)) for a, b in lsh.hashranges]


def _pairs_within_buckets(bucket: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``(i, j)``, ``i < j``, of positions that share a bucket id."""
    order = np.argsort(bucket, kind="stable")
    ids = bucket[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    sizes = np.diff(np.r_[starts, ids.size])
    multi = sizes >= 2
    if not multi.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # Sorted positions that sit in buckets of two or more.
    pos = np.flatnonzero(np.repeat(multi, sizes))
    starts, sizes = starts[multi], sizes[multi]
    # Position p (offset o inside a bucket of size c) pairs with the c - 1 - o positions after it.
    offset = pos - np.repeat(starts, sizes)
    per = np.repeat(sizes, sizes) - 1 - offset
    left = np.repeat(pos, per)
    block_start = np.repeat(np.cumsum(per) - per, per)
    right = left + 1 + (np.arange(left.size) - block_start)
    a, b = order[left], order[right]
    return np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)


def _candidates(sig: np.ndarray, bands: list[tuple[int, int]], show_progress: bool) -> np.ndarray:
    """Unique candidate pairs ``(u, v)``, ``u < v``, of signature rows sharing any band."""
    u = sig.shape[0]
    keys: list[np.ndarray] = []
    for start, end in progress(bands, total=len(bands), description="LSH", enabled=show_progress):
        band = np.ascontiguousarray(sig[:, start:end])
        # View each band as one opaque byte string so np.unique buckets whole bands at once.
        flat = band.view(np.dtype((np.void, band.dtype.itemsize * (end - start)))).ravel()
        _, bucket = np.unique(flat, return_inverse=True)
        a, b = _pairs_within_buckets(bucket.ravel())
        keys.append(a * u + b)
    if not keys:
        return np.zeros((0, 2), np.int64)
    uniq = np.unique(np.concatenate(keys))
    return np.stack([uniq // u, uniq % u], axis=1)


def _estimated_jaccard(sig: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty(a.size, dtype=np.float64)
    for s in range(0, a.size, _SCORE_BLOCK):
        e = s + _SCORE_BLOCK
        out[s:e] = (sig[a[s:e]] == sig[b[s:e]]).mean(axis=1)
    return out


def minhash_pairs(
    texts: Sequence[str],
    *,
    threshold: float = 0.5,
    num_perm: int = 128,
    ngram: int = 3,
    seed: int = 1,
    exact_score: bool = True,
    duplicates: DuplicateMode = "star",
    normalizer: Normalizer = normalize,
    show_progress: bool = False,
) -> Pairs:
    """Pairs of rows whose character ``ngram``-gram sets have Jaccard similarity >= ``threshold``.

    Args:
        texts: one text per row.
        threshold: Jaccard threshold in (0, 1]; sets the LSH banding and filters candidates.
        num_perm: MinHash permutations; more means fewer LSH misses and a less noisy estimate.
        ngram: shingle length in characters (of the normalised text).
        seed: MinHash permutation seed; the output is deterministic for a fixed seed.
        exact_score: score pairs by the exact Jaccard of their shingle sets (cheap: only
            candidates are scored) instead of the MinHash estimate, whose standard error is
            about ``sqrt(J(1-J)/num_perm)`` (~0.04 at J=0.5, 128 permutations) and would make
            the ``>= threshold`` filter flip borderline pairs.
        duplicates: how rows with identical normalised text are emitted. ``"star"`` (default)
            links each group's first row to its other rows (score 1.0) and represents the group
            by its first row in pairs with other texts: linear in group size. ``"full"`` emits
            every pair inside a group and every cross pair between similar groups: quadratic in
            group size, but what average/complete linkage need if duplicates are not collapsed
            beforehand.
        normalizer: text normalisation applied before shingling.
        show_progress: draw progress bars on stderr.

    Returns:
        :class:`~neardup.pairs.Pairs` with ``score`` = (exact or estimated) Jaccard.
    """
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"threshold must be in (0, 1], got {threshold!r}")
    if num_perm < 2:
        raise InputError(f"num_perm must be at least 2, got {num_perm!r}")
    if ngram < 1:
        raise InputError(f"ngram must be at least 1, got {ngram!r}")
    if duplicates not in ("star", "full"):
        raise InputError(f'duplicates must be "star" or "full", got {duplicates!r}')

    keys = normalize_all(texts, normalizer)
    labels = labels_from_keys(keys)
    if labels.size == 0:
        return Pairs.empty()
    # One signature per distinct non-empty normalised text, represented by its first row.
    _, rep_rows = np.unique(labels, return_index=True)
    rep_rows = np.sort(rep_rows)
    rep_rows = rep_rows[np.fromiter((bool(keys[r]) for r in rep_rows), bool, rep_rows.size)]
    sets = [shingle_set(keys[r], ngram) for r in rep_rows.tolist()]

    within = group_pairs(labels) if duplicates == "star" else _full_group_pairs(labels)
    if len(sets) < 2:
        return within

    sig = _signatures(sets, num_perm=num_perm, seed=seed, show_progress=show_progress)
    cand = _candidates(sig, _lsh_params(threshold, num_perm), show_progress)
    a, b = cand[:, 0], cand[:, 1]
    if exact_score:
        score = np.fromiter(
            (jaccard(sets[i], sets[j]) for i, j in zip(a.tolist(), b.tolist())),
            dtype=np.float64,
            count=a.size,
        )
    else:
        score = _estimated_jaccard(sig, a, b)
    keep = score >= threshold
    a, b, score = a[keep], b[keep], score[keep]

    rows_a, rows_b = rep_rows[a], rep_rows[b]
    if duplicates == "full":
        rows_a, rows_b, score = _expand_groups(labels, rows_a, rows_b, score)
    between = Pairs.from_arrays(rows_a, rows_b, score.astype(np.float32))
    return within.union(between)


def _full_group_pairs(labels: np.ndarray) -> Pairs:
    """Every pair of rows inside each group of identical texts, score 1.0."""
    a, b = _pairs_within_buckets(labels)
    return Pairs.from_arrays(a, b, np.ones(a.size, np.float32))


def _expand_groups(
    labels: np.ndarray, rows_a: np.ndarray, rows_b: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replace each representative pair by the cross product of the two groups' rows."""
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(int(labels.max()) + 1))
    sizes = np.bincount(labels)
    out_a: list[np.ndarray] = []
    out_b: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    for ra, rb, s in zip(rows_a.tolist(), rows_b.tolist(), score.tolist()):
        la, lb = labels[ra], labels[rb]
        ma = order[starts[la] : starts[la] + sizes[la]]
        mb = order[starts[lb] : starts[lb] + sizes[lb]]
        out_a.append(np.repeat(ma, mb.size))
        out_b.append(np.tile(mb, ma.size))
        out_s.append(np.full(ma.size * mb.size, s))
    if not out_a:
        return rows_a, rows_b, score
    return np.concatenate(out_a), np.concatenate(out_b), np.concatenate(out_s)
