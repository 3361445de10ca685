"""Prototype and measure listing-based search records (issue 11: re-listed papers re-index old bundles).

Today each paper page is one search record, in the period of its newest listing, so a new version
of an old paper moves its record out of a closed bundle and that bundle is indexed again. The
design measured here makes each period's bundle a function of that period's own listings: one
record per paper card on the period's day pages (article.paper with a "page & cite" link to a
paper page that exists), the card's text rebuilt as the paper page's record markup (title as
the title meta, authors, TL;DR, method, headline, facts, abstract; date meta and sort; year,
month, source, topic and category filters) and indexed by Pagefind's own binary with the paper
page's URL; a paper listed twice in one period keeps its newest card. A later listing adds a
record to a newer period and leaves the old bundle alone; the browser would then hide the older
record (the ids of superseded records per period), which this prototype only counts.

It measures, on a built site (bench_search.py --keep's output):
  - extraction: reading and rebuilding every day page's cards (CPU s), records per period;
  - indexing each chosen period from its records against indexing its paper pages as today
    (CPU s of the Pagefind process, os.wait4), and whether the two bundles hold the same URLs;
  - determinism: the same records indexed twice give the same files (names and bytes; the
    filter files compared by content, Pagefind/pagefind#638).

Run: .venv/bin/python bench/bench_search_listings.py --site /tmp/x/output --periods 2023 2024-11
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lxml.html
from lxml.html import builder as E

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import search_index as si  # noqa: E402 (the script's period rules and Pagefind binary)

DAY_PAGE = re.compile(r"(\d{4})/(\d\d)/(\d\d)/index\.html")
CATEGORY = re.compile(r"[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?")
TOPIC_HREF = re.compile(r"/topics/([^/]+)/")


def day_pages(site: Path) -> list[tuple[str, Path]]:
    """(YYYY-MM-DD, path) of every day page, oldest first."""
    out = []
    for path in site.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/index.html"):
        m = DAY_PAGE.fullmatch(path.relative_to(site).as_posix())
        if m:
            out.append(("-".join(m.groups()), path))
    return sorted(out)


def records(site: Path, date: str, path: Path) -> dict[str, str]:
    """paper page URL -> the record's HTML, one per listed card of this day page."""
    root = lxml.html.fromstring(path.read_bytes())
    lang = root.get("lang", "en")
    out = {}
    for card in root.iterfind(".//article"):
        if "paper" not in (card.get("class") or "").split():
            continue
        link = card.find(".//a[@class='paper-page']")
        href = link.get("href", "") if link is not None else ""
        rel = href.lstrip("/")
        if not href.startswith("/") or not (site / rel / "index.html").is_file():
            continue
        title = card.find("h3")
        parts = [E.H1(*_copy(title), **{"data-pagefind-meta": "title"})]
        for sel in (".//p[@class='authors']", ".//div[@class='summary']//p[@class='tldr']",
                    ".//div[@class='summary']//p[@class='method']",
                    ".//div[@class='summary']//p[@class='headline']",
                    ".//div[@class='summary']//dl[@class='facts']"):
            el = card.find(sel)
            if el is not None:
                parts.append(el)
        marks = []
        for a in card.iterfind(".//a[@class='tag']"):
            m = TOPIC_HREF.search(a.get("href", ""))
            if m:
                marks.append(E.SPAN(a.text_content(), **{"data-pagefind-filter": f"topic:{m.group(1)}"}))
        source = card.get("data-source", "")
        cats = card.find(".//span[@class='categories']")
        if source == "arxiv" and cats is not None:
            for c in cats.text_content().split():
                if CATEGORY.fullmatch(c):
                    marks.append(E.SPAN(c, **{"data-pagefind-filter": f"category:{c}"}))
        parts.append(E.P(*marks, **{"data-pagefind-ignore": ""}))
        abstract = card.find(".//details[@class='abstract']/p")
        if abstract is not None:
            parts.append(E.SECTION(abstract))
        label = (card.findtext(".//span[@class='arxiv-id source-" + source + "']") or "").split(":")[0]
        body = E.ARTICLE(*parts, **{
            "data-pagefind-body": "", "data-pagefind-meta": f"date:{date}", "data-pagefind-sort": f"date:{date}",
            "data-year": date[:4], "data-month": date[:7], "data-source": label,
            "data-pagefind-filter": "year[data-year], month[data-month], source[data-source]"})
        page = E.HTML(E.HEAD(E.META(charset="utf-8"), E.TITLE(title.text_content())), E.BODY(body), lang=lang)
        out[rel] = "<!DOCTYPE html>\n" + lxml.html.tostring(page, encoding="unicode")
    return out


