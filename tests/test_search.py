"""Search in a real browser over the real-volume archive: one Pagefind record per paper.

The archive (tests/citedata.py: the shipped 513-paper day plus four generated from its text) is
built as `make html` does and served on 127.0.0.1; Debian's chromium drives Pagefind's own UI.
For 20 random listed papers, searching the exact title returns that paper's page first; topic,
category, source, year and month filters exist and narrow the results; "Load more results" pages
on; in the dark theme the search box and the results use the site's dark colours.

The index is a few Pagefind bundles (scripts/search_index.py: closed years, then the newest year's
earlier quarters, the newest quarter's earlier months and the newest month; a period over
--max-records cut into parts of whole months or days), merged by the search page. Its records
are the day pages' listed cards (the script's default, as `make html`): one per listing, in the
listing day's period. A two-year archive (the real 513-paper day of 2024 and 513 papers of 2023
recombined from its text, every paper listed: 1,026 paper pages) checks that one search finds
papers of both years, that a new day re-indexes its own month only (the other bundles stay
byte-identical), that a paper listed again in a later year adds a record to that period and hides
the old one without re-indexing the old year, that a new month, quarter and year fold the earlier
months into their bundle once, that a period over --max-records is cut into parts that equal a
cold index, and that nothing stale is left.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from citedata import generated_days, real_archive
from conftest import build_site
from lxml import html
from sitedata import ROOT, day, index_search, make_site, paper, summarize_days
from test_browser import Reader, _QuietHandler, search_results

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


def test_the_exact_title_finds_its_paper_first(browser: Any, served: tuple[str, Path]) -> None:
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


def test_filters_narrow_and_results_page_through(browser: Any, served: tuple[str, Path]) -> None:
    base, _ = served
    r = Reader(browser, base)
    try:
        page = r.goto("/search/?q=model")
        search_results(page)
        filters = merged_filters(page)
        assert {"topic", "category", "source", "year", "month"} <= filters.keys()
        assert set(filters["month"]) == {"2024-11"} and set(filters["year"]) == {"2024"}
        assert set(filters["source"]) == {"arXiv"}  # every paper page of this archive is arXiv's
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


def merged_filters(page: Any) -> dict[str, dict[str, int]]:
    """The filters of the bundles the search page loaded, all merged into one Pagefind instance (the
    page itself searches them in parts, each in a worker of its own)."""
    return page.evaluate("""async () => {
        const periods = document.getElementById('search').getAttribute('data-periods').split(' ');
        const pf = await import(`/pagefind/${periods[0]}/pagefind.js?merged`);
        const one = pf.createInstance({basePath: `/pagefind/${periods[0]}/`, baseUrl: '/'});
        for (const name of periods.slice(1)) await one.mergeIndex(`/pagefind/${name}/`, {baseUrl: '/'});
        return await one.filters(); }""")


def _luminance(rgb: str) -> float:
    parts = [int(float(x)) for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    return sum(parts) / 3


def test_search_is_readable_in_the_dark_theme(browser: Any, served: tuple[str, Path]) -> None:
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


# -- a few period bundles, merged in the browser; a new day re-indexes its month only -------------

SCRIPT = ROOT / "scripts" / "search_index.py"
OLD_DAY = "2023-12-28"
# text that looks like the index's own markers: escaped on the page, so it is no attribute
HOSTILE_TITLE = ('<article data-pagefind-body data-pagefind-sort="date:1999-01-01" '
                 "data-pagefind-filter='source:evil'> Hostile markers in a title")


def _relabel(record: dict[str, Any], iso: str, prefix: str, tag: str) -> dict[str, Any]:
    """A generated day moved to another date, with ids of that month and titles marked `tag`."""
    papers = [dict(p, id=f"{prefix}.{p['id'].split('.')[1]}", title=f"{p['title']} {tag}")
              for p in record["papers"]]
    return {**record, "date": iso, "papers": papers}


def two_year_site(root: Path) -> tuple[Path, Path, Path]:
    """The real 2024-11-28 day and 513 papers dated 2023-12-28, every paper listed; built, indexed."""
    old = _relabel(generated_days()["2024-11-25"], OLD_DAY, "2312", "(last year)")
    old["papers"].append(dict(old["papers"][0], id="2312.99999", title=HOSTILE_TITLE))
    # two preprints (issue 15's sources) on a day of their own, for the source filter
    preprints = [dict(paper(f"10.1101/2024.11.27.00000{i}", f"A {name} preprint on pruning cell models",
                            "We model and prune neural networks of cells."), source=name.lower(), license="cc_by")
                 for i, name in ((1, "bioRxiv"), (2, "medRxiv"))]
    site = make_site(root / "site", {OLD_DAY: old, "2024-11-27": day("2024-11-27", preprints)})
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_LIST_ALL = True\n")
    summarize_days(site, list_all=True)
    out = build_site(site, root / "out", SITEURL="")
    index_search(out, root / "cache")
    return site, out, root / "cache"


@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return two_year_site(tmp_path_factory.mktemp("two-years"))


def periods(out: Path) -> list[str]:
    return json.loads((out / "pagefind" / "periods.json").read_text(encoding="utf-8"))["periods"]


def paper_pages(out: Path) -> dict[str, str]:
    """paper page path -> its year (data-year), for every paper page."""
    return {str(p.relative_to(out)): html.fromstring(p.read_bytes()).cssselect("article.paper-page")[0].get("data-year")
            for p in sorted((out / "papers").rglob("index.html"))}


def page_count(bundle: Path) -> int:
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    return sum(lang["page_count"] for lang in entry["languages"].values())


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def reindex(out: Path, cache: Path, *extra: str) -> tuple[int, str]:
    """Run the script as `make html` does; its exit code and its log."""
    proc = subprocess.run([sys.executable, str(SCRIPT), "--site", str(out), "--cache", str(cache), *extra],
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def paper_months(out: Path) -> dict[str, str]:
    """paper page path -> its month (data-month), for every paper page."""
    return {str(p.relative_to(out)): html.fromstring(p.read_bytes()).cssselect(
        "article.paper-page")[0].get("data-month") for p in sorted((out / "papers").rglob("index.html"))}


def listing_months(out: Path) -> dict[str, set[str]]:
    """month -> the paper page paths its day pages list (article.day's data-date, each card's
    a.paper-page), read from the pages independently of the script."""
    months: dict[str, set[str]] = {}
    for page in sorted(out.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/index.html")):
        day = html.fromstring(page.read_bytes()).cssselect("article.day")[0]
        for a in day.cssselect("article.paper a.paper-page"):
            months.setdefault(day.get("data-date")[:7], set()).add(a.get("href").lstrip("/") + "index.html")
    return months


def bundles_hold_their_pages(out: Path) -> None:
    """Each published bundle holds exactly one record per paper listed in its months (a paper
    listed twice in a period once; a paper page no day lists, by its own month), one fragment each."""
    months = paper_months(out)
    listed = listing_months(out)
    names = periods(out)
    newest = max(months.values())
    search_index = import_search_index()
    held = {name: {rel for m, rels in listed.items() if search_index.period_of(m, newest) == name
                   for rel in rels} for name in names}
    for name in names:  # a closed year leaves out what the next closed year lists again
        following = str(int(name) + 1) if len(name) == 4 else ""
        if following in held and following < newest[:4]:
            held[name] -= held[following]
    expected = {name: len(held[name]) + sum(search_index.period_of(m, newest) == name
                                            for rel, m in months.items()
                                            if not any(rel in rels for rels in listed.values()))
                for name in names}
    assert sum(expected.values()) >= len(months)
    for name in names:
        assert page_count(out / "pagefind" / name) == expected[name] > 0, name
        assert len(list((out / "pagefind" / name / "fragment").iterdir())) == expected[name], name
    # and the hidden records' filter values, when periods.json names a file of them
    extra = json.loads((out / "pagefind" / "periods.json").read_text(encoding="utf-8")).get("hidden_filters")
    assert sorted(p.name for p in (out / "pagefind").iterdir()) == sorted(
        [*names, "periods.json", *([extra] if extra else [])])


def add_day(site: Path, iso: str, papers: list[dict[str, Any]]) -> None:
    record = {**generated_days()["2024-11-26"], "date": iso, "papers": papers}
    path = site / "content" / "digests" / iso[:4] / f"{iso}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf-8")


def test_a_bundle_per_period_each_holding_its_papers(two_years: tuple[Path, Path, Path]) -> None:
    _, out, _ = two_years
    years = paper_pages(out)
    assert len(years) > 1000  # every paper of both days has its page
    # the hostile title's markers are text: no 1999, no "undated" period; the newest month is
    # 2024-11 (its quarter's first month), so 2024 is that one month's bundle
    assert periods(out) == ["2024-11", "2023"]
    for period, year in (("2023", "2023"), ("2024-11", "2024")):
        assert page_count(out / "pagefind" / period) == sum(y == year for y in years.values()) > 500
        assert len(list((out / "pagefind" / period / "fragment").iterdir())) == page_count(out / "pagefind" / period)
    assert sorted(p.name for p in (out / "pagefind").iterdir()) == [
        "2023", "2024-11", "periods.json"]
    # published files get the umask's mode as any written file (not mkstemp's 0600: a web server
    # running as another user could not read periods.json, and search would fail)
    umask = os.umask(0)
    os.umask(umask)
    for path in (out / "pagefind").rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o444 & ~umask == 0o444 & ~umask, path


def test_one_search_finds_papers_of_both_years(browser: Any, two_years: tuple[Path, Path, Path]) -> None:
    _, out, _ = two_years
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    r = Reader(browser, f"http://127.0.0.1:{server.server_address[1]}")
    try:
        titles = listed_titles_of(out)
        ids = sorted(titles)
        for pid in ([i for i in ids if i.startswith("2312.5")][7], [i for i in ids if i.startswith("2411.1")][7]):
            page = r.goto(f"/search/?q={quote(titles[pid])}")
            first = search_results(page).first.locator("a.pagefind-ui__result-link")
            assert first.get_attribute("href") == f"/papers/{pid}/", (pid, titles[pid])
        # a common word: results from both bundles, counted together
        page = r.goto("/search/?q=model")
        search_results(page)
        assert page.locator("#search").get_attribute("data-periods") == "2024-11 2023"
        filters = merged_filters(page)
        assert set(filters["year"]) == {"2023", "2024"}, filters["year"]
        assert set(filters["source"]) == {"arXiv", "bioRxiv", "medRxiv"}, filters["source"]
        # the year filter narrows to the other bundle's papers
        year = page.locator("label[for='year-2023']")
        page.locator("details.pagefind-ui__filter-block", has=year).locator("summary").click()
        year.click()
        page.wait_for_function("() => [...document.querySelectorAll('a.pagefind-ui__result-link')]"
                               ".every(a => a.getAttribute('href').startsWith('/papers/2312.'))")
        search_results(page)
        # the source filter narrows to one server's papers
        page = r.goto("/search/?q=model")
        search_results(page)
        source = page.locator("label[for='source-medRxiv']")
        page.locator("details.pagefind-ui__filter-block", has=source).locator("summary").click()
        source.click()
        page.wait_for_function("() => { const m = document.querySelector('.pagefind-ui__message'); "
                               "return m && parseInt(m.textContent) === 1; }")
        hrefs = search_results(page).locator("a.pagefind-ui__result-link").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))")
        assert hrefs == ["/papers/10.1101/2024.11.27.000002/"], hrefs
    finally:
        r.close()
        server.shutdown()
        server.server_close()


STARTUP = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json", ".pf_meta", ".pagefind")


def test_every_period_is_merged_before_the_first_input(browser: Any, two_years: tuple[Path, Path, Path]) -> None:
    """Issue 11: the search page starts Pagefind and merges every period's bundle before the reader
    types (the server sees each bundle's entry and metadata before any input); typing then fetches
    only what the words need, and one search still finds papers of every period."""
    _, out, _ = two_years
    names = periods(out)
    assert len(names) == 2
    seen: list[str] = []
    handler = type("Recording", (_QuietHandler,), {
        "log_request": lambda self, code="-", size="-": seen.append(self.path.split("?")[0])})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    r = Reader(browser, f"http://127.0.0.1:{server.server_address[1]}")
    try:
        page = r.goto("/search/")
        page.wait_for_function("() => document.getElementById('search').getAttribute('data-search-ready') === '1'",
                               timeout=15000)
        assert page.locator(".pagefind-ui__search-input").input_value() == ""
        typed = len(seen)
        for name in names:
            started = [p for p in seen if p.startswith(f"/pagefind/{name}/")]
            assert f"/pagefind/{name}/pagefind-entry.json" in started, (name, seen)
            assert any(p.endswith(".pf_meta") for p in started), (name, started)
        assert f"/pagefind/{names[0]}/pagefind.js" in seen  # the UI's own module: merged into once
        assert not any(p.startswith(f"/pagefind/{name}/pagefind.js") for name in names[1:] for p in seen)
        # typing: the exact title of a paper of each period finds that paper first
        titles = listed_titles_of(out)
        ids = sorted(titles)
        box = page.locator(".pagefind-ui__search-input")
        for pid in ([i for i in ids if i.startswith("2312.5")][3], [i for i in ids if i.startswith("2411.1")][3]):
            box.fill(titles[pid])
            page.wait_for_function(
                "href => { const a = document.querySelector('.pagefind-ui__result a.pagefind-ui__result-link'); "
                "return a && a.getAttribute('href') === href; }", arg=f"/papers/{pid}/", timeout=15000)
        # nothing of Pagefind's start-up was left for the first input: no module, worker,
        # WebAssembly, entry or metadata fetched after it, for any period
        late = [p for p in seen[typed:] if p.endswith(STARTUP)]
        assert late == [], late
        assert set(merged_filters(page)["year"]) == {"2023", "2024"}
    finally:
        r.close()
        server.shutdown()
        server.server_close()


def listed_titles_of(out: Path) -> dict[str, str]:
    """id -> title (text) of every paper page."""
    titles = {}
    for page in sorted((out / "papers").rglob("index.html")):
        doc = html.fromstring(page.read_bytes())
        title = doc.cssselect("h1.title")[0].text_content()
        titles[str(page.parent.relative_to(out / "papers"))] = " ".join(title.split())
    return titles


def test_a_new_day_reindexes_its_month_only_and_leaves_nothing_stale(
        two_years: tuple[Path, Path, Path], tmp_path: Path) -> None:
    src_site, src_out, src_cache = two_years
    site, out, cache = tmp_path / "site", tmp_path / "out", tmp_path / "cache"
    shutil.copytree(src_site, site, symlinks=True)
    shutil.copytree(src_out, out)
    shutil.copytree(src_cache, cache)
    old_bundle, old_cache = tree(out / "pagefind" / "2023"), tree(cache / "2023")
    before_month = tree(out / "pagefind" / "2024-11")
    # stale files of every kind: an earlier single index, a period with no pages left, a killed run's
    stale = [out / "pagefind" / "pagefind.js", out / "pagefind" / "fragment" / "old.pf_fragment",
             out / "pagefind" / "2019" / "pagefind-entry.json", out / "pagefind" / "2024" / "pagefind.js",
             cache / ".staging-2024-x" / "a.html", cache / ".new-2024" / "pagefind.js",
             cache / "2019" / "pagefind-entry.json", cache / ".state.json.x.tmp"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("stale")

    # a new day in 2024-11 (20 new papers): that month's bundle only
    new = generated_days()["2024-11-26"]["papers"][:20]
    add_day(site, "2024-11-29", [dict(p, id=f"2411.9{i:04d}") for i, p in enumerate(new)])
    build_site(site, out, SITEURL="")
    code, log = reindex(out, cache)
    assert code == 0, log
    assert "re-indexed 2024-11;" in log, log
    assert tree(out / "pagefind" / "2023") == old_bundle  # byte-identical, not even rewritten
    assert tree(cache / "2023") == old_cache
    assert tree(out / "pagefind" / "2024-11") != before_month
    assert not [p for p in stale if p.exists()]
    bundles_hold_their_pages(out)
    assert sorted(p.name for p in cache.iterdir()) == [
        "2023", "2024-11", "ids.json", "scan.json", "state.json"]
    for period in ("2023", "2024-11"):
        assert (cache / period / "pagefind-entry.json").read_bytes() == (
            out / "pagefind" / period / "pagefind-entry.json").read_bytes()

    # nothing changed: nothing indexed, and (past the racy window) no page read again
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed none;" in log, log

    # a new month, with a 2023 paper listed again (v2): December is a bundle of its own, November
    # joins the quarter's earlier months ("2024-10-to-11"); the paper's new listing is a record of
    # December, its 2023 record stays (2023 is not indexed again) and is hidden by periods.json
    moved = json.loads((site / f"content/digests/2023/{OLD_DAY}.json").read_text())["papers"][3]
    add_day(site, "2024-12-02", [dict(moved, version=2, announce_type="replace")])
    build_site(site, out, SITEURL="")
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed 2024-12, 2024-10-to-11;" in log, log
    assert tree(out / "pagefind" / "2023") == old_bundle
    assert periods(out) == ["2024-12", "2024-10-to-11", "2023"]
    assert paper_pages(out)[f"papers/{moved['id']}/index.html"] == "2024"
    url = f"/papers/{moved['id']}/"
    assert url in fragment_urls(out / "pagefind" / "2023") and url in fragment_urls(out / "pagefind" / "2024-12")
    assert len(json.loads((out / "pagefind" / "periods.json").read_text())["hide"]) == 1
    bundles_hold_their_pages(out)
    december = tree(out / "pagefind" / "2024-12")

    # a new year: 2024 closes into one bundle, indexed once; its month bundles go; 2023, whose
    # paper the closed 2024 lists again, is indexed once more without that record, which is then
    # hidden no longer (hidden records stay bounded)
    add_day(site, "2025-01-02", [dict(p, id=f"2501.9{i:04d}") for i, p in enumerate(new[:5])])
    build_site(site, out, SITEURL="")
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed 2025-01, 2024, 2023;" in log, log
    assert periods(out) == ["2025-01", "2024", "2023"]
    assert url not in fragment_urls(out / "pagefind" / "2023") and url in fragment_urls(out / "pagefind" / "2024")
    assert json.loads((out / "pagefind" / "periods.json").read_text())["hide"] == []
    year_2023 = tree(out / "pagefind" / "2023")
    bundles_hold_their_pages(out)
    assert sorted(p.name for p in cache.iterdir()) == [
        "2023", "2024", "2025-01", "ids.json", "scan.json", "state.json"]
    assert december  # (its pages are now in the 2024 bundle)

    # the same archive indexed one bundle a year (--periods year), then back: a clean switch
    code, log = reindex(out, cache, "--periods", "year")
    assert code == 0 and "re-indexed 2025;" in log and periods(out) == ["2025", "2024", "2023"], log
    assert tree(out / "pagefind" / "2023") == year_2023
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed 2025-01;" in log and periods(out) == ["2025-01", "2024", "2023"], log
    bundles_hold_their_pages(out)


def test_a_page_changed_behind_the_stat_is_read_again(two_years: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, src_out, src_cache = two_years
    out, cache = tmp_path / "out", tmp_path / "cache"
    shutil.copytree(src_out, out)
    shutil.copytree(src_cache, cache)
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed none;" in log, log
    # the 2023 day page rewritten in place with the same size (a listed card's title), its mtime
    # put back: the ctime (which no tool sets) still tells, so the page is read again and its
    # period re-indexed
    page = out / OLD_DAY.replace("-", "/") / "index.html"
    data, st = page.read_bytes(), page.stat()
    i = data.index(b"</h3>")
    changed = data[:i - 1] + (b"Y" if data[i - 1:i] != b"Y" else b"Z") + data[i:]
    with open(page, "r+b") as f:
        f.write(changed)
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert page.stat().st_size == st.st_size and page.stat().st_mtime_ns == st.st_mtime_ns
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed 2023;" in log, log
    # a damaged or hostile scan record: every page is read again, nothing is indexed that did not change
    for bad in ("{not json", '{"format": 1, "files": {"x.html": [1, 2]}}',
                '{"format": 1, "files": {"../../etc/passwd": [1, 2, 3, 4, "s", true, "2024-11"]}}', "[]"):
        (cache / "scan.json").write_text(bad)
        code, log = reindex(out, cache)
        assert code == 0 and "re-indexed none;" in log, (bad, log)


def test_a_damaged_cache_is_rebuilt_and_a_wrong_folder_refused(
        two_years: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, src_out, src_cache = two_years
    out, cache = tmp_path / "out", tmp_path / "cache"
    shutil.copytree(src_out, out)
    shutil.copytree(src_cache, cache)
    # a bundle file lost from the cache (a partial restore): that year only is indexed again
    next((cache / "2023" / "fragment").iterdir()).unlink()
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed 2023;" in log, log
    # the same records (Pagefind writes a filter's values in hash-map order, so not the same bytes:
    # Pagefind/pagefind#638; a year that is not indexed again keeps its bytes)
    assert {p.name for p in (cache / "2023" / "fragment").iterdir()} == {
        p.name for p in (src_cache / "2023" / "fragment").iterdir()}
    assert page_count(cache / "2023") == page_count(src_cache / "2023")
    # an unreadable state: every period again, same bundles
    (cache / "state.json").write_text("{not json")
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed 2024-11, 2023;" in log, log
    # a published copy edited by hand: replaced by the cache's
    victim = next((out / "pagefind" / "2024-11" / "fragment").iterdir())
    victim.unlink()  # a new file, not the cache's (the published files are hard links to it)
    victim.write_bytes(b"x")
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed none;" in log, log
    assert tree(out / "pagefind" / "2024-11") == tree(cache / "2024-11")
    # a folder that is no search cache is never emptied; one line says why
    other = tmp_path / "content"
    (other / "2024").mkdir(parents=True)
    (other / "2024" / "keep.json").write_text("{}")
    code, log = reindex(out, other)
    assert code == 1 and log.strip().count("\n") == 0 and "not a search cache folder" in log, log
    assert (other / "2024" / "keep.json").is_file()
    code, log = reindex(tmp_path / "missing", cache)
    assert code == 1 and "no site to index" in log, log


def test_periods_stay_few_and_a_day_touches_one_month() -> None:
    """Over four years of days: at most 3 bundles beside the closed years; within a month a new day
    changes only the newest month's bundle; each rollover folds the earlier months in once."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import search_index as si
    finally:
        sys.path.remove(str(SCRIPT.parent))
    months = [f"{y}-{m:02d}" for y in range(2021, 2025) for m in range(1, 13)]
    before: dict[str, str] = {}
    for i, newest in enumerate(months):
        now = {m: si.period_of(m, newest) for m in months[:i + 1]}
        names = set(now.values())
        closed = {m[:4] for m in months[:i + 1] if m[:4] < newest[:4]}
        assert closed <= names and len(names - closed) <= 3, (newest, sorted(names))
        assert now[newest] == newest  # the newest month is a bundle of its own
        assert si.newest_first(sorted(names))[0] == newest
        # a period keeps its months unless the newest month moved on: only rollovers re-index
        moved = {m for m in before if before[m] != now[m]}
        assert moved <= set(months[:i]), newest
        if newest.endswith("-01") and i:  # a new year: last year folds into one bundle
            assert {now[m] for m in moved} == {months[i - 1][:4]}
        before = now
    # hostile or odd dates: no month 00 or 13, no text outside an attribute
    assert si.month_of(b'<p data-pagefind-sort="date:2024-13-01">') == ""
    assert si.month_of(b'<p data-pagefind-sort="date:2024-00-01">') == ""
    assert si.month_of(b"<p>data-pagefind-sort=&quot;date:2024-05-01&quot;</p>") == ""
    assert si.month_of(b'<article data-pagefind-body data-pagefind-meta="date:2024-05-31">') == "2024-05"
    assert si.period_of("", "2024-05") == si.UNDATED
    assert si.newest_first(["undated", "2023", "2024-01-to-03", "2024-05", "2024-04"]) == [
        "2024-05", "2024-04", "2024-01-to-03", "2023", "undated"]


def fragment_urls(bundle: Path) -> list[str]:
    """The result URLs a bundle holds (its fragments: gzip, "pagefind_dcd" then JSON)."""
    import gzip

    urls = []
    for frag in (bundle / "fragment").iterdir():
        data = gzip.decompress(frag.read_bytes())
        urls.append(json.loads(data[data.index(b"{"):])["url"])
    return sorted(urls)


def write_page(site: Path, rel: str, iso: str, words: str) -> None:
    """A page as paper.html marks its record: data-pagefind-body, its date to sort by."""
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'<!doctype html><html lang="en"><body><article data-pagefind-body '
                    f'data-pagefind-sort="date:{iso}"><h1>{words}</h1><p>{words} and more words.</p>'
                    f"</article></body></html>", encoding="utf-8")


