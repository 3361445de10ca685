"""Topic pages and feeds: each topic's papers across days, newest first, paginated, one feed entry
per paper so a reader can follow one topic alone. Written through the theme's templates."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pelican.generators import Generator
from pelican.urlwrappers import Tag

from ..errors import ConfigError
from ..render import DayView, PaperView, digest_settings
from .archive import day_links
from .feeds import FeedWriter, feed_base

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class TopicPaper:
    """A paper as listed on a topic page or in a topic feed: the paper and the day it is on."""

    view: PaperView
    day: DayView
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

    @property
    def date(self) -> dt.date:
        """The announcement date."""
        return self.day.date


@dataclass(frozen=True)
class TopicView:
    """A topic: its URLs and its papers across days, newest day first."""

    name: str
    slug: str
    url: str
    save_as: str
    feed_atom: str  # paths relative to the site root; "" when that feed is off
    feed_rss: str
    papers: tuple[TopicPaper, ...]  # the papers about the topic (a mention does not list one)
    definition: str = ""  # what the topic covers and what it does not (digest.yaml)

    @property
    def latest(self) -> dt.date | None:
        """The newest day with a paper in this topic."""
        return self.papers[0].date if self.papers else None

    @property
    def days(self) -> int:
        """How many days have a paper in this topic."""
        return len({p.date for p in self.papers})


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
            TopicPaper(v, a.day, url, a.date)
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


class TopicsGenerator(Generator):  # type: ignore[misc]
    """Writes /topics/<topic>/ (paginated) and each topic's Atom and RSS feeds."""

    def generate_context(self) -> None:
        """Compute the topic views from the day articles (run after the ArticlesGenerator)."""
        self.topics = build_topics(self.context.get("articles", []), self.settings)
        self.context["digest_topics"] = self.topics
        self.context["digest_topic_urls"] = {t.name: t.url for t in self.topics}

    def generate_output(self, writer: Any) -> None:
        """Write every topic's pages and feeds."""
        # ARXIV_DIGEST_TOPIC_PAGE_SIZE, as Pelican's writer reads a template's page size (a
        # different PAGINATED_TEMPLATES["topic"] in the settings is refused by load_settings)
        paginated = self.settings.setdefault("PAGINATED_TEMPLATES", {})
        paginated["topic"] = digest_settings(self.settings).topic_page_size
        template = self.get_template("topic")
        feeds = FeedWriter(self)
        for topic in self.topics:
            writer.write_file(
                topic.save_as, template, self.context,
                paginated={"papers": list(topic.papers)},
                template_name="topic", url=topic.url, topic=topic,
                relative_urls=self.settings.get("RELATIVE_URLS", False),
            )
            self.write_feeds(topic, feeds)

    def write_feeds(self, topic: TopicView, feeds: FeedWriter) -> None:
        """The topic's Atom and RSS feeds: one entry per paper (site/feeds.py), newest first."""
        limit = self.settings.get("FEED_MAX_ITEMS")
        for path in (topic.feed_atom, topic.feed_rss):
            if path:
                feeds.write(path, title=f"{self.settings['SITENAME']}: {topic.name}",
                            link=feeds.link(topic.url),
                            description=f"New papers on {topic.name}, newest first.",
                            papers=topic.papers[:limit])
