"""A day read in one pass: the first paper on the first screen, the briefing and contents folded,
the contents following the reader, bolding in summaries and "expand all abstracts", and counts
that agree (issue 12).

The markup is checked on the built shipped day (content/digests/2024/2024-11-28.json) and on the
same real day with every one of its 513 papers listed; the reading itself in Debian's chromium
(Playwright, as tests/test_browser.py) at 390x844 and 1280x900, light and dark, with screenshots
under test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.core.settings import load_settings
from arxiv_digest.core.store import load
from arxiv_digest.site.render import day_view, render_day
from arxiv_digest.summarize.ledger import Row
from arxiv_digest.summarize.view import LedgerView
from conftest import ROOT, build_site
from lxml import html as lhtml
from sitedata import REAL_DAY, make_site
from test_browser import SHOTS, Reader, _QuietHandler

DAY = "/2024/11/28/"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped day alone, built as `make html` builds it (site-root URLs)."""
    site = make_site(tmp_path_factory.mktemp("layout-site"), days={})
    return build_site(site, tmp_path_factory.mktemp("layout-out"), SITEURL="", FEED_DOMAIN="")


class Soup:
    """A little of BeautifulSoup's reading interface over lxml.html and cssselect."""

    def __init__(self, el: Any) -> None:
        self.el = el

    def select(self, css: str) -> list[Soup]:
        return [Soup(e) for e in self.el.cssselect(css)]

    def select_one(self, css: str) -> Soup | None:
        found = self.el.cssselect(css)
        return Soup(found[0]) if found else None

    def get_text(self, sep: str = "", strip: bool = False) -> str:
        text = self.el.text_content()
        return " ".join(text.split()) if strip else text

    def __getitem__(self, name: str) -> str:
        return str(self.el.attrib[name])

    def has_attr(self, name: str) -> bool:
        return name in self.el.attrib

    def get(self, name: str, default: Any = None) -> Any:
        return self.el.get(name, default)


def parse(text: str) -> Soup:
    return Soup(lhtml.fromstring(text))


def soup_of(path: Path) -> Soup:
    return parse(path.read_text(encoding="utf-8"))


def settings(**over: Any) -> Any:
    return load_settings({"PATH": str(ROOT / "content"), "ARXIV_DIGEST_CONFIG": str(ROOT / "digest.yaml"),
                          **over}, env={})


def check_counts_agree(soup: Soup) -> int:
    """Every chip's count is the papers the filter shows; the briefing's counts are the same papers."""
    new = soup.select("section.papers:not(.updated) article.paper")
    upd = soup.select("section.papers.updated article.paper")
    checked = 0
    for button in soup.select(".filter button[data-topic]"):
        topic = button["data-topic"]
        n = int(button.select_one(".n").get_text())
        if not topic:
            assert n == len(new) + len(upd)
            continue
        n_new = sum(topic in a["data-tags"].split() for a in new)
        n_upd = sum(topic in a["data-tags"].split() for a in upd)
        assert n == n_new + n_upd, topic
        if n_upd:  # the chip says what its count holds
            assert button["data-split"].startswith(f"{n_new} new or cross-listed, {n_upd} updated")
        else:
            assert not button.has_attr("data-split")
        para = soup.select_one(f'.briefing .fold-body p[data-topic="{topic}"]')
        if para is not None:
            count = para.select_one(".count").get_text(" ", strip=True)
            assert count.startswith(f"{n_new} new or cross-listed"), (topic, count)
            assert (f"{n_upd} updated" in count) == bool(n_upd)
            # the stored text's own number is the page's, or the page says why it is not
            said = re.match(r"(\d+) new papers? on ", para.get_text(" ", strip=True).split(")", 2)[-1].strip())
            stale = para.select_one(".stale")
            if said and int(said.group(1)) != n_new:
                assert stale is not None and f"written when {said.group(1)}" in stale.get_text(), topic
            checked += 1
    return checked


