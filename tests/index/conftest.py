"""A tiny deterministic encoder so index tests need no neural model."""

from __future__ import annotations


import pytest

pytest.importorskip("faiss")

from fakes import TrigramEncoder  # noqa: E402  (tests/ is on sys.path via tests/conftest.py)


@pytest.fixture
def encoder() -> TrigramEncoder:
    return TrigramEncoder()


CORPUS = {
    "a1": "cheap flights to rome",
    "a2": "cheap flights to paris",
    "b1": "chocolate cake recipe",
    "b2": "easy chocolate cake recipe",
    "c1": "python dataframe tutorial",
    "c2": "pandas dataframe tutorial for beginners",
    "d1": "weather forecast for tomorrow",
    "e1": "used cars for sale",
}


@pytest.fixture
def corpus() -> dict[str, str]:
    return dict(CORPUS)


@pytest.fixture
def make_encoder() -> type[TrigramEncoder]:
    """The encoder class, for tests that need another name or dimension."""
    return TrigramEncoder
