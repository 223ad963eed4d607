# The one entry point for people and CI. Every target sets up .venv from pyproject.toml first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint format bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,encoder]'
	touch $(STAMP)

run: setup
	$(BIN)/billbot demo --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The intent recogniser is trained (or its stored fit found) once, before the test workers
# start: each then loads it from var/nlu instead of training the same fit side by side.
test: lint
	$(BIN)/billbot nlu parse "train the recogniser" > /dev/null
	$(BIN)/pytest -n 2

# Bare endpoints vs billbot on SQLite and PostgreSQL under wrk (installed when missing, as root):
# the web chat, then the SMS and Telegram webhooks, outbox delivery and SMS segments, then the
# alert scan over a million generated lines (seeding them takes ~4 min on SQLite, ~8 on
# PostgreSQL; `make bench ALERTS_ARGS="--lines 100000"` for a quicker look), then the web
# view's pages and PDF next to /healthz;
# e.g. `make bench BENCH_ARGS=--profile` adds cProfile and py-spy. See docs/benchmarks.md.
BENCH_ARGS ?=
ALERTS_ARGS ?= --lines 1000000
bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench.webhooks
	$(BIN)/python -m bench.alerts $(ALERTS_ARGS)
	$(BIN)/python -m bench.web

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
