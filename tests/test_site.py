"""The reader's site, built from a small multi-day archive: pages, archive, topics, feeds, assets.

Checks what a reader or a feed reader gets: the HTML pages and their links, the archive calendar,
topic pages across days, Atom and RSS feeds against the formats' rules, stable feed ids, the
self-hosted assets, the page weight, and a byte-identical rebuild including the search index.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from conftest import ROOT, build_site
from lxml import etree, html
from sitedata import (
    ALL_DAYS,
    MATH_ID,
    index_search,
    make_site,
    real_day_with,
    summarize_days,
)

SITE = "https://digest.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
TOPICS = ("pruning", "quantization", "kv-cache", "sparsity")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_site(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="module")
def out(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = build_site(site, tmp_path_factory.mktemp("out"))
    index_search(output)
    return output


def doc(out: Path, rel: str) -> html.HtmlElement:
    path = out / rel
    if path.is_dir() or rel.endswith("/"):
        path = path / "index.html"
    return html.fromstring(path.read_bytes())


def day_url(iso: str) -> str:
    return f"{iso[:4]}/{iso[5:7]}/{iso[8:]}/"


def resolve(out: Path, page_rel: str, href: str) -> Path:
    """The output file a same-site link points to."""
    url = urljoin(f"{SITE}/{page_rel}", href)
    path = urlsplit(url).path
    assert url.startswith(SITE), url
    target = out / path.lstrip("/")
    return target / "index.html" if path.endswith("/") else target


# -- pages ---------------------------------------------------------------------------------------


def test_home_page_shows_the_latest_day(out: Path) -> None:
    home = doc(out, "index.html")
    latest = day_url(ALL_DAYS[-1])
    assert home.cssselect("link[rel=canonical]")[0].get("href") == f"{SITE}/{latest}"
    assert home.cssselect("h1 a")[0].get("href") == f"{SITE}/{latest}"
    assert "26 December 2024" in home.cssselect("h1")[0].text_content()
    home_ids = [a.get("id") for a in home.cssselect("article.paper")]
    day_ids = [a.get("id") for a in doc(out, latest).cssselect("article.paper")]
    assert home_ids == day_ids == ["2412.30001", "2412.30002"]


def test_every_day_page_links_to_the_previous_and_next_day(out: Path) -> None:
    for i, iso in enumerate(ALL_DAYS):
        page = doc(out, day_url(iso))
        navs = page.cssselect("nav.day-nav")
        assert len(navs) == 2  # above and below the papers
        for nav in navs:
            prev, nxt = nav.cssselect("a[rel=prev]"), nav.cssselect("a[rel=next]")
            if i == 0:
                assert not prev and "First day" in nav.text_content()
            else:
                assert prev[0].get("href") == f"{SITE}/{day_url(ALL_DAYS[i - 1])}"
            if i == len(ALL_DAYS) - 1:
                assert not nxt and "Latest day" in nav.text_content()
            else:
                assert nxt[0].get("href") == f"{SITE}/{day_url(ALL_DAYS[i + 1])}"
            for a in (*prev, *nxt):
                assert resolve(out, day_url(iso), a.get("href")).is_file()
    # the labels of the two navigation landmarks differ (one landmark label per purpose)
    labels = [n.get("aria-label") for n in doc(out, day_url(ALL_DAYS[2])).cssselect("nav")]
    assert len(labels) == len(set(labels))


def test_archive_lists_every_month_and_day_with_counts(out: Path) -> None:
    page = doc(out, "archives/")
    months = page.cssselect("section.month")
    assert [m.get("id") for m in months] == ["m-2024-12", "m-2024-11"]  # newest first
    for m, days_in_month in zip(months, (31, 30), strict=True):
        cells = [td for td in m.cssselect("td") if "pad" not in td.get("class")]
        assert len(cells) == days_in_month  # every date is there: no gaps

    def cell(month: html.HtmlElement, day: int) -> html.HtmlElement:
        for td in month.cssselect("td"):
            d = td.cssselect(".d")
            if d and d[0].text_content() == str(day):
                return td
        raise AssertionError(day)

    dec, nov = months
    thu = cell(nov, 28)
    assert thu.get("class") == "digest"
    assert thu.cssselect("a")[0].get("href") == f"{SITE}/2024/11/28/"
    listed = len(doc(out, "2024/11/28/").cssselect("article.paper"))
    assert f"{listed} papers" in thu.text_content()
    assert "1 paper" in cell(dec, 24).text_content()
    for td in (cell(nov, 30), cell(dec, 1), cell(dec, 28)):  # weekends
        assert td.get("class") == "weekend" and "no announcement" in td.text_content()
    xmas = cell(dec, 25)
    assert xmas.get("class") == "holiday" and "no announcement" in xmas.text_content()
    assert cell(nov, 26).get("class") == "missing"
    assert "not archived" in cell(nov, 26).text_content()
    assert "3 days" in dec.cssselect("h2")[0].text_content()
    assert "3 days" in nov.cssselect("h2")[0].text_content()
    for a in page.cssselect("td.digest a"):
        assert resolve(out, "archives/", a.get("href")).is_file()


def test_topic_pages_list_papers_across_days_newest_first_paginated(out: Path) -> None:
    expected = []  # (date, id) of every sparsity paper, newest day first, page order within a day
    for iso in reversed(ALL_DAYS):
        for art in doc(out, day_url(iso)).cssselect("article.paper"):
            if "sparsity" in art.get("data-tags").split():
                expected.append((iso, art.get("id")))
    assert len(expected) > 25  # more than one page

    seen = []
    rel = "topics/sparsity/"
    pages = 0
    while rel:
        pages += 1
        page = doc(out, rel)
        cards = page.cssselect("article.paper")
        assert 0 < len(cards) < 2 * 25  # the landing page: the newest whole parts (site/topics.py)
        for section in page.cssselect("section.topic-day"):
            for a in section.cssselect("h3.title a"):
                target = resolve(out, rel, a.get("href"))
                frag = urlsplit(a.get("href")).fragment
                assert html.fromstring(target.read_bytes()).get_element_by_id(frag) is not None
                iso = "-".join(target.parent.parts[-3:])
                seen.append((iso, frag))
        nxt = page.cssselect("nav.pager a[rel=next]")
        if nxt:
            assert page.cssselect("link[rel=next]")
        rel = urlsplit(nxt[0].get("href")).path.lstrip("/") if nxt else ""
    assert pages == 1 and seen == expected  # 34 papers: parts 2 (9 papers) and 1, both on it
    # parts numbered from the oldest paper, 25 each; the old newest-first page 2 redirects
    first, second = doc(out, "topics/sparsity/part/1/"), doc(out, "topics/sparsity/part/2/")
    assert len(first.cssselect("article.paper")) == 25 and len(second.cssselect("article.paper")) == 9
    assert first.cssselect("a[rel=prev]")[0].get("href") == f"{SITE}/topics/sparsity/part/2/"
    assert second.cssselect("a[rel=prev]")[0].get("href") == f"{SITE}/topics/sparsity/"
    moved = doc(out, "topics/sparsity/page/2/")
    assert moved.cssselect("link[rel=canonical]")[0].get("href") == f"{SITE}/topics/sparsity/"


def test_topic_index_and_each_topic_page_offer_its_feeds(out: Path) -> None:
    index = doc(out, "topics/")
    names = [a.text_content() for a in index.cssselect(".topic-list h2 a")]
    assert names == list(TOPICS)
    for t in TOPICS:
        page = doc(out, f"topics/{t}/")
        alternates = {ln.get("type"): ln.get("href") for ln in page.cssselect("link[rel=alternate]")
                      if t in (ln.get("title") or "")}
        assert alternates == {
            "application/atom+xml": f"{SITE}/feeds/topics/{t}.atom.xml",
            "application/rss+xml": f"{SITE}/feeds/topics/{t}.rss.xml",
        }
        assert (out / f"feeds/topics/{t}.atom.xml").is_file()
        assert (out / f"feeds/topics/{t}.rss.xml").is_file()


def test_day_page_controls(out: Path) -> None:
    page = doc(out, "2024/11/28/")
    papers = page.cssselect("article.paper")
    buttons = page.cssselect(".filter button[data-topic]")
    assert [b.get("data-topic") for b in buttons] == ["", *TOPICS]
    assert buttons[0].get("aria-pressed") == "true"
    for b in buttons[1:]:
        n = int(b.cssselect(".n")[0].text_content())
        assert n == sum(b.get("data-topic") in p.get("data-tags").split() for p in papers)
    for p in papers:
        pid = p.get("id")
        links = {a.text_content(): a.get("href") for a in p.cssselect(".links a")}
        v = p.cssselect(".arxiv-id")[0].text_content().split("v")[-1]
        assert links["abs"] == f"https://arxiv.org/abs/{pid}v{v}"
        assert links["pdf"] == f"https://arxiv.org/pdf/{pid}v{v}"
        assert links["html"] == f"https://arxiv.org/html/{pid}v{v}"
        assert p.cssselect("a.anchor")[0].get("href") == f"#{pid}"
        assert p.cssselect("button.copy")[0].get("data-id") == pid
        # the summary first; the abstract folded under it, open only where there is no summary
        has_summary = not p.cssselect(".summary.pending") and bool(p.cssselect(".summary .tldr"))
        assert (p.cssselect("details.abstract")[0].get("open") is None) == has_summary
    assert any(not p.cssselect(".summary.pending") for p in papers)  # the shipped day is summarized


def test_math_survives_highlighting_and_escaping(out: Path) -> None:
    text = (out / "2024/11/27/index.html").read_text(encoding="utf-8")
    page = html.fromstring(text)
    card = page.get_element_by_id(MATH_ID)
    title = card.cssselect(".title")[0]
    assert r"$O(n \log n)$" in title.text_content()
    assert r"$\mathcal{L}_{sparse}$" in title.text_content()  # "sparse" inside math: not bolded
    assert [s.text for s in title.cssselect("strong.kw")] == ["Sparse"]
    abstract = card.cssselect(".abstract p")[0]
    # each formula is one unbroken text run, never split by a <strong>
    for formula in (r"$W \in \mathbb{R}^{d \times d}$", "$a<b$", "$c>d$",
                    r"$$\sum_{i=1}^{n} w_i^2 \le \epsilon$$", "$x</p><script>alert(1)</script>$"):
        assert any(formula in (t or "") for t in abstract.itertext()), formula
    assert "$x&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;$" in text
    assert "<script>alert(1)" not in text
    assert {s.text for s in abstract.cssselect("strong.kw")} == {"prune", "quantize"}


def test_no_asset_comes_from_another_host(out: Path) -> None:
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 10
    for path in pages:
        page = html.fromstring(path.read_bytes())
        for el in page.xpath("//script[@src] | //link[@href] | //img[@src] | //iframe | //source"):
            url = el.get("src") or el.get("href") or ""
            if el.tag == "link" and el.get("rel") in ("canonical", "alternate", "prev", "next"):
                continue
            assert url.startswith(f"{SITE}/"), (path, url)
    for path in (*out.rglob("theme/**/*.css"), *out.rglob("theme/**/*.js")):
        body = path.read_text(encoding="utf-8", errors="replace")
        urls = re.findall(r"url\((?!data:)['\"]?([^)'\"]+)", body) if path.suffix == ".css" else []
        for u in urls:
            assert "//" not in u, (path, u)
        if path.suffix == ".js" and "vendor" not in path.parts:
            assert "http" not in body, path


def test_katex_is_vendored_with_its_license(out: Path) -> None:
    kt = out / "theme/vendor/katex"
    for rel in ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js", "LICENSE"):
        assert (kt / rel).is_file(), rel
    css = (kt / "katex.min.css").read_text(encoding="utf-8")
    woff2 = set(re.findall(r"url\((fonts/[\w-]+\.woff2)\)", css))
    assert len(woff2) >= 19
    missing = [f for f in woff2 if not (kt / f).is_file()]
    assert missing == []


def test_every_internal_link_resolves(out: Path) -> None:
    broken = []
    for path in sorted(out.rglob("*.html")):
        if "pagefind" in path.parts:
            continue
        rel = str(path.relative_to(out).parent) + "/"
        rel = "" if rel == "./" else rel
        page = html.fromstring(path.read_bytes())
        ids = set(page.xpath("//@id"))
        for a in page.cssselect("a[href]"):
            href = a.get("href")
            if href.startswith("#"):
                if href[1:] not in ids:
                    broken.append((str(path), href))
                continue
            if not href.startswith(SITE):
                continue
            target = resolve(out, rel, href)
            if not target.is_file():
                broken.append((str(path), href))
    assert broken == []


# -- feeds ---------------------------------------------------------------------------------------


def feed_files(out: Path) -> list[Path]:
    files = sorted(out.glob("feeds/**/*.xml"))
    assert len(files) == 2 + 2 * len(TOPICS)
    return files


def check_atom(path: Path, url: str) -> list[etree._Element]:
    """Atom 1.0 (RFC 4287): required elements, unique ids, RFC 3339 dates, a self link."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, (path, name)
    assert urlsplit(root.findtext(f"{ATOM}id")).scheme
    assert RFC3339.match(root.findtext(f"{ATOM}updated"))
    selfs = [ln.get("href") for ln in root.findall(f"{ATOM}link") if ln.get("rel") == "self"]
    assert selfs == [url]
    feed_author = root.find(f"{ATOM}author") is not None
    entries = root.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(ids) == len(set(ids))
    for e in entries:
        for name in ("id", "title", "updated"):
            assert len(e.findall(f"{ATOM}{name}")) == 1, (path, name)
        assert urlsplit(e.findtext(f"{ATOM}id")).scheme in ("tag", "https")
        assert RFC3339.match(e.findtext(f"{ATOM}updated"))
        if e.find(f"{ATOM}published") is not None:
            assert RFC3339.match(e.findtext(f"{ATOM}published"))
        assert feed_author or e.find(f"{ATOM}author/{ATOM}name") is not None
        alternate = [ln for ln in e.findall(f"{ATOM}link") if ln.get("rel", "alternate") == "alternate"]
        assert alternate and alternate[0].get("href").startswith(f"{SITE}/")
        content = e.find(f"{ATOM}content")
        assert content is not None and content.get("type") == "html" and content.text
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    if updated:
        assert root.findtext(f"{ATOM}updated") == max(updated)
    return entries


