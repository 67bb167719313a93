# Two commands matter: `make train` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# make train ARGS='data.n_stocks=100 ...' passes overrides; make mlflow-ui MLFLOW_DB=... MLFLOW_PORT=...
ARGS ?=
MLFLOW_DB ?= $(CURDIR)/outputs/mlflow.db
MLFLOW_PORT ?= 5000

.PHONY: help setup train test test-fast lint clean mlflow-ui bench

help:  ## list targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "%-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/constraints.txt torch==2.13.0
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install pinned dependencies

train: $(STAMP)  ## run the default experiment (LightGBM on the synthetic market)
	$(PY) train.py $(ARGS)

test: $(STAMP)  ## run the whole test suite
	$(PY) -m pytest -q -n 2 --dist loadfile

test-fast: $(STAMP)  ## skip slow end-to-end tests
	$(PY) -m pytest -q -m "not slow"

mlflow-ui: $(STAMP)  ## MLflow UI on the project store at 127.0.0.1:5000
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(MLFLOW_DB) --host 127.0.0.1 --port $(MLFLOW_PORT)

clean:  ## remove run outputs (keeps .venv)
	rm -rf outputs/runs outputs/multiruns
