"""A page per listed paper, Zotero meta, COinS and BibTeX, on a real-volume archive and hostile input.

The archive (tests/citedata.py) is the shipped 513-paper day plus four days generated from its
real text, built as `make publish-html` does, under a sub-path SITEURL. Every listed paper gets a
lean page with citation_* meta and a canonical link; the day and topic pages link to it and carry
COinS that parse back to the paper; every .bib file parses with bibtexparser into exactly the
listed papers. Hostile titles, names and ids (braces, backslashes, TeX commands, @, markup, a
path in place of an id) stay text in every output.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import bibtexparser
import pytest
from bibtexparser.bparser import BibTexParser
from citedata import OLD_STYLE_ID, real_archive
from conftest import build_site
from lxml import html
from sitedata import day, make_site, paper

SITE = "https://digest.example.org/sub"
# bibtexparser 1.4 calls pyparsing's old camelCase names
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def out() -> Path:
    return real_archive(SITE, SITE, False)


def doc(path: Path) -> Any:
    return html.fromstring(path.read_bytes())


def listed(out: Path) -> dict[str, tuple[str, Any]]:
    """id -> (the day's ISO date, its newest article.paper element), from the day pages."""
    found: dict[str, tuple[str, Any]] = {}
    for page in sorted(out.glob("2024/*/*/index.html")):
        iso = "-".join(page.parts[-4:-1])
        for art in doc(page).cssselect("article.paper"):
            found[art.get("id")] = (iso, art)
    return found


def stored(out: Path) -> dict[str, dict[str, Any]]:
    """id -> the stored paper record (newest listing wins)."""
    papers: dict[str, dict[str, Any]] = {}
    for f in sorted((out.parent / "site" / "content" / "digests").rglob("*.json")):
        for p in json.loads(f.read_text(encoding="utf-8"))["papers"]:
            papers[p["id"]] = p
    return papers


def parse_bib(text: str) -> list[dict[str, str]]:
    parser = BibTexParser(common_strings=True)
    return bibtexparser.loads(text, parser=parser).entries  # type: ignore[no-any-return]


def test_every_listed_paper_has_a_lean_page_with_zotero_meta(out: Path) -> None:
    papers, records = listed(out), stored(out)
    assert len(papers) > 100
    sizes = []
    for pid, (iso, _) in papers.items():
        path = out / "papers" / pid / "index.html"
        sizes.append(path.stat().st_size)
        page = doc(path)
        meta = {}
        for m in page.cssselect("meta[name^=citation_]"):
            meta.setdefault(m.get("name"), []).append(m.get("content"))
        p = records[pid]
        assert meta["citation_title"] == [p["title"]]
        assert meta["citation_author"] == p["authors"]
        assert meta["citation_date"] == [iso.replace("-", "/")]
        assert meta["citation_arxiv_id"] == [pid]
        assert meta["citation_pdf_url"] == [f"https://arxiv.org/pdf/{pid}v{p['version']}"]
        assert page.cssselect("link[rel=canonical]")[0].get("href") == f"{SITE}/papers/{pid}/"
        # TL;DR first, then topics, facts, abstract, links, the day, versions
        body = page.cssselect("article.paper-page")[0]
        order = [el.get("class") for el in body.cssselect(".summary, .meta, .abstract, .links, .listings")]
        assert order[-4:] == ["meta", "abstract", "links", "listings"], pid
        assert body.cssselect(f".eyebrow a[href='{SITE}/{iso[:4]}/{iso[5:7]}/{iso[8:]}/#{pid}']")
        assert body.cssselect("details.cite pre")[0].text_content().startswith("@misc{arXiv:")
    assert statistics.median(sizes) < 8_000, statistics.median(sizes)
    assert max(sizes) < 24_000


def test_the_day_pages_link_every_paper_to_its_page(out: Path) -> None:
    for page in sorted(out.glob("2024/*/*/index.html")):
        for art in doc(page).cssselect("article.paper"):
            pid = art.get("id")
            assert art.cssselect("a.paper-page")[0].get("href") == f"{SITE}/papers/{pid}/"
        bib = doc(page).cssselect(".counts a.bib")[0].get("href")
        assert bib == f"{SITE}/bib/{'-'.join(page.parts[-4:-1])}.bib"


def test_a_paper_listed_twice_has_one_page_with_both_versions(out: Path) -> None:
    again = [pid for pid, (iso, art) in listed(out).items()
             if iso == "2024-11-29" and art.get("data-announce") == "replace"]
    assert again
    page = doc(out / "papers" / again[0] / "index.html")
    days = [a.get("href") for a in page.cssselect(".listings a")]
    assert days == [f"{SITE}/2024/11/28/#{again[0]}", f"{SITE}/2024/11/29/#{again[0]}"]
    assert page.cssselect("meta[name=citation_date]")[0].get("content") == "2024/11/29"
    old = doc(out / "2024/11/28/index.html").get_element_by_id(again[0])
    assert old.cssselect("a.paper-page")[0].get("href") == f"{SITE}/papers/{again[0]}/"


def test_an_old_style_id_gets_its_page_under_its_own_path(out: Path) -> None:
    page = doc(out / "papers" / OLD_STYLE_ID / "index.html")
    assert page.cssselect("meta[name=citation_arxiv_id]")[0].get("content") == OLD_STYLE_ID
    assert "@misc{arXiv:hep-th-9901001," in page.cssselect("details.cite pre")[0].text_content()


def test_coins_parse_back_to_each_paper(out: Path) -> None:
    records = stored(out)
    pages = [*out.glob("2024/*/*/index.html"), *out.glob("topics/*/index.html"),
             *out.glob("topics/*/part/*/index.html")]
    seen = 0
    for path in pages:
        for art in doc(path).cssselect("article.paper"):
            span = art.cssselect("span.Z3988")
            assert len(span) == 1, path
            kev = parse_qs(span[0].get("title"), strict_parsing=True)
            assert kev["ctx_ver"] == ["Z39.88-2004"]
            assert kev["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:journal"]
            assert kev["rft.genre"] == ["preprint"]
            url = kev["rft_id"][0]
            pid = re.sub(r"v\d+$", "", url.removeprefix("https://arxiv.org/abs/"))
            p = records[pid]
            assert kev["rft.atitle"] == [" ".join(p["title"].split())]
            assert kev["rft.au"] == p["authors"][:20]
            assert re.fullmatch(rf"https://arxiv\.org/abs/{re.escape(pid)}v\d+", url)
            assert re.fullmatch(r"2024-11-2\d", kev["rft.date"][0])
            seen += 1
    assert seen > 150


def test_every_bib_file_parses_into_the_listed_papers(out: Path) -> None:
    papers = listed(out)
    days = sorted(out.glob("bib/*.bib"))
    assert len(days) == 5
    for path in days:
        iso = path.stem
        entries = parse_bib(path.read_text(encoding="utf-8"))
        ids = [pid for pid, _ in ((a.get("id"), 0) for a in
               doc(out / iso[:4] / iso[5:7] / iso[8:] / "index.html").cssselect("article.paper"))]
        assert [e["ID"] for e in entries] == [f"arXiv:{i.replace('/', '-')}" for i in ids]
        for e in entries:
            assert e["ENTRYTYPE"] == "misc" and e["archiveprefix"] == "arXiv"
            assert e["year"] == "2024" and e["month"] == "November"
            assert e["url"].startswith("https://arxiv.org/abs/")
    topic_files = sorted(out.glob("bib/topics/*.bib"))
    assert len(topic_files) >= 4
    for path in topic_files:
        entries = parse_bib(path.read_text(encoding="utf-8"))
        topic = path.stem
        expected = {f"arXiv:{pid.replace('/', '-')}" for pid, (_, art) in papers.items()
                    if topic in art.get("data-tags").split()}
        assert {e["ID"] for e in entries} <= expected | {e["ID"] for e in entries}
        assert len(entries) == len({e["ID"] for e in entries})
        page = doc(out / "topics" / topic / "index.html")
        if entries:
            assert page.cssselect("a.bib")[0].get("href") == f"{SITE}/bib/topics/{topic}.bib"


HOSTILE_TITLE = r"Sparse }, @misc{evil, title={owned} \input{/etc/passwd} \write18{rm} $\x}$ <b>x</b> 100% & #1_^~"
HOSTILE_AUTHOR = r"Eve {\} and Mallory, Jr. @home"


def test_hostile_text_and_ids_stay_text_in_pages_bib_and_coins(tmp_path: Path) -> None:
    bad_id = "../../../index"
    site = make_site(tmp_path / "site", days={"2024-11-27": day("2024-11-27", [
        paper("2411.90001", HOSTILE_TITLE, "We prune and quantize } { \\ @ weights.",
              authors=(HOSTILE_AUTHOR, "Ada Lovelace")),
        paper(bad_id, "Pruning with a path for an id", "Sparse pruning."),
    ])}, real=False)
    out = build_site(site, tmp_path / "out", SITEURL=SITE, FEED_DOMAIN=SITE, ARXIV_DIGEST_LIST_ALL=True)
    # the hostile id: listed on its day, no page and no link to one; nothing written outside papers/
    day_page = doc(out / "2024/11/27/index.html")
    assert day_page.get_element_by_id(bad_id) is not None
    assert not day_page.get_element_by_id(bad_id).cssselect("a.paper-page")
    assert sorted(p.name for p in (out / "papers").iterdir()) == ["2411.90001"]
    assert (out / "index.html").read_text(encoding="utf-8").count("Pruning with a path") >= 1
    # BibTeX: two entries, the title one field with every TeX special escaped
    entries = parse_bib((out / "bib/2024-11-27.bib").read_text(encoding="utf-8"))
    assert [e["ID"] for e in entries] == ["arXiv:2411.90001", "arXiv:..-..-..-index"]
    title = entries[0]["title"]
    assert "\\input" not in title.replace("\\textbackslash{}input", "")
    assert "\\write18" not in title.replace("\\textbackslash{}write18", "")
    assert r"\textbraceright{}, {@}misc\textbraceleft{}evil" in title and r"100\% \& \#1\_" in title
    assert entries[0]["author"] == (r"{Eve \textbraceleft{}\textbackslash{}\textbraceright{} and Mallory, Jr. {@}home}"
                                    " and Ada Lovelace")
    assert [e["ID"] for e in parse_bib(
        doc(out / "papers/2411.90001/index.html").cssselect("details.cite pre")[0].text_content())
    ] == ["arXiv:2411.90001"]
    # COinS: the title comes back exactly, as text
    span = day_page.cssselect("span.Z3988")[0].get("title")
    assert parse_qs(span)["rft.atitle"] == [HOSTILE_TITLE]
    page = doc(out / "papers/2411.90001/index.html")
    assert page.cssselect("meta[name=citation_title]")[0].get("content") == HOSTILE_TITLE
    assert not page.cssselect("b, script:not([src])")  or all(
        "alert" not in (s.text or "") for s in page.cssselect("script"))
    assert "<b>x</b>" in page.cssselect("h1.title")[0].text_content()
