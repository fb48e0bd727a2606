# Two commands do everything on a fresh machine with Python 3.11:
#   make demo   set up .venv, write the sample collection and deduplicate it
#   make test   set up .venv and run the tests
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# torch first, from the CPU wheel: otherwise pip resolves torch from PyPI, which on Linux is
# a multi-GB CUDA build. Elsewhere pass the CPU index, e.g.
#   make demo TORCH_PIP_ARGS="--index-url <PyTorch CPU wheel index>"
TORCH_SPEC     ?= torch==2.13.0
TORCH_PIP_ARGS ?= $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

.PHONY: setup demo test test-all bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)" $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install -q -e ".[all,dev]"
	touch $@

demo: setup
	$(BIN)/neardup sample sample
	$(BIN)/neardup dedup sample/news.csv --text title --id id --output demo-output
	$(BIN)/neardup evaluate sample/news.csv --task groups --text title --label group

test: setup
	$(BIN)/python -m pytest -m "not slow"

test-all: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/quality.py

clean:
	rm -rf $(VENV) sample demo-output
