"""Feeds with one clean entry per paper: the site-wide feeds (the newest days) and, through the same
writer, each topic's feeds.

An entry is the paper's title (math as readable text), its authors, the summary's TL;DR, the
abstract (math as text, keywords bold) and absolute links: the paper's page first. Links and ids
need an absolute base: SITEURL when it is absolute (publishing), else FEED_DOMAIN (`make html`
points it at `make serve`, http://127.0.0.1:8000). With neither absolute, no feed is written and
the pages offer none (a warning says so): a feed with relative links or `tag:None` ids is worse
than none. Entry ids are tag URIs from the entry's link and its announcement date, so rebuilding
never changes them. Dates come from the content only: two builds are byte-identical.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from feedgenerator import Atom1Feed, Rss201rev2Feed, get_tag_uri
from pelican.generators import Generator

from ..core.i18n import lang_tag
from ..core.store import write_if_changed
from ..enrich.tagging import Tagger
from .archive import day_articles
from .cite import CiteLinks, math_as_text
from .render import PaperView, digest_settings, highlight
from .writer import SkipWriter

logger = logging.getLogger(__name__)


class FeedPaper(Protocol):
    """A paper as a feed lists it (TopicPaper and DayPaper both are)."""

    @property
    def view(self) -> PaperView: ...
    @property
    def date(self) -> dt.date: ...
    @property
    def published(self) -> dt.datetime: ...
    @property
    def day_url(self) -> str: ...


class DayPaper:
    """A paper of a day, for the site-wide feeds."""

    __slots__ = ("date", "day_url", "published", "view")

    def __init__(self, view: PaperView, date: dt.date, day_url: str, published: dt.datetime) -> None:
        self.view, self.date, self.day_url, self.published = view, date, day_url, published


def feed_base(settings: dict[str, Any]) -> str:
    """The absolute base for feed links: SITEURL if absolute, else FEED_DOMAIN, else ""."""
    for key in ("SITEURL", "FEED_DOMAIN"):
        value = str(settings.get(key) or "")
        if value.startswith(("https://", "http://")):
            return value.rstrip("/")
    return ""


class _StableDates:
    """Feeds whose <updated>/<lastBuildDate> come from the content, never from the clock."""

    fallback: dt.datetime

    def latest_post_date(self) -> dt.datetime:
        """The newest entry's date; an empty feed uses the site's newest day instead of now()."""
        dates = [i[k] for i in self.items for k in ("updateddate", "pubdate")  # type: ignore[attr-defined]
                 if i.get(k)]
        return max(dates) if dates else self.fallback


class StableAtomFeed(_StableDates, Atom1Feed):  # type: ignore[misc]
    """Atom 1.0 with content-derived dates."""


class StableRssFeed(_StableDates, Rss201rev2Feed):  # type: ignore[misc]
    """RSS 2.0 with content-derived dates."""


def entry_author(authors: Sequence[str]) -> str:
    """'A, B, C et al.' for a feed entry."""
    names = list(authors[:3])
    more = " et al." if len(authors) > 3 else ""
    return ", ".join(names) + more if names else "unknown"


class FeedWriter:
    """Writes Atom and RSS feeds of papers through the theme's feed_paper.html (autoescaped)."""

    def __init__(self, generator: Generator) -> None:
        self.settings = generator.settings
        self.context = generator.context
        self.output_path = Path(generator.output_path)
        self.base = feed_base(self.settings)
        self.entry = generator.get_template("feed_paper")
        self.tagger = Tagger(digest_settings(self.settings).topics)
        self.pages = CiteLinks(self.base, digest_settings(self.settings).paper_url)
        days = day_articles(self.context.get("articles", []))
        self.fallback = days[-1].date if days else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        self._rendered: dict[tuple[str, str], tuple[str, str, str]] = {}

    def link(self, path: str) -> str:
        """An absolute URL for a path relative to the site root."""
        return f"{self.base}/{path}"

    def _entry(self, fp: FeedPaper) -> tuple[str, str, str]:
        """(title, link, content) of a paper's entry, rendered once per build."""
        p = fp.view.paper
        key = (p.id, fp.date.isoformat())
        if key not in self._rendered:
            page = self.pages.paper(p.id)  # "" for an id with no page: the day's anchor instead
            day_link = self.link(f"{fp.day_url}#{p.id}")
            abstract = math_as_text(p.abstract)
            content = self.entry.render(
                self.context, fp=fp, p=p, page_link=page, day_link=day_link,
                abstract_html=highlight(abstract, self.tagger.spans(abstract), fp.view.tags))
            self._rendered[key] = (math_as_text(" ".join(p.title.split())), page or day_link, content)
        return self._rendered[key]

    def write(self, path: str, *, title: str, link: str, description: str,
              papers: Iterable[FeedPaper]) -> None:
        """The Atom (path ends in .atom.xml / any) or RSS feed of these papers, in order given.
        Under this build's page record (SkipWriter), a feed whose papers (by their build-cache
        keys) and metadata are as at the last build, and whose file is the one written then, is
        neither made nor written; otherwise it is written when its bytes differ."""
        papers = list(papers)
        make = functools.partial(self._text, path, title=title, link=link,
                                 description=description, papers=papers)
        writer = SkipWriter.active
        if writer is not None and os.path.realpath(writer.output_path) == os.path.realpath(
                self.output_path):
            if writer.write_text(path, self._key(path, title, link, description, papers), make):
                logger.info('Writing "%s"', self.output_path / path)
            return
        write_if_changed(self.output_path / path, make())
        logger.info('Writing "%s"', self.output_path / path)

    def _key(self, path: str, title: str, link: str, description: str,
             papers: Sequence[FeedPaper]) -> str:
        """What a feed's text is a function of besides the build fingerprint; "" when a paper's
        view has no build-cache key."""
        parts = [path, title, link, description, self.base, self.fallback.isoformat()]
        for fp in papers:
            key = getattr(fp.view, "cache_key", "")
            if not key:
                return ""
            parts += [key, fp.date.isoformat(), fp.published.isoformat(), fp.day_url]
        return json.dumps(["feed", *parts])

    def _text(self, path: str, *, title: str, link: str, description: str,
              papers: Iterable[FeedPaper]) -> str:
        """The feed's XML."""
        rss = path.endswith(".rss.xml") or path.endswith(".rss")
        cls = StableRssFeed if rss else StableAtomFeed
        feed_url = self.link(path)
        feed = cls(title=title, link=link, feed_url=feed_url, feed_guid=feed_url,
                   description=description, language=lang_tag(self.settings.get("DEFAULT_LANG")))
        feed.fallback = self.fallback
        for fp in papers:
            entry_title, entry_link, content = self._entry(fp)
            feed.add_item(
                title=entry_title,
                link=entry_link,
                unique_id=get_tag_uri(entry_link, fp.date),
                description=content if rss else None,
                content=content if not rss else None,
                categories=list(fp.view.tags),
                author_name=entry_author(fp.view.paper.authors),
                pubdate=fp.published,
                updateddate=fp.published,
            )
        buf = io.StringIO()
        feed.write(buf, "utf-8")
        return buf.getvalue()


