"""Search in a real browser over the real-volume archive: one Pagefind record per paper.

The archive (tests/citedata.py: the shipped 513-paper day plus four generated from its text) is
built as `make html` does and served on 127.0.0.1; Debian's chromium drives Pagefind's own UI.
For 20 random listed papers, searching the exact title returns that paper's page first; topic,
category, year and month filters exist and narrow the results; "Load more results" pages on; in
the dark theme the search box and the results use the site's dark colours.
"""

from __future__ import annotations

import functools
import random
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from citedata import real_archive
from lxml import html
from test_browser import Reader, _QuietHandler, browser, search_results  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Path]]:
    out = real_archive("", "http://127.0.0.1:8000", True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", out
    server.shutdown()
    server.server_close()


def listed_titles(out: Path) -> dict[str, str]:
    """id -> the title as the day page shows it (text), for every listed paper."""
    titles = {}
    for page in sorted(out.glob("2024/*/*/index.html")):
        for art in html.fromstring(page.read_bytes()).cssselect("article.paper"):
            titles[art.get("id")] = " ".join(art.cssselect(".title")[0].text_content().split())
    return titles


def test_the_exact_title_finds_its_paper_first(browser: Any, served: tuple[str, Path]) -> None:  # noqa: F811
    base, out = served
    titles = listed_titles(out)
    assert len(titles) > 100
    sample = random.Random(12).sample(sorted(titles), 20)
    r = Reader(browser, base)
    try:
        for pid in sample:
            page = r.goto(f"/search/?q={quote(titles[pid])}")
            first = search_results(page).first.locator("a.pagefind-ui__result-link")
            assert first.get_attribute("href") == f"/papers/{pid}/", (pid, titles[pid])
    finally:
        r.close()


def test_filters_narrow_and_results_page_through(browser: Any, served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    r = Reader(browser, base)
    try:
        page = r.goto("/search/?q=model")
        search_results(page)
        filters = page.evaluate("""async () => {
            const pf = await import('/pagefind/pagefind.js');
            return await pf.filters(); }""")
        assert {"topic", "category", "year", "month"} <= filters.keys()
        assert set(filters["month"]) == {"2024-11"} and set(filters["year"]) == {"2024"}
        assert {"cs.LG", "cs.CL"} <= filters["category"].keys()
        # Pagefind UI's own paging: 10 results, then 10 more
        assert page.locator(".pagefind-ui__result").count() == 10
        message = page.locator(".pagefind-ui__message").inner_text()
        total = int(message.split()[0])
        assert total > 20
        page.locator(".pagefind-ui__button").click()
        page.wait_for_function("() => document.querySelectorAll('.pagefind-ui__result').length === 20")
        # a topic filter (its group open: openFilters in site.js) narrows to that topic's papers
        page.locator(".pagefind-ui__filter-label", has_text="pruning").first.click()
        page.wait_for_function(
            "t => { const m = document.querySelector('.pagefind-ui__message'); "
            "return m && parseInt(m.textContent) < t; }", arg=total)
        search_results(page)
        hrefs = page.locator("a.pagefind-ui__result-link").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        for href in hrefs[:5]:
            doc = html.fromstring((served[1] / href.strip("/") / "index.html").read_bytes())
            assert "pruning" in [a.text_content() for a in doc.cssselect(".meta a.tag")]
    finally:
        r.close()


def _luminance(rgb: str) -> float:
    parts = [int(float(x)) for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    return sum(parts) / 3


def test_search_is_readable_in_the_dark_theme(browser: Any, served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    r = Reader(browser, base, color_scheme="dark")
    try:
        page = r.goto("/search/?q=quantization")
        search_results(page)
        box = page.locator(".pagefind-ui__search-input")
        bg = box.evaluate("e => getComputedStyle(e).backgroundColor")
        fg = box.evaluate("e => getComputedStyle(e).color")
        title = page.locator("a.pagefind-ui__result-link").first.evaluate("e => getComputedStyle(e).color")
        assert _luminance(bg) < 60, bg  # a dark box
        assert _luminance(fg) > 180, fg  # light text in it
        assert _luminance(title) > 180, title  # light result titles on the dark page
        page.screenshot(path=str(Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
                                 / "search-dark-desktop.png"))
    finally:
        r.close()
