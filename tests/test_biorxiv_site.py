"""`update --source medrxiv|biorxiv` into the day's file, and a tiny site with arXiv and medRxiv papers
on one day: recorded answers over real local HTTP (tests/biorxiv_server.py, tests/arxiv_server.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.core import store
from arxiv_digest.core.models import Digest, Paper
from arxiv_digest.core.settings import load_settings
from arxiv_digest.update.fetch_biorxiv import fetch_interval
from arxiv_server import ArxivServer
from biorxiv_server import by_doi_records, interval_records, serve_interval
from conftest import CATS, build_site
from lxml import html

SOURCES = "\nsources:\n  arxiv:\n  medrxiv:\n"
DAY = "2020-01-02"


@pytest.fixture
def site(site_dir: Path, arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site listing arXiv and medRxiv, whose update talks to the local server."""
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.0\nARXIV_DIGEST_RETRIES = 1\n"
                "ARXIV_DIGEST_TIMEOUT = 2.0\nARXIV_DIGEST_LIST_ALL = True\n")
    with open(site_dir / "digest.yaml", "a", encoding="utf-8") as f:
        f.write(SOURCES)
    base = arxiv_server.base_url  # type: ignore[attr-defined]
    monkeypatch.setenv("ARXIV_DIGEST_RSS_URL", f"{base}/rss")
    monkeypatch.setenv("ARXIV_DIGEST_BIORXIV_API_URL", base)
    monkeypatch.chdir(site_dir)
    return site_dir


def update(site: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-s", str(site / "pelicanconf.py"), "update", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_update_source_stores_the_posting_day_and_reruns_lose_nothing(
        site: Path, arxiv_server: ArxivServer, capsys: pytest.CaptureFixture[str]) -> None:
    records = [r for r in interval_records("medrxiv") if r["date"] == DAY]
    serve_interval(arxiv_server, "medrxiv", DAY, DAY, records, sizes=(8,))
    code, out, err = update(site, capsys, "--source", "medrxiv", "--date", DAY, "--now",
                            "2020-01-03T08:00:00+00:00")
    assert code == 0, err
    path = site / "content/digests/2020/2020-01-02.json"
    assert f"{DAY}: {len({r['doi'] for r in records})} papers stored" in out
    data = json.loads(path.read_text(encoding="utf-8"))
    assert {p["source"] for p in data["papers"]} == {"medrxiv"}
    assert {p["id"] for p in data["papers"]} == {r["doi"] for r in records}
    first = path.read_bytes()
    code, out, _ = update(site, capsys, "--source", "medrxiv", "--date", DAY, "--now",
                          "2020-01-03T08:00:00+00:00")
    assert code == 0 and "(+0 new)" in out
    assert path.read_bytes() == first
    # a source that digest.yaml does not list is a config error, not a fetch
    code, _, err = update(site, capsys, "--source", "biorxiv", "--date", DAY)
    assert code != 0 and "sources: expected biorxiv to be listed" in err
    code, _, err = update(site, capsys, "--source", "medrxiv", "--date", "2020-01-05",
                          "--now", "2020-01-03T08:00:00+00:00")
    assert code != 0 and "in the future" in err


def build_mixed_day(site: Path, arxiv_server: ArxivServer, capsys: pytest.CaptureFixture[str],
                    out: Path, **overrides: object) -> tuple[Path, list[Paper], int]:
    """The arXiv fixture day (the real-size RSS feed of 2024-11-28) and the recorded medRxiv records,
    merged into that day under its lock (the recorded medRxiv records are from 2020: placed on the
    arXiv day here only to build both sources on one page); returns (output, medRxiv papers, arXiv
    papers stored)."""
    arxiv_server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    code, _, err = update(site, capsys, "--now", "2024-11-28T10:17:00+00:00")
    assert code == 0, err
    records = interval_records("medrxiv")
    serve_interval(arxiv_server, "medrxiv", "2020-01-01", "2022-12-31", records, sizes=(17,))
    settings = load_settings({"PATH": str(site / "content"), "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml"),
                              "ARXIV_DIGEST_BIORXIV_API_URL": arxiv_server.base_url,  # type: ignore[attr-defined]
                              "ARXIV_DIGEST_REQUEST_DELAY": 0.0}, env={})
    med = fetch_interval(settings, "medrxiv", dt.date(2020, 1, 1), dt.date(2022, 12, 31))
    with store.day_lock(settings.data_dir, "2024-11-28", 10):
        day = store.load_day(settings.data_dir, "2024-11-28")
        assert day is not None
        n_arxiv = len(day.papers)
        merged = store.merge(day, Digest(date=day.date, categories=(), source="api", papers=tuple(med)))
        store.save(settings.data_dir, merged)
    return build_site(site, out, ARXIV_DIGEST_LIST_ALL=True, **overrides), med, n_arxiv


