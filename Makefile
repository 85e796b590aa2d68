# Entry points. Every target installs what it needs: a fresh clone needs only
# python3 (3.11+) and make. Tools go to .tools/, the workspace to .venv/.
# The workspace's interpreter: the system's python3 when it is 3.11 or 3.12, otherwise
# the first python3 on the PATH. Debian's python3 is built with profile-guided and
# link-time optimisation (as the official Docker images are); a pyenv build is not by
# default, and our services spent ~10% more CPU on it (README, Interpreter).
# `make PYTHON=/path/to/python3 setup` chooses another.
PYTHON      ?= $(shell for p in /usr/bin/python3 python3; do "$$p" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null && { echo "$$p"; break; }; done)
# Only installs uv (into .tools/): any python3 with venv will do.
BOOTSTRAP_PYTHON ?= python3
UV_VERSION  := 0.13.9
UV          := .tools/bin/uv
VENV        := .venv
BIN         := $(VENV)/bin
COMPOSE     ?= docker compose

.PHONY: setup run test lint proto bench up down logs clean help

help:
	@echo "make setup  install uv and the locked workspace into .venv (idempotent)"
	@echo "make run    start Postgres, the Kafka broker and every service locally"
	@echo "make test   run the whole test suite against real Postgres and Kafka"
	@echo "make lint   ruff + mypy --strict on libs/, services/ and benchmarks/"
	@echo "make proto  regenerate Python code and stubs from proto/"
	@echo "make bench  run the benchmarks; JSON and a table in bench-results/"
	@echo "make up / down / logs   the docker compose stack"
	@echo "make run-compose-local  the services, commands and environment of docker-compose.yml, locally"

$(UV):
	$(BOOTSTRAP_PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	@test -n "$(PYTHON)" || { echo "no python3 3.11 or 3.12 found: make PYTHON=/path/to/python3 setup"; exit 1; }
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced

run: setup
	$(BIN)/python -m crm_devstack run

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy libs/*/src services/*/src proto/generate.py benchmarks

proto: setup
	$(BIN)/python proto/generate.py

bench: setup
	$(BIN)/python -m benchmarks

up:
	$(COMPOSE) up -d --build

down:
	$(COMPOSE) down

logs:
	$(COMPOSE) logs -f

clean:
	rm -rf .venv .tools .data bench-results

# docker-compose.yml's services, commands and environments as local processes against the
# embedded Postgres and broker (no Docker): libs/devstack/src/crm_devstack/compose_local.py.
.PHONY: run-compose-local
run-compose-local: setup
	$(BIN)/python -m crm_devstack compose-local
