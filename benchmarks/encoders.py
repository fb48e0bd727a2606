"""Speed and fidelity of the encoder backends: torch fp32 vs ONNX fp32 / int8 vs static.

    .venv/bin/python benchmarks/encoders.py [--model multilingual-e5-small] [--threads N]
        [--data ../shared/data] [--onnx-folder DIR] [--no-sts] [--no-static]

Prints a Markdown table: backend, texts/s, speed-up vs torch, min / mean cosine of each
backend's vectors to the torch fp32 vectors, Spearman x100 on stsb-multi-mt ru / en test
(headerless ``s1,s2,score``) when ``<data>/stsb-multi-mt`` exists, and average precision on
paraphraser-ru (all 7,227 pairs; classes 0 and 1 positive, -1 negative) when
``<data>/paraphraser-ru`` exists; each is skipped with a message otherwise.

Protocol.
* Throughput: 512 short sentences (the first sentences of stsb-multi-mt ru and en test when
  present, else the built-in texts below), ``batch_size=32``, "passage" prompt, after one
  warm-up call; the best of ``--repeats`` rounds, each round timing every backend in turn.
  torch and onnxruntime get the same thread count (all cores this process may use, unless
  ``--threads``). On a shared machine the numbers are noisy: compare ratios, rerun.
* Spearman: cosine of the "passage" vectors of each pair (the default ``kind``).
* Fidelity: ~220 varied short texts (built-in multilingual corner cases plus, when the shared
  data is present, sentences from the stsb ru/en *dev* splits, sts-indo and Shopee titles),
  encoded with both prompts. The same cosines over all stsb test sentences are printed
  below the table as a held-out check when the data is there.
* The ONNX folders come from ``load_encoder("<model>@onnx")`` / ``"@onnx-int8"`` (exported into
  the neardup cache on first use), or from ``--onnx-folder``.
* Static: ``load_encoder("<model>@static")``, distilled into the neardup cache on first use
  (model2vec defaults: all vocabulary tokens, PCA to 256, SIF weights); the distillation time
  recorded in its manifest is printed. Its vectors live in another space (PCA'd, other size),
  so cosines to torch are not defined for it ("–"): its loss shows in Spearman and AP.
* AP: cosine of the "passage" vectors of each pair, like Spearman.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Short texts in many scripts and languages, with the tokenizer's corner cases.
BUILTIN_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "How much protein should a female eat per day?",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Сколько белка нужно съедать в день?",
    "Saya suka makan nasi goreng di pagi hari.",
    "Harga bensin naik 10% sejak Januari 2024!",
    "Crème brûlée, café au lait & naïve résumé — déjà vu.",
    "Price: $1,299.99 (incl. VAT) — order #A-42/7, ref: 0x1F.",
    "I love it 😍🔥👍🏽 so much!!!",
    "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ　１２３ and ｶﾀｶﾅ",
    "東京は日本の首都です。",
    "   leading and   multiple   spaces\tand\ttabs\nnewline  ",
    "e-mail: test.user+tag@example.com, URL: https://example.org/a?b=c&d=e",
    "Straße, Ærø, İstanbul, Łódź, ﬁnance, ½ cup, x²",
    "a",
    "",
    "¿Dónde está la biblioteca? ¡Aquí!",
    "Привет, мир! Hello, world! Halo, dunia!",
    "1234567890 3.14159 -42 +7 1e10",
    "«Кавычки» “quotes” ‘single’ „German“ …",
    "Apakah Anda sudah makan? Ya, sudah — terima kasih 🙏",
    "Der Zug nach Berlin hat heute zwanzig Minuten Verspätung.",
    "Le chat dort sur le canapé depuis ce matin.",
    "Il tempo oggi è molto bello a Roma.",
    "O Brasil é o maior país da América do Sul.",
    "Dit is een korte Nederlandse zin over fietsen.",
    "Kot siedzi na oknie i patrzy na ptaki.",
    "Кіт сидить на вікні й дивиться на птахів.",
    "Bugün hava çok güzel, parka gidelim mi?",
    "Hôm nay trời đẹp, chúng ta đi dạo nhé.",
    "วันนี้อากาศดีมาก ไปเดินเล่นกันไหม",
    "我今天想去图书馆借几本书。",
    "机器学习模型需要大量的训练数据。",
    "오늘 날씨가 정말 좋네요. 산책하러 갈까요?",
    "東京駅から新宿駅までどのくらいかかりますか？",
    "الطقس جميل اليوم، هل نذهب إلى الحديقة؟",
    "מזג האוויר יפה היום, בוא נצא לטייל.",
    "आज मौसम बहुत अच्छा है, चलो पार्क चलते हैं।",
    "আজ আবহাওয়া খুব সুন্দর।",
    "Σήμερα ο καιρός είναι πολύ ωραίος.",
    "Ma'lumotlar bazasi yangilandi.",
    "Samsung Galaxy S23 Ultra 256GB Phantom Black (SM-S918B) dual SIM",
    "Kaos Polos Cotton Combed 30s Unisex - Hitam, XL",
    "iPhone 15 Pro Max 1TB титан, новый, гарантия 1 год",
    "SELECT * FROM users WHERE id = 42;",
    "def f(x): return x ** 2  # square",
    "BREAKING: markets fall 3% after rate decision",
    "lol ok see u tmrw 👋",
    "N/A",
    "???",
    "—",
    "Patient presents with acute dyspnea and bilateral infiltrates on chest X-ray.",
    "The court dismissed the appeal on procedural grounds.",
    "Mix 200 g flour, 2 eggs and 300 ml milk; rest 30 min.",
    "Как сбросить пароль от личного кабинета?",
    "Bagaimana cara mengganti kata sandi akun saya?",
    "How do I reset my account password?",
    "wie kann ich mein passwort zurücksetzen",
    "パスワードをリセットするにはどうすればいいですか",
    "ЗАГЛАВНЫЕ БУКВЫ И цифры 2024 года",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "word " * 40,
]


def data_root(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("NEARDUP_DATA"):
        return Path(os.environ["NEARDUP_DATA"])
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def read_stsb(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    left, right, scores = [], [], []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            if len(row) != 3:
                continue
            left.append(row[0])
            right.append(row[1])
            scores.append(float(row[2]))
    return left, right, np.asarray(scores)


def fidelity_texts(data: Path, per_source: int = 40) -> list[str]:
    """Built-in texts plus, when present, short sentences from the shared dev data."""
    texts = list(BUILTIN_TEXTS)
    for lang in ("en", "ru"):
        path = data / "stsb-multi-mt" / f"stsb-{lang}-dev.csv"
        if path.is_file():
            left, _, _ = read_stsb(path)
            texts += left[:: max(1, len(left) // per_source)][:per_source]
    indo = data / "sts-indo" / "test.tsv"
    if indo.is_file():
        with indo.open(encoding="utf-8", newline="") as f:
            rows = [r["text1_id"] for r in csv.DictReader(f, delimiter="\t") if r.get("text1_id")]
        texts += rows[:: max(1, len(rows) // per_source)][:per_source]
    shopee = data / "shopee-title-groups" / "dev.csv"
    if shopee.is_file():
        with shopee.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        texts += [r["title"] for r in rows[:: max(1, len(rows) // per_source)][:per_source]]
    return texts


def speed_texts(data: Path, n: int = 512) -> list[str]:
    texts: list[str] = []
    for lang in ("ru", "en"):
        path = data / "stsb-multi-mt" / f"stsb-{lang}-test.csv"
        if path.is_file():
            texts += read_stsb(path)[0][: n // 2]
    if len(texts) < n:
        pool = [t for t in BUILTIN_TEXTS if t.strip()]
        texts += [f"{pool[i % len(pool)]} ({i})" for i in range(n - len(texts))]
    return texts[:n]


def throughput(
    encoders: Sequence[Any], texts: Sequence[str], batch_size: int, repeats: int
) -> list[float]:
    """Texts/s of each encoder, best of ``repeats`` rounds.

    The rounds interleave the encoders, so a change in the machine's load (a shared CPU)
    reaches all of them alike instead of skewing the ratios.
    """
    for encoder in encoders:
        encoder.encode(list(texts[:batch_size]), batch_size=batch_size)  # warm-up
    best = [float("inf")] * len(encoders)
    for _ in range(repeats):
        for i, encoder in enumerate(encoders):
            start = time.perf_counter()
            encoder.encode(list(texts), batch_size=batch_size)
            best[i] = min(best[i], time.perf_counter() - start)
    return [len(texts) / b for b in best]


def encode_both(encoder: Any, texts: Sequence[str]) -> np.ndarray:
    return np.vstack(
        [encoder.encode(list(texts), kind="passage"), encoder.encode(list(texts), kind="query")]
    )


def sts_spearman(encoder: Any, data: Path) -> dict[str, tuple[float, np.ndarray]]:
    from scipy.stats import spearmanr

    out = {}
    for lang in ("ru", "en"):
        path = data / "stsb-multi-mt" / f"stsb-{lang}-test.csv"
        if not path.is_file():
            continue
        left, right, gold = read_stsb(path)
        vectors = encoder.encode(left + right, batch_size=32)
        a, b = vectors[: len(left)], vectors[len(left) :]
        rho = spearmanr((a * b).sum(1), gold).statistic
        out[lang] = (100 * float(rho), vectors)
    return out


def paraphraser_pairs(data: Path) -> tuple[list[str], list[str], np.ndarray] | None:
    """paraphraser-ru pairs with 0/1 labels, or None when the file is absent."""
    from readers import read_paraphraser

    if not (data / "paraphraser-ru" / "paraphrases_train.xml").is_file():
        return None
    return read_paraphraser(data)


def paraphraser_ap(
    encoder: Any, pairs: tuple[list[str], list[str], np.ndarray]
) -> float:
    from neardup.evaluate.metrics import average_precision

    left, right, labels = pairs
    vectors = encoder.encode(left + right, batch_size=32)
    a, b = vectors[: len(left)], vectors[len(left) :]
    return float(average_precision(labels, (a * b).sum(1)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--onnx-folder", help="an export_onnx() folder instead of the cache")
    parser.add_argument("--data", help="shared data folder (default ../shared/data)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n", type=int, default=512, help="texts for the throughput run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-sts", action="store_true", help="skip the Spearman columns")
    parser.add_argument("--no-ap", action="store_true", help="skip the paraphraser-ru AP column")
    parser.add_argument("--no-static", action="store_true", help="skip the static row")
    args = parser.parse_args(argv)

    from neardup.models import load_encoder
    from neardup.models.export import cached_onnx_folder
    from neardup.models.onnx_encoder import OnnxEncoder, default_threads

    threads = args.threads or default_threads()
    import torch

    torch.set_num_threads(threads)
    data = data_root(args.data)
    has_sts = not args.no_sts and (data / "stsb-multi-mt").is_dir()
    if not args.no_sts and not has_sts:
        print(f"(no {data / 'stsb-multi-mt'}: Spearman columns skipped)", file=sys.stderr)
    para = None if args.no_ap else paraphraser_pairs(data)
    if not args.no_ap and para is None:
        print(f"(no {data / 'paraphraser-ru'}: AP column skipped)", file=sys.stderr)

    encoders: list[tuple[str, Any]] = [("torch fp32", load_encoder(args.model, device="cpu"))]
    for backend, label in (("onnx", "onnx fp32"), ("onnx-int8", "onnx int8")):
        folder = args.onnx_folder or cached_onnx_folder(args.model, int8=backend == "onnx-int8")
        encoder = OnnxEncoder(folder, backend=backend, threads=threads)  # type: ignore[arg-type]
        encoders.append((label, encoder))
    distill_note = ""
    if not args.no_static:
        from neardup.models.static import read_manifest

        start = time.perf_counter()
        static = load_encoder(f"{args.model}@static")
        manifest = read_manifest(static.folder)  # type: ignore[attr-defined]
        encoders.append(("static (model2vec)", static))
        distill_note = (
            f"static: {manifest.get('vocab_size')} tokens x {static.dim} dims, distilled in "
            f"{manifest.get('distill_seconds', float('nan')):.0f}s on "
            f"{manifest.get('device', '?')} (loaded in {time.perf_counter() - start:.1f}s "
            f"this run)"
        )

    fidelity = fidelity_texts(data)
    fast = speed_texts(data, args.n)
    rows = []
    reference: np.ndarray | None = None
    sts_reference: dict[str, np.ndarray] = {}
    held_out = []
    print(f"timing {len(encoders)} backends x {args.repeats} rounds ...", file=sys.stderr)
    speeds = throughput([e for _, e in encoders], fast, args.batch_size, args.repeats)
    for (label, encoder), speed in zip(encoders, speeds):
        print(f"measuring fidelity of {label} ...", file=sys.stderr)
        # Static vectors are another space (PCA'd, another size): no cosine to torch.
        same_space = encoder.dim == encoders[0][1].dim and not label.startswith("static")
        cos = None
        if same_space:
            vectors = encode_both(encoder, fidelity)
            if reference is None:
                reference = vectors
            cos = (vectors * reference).sum(1)
        sts = sts_spearman(encoder, data) if has_sts else {}
        for lang, (_, v) in sts.items():
            if lang not in sts_reference:
                sts_reference[lang] = v
            elif same_space:
                c = (v * sts_reference[lang]).sum(1)
                held_out.append(f"{label} stsb-{lang}-test ({len(c)} sentences): "
                                f"min {c.min():.5f}, mean {c.mean():.5f}")
        ap = paraphraser_ap(encoder, para) if para is not None else None
        rows.append((label, speed, cos, sts, ap))

    base = rows[0][1]
    header = "| backend | texts/s | speed-up vs torch | min cos vs torch | mean cos vs torch |"
    rule = "|---|---|---|---|---|"
    if has_sts:
        header += " Spearman ru | Spearman en |"
        rule += "---|---|"
    if para is not None:
        header += " AP paraphraser-ru |"
        rule += "---|"
    print(f"\n{args.model}, {len(fast)} sentences, batch {args.batch_size}, {threads} threads; "
          f"cosines over {len(fidelity)} texts x 2 prompts\n")
    print(header)
    print(rule)
    for label, speed, cos, sts, ap in rows:
        cosines = f"{cos.min():.5f} | {cos.mean():.5f}" if cos is not None else "– | –"
        line = f"| {label} | {speed:.0f} | {speed / base:.2f}x | {cosines} |"
        if has_sts:
            line += "".join(f" {sts[lang][0]:.2f} |" if lang in sts else " – |"
                            for lang in ("ru", "en"))
        if para is not None:
            line += f" {ap:.4f} |"
        print(line)
    if distill_note:
        print(f"\n{distill_note}")
    if held_out:
        print("\nHeld-out cosines vs torch:")
        for line in held_out:
            print(f"- {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
