"""Stored XSS: hostile text from every source reaches every output as text, never as markup.

A hostile day enters the way real data does: the recorded RSS feed of 2024-11-28 (1,504 items,
513 stored) and a recorded API response for a backfill, with payloads (tests/hostile) appended to
titles, abstracts, author names, comments and journal refs, served by the local arXiv server; a
model (the local LLM server) that answers every summary, score and briefing with markup; and
digest.yaml topics named with markup. `update` runs through the real CLI, then the site is built as
`make html` does (Pelican, then Pagefind), and `export-md` writes both days.

Every HTML page, every feed (the HTML inside content/summary/description parsed again, as a feed
reader does), every Pagefind fragment and both exports are checked for on* attributes,
javascript:/data: URLs, scripts other than the theme's own and elements such as <base>, <meta
refresh>, <iframe>, <img>; then headless chromium loads every page (math rendered, a search run)
with a dialog listener and finds no dialog and no such attribute in the live DOM.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from arxiv_digest.cli.commands import main
from arxiv_server import FIXTURES, ArxivServer, paged_feed
from conftest import CATS, ROOT, build_site
from hostile import ALERT, PAYLOADS, TOPICS, hostile_answer, hostile_api, hostile_config, hostile_rss
from hostile.check import (
    cbor_strings,
    element_problems,
    fragment_problems,
    raw_problems,
    theme_inline_scripts,
)
from llm_server import LLMServer
from lxml import etree, html
from markdown_it import MarkdownIt
from sitedata import index_search

MODEL = "openai/gpt-4o-mini"
RSS_DAY, API_DAY = "2024-11-28", "2026-04-30"
ATOM = "{http://www.w3.org/2005/Atom}"
SEEN = f"onerror={ALERT}"  # a payload's text, which must show on the pages as text


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """update (RSS day + API backfill) with a hostile model, export-md, build, Pagefind: once."""
    site = tmp_path_factory.mktemp("hostile-site")
    for name in ("pelicanconf.py", "publishconf.py"):
        (site / name).write_bytes((ROOT / name).read_bytes())
    import shutil

    shutil.copytree(ROOT / "theme", site / "theme")
    (site / "content" / "digests").mkdir(parents=True)
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.01\nARXIV_DIGEST_RETRIES = 1\n"
                "ARXIV_DIGEST_TIMEOUT = 10.0\nARXIV_DIGEST_PAGE_SIZE = 10\n")
    arxiv, llm = ArxivServer(), LLMServer()
    base = arxiv.start()
    llm.start()
    llm.answer = hostile_answer
    config = yaml.safe_load((ROOT / "digest.yaml").read_text(encoding="utf-8"))
    (site / "digest.yaml").write_text(
        yaml.safe_dump(hostile_config(config, llm.api_base, MODEL), allow_unicode=True),
        encoding="utf-8")
    feeds = tmp_path_factory.mktemp("hostile-feeds")
    arxiv.route(f"/rss/{CATS}", hostile_rss(FIXTURES / "rss_all-archives_2024-11-28.xml",
                                             feeds / "rss.xml"))
    api = hostile_api(FIXTURES / "api2026_query_cat-cs.LG_OR_cat-cs.AI_start0_max20.xml",
                      feeds / "api.xml")
    arxiv.route("/api/query", paged_feed(str(api)))
    out = tmp_path_factory.mktemp("hostile-out")
    cwd = os.getcwd()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARXIV_DIGEST_RSS_URL", f"{base}/rss")
        mp.setenv("ARXIV_DIGEST_API_URL", f"{base}/api/query")
        mp.setenv("OPENAI_API_KEY", "sk-test-hostile")
        mp.chdir(site)
        try:
            conf = ["-s", str(site / "pelicanconf.py")]
            assert main([*conf, "update", "--now", "2024-11-28T10:17:00+00:00"]) == 0
            assert main([*conf, "update", "--date", API_DAY,
                         "--now", "2026-05-01T12:00:00+00:00"]) == 0
            exports = {}
            for day in (RSS_DAY, API_DAY):
                md = site / f"{day}.md"
                assert main([*conf, "export-md", "--date", day, "--all", "-o", str(md)]) == 0
                exports[day] = md.read_text(encoding="utf-8")
            # as `make html` builds it: feeds point at `make serve` (pelicanconf's FEED_DOMAIN)
            build_site(site, out, SITEURL="", FEED_DOMAIN="http://127.0.0.1:8000")
            index_search(out)
        finally:
            os.chdir(cwd)
            arxiv.stop()
            llm.stop()
    yield {"site": site, "out": out, "exports": exports, "calls": llm.count()}


def stored(site: Path, day: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (site / "content" / "digests" / day[:4] / f"{day}.json").read_text(encoding="utf-8"))
    return data


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def pages(out: Path) -> list[Path]:
    """Every built HTML page (Pagefind's and the vendored assets' own files aside)."""
    return sorted(p for p in out.rglob("*.html")
                  if not {"pagefind", "theme"} & set(p.relative_to(out).parts))


def test_the_hostile_text_is_stored_from_every_source(hostile_site: dict[str, Any]) -> None:
    """The payloads really went in (else the checks below would prove nothing)."""
    site = hostile_site["site"]
    rss, api = stored(site, RSS_DAY), stored(site, API_DAY)
    assert len(rss["papers"]) == 513 and len(api["papers"]) == 20
    text = "\n".join(strings([rss, api]))
    for p in PAYLOADS:
        assert p in text, p
    hostile = [p for p in rss["papers"] if any(x in p["title"] for x in PAYLOADS)]
    assert len(hostile) >= 60
    assert any(any(x in a for x in PAYLOADS) for p in hostile for a in p["authors"])
    assert all(any(x in (p["comment"] or "") for x in PAYLOADS) for p in api["papers"])
    # the model's markup was stored: summaries, score comments, briefing sentences
    summaries = [p["summaries"]["en"] for p in rss["papers"] if p.get("summaries")]
    assert any(s.get("backend") != "extractive" and "<" in json.dumps(s.get("fields")) for s in summaries)
    assert any("<" in str((s.get("score") or {}).get("comment")) for s in summaries)
    assert "<" in json.dumps(rss.get("briefings"))
    assert hostile_site["calls"] > 100


def moved_topic_page(rel: str, source: str) -> bool:
    """A topic's old newest-first page (topics/<slug>/page/<n>/, theme/templates/topic_moved.html):
    its one meta refresh, the theme's own, goes to that topic's landing page and nowhere else."""
    m = re.fullmatch(r"topics/([a-z0-9-]+)/page/\d+/index\.html", rel)
    refresh = html.fromstring(source).cssselect("meta[http-equiv]")
    return bool(m and source.count("http-equiv") == 1 and len(refresh) == 1 and re.fullmatch(
        rf"0; url=(https?://[\w.:-]+)?/topics/{m[1]}/", refresh[0].get("content") or ""))


def test_every_page_shows_the_payloads_as_text_only(hostile_site: dict[str, Any]) -> None:
    out = hostile_site["out"]
    inline = theme_inline_scripts(hostile_site["site"] / "theme")
    problems, shown = {}, set()
    for path in pages(out):
        source = path.read_text(encoding="utf-8")
        found = raw_problems(source) + element_problems(html.fromstring(source), inline)
        if moved_topic_page(path.relative_to(out).as_posix(), source):
            found = [f for f in found if "refresh" not in f]  # the theme's own, checked there
        if found:
            problems[str(path.relative_to(out))] = sorted(set(found))[:8]
        if SEEN in html.fromstring(source).text_content():
            shown.add(str(path.relative_to(out)))
    assert not problems, json.dumps(problems, indent=1)
    # the payloads are there, as text: the day pages, the topic pages and the topics index
    assert {"2024/11/28/index.html", "2026/04/30/index.html", "index.html",
            "topics/index.html"} <= shown
    assert any(s.startswith("topics/alertdocumentdomain/") for s in shown)
    assert any(s.startswith("topics/pruning/") for s in shown), "model summaries on a topic page"


def _feed_entries(path: Path) -> Iterator[tuple[str, str]]:
    """(what, the entry's HTML) for every HTML-bearing element of an Atom or RSS feed."""
    root = etree.parse(str(path)).getroot()
    if root.tag == f"{ATOM}feed":
        for el in root.iter(f"{ATOM}title", f"{ATOM}subtitle"):
            assert el.get("type", "text") == "text", f"{path}: {el.tag} is not text"
        for entry in root.iter(f"{ATOM}entry"):
            for el in (entry.find(f"{ATOM}content"), entry.find(f"{ATOM}summary")):
                if el is not None:
                    assert el.get("type") == "html", f"{path}: {el.tag} type {el.get('type')}"
                    yield el.tag, el.text or ""
    else:
        for item in root.iter("item"):
            yield "description", item.findtext("description") or ""


def test_every_feed_carries_escaped_html_that_parses_safely(hostile_site: dict[str, Any]) -> None:
    out = hostile_site["out"]
    feeds = sorted(out.glob("feeds/**/*.xml"))
    assert len(feeds) >= 2 * (4 + len(TOPICS)) + 2
    problems, shown = {}, 0
    for path in feeds:
        for what, body in _feed_entries(path):
            found = fragment_problems(body)
            if found:
                problems[f"{path.relative_to(out)} {what}"] = sorted(set(found))[:8]
            shown += SEEN in html.fragment_fromstring(body, create_parent="div").text_content()
    assert not problems, json.dumps(problems, indent=1)
    assert shown > 0


def test_the_search_index_holds_text_only(hostile_site: dict[str, Any]) -> None:
    """Pagefind indexed the payloads as text: had one been markup on the page, its text would not
    be in the index verbatim. (pagefind.js escapes < and > again before it builds an excerpt;
    chromium runs a search below.) One record per paper page."""
    out = hostile_site["out"]
    frags = sorted(out.glob("pagefind/*/fragment/*.pf_fragment"))  # a bundle per year
    assert len(frags) == len(list((out / "papers").rglob("index.html"))) > 20
    shown = set()
    for path in frags:
        data = gzip.decompress(path.read_bytes())
        content = json.loads(data[data.index(b"{"):])["content"]
        shown |= {p for p in PAYLOADS if p.startswith("<") and p in content}
    assert len(shown) >= 5, shown
    # Pagefind UI shows filter values as HTML: they are slugs and arXiv categories, never markup
    for path in out.glob("pagefind/*/filter/*.pf_filter"):
        data = gzip.decompress(path.read_bytes())
        values = cbor_strings(data[data.index(b"pagefind_dcd") + len(b"pagefind_dcd"):])
        assert values and not [v for v in values if "<" in v or ">" in v], path


def test_bibtex_and_coins_hold_the_payloads_as_escaped_text(hostile_site: dict[str, Any]) -> None:
    """Every .bib parses into one entry per listed paper; no payload adds an entry, a field or a
    TeX command; COinS give the titles back exactly."""
    from urllib.parse import parse_qs

    import bibtexparser
    from bibtexparser.bparser import BibTexParser

    out = hostile_site["out"]
    bibs = sorted(out.glob("bib/**/*.bib"))
    assert len(bibs) >= 2 + len(TOPICS)
    for path in bibs:
        text = path.read_text(encoding="utf-8")
        entries = bibtexparser.loads(text, parser=BibTexParser(common_strings=True)).entries
        assert len(entries) == text.count("\n@misc{"), path
        for e in entries:
            assert set(e) <= {"ID", "ENTRYTYPE", "title", "author", "year", "month", "eprint",
                              "archiveprefix", "primaryclass", "url", "doi"}, (path, sorted(e))
            for value in e.values():
                bare = re.sub(r"\\(textbackslash|textbraceleft|textbraceright|textasciicircum|"
                              r"textasciitilde)\{\}|\\[$%&#_]", "", value)
                assert "\\" not in bare, (path, value)  # no TeX command from the data
    titles = {p["title"] for day in (RSS_DAY, API_DAY) for p in stored(hostile_site["site"], day)["papers"]}
    spans = html.fromstring((out / "2024/11/28/index.html").read_bytes()).cssselect("span.Z3988")
    assert spans
    for span in spans:
        assert parse_qs(span.get("title"))["rft.atitle"][0] in {" ".join(t.split()) for t in titles}


def test_every_feed_parses_for_a_feed_reader(hostile_site: dict[str, Any]) -> None:
    import feedparser

    for path in sorted(hostile_site["out"].glob("feeds/**/*.xml")):
        feed = feedparser.parse(path.read_bytes())
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert all(e.link.startswith("http://127.0.0.1:8000/") for e in feed.entries), path


@pytest.mark.parametrize("day", [RSS_DAY, API_DAY])
def test_the_markdown_export_holds_no_markup(hostile_site: dict[str, Any], day: str) -> None:
    """Rendered as CommonMark with raw HTML allowed (the most a Markdown viewer does)."""
    md = hostile_site["exports"][day]
    body = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)
    problems = fragment_problems(body)
    assert not problems, sorted(set(problems))
    assert SEEN in html.fragment_fromstring(body, create_parent="div").text_content()


