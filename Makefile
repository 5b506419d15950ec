# Spec-first FastAPI server generator. `make generate` and `make test` bootstrap .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 2024

.PHONY: install lock generate check test test-lowest lint bench corpus corpus-models serve migrate mock clean

LOCK := requirements/lock.txt
LOWEST := requirements/lowest.txt

# The exact versions of the lock file, then the project itself (editable, its ranges already met).
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# After changing a range in pyproject.toml: resolve '.[dev]' afresh and write the lock file.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	{ echo "# The exact versions the project develops and tests with: \`make install\` installs these, then"; \
	  echo "# the project itself without dependencies. Regenerate with \`make lock\` after changing a range."; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^spec-first-codegen' | sort -f; } > $(LOCK)
	rm -rf .venv-lock

# The whole suite against the lowest versions pyproject.toml's ranges allow (CI runs it too).
test-lowest:
	test -x .venv-lowest/bin/python || $(PYTHON) -m venv .venv-lowest
	.venv-lowest/bin/python -m pip install --quiet --disable-pip-version-check -c $(LOWEST) -e '.[dev]'
	.venv-lowest/bin/python -m pip check
	.venv-lowest/bin/python -m pytest -q -p no:cacheprovider

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
	rm -rf $(VENV) .venv-lowest .pytest_cache .mypy_cache .ruff_cache .hypothesis
