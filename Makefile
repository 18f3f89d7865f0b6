# mipnn: `make demo` runs the whole pipeline on the built-in breast_cancer data set,
# `make test` runs the test suite. Both install what is missing first (apt packages,
# then a .venv with the project).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
MIPNN  := $(VENV)/bin/mipnn
OUT    ?= out
MODEL  ?= $(OUT)/model.json
TARGETS ?= host cortex-m3
TRAIN_ARGS ?= --dataset breast_cancer --train-size 100 --hidden 8 --bound 1 --time-limit 30 --seed 0
PYTEST_ARGS ?=

.PHONY: help demo deps venv train export firmware test lint clean bench-deploy bench-raw bench-paper

help:
	@echo "make demo      install, train on breast_cancer, export C, verify on $(TARGETS)"
	@echo "make test      install, run the test suite"
	@echo "make train     train $(MODEL) (TRAIN_ARGS='...')"
	@echo "make firmware  run $(MODEL) on every installed target and compare bit for bit"
	@echo "make lint      ruff"

deps:
	@scripts/install-deps.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev,cluster,gurobi,peers]'
	@touch $@

venv: $(VENV)/.installed

demo: deps venv
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory train export && \
	$(MIPNN) eval $(MODEL) && \
	$(MIPNN) firmware $(MODEL) $(addprefix --target ,$(TARGETS)) --build-dir $(OUT)/build && \
	echo "demo: done in $$(( $$(date +%s) - start )) s; generated C in $(OUT)/c"

train: venv
	@mkdir -p $(OUT)
	$(MIPNN) train $(TRAIN_ARGS) --out $(MODEL)

export: venv
	$(MIPNN) export $(MODEL) --out $(OUT)/c

firmware: venv
	@test -f $(MODEL) || $(MAKE) --no-print-directory train
	$(MIPNN) firmware $(MODEL) --target all --build-dir $(OUT)/build

# Every strategy on every installed target for bench/models/adult-108-16-2.json; prints the
# table and rewrites the "Deployment (issue 5)" section of docs/RESULTS.md.
bench-deploy: venv
	$(PY) bench/deploy.py

# NAME_predict_raw beside NAME_predict (and NAME_encode) on every installed target for the
# Adult bench model made version 2; rewrites "Raw values on the device (issue 23)".
bench-raw: venv
	$(PY) bench/raw.py

# The paper's benchmark (issue 3), resumable: runs are cached in bench/results/paper.jsonl;
# rewrites the "Paper benchmark (issue 3)" section of docs/RESULTS.md.
# BENCH_PAPER_ARGS='--quick' finishes in 10 minutes; the full grid takes tens of hours.
BENCH_PAPER_ARGS ?= --jobs 1
bench-paper: venv
	$(PY) bench/paper.py $(BENCH_PAPER_ARGS)

test: deps venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(OUT) build .pytest_cache
