"""One way to keep transformers' and sentence-transformers' chatter out of neardup's output.

Loading a model prints a "Loading weights" bar per file, and some loads print reports that are
expected here (a fresh cross-encoder's "newly initialised classifier weights"); exporting to
ONNX makes the tracer warn about every data-dependent branch. Errors always surface.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager


@contextmanager
def quiet_transformers(
    *, reports: bool = True, python_warnings: bool = False, loggers: Sequence[str] = ()
) -> Iterator[None]:
    """Hide transformers' progress bars while the block runs, and restore everything after.

    Args:
        reports: also hide transformers' and sentence-transformers' info and warning reports.
        python_warnings: also ignore Python warnings (the ONNX tracer's, for one).
        loggers: further standard-library loggers held at ERROR (e.g. ``"torch.onnx"``).
    """
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # without transformers there is nothing of its to hide
        hf_logging = None
    names = [*(("sentence_transformers",) if reports else ()), *loggers]
    held = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in held]
    with ExitStack() as stack:
        if python_warnings:
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore")
        bars = hf_logging is not None and hf_logging.is_progress_bar_enabled()
        verbosity = hf_logging.get_verbosity() if hf_logging is not None else None
        if hf_logging is not None:
            hf_logging.disable_progress_bar()
            if reports:
                hf_logging.set_verbosity_error()
        for logger in held:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(held, levels):
                logger.setLevel(level)
            if hf_logging is not None:
                if reports:
                    hf_logging.set_verbosity(verbosity)
                if bars:
                    hf_logging.enable_progress_bar()
