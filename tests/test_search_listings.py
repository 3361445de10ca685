"""Search records per listing (scripts/search_index.py's default, --records listings; issue 11).

A paper page's record used to carry its newest listing, so a new version of an old paper moved
the record out of its closed year and that whole bundle was indexed again. With listing records
each period indexes the cards of its own day pages (rebuilt as the paper page's record markup,
under the paper page's URL), so a later listing only adds a record to the newest period, and
periods.json names the superseded record, which the search page drops from every result list.

On the two-year archive of test_search.py (real Pelican build, 1,026 real-size paper pages plus
two preprints): a 2023 paper listed again in 2024 with a new title re-indexes only the newest
month, leaves the 2023 bundle byte-identical, equals a cold index (same records, ids, index
chunks, filter contents and hidden ids), and in chromium the paper is found once, by its new
title only; the old title finds nothing. Every record of the cold index equals the paper page's
own record (same fragment bytes) except where a day's card shows the paper differently.

A day page is read by its article.day's data-date (article.html writes it; the URL's path is
never read for a date), checked on the real 513-paper day. A period over --max-records (real
listed cards at a density the limit splits) is indexed as parts of whole months or days of at
most that many records, a new day re-indexes only the parts it changes, and the result equals a
cold index.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
import shutil
import threading
from datetime import date, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import test_xss
from conftest import build_site
from test_browser import Reader, _QuietHandler, search_results
from test_search import OLD_DAY, add_day, import_search_index, periods, reindex, tree, two_year_site
from test_xss import PAYLOADS, cbor_strings

pytestmark = pytest.mark.browser
hostile_site = test_xss.hostile_site  # test_xss.py's module fixture, found here by name

OLD_TITLE = "Quokkafied sparse attention kernels"
NEW_TITLE = "Wombatised sparse attention kernels"


def records(bundle: Path) -> dict[str, bytes]:
    """URL -> the record (decoded fragment) of every record in a bundle."""
    out = {}
    for frag in (bundle / "fragment").iterdir():
        data = gzip.decompress(frag.read_bytes()).removeprefix(b"pagefind_dcd")
        out[json.loads(data)["url"]] = data
    return out


def same_index(a: Path, b: Path) -> None:
    """Two bundles hold the same files and bytes; filter files (whose values Pagefind 1.5 writes
    in hash-map order, Pagefind/pagefind#638) the same contents."""
    ta, tb = tree(a), tree(b)
    plain = {k for k in ta if not k.startswith("filter/") and not k.endswith((".pf_meta", "pagefind-entry.json"))}
    assert plain == {k for k in tb if not k.startswith("filter/")
                     and not k.endswith((".pf_meta", "pagefind-entry.json"))}
    assert all(ta[k] == tb[k] for k in plain)
    assert sorted(sorted(gzip.decompress(v)) for k, v in ta.items() if k.startswith("filter/")) == sorted(
        sorted(gzip.decompress(v)) for k, v in tb.items() if k.startswith("filter/"))


def hidden_of(out: Path) -> tuple[list[str], dict[str, list[str]]]:
    data = json.loads((out / "pagefind" / "periods.json").read_text(encoding="utf-8"))
    return data["hide"], data["check"]


@pytest.fixture(scope="module")
def relisted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The two-year site with one 2023 paper renamed, indexed by listing; then that paper listed
    again on 2024-11-29 under a new title, built and indexed again (the cache kept)."""
    root = tmp_path_factory.mktemp("listings")
    site, out, _ = two_year_site(root)
    day_file = site / "content" / "digests" / "2023" / f"{OLD_DAY}.json"
    record = json.loads(day_file.read_text(encoding="utf-8"))
    moved = record["papers"][3]
    moved["title"] = OLD_TITLE
    day_file.write_text(json.dumps(record), encoding="utf-8")
    build_site(site, out, SITEURL="")
    cache = root / "cache-listings"
    code, log = reindex(out, cache)
    assert code == 0, log
    before = {name: tree(out / "pagefind" / name) for name in periods(out)}
    first_hidden = hidden_of(out)
    revised = "We revisit the kernels with a new schedule and report faster decoding."
    add_day(site, "2024-11-29", [dict(moved, version=2, announce_type="replace", title=NEW_TITLE, abstract=revised)])
    build_site(site, out, SITEURL="")
    code, log = reindex(out, cache)
    assert code == 0, log
    return {"site": site, "out": out, "cache": cache, "root": root, "before": before, "log": log,
            "first_hidden": first_hidden, "url": f"/papers/{moved['id']}/"}


def test_a_later_listing_leaves_the_earlier_bundle_alone(relisted: dict[str, Any]) -> None:
    out, url = relisted["out"], relisted["url"]
    assert relisted["first_hidden"] == ([], {})  # every paper listed in one period only
    assert "re-indexed 2024-11;" in relisted["log"], relisted["log"]
    assert periods(out) == ["2024-11", "2023"]
    assert tree(out / "pagefind" / "2023") == relisted["before"]["2023"]  # not even rewritten
    old, new = records(out / "pagefind" / "2023"), records(out / "pagefind" / "2024-11")
    assert OLD_TITLE in json.loads(old[url])["meta"]["title"]
    assert json.loads(new[url])["meta"]["title"] == NEW_TITLE
    assert json.loads(new[url])["meta"]["date"] == "2024-11-29"
    # the 2023 record is the one hidden: its page id, and no other
    ids = {json.loads(gzip.decompress(f.read_bytes()).removeprefix(b"pagefind_dcd"))["url"]:
           f.name.removesuffix(".pf_fragment") for f in (out / "pagefind" / "2023" / "fragment").iterdir()}
    hide, check = hidden_of(out)
    assert (hide, check) in (([ids[url]], {}), ([], {ids[url]: [url]}))
    # nothing changed: nothing indexed
    code, log = reindex(out, relisted["cache"])
    assert code == 0 and "re-indexed none;" in log, log
    assert hidden_of(out) == (hide, check)


def test_incremental_equals_a_cold_index(relisted: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(relisted["out"], out)
    kept = {name: out / "pagefind" / name for name in periods(out)}
    saved = tmp_path / "incremental"
    shutil.copytree(out / "pagefind", saved)
    code, log = reindex(out, tmp_path / "cold-cache")
    assert code == 0 and "re-indexed 2024-11, 2023;" in log, log
    assert periods(out) == ["2024-11", "2023"]
    for name in kept:
        same_index(saved / name, out / "pagefind" / name)
    incremental = json.loads((saved / "periods.json").read_text(encoding="utf-8"))
    assert hidden_of(out) == (incremental["hide"], incremental["check"])
    # the hidden records' filter values: the same file, by name and bytes
    cold = json.loads((out / "pagefind" / "periods.json").read_text(encoding="utf-8"))
    assert cold == incremental
    assert sorted(p.name for p in (out / "pagefind").iterdir()) == sorted(p.name for p in saved.iterdir())
    if not cold["hide"]:
        assert "hidden_filters" not in cold
        return
    name = cold["hidden_filters"]
    assert (out / "pagefind" / name).read_bytes() == (saved / name).read_bytes()
    # ... which holds each hidden record's filter values as its own fragment has them
    table = json.loads((out / "pagefind" / name).read_text(encoding="utf-8"))
    frags = {f.name.removesuffix(".pf_fragment"): json.loads(gzip.decompress(f.read_bytes()).removeprefix(
        b"pagefind_dcd"))["filters"] for f in (out / "pagefind" / "2023" / "fragment").iterdir()}
    assert sorted(table["ids"]) == sorted(cold["hide"])
    for pid, at in table["ids"].items():
        assert sorted(tuple(table["values"][i]) for i in at) == sorted(
            (k, v) for k, vs in frags[pid].items() for v in vs), pid
    # a damaged cache of them is read again from the bundles: the same file
    (tmp_path / "cold-cache" / "hidden.json").write_text("{not json", encoding="utf-8")
    (out / "pagefind" / name).unlink()
    code, log = reindex(out, tmp_path / "cold-cache")
    assert code == 0 and "re-indexed none;" in log, log
    assert (out / "pagefind" / name).read_bytes() == (saved / name).read_bytes()


def test_listing_records_equal_the_paper_pages_records(relisted: dict[str, Any], tmp_path: Path) -> None:
    """Indexed by listing or by paper page, a paper listed once has the same record, byte for byte."""
    out = tmp_path / "out"
    shutil.copytree(relisted["out"], out)
    code, log = reindex(out, tmp_path / "listings")
    assert code == 0, log
    by_listing = {n: records(out / "pagefind" / n) for n in periods(out)}
    code, log = reindex(out, tmp_path / "pages", "--records", "pages")
    assert code == 0, log
    by_page = {n: records(out / "pagefind" / n) for n in periods(out)}
    assert "hide" not in json.loads((out / "pagefind" / "periods.json").read_text())
    url = relisted["url"]
    assert url in by_listing["2023"] and url not in by_page["2023"]  # kept as listed in 2023
    pages = {u: r for n in by_page.values() for u, r in n.items()}
    latest = {u: r for n in ("2023", "2024-11") for u, r in by_listing[n].items()}  # newest wins
    assert set(latest) == set(pages)
    differ = sorted(u for u in pages if latest[u] != pages[u])
    assert len(differ) <= len(pages) // 100, differ[:10]  # a card may show a summary differently
    hostile = "/papers/2312.99999/"  # markup-like text in its title: the same escaped text either way
    assert latest[hostile] == pages[hostile]


def test_the_search_page_shows_a_relisted_paper_once_by_its_new_text(browser: Any,
                                                                      relisted: dict[str, Any]) -> None:
    out, url = relisted["out"], relisted["url"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    r = Reader(browser, f"http://127.0.0.1:{server.server_address[1]}")
    try:
        page = r.goto(f"/search/?q={quote(NEW_TITLE)}")
        hrefs = search_results(page).locator("a.pagefind-ui__result-link").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))")
        assert hrefs.count(url) == 1 and hrefs[0] == url, hrefs
        assert NEW_TITLE in page.locator("a.pagefind-ui__result-link").first.inner_text()
        # words in both versions' records ("sparse attention kernels"): still once
        page = r.goto(f"/search/?q={quote('sparse attention kernels')}")
        hrefs = search_results(page).locator("a.pagefind-ui__result-link").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))")
        assert hrefs.count(url) == 1, hrefs
        # the old title's own word: the superseded record is dropped (Pagefind may still offer
        # other papers with similar words, never this one, nor its old title)
        page = r.goto("/search/?q=Quokkafied")
        page.wait_for_function("() => { const m = document.querySelector('.pagefind-ui__message'); "
                               "return m && /(results? for|No results)/.test(m.textContent); }", timeout=15000)
        if page.locator(".pagefind-ui__result").count():
            search_results(page)
        hrefs = page.locator("a.pagefind-ui__result-link").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert url not in hrefs, hrefs
        assert OLD_TITLE not in page.locator("#search").inner_text()
        assert not r.errors, r.errors
    finally:
        r.close()
        server.shutdown()
        server.server_close()


def test_hostile_text_stays_text_in_listing_records(hostile_site: dict[str, Any], tmp_path: Path) -> None:
    """The hostile site of test_xss.py (payloads in titles, abstracts, authors, comments, model
    replies and topic names) indexed by listing: the payloads are in the records as text, filter
    values hold no markup, and each record is the paper page's own record."""
    out = tmp_path / "out"
    shutil.copytree(hostile_site["out"], out)
    code, log = reindex(out, tmp_path / "listings")
    assert code == 0, log
    by_listing = {u: r for n in reversed(periods(out)) for u, r in records(out / "pagefind" / n).items()}
    assert len(by_listing) == len(list((out / "papers").rglob("index.html"))) > 20
    shown = {p for p in PAYLOADS if p.startswith("<") and any(p in json.loads(r)["content"]
                                                               for r in by_listing.values())}
    assert len(shown) >= 5, shown
    for path in out.glob("pagefind/*/filter/*.pf_filter"):
        data = gzip.decompress(path.read_bytes())
        values = cbor_strings(data[data.index(b"pagefind_dcd") + len(b"pagefind_dcd"):])
        assert values and not [v for v in values if "<" in v or ">" in v], path
    code, log = reindex(out, tmp_path / "pages", "--records", "pages")
    assert code == 0, log
    by_page = {u: r for n in periods(out) for u, r in records(out / "pagefind" / n).items()}
    assert set(by_page) == set(by_listing)
    differ = sorted(u for u in by_page if by_page[u] != by_listing[u])
    assert len(differ) <= max(1, len(by_page) // 100), differ[:10]


def test_a_day_page_is_read_by_its_data_date(relisted: dict[str, Any]) -> None:
    """The real 513-paper day page: its date is its article.day's data-date (any URL pattern
    works); without a valid one it lists nothing (no fallback to the URL's path), and a page whose
    data-url is not its own (the front page) lists nothing."""
    si = import_search_index()
    data = (relisted["out"] / "2024" / "11" / "28" / "index.html").read_bytes()
    assert b'<article class="day" data-url="/2024/11/28/" data-date="2024-11-28">' in data
    iso, found = si.listing_records(data, "2024/11/28/index.html")
    cards = len(re.findall(rb'<a class="paper-page" href="/papers/', data))
    assert iso == "2024-11-28" and len(found) == cards > 500
    # another URL pattern: the same records, the date still the attribute's
    moved = data.replace(b'data-url="/2024/11/28/"', b'data-url="/digests/2024-11-28.html"', 1)
    assert si.listing_records(moved, "digests/2024-11-28.html") == (iso, found)
    # the attribute is the contract: another date is taken as it is, a missing or invalid one lists nothing
    assert si.listing_records(data.replace(b'data-date="2024-11-28"', b'data-date="2023-01-05"', 1),
                              "2024/11/28/index.html")[0] == "2023-01-05"
    for bad in (b"", b' data-date=""', b' data-date="2024-02-30"', b' data-date="2024-13-01"',
                b' data-date="2024-11-28x"', b' data-date=" 2024-11-28"', b' data-date="&lt;script&gt;"',
                b' data-date="\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa4-11-28"'):
        page = data.replace(b' data-date="2024-11-28"', bad, 1)
        assert si.listing_records(page, "2024/11/28/index.html") == ("", {}), bad
    assert si.listing_records(data, "index.html") == ("", {})
    assert si.listing_records(data, "2024/11/29/index.html") == ("", {})
    front = (relisted["out"] / "index.html").read_bytes()
    assert si.listing_records(front, "index.html") == ("", {})


CARD_HREF = re.compile(rb'href="/papers/[^"/]+/"')


def dense_site(site: Path, cards: list[bytes], days: list[date], per_day: int, start: int = 0) -> None:
    """Day pages of `per_day` real listed cards each (as article.html marks them), each card given
    a paper page of its own (a stub: what the listing records stand for)."""
    n = start
    for day in days:
        iso = day.isoformat()
        body = []
        for _ in range(per_day):
            pid = f"d{n:05d}"
            body.append(CARD_HREF.sub(f'href="/papers/{pid}/"'.encode(), cards[n % len(cards)]))
            (site / "papers" / pid).mkdir(parents=True)
            (site / "papers" / pid / "index.html").write_text(
                f'<!DOCTYPE html><html lang="en"><body><article data-pagefind-body '
                f'data-pagefind-sort="date:{iso}"><h1>{pid}</h1></article></body></html>', encoding="utf-8")
            n += 1
        folder = site / iso[:4] / iso[5:7] / iso[8:]
        folder.mkdir(parents=True)
        (folder / "index.html").write_bytes(
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{iso}</title></head><body>'
            f'<article class="day" data-url="/{iso[:4]}/{iso[5:7]}/{iso[8:]}/" data-date="{iso}">'.encode()
            + b"\n".join(body) + b"</article></body></html>")


def test_a_period_over_max_records_is_indexed_in_parts(relisted: dict[str, Any], tmp_path: Path) -> None:
    """Real listed cards (the real day's), 10 a day over 46 weekdays of 2024, --max-records 120:
    every bundle holds at most 120 records, cut at month and then day boundaries, newest first
    in periods.json; together they hold every listing once. A new day re-indexes only the parts
    of its month, the others stay byte-identical; the result equals a cold index. Without a
    limit the same records are two bundles."""
    from lxml import html as lhtml

    real = lhtml.fromstring((relisted["out"] / "2024" / "11" / "28" / "index.html").read_bytes())
    cards = [lhtml.tostring(c) for c in real.cssselect("article.paper") if c.cssselect("a.paper-page")]
    assert len(cards) > 500
    weekdays = [d for d in (date(2024, 1, 1) + timedelta(days=i) for i in range(80)) if d.weekday() < 5]
    site = tmp_path / "site"
    dense_site(site, cards, weekdays[:46], 10)
    cache = tmp_path / "cache"
    code, log = reindex(site, cache, "--max-records", "120")
    assert code == 0, log
    names = periods(site)
    # January (230 records) and February (210) in two parts each; March's 2 days (20) whole
    assert names == ["2024-03", "2024-02-15-to-29", "2024-02-01-to-14", "2024-01-16-to-31",
                     "2024-01-01-to-15"], names
    held = {n: records(site / "pagefind" / n) for n in names}
    assert all(0 < len(r) <= 120 for r in held.values()), {n: len(r) for n, r in held.items()}
    assert sum(map(len, held.values())) == len({u for r in held.values() for u in r}) == 460
    for name, recs in held.items():  # each record in its own part's days
        first, last = (name[8:10], name[-2:]) if len(name) > 7 else ("01", "31")
        assert all(json.loads(r)["meta"]["date"][:7] == name[:7] for r in recs.values()), name
        assert all(first <= json.loads(r)["meta"]["date"][8:] <= last for r in recs.values()), name
    before = {n: tree(site / "pagefind" / n) for n in names}
    # a new day of March: only March's part(s) again
    dense_site(site, cards, weekdays[46:47], 10, start=460)
    code, log = reindex(site, cache, "--max-records", "120")
    assert code == 0, log
    again = re.search(r"re-indexed ([^;]*);", log)
    assert again and set(again.group(1).split(", ")) <= {n for n in periods(site) if n.startswith("2024-03")}, log
    for name in names:
        if not name.startswith("2024-03"):
            assert tree(site / "pagefind" / name) == before[name], name
    incremental = {n: tree(site / "pagefind" / n) for n in periods(site)}
    saved = tmp_path / "incremental"
    shutil.copytree(site / "pagefind", saved)
    code, log = reindex(site, tmp_path / "cold", "--max-records", "120")
    assert code == 0, log
    assert sorted(incremental) == sorted(periods(site))
    for name in incremental:
        same_index(saved / name, site / "pagefind" / name)
    # no limit: the newest year's earlier months and the newest month, 470 records in all
    code, log = reindex(site, tmp_path / "whole", "--max-records", "0")
    assert code == 0 and periods(site) == ["2024-03", "2024-01-to-02"], log
    assert sum(len(records(site / "pagefind" / n)) for n in periods(site)) == 470


# (a slug is the last part of the topic link's path: no "/")
HOSTILE_SLUGS = ('"><img src=x onerror=alert(1)>', "<script>alert(2)", "a\u2028b\\", "ok")


def test_hidden_filter_values_are_data(tmp_path: Path) -> None:
    """The hidden records' filter values (hidden-filters.<hash>.json) are JSON data whatever their
    text: a paper listed in 2023 and again in 2024 under topics whose names are markup keeps them
    exactly, as its 2023 fragment has them, and the file's name follows its bytes."""
    from html import escape

    site = tmp_path / "site"
    tags = "".join(f'<a class="tag" href="/topics/{escape(s)}/">{escape(s)}</a>' for s in HOSTILE_SLUGS)
    for iso, words in (("2023-12-28", "first listing"), ("2024-11-28", "listed again")):
        url = f"/{iso[:4]}/{iso[5:7]}/{iso[8:]}/"
        cards = "".join(
            f'<article class="paper" data-source="arxiv"><h3>Paper {n} {words}</h3>'
            f'<p class="authors">A. Author</p><p class="meta">{tags if n == 1 else ""}'
            f'<span class="categories">cs.LG cs.AI</span></p>'
            f'<a class="paper-page" href="/papers/p{n}/">page</a>'
            f'<details class="abstract"><p>Sparse models, {words}.</p></details></article>'
            for n in ((1, 2) if iso < "2024" else (1, 3)))
        page = site / iso[:4] / iso[5:7] / iso[8:] / "index.html"
        page.parent.mkdir(parents=True)
        page.write_text(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{iso}</title></head>'
                        f'<body><article class="day" data-url="{url}" data-date="{iso}">{cards}</article>'
                        "</body></html>", encoding="utf-8")
    for n in (1, 2, 3):
        paper = site / "papers" / f"p{n}" / "index.html"
        paper.parent.mkdir(parents=True)
        paper.write_text('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>p</title></head><body>'
                         f'<article data-pagefind-body data-pagefind-sort="date:2023-12-28">p{n}</article>'
                         "</body></html>", encoding="utf-8")
    code, log = reindex(site, tmp_path / "cache")
    assert code == 0, log
    data = json.loads((site / "pagefind" / "periods.json").read_text(encoding="utf-8"))
    assert periods(site) == ["2024-11", "2023"] and len(data["hide"]) == 1, data
    name = data["hidden_filters"]
    body = (site / "pagefind" / name).read_bytes()
    assert name == f"hidden-filters.{hashlib.sha256(body).hexdigest()[:16]}.json"
    table = json.loads(body)
    values = {tuple(table["values"][i]) for i in table["ids"][data["hide"][0]]}
    frag = next(f for f in (site / "pagefind" / "2023" / "fragment").iterdir()
                if f.name == data["hide"][0] + ".pf_fragment")
    record = json.loads(gzip.decompress(frag.read_bytes()).removeprefix(b"pagefind_dcd"))
    assert record["url"] == "/papers/p1/"
    assert values == {(k, v) for k, vs in record["filters"].items() for v in vs}
    assert {v for k, v in values if k == "topic"} == set(HOSTILE_SLUGS)  # exactly, as text
