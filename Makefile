# The whole set-up on a fresh clone: `make demo` or `make test`. Only python3 is assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/python -m tether.demo

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests bench examples

typecheck: $(STAMP_TEST)
	$(BIN)/mypy --strict src

# The whole suite on the default I/O backend, then the I/O-level tests again on the
# portable selectors backend; coverage is combined and checked once, at the end.
pytest: $(STAMP_TEST)
	$(BIN)/python -m pytest --cov=tether --cov-branch --cov-report= --cov-fail-under=0 $(PYTEST_ARGS)
	TETHER_IO_BACKEND=selectors $(BIN)/python -m pytest -q --cov=tether --cov-branch \
		--cov-append --cov-report=term tests/test_io.py tests/test_io_registration.py

test: lint typecheck pytest

bench:
	$(MAKE) $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache build dist