def check_rss(path: Path, url: str) -> list[etree._Element]:
    """RSS 2.0: channel title/link/description, items with title, link, unique guid, RFC 822 dates."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for name in ("title", "link", "description"):
        assert channel.find(name) is not None, (path, name)
    selfs = [ln.get("href") for ln in channel.findall(f"{ATOM}link") if ln.get("rel") == "self"]
    assert selfs == [url]
    items = channel.findall("item")
    guids = [i.findtext("guid") for i in items]
    assert len(guids) == len(set(guids)) and all(guids)
    for item in items:
        assert item.findtext("title") and item.findtext("link").startswith(f"{SITE}/")
        assert item.findtext("description")
        assert email.utils.parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
    if channel.find("lastBuildDate") is not None:
        email.utils.parsedate_to_datetime(channel.findtext("lastBuildDate"))
    return items


def test_every_feed_follows_the_atom_or_rss_rules(out: Path) -> None:
    for path in feed_files(out):
        url = f"{SITE}/{path.relative_to(out)}"
        if path.name.endswith(".atom.xml"):
            check_atom(path, url)
        else:
            check_rss(path, url)


def test_site_feeds_carry_one_entry_per_paper_of_the_newest_days(out: Path) -> None:
    newest = list(reversed(ALL_DAYS))[:5]  # ARXIV_DIGEST_FEED_DAYS
    expected = [f"{SITE}/papers/{a.get('id')}/"
                for iso in newest for a in doc(out, day_url(iso)).cssselect("article.paper")]
    entries = check_atom(out / "feeds/all.atom.xml", f"{SITE}/feeds/all.atom.xml")
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links == expected
    assert not any(f"/papers/{pid}/" in "".join(links) for pid in ("2411.80001",))  # the oldest day is out
    real = entries[links.index(f"{SITE}/papers/2411.17713/")]
    content = html.fromstring(real.findtext(f"{ATOM}content"))
    assert not content.cssselect("button, article, nav")  # a clean entry, not the page's markup
    assert content.cssselect("strong.kw")
    assert all(a.get("href").startswith(("https://", "http://")) for a in content.cssselect("a"))
    items = check_rss(out / "feeds/all.rss.xml", f"{SITE}/feeds/all.rss.xml")
    assert [i.findtext("link") for i in items] == expected


def test_topic_feeds_have_one_entry_per_paper_of_that_topic(out: Path) -> None:
    for t in TOPICS:
        page_ids = []
        for iso in reversed(ALL_DAYS):
            for art in doc(out, day_url(iso)).cssselect("article.paper"):
                if t in art.get("data-tags").split():
                    page_ids.append(f"{SITE}/papers/{art.get('id')}/")
        entries = check_atom(out / f"feeds/topics/{t}.atom.xml", f"{SITE}/feeds/topics/{t}.atom.xml")
        links = [e.find(f"{ATOM}link").get("href") for e in entries]
        assert links == page_ids[:30]  # newest first, FEED_MAX_ITEMS
        for e in entries:
            assert t in [c.get("term") for c in e.findall(f"{ATOM}category")]
            body = html.fromstring(e.findtext(f"{ATOM}content"))
            title = (e.findtext(f"{ATOM}title") or "").lower()  # plain text: never bolded
            assert body.cssselect(f"strong.kw[data-tag='{t}']") or t == "kv-cache" or t[:5] in title
        items = check_rss(out / f"feeds/topics/{t}.rss.xml", f"{SITE}/feeds/topics/{t}.rss.xml")
        assert [i.findtext("link") for i in items] == page_ids[:30]
    kv = check_atom(out / "feeds/topics/kv-cache.atom.xml", f"{SITE}/feeds/topics/kv-cache.atom.xml")
    assert kv[0].findtext(f"{ATOM}title") == "Key-value caching for speculative decoding"
    assert kv[0].findtext(f"{ATOM}id") == "tag:digest.example.org,2024-12-26:/papers/2412.30001/"


def ids_of(out: Path) -> dict[str, dict[str, str]]:
    """feed file -> {entry link: entry id}, plus the feed's own id under the key ""."""
    found = {}
    for path in feed_files(out):
        root = etree.parse(str(path)).getroot()
        ids = {e.find(f"{ATOM}link").get("href"): e.findtext(f"{ATOM}id")
               for e in root.iter(f"{ATOM}entry")}
        ids.update({i.findtext("link"): i.findtext("guid") for i in root.iter("item")})
        ids[""] = root.findtext(f"{ATOM}id") or root.findtext("channel/link")
        found[path.name] = ids
    return found