def test_site_with_arxiv_and_medrxiv_on_one_day(site: Path, arxiv_server: ArxivServer,
                                                capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    """Both sources on one day page: cards, labels, DOI-safe anchors, links and source buttons."""
    out, med, n_arxiv = build_mixed_day(site, arxiv_server, capsys, tmp_path / "out")
    page = out / "2024" / "11" / "28" / "index.html"
    tree = html.fromstring(page.read_bytes())
    cards = tree.xpath("//article[contains(concat(' ', @class, ' '), ' paper ')]")
    sources = [c.get("data-source") for c in cards]
    assert sources.count("medrxiv") == len(med) and sources.count("arxiv") >= 1
    assert len(cards) <= n_arxiv + len(med)
    buttons = {b.get("data-source"): b for b in tree.xpath("//div[@class='filter']/button[@data-source]")}
    assert set(buttons) == {"arxiv", "medrxiv"}
    assert buttons["medrxiv"].text_content().split() == ["medRxiv", str(len(med))]
    assert buttons["arxiv"].text_content().split() == ["arXiv", str(sources.count("arxiv"))]
    ids = [c.get("id") for c in cards]
    assert len(ids) == len(set(ids))
    for c in cards:
        if c.get("data-source") == "medrxiv":
            assert c.get("id").startswith("10.1101-") and "/" not in c.get("id")
            label = c.xpath(".//span[contains(@class, 'arxiv-id')]")[0].text_content()
            assert label.startswith("medRxiv:10.1101/")
            anchor = c.xpath(".//a[@class='anchor']")[0]
            assert anchor.get("href") == "#" + c.get("id")
            assert c.xpath(".//a[text()='abs']")[0].get("href").startswith(
                "https://www.medrxiv.org/content/10.1101/")


def test_versions_on_their_posting_days_are_linked(site: Path, arxiv_server: ArxivServer,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The three recorded versions of one medRxiv DOI, each updated on its own posting day: the
    later days know the earlier versions (enrich.versions), as for arXiv replacements."""
    doi = "10.1101/2021.12.11.21267504"
    rows = [r for r in by_doi_records("medrxiv") if r["doi"] == doi]
    assert [r["version"] for r in rows] == ["1", "2", "3"]
    for r in rows:
        serve_interval(arxiv_server, "medrxiv", r["date"], r["date"], [r])
        code, _, err = update(site, capsys, "--source", "medrxiv", "--date", r["date"],
                              "--now", "2022-05-01T00:00:00+00:00")
        assert code == 0, err
    last = store.load_day(site / "content" / "digests", rows[-1]["date"])
    assert last is not None
    (p,) = last.papers
    assert (p.id, p.version, p.announce_type) == (doi, 3, "replace")
    assert (rows[1]["date"], 2) in [(v.date, v.version) for v in p.versions]
    middle = store.load_day(site / "content" / "digests", rows[1]["date"])
    assert middle is not None
    assert {(v.date, v.version) for v in middle.papers[0].versions} == {
        (rows[0]["date"], 1), (rows[2]["date"], 3)}


def test_source_buttons_filter_in_a_browser(site: Path, arxiv_server: ArxivServer,
                                            capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Debian's chromium (as tests/test_browser.py): a source button shows only its papers, the
    address keeps it, pressing it again shows all, and a link to a hidden paper shows it."""
    import functools
    import shutil
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extras")
    out, med, _ = build_mixed_day(site, arxiv_server, capsys, tmp_path / "out", SITEURL="", FEED_DOMAIN="")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    errors: list[str] = []
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update"])
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
            page.goto(base + "/2024/11/28/", wait_until="load")
            visible = ("() => Array.from(document.querySelectorAll('article.paper'))"
                       ".filter(a => !a.hidden).map(a => a.dataset.source)")
            page.click("button.source[data-source=medrxiv]")
            shown = page.evaluate(visible)
            assert shown and set(shown) == {"medrxiv"} and len(shown) == len(med)
            assert "source=medrxiv" in page.url
            assert "from medRxiv" in page.inner_text(".filter-status")
            arxiv_card = page.evaluate("() => document.querySelector('article.paper[data-source=arxiv]').id")
            page.evaluate("id => { location.hash = id; }", arxiv_card)
            page.wait_for_function("id => !document.getElementById(id).hidden", arg=arxiv_card)
            page.click("button.source[data-source=arxiv]")
            assert set(page.evaluate(visible)) == {"arxiv"}
            page.click("button.source[data-source=arxiv]")
            assert set(page.evaluate(visible)) == {"arxiv", "medrxiv"}
            page.goto(base + "/2024/11/28/?source=medrxiv", wait_until="load")
            assert set(page.evaluate(visible)) == {"medrxiv"}
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert errors == []


def test_a_preprint_only_day_builds_and_an_empty_weekend_stores_nothing(
        site: Path, arxiv_server: ArxivServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A day with medRxiv papers only (no arXiv file) is a day page of its own; a posting day with
    nothing posted (the API's "no posts found") stores nothing and says so."""
    serve_interval(arxiv_server, "medrxiv", "2020-01-04", "2020-01-04", [])
    code, out, _ = update(site, capsys, "--source", "medrxiv", "--date", "2020-01-04",
                          "--now", "2020-01-05T08:00:00+00:00")
    assert code == 0 and "medrxiv posted nothing in any category on 2020-01-04" in out
    assert not list((site / "content" / "digests").rglob("*.json"))
    records = [r for r in interval_records("medrxiv") if r["date"] == DAY]
    serve_interval(arxiv_server, "medrxiv", DAY, DAY, records, sizes=(5,))
    code, _, err = update(site, capsys, "--source", "medrxiv", "--date", DAY, "--now", "2020-01-03T08:00:00+00:00")
    assert code == 0, err
    out_dir = build_site(site, tmp_path / "out", ARXIV_DIGEST_LIST_ALL=True)
    tree = html.fromstring((out_dir / "2020" / "01" / "02" / "index.html").read_bytes())
    cards = tree.xpath("//article[contains(concat(' ', @class, ' '), ' paper ')]")
    assert len(cards) == len({r["doi"] for r in records})
    assert {c.get("data-source") for c in cards} == {"medrxiv"}
    assert not tree.xpath("//button[@data-source]")  # one source: no source buttons
    counts = " ".join(tree.xpath("string(//p[@class='counts'])").split())
    assert "announced in" not in counts and counts.startswith(f"{len(cards)} listed")  # no arXiv part
