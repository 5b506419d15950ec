# Spec-first FastAPI server generator. `make generate` and `make test` bootstrap .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 2024

.PHONY: install generate check test lint bench corpus corpus-models serve migrate mock clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

generate: $(STAMP)
	$(BIN)/codegen generate

check: $(STAMP)
	$(BIN)/codegen check

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check codegen service bench examples tests generated
	$(BIN)/mypy --strict generated

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The generator on APIs-guru's directory (fetched with npm into ~/.cache/codegen/corpus); not part
# of `make test`. N=100 SEED=1 for a seeded sample, SHARD=1/4 for a shard, JOBS=2 documents at once.
corpus: $(STAMP)
	$(BIN)/python bench/corpus.py $(if $(N),--sample $(N)) --seed $(or $(SEED),1) $(if $(SHARD),--shard $(SHARD)) $(if $(JOBS),--jobs $(JOBS))

# The differential model test over every OpenAPI 3.1 document of the directory.
corpus-models: $(STAMP)
	$(BIN)/python -m pytest -q -s -m corpus tests/test_corpus_differential.py

# DATABASE_URL selects the store: an SQLite file by default, or postgresql://user@host/db.
serve: $(STAMP)
	$(BIN)/uvicorn service.app:app --host 127.0.0.1 --port $(PORT)

# Bring DATABASE_URL's store to the latest schema (the service also does this when it starts).
migrate: $(STAMP)
	$(BIN)/python -m service.migrate

mock: $(STAMP)
	$(BIN)/codegen mock --port $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