def test_feed_ids_never_change_on_rebuild_or_when_a_day_is_added(
    site: Path, out: Path, tmp_path: Path
) -> None:
    before = ids_of(out)
    again = build_site(site, tmp_path / "again")
    assert ids_of(again) == before
    grown = tmp_path / "grown"
    shutil.copytree(site, grown)
    extra = json.loads((site / "content/digests/2024/2024-12-26.json").read_text())
    extra["date"] = "2024-12-27"
    extra["papers"] = [dict(p, id=p["id"].replace("2412.3", "2412.4")) for p in extra["papers"]]
    (grown / "content/digests/2024/2024-12-27.json").write_text(json.dumps(extra))
    after = ids_of(build_site(grown, tmp_path / "grown-out"))
    kept = 0
    for name, ids in before.items():
        assert after[name][""] == ids[""], name  # the feed keeps its id
        for link, entry_id in ids.items():
            if link in after[name]:  # still in the feed (feeds hold the newest 30)
                assert after[name][link] == entry_id, (name, link)
                kept += 1
        if not name.startswith("all."):  # the site feeds hold the newest days only
            assert len(after[name]) >= len(ids)
    assert kept > 100


def test_two_builds_are_byte_identical_including_the_search_index(
    site: Path, out: Path, tmp_path: Path
) -> None:
    again = build_site(site, tmp_path / "again")
    index_search(again)

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    first, second = files(out), files(again)
    assert any(k.startswith("pagefind/") for k in first)
    # Pagefind 1.5 writes a filter's values in hash-map order (upstream issue Pagefind/pagefind#638:
    # "filter/metadata indexes" still change between runs): those files, and the entry and meta
    # files that name them by hash, hold the same content in another order. Everything else is
    # byte-identical.
    unordered = re.compile(r"pagefind/[\w-]+/(filter/.*\.pf_filter|pagefind\..*\.pf_meta|pagefind-entry\.json)$")

    def content(files: dict[str, bytes]) -> tuple[dict[str, bytes], list[bytes]]:
        exact = {k: v for k, v in files.items() if not unordered.match(k)}
        # filter files: the same bytes in another order; meta and entry: hashes of other names
        loose = sorted(bytes(sorted(gzip.decompress(v))) if k.endswith("pf_filter") else
                       len(gzip.decompress(v) if k.endswith("pf_meta") else v).to_bytes(8)
                       for k, v in files.items() if unordered.match(k))
        return exact, loose

    (exact1, loose1), (exact2, loose2) = content(first), content(second)
    assert exact1.keys() == exact2.keys()
    assert [k for k in exact1 if exact1[k] != exact2[k]] == []
    assert loose1 == loose2


