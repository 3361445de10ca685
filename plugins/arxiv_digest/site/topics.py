"""Topic pages and feeds: each topic's papers across days, one feed entry per paper so a reader
can follow one topic alone. Written through the theme's templates.

A topic's papers are cut into parts of ARXIV_DIGEST_TOPIC_PAGE_SIZE numbered from the oldest
paper, each at a URL of its own for good ({base}/part/{number}/, beside the landing page). A new
day only appends to the newest part (and may start more), so a full part never changes again and
a daily build re-renders, per topic with new papers, only its landing page and its newest part(s)
(site/writer.py skips the rest). The landing page /topics/<slug>/ shows the newest whole parts (at
least a page's worth of papers), the topic's definition, feeds and .bib, and every part labelled
with its dates. Pelican's old newest-first pages ({base}/page/{n}/ under PAGINATION_PATTERNS)
shifted every day; each of those URLs is now a small page that redirects to the landing page.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_interval
from pelican.generators import Generator
from pelican.paginator import Paginator
from pelican.urlwrappers import Tag
from pelican.utils import get_relative_path, path_to_url

from ..core.errors import ConfigError
from ..core.i18n import locale
from ..core.store import write_if_changed
from .archive import day_links
from .feeds import FeedWriter, feed_base
from .render import PaperView, digest_settings
from .writer import SkipWriter

logger = logging.getLogger(__name__)

PART_URL = "{base}/part/{number}/"  # {base}: the landing page's folder, as Pelican's {base_name}
PART_SAVE_AS = "{base}/part/{number}/index.html"


@dataclass(frozen=True)
class TopicPaper:
    """A paper as listed on a topic page or in a topic feed: the paper and the day it is on."""

    view: PaperView  # keyed on the paper's record and its day's date (render.keyed)
    date: dt.date  # the announcement date
    day_url: str  # the day page's URL, relative to SITEURL
    published: dt.datetime  # the day article's date (timezone-aware)

    @property
    def paper(self) -> Any:
        """The Paper."""
        return self.view.paper

    @property
    def url(self) -> str:
        """The paper on its day page, relative to SITEURL."""
        return f"{self.day_url}#{self.view.paper.anchor}"  # a DOI's '/' is '-' in anchors


@dataclass(frozen=True)
class TopicHead:
    """What every page of a topic shows about it; no papers, so that a part's page does not
    depend on the topic's newest ones."""

    name: str
    slug: str
    url: str
    save_as: str
    feed_atom: str  # paths relative to the site root; "" when that feed is off
    feed_rss: str
    definition: str = ""  # what the topic covers and what it does not (digest.yaml)


@dataclass(frozen=True)
class TopicView(TopicHead):
    """A topic: its URLs and its papers across days, newest day first."""

    papers: tuple[TopicPaper, ...] = ()  # the papers about the topic (a mention does not list one)

    @property
    def head(self) -> TopicHead:
        """The topic without its papers."""
        return TopicHead(**{f.name: getattr(self, f.name) for f in fields(TopicHead)})

    @property
    def latest(self) -> dt.date | None:
        """The newest day with a paper in this topic."""
        return self.papers[0].date if self.papers else None

    @property
    def days(self) -> int:
        """How many days have a paper in this topic."""
        return len({p.date for p in self.papers})


@dataclass(frozen=True)
class TopicPart:
    """A fixed run of a topic's papers, numbered from the oldest: once full it never changes."""

    number: int
    url: str
    save_as: str
    papers: tuple[TopicPaper, ...]  # newest first
    label: str  # its announcement dates in the site's language: '12 Nov - 3 Dec 2024'
    full: bool
    # what its page is a pure function of, with the build fingerprint: its place and its papers'
    # build-cache keys (site/writer.py digests it by this alone); "" when a view has no key
    cache_key: str = field(default="", compare=False)

    @property
    def link(self) -> PartLink:
        """What the landing page lists of it."""
        return PartLink(self.number, self.url, self.label, len(self.papers), self.full,
                        self.papers[0].date.year)


@dataclass(frozen=True)
class PartLink:
    """A part as the landing page lists it (not its papers: an edit to one is not the landing
    page's business)."""

    number: int
    url: str
    label: str
    count: int  # its papers
    full: bool
    year: int  # the year of its newest paper (the landing page groups parts by it)


