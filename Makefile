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
GITHUB_PAGES_BRANCH ?= gh-pages
GITHUB_PAGES_REMOTE ?= origin
GITHUB_PAGES_COMMIT_MESSAGE ?= Generate Pelican site
STAMP := $(VENV)/.installed
# Whole-archive search: Pagefind bundles by period in $(OUTPUTDIR)/pagefind/<period>/ (closed years,
# then the newest year by quarters and months, at most 3 of those; a period over the records one
# Pagefind may hold within its memory budget, ~3,500, as parts of whole months or days), merged by the
# search page; only a period whose pages changed is indexed again, so a new day re-indexes a month
# (scripts/search_index.py). The
# bundles are kept in SEARCH_CACHE (git-ignored, one folder per edition; outside content/, whose
# .json files Pelican reads) between builds; nothing stale is left. SEARCH_RECORDS=listings (the
# default): a paper is one record per listing, in its listing day's period, so a new version of an
# old paper adds a record to the newest period instead of re-indexing the closed one it was in (the
# search page hides the older record); SEARCH_RECORDS=pages: one record per paper page, as before.
SEARCH_CACHE ?= $(CURDIR)/.cache/search
SEARCH_RECORDS ?= listings
SEARCH_INDEX = $(PYTHON) scripts/search_index.py --site $(OUTPUTDIR) --cache $(SEARCH_CACHE)/en --records $(SEARCH_RECORDS)

ifeq ($(shell command -v $(PY) 2>/dev/null),)
PY := python3
endif

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sed 's/\$$(PORT)/$(PORT)/g' \
		| awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project into it

html: $(STAMP) ## build the site into output/ (offline, from content/), with its search index
	$(PELICAN) $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE)
	$(SEARCH_INDEX)

html-zh: $(STAMP) ## the Chinese edition into output/zh/ (zhconf.py; after `make html`), with its search index
	$(PELICAN) $(INPUTDIR) -o $(OUTPUTDIR)/zh -s $(CURDIR)/zhconf.py
	$(PYTHON) scripts/search_index.py --site $(OUTPUTDIR)/zh --cache $(SEARCH_CACHE)/zh --records $(SEARCH_RECORDS)

publish-zh: $(STAMP) ## the Chinese edition with the publish settings (after `make publish-html`)
	PUBLISH=1 $(MAKE) html-zh

clean: ## remove the generated site
	rm -rf $(OUTPUTDIR)

regenerate: $(STAMP) ## rebuild on every change
	$(PELICAN) -r $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE)

# scripts/serve.py is Pelican's development server with the site's 404 page for a missing URL
# (`pelican -l` closes the connection without an answer).
serve: $(STAMP) ## serve output/ on http://127.0.0.1:$(PORT) (run make html first)
	$(PYTHON) scripts/serve.py $(OUTPUTDIR) --port $(PORT)

devserver: $(STAMP) ## build, then rebuild on every change while serving on http://127.0.0.1:$(PORT)
	$(PELICAN) $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE)
	$(PELICAN) -r $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE) & regen=$$!; \
		trap 'kill $$regen 2>/dev/null' EXIT INT TERM; \
		$(PYTHON) scripts/serve.py $(OUTPUTDIR) --port $(PORT)

update: $(STAMP) ## fetch the latest announcement (or DATE=YYYY-MM-DD) into content/
	$(PYTHON) -m arxiv_digest -s $(CONFFILE) update $(if $(DATE),--date $(DATE),)

backfill: $(STAMP) ## fetch FROM=YYYY-MM-DD [TO=YYYY-MM-DD] via the API; resumable (FORCE=1 refetches)
	@test -n "$(FROM)" || { echo "usage: make backfill FROM=YYYY-MM-DD [TO=YYYY-MM-DD] [FORCE=1]" >&2; exit 2; }
	$(PYTHON) -m arxiv_digest -s $(CONFFILE) backfill --from $(FROM) $(if $(TO),--to $(TO),) $(if $(FORCE),--force,)

status: $(STAMP) ## stored days, gaps, pending summaries, spend per month
	$(PYTHON) -m arxiv_digest -s $(CONFFILE) status

publish: $(STAMP) ## update (the latest announcement), then build with publishconf.py
	$(MAKE) update
	$(MAKE) publish-html

publish-html: $(STAMP) ## build with publishconf.py only, no update (what the daily workflow runs)
	$(MAKE) html CONFFILE=$(PUBLISHCONF)

github: publish ## publish, then push output/ to gh-pages as one commit (no history kept)
	$(VENV)/bin/ghp-import --no-jekyll --no-history --force --push \
		--remote $(GITHUB_PAGES_REMOTE) --branch $(GITHUB_PAGES_BRANCH) \
		--message "$(GITHUB_PAGES_COMMIT_MESSAGE)" $(OUTPUTDIR)

# The interface's catalogs (theme/translations/<locale>/LC_MESSAGES/messages.po): extract every
# _()/ngettext()/N_() string of the templates and the plugin into messages.pot, merge it into each
# catalog (new strings arrive untranslated), and report what is left to translate. The build reads
# the .po files themselves (compiled in memory), so no .mo file is kept. A new language:
# `make translations NEW_LANG=fr`.
PYBABEL := $(VENV)/bin/pybabel
translations: $(STAMP) ## extract the interface strings and update every catalog (NEW_LANG=xx adds one)
	$(PYBABEL) extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ \
		--no-location --sort-output --omit-header -o theme/translations/messages.pot .
	$(if $(NEW_LANG),$(PYBABEL) init -i theme/translations/messages.pot -d theme/translations -l $(NEW_LANG) --no-wrap,)
	$(PYBABEL) update -i theme/translations/messages.pot -d theme/translations \
		--ignore-obsolete --no-fuzzy-matching
	for po in theme/translations/*/LC_MESSAGES/messages.po; do \
		$(PYBABEL) compile -i $$po -o /dev/null --statistics || exit 1; done

test: $(STAMP) ## run the whole test suite (offline)
	$(PYTHON) -m pytest

lint: $(STAMP) ## ruff, mypy and actionlint
	$(VENV)/bin/ruff check plugins tests
	$(VENV)/bin/mypy plugins/arxiv_digest
	$(VENV)/bin/actionlint -shellcheck $(VENV)/bin/shellcheck .github/workflows/*.yml
	$(VENV)/bin/shellcheck .github/scripts/*.sh

.PHONY: help install html clean regenerate serve devserver update backfill status publish publish-html github test lint translations html-zh publish-zh
