"""A page per listed paper: a lean, citable page at a stable URL (ARXIV_DIGEST_PAPER_URL).

It shows the TL;DR, topics, facts, the abstract, links, the paper's day and its other versions,
carries the citation_* meta that Zotero and Google Scholar read, and is the paper's one search
record (Pagefind indexes these pages, with topic, category, year and month filters). A paper
listed on several days (a new version, a cross-list) has one page, showing its newest listing.
A bioRxiv/medRxiv preprint's page is named by its DOI (/papers/10.1101/2020.01.01.123456/) and
links, cites and labels it as the server's paper. An id that is neither an arXiv id nor a
preprint DOI gets no page (it could not be a safe path); its day lists it as before.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pelican.generators import Generator

from ..core.models import id_label
from .archive import day_links
from .cite import CiteLinks, bibtex_entry, paper_save_as
from .render import PaperView, digest_settings

logger = logging.getLogger(__name__)
CATEGORY = re.compile(r"[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?")  # cs.LG, math-ph, q-bio.NC


@dataclass(frozen=True)
class Listing:
    """One day a paper was listed on: the day, its page's URL (relative to SITEURL), the version."""

    date: dt.date
    day_url: str
    version: int
    announce_type: str


@dataclass(frozen=True)
class PaperPage:
    """What paper.html needs: the newest listing's view, every listing, related papers."""

    id: str
    url: str  # relative to SITEURL
    save_as: str
    view: PaperView  # as on its newest day
    date: dt.date  # the newest announcement date
    day_url: str  # the newest day's page, relative to SITEURL
    published: dt.datetime  # the newest day's article date (timezone-aware)
    listings: tuple[Listing, ...]  # oldest first
    related: tuple[tuple[str, str], ...]  # (href, label): a paper page (absolute), arXiv or doi.org
    # what every field above is a pure function of, with the build fingerprint: the keys of its
    # listings' views (each a function of the paper's stored record and its day's date, not of
    # the rest of the day: render.keyed) and what was formatted from them ("" when a view came
    # from outside the build cache); the page writer digests the page by it (site/writer.py)
    cache_key: str = field(default="", compare=False)

    @property
    def paper(self) -> Any:
        """The Paper (newest listing)."""
        return self.view.paper

    @property
    def search_categories(self) -> tuple[str, ...]:
        """The categories that are well-formed arXiv categories (search filter values)."""
        if self.view.paper.source != "arxiv":  # a server's subject ("cell biology") is no filter value
            return ()
        return tuple(c for c in self.view.paper.categories if CATEGORY.fullmatch(c))

    @property
    def bibtex(self) -> str:
        """The BibTeX entry."""
        return bibtex_entry(self.view.paper, self.date)


def cite_links(settings: dict[str, Any]) -> CiteLinks:
    """Where paper pages and .bib files are, from the settings (absolute when SITEURL is)."""
    ds = digest_settings(settings)
    return CiteLinks(str(settings.get("SITEURL") or ""), ds.paper_url, ds.day_bib)


def build_papers(articles: Sequence[Any], settings: dict[str, Any]) -> dict[str, PaperPage]:
    """id -> PaperPage for every listed paper whose id names a page, in order of first listing."""
    ds = digest_settings(settings)
    if not ds.paper_url:
        return {}
    links = cite_links(settings)
    seen: dict[str, list[tuple[PaperView, Any, str]]] = {}
    for a, url in day_links(articles):  # oldest first
        for v in (*a.day.listed, *a.day.updated):
            seen.setdefault(v.paper.id, []).append((v, a, url))
    pages: dict[str, PaperPage] = {}
    skipped = 0
    for pid, listed in seen.items():
        save_as = paper_save_as(ds.paper_save_as, pid)
        if not save_as:
            skipped += 1
            logger.warning("no paper page for %.80r: neither an arXiv id nor a preprint DOI", pid)
            continue
        view, article, day_url = listed[-1]
        related = []
        for r in view.paper.related:
            href = links.paper(r.id) if r.id in seen else ""
            # a DOI (bioRxiv, medRxiv) resolves at doi.org; anything else is an arXiv id
            outside = f"https://doi.org/{r.id}" if r.id.startswith("10.") else f"https://arxiv.org/abs/{r.id}"
            related.append((href or outside, f"{id_label(r.id)} ({r.date})"))
        url = ds.paper_url.format(id=pid)
        pages[pid] = PaperPage(
            id=pid,
            url=url,
            save_as=save_as,
            view=view,
            date=article.day.date,
            day_url=day_url,
            published=article.date,
            listings=tuple(Listing(a.day.date, u, v.paper.version, v.paper.announce_type)
                           for v, a, u in listed),
            related=tuple(related),
            cache_key=_page_key(pid, url, save_as, listed, article.date, related),
        )
    if skipped:
        logger.warning("%d listed paper(s) got no page (ids that are neither arXiv ids nor DOIs)", skipped)
    return pages


def _page_key(pid: str, url: str, save_as: str, listed: Sequence[tuple[PaperView, Any, str]],
              published: dt.datetime, related: Sequence[tuple[str, str]]) -> str:
    """A PaperPage's cache_key: each listing's view by its key, with its day's date and URL and
    the related links; "" when a key is missing."""
    parts = [pid, url, save_as, published.isoformat(), str(published.tzinfo)]
    for v, a, u in listed:
        if not v.cache_key:
            return ""
        parts += [v.cache_key, a.day.date.isoformat(), u]
    for href, label in related:
        parts += [href, label]
    return json.dumps(parts)  # unambiguous whatever the strings hold


class PapersGenerator(Generator):  # type: ignore[misc]
    """Writes a page per listed paper (paper.html)."""

    def generate_context(self) -> None:
        """The paper pages from the day articles (after the ArticlesGenerator)."""
        self.papers = build_papers(self.context.get("articles", []), self.settings)
        self.context["digest_papers"] = self.papers
        links = cite_links(self.settings)
        self.context["paper_url"] = links.paper

    def generate_output(self, writer: Any) -> None:
        """Write every paper's page."""
        if not self.papers:
            return
        template = self.get_template("paper")
        # search filter values: slugs (letters, digits, hyphens), never names (site/search note)
        slugs = {t.name: t.slug for t in self.context.get("digest_topics", ())}
        for page in self.papers.values():
            writer.write_file(page.save_as, template, self.context, template_name="paper",
                              url=page.url, paper=page, topic_slugs=slugs,
                              relative_urls=self.settings.get("RELATIVE_URLS", False))
        logger.info("Wrote %d paper pages", len(self.papers))
