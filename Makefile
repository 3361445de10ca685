# arxiv-digest: pelican-quickstart conventions plus update/backfill/test/lint.
PY ?= python3.11
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PELICAN := $(VENV)/bin/pelican
INPUTDIR := $(CURDIR)/content
OUTPUTDIR := $(CURDIR)/output
CONFFILE := $(CURDIR)/pelicanconf.py
PUBLISHCONF := $(CURDIR)/publishconf.py
PORT ?= 8000
STAMP := $(VENV)/.installed
# Whole-archive search: Pagefind's bundled binary indexes the built site into $(OUTPUTDIR)/pagefind/.
# Run it after every Pelican build that is published (html, publish).
SEARCH_INDEX = $(PYTHON) -m pagefind --site $(OUTPUTDIR) --silent

ifeq ($(shell command -v $(PY) 2>/dev/null),)
PY := python3
endif

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project into it

html: $(STAMP) ## build the site into output/ (offline, from content/), with its search index
	$(PELICAN) $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE)
	$(SEARCH_INDEX)

clean: ## remove the generated site
	rm -rf $(OUTPUTDIR)

regenerate: $(STAMP) ## rebuild on every change
	$(PELICAN) -r $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE)

serve: $(STAMP) ## serve output/ on http://127.0.0.1:$(PORT)
	$(PELICAN) -l $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE) -p $(PORT) -b 127.0.0.1

devserver: $(STAMP) ## regenerate and serve
	$(PELICAN) -lr $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE) -p $(PORT) -b 127.0.0.1

update: $(STAMP) ## fetch the latest announcement (or DATE=YYYY-MM-DD) into content/
	$(PYTHON) -m arxiv_digest -s $(CONFFILE) update $(if $(DATE),--date $(DATE),)

publish: $(STAMP) ## update, then build with publishconf.py
	$(MAKE) update
	$(PELICAN) $(INPUTDIR) -o $(OUTPUTDIR) -s $(PUBLISHCONF)

test: $(STAMP) ## run the whole test suite (offline)
	$(PYTHON) -m pytest

lint: $(STAMP) ## ruff and mypy
	$(VENV)/bin/ruff check plugins tests
	$(VENV)/bin/mypy plugins/arxiv_digest

.PHONY: help install html clean regenerate serve devserver update publish test lint
