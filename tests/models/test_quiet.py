"""quiet_transformers hides the libraries' chatter inside the block and restores it after."""

from __future__ import annotations

import logging
import warnings

import pytest

from neardup.models.quiet import quiet_transformers

hf_logging = pytest.importorskip("transformers.utils.logging")


def test_everything_is_restored_after_the_block_even_on_error() -> None:
    st = logging.getLogger("sentence_transformers")
    extra = logging.getLogger("torch.onnx")
    st.setLevel(logging.INFO)
    extra.setLevel(logging.DEBUG)
    hf_logging.set_verbosity_info()
    hf_logging.enable_progress_bar()
    try:
        with pytest.raises(RuntimeError), quiet_transformers(loggers=("torch.onnx",)):
            assert not hf_logging.is_progress_bar_enabled()
            assert hf_logging.get_verbosity() == hf_logging.ERROR
            assert st.level == logging.ERROR and extra.level == logging.ERROR
            raise RuntimeError("boom")
        assert hf_logging.is_progress_bar_enabled()
        assert hf_logging.get_verbosity() == hf_logging.INFO
        assert st.level == logging.INFO and extra.level == logging.DEBUG
    finally:
        hf_logging.set_verbosity_warning()
        st.setLevel(logging.NOTSET)
        extra.setLevel(logging.NOTSET)


def test_bars_only_keeps_reports_and_python_warnings_are_opt_in() -> None:
    hf_logging.set_verbosity_warning()
    with quiet_transformers(reports=False):
        assert not hf_logging.is_progress_bar_enabled()
        assert hf_logging.get_verbosity() == hf_logging.WARNING
        with pytest.warns(UserWarning):
            warnings.warn("still shown", UserWarning)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_transformers(python_warnings=True):
            warnings.warn("hidden", UserWarning)
    assert not [w for w in seen if "hidden" in str(w.message)]
