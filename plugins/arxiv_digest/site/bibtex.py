"""BibTeX files: one per day (its listed papers, ARXIV_DIGEST_DAY_BIB) and one per topic (all of
its papers, newest first, ARXIV_DIGEST_TOPIC_BIB), linked from the day and topic pages. Entries
come from cite.bibtex_entry, whose every field is escaped by cite.bibtex_text."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pelican.generators import Generator

from ..core.store import replace_file, write_if_changed
from .archive import day_articles
from .cite import bibtex_entry, bibtex_file
from .render import digest_settings
from .writer import SkipWriter

logger = logging.getLogger(__name__)


ENTRIES = ".cache/pages/bib.entries"  # under the data folder; JSON, not .json (a day file)
ENTRIES_FORMAT = 1


class Entries:
    """cite.bibtex_entry's text of each paper kept between builds, by its view's cache key and
    date (the key is a function of the paper's stored record and the build's fingerprint, so the
    text is too): a topic's .bib holds all of its papers, and a daily build adds a few of them,
    so the others' entries are read, not made again. The entries of the .bib files this build
    made, and those read for the topics' .bib files it left as they were (a build with nothing
    new keeps them for the next daily build), are kept; the file is disposable (a broken one is
    ignored, one that cannot be written a debug line)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.old: dict[str, str] = {}
        self.used: dict[str, str] = {}
        self.made = 0
        if path is None:
            return
        try:
            data = json.loads(path.read_bytes())
            if isinstance(data, dict) and data.get("format") == ENTRIES_FORMAT:
                entries = data.get("entries")
                if isinstance(entries, dict):
                    self.old = {k: v for k, v in entries.items() if isinstance(v, str)}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, RecursionError) as e:
            logger.debug("%s: unreadable, ignored (%s)", path, e)

    def entry(self, view: Any, paper: Any, date: dt.date) -> str:
        """The paper's entry (view: its PaperView, whose cache_key names it; none: made)."""
        key = getattr(view, "cache_key", "")
        if not key or self.path is None:
            return bibtex_entry(paper, date)
        key = f"{date.isoformat()} {key}"
        text = self.used.get(key)
        if text is None:
            text = self.old.get(key)
            if text is None:
                text = bibtex_entry(paper, date)
                self.made += 1
            self.used[key] = text
        return text

    def keep(self, keys: Iterable[str]) -> None:
        """Keep the entries read for a .bib this build did not make (unchanged: its entries are
        the file's still), so that the next build that makes it finds them; `keys` as entry()
        makes them (date and view key)."""
        for key in keys:
            if key not in self.used:
                text = self.old.get(key)
                if text is not None:
                    self.used[key] = text

    def save(self) -> None:
        """Keep this build's entries when they differ from those read."""
        if self.path is None or (self.used.keys() == self.old.keys()):
            return
        try:
            replace_file(self.path, json.dumps({"format": ENTRIES_FORMAT, "entries": self.used},
                                               separators=(",", ":")).encode("utf-8"))
        except OSError as e:
            logger.debug("%s: not written (%s)", self.path, e)


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
        entries = Entries(ds.data_dir / ENTRIES if isinstance(writer, SkipWriter) and writer.on
                          else None)
        if ds.day_bib:
            for a in day_articles(self.context.get("articles", [])):
                day = a.day
                views = (*day.listed, *day.updated)
                if not views:
                    continue
                made += self._write(writer, ds.day_bib.format(date=day.date.isoformat()),
                                    _key("day", day.date.isoformat(), *(v.cache_key for v in views)),
                                    functools.partial(
                    _day_text, entries, views, day.date,
                    f"{site}: the papers listed on {day.date.isoformat()}"))
                n += 1
        for topic in self.context.get("digest_topics", ()):
            path = self.topic_bibs.get(topic.name)
            if path:
                key = _key("topic", topic.name, *(tp.view.cache_key for tp in topic.papers))
                done = self._write(writer, path, key, functools.partial(
                    _topic_text, entries, topic.papers, f"{site}: papers on {topic.name}, newest first"))
                if not done:
                    entries.keep(f"{tp.date.isoformat()} {tp.view.cache_key}" for tp in topic.papers
                                 if getattr(tp.view, "cache_key", ""))
                made += done
                n += 1
        entries.save()
        logger.info("BibTeX files: %d, %d made anew (the others unchanged since the last build); "
                    "%d entries made, %d kept from the last build", n, made, entries.made,
                    len(entries.used) - entries.made)


def _key(*parts: str) -> str:
    """What a .bib is a pure function of (with the build fingerprint); empty when a part is
    unknown (a view made outside the build cache): then the file is made again."""
    if not all(parts):
        return ""
    return "\0".join(parts)


def _day_text(entries: Entries, views: Iterable[Any], date: dt.date, title: str) -> str:
    return bibtex_file((entries.entry(v, v.paper, date) for v in views), title)


def _topic_text(entries: Entries, papers: Iterable[Any], title: str) -> str:
    return bibtex_file((entries.entry(tp.view, tp.paper, tp.date) for tp in papers), title)
