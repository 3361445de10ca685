"""Tiny-site build test: a day fetched from the recorded feed, built by Pelican, checked as HTML."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from arxiv_digest.cli import main
from arxiv_server import ArxivServer
from conftest import CATS, build_site
from lxml import etree, html

THU = "2024-11-28T10:17:00+00:00"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def day_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site whose content is the 2024-11-28 feed, fetched over HTTP by the real CLI."""
    from conftest import ROOT

    site = tmp_path_factory.mktemp("site")
    for name in ("pelicanconf.py", "digest.yaml"):
        shutil.copy(ROOT / name, site / name)
    shutil.copytree(ROOT / "theme", site / "theme")
    (site / "content").mkdir()
    server = ArxivServer()
    base = server.start()
    server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    mp = pytest.MonkeyPatch()
    mp.setenv("ARXIV_DIGEST_RSS_URL", f"{base}/rss")
    try:
        assert main(["-s", str(site / "pelicanconf.py"), "update", "--now", THU]) == 0
    finally:
        mp.undo()
        server.stop()
    return site


@pytest.fixture(scope="module")
def built(day_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(day_site, tmp_path_factory.mktemp("out"))


def page(built: Path) -> html.HtmlElement:
    return html.fromstring((built / "2024/11/28/index.html").read_bytes())


def test_day_page_exists_at_its_date(built: Path) -> None:
    assert (built / "2024/11/28/index.html").is_file()
    assert (built / "index.html").is_file()


def test_every_toc_link_resolves_to_a_paper(built: Path) -> None:
    doc = page(built)
    links = doc.cssselect("nav.toc a[href^='#']")
    assert len(links) > 10  # the papers about a topic
    ids = {el.get("id") for el in doc.cssselect("article.paper")}
    targets = [a.get("href")[1:] for a in links]
    assert set(targets) == ids  # every link resolves and every paper is in the TOC
    assert len(targets) == len(set(targets))
    assert all(re.fullmatch(r"\d{4}\.\d{4,5}", t) for t in targets)


def test_paper_markup_contract(built: Path) -> None:
    doc = page(built)
    papers = doc.cssselect("article.paper")
    for p in papers:
        assert p.get("data-announce") in {"new", "cross", "replace", "replace-cross"}
        tags = p.get("data-tags").split()
        assert tags and set(tags) <= {"pruning", "quantization", "kv-cache", "sparsity"}
        for cls in ("title", "authors", "abstract"):
            assert p.cssselect(f".{cls}"), (p.get("id"), cls)
        # the topics of data-tags are exactly the topics bolded in that paper
        bolded = {s.get("data-tag") for s in p.cssselect("strong.kw")}
        assert bolded == set(tags)
    # default listing: only tagged papers, replacements shown apart and marked
    assert {p.get("data-announce") for p in papers} >= {"new", "replace"}
    updated = doc.cssselect("section.updated article.paper")
    assert updated and all(p.get("data-announce").startswith("replace") for p in updated)


def test_keywords_are_bolded_as_whole_words(built: Path) -> None:
    text = (built / "2024/11/28/index.html").read_text()
    bolded = re.findall(r'<strong class="kw" data-tag="([\w-]+)">([^<]+)</strong>', text)
    assert len(bolded) > 50
    assert not re.search(r'\w<strong class="kw"', text)
    assert not re.search(r'<strong class="kw" data-tag="[\w-]+">[^<]+</strong>\w', text)
    words = {w for _, w in bolded}
    assert {"Sparse", "sparse", "pruning", "quantized", "KV cache"} <= words


def test_counts_in_the_header(built: Path) -> None:
    doc = page(built)
    counts = doc.cssselect(".counts")[0].text_content()
    assert "513" in counts  # announced in the categories
    listed = len(doc.cssselect("article.paper"))
    assert str(listed) in counts


def test_feed_has_an_entry_per_paper_of_the_day(built: Path) -> None:
    feed = etree.parse(str(built / "feeds/all.atom.xml")).getroot()
    entries = feed.findall(f"{ATOM}entry")
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    listed = [a.get("id") for a in page(built).cssselect("article.paper")]
    assert links == [f"https://digest.example.org/papers/{pid}/" for pid in listed]
    entry = entries[0]
    assert entry.find(f"{ATOM}id").text.startswith("tag:digest.example.org,2024-11-28:/papers/")
    assert "strong" in (entry.find(f"{ATOM}content").text or "")  # keywords bold in the abstract
    rss = etree.parse(str(built / "feeds/all.rss.xml")).getroot()
    assert rss.find("channel/item/link").text == links[0]


def test_two_builds_are_byte_identical(day_site: Path, built: Path, tmp_path: Path) -> None:
    again = build_site(day_site, tmp_path / "again")

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file()}

    first, second = files(built), files(again)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_untrusted_text_is_escaped(day_site: Path, tmp_path: Path) -> None:
    site = tmp_path / "evil"
    shutil.copytree(day_site, site)
    path = site / "content/digests/2024/2024-11-28.json"
    day = json.loads(path.read_text())
    evil = dict(day["papers"][0], id="2411.00001", announce_type="new",
                title='<img src=x onerror="alert(1)"> Sparse </p><script>alert(2)</script>',
                authors=["<b>Eve</b>", 'Mallory "&" Co'],
                abstract="We propose sparse attention for LLMs: we prune </div></article> weights "
                         "& more <!-- x -->")
    day["papers"].insert(0, evil)
    path.write_text(json.dumps(day))
    out = build_site(site, tmp_path / "out")
    text = (out / "2024/11/28/index.html").read_text()
    assert "<img src=x" not in text and "<script>alert(2)" not in text and "<b>Eve</b>" not in text
    assert "&lt;img src=x onerror=" in text and "&lt;b&gt;Eve&lt;/b&gt;" in text
    doc = html.fromstring(text)
    card = doc.get_element_by_id("2411.00001")
    assert "</div></article>" in card.cssselect(".abstract")[0].text_content()
    assert card.cssselect(".title strong.kw")[0].text == "Sparse"


