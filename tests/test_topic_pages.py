"""Topic pages (plugins/arxiv_digest/site/topics.py): parts numbered from the oldest paper, a
landing page with the newest papers, redirects from the old newest-first page URLs.

ARXIV_DIGEST_TOPIC_PAGE_SIZE is the one setting that sizes them: pelicanconf.py used to set
PAGINATED_TEMPLATES["topic"] = 25, which Pelican's writer read first, so changing the setting did
nothing; a different PAGINATED_TEMPLATES["topic"] is refused as a conflicting second source.

A topic's papers are cut into parts of that size counted from the oldest, so a new day appends to
the newest part and a full part never changes: a daily build re-renders only the landing page and
the newest part(s) of the topics that got papers (checked here against the page writer's record
and the files' mtimes), and the kept output stays byte-identical to a cold build.
"""

from __future__ import annotations

import copy
import datetime as dt
import filecmp
import json
import math
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from arxiv_digest.core.errors import ConfigError
from arxiv_digest.core.settings import load_settings
from arxiv_digest.site.topics import date_range
from conftest import ROOT, build_site
from lxml import html
from sitedata import REAL_DAY, make_site

SITE = "https://digest.example.org"
DAY = "2024/11/28"  # the shipped day: arXiv's real listing of 513 papers
SIZE = 8
# a broad topic beside the shipped ones, so that one topic runs to many parts of real papers
TOPIC = ("  models:\n    definition: Papers that train, apply or study learned models.\n"
         "    terms: [model*, learning, neural network*, LLM*, transformer*]\n")
PART = re.compile(r"^topics/([^/]+)/part/(\d+)/index\.html$")


def add_topic(site: Path, text: str) -> None:
    cfg = site / "digest.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("\nllm:", "\n" + text + "llm:", 1),
                   encoding="utf-8")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = make_site(tmp_path_factory.mktemp("site"), days={})
    add_topic(site, TOPIC)
    return build_site(site, tmp_path_factory.mktemp("out"), ARXIV_DIGEST_LIST_ALL=True,
                      ARXIV_DIGEST_TOPIC_PAGE_SIZE=SIZE)


def doc(path: Path) -> html.HtmlElement:
    return html.fromstring(path.read_bytes())


def rel(href: str) -> str:
    """An absolute site URL as a path under the output folder."""
    assert href.startswith(SITE + "/"), href
    path = urlsplit(href).path.lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


def tagged_in(out: Path, iso: str) -> dict[str, list[str]]:
    """A day page's papers of each topic, in page order."""
    found: dict[str, list[str]] = {}
    for art in doc(out / iso.replace("-", "/") / "index.html").cssselect("article.paper"):
        for t in art.get("data-tags").split():
            found.setdefault(t, []).append(art.get("id"))
    return found


def tagged(out: Path) -> dict[str, list[str]]:
    """The shipped day page's papers of each topic, in page order."""
    return tagged_in(out, DAY.replace("/", "-"))


def cards(page: html.HtmlElement) -> list[str]:
    return [urlsplit(a.get("href")).fragment for a in page.cssselect("h3.title a")]


