"""Paper pages, BibTeX, COinS and topic-page filters for bioRxiv/medRxiv papers beside arXiv's.

The real-volume site is the shipped 513-paper arXiv day with the recorded bioRxiv interval page
(40 papers: 50 records, several DOIs at two versions) fetched over local HTTP (tests/biorxiv_server.py)
and stored into the same day through the update's own stage (pipeline.store_preprints), built
with every paper listed and one extra topic whose words both sources use. Hostile bioRxiv text
(markup and TeX in titles, authors and categories; ids that are no DOI) stays text everywhere.
Near-duplicates across sources: a preprint posted on both servers, or on arXiv and bioRxiv.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import bibtexparser
import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.core.models import Paper
from arxiv_digest.core.settings import load_settings
from arxiv_digest.update.fetch_biorxiv import fetch_interval
from arxiv_digest.update.pipeline import store_preprints
from arxiv_server import ArxivServer
from bibtexparser.bparser import BibTexParser
from biorxiv_server import by_doi_records, interval_records, serve_interval
from conftest import build_site
from lxml import html
from sitedata import REAL_DAY, day, make_site, paper

SITE = "https://digest.example.org/sub"
DAY = "2024-11-28"
TOPIC = ("  machine-learning:\n    definition: Papers that train or apply machine-learning models.\n"
         "    terms: [machine learning, deep learning, neural network*]\n")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # bibtexparser 1.4


def add_topic(site: Path) -> None:
    """One more topic (both sources use its words), in digest.yaml's topics section."""
    cfg = site / "digest.yaml"
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("\nllm:", "\n" + TOPIC + "llm:", 1) + "\nsources:\n  arxiv:\n  biorxiv:\n",
                   encoding="utf-8")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Paper]]:
    root = tmp_path_factory.mktemp("mixed")
    site = make_site(root / "site", days={})  # the shipped day: 513 real arXiv papers
    add_topic(site)
    http = ArxivServer()
    base = http.start()
    try:
        serve_interval(http, "biorxiv", "2020-01-01", "2022-12-31", interval_records("biorxiv"), (17,))
        settings = load_settings({"PATH": str(site / "content"), "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml"),
                                  "ARXIV_DIGEST_BIORXIV_API_URL": base, "ARXIV_DIGEST_REQUEST_DELAY": 0.0},
                                 env={})
        bio = fetch_interval(settings, "biorxiv", dt.date(2020, 1, 1), dt.date(2022, 12, 31))
    finally:
        http.stop()
    # placed on the arXiv day (the recorded records are from 2020-2022) to build both on one page
    store_preprints(settings, "biorxiv", dt.date.fromisoformat(DAY), tuple(bio))
    out = build_site(site, root / "out", SITEURL=SITE, FEED_DOMAIN=SITE, ARXIV_DIGEST_LIST_ALL=True,
                     ARXIV_DIGEST_TOPIC_PAGE_SIZE=1000)  # one topic page: both sources on it
    return out, bio


def doc(path: Path) -> Any:
    return html.fromstring(path.read_bytes())


def parse_bib(text: str) -> list[dict[str, str]]:
    return bibtexparser.loads(text, parser=BibTexParser(common_strings=True)).entries  # type: ignore[no-any-return]