def test_list_all_and_hidden_replacements(day_site: Path, tmp_path: Path) -> None:
    out = build_site(day_site, tmp_path / "all", ARXIV_DIGEST_LIST_ALL=True,
                     ARXIV_DIGEST_REPLACEMENTS="hide")
    doc = page(out)
    papers = doc.cssselect("article.paper")
    assert len(papers) == 513 - 183  # every new and cross-listed paper, no replacements
    assert not [p for p in papers if p.get("data-announce").startswith("replace")]
    assert [p for p in papers if p.get("data-tags") == ""]


def test_near_duplicates_link_to_the_earlier_day(day_site: Path, tmp_path: Path) -> None:
    """A re-submission under a new id links to the first one's day page and anchor."""
    site = tmp_path / "dup"
    shutil.copytree(day_site, site)
    path = site / "content/digests/2024/2024-11-28.json"
    day = json.loads(path.read_text())
    first = next(p for p in day["papers"] if p["tags"] and p["announce_type"] == "new")
    earlier = dict(day, date="2024-11-27", papers=[dict(first, id="2411.00002")],
                   announced={"new": 1})
    (site / "content/digests/2024/2024-11-27.json").write_text(json.dumps(earlier))
    first["related"] = [{"date": "2024-11-27", "id": "2411.00002"}]
    path.write_text(json.dumps(day))
    out = build_site(site, tmp_path / "out")
    card = page(out).get_element_by_id(first["id"])
    link = card.cssselect(".related a")[0]
    assert link.get("href") == "https://digest.example.org/2024/11/27/#2411.00002"
    target = html.fromstring((out / "2024/11/27/index.html").read_bytes())
    assert target.get_element_by_id("2411.00002") is not None
