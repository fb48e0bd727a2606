"""The runnable examples in the library's docstrings run (the losses' examples among them)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import neardup

SRC = Path(neardup.__file__).parent
MODULES = sorted(
    ".".join(("neardup", *p.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
    for p in SRC.rglob("*.py")
    if ">>> " in p.read_text(encoding="utf-8")
)


def test_some_modules_have_examples() -> None:
    assert "neardup.train.losses.mean_closest_triplet" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
