VENV := .venv
INSTALL := $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check

.PHONY: run demo test screenshots

run: $(VENV)/bin/python
	$(INSTALL) -e .
	$(VENV)/bin/parlour run

demo: $(VENV)/bin/python
	$(INSTALL) -e .
	$(VENV)/bin/parlour demo
	$(VENV)/bin/parlour run

# The whole suite in one process time zone, $(1) (Q1). Django replaces TZ with its own
# TIME_ZONE as it starts; the plugin puts the given zone back and its test checks that the
# run used it.
pytest_in = TZ=$(1) PARLOUR_EXPECT_TZ=$(1) $(VENV)/bin/pytest -p tests.test_process_time_zone

test: $(VENV)/bin/python
	$(INSTALL) -e ".[test]"
	$(VENV)/bin/ruff check src tests scripts
	PARLOUR_TEST_DB=sqlite $(call pytest_in,UTC)
	PARLOUR_TEST_DB=sqlite $(call pytest_in,America/Sao_Paulo)
	PARLOUR_TEST_DB=postgres $(call pytest_in,UTC)

# The pictures in docs/screenshots/, from the demo in Chromium (needs: apt-get install chromium).
screenshots: $(VENV)/bin/python
	$(INSTALL) -e ".[test]"
	$(VENV)/bin/python scripts/screenshots.py

$(VENV)/bin/python:
	python3 -m venv $(VENV)