def test_every_preprint_has_its_page_links_meta_and_bibtex(mixed: tuple[Path, list[Paper]]) -> None:
    out, bio = mixed
    assert len(bio) == len({r["doi"] for r in interval_records("biorxiv")}) == 40
    day_page = doc(out / "2024/11/28/index.html")
    published = 0
    for p in bio:
        page = doc(out / "papers" / p.id / "index.html")
        eyebrow = " ".join(page.cssselect("p.eyebrow")[0].text_content().split())
        assert eyebrow.startswith(f"bioRxiv {p.id}v{p.version} · ") and "arXiv" not in eyebrow
        meta = {m.get("name"): m.get("content") for m in page.cssselect("meta[name^=citation_]")}
        assert meta["citation_doi"] == p.id and "citation_arxiv_id" not in meta
        assert meta["citation_title"] == p.title and meta["citation_publisher"] == "bioRxiv"
        content = f"https://www.biorxiv.org/content/{p.id}v{p.version}"
        assert meta["citation_pdf_url"] == f"{content}.full.pdf"
        links = {a.text_content(): a.get("href") for a in page.cssselect("p.links a")}
        assert links["abs"] == content and links["pdf"] == f"{content}.full.pdf"
        assert links["full text"] == f"{content}.full" and "html" not in links
        assert links["bioRxiv doi"] == f"https://doi.org/{p.id}"
        if p.doi:  # the journal's DOI, once published
            published += 1
            assert links["journal doi"] == f"https://doi.org/{p.doi}"
        art = page.cssselect("article.paper-page")[0]
        assert art.get("data-source") == "bioRxiv" and "source[data-source]" in art.get("data-pagefind-filter")
        assert "category:" not in html.tostring(page, encoding="unicode")  # subjects are no arXiv filter
        # the day link lands on the card (a DOI's '/' is '-' in anchors)
        href = page.cssselect("p.eyebrow a")[0].get("href")
        assert href == f"{SITE}/2024/11/28/#{p.anchor}" and day_page.get_element_by_id(p.anchor) is not None
        card = day_page.get_element_by_id(p.anchor)
        assert card.cssselect("a.paper-page")[0].get("href") == f"{SITE}/papers/{p.id}/"
        (entry,) = parse_bib(page.cssselect("details.cite pre")[0].text_content())
        assert entry["ENTRYTYPE"] == "misc" and entry["ID"] == "bioRxiv:" + p.id.replace("/", "-")
        assert entry["doi"] == p.id and entry["howpublished"] == "bioRxiv"
        assert entry["publisher"] == "Cold Spring Harbor Laboratory" and entry["url"] == content
        assert entry["note"].startswith(f"Preprint, version {p.version}")
        assert not {"eprint", "archiveprefix", "primaryclass"} & {k.lower() for k in entry}
        # COinS: the DOI as info:doi/, the server's page, the server's name
        coins = parse_qs(card.cssselect("span.Z3988")[0].get("title"))
        assert coins["rft_id"] == [content, f"info:doi/{p.id}"]
        assert coins["rft.jtitle"] == ["bioRxiv"] and coins["rft.atitle"] == [" ".join(p.title.split())]
    assert published >= 3
    # the day's .bib: every listed paper once, both sources, arXiv entries as before
    entries = parse_bib((out / "bib/2024-11-28.bib").read_text(encoding="utf-8"))
    ids = [e["ID"] for e in entries]
    assert len(ids) == len(set(ids)) == len(day_page.cssselect("article.paper"))
    arxiv = [e for e in entries if e["ID"].startswith("arXiv:")]
    assert len(arxiv) > 500 and all(e["archiveprefix"] == "arXiv" and "eprint" in e for e in arxiv)
    assert {e["ID"] for e in entries if e["ID"].startswith("bioRxiv:")} == {
        "bioRxiv:" + p.id.replace("/", "-") for p in bio}


def test_arxiv_pages_keep_their_form_and_show_code_badges(mixed: tuple[Path, list[Paper]]) -> None:
    out, _ = mixed
    real = json.loads(REAL_DAY.read_text(encoding="utf-8"))["papers"]
    with_links = [p for p in real if any(x["kind"] == "code" for x in p.get("links") or [])]
    assert len(with_links) >= 5
    for rec in with_links:
        page = doc(out / "papers" / rec["id"] / "index.html")
        assert page.cssselect("p.eyebrow")[0].text_content().startswith(f"arXiv:{rec['id']}v")
        assert page.cssselect("meta[name=citation_arxiv_id]")[0].get("content") == rec["id"]
        hrefs = [a.get("href") for a in page.cssselect("p.artefacts a.artefact")]
        assert {x["url"] for x in rec["links"] if x["kind"] == "code"} <= set(hrefs)
        assert page.cssselect("article.paper-page")[0].get("data-source") == "arXiv"
    # a paper without artefacts has no badge row
    bare = next(p for p in real if not p.get("links"))
    assert not doc(out / "papers" / bare["id"] / "index.html").cssselect("p.artefacts")