def test_templates_mark_safe_only_rendered_html() -> None:
    """No template trusts text with |safe, except HTML that the one escaping path produced."""
    allowed = {"article.content", "page.content"}  # the day body: rendered by render.py's autoescaping env
    for t in (ROOT / "theme" / "templates").glob("*.html"):
        for expr in re.findall(r"\{\{\s*([^{}|]+?)\s*\|\s*safe\b", t.read_text()):
            assert expr in allowed, f"{t.name}: {expr}|safe"


# --- in a real browser -------------------------------------------------------------------------


# The first block holding a formula (site.js's MATH_BLOCKS and MATH) scrolled into view, so that
# KaTeX loads and renders every formula of the page; false when the page has none.
FIRST_FORMULA_INTO_VIEW = """() => {
  const blocks = document.querySelectorAll(
    'main h1, main .title, main .abstract p, main .summary p, main .summary dd, main nav.toc li, main .briefing p');
  for (const el of blocks) {
    if (/\\$[^$]+\\$|\\\\\\(|\\\\\\[/.test(el.textContent)) {
      (el.closest('article.paper') || el).scrollIntoView();
      return true;
    }
  }
  return false;
}"""
LIVE_PROBLEMS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const v = a.value.replace(/[\\x00-\\x20]+/g, '').toLowerCase();
      if (a.name.toLowerCase().startsWith('on')) out.push(`<${el.localName} ${a.name}>`);
      const pagefindForm = el.closest('.pagefind-ui') && v === 'javascript:void(0);';  // its own form
      if (/href$|^src$|^action$|^formaction$/.test(a.name) && /^(javascript|data|vbscript):/.test(v)
          && !pagefindForm)
        out.push(`<${el.localName} ${a.name}=${v.slice(0, 40)}>`);
    }
    if (['base', 'iframe', 'object', 'embed', 'img'].includes(el.localName)) out.push(`<${el.localName}>`);
  }
  return out;
}"""


def test_chromium_sees_no_dialog_on_any_page(hostile_site: dict[str, Any]) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from conftest import CHROMIUM, LAUNCH_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does this as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extras")
    out = hostile_site["out"]

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    dialogs: list[str] = []
    live: dict[str, list[str]] = {}
    urls = ["/" + str(p.relative_to(out)).removesuffix("index.html") for p in pages(out)
            # (a topic's old page/<n>/ only redirects to its landing page, loaded as well)
            if not moved_topic_page(p.relative_to(out).as_posix(), p.read_text(encoding="utf-8"))]
    urls.append("/search/?q=onerror")  # results whose excerpts hold payloads
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            context = browser.new_context(reduced_motion="reduce")
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(f"{page.url}: {d.type} {d.message}"),
                                         d.dismiss()))
            for url in urls:
                page.goto(base + url, wait_until="load")
                if "?q=" in url:
                    page.wait_for_selector(".pagefind-ui__result-link", timeout=15000)
                elif page.evaluate(FIRST_FORMULA_INTO_VIEW):
                    page.wait_for_function(  # KaTeX has rendered every formula (\\href included)
                        "document.documentElement.classList.contains('math-ready')", timeout=20000)
                found = page.evaluate(LIVE_PROBLEMS)
                if found:
                    live[url] = sorted(set(found))[:8]
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert not dialogs, dialogs
    assert not live, json.dumps(live, indent=1)


def test_model_verdict_reasons_reach_the_chips_as_text(hostile_site: dict[str, Any]) -> None:
    """A model's reasons (summary.v3 verdicts) are stored as written and shown as text only."""
    site = hostile_site["site"]
    day = json.loads((site / f"content/digests/{RSS_DAY[:4]}/{RSS_DAY}.json").read_text())
    judged = [p for p in day["papers"] if (p["summaries"].get("en") or {}).get("verdicts")]
    assert judged, "the hostile model's verdicts were stored"
    offered = {t for p in judged for t in p["summaries"]["en"]["verdicts"]}
    assert offered <= {*TOPICS, "pruning", "quantization", "kv-cache", "sparsity"}  # none invented
    reasons = [v["why"] for p in judged for v in p["summaries"]["en"]["verdicts"].values() if v["why"]]
    assert any("<" in why for why in reasons)
    page = (hostile_site["out"] / RSS_DAY.replace("-", "/") / "index.html").read_text(encoding="utf-8")
    doc = html.fromstring(page)
    shown = " ".join(t.text_content() for t in doc.cssselect(".chip .why-text, details.mentions"))
    assert any(why in shown for why in reasons)  # the reason, markup and all, as text
    assert not raw_problems(page)
