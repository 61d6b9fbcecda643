# Two commands: `make demo` (set up + end-to-end demo) and `make test` (set up + all tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench clean

$(BIN)/matcher: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/matcher

setup: $(BIN)/matcher

demo: setup
	$(BIN)/matcher demo

lint: setup
	$(BIN)/ruff check src cli api tests benchmarks
	$(BIN)/ruff format --check src cli api tests benchmarks
	$(BIN)/mypy src/matcher
	$(BIN)/mypy cli/matcher_cli api/matcher_api
	$(BIN)/mypy tests benchmarks

test: setup lint
	$(BIN)/pytest
	# Every kernel test file once more as plain Python, so the jitted bodies are exercised too.
	# Hash mixing wraps modulo 2**64 on purpose; numpy scalars warn about that, machine code not.
	NUMBA_DISABLE_JIT=1 $(BIN)/pytest -q -p no:cacheprovider \
		-W "ignore:overflow encountered in scalar:RuntimeWarning" tests/test_*kernels.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