def test_topic_page_has_source_and_code_filters(mixed: tuple[Path, list[Paper]]) -> None:
    out, _ = mixed
    page = doc(out / "topics/machine-learning/index.html")
    cards = page.cssselect("article.paper")
    sources = [c.get("data-source") for c in cards]
    assert sources.count("biorxiv") >= 1 and sources.count("arxiv") > 10
    buttons = {b.get("data-source"): b for b in page.cssselect(".code-filter button.source")}
    assert set(buttons) == {"arxiv", "biorxiv"}
    for src, label in (("arxiv", "arXiv"), ("biorxiv", "bioRxiv")):
        assert buttons[src].text_content().split() == [label, str(sources.count(src))]
    assert page.cssselect(".code-filter button.has-code")
    day_page = doc(out / "2024/11/28/index.html")
    for c in cards:
        if c.get("data-source") == "biorxiv":
            label = c.cssselect("span.arxiv-id")[0].text_content()
            assert label.startswith("bioRxiv:10.1101/")
            anchor = c.cssselect("h3.title a")[0].get("href").split("#")[1]
            assert "/" not in anchor and day_page.get_element_by_id(anchor).get("data-source") == "biorxiv"


def test_topic_page_filters_in_a_browser(mixed: tuple[Path, list[Paper]]) -> None:
    """Debian's chromium: a source button shows only that source's papers and goes into the
    address; with "has code" both hold; pressing again shows all; ?source= is read on load.
    The site's absolute URLs (SITE) are answered from the built files; nothing else loads."""
    import shutil
    from urllib.parse import urlsplit

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extras")
    out, _ = mixed
    prefix = urlsplit(SITE).path

    def serve(route: Any) -> None:
        url = route.request.url
        if not url.startswith(SITE + "/"):
            route.abort()
            return
        path = urlsplit(url).path[len(prefix) + 1:]
        target = out / (path + "index.html" if path.endswith("/") or not path else path)
        if target.is_file():
            route.fulfill(path=str(target))
        else:
            route.fulfill(status=404, body="")

    errors: list[str] = []
    visible = ("() => Array.from(document.querySelectorAll('article.paper')).filter(a => !a.hidden)"
               ".map(a => [a.dataset.source, a.hasAttribute('data-code')])")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", serve)
        topic = SITE + "/topics/machine-learning/"
        page.goto(topic, wait_until="load")
        everything = page.evaluate(visible)
        page.click("button.source[data-source=biorxiv]")
        shown = page.evaluate(visible)
        assert shown and {s for s, _ in shown} == {"biorxiv"}
        assert len(shown) == sum(s == "biorxiv" for s, _ in everything)
        assert "source=biorxiv" in page.url and "from bioRxiv" in page.inner_text(".filter-status")
        page.click("button.source[data-source=arxiv]")
        page.click("button.has-code")
        shown = page.evaluate(visible)
        assert shown and all(s == "arxiv" and code for s, code in shown)
        assert "with code, from arXiv" in page.inner_text(".filter-status")
        page.click("button.source[data-source=arxiv]")
        page.click("button.has-code")
        assert len(page.evaluate(visible)) == len(everything)
        page.goto(topic + "?source=biorxiv", wait_until="load")
        assert {s for s, _ in page.evaluate(visible)} == {"biorxiv"}
        browser.close()
    assert errors == []


HOSTILE_TITLE = r"Cells </h1><script>alert(1)</script> }, @misc{evil, title={x} \input{/etc/passwd} 100% & #1_^~"
HOSTILE_AUTHOR = r"Eve <img src=x onerror=alert(2)> {\} and Mallory, Jr. @lab"
HOSTILE_CATEGORY = "<svg onload=alert(3)>cell biology"


def preprint(pid: str, title: str, **extra: Any) -> dict[str, Any]:
    rec = paper(pid, title, "We study neural network pruning } { \\ @ in cells.",
                authors=(HOSTILE_AUTHOR, "Ada Lovelace"), categories=(HOSTILE_CATEGORY,))
    return {**rec, "source": "biorxiv", "license": "cc_by", **extra}


