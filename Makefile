# diffviz: developer and learner entry points.
#
#   make lab     install the course into .venv and start JupyterLab on notebooks/
#   make test    install the course + test extras into .venv and run pytest
#   make book    build the rendered course (Jupyter Book 1.x) into _build/html
#   make classroom  write the student and instructor editions into _build/classroom
#   make lock    re-resolve every dependency and rewrite constraints.txt
#   make clean   remove .venv, build output and caches (the XLA cache too)
#
# Every install is pinned with `pip install -c constraints.txt`. Each install
# leaves a stamp file .venv/.installed-<extra>; it is redone only when
# pyproject.toml or constraints.txt is newer than the stamp.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3
VENV        ?= .venv
VPY         := $(VENV)/bin/python
PIP_INSTALL := $(VPY) -m pip install -c constraints.txt
PORT        ?= 8888
PYTEST_ARGS ?=
CLASSROOM_OUT ?= _build/classroom
CLASSROOM_ARGS ?=

# `make book`: how chapters are executed. cache = reuse results from _build/.jupyter_cache
# for notebooks whose code did not change (local default); force = execute every chapter
# and re-render every page (CI: `make book BOOK_EXECUTE=force`).
BOOK_EXECUTE ?= cache
NPM         ?= npm

# Persistent XLA compilation cache for the notebooks, outside the repository.
JAX_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/diffviz-jax

# JupyterLab flags that depend on where `make lab` runs:
#  --allow-root   only when running as root (Jupyter refuses root otherwise);
#  --no-browser   on Linux with no display (a server, a container, CI).
LAB_FLAGS :=
ifeq ($(shell id -u),0)
LAB_FLAGS += --allow-root
endif
ifeq ($(shell uname -s),Linux)
ifeq ($(strip $(DISPLAY)$(WAYLAND_DISPLAY)),)
LAB_FLAGS += --no-browser
endif
endif

.PHONY: help lab test book book-vendor clean-book classroom lock clean

help:
	@echo "make lab     start the course in JupyterLab (http://127.0.0.1:$(PORT), PORT= to change)"
	@echo "make test    run the test suite (PYTEST_ARGS='-n 2' to parallelise)"
	@echo "make book    build the rendered course into _build/html (BOOK_EXECUTE=force to re-run every chapter)"
	@echo "make classroom  write the student and instructor editions and autograder zips into $(CLASSROOM_OUT)"
	@echo "make lock    regenerate constraints.txt from the ranges in pyproject.toml"
	@echo "make clean   remove .venv, build output and caches (the XLA cache in $(JAX_CACHE_DIR) too)"

# --- virtual environment -----------------------------------------------------