def test_the_shipped_day_folds_the_briefing_and_the_contents(shipped: Path) -> None:
    soup = soup_of(shipped / "2024/11/28/index.html")
    briefing = soup.select_one("section.briefing")
    fold = briefing.select_one("h2 > button.fold")
    assert fold["aria-expanded"] == "false" and fold["aria-controls"] == "briefing-body"
    assert briefing.select_one("#briefing-body.fold-body p[data-topic]")
    lead = briefing.select_one("p.lead").get_text(" ", strip=True)
    assert lead.startswith("On the new and cross-listed papers of pruning") and len(lead) < 120
    toc = soup.select_one("nav.toc")
    assert toc["aria-labelledby"] == "toc-h"
    body = toc.select_one("#toc-body.fold-body")
    assert toc.select_one("h2 > button.fold")["aria-controls"] == "toc-body"
    # one list area: both lists (papers, updated versions) in the one fold, every link resolving
    assert len(body.select("ol")) == 2 == len(toc.select("ol"))
    ids = {a["id"] for a in soup.select("article.paper")}
    assert {a["href"][1:] for a in toc.select("a[href^='#']")} == ids
    # the first paper comes right after the overview, briefing and contents
    order = [f"{el.tag}.{el.get('class')}" for el in soup.select_one("article.day").el
             if el.tag in ("section", "nav") and el.get("class") != "day-nav"]
    assert order[:4] == ["section.day-header", "section.briefing", "nav.toc", "section.papers"]
    assert soup.select_one("button.expand-all")["aria-pressed"] == "false"


def test_the_shipped_day_counts_agree(shipped: Path) -> None:
    soup = soup_of(shipped / "2024/11/28/index.html")
    assert check_counts_agree(soup) == len(soup.select(".briefing .fold-body p[data-topic]")) >= 3


def test_summaries_bold_the_topic_words(shipped: Path) -> None:
    soup = soup_of(shipped / "2024/11/28/index.html")
    bolded = soup.select(".summary .tldr strong.kw, .summary .headline strong.kw, .summary .method strong.kw")
    assert len(bolded) >= 5
    assert {b["data-tag"] for b in bolded} >= {"quantization", "pruning"}
    for b in bolded:
        assert b.get_text().strip() and "<" not in b.get_text()


def test_summary_bolding_escapes_first(tmp_path: Path) -> None:
    """Model text with markup and a keyword: escaped, the keyword bolded, nothing else marked up."""
    digest = load(REAL_DAY)
    hostile = ('<img src=x onerror=alert(1)> We prune </p><script>alert(2)</script> '
               '"pruning" & $\\text{prune}$ <strong class="kw">fake</strong>')
    target = next(p for p in digest.papers if p.summary and "pruning" in (p.tags or {}))
    summary = dict(target.summary or {})
    summary["fields"] = {**summary.get("fields", {}), "tldr": hostile, "method": "<b>Pruned</b> 50%",
                         "headline": None}
    papers = [dataclasses.replace(p, summaries={"en": summary}) if p is target else p for p in digest.papers]
    view = day_view(dataclasses.replace(digest, papers=papers), settings())
    html = render_day(view, str(ROOT / "theme"))
    soup = parse(html)
    card = soup.select_one(f"article[id='{target.id}']")
    tldr = card.select_one(".tldr")
    assert not tldr.select("img, script, b") and not tldr.el.xpath(".//p")
    assert [s.get_text() for s in tldr.select("strong")] == ["prune", "pruning"]  # never inside math
    assert "<img src=x onerror=alert(1)>" in tldr.get_text() and "fake" in tldr.get_text()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html and "<script>alert" not in html
    assert [s.get_text() for s in card.select(".method strong.kw")] == ["Pruned"]


