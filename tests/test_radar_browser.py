"""The radar in a real browser (Debian chromium via Playwright), the site served on 127.0.0.1 under a
sub-path, as on GitHub Pages.

A reader uploads a real public BibTeX library (tests/data/radar, provenance in SOURCES.md) and gets
the real day's papers ranked with reasons (the site holds the real day twice, on 2024-11-27 and
2024-11-28, as a replaced paper is listed on two days: each paper is shown once); keeps only the
papers with code; exports the profile and imports it back; nothing leaves the page (every request is
routed: any that is not to the local server fails the test, and none may be a POST; the radar
fetches only its own static files: the days' ranking index, their ids only when the profile likes
papers, their author keys only when it follows authors, and the display files of the results it
shows), and localStorage is the only storage used. A hostile library (markup in titles and names,
malformed entries, a huge field, a file over the limit) never runs script.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, build_site
from sitedata import make_site
from test_browser import Reader, _QuietHandler

pytestmark = pytest.mark.browser

DATA = ROOT / "tests" / "data" / "radar"
BIB = DATA / "kvcache_thesis_references.bib"
LABELS = {pid: g[0] for pid, g in json.loads((DATA / "labels-2024-11-28.json").read_text())["grades"].items()}
SUB = "/arxiv-digest"
STORE_KEY = "arxiv-digest-radar"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shipped day built with an absolute SITEURL under a sub-path, served from 127.0.0.1."""
    root = tmp_path_factory.mktemp("radar-www")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    twice = (DATA.parents[2] / "content" / "digests" / "2024" / "2024-11-28.json").read_text(encoding="utf-8")
    site = make_site(tmp_path_factory.mktemp("radar-site"),
                     days={"2024-11-27": json.loads(twice.replace('"date": "2024-11-28"', '"date": "2024-11-27"', 1))})
    build_site(site, root / SUB.strip("/"), SITEURL=url + SUB, FEED_DOMAIN=url + SUB)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    server.server_close()


class RadarReader(Reader):
    """A reader that also records every request's method and URL."""

    def __init__(self, browser: Any, base_url: str, **options: Any) -> None:
        super().__init__(browser, base_url, accept_downloads=True, **options)
        self.requests: list[tuple[str, str]] = []
        self.page.on("request", lambda r: self.requests.append((r.method, r.url)))

    def close(self) -> None:
        assert [r for r in self.requests if r[0] != "GET"] == [], "only GET requests"
        super().close()

    def storage(self) -> dict[str, Any]:
        """Every kind of storage the page could use."""
        return dict(self.page.evaluate("""async () => ({
            local: Object.keys(localStorage).sort(),
            session: sessionStorage.length,
            cookie: document.cookie,
            idb: indexedDB.databases ? (await indexedDB.databases()).length : 0,
            caches: window.caches ? (await caches.keys()).length : 0,
        })"""))

    def results(self) -> list[str]:
        """The ids ranked, once the ranking asked last is shown (the page fetches what it shows)."""
        self.page.wait_for_selector('.radar-results[aria-busy="false"]', state="attached")
        return list(self.page.locator(".radar-result").evaluate_all("els => els.map(e => e.dataset.id)"))


@pytest.fixture
def reader(browser: Any, base_url: str) -> Iterator[RadarReader]:
    r = RadarReader(browser, base_url)
    yield r
    r.close()


def upload_library(reader: RadarReader, path: Path) -> list[str]:
    page = reader.goto(f"{SUB}/radar/")
    page.set_input_files("#radar-file", str(path))
    page.wait_for_selector(".radar-result")
    return reader.results()