$(VPY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "diffviz needs Python 3.11 or newer; '$(PYTHON)' is older (set PYTHON=...)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || \
	  { rm -rf $(VENV); echo "Could not create $(VENV): on Debian/Ubuntu install python3-venv." >&2; exit 1; }

$(VENV)/.installed-base: pyproject.toml constraints.txt | $(VPY)
	$(PIP_INSTALL) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(VPY)
	$(PIP_INSTALL) -e '.[test]'
	@touch $@

$(VENV)/.installed-book: pyproject.toml constraints.txt | $(VPY)
	$(PIP_INSTALL) -e '.[book]'
	@touch $@

$(VENV)/.installed-classroom: pyproject.toml constraints.txt | $(VPY)
	$(PIP_INSTALL) -e '.[classroom]'
	@touch $@

# --- the book's browser libraries (npm, pinned by package-lock.json) -----------------

node_modules/.installed-book: package.json package-lock.json
	@command -v $(NPM) >/dev/null || { echo "make book needs npm (Node.js 18+) for the book's JavaScript libraries." >&2; exit 1; }
	$(NPM) ci --no-audit --no-fund --ignore-scripts
	@touch $@

book/_vendor/vendor/VERSIONS.json: node_modules/.installed-book scripts/vendor_book_assets.py | $(VPY)
	$(VPY) scripts/vendor_book_assets.py

book-vendor: book/_vendor/vendor/VERSIONS.json

# --- targets -------------------------------------------------------------------

lab: $(VENV)/.installed-base
	@mkdir -p notebooks "$(JAX_CACHE_DIR)"
	JAX_COMPILATION_CACHE_DIR="$(JAX_CACHE_DIR)" \
	JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
	$(VENV)/bin/jupyter lab \
	  --ServerApp.root_dir=notebooks \
	  --ServerApp.ip=127.0.0.1 \
	  --ServerApp.port=$(PORT) \
	  $(LAB_FLAGS)

# The classroom extra too: tests/test_classroom.py runs Otter-Grader.
test: $(VENV)/.installed-test $(VENV)/.installed-classroom
	$(VPY) -m pytest $(PYTEST_ARGS)

# The classroom edition (book/teachers_guide.md): Otter-Grader turns each chapter's exercises
# into a student notebook (blanks, checks kept), an instructor notebook (solutions in) and an
# autograder zip, checking on the way that every check passes on the worked solutions.
# CLASSROOM_ARGS=--no-run-tests skips that check; CLASSROOM_ARGS=03 makes one chapter only.
# Grade a folder of submissions with
#   .venv/bin/python scripts/classroom.py grade 03 submissions/
classroom: $(VENV)/.installed-classroom
	@mkdir -p "$(JAX_CACHE_DIR)"
	JAX_COMPILATION_CACHE_DIR="$(JAX_CACHE_DIR)" \
	JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
	$(VPY) scripts/classroom.py generate --out $(CLASSROOM_OUT) $(CLASSROOM_ARGS)

# Jupyter Book 1.x (Jupyter Book 2 cannot build offline). The execution cache is keyed on a
# notebook's own code only, so a change to the package would leave every cached chapter
# showing numbers from the old code: in cache mode the cache is dropped whenever a file in
# diffviz/ is newer than it. BOOK_EXECUTE=force writes a copy
# of book.yml with execute_notebooks: force and rebuilds every page (--all); the copy lives
# in _build/, and Jupyter Book resolves local_extensions against the config file's folder,
# so their paths are made absolute.
book: $(VENV)/.installed-book book/_vendor/vendor/VERSIONS.json
	@mkdir -p _build "$(JAX_CACHE_DIR)"
	@set -euo pipefail; \
	case "$(BOOK_EXECUTE)" in \
	  cache) config=book.yml; all=; \
	    if [ -f _build/.jupyter_cache/global.db ] && \
	       [ -n "$$(find diffviz -name '*.py' -newer _build/.jupyter_cache/global.db -print -quit)" ]; then \
	      echo "book: diffviz/ changed since the last build; executing every chapter again (cached outputs would show the old code's numbers)"; \
	      rm -rf _build/.jupyter_cache; all=--all; \
	    fi ;; \
	  force) config=_build/book.force.yml; all=--all; \
	    $(VPY) -c 'import os, sys, yaml; c = yaml.safe_load(open("book.yml")); c["execute"]["execute_notebooks"] = "force"; ext = c["sphinx"].get("local_extensions") or {}; c["sphinx"]["local_extensions"] = {k: os.path.abspath(v) for k, v in ext.items()}; yaml.safe_dump(c, sys.stdout, sort_keys=False)' > "$$config" ;; \
	  *) echo "BOOK_EXECUTE must be cache or force, not '$(BOOK_EXECUTE)'" >&2; exit 2 ;; \
	esac; \
	start=$$(date +%s); \
	JAX_COMPILATION_CACHE_DIR="$(JAX_CACHE_DIR)" \
	JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
	$(VENV)/bin/jupyter-book build . --config "$$config" --toc toc.yml $$all; \
	echo "book: built in $$(( $$(date +%s) - start )) s (execute: $(BOOK_EXECUTE)), $$(du -sh _build/html | cut -f1) in _build/html; open _build/html/index.html"

clean-book:
	rm -rf _build node_modules book/_vendor

# Resolve from scratch in a throwaway venv (ignoring the current pins) and
# record every installed distribution except diffviz itself, pip and setuptools.
lock:
	@set -euo pipefail; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install -e '$(CURDIR)[test,book,classroom]'; \
	{ \
	  echo "# Exact pins of every package in a working install of diffviz[test,book,classroom]."; \
	  echo "# Generated by 'make lock': a fresh venv, 'pip install -e .[test,book,classroom]' (ranges from"; \
	  echo "# pyproject.toml), then 'pip freeze --exclude-editable' without pip/setuptools."; \
	  echo "# Resolved with $$("$$tmp/venv/bin/python" -c 'import platform as p; print("Python", p.python_version(), "on", p.system(), p.machine())')."; \
	  echo "# Regenerate with: make lock     (do not edit by hand)"; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable \
	    | grep -viE '^(diffviz|pip|setuptools|wheel)([=<>!~ @]|$$)' \
	    | LC_ALL=C sort -f; \
	} > constraints.txt.new; \
	mv constraints.txt.new constraints.txt; \
	echo "constraints.txt: $$(grep -c '==' constraints.txt) pins"

# Everything the project writes that git ignores, and the XLA compilation cache outside the
# repository (JAX_CACHE_DIR); also chapter 6's saved models (notebooks/*.npz: a chapter run
# writes them again).
clean:
	rm -rf $(VENV) build dist _build .pytest_cache .hypothesis .ruff_cache constraints.txt.new
	rm -rf node_modules book/_vendor benchmarks/results benchmarks/output benchmarks/.cache "$(JAX_CACHE_DIR)"
	rm -f notebooks/*.npz
	find . -path ./.git -prune -o -name '*.egg-info' -prune -exec rm -rf {} + \
	  -o -name __pycache__ -prune -exec rm -rf {} + \
	  -o -name .ipynb_checkpoints -prune -exec rm -rf {} + \
	  -o -name '*.py[cod]' -exec rm -f {} +
