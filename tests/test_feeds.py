"""Feeds as a feed reader reads them (feedparser): one clean entry per paper, absolute links.

On the real-volume archive (tests/citedata.py) built for publishing, and as `make html` builds it
(SITEURL "", FEED_DOMAIN http://127.0.0.1:8000 for `make serve`): every feed parses without the
bozo flag, every link is absolute, every id is a stable tag URI, math reads as text, and the
site-wide feeds hold the newest ARXIV_DIGEST_FEED_DAYS days, at most _FEED_MAX_ENTRIES papers. With
no absolute base at all no feed is written and no page offers one. Hostile text parses cleanly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser
import pytest
from citedata import real_archive
from conftest import build_site
from lxml import html
from sitedata import MATH_ID, make_site, synthetic_days

SITE = "https://digest.example.org/sub"


def parse(path: Path) -> Any:
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, (path, feed.get("bozo_exception"))
    return feed


def check_feeds(out: Path, base: str) -> dict[str, Any]:
    """Parse every feed under out/feeds: no bozo, absolute links under base, unique tag ids."""
    feeds = {}
    for path in sorted(out.glob("feeds/**/*.xml")):
        feed = parse(path)
        assert feed.feed.link.startswith(base), path
        ids = [e.id for e in feed.entries]
        assert len(ids) == len(set(ids)), path
        for e in feed.entries:
            assert e.link.startswith(f"{base}/papers/") or f"{base}/20" in e.link, (path, e.link)
            assert e.id.startswith("tag:") and "tag:None" not in e.id
            body = e.content[0].value if "content" in e else e.summary
            for a in html.fragment_fromstring(body, create_parent="div").iter("a"):
                assert a.get("href", "").startswith(("https://", "http://")), (path, a.get("href"))
        feeds[str(path.relative_to(out))] = feed
    return feeds


@pytest.fixture(scope="module")
def published() -> Path:
    return real_archive(SITE, SITE, False)


def test_every_feed_parses_with_absolute_links(published: Path) -> None:
    feeds = check_feeds(published, SITE)
    assert {"feeds/all.atom.xml", "feeds/all.rss.xml"} <= feeds.keys()
    assert len(feeds) >= 10


def test_site_feeds_hold_one_clean_entry_per_paper_of_the_newest_days(published: Path) -> None:
    days = sorted(published.glob("2024/*/*/index.html"), reverse=True)[:5]
    expected = [f"{SITE}/papers/{a.get('id')}/" for d in days
                for a in html.fromstring(d.read_bytes()).cssselect("article.paper")][:250]
    for name in ("all.atom.xml", "all.rss.xml"):
        feed = parse(published / "feeds" / name)
        assert [e.link for e in feed.entries] == expected
        first = feed.entries[0]
        body = first.content[0].value if "content" in first else first.summary
        frag = html.fragment_fromstring(body, create_parent="div")
        assert not frag.cssselect("button, nav, article, [href^='#']")  # no page markup, no fragments
        assert first.author  # authors
        assert len(body) < 6_000


def test_development_feeds_point_at_make_serve(tmp_path: Path) -> None:
    """`make html`: SITEURL "" and pelicanconf's FEED_DOMAIN."""
    site = make_site(tmp_path / "site")
    out = build_site(site, tmp_path / "out", SITEURL="", FEED_DOMAIN="http://127.0.0.1:8000")
    feeds = check_feeds(out, "http://127.0.0.1:8000")
    assert all(e.id.startswith("tag:127.0.0.1,") for f in feeds.values() for e in f.entries)
    # math reads as text: the formula paper's title and abstract
    entry = next(e for f in feeds.values() for e in f.entries if e.link.endswith(f"/papers/{MATH_ID}/"))
    assert "$" not in entry.title and "O(n log n)" in entry.title
    body = entry.content[0].value if "content" in entry else entry.summary
    assert "$" not in body and "∑" in body
    head = html.fromstring((out / "index.html").read_bytes())
    assert head.cssselect("link[rel=alternate]")[0].get("href") == "http://127.0.0.1:8000/feeds/all.atom.xml"


def test_no_absolute_base_no_feed(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", days={k: v for k, v in synthetic_days().items()
                                               if k == "2024-12-02"}, real=False)
    out = build_site(site, tmp_path / "out", SITEURL="", FEED_DOMAIN="")
    assert not (out / "feeds").exists()
    page = html.fromstring((out / "index.html").read_bytes())
    assert not page.cssselect("link[rel=alternate]")
    assert not [a for a in page.cssselect("footer a") if "feeds/" in (a.get("href") or "")]


def test_site_feeds_are_bounded_by_the_settings(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    out = build_site(site, tmp_path / "out", ARXIV_DIGEST_FEED_DAYS=2, ARXIV_DIGEST_FEED_MAX_ENTRIES=3)
    feed = parse(out / "feeds/all.atom.xml")
    assert [e.link.rsplit("/", 2)[-2] for e in feed.entries] == ["2412.30001", "2412.30002", "2412.20001"]
