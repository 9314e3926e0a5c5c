VENV := .venv
INSTALL := $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check

.PHONY: run demo test

run: $(VENV)/bin/python
	$(INSTALL) -e .
	$(VENV)/bin/parlour run

demo: $(VENV)/bin/python
	$(INSTALL) -e .
	$(VENV)/bin/parlour demo
	$(VENV)/bin/parlour run

test: $(VENV)/bin/python
	$(INSTALL) -e ".[test]"
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/pytest
	PARLOUR_TEST_DB=postgres $(VENV)/bin/pytest

$(VENV)/bin/python:
	python3 -m venv $(VENV)
