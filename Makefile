# landmarket: `make demo` serves the platform on the sample township; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint format sysdeps venv db db-down sample serve bench clean messages

demo: sysdeps venv db sample  ## set everything up and serve the platform on the sample township
	$(BIN)/landmarket serve --host $(HOST) --port $(PORT)

test: sysdeps venv db lint  ## the whole suite against a real PostGIS and a real headless Chromium
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

sysdeps:
	@bash scripts/install-system-deps.sh

messages: venv  ## extract translatable text into the .po catalogues; then translate new zh_CN entries
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d landmarket/i18n/locales -D messages \
		--no-fuzzy-matching --ignore-obsolete -w 100

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m geodata.screening.warm  # numba kernels compiled into their cache once
	touch $@

db: venv  ## start the embedded PostGIS cluster under var/ (or migrate LANDMARKET_DATABASE_URL)
	$(BIN)/landmarket db up
	@# the documents' CJK face, cut once from the system font (~9 s), so no first PDF waits for it
	$(BIN)/python -c "from geodata.trading.pdf import prepared_font; print((prepared_font() or ('no var/: the whole system font',))[0])"

db-down: venv
	$(BIN)/landmarket db down

sample: db  ## load the sample township into the database
	$(BIN)/landmarket sample load

serve: venv
	$(BIN)/landmarket serve --host $(HOST) --port $(PORT)

bench: sysdeps venv db
	$(BIN)/python -m bench

clean:
	-$(BIN)/landmarket db down
	rm -rf var $(VENV) *.egg-info