def test_the_chinese_edition_translates_a_paper_page_s_link_words(mixed: tuple[Path, list[Paper]]) -> None:
    """zh-CN: 'full text', '<server> doi' and 'journal doi' in the catalog's words; abs, pdf, html
    and an arXiv paper's doi are the labels arXiv and publishers use everywhere, kept as they are."""
    out, bio = mixed
    zh = build_site(out.parent / "site", out.parent / "zh", SITEURL=SITE + "/zh", FEED_DOMAIN=SITE + "/zh",
                    ARXIV_DIGEST_LIST_ALL=True, ARXIV_DIGEST_TOPIC_PAGE_SIZE=1000, DEFAULT_LANG="zh-CN")
    published = 0
    for p in bio:
        page = doc(zh / "papers" / p.id / "index.html")
        content = f"https://www.biorxiv.org/content/{p.id}v{p.version}"
        links = {a.text_content(): a.get("href") for a in page.cssselect("p.links a")}
        expected = {"abs": content, "pdf": f"{content}.full.pdf", "全文": f"{content}.full",
                    "bioRxiv DOI": f"https://doi.org/{p.id}"}
        if p.doi:
            published += 1
            expected["期刊 DOI"] = f"https://doi.org/{p.doi}"
        assert links == expected
    assert published >= 3
    arxiv_ids = [a.get("id") for a in doc(zh / "2024/11/28/index.html").cssselect("article.paper")
                 if a.get("data-source") == "arxiv"]
    assert len(arxiv_ids) > 400
    for pid in arxiv_ids[:50]:
        page = doc(zh / "papers" / pid / "index.html")
        assert [a.text_content() for a in page.cssselect("p.links a")][:3] == ["abs", "pdf", "html"]


def test_hostile_preprint_text_and_ids_stay_text(tmp_path: Path) -> None:
    good = "10.1101/2024.11.27.000001"
    bad_ids = ("10.1101/../../../index", "10.1101/<b>x</b>", "10.1101/2024..1")
    site = make_site(tmp_path / "site", days={"2024-11-27": {**day("2024-11-27", [
        preprint(good, HOSTILE_TITLE, doi="10.1000/<i>j</i>"),
        *(preprint(b, f"Pruning with a path for an id {i}") for i, b in enumerate(bad_ids)),
    ]), "categories": []}}, real=False)
    out = build_site(site, tmp_path / "out", SITEURL=SITE, FEED_DOMAIN=SITE, ARXIV_DIGEST_LIST_ALL=True)
    # only the well-formed DOI gets a page; nothing is written outside papers/10.1101/<that>/
    written = sorted(str(p.relative_to(out / "papers")) for p in (out / "papers").rglob("*") if p.is_file())
    assert written == [f"{good}/index.html"]
    day_page = doc(out / "2024/11/27/index.html")
    for b in bad_ids:
        card = day_page.get_element_by_id(b.replace("/", "-"))
        assert card is not None and not card.cssselect("a.paper-page")
    page = doc(out / "papers" / good / "index.html")
    assert not page.xpath("//*[@onload or @onerror] | //img | //article//svg | //script[contains(., 'alert')]")
    assert HOSTILE_TITLE.replace("  ", " ") in page.cssselect("h1.title")[0].text_content()
    assert HOSTILE_AUTHOR in page.cssselect("p.authors")[0].text_content()
    assert HOSTILE_CATEGORY in [c.text_content() for c in page.cssselect("span.cat")]
    assert page.cssselect("meta[name=citation_title]")[0].get("content") == HOSTILE_TITLE
    journal = [a.get("href") for a in page.cssselect("p.links a") if a.text_content() == "journal doi"]
    assert journal == ["https://doi.org/10.1000/<i>j</i>"]  # an attribute value, escaped by the template
    # BibTeX: one field per value, every TeX special escaped, ids made key-safe
    entries = parse_bib((out / "bib/2024-11-27.bib").read_text(encoding="utf-8"))
    assert [e["ID"] for e in entries] == ["bioRxiv:" + x.replace("/", "-") for x in (good,)] + [
        "bioRxiv:10.1101-..-..-..-index", "bioRxiv:10.1101--b-x--b-", "bioRxiv:10.1101-2024..1"]
    title = entries[0]["title"]
    assert "\\input" not in title.replace("\\textbackslash{}input", "")
    assert r"\textbraceright{}, {@}misc\textbraceleft{}evil" in title and r"100\% \& \#1\_" in title
    assert entries[0]["author"].startswith(r"{Eve <img src=x onerror=alert(2)> \textbraceleft{}\textbackslash{}")
    assert entries[0]["note"] == "Preprint, version 1; published as doi:10.1000/<i>j</i>"
    # COinS: the title and the DOI come back exactly
    coins = parse_qs(day_page.get_element_by_id(good.replace("/", "-")).cssselect("span.Z3988")[0].get("title"))
    assert coins["rft.atitle"] == [" ".join(HOSTILE_TITLE.split())] and f"info:doi/{good}" in coins["rft_id"]
    # the Chinese edition: the same escaping around its link words
    zh = doc(build_site(site, tmp_path / "zh", SITEURL=SITE, FEED_DOMAIN=SITE, ARXIV_DIGEST_LIST_ALL=True,
                        DEFAULT_LANG="zh-CN") / "papers" / good / "index.html")
    assert not zh.xpath("//*[@onload or @onerror] | //img | //article//svg | //script[contains(., 'alert')]")
    links = {a.text_content(): a.get("href") for a in zh.cssselect("p.links a")}
    assert links["期刊 DOI"] == "https://doi.org/10.1000/<i>j</i>" and links["bioRxiv DOI"] == f"https://doi.org/{good}"


