"""BibTeX files: one per day (its listed papers, ARXIV_DIGEST_DAY_BIB) and one per topic (all of
its papers, newest first, ARXIV_DIGEST_TOPIC_BIB), linked from the day and topic pages. Entries
come from cite.bibtex_entry, whose every field is escaped by cite.bibtex_text."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pelican.generators import Generator

from ..core.store import write_if_changed
from .archive import day_articles
from .cite import bibtex_entry, bibtex_file
from .render import digest_settings
from .writer import SkipWriter

logger = logging.getLogger(__name__)


class BibGenerator(Generator):  # type: ignore[misc]
    """Writes the day and topic .bib files (after the TopicsGenerator has built the topics)."""

    def generate_context(self) -> None:
        """The topic .bib URLs for topic.html (relative to SITEURL)."""
        ds = digest_settings(self.settings)
        topics = self.context.get("digest_topics", ())
        self.topic_bibs = {t.name: ds.topic_bib.format(slug=t.slug) for t in topics} if ds.topic_bib else {}
        self.context["digest_topic_bibs"] = self.topic_bibs

    def _write(self, writer: Any, path: str, key: str, make: Callable[[], str]) -> bool:
        """Write one .bib unless it is as the last build left it (see SkipWriter.write_text);
        returns whether its text was made."""
        if isinstance(writer, SkipWriter):
            return writer.write_text(path, key, make)
        write_if_changed(Path(self.output_path) / path, make())
        return True

    def generate_output(self, writer: Any) -> None:
        """Write every day's and every topic's .bib (unchanged ones are neither made nor written:
        each is a function of its date or topic and its papers' view keys)."""
        ds = digest_settings(self.settings)
        site = str(self.settings.get("SITENAME", ""))
        n = made = 0
        if ds.day_bib:
            for a in day_articles(self.context.get("articles", [])):
                day = a.day
                views = (*day.listed, *day.updated)
                if not views:
                    continue
                made += self._write(writer, ds.day_bib.format(date=day.date.isoformat()),
                                    _key("day", day.date.isoformat(), *(v.cache_key for v in views)),
                                    functools.partial(
                    _day_text, views, day.date, f"{site}: the papers listed on {day.date.isoformat()}"))
                n += 1
        for topic in self.context.get("digest_topics", ()):
            path = self.topic_bibs.get(topic.name)
            if path:
                key = _key("topic", topic.name, *(tp.view.cache_key for tp in topic.papers))
                made += self._write(writer, path, key, functools.partial(
                    _topic_text, topic.papers, f"{site}: papers on {topic.name}, newest first"))
                n += 1
        logger.info("BibTeX files: %d, %d made anew (the others unchanged since the last build)",
                    n, made)


def _key(*parts: str) -> str:
    """What a .bib is a pure function of (with the build fingerprint); empty when a part is
    unknown (a view made outside the build cache): then the file is made again."""
    if not all(parts):
        return ""
    return "\0".join(parts)


def _day_text(views: Iterable[Any], date: dt.date, title: str) -> str:
    return bibtex_file((bibtex_entry(v.paper, date) for v in views), title)


def _topic_text(papers: Iterable[Any], title: str) -> str:
    return bibtex_file((bibtex_entry(tp.paper, tp.date) for tp in papers), title)
