# cityeye — the two commands: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := demo
HOST   ?= 127.0.0.1
PORT   ?= 8000
HOURS  ?= 48
SEED   ?= 2021
SPEED  ?= 60
# the simulated days start late in a month, so the month's 社情民意 (the DAYS before
# them), its cases and the replayed days all fall in that one month (issue 18: the
# cockpit opens on the month of the newest case, with every panel's figures in it)
START  ?= 2026-10-29T00:00:00+08:00
DAYS   ?= 27
LIVE   := $(DEMO)/live/cityeye.db

.PHONY: demo test lint typecheck unit integration demo-data bench bench-kpi bench-ingest bench-soak bench-live clean screenshots

$(STAMP): pyproject.toml setup.py $(wildcard src/cityeye/*/*.pyx)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cityeye needs Python >= 3.11; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: generate the Gongshu demo district, simulate two days, serve the last one live on
## :8000 at SPEED simulated seconds per second (60: an hour a minute; docs/demo.md)
demo: demo-data
	@echo "cockpit 驾驶舱  http://$(HOST):$(PORT)/cockpit"
	@echo "desk 处置端     http://$(HOST):$(PORT)/desk"
	@echo "portal 居民端   http://$(HOST):$(PORT)/portal"
	@echo "API docs 接口   http://$(HOST):$(PORT)/docs"
	@echo "replaying $(DEMO)/events.jsonl at $(SPEED)x (make demo SPEED=600 for faster)"
	$(BIN)/cityeye serve --db sqlite:///$(LIVE) --host $(HOST) --port $(PORT) --replay $(DEMO)/events.jsonl --speed $(SPEED)

## demo-data: the district, the simulated days from START (and their offline backtest in
## demo/replay), a fresh live database with the district, one demo login per role, and the
## DAYS before the simulated days of 社情民意 and 红茶议事会, in the same month
## (docs/participation.md, docs/demo.md)
demo-data: $(STAMP)
	$(BIN)/cityeye world demo --seed $(SEED) --out $(DEMO)/world.yaml
	$(BIN)/cityeye world validate $(DEMO)/world.yaml
	$(BIN)/cityeye simulate --world $(DEMO)/world.yaml --hours $(HOURS) --seed $(SEED) --start $(START) --out $(DEMO)/events.jsonl
	$(BIN)/cityeye replay $(DEMO)/events.jsonl --world $(DEMO)/world.yaml --out $(DEMO)/replay
	mkdir -p $(dir $(LIVE)) && rm -f $(LIVE) $(LIVE)-wal $(LIVE)-shm
	$(BIN)/cityeye world load $(DEMO)/world.yaml --db sqlite:///$(LIVE)
	$(BIN)/cityeye user demo --db sqlite:///$(LIVE)
	$(BIN)/cityeye participation demo --db sqlite:///$(LIVE) --seed $(SEED) --days $(DAYS) --events $(DEMO)/events.jsonl

## screenshots: refresh docs/screenshots/ from the browser tests (needs chromium, node)
screenshots: $(STAMP)
	npm ci --prefix tests/browser --no-audit --no-fund --ignore-scripts
	mkdir -p docs/screenshots
	CITYEYE_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/unit/test_browser.py tests/unit/test_browser_loop.py tests/unit/test_browser_council.py tests/unit/test_browser_alerts.py tests/unit/test_browser_desk_work.py tests/unit/test_browser_places.py tests/unit/test_browser_cockpit_period.py tests/unit/test_browser_cockpit_screen.py tests/unit/test_browser_casecard.py tests/unit/test_browser_board.py tests/unit/test_browser_reminder.py tests/unit/test_browser_quality.py tests/unit/test_browser_surveys.py

## test: lint, type-check, unit and integration tests
test: lint typecheck
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/lint-imports  # layers import downwards only (docs/architecture.md)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

## bench: engine vs Node-RED (issue 3), ~12 min; BENCH_ARGS=--quick for a smoke run
bench: $(STAMP)
	$(BIN)/python bench/engine.py $(BENCH_ARGS)

## bench-kpi: cockpit KPI queries over 1M cases / 10M events on SQLite (issue 4), ~25 min;
## BENCH_ARGS=--quick for 100k / 1M
bench-kpi: $(STAMP)
	$(BIN)/python bench/kpi.py $(BENCH_ARGS)

## bench-ingest: HTTP and MQTT ingest vs a counting MQTT subscriber (issue 5); BENCH_ARGS=--quick
bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)

## bench-soak: 30 min at 5,000 events/s into the live server: RSS flat, snapshot stall (issue 14);
## BENCH_ARGS="--minutes 1.5 --rate 1000" for a smoke run
bench-soak: $(STAMP)
	$(BIN)/python bench/soak.py $(BENCH_ARGS)

## bench-live: HTTP and MQTT into the live server with the full catalogue, event→alert latency
## on the SSE stream under load, RSS; beside the floor and Node-RED (issue 15), for
## serve --analysis process (the default) and thread, ~10 min; BENCH_ARGS=--quick for ~4 min,
## BENCH_ARGS="--analysis process" for one mode
bench-live: $(STAMP)
	$(BIN)/python bench/live.py $(BENCH_ARGS)

clean:
	rm -rf $(DEMO) .pytest_cache .mypy_cache .ruff_cache
