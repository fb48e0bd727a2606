"""Shared test set-up: never touch the network, keep model caches inside the test session."""

from __future__ import annotations

import os

# Tests must pass without network: make Hugging Face libraries fail fast instead of retrying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Converted models go to a per-session folder (or $NEARDUP_TEST_CACHE to reuse one),
    never into the developer's own cache."""
    root = Path(os.environ.get("NEARDUP_TEST_CACHE") or tmp_path_factory.mktemp("neardup-cache"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEARDUP_CACHE", str(root))
        yield root


@pytest.fixture(scope="session")
def tiny_st_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT sentence-transformers folder (see tests/tiny_models.py); tests that train
    copy it first, so the session's copy stays untouched."""
    pytest.importorskip("sentence_transformers")
    from tiny_models import make_tiny_st_model

    return make_tiny_st_model(tmp_path_factory.mktemp("tiny-st") / "model")
