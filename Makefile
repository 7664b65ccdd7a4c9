# Every target bootstraps .venv itself, so a fresh clone needs nothing but python3 >= 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS ?= dev,web,postgres

.PHONY: demo test lint bench fuzz chaos interop venv clean messages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@$(BIN)/distributor demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The Bluesky adapter and CLI against the reference PDS (node 22 + @atproto/pds, installed once
# into ~/.cache/distributor-interop; the first install compiles for a few minutes).
interop: $(STAMP)
	.ci/interop.sh install
	$(BIN)/python -m pytest -q -p no:cacheprovider -m interop tests/interop

# The admin UI's German catalogue: new message ids from templates and code (then translate them).
LOCALE := distributor/web/admin/locale
messages: $(STAMP)
	$(BIN)/pybabel extract -F $(LOCALE)/babel.cfg -k N_ -k Text --no-location -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -o $(LOCALE)/de.po -l de --ignore-obsolete --ignore-pot-creation-date --width 100
	@rm $(LOCALE)/messages.pot

lint: $(STAMP)
	$(BIN)/ruff check distributor tests bench
	$(BIN)/ruff format --check distributor tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

# Property tests and every input door with many more examples (CI runs a bounded number).
FUZZ_EXAMPLES ?= 10000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/hardening/test_properties.py tests/hardening/test_fuzz.py tests/hardening/test_web.py \
		tests/sources/test_sources_fuzz.py

# Chaos soak: workers under random faults and SIGKILLs, SQLite and PostgreSQL (see RELIABILITY.md).
MINUTES ?= 5
chaos: $(STAMP)
	$(BIN)/python -m chaos --minutes $(MINUTES) --pg

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
