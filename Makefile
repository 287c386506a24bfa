# make is the interface: the README's commands are these targets, and CI runs `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CDI := $(BIN)/cdi

# The demo: a simulated Kent-like force (2017 recording behaviour), four weeks of daily snapshots.
DEMO_FORCE ?= KNT
DEMO_PROFILE ?= kent-2017
DEMO_FROM ?= 2024-06-01
DEMO_DATE ?= 2024-06-28
DEMO_SCALE ?= 0.05
DEMO_DIR := $(CURDIR)/var/demo
AIRFLOW_HOME_DIR := $(CURDIR)/var/airflow
AIRFLOW_ENV := AIRFLOW_HOME=$(AIRFLOW_HOME_DIR) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__PARALLELISM=4 \
	CDI_LANDING_DIR=$(DEMO_DIR)/landing CDI_LAKE_DIR=$(DEMO_DIR)/lake CDI_DEMO=true CDI_FORCES=$(DEMO_FORCE)

.PHONY: help install demo backfill test test-fast bench lock clean

help:
	@echo "make demo    run the daily integrity DAG on a simulated force and print the verdict"
	@echo "make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD [FORCE=KNT LAKE=... LANDING=... PERIOD_EXPORT=...]"
	@echo "             reconcile every snapshot date of a period (default: the demo's lake and landing)"
	@echo "make test    run the whole test suite"
	@echo "make bench   run the benchmarks (figures go to bench/results and the README)"
	@echo "make lock    re-resolve requirements.in into requirements.lock"

install: $(INSTALLED)

$(INSTALLED): requirements.lock setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(AIRFLOW_HOME_DIR)/airflow.db: | $(INSTALLED)
	mkdir -p $(AIRFLOW_HOME_DIR)
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate > $(AIRFLOW_HOME_DIR)/db-migrate.log 2>&1 \
		|| (tail -n 30 $(AIRFLOW_HOME_DIR)/db-migrate.log; exit 1)

demo: $(INSTALLED) $(AIRFLOW_HOME_DIR)/airflow.db
	rm -rf $(DEMO_DIR)
	$(CDI) simulate --force $(DEMO_FORCE) --profile $(DEMO_PROFILE) --from $(DEMO_FROM) --to $(DEMO_DATE) \
		--seed 7 --scale $(DEMO_SCALE) --landing $(DEMO_DIR)/landing --truth $(DEMO_DIR)/truth
	@echo "running the DAG crime_data_integrity for $(DEMO_DATE) with airflow dags test (log: var/demo/airflow-dags-test.log)"
	@# A gate breach fails the Airflow run on purpose; the verdict below says whether that is what happened.
	@$(AIRFLOW_ENV) $(BIN)/airflow dags test crime_data_integrity $(DEMO_DATE) > $(DEMO_DIR)/airflow-dags-test.log 2>&1; \
		echo "airflow dags test exit code: $$? (1 = the run failed, as it must on a breach)"
	@$(CDI) verdict --force $(DEMO_FORCE) --date $(DEMO_DATE) --lake $(DEMO_DIR)/lake; rc=$$?; \
		if [ $$rc -gt 1 ]; then tail -n 40 $(DEMO_DIR)/airflow-dags-test.log; exit $$rc; fi

# Backfill a period (cdi backfill); by default the demo's force, landing and lake.
FORCE ?= $(DEMO_FORCE)
LAKE ?= $(DEMO_DIR)/lake
LANDING ?= $(DEMO_DIR)/landing
BACKFILL_FLAGS ?= $(if $(PERIOD_EXPORT),--period-export $(PERIOD_EXPORT),--landing $(LANDING)) \
	$(if $(filter $(LAKE),$(DEMO_DIR)/lake),--demo)

backfill: $(INSTALLED)
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD [FORCE= LAKE= LANDING= PERIOD_EXPORT=]"; exit 2; }
	$(CDI) backfill --force $(FORCE) --from $(FROM) --to $(TO) --lake $(LAKE) $(BACKFILL_FLAGS)

test: $(INSTALLED)
	$(BIN)/python -m pytest

test-fast: $(INSTALLED)
	$(BIN)/python -m pytest -m "not slow and not e2e"

bench: $(INSTALLED)
	$(BIN)/python -m bench

lock:
	rm -rf var/lock-venv
	$(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/python -m pip install --quiet -r requirements.in
	var/lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -v '^-e ' > requirements.lock
	rm -rf var/lock-venv

clean:
	rm -rf var .pytest_cache
