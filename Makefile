# Two entry points: `make run` (the main job) and `make test` (the whole suite).
# Both create or reuse the virtual environment .venv and install pinned dependencies.
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: venv run test datasets

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) -r requirements.lock
	$(PIP) --no-deps -e .
	touch $@

venv: $(VENV)/.installed

run: venv
	$(VENV)/bin/firth classify train bbc-news --out runs/bbc-news

test: venv
	$(PY) -m pytest

datasets: venv
	$(VENV)/bin/firth data get --all
