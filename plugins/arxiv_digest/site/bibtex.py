"""BibTeX files: one per day (its listed papers, ARXIV_DIGEST_DAY_BIB) and one per topic (all of
its papers, newest first, ARXIV_DIGEST_TOPIC_BIB), linked from the day and topic pages. Entries
come from cite.bibtex_entry, whose every field is escaped by cite.bibtex_text."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pelican.generators import Generator

from ..cite import bibtex_entry, bibtex_file
from ..render import digest_settings
from .archive import day_articles

logger = logging.getLogger(__name__)


class BibGenerator(Generator):  # type: ignore[misc]
    """Writes the day and topic .bib files (after the TopicsGenerator has built the topics)."""

    def generate_context(self) -> None:
        """The topic .bib URLs for topic.html (relative to SITEURL)."""
        ds = digest_settings(self.settings)
        topics = self.context.get("digest_topics", ())
        self.topic_bibs = {t.name: ds.topic_bib.format(slug=t.slug) for t in topics} if ds.topic_bib else {}
        self.context["digest_topic_bibs"] = self.topic_bibs

    def _write(self, path: str, text: str) -> None:
        out = Path(self.output_path) / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")

    def generate_output(self, writer: Any) -> None:
        """Write every day's and every topic's .bib."""
        ds = digest_settings(self.settings)
        site = str(self.settings.get("SITENAME", ""))
        n = 0
        if ds.day_bib:
            for a in day_articles(self.context.get("articles", [])):
                views = (*a.day.listed, *a.day.updated)
                if not views:
                    continue
                self._write(ds.day_bib.format(date=a.day.date.isoformat()), bibtex_file(
                    (bibtex_entry(v.paper, a.day.date) for v in views),
                    f"{site}: the papers listed on {a.day.date.isoformat()}"))
                n += 1
        for topic in self.context.get("digest_topics", ()):
            path = self.topic_bibs.get(topic.name)
            if path:
                self._write(path, bibtex_file((bibtex_entry(tp.paper, tp.date) for tp in topic.papers),
                                              f"{site}: papers on {topic.name}, newest first"))
                n += 1
        logger.info("Wrote %d BibTeX files", n)