def build_topics(articles: Sequence[Any], settings: dict[str, Any]) -> tuple[TopicView, ...]:
    """One TopicView per configured topic (in config order), with its papers newest first."""
    ds = digest_settings(settings)
    days = list(reversed(day_links(articles)))  # newest first
    topics = []
    slugs: dict[str, str] = {}
    for topic in ds.topics:
        tag = Tag(topic.name, settings)
        if not tag.slug or tag.slug in slugs:
            what = f"the same URL as topic {slugs[tag.slug]!r}" if tag.slug else "no URL (empty slug)"
            raise ConfigError(
                f"{ds.config_file}: topics.{topic.name}: this name gives {what}; "
                "expected a name with letters or digits outside any <...>, distinct once slugified")
        slugs[tag.slug] = topic.name
        papers = tuple(
            TopicPaper(v, a.day.date, url, a.date)
            for a, url in days
            for v in (*a.day.listed, *a.day.updated)
            if topic.name in v.tags
        )
        fmt = {"slug": tag.slug}
        feeds_on = bool(feed_base(settings))  # no absolute base: no feed (site/feeds.py)
        atom = ds.topic_feed_atom if feeds_on else ""
        rss = ds.topic_feed_rss if feeds_on else ""
        topics.append(TopicView(
            name=topic.name,
            slug=tag.slug,
            url=tag.url,
            save_as=ds.topic_save_as.format(**fmt),
            feed_atom=atom.format(**fmt) if atom else "",
            feed_rss=rss.format(**fmt) if rss else "",
            papers=papers,
            definition=topic.definition,
        ))
    return tuple(topics)


def part_base(save_as: str) -> str:
    """The folder a topic's parts go under: the landing page's, as Pelican's {base_name}."""
    head, name = os.path.split(save_as)
    return head if name in ("index.html", "index.htm") else os.path.splitext(save_as)[0]


def date_range(lang: str | None) -> Callable[[dt.date, dt.date], str]:
    """A formatter of announcement-date ranges in the site's language ('12 Nov - 3 Dec 2024',
    '2024年11月12日至12月3日'; CLDR's intervals, so one date alone reads '28 Nov 2024')."""
    loc = locale(lang)
    if loc.language == "en" and not loc.territory:
        loc = Locale("en", "GB")  # the site writes English dates day first (i18n.LONG_DATE)

    def label(first: dt.date, last: dt.date) -> str:
        return str(format_interval(first, last, "yMMMd", locale=loc))
    return label


