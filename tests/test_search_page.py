"""The search page's own result list (theme/static/js/search/search.js; issue 11), in chromium.

The page searches the newest period's bundle alone (its own Pagefind worker) beside the whole
archive (every bundle merged), shows the newest bundle's results first, then the whole list with
its count and filter counts. Over the two-year archive of test_search.py (1,026 real-size paper
pages in two bundles) with one 2023 paper listed again in 2024 under a new title
(test_search_listings.relisted), and over the hostile site of test_xss.py indexed by listing:

- the newest bundle's results show while the older bundle's index is still held back by the
  server, and the whole list follows once it is released (no timing: the server holds the
  request until the test has seen the result);
- the filter counts add up to the results shown: a superseded record (which Pagefind's own counts
  include) is counted nowhere, and the relisted paper is listed once;
- hostile titles and excerpts stay text (no element of theirs, no dialog; only <mark> added);
- the arrow keys move between the box and the result links, Escape returns to the box.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import pytest
import test_search_listings
import test_xss
from test_browser import Reader, _QuietHandler, search_results
from test_search import listed_titles_of, periods, reindex

pytestmark = pytest.mark.browser
relisted = test_search_listings.relisted  # the two-year site with a relisted paper (module fixture)
hostile_site = test_xss.hostile_site
NEW_TITLE = test_search_listings.NEW_TITLE

COUNTED = "() => /^\\d/.test((document.querySelector('.pagefind-ui__message') || {}).textContent || '')"


class Held(_QuietHandler):
    """Serves the site; the first request under `held` waits until `release` is set (at most 60 s):
    one is enough to hold a search back, and the browser's other connections stay free (chromium
    opens at most 6 to a host over HTTP/1.1)."""

    held = "/nothing/"
    release = threading.Event()
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        first = self.path.startswith(self.held) and not any(p.startswith(self.held) for p in self.seen)
        self.seen.append(self.path)
        if first:
            self.release.wait(60)
        super().do_GET()


@pytest.fixture()
def serve() -> Iterator[Any]:
    """serve(folder, held=prefix) -> (base URL, the handler class); servers shut down after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(folder: Path, held: str = "/nothing/") -> tuple[str, type[Held]]:
        handler = type("H", (Held,), {"held": held, "release": threading.Event(), "seen": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", handler

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def hrefs(page: Any) -> list[str]:
    return page.locator("a.pagefind-ui__result-link").evaluate_all("els => els.map(e => e.getAttribute('href'))")


def all_results(page: Any) -> list[str]:
    """Every result link of the whole list ("Load more results" until it is gone)."""
    page.wait_for_function(COUNTED, timeout=20000)
    search_results(page)
    while page.locator(".pagefind-ui__button").is_visible():
        n = page.locator(".pagefind-ui__result").count()
        page.locator(".pagefind-ui__button").click()
        page.wait_for_function("n => document.querySelectorAll('.pagefind-ui__result').length > n", arg=n)
        search_results(page)
    return hrefs(page)


def filter_counts(page: Any) -> dict[str, dict[str, int]]:
    """The filter panel's counts: group -> value -> count (from the labels, "value (n)")."""
    rows = page.evaluate("""() => [...document.querySelectorAll('.pagefind-ui__filter-checkbox')].map(
        i => [i.name, i.value, document.querySelector(`label[for="${CSS.escape(i.id)}"]`).textContent])""")
    out: dict[str, dict[str, int]] = {}
    for name, value, label in rows:
        m = re.fullmatch(r"(.*) \((\d+)\)", label)
        assert m and m.group(1) == value, label
        out.setdefault(name, {})[value] = int(m.group(2))
    return out


def test_the_newest_bundle_answers_first_while_the_archive_is_searched(
        browser: Any, relisted: dict[str, Any], serve: Any) -> None:
    out = relisted["out"]
    names = periods(out)
    assert names == ["2024-11", "2023"]
    base, handler = serve(out, held=f"/pagefind/{names[1]}/index/")
    r = Reader(browser, base)
    try:
        page = r.goto("/search/")
        page.wait_for_function("() => document.getElementById('search').getAttribute('data-search-ready') === '1'",
                               timeout=20000)
        titles = listed_titles_of(out)
        pid = sorted(i for i in titles if i.startswith("2411."))[5]
        page.locator(".pagefind-ui__search-input").fill(titles[pid])
        # the 2023 bundle's index is held back: the newest bundle's result shows alone
        page.wait_for_function(
            "href => { const a = document.querySelector('a.pagefind-ui__result-link'); "
            "return a && a.getAttribute('href') === href; }", arg=f"/papers/{pid}/", timeout=20000)
        assert any(p.startswith(f"/pagefind/{names[1]}/index/") for p in handler.seen)  # asked, not answered
        assert not page.evaluate(COUNTED)  # no count yet: the whole list is still to come
        assert all(h.startswith("/papers/2411.") for h in hrefs(page))
        handler.release.set()
        page.wait_for_function(COUNTED, timeout=20000)
        search_results(page)
        assert hrefs(page)[0] == f"/papers/{pid}/"
        total = int(page.locator(".pagefind-ui__message").inner_text().split()[0])
        assert total >= page.locator(".pagefind-ui__result").count() > 0
    finally:
        handler.release.set()
        r.close()


def test_filter_counts_match_the_results_and_a_relisted_paper_shows_once(
        browser: Any, relisted: dict[str, Any], serve: Any) -> None:
    out, url = relisted["out"], relisted["url"]
    base, _ = serve(out)
    r = Reader(browser, base)
    try:
        words = "sparse attention kernels"  # in both listings of the relisted paper, and in others
        page = r.goto(f"/search/?q={quote(words)}")
        shown = all_results(page)
        total = int(page.locator(".pagefind-ui__message").inner_text().split()[0])
        assert total == len(shown) == len(set(shown)) > 1
        assert shown.count(url) == 1
        page.wait_for_function("() => document.querySelectorAll('.pagefind-ui__filter-checkbox').length > 0")
        counts = filter_counts(page)
        # one year, one month and one source a record: each group adds up to the results shown
        for group in ("year", "month", "source"):
            assert sum(counts[group].values()) == total, (group, counts[group], total)
        # Pagefind's own merged counts include the superseded 2023 record: one more
        raw = page.evaluate("""async (words) => {
            const names = document.getElementById('search').getAttribute('data-periods').split(' ');
            const pf = await import(`/pagefind/${names[0]}/pagefind.js`);
            const res = await pf.search(words);
            return Object.values(res.filters.year).reduce((a, b) => a + b, 0); }""", words)
        assert raw == total + 1
        # a year filter narrows the list, and its counts still match
        page.locator("details.pagefind-ui__filter-block", has=page.locator("label[for='year-2023']")).locator(
            "summary").click()
        page.locator("label[for='year-2023']").click()
        page.wait_for_function(
            "t => { const m = document.querySelector('.pagefind-ui__message'); "
            "return m && /^\\d/.test(m.textContent) && parseInt(m.textContent) < t; }", arg=total)
        narrowed = all_results(page)
        assert url not in narrowed  # its 2023 record is superseded; its 2024 one is filtered out
        assert filter_counts(page)["year"]["2023"] == len(narrowed)
    finally:
        r.close()


def test_hostile_titles_and_excerpts_stay_text(browser: Any, hostile_site: dict[str, Any], tmp_path: Path,
                                               serve: Any) -> None:
    out = tmp_path / "out"
    shutil.copytree(hostile_site["out"], out)
    code, log = reindex(out, tmp_path / "listings")
    assert code == 0, log
    assert "hide" in json.loads((out / "pagefind" / "periods.json").read_text(encoding="utf-8"))
    base, _ = serve(out)
    r = Reader(browser, base)
    try:
        page = r.goto("/search/?q=onerror")
        search_results(page)
        page.wait_for_function(COUNTED, timeout=20000)
        links = page.locator("a.pagefind-ui__result-link").evaluate_all(
            "els => els.map(e => [e.getAttribute('href'), e.textContent, e.children.length])")
        assert links and all(h.startswith("/papers/") and kids == 0 for h, _, kids in links), links
        assert any("<img src=x onerror=" in text for _, text, _ in links), links  # the payload, as text
        # the only elements inside the results are the list's own and Pagefind's <mark>
        tags = page.evaluate("() => [...new Set([...document.querySelectorAll('.pagefind-ui__results *')]"
                             ".map(e => e.tagName.toLowerCase()))].sort()")
        assert set(tags) <= {"li", "div", "p", "a", "mark"}, tags
        excerpts = page.locator(".pagefind-ui__result-excerpt").evaluate_all("els => els.map(e => e.textContent)")
        assert any("onerror" in e for e in excerpts)
        assert page.locator(".pagefind-ui__result-excerpt mark").count() > 0
        # filter values (hostile topic names among them) are text too
        labels = page.locator(".pagefind-ui__filter-label").evaluate_all(
            "els => els.map(e => e.children.length)")
        assert labels and not any(labels)
    finally:
        r.close()  # no console error, no dialog, no request away from 127.0.0.1


def test_the_arrow_keys_move_between_the_box_and_the_results(
        browser: Any, relisted: dict[str, Any], serve: Any) -> None:
    base, _ = serve(relisted["out"])
    r = Reader(browser, base)
    try:
        page = r.goto("/search/")
        box = page.locator(".pagefind-ui__search-input")
        box.wait_for()
        page.wait_for_function(  # the page focuses the box once its list is set up
            "() => document.activeElement.classList.contains('pagefind-ui__search-input')", timeout=20000)
        box.fill("model")
        page.wait_for_function(COUNTED, timeout=20000)
        # a result shows once its fragment has loaded: wait for the first page's ten
        page.wait_for_function("() => document.querySelectorAll('a.pagefind-ui__result-link').length >= 10",
                               timeout=20000)
        links = search_results(page).locator("a.pagefind-ui__result-link")
        assert links.count() == 10

        def focused() -> str:
            return str(page.evaluate("() => document.activeElement.getAttribute('href') || "
                                     "document.activeElement.className"))

        box.press("ArrowDown")
        first, second = links.nth(0).get_attribute("href"), links.nth(1).get_attribute("href")
        assert focused() == first
        page.keyboard.press("ArrowDown")
        assert focused() == second
        page.keyboard.press("ArrowUp")
        assert focused() == first
        page.keyboard.press("ArrowUp")
        assert focused() == "pagefind-ui__search-input"
        box.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Escape")
        assert focused() == "pagefind-ui__search-input"
        # Enter on a result follows its link
        box.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**{first}")
    finally:
        r.close()