def test_paths_that_read_as_glob_syntax_index_only_themselves(tmp_path: Path) -> None:
    """Pagefind is told a period's pages by a glob of their paths; a path holding glob syntax
    ("{a,b}", "*", "[x]") must not widen it to other pages: such a period is indexed from a
    folder of links instead, and each bundle holds exactly its own pages."""
    site, cache = tmp_path / "site", tmp_path / "cache"
    write_page(site, "papers/a/index.html", "2024-10-02", "plain october")
    write_page(site, "papers/b/index.html", "2024-10-03", "plain october too")
    write_page(site, "papers/c/index.html", "2024-11-04", "plain november")
    for i, rel in enumerate(("papers/{a,b}/index.html", "papers/*/index.html", "papers/[ab]/index.html",
                             "papers/x,y/index.html", "papers/é ü/index.html")):
        write_page(site, rel, f"2024-11-{10 + i}", f"hostile path {i}")
    (site / "about.html").write_text("<html><body><p>no record</p></body></html>", encoding="utf-8")
    code, log = reindex(site, cache)
    assert code == 0, log
    assert json.loads((site / "pagefind" / "periods.json").read_text())["periods"] == ["2024-11", "2024-10"]
    assert fragment_urls(site / "pagefind" / "2024-10") == ["/papers/a/", "/papers/b/"]
    november = fragment_urls(site / "pagefind" / "2024-11")
    assert len(november) == 6 and "/papers/c/" in november and "/papers/a/" not in november, november
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_periods_indexed_side_by_side_within_the_memory_budget(tmp_path: Path) -> None:
    """A cold build indexes changed periods two at a time unless their estimated Pagefind memory
    together passes --memory-mb (one runs alone whatever its size); the bundles are the same."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import search_index as si
    finally:
        sys.path.remove(str(SCRIPT.parent))
    site = tmp_path / "site"
    for y, year in enumerate(("2021", "2022", "2023", "2024")):
        for i in range(30):
            write_page(site, f"papers/{year}.{i:03d}/index.html", f"{year}-0{1 + i % 9}-1{i % 9}",
                       f"paper {i} of {year} word{y}x{i}")
    together = si.build(site, tmp_path / "c2", jobs=2, memory_mb=10_000, max_records=0)
    alone = si.build(site, tmp_path / "c1", jobs=2, memory_mb=1, max_records=0)
    periods = ["2024-09", "2024-07-to-08", "2024-01-to-06", "2023", "2022", "2021"]
    assert together["periods"] == alone["periods"] == together["indexed"] == alone["indexed"] == periods
    peaks = alone["peaks"]
    assert isinstance(peaks, dict) and sorted(peaks) == sorted(periods) and min(peaks.values()) > 0
    # a budget no two fit in: one at a time, so the most at once is one process's own peak
    assert alone["peak_mb"] == max(peaks.values())
    # a budget any two fit in: two at once (the first to end, and the estimate of the other)
    assert float(together["peak_mb"]) > max(peaks.values())  # type: ignore[arg-type]
    for period in periods:
        assert fragment_urls(tmp_path / "c2" / period) == fragment_urls(tmp_path / "c1" / period), period
    assert sum(si.bundle_pages(tmp_path / "c2" / p) for p in periods) == 120


def test_a_failing_pagefind_is_one_line_and_keeps_what_was_done(two_years: tuple[Path, Path, Path],
                                                                 tmp_path: Path) -> None:
    """Pagefind exiting non-zero (here: PAGEFIND_BINARY_PATH naming /bin/false) is one line
    naming the period; bundles indexed before it stay valid for the next run."""
    _, src_out, src_cache = two_years
    out, cache = tmp_path / "out", tmp_path / "cache"
    shutil.copytree(src_out, out)
    shutil.copytree(src_cache, cache)
    (cache / "state.json").write_text("{not json")  # every period to index again
    proc = subprocess.run([sys.executable, str(SCRIPT), "--site", str(out), "--cache", str(cache)],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PAGEFIND_BINARY_PATH=shutil.which("false") or "/bin/false"))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 1 and log.strip().count("\n") == 0, log
    assert "pagefind failed on the" in log and "(exit 1)" in log, log
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]
    code, log = reindex(out, cache)  # Pagefind back: the periods are indexed, nothing stale
    assert code == 0 and "re-indexed 2024-11, 2023;" in log, log
    bundles_hold_their_pages(out)


def add_to_abstract(page: Path, text: bytes) -> None:
    """Append text to a built paper page's abstract, in place."""
    data = page.read_bytes()
    i = data.index(b"</p></section>", data.index(b'class="abstract"'))
    page.write_bytes(data[:i] + text + data[i:])


