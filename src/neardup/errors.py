"""Errors that reach the user.

Every error a user can cause (bad file, bad column, unknown model) is a ``NeardupError``: the
CLI prints its message without a traceback and exits with code 2. Messages name the file,
row, column or value and say what would fix it.
"""

from __future__ import annotations


class NeardupError(Exception):
    """Base class for errors caused by the user's input or environment."""


class InputError(NeardupError, ValueError):
    """A file, column, row or value the user gave cannot be used."""


class ModelError(NeardupError):
    """A model name or folder cannot be resolved or loaded."""


class MissingDependencyError(NeardupError, ImportError):
    """An optional dependency is not installed."""


class ResultWarning(UserWarning):
    """A result may be incomplete and a result field counts it (groups split by ``k``, pairs
    left out by ``rerank_max_pairs``): the CLI states these in its summary instead."""


def require(module: str, extra: str, feature: str) -> object:
    """Import an optional dependency or explain which extra provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError(
            f"{feature} needs the Python package {module!r}, which is not installed. "
            f'Install it with: pip install "neardup[{extra}]"'
        ) from exc