def test_parts_hold_every_paper_of_a_real_day_oldest_first(out: Path) -> None:
    """513 real papers: each topic's parts hold SIZE papers each counted from the oldest (the last
    may hold fewer); the landing page shows the newest whole parts (at least SIZE papers when the
    topic has that many) and lists every part; Older links walk every paper once, newest first."""
    by_topic = tagged(out)
    assert len(by_topic["models"]) > 20 * SIZE, len(by_topic["models"])
    several = 0
    for topic, ids in by_topic.items():
        n, parts = len(ids), math.ceil(len(ids) / SIZE)
        landing = doc(out / f"topics/{topic}/index.html")
        on_landing = cards(landing)
        assert len(on_landing) >= min(n, SIZE) and len(on_landing) < 2 * SIZE
        # every part, oldest first: its size, its place, its labels and links
        for k in range(1, parts + 1):
            page = doc(out / f"topics/{topic}/part/{k}/index.html")
            held = cards(page)
            assert held == ids[max(0, n - k * SIZE): n - (k - 1) * SIZE], (topic, k)
            assert page.findtext(".//title") == f"{topic}, 28 Nov 2024 · arXiv digest"
            assert page.cssselect("link[rel=canonical]")[0].get("href") == \
                f"{SITE}/topics/{topic}/part/{k}/"
            newer = page.cssselect("nav.pager a[rel=prev]")[0].get("href")
            assert newer == (f"{SITE}/topics/{topic}/part/{k + 1}/" if k < parts
                             else f"{SITE}/topics/{topic}/")
            older = page.cssselect("nav.pager a[rel=next]")
            assert [a.get("href") for a in older] == (
                [f"{SITE}/topics/{topic}/part/{k - 1}/"] if k > 1 else [])
        assert not (out / f"topics/{topic}/part/{parts + 1}").exists()
        listed = [a.get("href") for a in landing.cssselect("nav.topic-parts a")]
        assert listed == ([f"{SITE}/topics/{topic}/part/{k}/" for k in range(parts, 0, -1)]
                          if parts > 1 else [])
        # the Older links from the landing page reach every paper once, newest first
        seen, path = list(on_landing), f"topics/{topic}/index.html"
        while nxt := doc(out / path).cssselect("nav.pager a[rel=next]"):
            path = rel(nxt[0].get("href"))
            if path != f"topics/{topic}/index.html" and not PART.match(path):
                raise AssertionError(path)
            seen += cards(doc(out / path)) if path != f"topics/{topic}/index.html" else []
        assert seen == ids, topic
        several += parts > 2 and n % SIZE != 0
    assert several  # a topic with many parts and a partial newest one


def test_old_newest_first_pages_redirect_to_the_landing_page(out: Path) -> None:
    """Every page/<n>/ URL Pelican's paginator gave a topic (PAGINATION_PATTERNS) is a small page
    that sends the reader to the topic's landing page: refresh, canonical and a link."""
    for topic, ids in tagged(out).items():
        folder = out / "topics" / topic
        old = sorted(int(p.name) for p in folder.glob("page/*"))
        assert old == list(range(2, math.ceil(len(ids) / SIZE) + 1)), topic
        for k in old:
            raw = (folder / f"page/{k}/index.html").read_bytes()
            assert len(raw) < 2000
            page = doc(folder / f"page/{k}/index.html")
            target = f"{SITE}/topics/{topic}/"
            assert page.cssselect("meta[http-equiv=refresh]")[0].get("content") == f"0; url={target}"
            assert page.cssselect("link[rel=canonical]")[0].get("href") == target
            assert [a.get("href") for a in page.cssselect("body a")] == [target]
            assert page.cssselect("meta[name=robots]")[0].get("content") == "noindex"
            assert b"data-pagefind-body" not in raw


# --- a daily build on a kept output: what is rendered again -------------------------------------

OLD_DAYS = ("2024-11-25", "2024-11-26", "2024-11-27")
NEW_DAY = "2024-11-29"
CUTS = (0, 140, 290, 400, 513)  # the real day's papers, as three stored days and one new one


def piece(data: dict[str, Any], iso: str, papers: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["date"], out["papers"] = iso, copy.deepcopy(papers)
    out["announced"] = dict(Counter(p["announce_type"] for p in papers))
    return out


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(site, output before the new day, the same output after it): the real 513 papers as three
    stored days and a new one."""
    data = json.loads(REAL_DAY.read_text(encoding="utf-8"))
    days = {iso: piece(data, iso, data["papers"][a:b])
            for iso, a, b in zip((*OLD_DAYS, NEW_DAY), CUTS[:-1], CUTS[1:], strict=True)}
    site = make_site(tmp_path_factory.mktemp("daily"), days=days, real=False)
    add_topic(site, TOPIC)
    new = site / "content/digests/2024" / f"{NEW_DAY}.json"
    shutil.move(new, site / new.name)
    kept = tmp_path_factory.mktemp("kept") / "output"
    build_site(site, kept, ARXIV_DIGEST_LIST_ALL=True, ARXIV_DIGEST_TOPIC_PAGE_SIZE=SIZE)
    before = kept.parent / "before"  # a snapshot: the same bytes and mtimes
    shutil.copytree(kept, before, copy_function=shutil.copy2)
    shutil.move(site / new.name, new)
    build_site(site, kept, ARXIV_DIGEST_LIST_ALL=True, ARXIV_DIGEST_TOPIC_PAGE_SIZE=SIZE)
    return site, before, kept


def topic_files(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of every topic (not the topics index, which counts them all)."""
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in (out / "topics").glob("*/**/*.html")}