def test_every_paper_of_a_real_day_listed_keeps_the_counts_in_agreement() -> None:
    """The real 513-paper day with LIST_ALL: the chips, the filter and the briefing still agree."""
    view = day_view(load(REAL_DAY), settings(ARXIV_DIGEST_LIST_ALL=True))
    assert view.listed_total == len(load(REAL_DAY).papers) >= 500
    soup = parse(render_day(view, str(ROOT / "theme")))
    assert len(soup.select("article.paper")) == view.listed_total
    assert len(soup.select("nav.toc #toc-body a")) == view.listed_total
    check_counts_agree(soup)
    for topic, (new, upd) in view.topic_split.items():
        assert dict(view.topic_counts)[topic] == new + upd
    assert len(soup.select(".summary strong.kw")) >= 20


def test_offline_summaries_say_so_instead_of_a_table_of_zeros(shipped: Path) -> None:
    day = soup_of(shipped / "2024/11/28/index.html").select_one("section.ledger")
    assert day is not None and day.select_one("table") is None
    assert "Offline summaries, no cost" in day.get_text()
    site = soup_of(shipped / "ledger/index.html").select_one("main")
    assert "Offline summaries, no cost" in site.get_text() and not site.select("table")
    # a model's calls (even free ones: tokens were used) still get their table
    for row in (Row("openai/gpt-4o-mini", 3, 900, 200, 1100, 0.0012), Row("ollama/llama3", 2, 50, 10, 60)):
        view = dataclasses.replace(day_view(load(REAL_DAY), settings()),
                                   ledger=LedgerView((Row("extractive"), row), row))
        html = parse(render_day(view, str(ROOT / "theme")))
        assert html.select("section.ledger table tbody tr") and "Offline summaries" not in html.get_text()
    assert Row("extractive").offline and not Row("ollama/llama3", 2, 50, 10, 60).offline


# --- in the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_url(shipped: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(shipped)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def first_paper(page: Any) -> dict[str, float]:
    return dict(page.evaluate("""() => {
        const a = document.querySelector('article.paper'), t = a.querySelector('.title');
        return {top: a.getBoundingClientRect().top + scrollY, title: t.getBoundingClientRect().bottom + scrollY,
                height: innerHeight, wide: document.documentElement.scrollWidth - innerWidth}; }"""))


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_first_paper_is_on_the_first_screen(browser: Any, base_url: str, size: str, scheme: str) -> None:
    phone = size == "phone"
    r = Reader(browser, base_url, viewport=PHONE if phone else DESKTOP, color_scheme=scheme,
               is_mobile=phone, has_touch=phone)
    try:
        page = r.goto(DAY)
        at = first_paper(page)
        # its title whole within the first screen, without scrolling sideways
        assert at["title"] <= at["height"], at
        assert at["wide"] <= 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"day-first-screen-{scheme}-{size}.png"))
    finally:
        r.close()


@pytest.mark.browser
def test_the_briefing_unfolds_and_is_remembered(browser: Any, base_url: str) -> None:
    r = Reader(browser, base_url)
    try:
        page = r.goto(DAY)
        button = page.locator(".briefing button.fold")
        body = page.locator("#briefing-body")
        assert not body.is_visible() and page.locator(".briefing .lead").is_visible()
        top = first_paper(page)["top"]
        button.click()
        assert button.get_attribute("aria-expanded") == "true" and body.is_visible()
        assert page.locator("#briefing-body p[data-topic]").count() >= 3
        assert first_paper(page)["top"] > top + 100  # the reader asked for it
        page = r.goto(DAY)  # remembered, open before the first paint: nothing moves
        assert page.locator("#briefing-body").is_visible()
        assert page.locator(".briefing button.fold").get_attribute("aria-expanded") == "true"
        page.locator(".briefing button.fold").click()
        page = r.goto(DAY)
        assert not page.locator("#briefing-body").is_visible()
    finally:
        r.close()


