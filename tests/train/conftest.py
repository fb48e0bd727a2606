"""Fixtures shared by the training tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def linear_dtypes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """The dtypes the training forward's linear layers compute in (grad-enabled calls only),
    recorded while the test runs."""
    import torch

    seen: list = []
    real_linear = torch.nn.functional.linear

    def linear(*args, **kwargs):
        out = real_linear(*args, **kwargs)
        if torch.is_grad_enabled():
            seen.append(out.dtype)
        return out

    monkeypatch.setattr(torch.nn.functional, "linear", linear)
    yield seen


def _saved_weight_dtypes(folder: Path) -> set[np.dtype]:
    from safetensors.numpy import load_file

    return {w.dtype for w in load_file(str(folder / "model.safetensors")).values()}


@pytest.fixture
def saved_weight_dtypes() -> Callable[[Path], set[np.dtype]]:
    """The dtypes of every tensor in a saved model folder's model.safetensors."""
    return _saved_weight_dtypes