def _copy(el: lxml.html.HtmlElement) -> list[object]:
    """An element's children and text, for a new element."""
    return [el.text or "", *list(el)]


def index(folder: Path, dest: Path) -> float:
    """Pagefind over a folder of pages; its CPU s."""
    shutil.rmtree(dest, ignore_errors=True)
    proc = subprocess.Popen([*si.pagefind_cmd(), "--site", str(folder), "--output-path", str(dest), "--silent"])
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"pagefind failed on {folder}")
    return usage.ru_utime + usage.ru_stime


def bundle_urls(bundle: Path) -> dict[str, str]:
    """url -> page hash (fragment name) of a bundle."""
    out = {}
    for frag in (bundle / "fragment").iterdir():
        data = gzip.decompress(frag.read_bytes()).removeprefix(b"pagefind_dcd")
        out[json.loads(data)["url"]] = frag.name.split(".")[0]
    return out


def same_bundle(a: Path, b: Path) -> bool:
    """Same files and bytes, the filter files by decoded content."""
    fa = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file() and "filter" not in p.parts)
    fb = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file() and "filter" not in p.parts)
    if fa != fb or any((a / r).read_bytes() != (b / r).read_bytes() for r in fa):
        return False

    def filters(x: Path) -> list[bytes]:
        return sorted(gzip.decompress(p.read_bytes()) for p in (x / "filter").iterdir())
    return len(filters(a)) == len(filters(b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", type=Path, required=True)
    ap.add_argument("--periods", nargs="+", default=["2023"])
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    site = args.site.resolve()
    work = args.work or Path(tempfile.mkdtemp(prefix="listings-"))
    days = day_pages(site)
    newest = days[-1][0][:7]
    t0 = time.process_time()
    by_period: dict[str, dict[str, str]] = {}
    first_period: dict[str, list[str]] = {}
    for date, path in days:
        period = si.period_of(date[:7], newest)
        for rel, html in records(site, date, path).items():
            by_period.setdefault(period, {})[rel] = html  # a later card of the period wins
            first_period.setdefault(rel, [])
            if period not in first_period[rel]:
                first_period[rel].append(period)
    extract = time.process_time() - t0
    multi = sum(1 for v in first_period.values() if len(v) > 1)
    print(f"{len(days)} day pages, {sum(len(v) for v in by_period.values()):,} records "
          f"({len(first_period):,} papers, {multi} in more than one period) in {extract:.2f} CPU s; "
          + ", ".join(f"{p} {len(v)}" for p, v in sorted(by_period.items())), flush=True)
    pages, _ = si.scan(site)
    groups = si.assign(pages, "tiered")
    for period in args.periods:
        recs = by_period.get(period, {})
        folder = work / f"records-{period}"
        shutil.rmtree(folder, ignore_errors=True)
        for rel, html in recs.items():
            (folder / rel).mkdir(parents=True, exist_ok=True)
            (folder / rel / "index.html").write_text(html, encoding="utf-8")
        cpu_a = index(folder, work / f"a-{period}")
        cpu_b = index(folder, work / f"b-{period}")
        pagesdir = work / f"pages-{period}"
        shutil.rmtree(pagesdir, ignore_errors=True)
        for p in groups.get(period, []):
            (pagesdir / p.rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(site / p.rel, pagesdir / p.rel)
        cpu_pages = index(pagesdir, work / f"pages-bundle-{period}")
        ua, up = bundle_urls(work / f"a-{period}"), bundle_urls(work / f"pages-bundle-{period}")
        print(f"{period}: {len(recs):,} records indexed in {cpu_a:.2f} / {cpu_b:.2f} CPU s (two runs; "
              f"same files: {same_bundle(work / f'a-{period}', work / f'b-{period}')}); its "
              f"{len(groups.get(period, [])):,} paper pages as today {cpu_pages:.2f} CPU s; same URLs: "
              f"{set(ua) == set(up)}", flush=True)
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