@pytest.mark.browser
def test_the_contents_follow_the_reader(browser: Any, base_url: str) -> None:
    r = Reader(browser, base_url)
    try:
        page = r.goto(DAY)
        assert page.locator("nav.toc a[aria-current]").count() == 0  # above the first paper
        ids = page.locator("article.paper").evaluate_all("els => els.map(e => e.id)")
        for pid in (ids[0], ids[7], ids[-1], ids[2]):
            page.evaluate("id => document.getElementById(id).scrollIntoView()", pid)
            page.wait_for_function(
                "id => document.querySelector('nav.toc a[aria-current]')?.getAttribute('href') === '#' + id",
                arg=pid, timeout=5000)
            assert page.locator("nav.toc a[aria-current]").count() == 1
            # the current entry is in sight inside the sticky contents
            assert page.evaluate("""id => {
                const a = document.querySelector(`nav.toc a[href="#${id}"]`).getBoundingClientRect();
                const n = document.querySelector('nav.toc').getBoundingClientRect();
                return a.top >= n.top && a.bottom <= n.bottom && a.bottom <= innerHeight; }""", pid), pid
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_function("() => !document.querySelector('nav.toc a[aria-current]')", timeout=5000)
    finally:
        r.close()


@pytest.mark.browser
def test_the_phone_contents_are_one_list_of_whole_titles(browser: Any, base_url: str) -> None:
    r = Reader(browser, base_url, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = r.goto(DAY)
        button = page.locator("nav.toc button.fold")
        assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
        assert not page.locator("#toc-body").is_visible()
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        links = page.locator("#toc-body a")
        assert links.count() == page.locator("article.paper").count()
        # no scroll area of its own inside the page: every title whole, in the page's flow
        assert page.evaluate("""() => [...document.querySelectorAll('nav.toc, nav.toc *')].every(el => {
            const s = getComputedStyle(el);
            return !['auto', 'scroll', 'hidden'].includes(s.overflowY) && s.maxHeight === 'none'; })""")
        assert page.evaluate("""() => [...document.querySelectorAll('#toc-body li')].every(li => {
            const r = li.getBoundingClientRect();
            return r.height > 0 && li.scrollHeight <= Math.ceil(r.height) + 1; })""")
        last = links.nth(links.count() - 1)
        target = last.get_attribute("href")[1:]
        last.click()
        page.wait_for_function("h => location.hash === h", arg="#" + target)
        assert page.evaluate("id => document.getElementById(id).getBoundingClientRect().top < innerHeight", target)
    finally:
        r.close()


@pytest.mark.browser
def test_expand_all_abstracts_shows_the_bolding(browser: Any, base_url: str) -> None:
    r = Reader(browser, base_url)
    try:
        page = r.goto(DAY)
        total = page.locator("details.abstract").count()
        assert page.locator("details.abstract[open]").count() < total
        before = page.locator("details.abstract strong.kw:visible").count()  # pending summaries: open
        expand = page.locator("button.expand-all")
        expand.click()
        assert page.locator("details.abstract[open]").count() == total
        assert expand.get_attribute("aria-pressed") == "true" and expand.inner_text() == "Collapse all abstracts"
        assert page.locator("details.abstract strong.kw:visible").count() >= max(total, before + 1)
        expand.click()
        assert page.locator("details.abstract[open]").count() == 0
        assert expand.inner_text() == "Expand all abstracts"
    finally:
        r.close()


@pytest.mark.browser
def test_each_chip_shows_as_many_papers_as_it_counts(browser: Any, base_url: str) -> None:
    r = Reader(browser, base_url)
    try:
        page = r.goto(DAY)
        for b in page.locator(".filter button[data-topic]:not([disabled])").all():
            n = int(b.locator(".n").inner_text())
            b.click()
            assert page.locator("article.paper:visible").count() == n
            split = b.get_attribute("data-split")
            status = page.locator(".filter-status").inner_text()
            assert f"Showing {n} " in status or f"Showing all {n} " in status
            if split:
                assert f"({split})" in status
    finally:
        r.close()