def test_a_new_day_rewrites_only_the_landing_and_newest_parts(daily: tuple[Path, Path, Path]) -> None:
    site, before, after = daily
    old, new = topic_files(before), topic_files(after)
    new_day = doc(after / NEW_DAY.replace("-", "/") / "index.html")
    affected = {t for a in new_day.cssselect("article.paper") for t in a.get("data-tags").split()}
    topics = {p.parent.name for p in (after / "topics").glob("*/index.html")}
    assert affected and topics - affected  # some topics got papers, some did not
    newest = {t: max((int(m.group(2)) for f in old if (m := PART.match(f)) and m.group(1) == t),
                     default=1) for t in topics}
    assert max(newest.values()) > 3
    rewritten = {f for f in old if new[f][1] != old[f][1]}
    expected = {f for f in old for t in affected
                if f == f"topics/{t}/index.html"
                or ((m := PART.match(f)) and m.group(1) == t and int(m.group(2)) >= newest[t])}
    assert rewritten == expected
    assert all(new[f][0] == old[f][0] for f in old if f not in rewritten)  # same bytes too
    added = set(new) - set(old)
    assert added and all(f.split("/")[1] in affected for f in added)
    assert not set(old) - set(new)
    # the page writer's record agrees: the kept parts' digests did not change
    record = json.loads(next((site / "content/digests/.cache/pages").glob("*.record")).read_text())
    pages = record["pages"]
    assert all(f in pages for f in new if "/page/" not in f)  # the redirects go by write_text
    assert all(pages[f][1:] == [len(old[f][0]), old[f][1]] for f in old
               if f not in rewritten and f in pages)