# -- weight, search index -------------------------------------------------------------------------


def test_a_day_of_300_papers_weighs_under_1_mb(tmp_path: Path) -> None:
    site = make_site(tmp_path / "big", {"2024-11-28": real_day_with(300)}, real=False)
    summarize_days(site, list_all=True)  # the worst case: every paper listed, with its summary
    output = build_site(site, tmp_path / "out", ARXIV_DIGEST_LIST_ALL=True)
    path = output / "2024/11/28/index.html"
    page = html.fromstring(path.read_bytes())
    assert len(page.cssselect("article.paper")) == 300
    assert len(page.cssselect("article.paper .summary .tldr")) > 250
    size = path.stat().st_size
    assert size < 1_000_000, f"{size} bytes"
    assert (output / "index.html").stat().st_size < 1_000_000


def test_make_html_builds_the_search_index(tmp_path: Path) -> None:
    output = tmp_path / "output"
    bin_dir = Path(sys.executable).parent
    proc = subprocess.run(
        ["make", "-C", str(ROOT), "-o", "$(STAMP)", "-o", ".venv/.installed", "html",
         f"OUTPUTDIR={output}", f"PYTHON={sys.executable}", f"PELICAN={bin_dir / 'pelican'}"],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    periods = json.loads((output / "pagefind/periods.json").read_text())["periods"]  # a bundle a year
    entries = [json.loads((output / "pagefind" / p / "pagefind-entry.json").read_text()) for p in periods]
    papers = len(list((output / "papers").glob("*/index.html")))  # one search record per paper
    assert papers > 10
    assert sum(lang["page_count"] for e in entries for lang in e["languages"].values()) == papers
    assert (output / "pagefind" / periods[0] / "pagefind.js").is_file()
    assert not list((output / "pagefind").glob("pagefind-ui*"))  # the page has its own result list
    search = html.fromstring((output / "search/index.html").read_bytes())
    assert search.cssselect("#search[data-bundle]")


def test_a_topic_with_no_paper_yet_has_a_page_and_valid_stable_feeds(tmp_path: Path) -> None:
    from sitedata import day, paper

    days = {"2024-12-02": day("2024-12-02", [paper("2412.00009", "Pruning at scale", "We prune.")])}
    site = make_site(tmp_path / "one", days, real=False)
    first = build_site(site, tmp_path / "a")
    page = doc(first, "topics/kv-cache/")
    assert "No paper on kv-cache yet" in page.text_content()
    entries = check_atom(first / "feeds/topics/kv-cache.atom.xml", f"{SITE}/feeds/topics/kv-cache.atom.xml")
    assert entries == []
    root = etree.parse(str(first / "feeds/topics/kv-cache.atom.xml")).getroot()
    assert root.findtext(f"{ATOM}updated").startswith("2024-12-02T00:00:00")  # the site's newest day
    check_rss(first / "feeds/topics/kv-cache.rss.xml", f"{SITE}/feeds/topics/kv-cache.rss.xml")
    second = build_site(site, tmp_path / "b")
    for name in ("kv-cache.atom.xml", "kv-cache.rss.xml"):
        assert (first / "feeds/topics" / name).read_bytes() == (second / "feeds/topics" / name).read_bytes()
