# Two commands do all the set-up on a fresh machine (Python 3.11 on PATH):
#   make run    creates .venv, installs, builds the bundled sample on first use, runs a backtest
#   make test   creates .venv, installs, runs ruff, mypy and the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean chromium

$(STAMP): setup.cfg pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python run_backtest.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy options_scalper btcompat feeds strategies analyzers brokers journal app dashboard run_backtest.py run_live.py

# The dashboard's browser tests drive Debian's chromium (Playwright cannot download its own
# browser here). Installed once with apt-get; a no-op when /usr/bin/chromium is there.
CHROMIUM := /usr/bin/chromium
APT_GET  := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q

chromium:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the dashboard's browser tests (apt-get)"; \
	  $(APT_GET) install --no-install-recommends chromium >/dev/null \
	  || { $(APT_GET) update >/dev/null && $(APT_GET) install --no-install-recommends chromium >/dev/null; } \
	  || { echo "error: cannot install chromium (apt-get as root); install it, or run the other tests with: $(BIN)/python -m pytest --deselect tests/dashboard/test_browser.py"; exit 1; }; }

test: lint chromium
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/selection.py
	$(BIN)/python bench/backtest.py
	$(BIN)/python bench/dashboard.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
