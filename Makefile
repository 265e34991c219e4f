# Two commands do all set-up on a fresh machine with python3 and make:
#   make demo   creates .venv, installs psychoval, runs the main job on data/sample/
#   make test   creates .venv, installs psychoval[dev], runs the whole test suite
#   make notebooks  installs psychoval[notebooks] (JupyterLab) and opens the tutorials in notebooks/
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= out/demo

.PHONY: demo test test-fast test-stress lint bench clean notebooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

$(VENV)/.installed-notebooks: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[notebooks]"
	touch $@ $(VENV)/.installed

# the tutorials (notebooks/*.ipynb) in JupyterLab; the test suite runs them without it
# (Jupyter refuses to run as root unless told: project machines and containers run as root)
notebooks: $(VENV)/.installed-notebooks
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

demo: $(VENV)/.installed
	@mkdir -p $(OUT)
	$(BIN)/psychoval check data/sample/responses.csv --framework data/sample/framework.yaml \
		--json $(OUT)/check.json > $(OUT)/check.txt
	$(BIN)/psychoval validate data/sample/responses.csv --framework data/sample/framework.yaml \
		--seed 20261 --content-ratings data/sample/content_ratings.csv \
		--angoff-ratings data/sample/angoff_ratings.csv \
		--html $(OUT)/report.html --json $(OUT)/report.json --md $(OUT)/report.md

# the suite on every core (pytest-xdist; a test module stays on one worker so that its
# module-scoped fixtures run once), BLAS single-threaded in each worker
test: $(VENV)/.installed-dev
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n auto --dist loadfile

test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not slow"

# the full CFA convergence stress suite against lavaan (532 models, about 9 minutes)
test-stress: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m stress tests/test_cfa_stress.py
	$(BIN)/python tests/reference/stress/table.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks

bench: $(VENV)/.installed-dev
	for b in benchmarks/bench_*.py; do PYTHONPATH=src $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) out build src/*.egg-info .pytest_cache