def test_near_duplicates_across_sources_are_linked_both_ways(
        site_dir: Path, arxiv_server: ArxivServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A real medRxiv preprint posted again on bioRxiv under another DOI (same title) two days
    later, and a real arXiv paper of the shipped day posted on bioRxiv the next day: each pair is
    linked both ways (`related` on both papers, in both day files)."""
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.0\nARXIV_DIGEST_RETRIES = 1\n")
    with open(site_dir / "digest.yaml", "a", encoding="utf-8") as f:
        f.write("\nsources:\n  arxiv:\n  biorxiv:\n  medrxiv:\n")
    monkeypatch.setenv("ARXIV_DIGEST_BIORXIV_API_URL", arxiv_server.base_url)  # type: ignore[attr-defined]
    data = site_dir / "content" / "digests"
    (data / "2024").mkdir()
    (data / "2024" / REAL_DAY.name).write_bytes(REAL_DAY.read_bytes())
    arxiv_rec = json.loads(REAL_DAY.read_text(encoding="utf-8"))["papers"][3]
    med = by_doi_records("medrxiv")[0]
    bio_template = by_doi_records("biorxiv")[0]

    def post(server: str, date: str, recs: list[dict[str, Any]]) -> None:
        serve_interval(arxiv_server, server, date, date, recs)
        code = main(["-s", str(site_dir / "pelicanconf.py"), "update", "--source", server, "--date", date,
                     "--now", "2024-12-05T08:00:00+00:00"])
        assert code == 0, capsys.readouterr().err

    med_doi, med_twin = "10.1101/2024.11.27.24318001", "10.1101/2024.11.29.618002"
    post("medrxiv", "2024-11-27", [{**med, "doi": med_doi, "date": "2024-11-27", "version": "1"}])
    arxiv_twin = "10.1101/2024.11.29.618001"
    post("biorxiv", "2024-11-29", [
        {**bio_template, "doi": arxiv_twin, "date": "2024-11-29", "version": "1",
         "title": arxiv_rec["title"], "abstract": arxiv_rec["abstract"]},
        {**bio_template, "doi": med_twin, "date": "2024-11-29", "version": "1",
         "title": med["title"], "abstract": med["abstract"]},
    ])

    def related(date: str, pid: str) -> set[tuple[str, str]]:
        stored = json.loads((data / date[:4] / f"{date}.json").read_text(encoding="utf-8"))
        (p,) = [p for p in stored["papers"] if p["id"] == pid]
        return {(r["date"], r["id"]) for r in p["related"]}

    assert ("2024-11-28", arxiv_rec["id"]) in related("2024-11-29", arxiv_twin)
    assert ("2024-11-29", arxiv_twin) in related("2024-11-28", arxiv_rec["id"])
    assert ("2024-11-27", med_doi) in related("2024-11-29", med_twin)
    assert ("2024-11-29", med_twin) in related("2024-11-27", med_doi)