def test_library_upload_ranks_the_day_with_reasons(reader: RadarReader) -> None:
    ids = upload_library(reader, BIB)
    page = reader.page
    assert page.locator(".radar-library").text_content() == f"79 papers from {BIB.name}"
    top10 = ids[:10]
    assert sum(1 for i in top10 if LABELS.get(i, 0) >= 1) >= 7, top10
    # 4 of the day's 5 grade-2 papers in the top 5 (bench_radar.py: NDCG@10 0.958 with the library)
    assert sum(LABELS.get(i, 0) == 2 for i in top10[:5]) >= 4, top10[:5]
    # the reasons, as text
    first = page.locator(".radar-result").first
    assert first.locator(".reason-liked").text_content() == "a paper you like"  # 2411.17691 is in the library
    kv = page.locator('.radar-result[data-id="2411.18077"]')
    library = kv.locator(".reason-library").text_content() or ""
    assert library.startswith("close to ") and " papers in your library: " in library
    assert "KV Cache" in library
    assert (kv.locator(".reason-matches").text_content() or "").startswith("matches: ")
    assert "kv cache" in (kv.locator(".reason-matches").text_content() or "")
    # a listed paper links to its day page (under the sub-path), any other to arXiv
    href = kv.locator("a.radar-title").get_attribute("href") or ""
    assert href in ("../2024/11/28/#2411.18077", "https://arxiv.org/abs/2411.18077v1")
    # follow authors ("Last, First" or "First Last"): their papers rise, and the reason names them
    page.fill("#radar-authors", "Schuetz, Martin J. A.\nPiyush Rai")
    page.click(".radar-profile button[type=submit]")
    ids = reader.results()
    for pid, name in (("2411.17796", "Martin J. A. Schuetz"), ("2411.18385", "Piyush Rai")):
        assert pid in ids[:12], (pid, ids[:12])
        reason = page.locator(f'.radar-result[data-id="{pid}"] .reason-author').text_content()
        assert reason == f"by an author you follow: {name}"
    assert page.locator(".reason-author").count() == 2
    # what was fetched: days.json, the days' index, their ids (the library cites arXiv papers: liked
    # ones), their author keys (authors are followed now), and only the display files of the
    # results shown (20 at first), each once
    fetched = [u.rsplit("/", 1)[-1] for m, u in reader.requests if "/radar/" in u and u.endswith(".json")]
    assert len(fetched) == len(set(fetched))
    chunks = [f for f in fetched if re.fullmatch(r"2024-11-2[78]\.m\d+\.json", f)]
    assert sorted(set(fetched) - set(chunks)) == [f"2024-11-2{d}.{kind}.json" for d in (7, 8)
                                                  for kind in ("au", "ids", "idx")] + ["days.json"]
    assert 1 <= len(chunks) < -(-513 // 32), chunks  # not every display file of the day
    assert all(c.startswith("2024-11-28.") for c in chunks)  # a paper on both days: shown from the newer
    assert page.locator(".radar-result").count() == 20 and page.locator(".radar-show-more").is_visible()
    page.click(".radar-show-more")
    page.wait_for_function("document.querySelectorAll('.radar-result').length === 40")
    shown = reader.results()
    assert len(set(shown)) == 40, "each paper once, though both days list it"
    store = reader.storage()
    assert store == {"local": [STORE_KEY], "session": 0, "cookie": "", "idb": 0, "caches": 0}


def test_keywords_only_fetch_no_ids_and_show_each_paper_once(reader: RadarReader) -> None:
    """A profile that likes no paper ranks without the days' ids: the page takes the ids of the
    results from the display files it fetches to show them, and still shows each paper once."""
    page = reader.goto(f"{SUB}/radar/")
    page.fill("#radar-keywords", "KV cache\nquantization")
    page.click(".radar-profile button[type=submit]")
    page.wait_for_selector(".radar-result")
    ids = reader.results()
    # the papers whose terms hold the keywords, each on both days: shown once each, nothing more to show
    assert len(ids) == len(set(ids)) >= 5 and not page.locator(".radar-show-more").is_visible(), ids
    assert ids[0] in ("2411.18077", "2411.15785", "2411.18424") and LABELS.get(ids[0]) == 2
    assert "in 2 days" in (page.locator(".radar-status").text_content() or "")
    fetched = {u.rsplit("/", 1)[-1] for _, u in reader.requests if "/radar/" in u and u.endswith(".json")}
    assert not [f for f in fetched if f.endswith((".ids.json", ".au.json"))], sorted(fetched)
    assert {"2024-11-27.idx.json", "2024-11-28.idx.json"} <= fetched


def test_has_code_keeps_the_papers_with_code(reader: RadarReader) -> None:
    ids = upload_library(reader, BIB)
    page = reader.page
    button = page.locator("#radar button.radar-code")
    assert button.get_attribute("aria-pressed") == "false"
    with_code = set(page.locator(".radar-result[data-code]").evaluate_all("els => els.map(e => e.dataset.id)"))
    button.click()
    page.wait_for_function("document.querySelector('#radar button.radar-code').getAttribute('aria-pressed') === 'true'"
                           " && document.querySelector('.radar-status').textContent.includes('with code')")
    page.wait_for_function("[...document.querySelectorAll('.radar-result')].every(e => e.hasAttribute('data-code'))")
    coded = reader.results()
    assert coded and page.locator(".radar-result:not([data-code])").count() == 0
    assert with_code <= set(coded)  # the shown papers with code stay, in the same order
    assert [i for i in ids if i in with_code] == [i for i in coded if i in with_code]
    # the day page's "has code" says the same of the papers it lists (its articles' data-code)
    day = reader.context.new_page()
    day.goto(f"{reader.base}{SUB}/2024/11/28/")
    listed_code = set(day.locator("article.paper[data-code]").evaluate_all("els => els.map(e => e.id)"))
    listed = set(day.locator("article.paper").evaluate_all("els => els.map(e => e.id)"))
    day.close()
    assert listed_code and not [i for i in coded if i in listed and i not in listed_code]
    assert {i for i in ids[:20] if i in listed_code} <= set(coded)
    button.click()
    assert button.get_attribute("aria-pressed") == "false"
    page.wait_for_function("document.querySelectorAll('.radar-result:not([data-code])').length > 0")
    assert reader.results()[:20] == ids[:20]


def test_export_then_import_restores_the_profile(reader: RadarReader, tmp_path: Path) -> None:
    before = upload_library(reader, BIB)
    page = reader.page
    page.fill("#radar-keywords", "speculative decoding")
    page.click(".radar-profile button[type=submit]")
    before = reader.results()
    with page.expect_download() as info:
        page.click(".radar-export")
    saved = tmp_path / "profile.json"
    info.value.save_as(saved)
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["format"] == "arxiv-digest-radar" and len(data["profile"]["library"]["items"]) == 79
    assert data["profile"]["keywords"] == ["speculative decoding"]
    page.click(".radar-clear")
    assert reader.results() == []
    assert reader.storage()["local"] == []
    page.set_input_files("#radar-import", str(saved))
    page.wait_for_selector(".radar-result")
    assert reader.results() == before
    assert page.input_value("#radar-keywords") == "speculative decoding"
    page.reload()  # kept in localStorage across visits
    page.wait_for_selector(".radar-result")
    assert reader.results() == before


def test_day_page_links_its_for_you_view_and_loads_no_radar_code(reader: RadarReader) -> None:
    page = reader.goto(f"{SUB}/2024/11/28/")
    assert not [u for _, u in reader.requests if "radar" in u], "the day page loads nothing of the radar"
    link = page.locator("a.radar-entry")
    assert link.get_attribute("href") == f"{reader.base}{SUB}/radar/?day=2024-11-28"
    link.click()
    page.wait_for_load_state("load")
    page.set_input_files("#radar-file", str(BIB))
    page.wait_for_selector(".radar-result")
    assert page.locator(".radar-period").text_content() == "For you on 2024-11-28"
    assert "in 1 day" in (page.locator(".radar-status").text_content() or "")


HOSTILE = r"""
@article{x1, title = {<img src=x onerror="window.__pwned=1"> KV cache quantization for LLM inference},
  author = {<script>window.__pwned=2</script>, Mallory and O'Brien, <b>Eve</b>}, year = {2024}}
@inproceedings{x2, title = "Quantization {\"u}ber alles <iframe src=javascript:window.__pwned=3>",
  author = "Bobby \"Tables\" Drop", note = {arXiv:2411.18077}}
@article{broken, title = {unbalanced {braces KV cache
@misc{nocomma title = {missing comma}}
@article{x3, title = {<svg onload=window.__pwned=4>LLM serving KV cache}, abstract = {%s}}
@string{foo = "bar"}
@comment{ @article{inside, title={commented out}} }
@article{x4, title = {\href{javascript:alert(1)}{click} low-bit quantization}, author = {{\L}ukasz and  and }}
"""


def test_hostile_library_never_runs_script(reader: RadarReader, tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.bib"
    hostile.write_text(HOSTILE.replace("%s", "quantization " * 400_000), encoding="utf-8")  # ~5.6 MB
    ids = upload_library(reader, hostile)
    page = reader.page
    assert ids, "the hostile library still ranks"
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#radar img, #radar script, #radar iframe, #radar svg, #radar b").count() == 0
    text = page.locator(".radar-results").text_content() or ""
    assert "<img src=x" in text or "<svg onload" in text  # shown as text in a reason
    lib = page.locator(".radar-library").text_content() or ""
    assert lib.endswith("from hostile.bib")
    # a file over 10 MB is refused with a message, and the profile kept
    huge = tmp_path / "huge.bib"
    huge.write_text("@article{h, title={x}}\n" + "%" * (11 * 1024 * 1024), encoding="utf-8")
    page.set_input_files("#radar-file", str(huge))
    page.wait_for_function("document.querySelector('.radar-status').textContent.includes('larger than 10 MB')")
    assert (page.locator(".radar-library").text_content() or "").endswith("from hostile.bib")
    # a hostile profile file to import: wrong shapes are dropped, markup stays text
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "arxiv-digest-radar", "version": 1, "profile": {
        "keywords": ["<img src=x onerror=window.__pwned=5>", 7, {"x": 1}], "authors": "not a list",
        "ids": ["2411.18077", "javascript:alert(1)"],
        "library": {"name": "<b>lib</b>", "items": [{"t": "<script>window.__pwned=6</script> KV cache"}, 5]}}}))
    page.set_input_files("#radar-import", str(bad))
    page.wait_for_selector(".radar-result")
    assert page.evaluate("window.__pwned") is None
    assert page.input_value("#radar-keywords") == "<img src=x onerror=window.__pwned=5>"
    assert page.input_value("#radar-ids") == "2411.18077"
    assert page.locator(".radar-library").text_content() == "1 papers from <b>lib</b>"
    assert page.locator("#radar img, #radar script, #radar b").count() == 0
