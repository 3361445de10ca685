"""Site-wide views over all days: previous/next links, the archive calendar, topic pages and feeds.

Pelican sees one article per announcement day. Readers also want each topic's papers across days
(newest first, paginated) and a feed per topic whose entries are papers. These modules build those
views from the articles the reader produced, and a Pelican generator writes them through the
theme's templates. Everything is derived from the content only (no clock, no network), so two
builds of the same content are byte-identical.

    archive.py   days in order (prev/next) and the month calendar
    topics.py    topic views, the topics generator, topic feeds
    papers.py    a page per listed paper (citation meta, the paper's search record)
    feeds.py     feeds with one entry per paper: site-wide, and the writer topic feeds use
    bibtex.py    a .bib file per day and per topic
"""

from __future__ import annotations

from typing import Any

from pelican.generators import Generator

from ..core.i18n import enable_extension
from .archive import build_calendar, day_articles, link_days
from .bibtex import BibGenerator
from .cite import FILTERS as CITE_FILTERS
from .feeds import FeedsGenerator
from .papers import PapersGenerator
from .render import autoescape_templates, digest_settings
from .topics import TopicsGenerator


def finalize_articles(generator: Any) -> None:
    """After the articles are read: prev/next days, the archive calendar and the latest day."""
    link_days(generator.articles)
    ds = digest_settings(generator.settings)
    generator.context["digest_calendar"] = build_calendar(generator.articles, ds.holidays)
    generator.context["digest_latest"] = (day_articles(generator.articles) or [None])[-1]


def autoescape_pelican(pelican: Any) -> None:
    """When Pelican initialises: autoescaping on for every theme template Pelican renders."""
    autoescape_templates(pelican.settings)
    enable_extension(pelican.settings)  # jinja2.ext.i18n; the catalog is installed on generator_init
    # coins, bibtex, math_text for the theme's templates (plain text: the templates escape it)
    pelican.settings["JINJA_FILTERS"] = {**(pelican.settings.get("JINJA_FILTERS") or {}), **CITE_FILTERS}


def get_generators(pelican: Any) -> tuple[type[Generator], ...]:
    """Add the paper pages, topics, feeds and .bib generators (in this order: each reads the
    context the ones before it built)."""
    return PapersGenerator, TopicsGenerator, FeedsGenerator, BibGenerator


__all__ = ["BibGenerator", "FeedsGenerator", "PapersGenerator", "TopicsGenerator",
           "autoescape_pelican", "build_calendar", "finalize_articles",
           "get_generators", "link_days"]