def site_feed_papers(articles: Sequence[Any], days: int, limit: int) -> list[DayPaper]:
    """The papers of the newest `days` days, newest day first, at most `limit`."""
    out: list[DayPaper] = []
    for a in list(reversed(day_articles(articles)))[:days]:
        url = a.url  # Pelican formats it anew on every read
        out += [DayPaper(v, a.day.date, url, a.date) for v in (*a.day.listed, *a.day.updated)]
    return out[:limit]


class FeedsGenerator(Generator):  # type: ignore[misc]
    """Writes the site-wide feeds, one entry per paper (Pelican's day-per-entry feeds are off)."""

    def generate_context(self) -> None:
        """Tell the templates which site feeds exist (base.html reads FEED_ALL_ATOM/RSS)."""
        ds = digest_settings(self.settings)
        on = bool(feed_base(self.settings))
        if not on and (ds.feed_atom or ds.feed_rss):
            logger.warning("feeds not written: neither SITEURL nor FEED_DOMAIN is an absolute URL")
        self.context["FEED_ALL_ATOM"] = ds.feed_atom if on and ds.feed_atom else None
        self.context["FEED_ALL_RSS"] = ds.feed_rss if on and ds.feed_rss else None
        self.context["FEED_DOMAIN"] = feed_base(self.settings) or self.context.get("FEED_DOMAIN", "")

    def generate_output(self, writer: Any) -> None:
        """Write the site-wide feeds."""
        ds = digest_settings(self.settings)
        if not feed_base(self.settings):
            return
        feeds = FeedWriter(self)
        papers = site_feed_papers(self.context.get("articles", []), ds.feed_days, ds.feed_max_entries)
        site = str(self.settings["SITENAME"])
        for path in (ds.feed_atom, ds.feed_rss):
            if path:
                feeds.write(path, title=site, link=feeds.link(""),
                            description=f"New arXiv papers, one entry per paper, from the newest "
                                        f"{ds.feed_days} announcement days.",
                            papers=papers)
