# Two commands for a new user: `make run` and `make test`. Everything else is installed on demand.
SHELL := /bin/bash
PY311 ?= $(shell command -v python3.11 || command -v python3)
PY310 ?= $(shell pyenv prefix 3.10 2>/dev/null || pyenv prefix 3.10.13 2>/dev/null)/bin/python
APP := .venv/bin
ENGINE := .venv-engine/bin
RASA_INPUTS := config.yml domain.yml $(wildcard data/nlu/*.yml) $(wildcard data/*.yml)
export OMP_NUM_THREADS ?= 1
export HF_HUB_OFFLINE := 1
export RASA_TELEMETRY_ENABLED := false

.PHONY: run test install model index validate test-rasa test-py bench chromium clean

run: install model index
	$(APP)/govbot run

install: .venv/.installed .venv-engine/.installed

# Long steps print one line each; pip's and Rasa's output goes to var/log/make.log (scripts/step).
STEP := scripts/step

# The app: torch's CPU build first (from the pinned lock), or pip would pull a multi-GB CUDA build.
.venv/.installed: pyproject.toml requirements/app.lock
	@test -x $(APP)/python || $(STEP) "creating .venv (Python 3.11)" $(PY311) -m venv .venv
	@$(STEP) "installing pip" $(APP)/pip install -q --upgrade pip
	@$(STEP) "installing torch (CPU build; only exports the encoders to ONNX)" \
		$(APP)/pip install -q torch==2.13.0
	@$(STEP) "installing the app's packages (first time: about 3 minutes)" \
		$(APP)/pip install -q -c requirements/app.lock -e '.[test,bench]'
	@touch $@

# The engine: Rasa Open Source 3.6 needs Python 3.10.
.venv-engine/.installed: requirements/engine.lock
	@test -x $(ENGINE)/python || $(STEP) "creating .venv-engine (Python 3.10)" $(PY310) -m venv .venv-engine
	@$(STEP) "installing pip for the engine" $(ENGINE)/pip install -q --upgrade pip
	@$(STEP) "installing Rasa Open Source 3.6 (first time: about 3 minutes)" \
		$(ENGINE)/pip install -q -r requirements/engine.lock
	@touch $@

# Retrained only when the dialogue inputs change.
model: models/govbot.tar.gz
models/govbot.tar.gz: .venv-engine/.installed $(RASA_INPUTS)
	@$(STEP) "training the Rasa dialogue model (about 2 minutes)" \
		$(ENGINE)/rasa train --fixed-model-name govbot --out models --quiet

# Rebuilt only when the knowledge base or the models change (the index manifest decides).
index: .venv/.installed
	@echo "==> checking the FAQs and building the index (the encoders are exported once)"
	@$(APP)/govbot kb validate
	@$(APP)/govbot kb index

# Lint (ruff, lines <= 100 columns), the import layers (import-linter, pyproject.toml), types (mypy).
validate: install
	$(APP)/ruff check bot actions connectors tests bench
	$(APP)/ruff format --check --quiet bot actions connectors tests bench
	$(APP)/lint-imports --no-cache
	$(APP)/mypy
	$(ENGINE)/rasa data validate --fail-on-warnings --quiet
	$(APP)/govbot kb validate

test-rasa: model
	$(ENGINE)/rasa test core --stories tests/test_conversations.yml --model models/govbot.tar.gz \
		--out var/rasa-results --fail-on-prediction-errors --quiet

chromium:
	@command -v chromium >/dev/null || (apt-get install -y -q chromium >/dev/null || \
		(apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null))

test-py: install model index chromium
	$(APP)/python -m pytest

test: validate test-rasa test-py

bench: install model index
	$(APP)/python -m bench

clean:
	rm -rf var models .venv .venv-engine
