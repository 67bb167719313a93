# Two commands matter: `make train` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# make train ARGS='data.n_stocks=100 ...' passes overrides; make mlflow-ui MLFLOW_DB=... MLFLOW_PORT=...
ARGS ?=
MLFLOW_DB ?= $(CURDIR)/outputs/mlflow.db
MLFLOW_PORT ?= 5000
# make services: loopback S3 (weed mini, ports S3_BASE_PORT..+9, S3 at +6) and an MLflow server on
# PostgreSQL; credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment.
# Runs log to it with `train.py tracking=server` (MLFLOW_TRACKING_URI, default port 18310).
SERVICES := $(CURDIR)/outputs/services
S3_BASE_PORT ?= 18300
S3_BUCKET ?= gogooku3
MLFLOW_SERVER_PORT ?= 18310
# make monitor: Prometheus, Pushgateway and Alertmanager on loopback (ports: conf/monitoring; MONITOR_ARGS='key=value ...')
MONITOR := $(CURDIR)/outputs/monitor
MONITOR_ARGS ?=

.PHONY: help setup train test test-fast lint clean mlflow-ui bench services services-stop monitor monitor-stop

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

services: $(STAMP)  ## start weed mini (S3) and mlflow server (PostgreSQL + S3 artifacts); PIDs in outputs/services/
	mkdir -p $(SERVICES)
	PYTHONPATH=src $(PY) -m gogooku3.storage.s3_server start --dir $(SERVICES)/weed --base-port $(S3_BASE_PORT) --pid-file $(SERVICES)/weed.pid
	PYTHONPATH=src GOGOOKU3_S3_ENDPOINT=http://127.0.0.1:$$(( $(S3_BASE_PORT) + 6 )) $(PY) -c "from gogooku3.storage.objects import S3ObjectStore as S; S('$(S3_BUCKET)').ensure_bucket()"
	psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw gogooku3_mlflow || createdb -h 127.0.0.1 -U postgres gogooku3_mlflow
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false MLFLOW_S3_ENDPOINT_URL=http://127.0.0.1:$$(( $(S3_BASE_PORT) + 6 )) \
	  nohup $(VENV)/bin/mlflow server --host 127.0.0.1 --port $(MLFLOW_SERVER_PORT) \
	  --backend-store-uri postgresql+psycopg2://postgres@127.0.0.1:5432/gogooku3_mlflow \
	  --artifacts-destination s3://$(S3_BUCKET)/mlflow >$(SERVICES)/mlflow.log 2>&1 & echo $$! > $(SERVICES)/mlflow.pid
	@echo "S3 http://127.0.0.1:$$(( $(S3_BASE_PORT) + 6 )), MLflow http://127.0.0.1:$(MLFLOW_SERVER_PORT)"

services-stop:  ## end exactly the PIDs that `make services` recorded
	PYTHONPATH=src $(PY) -m gogooku3.storage.s3_server stop --pid-file $(SERVICES)/mlflow.pid
	PYTHONPATH=src $(PY) -m gogooku3.storage.s3_server stop --pid-file $(SERVICES)/weed.pid

monitor: $(STAMP)  ## start Prometheus, Pushgateway, Alertmanager (configs rendered to outputs/monitor/; PIDs there)
	PYTHONPATH=src $(PY) -m gogooku3.monitoring start --out $(MONITOR) $(MONITOR_ARGS)

monitor-stop:  ## end exactly the PIDs that `make monitor` recorded
	PYTHONPATH=src $(PY) -m gogooku3.monitoring stop --out $(MONITOR)
