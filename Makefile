# Two entry points: `make run` (the main job) and `make test` (the whole suite).
# Both create or reuse the virtual environment .venv and install pinned dependencies.
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: venv run test datasets bench

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) -r requirements.lock
	$(PIP) --no-deps -e .
	touch $@

venv: $(VENV)/.installed

run: venv
	$(VENV)/bin/firth classify train bbc-news --model sgnn --feature-param mode=float --hidden 256 128 \
		--pooling meanmax --lr 0.003 --schedule cosine --warmup 50 --clip-grad 1 --epochs 12 \
		--batch-size 64 --patience 6 --monitor val_acc \
		--out runs/bbc-news --overwrite

test: venv
	$(PY) -m pytest

datasets: venv
	$(VENV)/bin/firth data get --all

bench: venv
	$(PIP) -e '.[bench]'
