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
from conftest import build_site
from test_browser import Reader, _QuietHandler, search_results
from test_search import OLD_DAY, add_day, listed_titles_of, periods, reindex

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


# Pagefind's own answer for `words` with every bundle merged into one instance (as the page
# searched before it split the bundles across workers): the sum of each filter group's counts,
# and the result URLs in order less the superseded records (periods.json's hide and check).
PAGEFIND_MERGED = """async (words) => {
    const names = document.getElementById('search').getAttribute('data-periods').split(' ');
    const periods = await (await fetch('/pagefind/periods.json')).json();
    const pf = await import(`/pagefind/${names[0]}/pagefind.js?merged`);
    const one = pf.createInstance({basePath: `/pagefind/${names[0]}/`, baseUrl: '/'});
    for (const name of names.slice(1)) await one.mergeIndex(`/pagefind/${name}/`, {baseUrl: '/'});
    await one.filters();  // (a search counts filter values once their index has loaded)
    const res = await one.search(words);
    const sums = {};
    for (const [k, v] of Object.entries(res.filters)) sums[k] = Object.values(v).reduce((a, b) => a + b, 0);
    const urls = [];
    for (const r of res.results) {
        if (periods.hide.includes(r.id)) continue;
        const data = await r.data();
        if ((periods.check[r.id] || []).includes(data.url)) continue;
        urls.push(data.url);
    }
    return [sums, urls]; }"""


def pagefind_merged(page: Any, words: str) -> tuple[dict[str, int], list[str]]:
    sums, urls = page.evaluate(PAGEFIND_MERGED, words)
    return sums, urls


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
        raw, listed = pagefind_merged(page, words)
        assert raw["year"] == total + 1
        # the page searches its bundles in parts, in workers of their own: its list is the one
        # Pagefind's own instance with every bundle merged gives, less the superseded records
        assert shown == listed
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


RELIST_DAYS = ("2024-06-03", "2024-10-01")  # two more periods: 2024-01-to-09 and 2024-10


@pytest.fixture(scope="module")
def many_relisted(relisted: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The relisted site (a copy, its search cache kept) with 90 of the 2023 papers that say
    "model" listed again (as new versions) on two 2024 days, 10 of them on both: built, indexed
    again. Four bundles, 2024-11, 2024-10, 2024-01-to-09 and 2023, so the page searches the three
    older ones in two parts (2024-10 with 2024-01-to-09 merged, and 2023); 100 superseded records."""
    root = tmp_path_factory.mktemp("many-relisted")
    site, out, cache = root / "site", root / "out", root / "cache"
    shutil.copytree(relisted["site"], site)
    shutil.copytree(relisted["out"], out)
    shutil.copytree(relisted["cache"], cache)
    record = json.loads((site / "content" / "digests" / "2023" / f"{OLD_DAY}.json").read_text(encoding="utf-8"))
    modelled = [p for p in record["papers"] if "model" in (p["title"] + " " + p["abstract"]).lower()
                and p["title"] != test_search_listings.OLD_TITLE][:90]
    assert len(modelled) == 90
    for iso, chosen in zip(RELIST_DAYS, (modelled[:50], modelled[40:]), strict=True):
        add_day(site, iso, [dict(p, version=2, announce_type="replace") for p in chosen])
    build_site(site, out, SITEURL="")
    code, log = reindex(out, cache)
    assert code == 0, log
    return {"out": out, "papers": modelled}


# the whole archive's answer for `words`, from Pagefind's own instance with every bundle merged,
# less the superseded records: each filter value's count over the records shown, their URLs in
# order, and how many superseded records matched
EXACT_COUNTS = """async (words) => {
    const names = document.getElementById('search').getAttribute('data-periods').split(' ');
    const periods = await (await fetch('/pagefind/periods.json')).json();
    const pf = await import(`/pagefind/${names[0]}/pagefind.js?exact`);
    const one = pf.createInstance({basePath: `/pagefind/${names[0]}/`, baseUrl: '/'});
    for (const name of names.slice(1)) await one.mergeIndex(`/pagefind/${name}/`, {baseUrl: '/'});
    const res = await one.search(words);
    const counts = {};
    const urls = [];
    let superseded = 0;
    const datas = await Promise.all(res.results.map(r => r.data()));
    res.results.forEach((r, i) => {
        const data = datas[i];
        if (periods.hide.includes(r.id) || (periods.check[r.id] || []).includes(data.url)) { superseded++; return; }
        urls.push(data.url);
        for (const [k, vs] of Object.entries(data.filters))
            for (const v of vs) { counts[k] = counts[k] || {}; counts[k][v] = (counts[k][v] || 0) + 1; }
    });
    return [counts, urls, superseded]; }"""


def test_filter_counts_are_exact_with_many_superseded_matches(
        browser: Any, many_relisted: dict[str, Any], serve: Any) -> None:
    """Filter counts stay exact however many superseded records a search matches: their filter
    values come from one small file (periods.json's hidden_filters), fetched once and only for a
    search that matches one, not from a fragment per record."""
    out = many_relisted["out"]
    assert periods(out) == ["2024-11", "2024-10", "2024-01-to-09", "2023"]
    data = json.loads((out / "pagefind" / "periods.json").read_text(encoding="utf-8"))
    assert len(data["hide"]) + len(data["check"]) >= 100
    name = data["hidden_filters"]
    base, handler = serve(out)
    r = Reader(browser, base)
    try:
        # a search that matches no superseded record leaves the file alone
        page = r.goto(f"/search/?q={quote(NEW_TITLE)}")
        page.wait_for_function(COUNTED, timeout=20000)
        assert int(page.locator(".pagefind-ui__message").inner_text().split()[0]) == 1
        assert not any(p.startswith("/pagefind/hidden-filters.") for p in handler.seen), handler.seen

        handler.seen.clear()
        page = r.goto("/search/?q=model")
        page.wait_for_function(COUNTED, timeout=20000)
        page.wait_for_function("() => document.querySelectorAll('.pagefind-ui__filter-checkbox').length > 0",
                               timeout=20000)
        page.wait_for_function("() => document.querySelectorAll('a.pagefind-ui__result-link').length >= 10",
                               timeout=20000)
        total = int(page.locator(".pagefind-ui__message").inner_text().split()[0])
        counts = filter_counts(page)
        fragments = [p for p in handler.seen if "/fragment/" in p]
        assert [p for p in handler.seen if p.startswith("/pagefind/hidden-filters.")] == [f"/pagefind/{name}"]
        expected, urls, superseded = page.evaluate(EXACT_COUNTS, "model")
        assert superseded > 60  # more than the page once read fragments for
        assert total == len(urls)
        assert counts == expected  # every group, every value
        for group in ("year", "month", "source"):
            assert sum(counts[group].values()) == total, group
        # the list itself is Pagefind's merged ranking (the bundles were searched in three parts)
        assert hrefs(page) == urls[:10]
        # no fragment read per superseded record: the first results' own, at most twice (the
        # newest bundle's list, then the whole list's)
        assert len(fragments) <= 20, fragments
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