def test_an_edited_stored_paper_rewrites_only_the_pages_listing_it(
        daily: tuple[Path, Path, Path]) -> None:
    """A part's page is skipped by its papers' view keys (each paper's stored record and its
    day's date, not the day file's hash): an edit to a stored paper (its authors) renders again
    exactly the topic pages that list that paper, not the others that list papers of its day."""
    site, _, kept = daily
    path = site / "content/digests/2024" / f"{OLD_DAYS[0]}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    listed = tagged_in(kept, OLD_DAYS[0])
    pid = listed["models"][len(listed["models"]) // 2]
    paper = next(p for p in data["papers"] if p["id"] == pid)
    paper["authors"] = [*paper["authors"], "Zed <i>Edited</i>"]
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    old = topic_files(kept)
    build_site(site, kept, ARXIV_DIGEST_LIST_ALL=True, ARXIV_DIGEST_TOPIC_PAGE_SIZE=SIZE)
    new = topic_files(kept)
    rewritten = {f for f in old if new[f][1] != old[f][1]}
    changed = {f for f in old if new[f][0] != old[f][0]}
    day_ids = {p["id"] for p in data["papers"]}
    of_day = {f for f in new if day_ids & set(cards(html.fromstring(new[f][0])))}
    listing = {f for f in new if pid in cards(html.fromstring(new[f][0]))}
    assert listing and changed == listing == rewritten and listing < of_day
    assert len(of_day) < len(new) / 2
    assert all(b"Zed &lt;i&gt;Edited&lt;/i&gt;" in new[f][0] for f in listing)


def test_the_daily_output_is_byte_identical_to_a_cold_build(
        daily: tuple[Path, Path, Path], tmp_path: Path) -> None:
    site, _, kept = daily
    shutil.rmtree(site / "content/digests/.cache", ignore_errors=True)
    cold = build_site(site, tmp_path / "cold", ARXIV_DIGEST_LIST_ALL=True,
                      ARXIV_DIGEST_TOPIC_PAGE_SIZE=SIZE)
    files = sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(cold).as_posix() for p in cold.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(kept, cold, files, shallow=False)
    assert not mismatch and not errors, mismatch[:10]


# --- hostile input ---------------------------------------------------------------------------------

HOSTILE = '''  "q&a<b>bold</b>\\"quoted\\"'x'</title><script>alert(1)</script>":
    definition: "<img src=x onerror=alert(2)> & more"
    terms: [model*, learning]
'''


def test_hostile_topic_names_stay_text_on_every_page(tmp_path: Path) -> None:
    """A topic name and definition full of markup reach the landing page, the parts and the
    redirects as text; a PAGINATION_PATTERNS that gives the old pages the parts' own URLs never
    lets a redirect replace a part."""
    site = make_site(tmp_path / "site", days={})
    add_topic(site, HOSTILE)
    out = build_site(site, tmp_path / "out", ARXIV_DIGEST_LIST_ALL=True,
                     ARXIV_DIGEST_TOPIC_PAGE_SIZE=40,
                     PAGINATION_PATTERNS=((1, "{url}", "{save_as}"),
                                          (2, "{base_name}/part/{number}/",
                                           "{base_name}/part/{number}/index.html"),
                                          (5, "{base_name}/old/{number}/",
                                           "{base_name}/old/{number}/index.html")))
    name = "q&a<b>bold</b>\"quoted\"'x'</title><script>alert(1)</script>"
    shipped = ("pruning", "quantization", "kv-cache", "sparsity")
    folder = next(p for p in (out / "topics").iterdir() if p.is_dir() and p.name not in shipped)
    pages = [folder / "index.html", *sorted(folder.glob("part/*/index.html")),
             *sorted(folder.glob("old/*/index.html"))]
    assert len(pages) > 6 and (folder / "old/5/index.html").is_file()
    for path in pages:
        raw = path.read_text(encoding="utf-8")
        assert "<script>alert" not in raw and "<b>bold" not in raw and "<img" not in raw, path
        page = doc(path)
        assert page.findtext(".//title").startswith(name), path
        if "/old/" in path.as_posix():
            assert page.cssselect("link[rel=canonical]")[0].get("href") == f"{SITE}/topics/{folder.name}/"
        else:
            assert name in page.cssselect("h1")[0].text_content()
            assert page.cssselect("article.paper")
    assert doc(folder / "index.html").cssselect("p.definition")[0].text_content().endswith(
        "<img src=x onerror=alert(2)> & more")
    for part in folder.glob("part/*/index.html"):  # the parts, not redirects
        assert doc(part).cssselect("meta[http-equiv=refresh]") == []


def test_part_labels_read_in_the_site_language() -> None:
    a, b = dt.date(2024, 11, 12), dt.date(2024, 12, 3)
    en, zh = date_range("en"), date_range("zh-CN")
    dash = "\u2009\u2013\u2009"  # CLDR's: an en dash between thin spaces
    assert en(a, b) == f"12 Nov{dash}3 Dec 2024" and en(a, a) == "12 Nov 2024"
    assert en(dt.date(2024, 12, 30), dt.date(2025, 1, 2)) == f"30 Dec 2024{dash}2 Jan 2025"
    assert zh(a, b) == "2024年11月12日至12月3日"


# --- the setting ---------------------------------------------------------------------------------

def test_shipped_settings_have_one_source_of_truth() -> None:
    import runpy
    conf = runpy.run_path(str(ROOT / "pelicanconf.py"))
    assert "topic" not in conf["PAGINATED_TEMPLATES"]
    assert load_settings(conf, env={}).topic_page_size == conf["ARXIV_DIGEST_TOPIC_PAGE_SIZE"]


@pytest.mark.parametrize("value", [25, 10, None, "10", 0, -1, True, 10.0])
def test_a_conflicting_paginated_templates_entry_is_refused(tmp_path: Path, value: object) -> None:
    """A PAGINATED_TEMPLATES['topic'] other than the setting (hostile types included) names both
    keys; the same value (as the plugin itself writes it) is accepted."""
    base = {"PATH": str(tmp_path), "ARXIV_DIGEST_CONFIG": str(tmp_path / "none.yaml"),
            "ARXIV_DIGEST_TOPIC_PAGE_SIZE": 10}
    settings = {**base, "PAGINATED_TEMPLATES": {"index": None, "topic": value}}
    if value == 10 and type(value) is int:
        assert load_settings(settings, env={}).topic_page_size == 10
        return
    with pytest.raises(ConfigError) as e:
        load_settings(settings, env={})
    assert str(e.value) == (
        "pelican settings: PAGINATED_TEMPLATES['topic']: expected no 'topic' entry (topic pages "
        f"are paginated by ARXIV_DIGEST_TOPIC_PAGE_SIZE, 10), got {value!r}")
