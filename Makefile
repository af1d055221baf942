# Two entry points, both self-contained on a fresh Debian machine (see README.md):
#   make demo  - set up, then search, select, confirm and analyse a small study on Fashion-MNIST
#   make test  - set up, then lint and run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
DEMO_STORAGE := sqlite:///studies/bnstudy.db
DEMO_STUDY := bn_placement_demo

.PHONY: setup demo test lint postgres clean

setup: $(STAMP) $(FASHION_MNIST)

# The Debian package is the offline source of Fashion-MNIST; nothing is downloaded at run time.
$(FASHION_MNIST):
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist

# Re-installs only when the dependencies change, so a second `make` is quick.
$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,postgres]'
	touch $(STAMP)

# Every step at demo size: the smoke search, 2 candidates x 2 seeds per placement, 5 paired
# test reruns (fewer than the 30 a decision needs, so the report says how many more it would).
demo: setup
	mkdir -p studies
	$(PY) -m study.run --storage $(DEMO_STORAGE) --study-name $(DEMO_STUDY) \
	  --top-k 2 --select-seeds 2 --max-reruns 5

lint: setup
	$(VENV)/bin/ruff check .

# The many-worker tests start a PostgreSQL server of their own (tests/conftest.py) from
# Debian's binaries; only `make test` needs them. Installed when missing, so re-running is quick.
postgres:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# BNSTUDY_REQUIRE_POSTGRES turns the PostgreSQL tests' skip into a failure. Two pytest-xdist
# workers: many tests wait on subprocesses, imports and one-thread work, so on 2 cores the suite
# took 7 min instead of 13 (README.md, "Tests"). TEST_WORKERS=0 runs it serially.
TEST_WORKERS ?= 2
test: lint postgres
	BNSTUDY_REQUIRE_POSTGRES=1 $(PY) -m pytest -n $(TEST_WORKERS) --durations=10

clean:
	rm -rf $(VENV) studies reports *.egg-info
