"""Weight-space interpolation (WiSE-FT) of the transfer-stack bi-encoder with zero-shot e5-small.

    .venv/bin/python benchmarks/wise_ft.py [--data ../shared/data] [--alphas 1.0,0.75,0.5]
        [--model .neardup-cache/bench/training/models/stack-bi-Structured_Amazon-Google-2ep]

For each alpha, every floating-point weight is ``alpha * trained + (1 - alpha) * base`` (base:
multilingual-e5-small, the model the bi-encoder was fine-tuned from); the interpolated model is
saved under ``.neardup-cache/bench/wise-ft/`` and scored on Structured Amazon-Google's
valid.txt (F1 at its best threshold, AP) and test.txt (F1 at the valid threshold, AP), as in
``benchmarks/training.py --only transfer-stack``. The model comes from that experiment
(``NEARDUP_STACK_EPOCHS=2`` for the default). Exits 0 with a message when data or model is
absent.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from neardup.evaluate.metrics import average_precision, best_f1_threshold
from training import DEFAULT_WORK, REPO, cosines, ditto, f1_at

DEFAULT_DATA = REPO.parent / "shared" / "data"
SET = "Structured_Amazon-Google"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("NEARDUP_DATA", DEFAULT_DATA)))
    parser.add_argument("--model", type=Path,
                        default=DEFAULT_WORK / "models" / f"stack-bi-{SET}-2ep")
    parser.add_argument("--alphas", default="1.0,0.75,0.5")
    args = parser.parse_args()
    root = args.data / "er-magellan-ditto" / SET
    if not root.is_dir() or not args.model.is_dir():
        print(f"skipped: needs {root} and {args.model} (run training.py --only transfer-stack)")
        return 0
    from sentence_transformers import SentenceTransformer

    from neardup.models import load_encoder

    valid, test = ditto(root / "valid.txt"), ditto(root / "test.txt")
    trained = SentenceTransformer(str(args.model), device="cpu")
    base = load_encoder("multilingual-e5-small").model.state_dict()
    tuned = {k: v.clone() for k, v in trained.state_dict().items()}
    print("| alpha | valid F1 | valid AP | test F1 at the valid threshold | test AP |")
    print("|---|---|---|---|---|")
    for alpha in (float(a) for a in args.alphas.split(",")):
        out = DEFAULT_WORK.parent / "wise-ft" / f"{args.model.name}-alpha{alpha}"
        if not out.exists():
            trained.load_state_dict({k: alpha * v + (1 - alpha) * base[k]
                                     if v.is_floating_point() else v for k, v in tuned.items()})
            trained.save(str(out))
        sv, st = cosines(out, valid.texts1, valid.texts2), cosines(out, test.texts1, test.texts2)
        best = best_f1_threshold(valid.labels, sv)
        print(f"| {alpha} | {best.f1:.3f} | {average_precision(valid.labels, sv):.3f} | "
              f"{f1_at(test.labels, st, best.threshold):.3f} | "
              f"{average_precision(test.labels, st):.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
