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

# The demo extra only adds trustme, so the tour's TLS section has certificates to show.
$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,distributed]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/python -m tether.demo

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests bench $(wildcard examples)
	$(BIN)/ruff format --check src tests bench $(wildcard examples)

typecheck: $(STAMP_TEST)
	$(BIN)/mypy --strict src

# The whole suite on the default I/O backend, then the I/O-level tests again on the
# portable selectors backend; coverage is combined and checked once, at the end.
# `coverage run` (not pytest --cov) because our own pytest plugin imports tether before
# pytest-cov would start measuring.
pytest: $(STAMP_TEST)
	rm -f .coverage .coverage.*
	$(BIN)/python -m coverage run -m pytest $(PYTEST_ARGS)
	TETHER_IO_BACKEND=selectors $(BIN)/python -m coverage run --append -m pytest -q \
		tests/test_io.py tests/test_io_registration.py
	$(BIN)/python -m coverage report

test: lint typecheck pytest

bench:
	$(MAKE) $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache build dist