def split_parts(topic: TopicView, size: int,
                label: Callable[[dt.date, dt.date], str]) -> tuple[TopicPart, ...]:
    """The topic's parts, oldest first: part k holds papers (k-1)*size+1 .. k*size counted from
    the oldest (the last part may hold fewer), each newest first as the landing page lists them."""
    base = part_base(topic.save_as)
    papers, n = topic.papers, len(topic.papers)
    parts = []
    for k in range(1, -(-n // size) + 1):
        chunk = papers[max(0, n - k * size): n - (k - 1) * size]
        fmt = {"base": base, "number": k}
        url, save_as = PART_URL.format(**fmt), PART_SAVE_AS.format(**fmt)
        dates, full = label(chunk[-1].date, chunk[0].date), len(chunk) == size
        key = "\0".join(("topic-part", str(k), url, save_as, dates, str(full),
                          *(f"{tp.view.cache_key}@{tp.day_url}" for tp in chunk)))
        parts.append(TopicPart(number=k, url=url, save_as=save_as, papers=chunk, label=dates,
                               full=full, cache_key=key if all(
                                   tp.view.cache_key for tp in chunk) else ""))
    return tuple(parts)


def landing_parts(parts: Sequence[TopicPart]) -> int:
    """How many of the newest parts the landing page shows: enough for a full page's worth (the
    newest part alone when full, else with the one before it)."""
    return 1 if len(parts) < 2 or parts[-1].full else 2


def old_pages(topic: TopicView, size: int, settings: dict[str, Any]) -> list[tuple[str, str]]:
    """(url, save_as) of every newest-first page 2.. that Pelican's paginator (PAGINATION_PATTERNS)
    gave this topic's papers before they were cut into parts: each becomes a redirect."""
    paginator = Paginator(topic.save_as, topic.url, list(topic.papers), settings, size)
    pages = [paginator.page(n) for n in range(2, paginator.num_pages + 1)]
    return [(p.url, p.save_as) for p in pages if p.save_as]


class TopicsGenerator(Generator):  # type: ignore[misc]
    """Writes /topics/<topic>/, its parts, redirects from its old page URLs, and its feeds."""

    def generate_context(self) -> None:
        """Compute the topic views from the day articles (run after the ArticlesGenerator)."""
        self.topics = build_topics(self.context.get("articles", []), self.settings)
        self.context["digest_topics"] = self.topics
        self.context["digest_topic_urls"] = {t.name: t.url for t in self.topics}

    def generate_output(self, writer: Any) -> None:
        """Write every topic's landing page, parts, old-URL redirects and feeds."""
        size = digest_settings(self.settings).topic_page_size
        label = date_range(self.settings.get("DEFAULT_LANG"))
        template = self.get_template("topic")
        feeds = FeedWriter(self)
        redirects = 0
        for topic in self.topics:
            parts = split_parts(topic, size, label)
            written = self.write_pages(writer, template, topic, parts)
            redirects += self.write_redirects(writer, topic, size, written)
            self.write_feeds(topic, feeds)
        logger.info("Topics: %d topics, %d parts of %d papers, %d old page URLs redirected",
                    len(self.topics), sum(-(-len(t.papers) // size) for t in self.topics), size,
                    redirects)

    def write_pages(self, writer: Any, template: Any, topic: TopicView,
                    parts: Sequence[TopicPart]) -> set[str]:
        """The landing page and one page per part; returns the paths written."""
        relative = self.settings.get("RELATIVE_URLS", False)
        shown = parts[len(parts) - landing_parts(parts):]
        older = parts[len(parts) - len(shown) - 1].url if len(parts) > len(shown) else ""
        head = topic.head  # no page reads the whole topic: a part's digest is its own key
        writer.write_file(topic.save_as, template, self.context, relative_urls=relative,
                          template_name="topic", url=topic.url, topic=head,
                          topic_total=len(topic.papers), topic_parts=tuple(p.link for p in parts),
                          topic_papers=tuple(p for part in reversed(shown) for p in part.papers),
                          topic_older=older)
        for i, part in enumerate(parts):
            writer.write_file(part.save_as, template, self.context, relative_urls=relative,
                              template_name="topic", url=part.url, topic=head, topic_part=part,
                              topic_newer=parts[i + 1].url if i + 1 < len(parts) else topic.url,
                              topic_older=parts[i - 1].url if i else "")
        return {topic.save_as, *(p.save_as for p in parts)}

    def write_redirects(self, writer: Any, topic: TopicView, size: int, written: set[str]) -> int:
        """A small page at each old newest-first page URL that sends the reader to the landing page
        (meta refresh, canonical, a link: static hosting has no server redirects). Returns how
        many; unchanged ones are neither rendered nor written (SkipWriter.write_text)."""
        template = self.get_template("topic_moved")
        texts: dict[str, str] = {}  # one render per relative SITEURL (the same page otherwise)
        n = 0
        for _url, save_as in old_pages(topic, size, self.settings):
            if save_as in written:  # a part or the landing page itself: never replaced
                continue
            siteurl = self.context.get("SITEURL", "")
            if self.settings.get("RELATIVE_URLS", False):
                siteurl = path_to_url(get_relative_path(save_as))
            text = texts.get(siteurl)
            if text is None:
                text = texts[siteurl] = template.render(
                    {**self.context, "SITEURL": siteurl, "topic": topic.head})
            if isinstance(writer, SkipWriter):
                writer.write_text(save_as, text, functools.partial(str, text))
            else:
                write_if_changed(Path(self.output_path) / save_as, text)
            n += 1
        return n

    def write_feeds(self, topic: TopicView, feeds: FeedWriter) -> None:
        """The topic's Atom and RSS feeds: one entry per paper (site/feeds.py), newest first."""
        limit = self.settings.get("FEED_MAX_ITEMS")
        for path in (topic.feed_atom, topic.feed_rss):
            if path:
                feeds.write(path, title=f"{self.settings['SITENAME']}: {topic.name}",
                            link=feeds.link(topic.url),
                            description=f"New papers on {topic.name}, newest first.",
                            papers=topic.papers[:limit])