def import_search_index() -> Any:
    """scripts/search_index.py as a module (its pure functions)."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import search_index
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return search_index


def _stamps(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_listing_line_on_an_old_page_does_not_reindex_its_period(
        two_years: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """Issue 11: a new day writes version links back into earlier pages. By listing records (the
    default) a listed paper page's own text is no record: an abstract changed on it re-indexes
    nothing. By paper page records (--records pages, the reference the listing records are
    checked against): a 2023 paper page gaining a listing and a near-identical-title line
    (data-pagefind-ignore'd: not search content) leaves its period's bundle alone, bytes and
    mtimes; a title, abstract or filter change re-indexes it."""
    _, src_out, src_cache = two_years
    out, cache = tmp_path / "out", tmp_path / "cache"
    shutil.copytree(src_out, out)
    shutil.copytree(src_cache, cache)
    old = sorted(rel for rel, year in paper_pages(out).items() if year == "2023")
    listing_bundle = tree(out / "pagefind" / "2023")
    add_to_abstract(out / old[5], b" A sentence only the paper page has.")
    code, log = reindex(out, cache)
    assert code == 0 and "re-indexed none;" in log, log
    assert tree(out / "pagefind" / "2023") == listing_bundle
    cache = tmp_path / "cache-pages"

    def reindex_pages(out: Path, cache: Path) -> tuple[int, str]:
        return reindex(out, cache, "--records", "pages")

    code, log = reindex_pages(out, cache)
    assert code == 0 and "re-indexed 2024-11, 2023;" in log, log
    before = _stamps(out / "pagefind" / "2023"), _stamps(cache / "2023")
    for rel in old[:2]:
        page = out / rel
        data = page.read_bytes()
        i = data.index(b"</ul>", data.index(b'class="listings"'))
        page.write_bytes(data[:i] + b'<li><a href="/2024/11/28/#x">28 November 2024</a>: v2, replace</li>'
                         + data[i:].replace(b"</section>", b'<ul><li><a href="/papers/y/">A <b>near</b> twin'
                                            b"</a></li></ul></section>", 1))
    code, log = reindex_pages(out, cache)
    assert code == 0 and "re-indexed none;" in log, log
    assert (_stamps(out / "pagefind" / "2023"), _stamps(cache / "2023")) == before
    # the abstract changed: re-indexed
    add_to_abstract(out / old[2], b" An added sentence.")
    code, log = reindex_pages(out, cache)
    assert code == 0 and "re-indexed 2023;" in log, log
    # a filter inside an ignored element (Pagefind still takes it): re-indexed
    page = out / old[3]
    data = page.read_bytes()
    assert b'data-pagefind-filter="category:' in data
    page.write_bytes(data.replace(b'data-pagefind-filter="category:', b'data-pagefind-filter="category:x', 1))
    code, log = reindex_pages(out, cache)
    assert code == 0 and "re-indexed 2023;" in log, log


def test_the_indexed_digest_of_hostile_markup() -> None:
    """What Pagefind indexes is hashed and nothing else, on markup no template would write."""
    digest = import_search_index().indexed_digest

    def page(body: str, ignored: str = "", head: str = "") -> bytes:
        return (f'<!doctype html><html lang="en"><head><title>T</title>{head}</head><body><nav>menu</nav>'
                f'<article data-pagefind-body data-pagefind-filter="year:2023"><h1 data-pagefind-meta="title">'
                f'{body}</h1><section data-pagefind-ignore>{ignored}</section><p>tail</p></article>'
                f"</body></html>").encode()

    base = digest(page("Title"))
    # ignored parts: any markup, unclosed tags, comments, scripts, deep nesting
    for ignored in ("<li>v2", "<!-- x --><script>alert(1)</script>", "<div>" * 1500 + "x" + "</div>" * 1500,
                    "</section><p>",
                    "<ul><li>v3, <b>replace</ul>", "\u202e\x00\ufeff"):
        if "</section>" in ignored:  # closes the ignored element early: the rest is indexed text
            assert digest(page("Title", ignored)) != base
        else:
            assert digest(page("Title", ignored)) == base, ignored[:40]
    # outside the body, only the <title> and data-pagefind-* attributes count
    assert digest(page("Title").replace(b"<nav>menu</nav>", b"<nav>other</nav>")) == base
    assert digest(page("Title").replace(b"<title>T</title>", b"<title>U</title>")) != base
    assert digest(page("Title", head='<meta data-pagefind-meta="image:/x.png">')) != base
    assert digest(page("Title", ignored='<span data-pagefind-filter="topic:x">x</span>')) != base
    # indexed parts: text, entities, markup that splits words
    deep = "<div>" * 3000 + "{}" + "</div>" * 3000  # deeper than libxml2 parses: hashed by its bytes
    assert digest(page(deep.format("A"))) != digest(page(deep.format("B")))
    for body in ("Title 2", "Tit<i>le</i>", "&lt;script&gt;", "<div>" * 1500 + "Title", "Ti\x00tle", "Title\u202e"):
        assert digest(page(body)) != base, body[:40]
    assert digest(page("Title").replace(b'lang="en"', b'lang="de"')) != base
    # not HTML lxml parses, or not UTF-8: hashed by the bytes, never an error
    for data in (b"", b"   ", b"\xff\xfe<html>", b"\x00" * 100, b"<html><body>" + b"<b>" * 100000):
        assert isinstance(digest(data), str)
    assert digest(b"\xff<p>a</p>") != digest(b"\xfe<p>a</p>")


def test_parts_of_a_period_stay_within_max_records_whatever_the_density() -> None:
    """split() over random densities (0 to 400 records a day, a closed year and a newest month):
    every record lands in exactly one part; a part holds at most max_records unless it is one
    day; parts never overlap in time and periods.json's order is newest first; a new day changes
    no part of the closed year. Pure (no Pagefind)."""
    si = import_search_index()
    log = logging.getLogger("search_index")
    level = log.level
    log.setLevel(logging.ERROR)  # (each day over the limit is logged)
    try:
        rng = random.Random(7)
        for trial in range(16):
            limit = rng.choice([1, 17, 300, 3541])
            pages, n = [], 0
            when = date(2023, 1, 2)
            while when <= date(2024, 2, 9):
                if when.weekday() < 5:
                    per_day = rng.choice([0, 3, 17, 50, 400]) if trial % 2 else rng.randint(0, 60)
                    iso = when.isoformat()
                    pages += [si.Page(f"papers/p{n + i}/index.html", "h", iso[:7], f"{iso}.html", iso)
                              for i in range(per_day)]
                    n += per_day
                when += timedelta(days=1)
            groups = si.assign(pages, "tiered", limit)
            held = [p.rel for g in groups.values() for p in g]
            assert sorted(held) == sorted(p.rel for p in pages) and len(set(held)) == len(held)
            spans = []
            for name, group in groups.items():
                dates = sorted(p.date for p in group)
                assert len(group) <= limit or dates[0] == dates[-1], (name, len(group), limit)
                assert si.PERIOD.fullmatch(name) and all(p.date.startswith(name[:4]) for p in group), name
                spans.append((dates[0], dates[-1], name))
            assert si.newest_first(list(groups)) == [name for _, _, name in sorted(spans, reverse=True)]
            spans.sort()
            assert all(a[1] < b[0] for a, b in itertools.pairwise(spans)), spans
            # a new day (of the newest month): the closed year's parts stay as they were
            extra = [si.Page(f"papers/new{i}/index.html", "h", "2024-02", "2024-02-12.html", "2024-02-12")
                     for i in range(rng.randint(1, 2000))]
            again = si.assign(pages + extra, "tiered", limit)
            closed = {k: [p.rel for p in v] for k, v in groups.items() if k.startswith("2023")}
            assert closed == {k: [p.rel for p in v] for k, v in again.items() if k.startswith("2023")}
    finally:
        log.setLevel(level)
