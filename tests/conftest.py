"""Shared test set-up: never touch the network, keep model caches inside the test session."""

from __future__ import annotations

import os

# Tests must pass without network: make Hugging Face libraries fail fast instead of retrying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
