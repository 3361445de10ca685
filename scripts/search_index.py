"""The site's search index: Pagefind bundles per period, and only a changed period indexed again.

    python scripts/search_index.py --site output --cache .cache/search/en [--periods tiered]

`make html` (and `html-zh`, `publish-html`) runs it after Pelican. Each page Pagefind would index
(one with `data-pagefind-body`) has the month of the `date:YYYY-MM-DD` in its
`data-pagefind-sort` or `data-pagefind-meta` attribute ("undated" without one). Its period follows
from that month and the archive's newest month (the newest page's, never the clock, so a build is
the same on any day):

  tiered (default)  a closed year (older than the newest page's) is one bundle, "2023"; in the
                    newest year, the quarters before the newest page's quarter are one bundle,
                    "2024-01-to-09", the newest quarter's months before the newest month another,
                    "2024-10-to-11" (or "2024-10"), and the newest month a third, "2024-12". A new
                    day re-indexes its month; the first day of a month re-indexes the quarter's
                    earlier months (at most two), the first day of a quarter the year's earlier
                    quarters (at most three), the first day of a year the closed year: each once.
                    At most 3 bundles beside the closed years: the browser merges bundles one
                    after the other, so each one more costs the first search a round trip.
  month             closed years, and the newest year's months (up to 12 bundles beside the years)
  year              one bundle per year (the whole newest year is indexed again each day)

A period of more records than --max-records (default: as many as one Pagefind process indexes
within --memory-mb, ~3,500 at 450 MB; a closed year at real listing density holds ~4,400, and
Pagefind took 509 MB for it) is indexed as parts: few runs of whole months that each fit,
as even as they can be ("2023-01-to-06", "2023-07-to-12"), and a month that alone is over it as
runs of days ("2024-11-01-to-14"). The parts follow from the period's own records, so a closed
year keeps its parts, and Pagefind's peak memory is bounded whatever the density.

Records (--records): listings (default, as the Makefile) makes every paper page that day pages
list one record per listing, rebuilt from the day page's card, in the listing day's period (a day
page is an article.day with its own URL as data-url and its date as data-date); pages makes
every page with data-pagefind-body one record, in the period of its own date.

For each period the script hashes its pages (path and bytes); a period whose hash is the one it
indexed last time keeps its bundle, byte for byte. A changed period is indexed by Pagefind's own
binary (run directly, not through `python -m pagefind`) over the site, told that period's pages by
its `glob` option (their paths as alternatives, in a pagefind.json: so the result URLs are the
site's, and no folder or link per page is made and removed again), into a fresh folder that
replaces the old one whole; a period with a path a glob could misread ("{", "*", ",", a space...)
is given as a folder of symbolic links instead. When several periods changed (a cold build, a new
year), they are indexed side by side: at most --jobs Pagefind processes (default: one per CPU, at
most 2), biggest first, while their estimated peak memory together stays within --memory-mb
(default 450; Pagefind 1.5 takes ~25 MB + ~0.11 MB a paper page, so at 1,000 days two closed years
never run together, a year and a quarter do). Reading every page is most of the cost of a run that
indexes little, so the hash of each page is kept with its size, mtime, ctime and inode
(CACHE/scan.json, as git's index does) and a page whose stat is unchanged is not read again; a page
written in the last seconds before the scan is read again next time (the "racy" case).

The bundles live in the cache folder (CACHE/<period>/, with CACHE/state.json; for listing records
also CACHE/ids.json, each bundle's page ids, and CACHE/hidden.json, its hidden records' filter
values, both kept by the bundle's digest so a day reads neither again from an unchanged bundle),
which survives a publish build that empties output/ and which the daily workflow keeps, and are
published as output/pagefind/<period>/ (hard links) with:

  output/pagefind/periods.json   the periods, newest first (the search page merges them in order),
                                 and each one's records ("records": the page balances its workers)
  output/pagefind/hidden-filters.<hash>.json  (--records listings, when a record is hidden) the
                                 filter values of each record a newer listing supersedes, which the
                                 page fetches only when a search matches one, to take them out of
                                 its filter counts (periods.json names it: "hidden_filters")

(the search page shows results with its own list on Pagefind's JS API, theme/static/js/search/
search.js, so Pagefind's UI files are not published; an earlier layout's copies are removed)

Everything else under output/pagefind/ and CACHE/ (an earlier layout's single index, a period
that no longer has pages, such as the months of a year now closed, a half-written folder from a
killed run) is removed: no stale search files. A folder inside the site that holds another
edition's index (its own pagefind/periods.json, as output/zh/) is that edition's and is skipped.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import functools
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import lxml.etree
import lxml.html

logger = logging.getLogger("search_index")

FORMAT = 1  # bump when what goes into a bundle changes (every period is then re-indexed)
BUNDLE = "pagefind"  # the bundle folder in the site, as Pagefind names it
PERIODS = "periods.json"
STATE = "state.json"
IDS = "ids.json"  # --records listings: each bundle's URL -> page id (which records the browser hides)
HIDDEN = "hidden.json"  # --records listings: each bundle's hidden records' filter values, kept by bundle digest
HIDDEN_FILTERS = "hidden-filters"  # output/pagefind/hidden-filters.<hash>.json, named in periods.json
SCAN = "scan.json"  # each page's stat, hash and month, so an unchanged page is not read again
SCAN_FORMAT = 4  # 2: a page's hash is over what Pagefind indexes of it (indexed_digest), not its bytes;
# 3: a day page's listing records (--records listings), and which kind of records the scan read;
# 4: a day page's date from its data-date attribute (was: its URL's path)
RECORDS = ("pages", "listings")
# Indexing side by side (a cold build, a rollover): at most this much Pagefind memory at once, as
# estimated by pagefind_mb (issue 11: peak memory <= 500 MB for the search index at 1,000 days).
MEMORY_MB = 450.0
PAGEFIND_BASE_MB = 25.0
PAGEFIND_PAGE_MB = 0.12
# A page path that can go into a Pagefind glob as it is: letters, digits, "_", "-" and "." in
# names that are not "." or "..", "/" only between them (every paper page; anything else, such
# as *?[]{}(),!<> or a backslash, could be glob syntax)
PLAIN_PATH = re.compile(r"(?!\.\.?(?:/|$))[A-Za-z0-9_.-]+(?:/(?!\.\.?(?:/|$))[A-Za-z0-9_.-]+)*")
RACY_NS = 2_000_000_000  # a page written this close to the scan may change again unseen: not kept
UNDATED = "undated"
SCHEMES = ("tiered", "month", "year")
UI_FILES = ("pagefind-ui.js", "pagefind-ui.css")  # an earlier layout published these: removed
# Pagefind's UIs and the highlighter: the search page uses none of them (its own list on the JS
# API), so the period bundles drop these copies.
UNUSED = frozenset(("pagefind-ui.js", "pagefind-ui.css", "pagefind-component-ui.js",
                    "pagefind-component-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
                    "pagefind-highlight.js"))
# Attributes inside a tag (text on a page is escaped: it holds no "<" and no quote that could pass
# for one): data-pagefind-body, and the date Pagefind sorts or shows a page by,
# data-pagefind-sort="date:2024-11-28" (or data-pagefind-meta). The plain test goes first: it is
# a fast search, and most pages (day and topic pages) fail it.
BODY_TEXT = b"data-pagefind-body"
BODY = re.compile(rb"<[a-zA-Z][^<>]*\sdata-pagefind-body[\s=/>]")
DATE = re.compile(rb"""<[a-zA-Z][^<>]*\sdata-pagefind-(?:sort|meta)=["'][^"'<>]*?\bdate:\s*(\d{4}-\d\d)""")
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
YEAR = re.compile(r"\d{4}")
# "2024", "2024-11", "2024-01-to-09"; a part of a month split by days, "2024-11-04-to-15" or "2024-11-04"
PERIOD = re.compile(r"(\d{4})(?:-(\d\d)(?:-(\d\d))?(?:-to-(\d\d))?)?")


class SearchIndexError(Exception):
    """The search index could not be built (Pagefind failed, or a folder could not be written)."""


@dataclass(frozen=True)
class Page:
    """One search record: the path of its page in the site, its hash and its month ("" if
    undated); a listing record (--records listings) also names the day page it is read from and
    that day's date."""

    rel: str
    sha: str
    month: str
    source: str = ""  # the day page a listing record is rebuilt from ("": the page itself)
    date: str = ""  # the listing's day (YYYY-MM-DD), for a listing record


@dataclass(frozen=True)
class Seen:
    """What the last scan knew of one .html file: its stat, hash, whether Pagefind indexes it
    (data-pagefind-body) and its month; for a day page read for listing records, its date and
    each record's paper page path and hash."""

    stat: tuple[int, int, int, int]
    sha: str
    body: bool
    month: str
    date: str = ""
    records: tuple[tuple[str, str], ...] = ()


@functools.cache
def pagefind_version() -> str:
    """The installed Pagefind's version (part of every period's hash): from the name of its
    pagefind-<version>.dist-info folder on sys.path, as importlib.metadata finds it but without
    importing it (~0.1 s of a run that indexes nothing); importlib.metadata if that fails."""
    for folder in sys.path:
        try:
            names = [n for n in os.listdir(folder or ".") if n.startswith("pagefind-") and n.endswith(".dist-info")]
        except OSError:
            continue
        if len(names) == 1:
            return names[0][len("pagefind-"):-len(".dist-info")]
        if names:
            break  # two versions side by side: let importlib.metadata decide
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("pagefind")
    except PackageNotFoundError:
        return "unknown"


@functools.cache
def pagefind_cmd() -> tuple[str, ...]:
    """How to run Pagefind: its binary itself when the wheel's is found (as `python -m pagefind`
    finds it: PAGEFIND_BINARY_PATH, then pagefind_bin_extended, then pagefind_bin), which saves
    a Python start-up and the wrapper's imports per period; else `python -m pagefind`."""
    env = os.environ.get("PAGEFIND_BINARY_PATH")
    if env:
        return (env,)
    for module in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            found = __import__(module).get_executable()
        except (ImportError, AttributeError, OSError):
            continue
        if found and os.access(found, os.X_OK):
            return (str(found),)
    return (sys.executable, "-m", "pagefind")


def html_files(site: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(path in the site, entry) of every .html file, sorted; not the bundle folder, not another
    edition's site. Plain strings and os.scandir: at 1,000 days the site has ~9,000 pages."""
    def walk(folder: str, rel: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        if rel and any(e.name == BUNDLE for e in entries) and os.path.isfile(
                os.path.join(folder, BUNDLE, PERIODS)):
            return  # another edition's site (output/zh/), with its own index
        for entry in entries:
            if entry.name.endswith(".html") and entry.is_file():
                yield rel + entry.name, entry
        for entry in entries:
            if entry.is_dir() and (rel or entry.name != BUNDLE):
                yield from walk(entry.path, f"{rel}{entry.name}/")
    yield from walk(str(site), "")


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    """What says a file is the one seen before: size, mtime, ctime, inode (as git's index)."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def read_scan(cache: Path, records: str = "listings") -> dict[str, Seen]:
    """rel -> what the last scan saw ({} if none, unreadable, of another format or read for
    another kind of records)."""
    try:
        data = json.loads((cache / SCAN).read_text(encoding="utf-8"))
        if (data.get("format") != SCAN_FORMAT or data.get("records") != records
                or not isinstance(data.get("files"), dict)):
            return {}
        out = {}
        for rel, (size, mtime, ctime, ino, sha, body, month, date, recs) in data["files"].items():
            if not (isinstance(sha, str) and isinstance(body, bool) and isinstance(month, str)
                    and isinstance(date, str) and isinstance(recs, list)):
                return {}
            out[str(rel)] = Seen((int(size), int(mtime), int(ctime), int(ino)), sha, body, month, date,
                                 tuple((str(r), str(h)) for r, h in recs))
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_scan(cache: Path, seen: dict[str, Seen], records: str = "listings") -> None:
    """Keep what this scan saw for the next run (one line: ~9,000 pages at 1,000 days, and
    json's C encoder only writes without indent)."""
    write_json(cache / SCAN, {"format": SCAN_FORMAT, "records": records, "files": {
        rel: [*s.stat, s.sha, s.body, s.month, s.date, [list(r) for r in s.records]]
        for rel, s in sorted(seen.items())}}, compact=True)


def scan(site: Path, known: dict[str, Seen] | None = None,
         records: str = "listings") -> tuple[list[Page], dict[str, Seen]]:
    """The pages Pagefind would index (hash, month), and what was seen of every .html file.

    As Pagefind does: only pages with data-pagefind-body when any page has one, else every page.
    A file whose stat is the one in `known` is not read; a file changed in the last RACY_NS before
    the scan is left out of what is kept (it could change again within the clock's resolution).
    With records="listings", a day page's listed cards are read too (listing_records), and
    every paper page a day lists is indexed as its listings instead of as itself (listings()).
    """
    known = known or {}
    started = time.time_ns()
    seen: dict[str, Seen] = {}
    kept: dict[str, Seen] = {}
    for rel, entry in html_files(site):
        st = entry.stat()
        key = stat_key(st)
        was = known.get(rel)
        if was is not None and was.stat == key:
            seen[rel] = kept[rel] = was
            continue
        with open(entry.path, "rb") as f:
            data = f.read()
        body = BODY_TEXT in data and BODY.search(data) is not None
        # a page without data-pagefind-body only counts on a site where no page has one (then
        # hashed by its bytes: safe, and parsing the day and topic pages would cost ~1 ms each)
        sha = indexed_digest(data) if body else "b" + hashlib.sha256(data).hexdigest()
        date, recs = "", ()  # type: tuple[str, tuple[tuple[str, str], ...]]
        if records == "listings" and DAY_ARTICLE in data:
            date, found = listing_records(data, rel)
            recs = tuple(sorted((r, hashlib.sha256(h.encode("utf-8")).hexdigest()) for r, h in found.items()))
        seen[rel] = Seen(key, sha, body, month_of(data), date, recs)
        if max(st.st_mtime_ns, st.st_ctime_ns) < started - RACY_NS:
            kept[rel] = seen[rel]
    bodies = [Page(rel, s.sha, s.month) for rel, s in seen.items() if s.body]
    pages = bodies or [Page(rel, s.sha, s.month) for rel, s in seen.items()]
    return (listings(pages, seen) if records == "listings" else pages), kept


def listings(pages: list[Page], seen: dict[str, Seen]) -> list[Page]:
    """The records when a paper page is indexed as its listings: every page no day page lists
    stays one record of its own; a page that day pages list becomes one record per listing, in
    the listing day's month (a later listing of it leaves the earlier periods' records as they
    were; the browser hides the older ones, see hidden())."""
    by_page: dict[str, list[Page]] = {}
    for day_rel, s in seen.items():
        for paper_rel, sha in s.records:
            by_page.setdefault(paper_rel, []).append(Page(paper_rel, sha, s.date[:7], day_rel, s.date))
    indexed = {p.rel for p in pages}
    out = [p for p in pages if p.rel not in by_page]
    for paper_rel, found in by_page.items():
        if paper_rel in indexed:  # a listed page that is itself a search page (not a stray link)
            out.extend(found)
    return out


PAGEFIND_ATTR = "data-pagefind-"
IGNORE = "data-pagefind-ignore"
# Elements whose text Pagefind never indexes (nor would a change in them change a result).
SKIP_TAGS = frozenset(("script", "style", "noscript", "template"))
# Attributes of indexed elements that Pagefind reads: an image's src and alt (the default image
# meta), and whatever data-pagefind-index-attrs names.
IMAGE_ATTRS = ("src", "alt")
WS = re.compile(r"\s+")
# The attributes whose entries ("key:value", "key[attr]", or a bare "key") give a page meta, a
# filter or a sort value; a bare key takes its value from the element's text.
VALUED = frozenset(("data-pagefind-meta", "data-pagefind-filter", "data-pagefind-sort"))
TAKES_TEXT = re.compile(r"(?:^|,)[^,:\[]*(?:,|$)")


def indexed_digest(data: bytes) -> str:
    """A hash of what Pagefind indexes and stores of a page, so that a change Pagefind does not
    see (a listing or "other versions" line inside data-pagefind-ignore, a link's href, the
    markup's whitespace) does not re-index the page's period, and every change it does see does.

    Covered: the html element's lang (Pagefind's language split); the <title>; every element with
    a data-pagefind-* attribute, anywhere in the page and ignored or not (Pagefind's default
    ignore, "index", still takes the filters and meta inside an ignored element: so both are
    hashed; "all" drops them, and hashing them anyway only errs towards re-indexing), with those
    attributes, and the element's text when an entry of its meta/filter/sort attribute has no
    value of its own and takes it from that text (data-pagefind-meta="title"); and the text of
    every data-pagefind-body element (of <body> on a page without one) outside
    data-pagefind-ignore'd elements, with the tag of each
    element around it (Pagefind separates block elements' words), an image's src and alt, and the
    attributes data-pagefind-index-attrs names. The page's URL is its path, hashed by its period
    (period_hashes). Over-inclusion only costs a re-index; markup lxml cannot parse whole (it
    stops at nesting deeper than 2,048), or a page that is not UTF-8, is hashed by its bytes.
    """
    try:
        text = data.decode("utf-8")
        parser = lxml.html.HTMLParser(huge_tree=True)
        root = lxml.html.document_fromstring(text, parser=parser) if text.strip() else None
        # libxml2 stops at a resource limit (nesting deeper than 2,048) and drops the rest of the
        # page: a fatal error means the tree is not the whole page
        if any(e.level_name == "FATAL" for e in parser.error_log):
            logger.debug("page hashed by its bytes (%s)", parser.error_log.last_error)
            root = None
    except (UnicodeDecodeError, lxml.etree.LxmlError, ValueError) as e:
        logger.debug("page hashed by its bytes (%s)", e)
        root = None
    if root is None:
        return "b" + hashlib.sha256(data).hexdigest()
    parts: list[str] = [str(root.get("lang", "")), "\0"]
    title = root.find(".//title")
    parts += ["t", norm(title.text_content()) if title is not None else "", "\0"]
    for el in root.iter(lxml.etree.Element):
        attrs = sorted((k, v) for k, v in el.attrib.items() if k.startswith(PAGEFIND_ATTR))
        if attrs:
            takes_text = any(TAKES_TEXT.search(v) for k, v in attrs if k in VALUED)
            parts += ["a", str(el.tag), repr(attrs), norm(el.text_content()) if takes_text else "", "\0"]
    bodies = [el for el in root.iter(lxml.etree.Element) if el.get("data-pagefind-body") is not None]
    if not bodies:
        body = root.find("body")
        bodies = [body] if body is not None else [root]
    for body in bodies:
        parts.append("B")
        content(body, parts)
    return hashlib.sha256("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


DAY_ARTICLE = b'<article class="day"'  # a day's page (theme: article.html, index.html)
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")  # a day page's data-date (article.html)
CATEGORY = re.compile(r"[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?")  # as site/papers.py's search_categories
SUMMARY_PARTS = ("tldr", "method", "headline")


def listing_records(data: bytes, rel: str) -> tuple[str, dict[str, str]]:
    """A day's own page: its date and one search record per listed card (article.paper with a
    "page & cite" link, a.paper-page), keyed by the paper page's path in the site. ("", {}) for
    any other page: a day page is an article.day whose data-url is the page's own URL (the front
    page shows the newest day too, under another URL) and whose data-date is the day's valid
    ISO date (article.html writes it; the URL's path is not read for a date, so any
    ARTICLE_URL pattern works, and a page without the attribute lists nothing).

    The record is the card rebuilt as the paper page's record markup (paper.html): the title as
    the title meta, the authors, the summary's TL;DR, method, headline and facts, the abstract;
    the day's date as date meta and sort, its year and month, the source, the topics (the slug
    of each topic link) and the well-formed arXiv categories as filters. Text is carried over as
    lxml parsed it from the escaped page and written back escaped: nothing is marked up anew."""
    from lxml.html import builder as E

    own = rel[: -len("index.html")] if rel.endswith("/index.html") else rel
    if not own or own == "index.html":
        return "", {}
    try:
        root = lxml.html.document_fromstring(data.decode("utf-8"), parser=lxml.html.HTMLParser(huge_tree=True))
    except (UnicodeDecodeError, lxml.etree.LxmlError, ValueError):
        return "", {}
    day = next((el for el in root.iter("article") if el.get("class") == "day"), None)
    url = day.get("data-url", "") if day is not None else ""
    date = day.get("data-date", "") if day is not None else ""
    if day is None or not (url == own or url.endswith("/" + own)) or not valid_date(date):
        return "", {}
    prefix, lang = url[: len(url) - len(own)], root.get("lang", "")
    out: dict[str, str] = {}
    for card in day.iter("article"):
        if "paper" not in (card.get("class") or "").split() or any(
                el.get(IGNORE) is not None for el in card.iterancestors()):
            continue  # (a card in a part of the page that search ignores is no listing)
        link = next((a for a in card.iter("a") if a.get("class") == "paper-page"), None)
        href = link.get("href", "") if link is not None else ""
        if not href.startswith(prefix) or not href.endswith("/"):
            continue
        paper_rel = href[len(prefix):] + "index.html"
        title = card.find("h3")
        if not PLAIN_PATH.fullmatch(paper_rel) or title is None:
            continue
        heading = title.text_content()
        parts: list[object] = [E.H1(title.text or "", *map(copy.deepcopy, title), **{"data-pagefind-meta": "title"})]
        authors = card.find("p[@class='authors']")
        if authors is not None:
            parts.append(copy.deepcopy(authors))
        summary = next((d for d in card.iter("div") if "summary" in (d.get("class") or "").split()), None)
        if summary is not None:
            for name in SUMMARY_PARTS:
                el = summary.find(f"p[@class='{name}']")
                if el is not None:
                    parts.append(copy.deepcopy(el))
            facts = summary.find("dl[@class='facts']")
            if facts is not None:
                parts.append(copy.deepcopy(facts))
        marks: list[object] = []
        for a in card.iter("a"):
            if a.get("class") == "tag":
                slug = a.get("href", "").rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")
                if slug:
                    marks.append(E.SPAN(a.text_content(), **{"data-pagefind-filter": f"topic:{slug}"}))
        source = card.get("data-source", "")
        ident = next((sp for sp in card.iter("span") if "arxiv-id" in (sp.get("class") or "").split()), None)
        label = ident.text_content().split(":", 1)[0] if ident is not None else ""
        cats = next((sp for sp in card.iter("span") if sp.get("class") == "categories"), None)
        if source == "arxiv" and cats is not None:
            marks += [E.SPAN(c, **{"data-pagefind-filter": f"category:{c}"})
                      for c in cats.text_content().split() if CATEGORY.fullmatch(c)]
        parts.append(E.P(*marks, **{"data-pagefind-ignore": ""}))
        abstract = next((d for d in card.iter("details") if d.get("class") == "abstract"), None)
        text = abstract.find("p") if abstract is not None else None
        if text is not None:
            parts.append(E.SECTION(copy.deepcopy(text)))
        body = E.ARTICLE(*parts, **{
            "data-pagefind-body": "", "data-pagefind-meta": f"date:{date}", "data-pagefind-sort": f"date:{date}",
            "data-year": date[:4], "data-month": date[:7], "data-source": label,
            "data-pagefind-filter": "year[data-year], month[data-month], source[data-source]"})
        page = E.HTML(E.HEAD(E.META(charset="utf-8"), E.TITLE(heading)), E.BODY(body))
        if lang:
            page.set("lang", lang)
        out[paper_rel] = "<!DOCTYPE html>\n" + lxml.html.tostring(page, encoding="unicode")
    return date, out


def valid_date(text: str) -> bool:
    """Whether text is a real calendar date written YYYY-MM-DD."""
    if not ISO_DATE.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def norm(text: str) -> str:
    """Text with its runs of whitespace as one space (as Pagefind splits words)."""
    return WS.sub(" ", text).strip()


def content(el: lxml.html.HtmlElement, parts: list[str]) -> None:
    """Append the indexed text under `el` (its ignored elements left out) to parts, iteratively
    (a hostile page nests deeper than Python's recursion limit allows)."""
    stack: list[tuple[object, bool]] = [(el, False)]
    while stack:
        node, closing = stack.pop()
        if closing:  # the text after an element belongs to its parent
            parts += ["/", norm(getattr(node, "tail", None) or ""), "\0"]
            continue
        if not isinstance(node, lxml.html.HtmlElement):  # a comment or processing instruction
            parts += ["/", norm(getattr(node, "tail", None) or ""), "\0"]
            continue
        if node is not el:
            stack.append((node, True))
        if node.get(IGNORE) is not None or str(node.tag).lower() in SKIP_TAGS:
            continue
        parts += ["<", str(node.tag), "\0"]
        if node.tag == "img":
            parts += [repr([node.get(a, "") for a in IMAGE_ATTRS]), "\0"]
        index_attrs = node.get("data-pagefind-index-attrs")
        if index_attrs:
            parts += [repr([node.get(a.strip(), "") for a in index_attrs.split(",")]), "\0"]
        parts += [norm(node.text or ""), "\0"]
        stack.extend((child, False) for child in reversed(node))


def month_of(data: bytes) -> str:
    """The month of a page's date (data-pagefind-sort/meta "date:YYYY-MM-DD"), "" if none or invalid."""
    m = DATE.search(data)
    month = m.group(1).decode() if m else ""
    return month if MONTH.fullmatch(month) else ""


def span(year: str, first: int, last: int) -> str:
    """A period of months of one year: "2024-10" (one month) or "2024-01-to-09"."""
    return f"{year}-{first:02d}" if first == last else f"{year}-{first:02d}-to-{last:02d}"


def period_of(month: str, newest: str, scheme: str = "tiered") -> str:
    """A page's period, from its month and the archive's newest month (both "YYYY-MM").

    tiered: a closed year; else the newest year's quarters before the newest quarter (one
    bundle); else the newest quarter's months before the newest month (one bundle); else the
    newest month. month: a closed year, else its month. year: its year.
    """
    if not month:
        return UNDATED
    year, m = month[:4], int(month[5:])
    if scheme == "year" or year < newest[:4]:
        return year
    last = int(newest[5:])
    if scheme == "tiered":
        quarter_start = (last - 1) // 3 * 3 + 1  # the newest quarter's first month
        if m < quarter_start:
            return span(year, 1, quarter_start - 1)
        if m < last:
            return span(year, quarter_start, last - 1)
    return month


def assign(pages: list[Page], scheme: str, max_records: int = 0) -> dict[str, list[Page]]:
    """period -> its pages, under `scheme` (the newest month is the newest page's); a paper
    listed twice in one period keeps its newest listing's record there, and a closed year leaves
    out a paper that the next closed year lists again; a period of more than `max_records`
    records (0: no limit) is split into parts of at most that many (split())."""
    newest = max((p.month for p in pages if p.month), default="")
    groups: dict[str, list[Page]] = {}
    for p in pages:
        groups.setdefault(period_of(p.month, newest, scheme), []).append(p)
    for period, group in groups.items():
        if any(p.source for p in group):
            best: dict[str, Page] = {}
            for p in group:
                if p.rel not in best or (p.date, p.source) > (best[p.rel].date, best[p.rel].source):
                    best[p.rel] = p
            groups[period] = [p for p in group if best[p.rel] is p]
    # A closed year leaves out its listing of a paper that the next year, closed too, lists
    # again (the search page would hide it, from a list in periods.json that grew by every such
    # paper for good): hidden records then come from the newest year's listings and from papers
    # listed again two or more years later only. The cost: a year rollover indexes, beside the
    # year it closes, the year before that one again, once.
    for period in sorted(groups):
        following = str(int(period) + 1) if YEAR.fullmatch(period) else ""
        if following and following < newest[:4] and following in groups:
            later = {p.rel for p in groups[following] if p.source}
            groups[period] = [p for p in groups[period] if not (p.source and p.rel in later)]
    out: dict[str, list[Page]] = {}
    for period, group in groups.items():
        if group:
            out.update(split(period, group, max_records))
    return out


def split(period: str, group: list[Page], max_records: int) -> dict[str, list[Page]]:
    """A period's records as bundles of at most `max_records` each, so that Pagefind's memory for
    a bundle is bounded whatever the density (issue 11): a period over the limit is cut at month
    boundaries into few runs of whole months that each fit, as even as they can be
    ("2023" as "2023-01-to-06" and "2023-07-to-12"); a month that alone is over it is cut the
    same way at day boundaries ("2024-11-01-to-14", "2024-11-15-to-29"). A single day over the
    limit stays one bundle (logged). The parts are a function of the period's own records only,
    so an incremental run makes the parts a cold one does, and a closed year, whose records no
    longer change, keeps its parts."""
    if max_records <= 0 or len(group) <= max_records:
        return {period: group}
    m = PERIOD.fullmatch(period)
    if not m or m.group(3):
        return {period: group}  # undated, or already a part of a month
    year = m.group(1)
    if m.group(2) is None or m.group(4):  # a year or a run of months: cut at months
        by_month: dict[str, list[Page]] = {}
        for p in group:
            by_month.setdefault(p.month, []).append(p)
        out: dict[str, list[Page]] = {}
        for part in partition([by_month[k] for k in sorted(by_month)], max_records):
            months = sorted({int(p.month[5:7]) for p in part})
            name = span(year, months[0], months[-1])
            out.update(split(name, part, max_records) if len(months) == 1 else {name: part})
        return out
    by_day: dict[str, list[Page]] = {}  # one month: cut at days (records without a date go first)
    for p in group:
        by_day.setdefault(p.date[8:10] if valid_date(p.date) else "", []).append(p)
    out = {}
    for part in partition([by_day[k] for k in sorted(by_day)], max_records):
        days = sorted({p.date[8:10] for p in part if valid_date(p.date)}) or ["01"]
        name = f"{period}-{days[0]}" if days[0] == days[-1] else f"{period}-{days[0]}-to-{days[-1]}"
        out[name] = part
        if len(part) > max_records:
            logger.warning("search: the %s bundle holds %d records, over --max-records %d (one day's "
                           "records are never split)", name, len(part), max_records)
    return out


def partition(units: list[list[Page]], limit: int) -> list[list[Page]]:
    """Consecutive units (months or days, in order) joined into runs of at most `limit` records
    each (a unit alone over it is a run of its own), few and even: with k runs (first the fewest
    the total allows, then one more until each fits), a unit goes to the run its middle record
    falls in at an even share of the total."""
    total = sum(map(len, units))
    k = min(max(1, -(-total // limit)), len(units))  # (never more runs than units)
    while True:
        runs: list[list[Page]] = [[] for _ in range(k)]
        runs_units = [0] * k
        before = 0
        for unit in units:
            i = min(k - 1, int((before + len(unit) / 2) * k / total))
            runs[i].extend(unit)
            runs_units[i] += 1
            before += len(unit)
        if all(len(r) <= limit or n == 1 for r, n in zip(runs, runs_units, strict=True)):
            return [r for r in runs if r]
        if k >= len(units):
            return [list(unit) for unit in units]
        k += 1


def period_hashes(groups: dict[str, list[Page]]) -> dict[str, tuple[str, list[Page]]]:
    """period -> (hash of its pages, the Pagefind version and FORMAT; its pages)."""
    out = {}
    for period, group in groups.items():
        h = hashlib.sha256(f"{FORMAT}\0{pagefind_version()}\0{period}\n".encode())
        for p in group:
            h.update(f"{p.rel}\0{p.sha}\n".encode())
        out[period] = (h.hexdigest(), group)
    return out


def newest_first(periods: list[str]) -> list[str]:
    """Periods newest first (by the last day each covers: "2024" is 2024-12-31, "2024-01-to-09"
    2024-09-31, "2024-11-01-to-14" 2024-11-14), "undated" last."""
    def last_day(p: str) -> tuple[int, int, int]:
        m = PERIOD.fullmatch(p)
        if not m:
            return -1, -1, -1
        if m.group(3):
            return int(m.group(1)), int(m.group(2)), int(m.group(4) or m.group(3))
        return int(m.group(1)), int(m.group(4) or m.group(2) or 12), 99
    return sorted(periods, key=lambda p: (p == UNDATED, [-x for x in last_day(p)], p))


def tree_digest(folder: Path) -> str:
    """A digest of a folder's file names and sizes (Pagefind names its files by their content)."""
    h = hashlib.sha256()

    def walk(path: str, rel: str) -> None:
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
        dirs = [e for e in entries if e.is_dir()]
        for entry in entries:  # a folder's files, then its folders (os.walk's order, as before)
            if not entry.is_dir():
                h.update(f"{rel}{entry.name}\0{entry.stat().st_size}\n".encode())
        for entry in dirs:
            if not entry.is_symlink():
                walk(entry.path, f"{rel}{entry.name}/")
    try:
        walk(str(folder), "")
    except (FileNotFoundError, NotADirectoryError):
        return ""
    return h.hexdigest()


def link_tree(src: Path, dst: Path) -> None:
    """dst as a copy of src made of hard links (a plain copy across file systems)."""
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
    shutil.copytree(src, dst, copy_function=link)


def read_state(cache: Path) -> dict[str, dict[str, str]]:
    """period -> {"pages": hash, "bundle": tree digest} from the last run ({} if none or unreadable)."""
    try:
        state = json.loads((cache / STATE).read_text(encoding="utf-8"))
        periods = state["periods"]
        if state.get("format") != FORMAT or not isinstance(periods, dict):
            return {}
        return {str(k): {"pages": str(v["pages"]), "bundle": str(v["bundle"])} for k, v in periods.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_bytes(path: Path, body: bytes) -> None:
    """Write bytes atomically (a temp file beside it, then renamed), with the mode open() would
    give (the umask's; mkstemp's own 0600 would leave a published file unreadable to a web server
    running as another user)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: object, compact: bool = False) -> None:
    """Write JSON atomically (write_bytes)."""
    text = (json.dumps(data, separators=(",", ":"), sort_keys=True) if compact
            else json.dumps(data, indent=1, sort_keys=True))
    write_bytes(path, (text + "\n").encode("utf-8"))


def run_pagefind(cmd: list[str], cwd: str | None = None) -> tuple[int, bytes, float]:
    """Run Pagefind; its exit code, output and peak RSS in MB (os.wait4's rusage; 0 if unknown)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd)
    assert proc.stdout is not None
    with proc.stdout:
        out = proc.stdout.read()
    if not hasattr(os, "wait4"):
        return proc.wait(), out, 0.0
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return proc.returncode, out, usage.ru_maxrss / 1024  # Linux gives KB


def index_period(cache: Path, site: Path, period: str, pages: list[Page], quiet: bool) -> float:
    """Index one period's pages with Pagefind into CACHE/<period>/ (replacing it whole); the
    Pagefind process's peak RSS in MB.

    Pagefind reads the site itself and is told which pages by its `glob` option, the pages'
    paths as alternatives ("{papers/2411.00001/index.html,...}"), in a pagefind.json of a
    folder of its own (its working directory: no length limit, unlike an argument). Paths with
    a character a glob could read as syntax are never written into one: such a period's pages
    are given to Pagefind as a folder of symbolic links (`--site` over it; the pages' own stat
    stays as it was), which costs a folder and a link per page to make and remove again."""
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=f".staging-{period}-"))
    fresh = cache / f".new-{period}"
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        root = os.path.abspath(site)
        cmd = [*pagefind_cmd()]
        if all(PLAIN_PATH.fullmatch(p.rel) and not p.source for p in pages):
            write_json(staging / "pagefind.json", {"site": root, "output_path": str(fresh.resolve()),
                                                   "glob": "{" + ",".join(p.rel for p in pages) + "}"})
        else:  # (listing records are written out: they are no file of the site)
            made: set[str] = set()
            records = listing_html(site, [p for p in pages if p.source])
            for p in pages:
                dst = os.path.join(staging, "site", p.rel)
                parent = os.path.dirname(dst)
                if parent not in made:
                    os.makedirs(parent, exist_ok=True)
                    made.add(parent)
                if p.source:
                    with open(dst, "w", encoding="utf-8") as f:
                        f.write(records[p.rel])
                else:
                    os.symlink(os.path.join(root, p.rel), dst)
            cmd += ["--site", str(staging / "site"), "--output-path", str(fresh.resolve())]
        if quiet:
            cmd.append("--silent")
        try:
            code, out, peak_mb = run_pagefind(cmd, cwd=str(staging))
        except OSError as e:
            raise SearchIndexError(f"cannot run pagefind ({cmd[0]}) for the {period} pages: {e}") from e
        if not quiet:
            logger.debug("pagefind, %s:\n%s", period, out.decode(errors="replace").strip()[-4000:])
        if code:
            tail = out.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise SearchIndexError(f"pagefind failed on the {period} pages (exit {code}): {tail[0]}")
        if not (fresh / "pagefind-entry.json").is_file():
            raise SearchIndexError(f"pagefind wrote no pagefind-entry.json for the {period} pages into {fresh}")
        count = bundle_pages(fresh)
        if count != len(pages):  # Pagefind skips a page it finds no text in; a glob never adds one
            logger.warning("search: the %s bundle holds %d pages of %d", period, count, len(pages))
        for name in UNUSED:
            (fresh / name).unlink(missing_ok=True)
        old = cache / f".old-{period}"
        shutil.rmtree(old, ignore_errors=True)
        if (cache / period).exists():
            os.replace(cache / period, old)
        os.replace(fresh, cache / period)
        shutil.rmtree(old, ignore_errors=True)
        return peak_mb
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(fresh, ignore_errors=True)


def listing_html(site: Path, pages: list[Page]) -> dict[str, str]:
    """paper page path -> its listing record's HTML, read again from the day pages (each as the
    scan hashed it: a day page changed since fails the run, which the next run indexes whole)."""
    out: dict[str, str] = {}
    by_source: dict[str, list[Page]] = {}
    for p in pages:
        by_source.setdefault(p.source, []).append(p)
    for source, group in sorted(by_source.items()):
        try:
            _, found = listing_records((site / source).read_bytes(), source)
        except OSError as e:
            raise SearchIndexError(f"cannot read the day page {source}: {e}") from e
        for p in group:
            html = found.get(p.rel)
            if html is None or hashlib.sha256(html.encode("utf-8")).hexdigest() != p.sha:
                raise SearchIndexError(f"the day page {source} changed while the search index was built "
                                       "(run it again)")
            out[p.rel] = html
    return out


def bundle_ids(bundle: Path) -> dict[str, str]:
    """A bundle's records: URL -> Pagefind's page id (its fragment's name, which search results
    carry as their id)."""
    out: dict[str, str] = {}
    for frag in sorted((bundle / "fragment").iterdir()):
        try:
            data = gzip.decompress(frag.read_bytes()).removeprefix(b"pagefind_dcd")
            out[str(json.loads(data)["url"])] = frag.name.removesuffix(".pf_fragment")
        except (OSError, ValueError, KeyError, TypeError, EOFError, gzip.BadGzipFile) as e:
            raise SearchIndexError(f"cannot read the search record {frag}: {e}") from e
    return out


def hidden(periods: list[str], ids: dict[str, dict[str, str]]) -> tuple[list[str], dict[str, list[str]]]:
    """The records a newer period's record of the same paper supersedes, as the browser drops
    them from results: (ids to drop, {id: URLs} to drop only when the result's URL is one of
    them: an id that a record still shown has too, in another bundle)."""
    newest: set[str] = set()
    live: set[str] = set()
    old: dict[str, set[str]] = {}
    for period in periods:  # newest first
        for url, pid in sorted(ids.get(period, {}).items()):
            if url in newest:
                old.setdefault(pid, set()).add(url)
            else:
                newest.add(url)
                live.add(pid)
    drop = sorted(pid for pid in old if pid not in live)
    check = {pid: sorted(urls) for pid, urls in sorted(old.items()) if pid in live}
    return drop, check


def record_filters(bundle: Path, pid: str) -> dict[str, list[str]]:
    """One record's filter values (its fragment's "filters": key -> values), as Pagefind counts it."""
    frag = bundle / "fragment" / f"{pid}.pf_fragment"
    try:
        data = json.loads(gzip.decompress(frag.read_bytes()).removeprefix(b"pagefind_dcd"))
        filters = data.get("filters") or {}
        return {str(k): [str(v) for v in values] for k, values in filters.items() if isinstance(values, list)}
    except (OSError, ValueError, TypeError, AttributeError, EOFError, gzip.BadGzipFile) as e:
        raise SearchIndexError(f"cannot read the search record {frag}: {e}") from e


def hidden_filters(cache: Path, periods: list[str], ids: dict[str, dict[str, str]], drop: list[str],
                   digests: dict[str, str]) -> dict[str, object]:
    """The filter values of every hidden record ("hide"), for the search page's filter counts:
    {"values": [[key, value], ...] sorted, "ids": {id: [indexes into values]}} ({} when nothing is
    hidden). An id that names hidden records in more than one bundle (a fragment-name collision)
    is left out: the page reads those records' own fragments. Each bundle's hidden records are read
    from its fragments once and kept by the bundle's digest (CACHE/hidden.json)."""
    wanted = set(drop)
    where: dict[str, list[str]] = {}
    for period in periods:
        for pid in ids.get(period, {}).values():
            if pid in wanted:
                where.setdefault(pid, []).append(period)
    try:
        kept = json.loads((cache / HIDDEN).read_text(encoding="utf-8"))
        kept = kept["periods"] if kept.get("format") == FORMAT and isinstance(kept.get("periods"), dict) else {}
    except (OSError, ValueError, TypeError, AttributeError):
        kept = {}
    fresh: dict[str, dict[str, object]] = {}
    found: dict[str, dict[str, list[str]]] = {}
    for period in periods:
        mine = sorted(pid for pid, at in where.items() if period in at)
        if not mine:
            continue
        was = kept.get(period)
        known = was["filters"] if isinstance(was, dict) and was.get("bundle") == digests[period] \
            and isinstance(was.get("filters"), dict) else {}
        got = {pid: known[pid] if isinstance(known.get(pid), dict) else record_filters(cache / period, pid)
               for pid in mine}
        fresh[period] = {"bundle": digests[period], "filters": got}
        found.update({pid: f for pid, f in got.items() if len(where[pid]) == 1})
    if not fresh:
        (cache / HIDDEN).unlink(missing_ok=True)
    elif fresh != kept:
        write_json(cache / HIDDEN, {"format": FORMAT, "periods": fresh}, compact=True)
    if not found:
        return {}
    values = sorted({(k, v) for f in found.values() for k, vs in f.items() for v in vs})
    index = {kv: i for i, kv in enumerate(values)}
    return {"values": [list(kv) for kv in values],
            "ids": {pid: sorted({index[(k, v)] for k, vs in f.items() for v in vs})
                    for pid, f in sorted(found.items())}}


def read_ids(cache: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """period -> (its bundle's tree digest, URL -> page id) as the last run kept them ({} if none)."""
    try:
        data = json.loads((cache / IDS).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or not isinstance(data.get("periods"), dict):
            return {}
        return {str(k): (str(v["bundle"]), {str(u): str(i) for u, i in v["ids"].items()})
                for k, v in data["periods"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def bundle_pages(bundle: Path) -> int:
    """How many pages a bundle holds (its pagefind-entry.json; -1 if unreadable)."""
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        return sum(int(lang["page_count"]) for lang in entry["languages"].values())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return -1


def pagefind_mb(pages: int) -> float:
    """Pagefind's peak RSS for a bundle of this many paper pages, as measured (1.5.2, paper pages
    of ~8 kB text): ~25 MB plus ~0.12 MB a page (143 pages 29 MB, 1,394 pages 175 MB)."""
    return PAGEFIND_BASE_MB + PAGEFIND_PAGE_MB * pages


def index_periods(cache: Path, site: Path, todo: list[tuple[str, list[Page]]], quiet: bool, jobs: int,
                  memory_mb: float, done: Callable[[str, float, float], None]) -> float:
    """Index the periods, up to `jobs` Pagefind processes at once while their estimated peak
    memory together stays within `memory_mb` (one runs alone whatever its size); the biggest
    first, so the small ones fill in beside it. `done(period, seconds, peak MB)` is called in
    this thread as each finishes. The first failure stops new starts and is raised once the
    running ones end. Returns the most memory the running processes' peaks added up to."""
    pending = sorted(todo, key=lambda t: (-len(t[1]), t[0]))
    running: dict[Future[float], tuple[str, int, float]] = {}
    failure: BaseException | None = None
    worst = 0.0
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="pagefind") as pool:
        while pending or running:
            for item in list(pending):
                if failure is not None or len(running) >= max(1, jobs):
                    break
                used = sum(pagefind_mb(n) for _, n, _ in running.values())
                if running and used + pagefind_mb(len(item[1])) > memory_mb:
                    continue  # a smaller one may fit beside what runs
                pending.remove(item)
                future = pool.submit(index_period, cache, site, item[0], item[1], quiet)
                running[future] = (item[0], len(item[1]), time.perf_counter())
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            peaks = {f: f.result() for f in finished if f.exception() is None}
            worst = max(worst, sum(peaks.values()) + sum(
                pagefind_mb(n) for f, (_, n, _) in running.items() if f not in finished))
            for future in finished:
                period, _, t0 = running.pop(future)
                if future in peaks:
                    done(period, time.perf_counter() - t0, peaks[future])
                elif failure is None:
                    failure = future.exception()
            if failure is not None:
                pending = []
    if failure is not None:
        raise failure
    return worst


def publish(site: Path, cache: Path, periods: list[str], digests: dict[str, str],
            extra: dict[str, object] | None = None, hidden: dict[str, object] | None = None) -> str:
    """output/pagefind/: the periods' bundles (hard links), the hidden records' filter values
    (`hidden`, as hidden-filters.<its hash>.json: a new content is a new name, so no browser keeps
    a stale copy) and periods.json (with `extra`, and the filter file's name); nothing else. The
    filter file's name ("" without one)."""
    out = site / BUNDLE
    out.mkdir(exist_ok=True)
    extra = dict(extra or {})
    wanted = set(periods) | {PERIODS}
    body = b""
    if hidden:
        body = json.dumps(hidden, separators=(",", ":"), sort_keys=True).encode("utf-8") + b"\n"
        name = f"{HIDDEN_FILTERS}.{hashlib.sha256(body).hexdigest()[:16]}.json"
        extra["hidden_filters"] = name
        wanted.add(name)
    for entry in sorted(out.iterdir()):
        if entry.name not in wanted:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    for period in periods:
        target = out / period
        if target.is_dir() and tree_digest(target) == digests[period]:
            continue  # the published copy is this bundle already
        tmp = out / f".new-{period}"
        shutil.rmtree(tmp, ignore_errors=True)
        link_tree(cache / period, tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    if body:
        target = out / str(extra["hidden_filters"])
        if not (target.is_file() and target.read_bytes() == body):
            write_bytes(target, body)
    write_json(out / PERIODS, {"format": FORMAT, "pagefind": pagefind_version(), "periods": periods, **extra})
    return str(extra.get("hidden_filters", ""))


def max_records_for(memory_mb: float) -> int:
    """The most records a bundle may hold so that its Pagefind's estimated peak (pagefind_mb) stays
    within memory_mb (at least 1)."""
    return max(1, int((memory_mb - PAGEFIND_BASE_MB) / PAGEFIND_PAGE_MB))


def build(site: Path, cache: Path, quiet: bool = True, scheme: str = "tiered", jobs: int = 0,
          memory_mb: float = 0, records: str = "listings", max_records: int | None = None) -> dict[str, object]:
    """Index what changed, publish every period; what was done (for the log and the tests).

    records="listings": a paper page that day pages list is indexed as its listings (one record
    per listing, in the listing day's period), so a later listing never changes an earlier
    period's bundle; periods.json then names the records a newer one supersedes ("hide", "check")
    and the search page drops them from results.

    Changed periods are indexed side by side: `jobs` Pagefind processes at most (0: one per
    CPU, at most 2), within `memory_mb` of estimated peak memory together (0: MEMORY_MB). A period
    of more records than `max_records` (None: as many as fit in memory_mb, max_records_for; 0: no
    limit) is indexed as parts of at most that many (split()), so no one Pagefind process needs
    more than memory_mb whatever the density."""
    jobs = jobs or min(2, os.cpu_count() or 1)
    memory_mb = memory_mb or MEMORY_MB
    if max_records is None:
        max_records = max_records_for(memory_mb)
    if scheme not in SCHEMES:
        raise SearchIndexError(f"unknown period scheme {scheme!r} (expected one of {', '.join(SCHEMES)})")
    if records not in RECORDS:
        raise SearchIndexError(f"unknown kind of records {records!r} (expected one of {', '.join(RECORDS)})")
    started = time.perf_counter()
    if not site.is_dir():
        raise SearchIndexError(f"no site to index at {site} (build it first: make html)")
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SearchIndexError(f"cannot create the search cache folder {cache}: {e}") from e
    if any(cache.iterdir()) and not (cache / STATE).is_file():
        raise SearchIndexError(f"{cache} is not empty and holds no {STATE}: not a search cache folder "
                               "(give --cache a folder of its own)")
    known = read_scan(cache, records)
    pages, seen = scan(site, known, records)
    t_scan = time.perf_counter()
    groups = period_hashes(assign(pages, scheme, max_records))
    periods = newest_first(list(groups))
    state = read_state(cache)
    # leftovers of a killed run (staging folders, temp files), and periods that no longer have pages
    for entry in cache.iterdir():
        if entry.is_dir() and (entry.name.startswith(".") or entry.name not in groups):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file() and entry.name.startswith(".") and entry.name.endswith(".tmp"):
            entry.unlink(missing_ok=True)
        elif entry.name == IDS and records != "listings":
            entry.unlink()
    indexed: list[str] = []
    digests: dict[str, str] = {}
    done: dict[str, dict[str, str]] = {}
    todo: list[tuple[str, list[Page]]] = []
    for period in periods:
        page_hash, group = groups[period]
        digest = tree_digest(cache / period)
        if digest and state.get(period) == {"pages": page_hash, "bundle": digest}:
            digests[period] = digest
            done[period] = {"pages": page_hash, "bundle": digest}
        else:
            todo.append((period, group))

    peaks: dict[str, float] = {}

    def finished(period: str, seconds: float, peak_mb: float) -> None:
        peaks[period] = peak_mb
        digests[period] = tree_digest(cache / period)
        done[period] = {"pages": groups[period][0], "bundle": digests[period]}
        indexed.append(period)
        logger.info("search: indexed %s (%d pages) in %.1f s, peak %.0f MB",
                    period, len(groups[period][1]), seconds, peak_mb)
        # what is done stays done if another period fails or the run is killed
        kept = {k: v for k, v in {**state, **done}.items() if k in groups}
        write_json(cache / STATE, {"format": FORMAT, "periods": kept})

    t_check = time.perf_counter()
    worst = index_periods(cache, site, todo, quiet, jobs, memory_mb, finished) if todo else 0.0
    t_index = time.perf_counter()
    indexed.sort(key=periods.index)
    if not todo:
        kept = {k: v for k, v in done.items() if k in groups}
        if read_state(cache) != kept:
            write_json(cache / STATE, {"format": FORMAT, "periods": kept})
    for name in UI_FILES:  # an earlier layout's copies of Pagefind's UI
        (cache / name).unlink(missing_ok=True)
    extra: dict[str, object] = {}
    hidden_values: dict[str, object] = {}
    if records == "listings":
        kept_ids = read_ids(cache)
        ids = {}
        for period in periods:  # a bundle's ids are read again only when the bundle changed
            was = kept_ids.get(period)
            ids[period] = was[1] if was and was[0] == digests[period] else bundle_ids(cache / period)
        if {k: (digests[k], v) for k, v in ids.items()} != kept_ids:
            write_json(cache / IDS, {"format": FORMAT, "periods": {
                k: {"bundle": digests[k], "ids": v} for k, v in ids.items()}}, compact=True)
        drop, check = hidden(periods, ids)
        extra = {"hide": drop, "check": check}
        hidden_values = hidden_filters(cache, periods, ids, drop, digests)
    elif (cache / HIDDEN).exists():
        (cache / HIDDEN).unlink()
    # each bundle's records, which the search page balances its workers by
    extra["records"] = {period: len(groups[period][1]) for period in periods}
    filter_file = publish(site, cache, periods, digests, extra, hidden_values)
    if seen != known or not (cache / SCAN).is_file():  # (kept even when every page was racy)
        write_scan(cache, seen, records)  # last: a run killed earlier reads every page again
    seconds = time.perf_counter() - started
    logger.debug("search: scan %.2f s (%d of %d pages read), bundles checked %.2f s, indexing %.2f s, "
                 "publishing %.2f s", t_scan - started, sum(1 for k, v in seen.items() if known.get(k) != v),
                 len(seen), t_check - t_scan, t_index - t_check, time.perf_counter() - t_index)
    logger.info("search: %d pages in %d period(s) (%s); re-indexed %s; %.1f s", len(pages), len(periods),
                ", ".join(periods) or "none", ", ".join(indexed) or "none", seconds)
    if len(indexed) > 1:
        logger.info("search: at most %.0f MB of Pagefind at once (%d job(s), budget %.0f MB)",
                    worst, jobs, memory_mb)
    return {"pages": len(pages), "periods": periods, "indexed": indexed, "seconds": seconds,
            "peak_mb": worst, "peaks": peaks, "hidden_filters": filter_file, **extra}


def main(argv: list[str] | None = None) -> int:
    """Command line: index the site's changed periods and publish every period's bundle."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, required=True, help="the built site (output/ or output/zh/)")
    ap.add_argument("--cache", type=Path, required=True,
                    help="where the period bundles are kept between builds (one folder per edition)")
    ap.add_argument("--periods", choices=SCHEMES, default="tiered",
                    help="how pages are split into bundles (default tiered: closed years, the newest "
                         "year's closed quarters, the newest quarter's months)")
    ap.add_argument("--jobs", type=int, default=0,
                    help="Pagefind processes at once when several periods changed (default: one "
                         "per CPU, at most 2)")
    ap.add_argument("--memory-mb", type=float, default=MEMORY_MB,
                    help=f"their estimated peak memory together, at most (default {MEMORY_MB:.0f})")
    ap.add_argument("--records", choices=RECORDS, default="listings",
                    help="listings (default): a paper page the day pages list is one record per "
                         "listing, in the listing day's period, so a later listing leaves earlier "
                         "bundles alone; pages: each page with data-pagefind-body is one record, in "
                         "the period of its date (the reference the listing records are checked against)")
    ap.add_argument("--max-records", type=int, default=None,
                    help="the most records in one bundle: a period with more is indexed as parts "
                         "of whole months (or days) that fit (default: as many as fit in --memory-mb "
                         "by Pagefind's measured memory a record; 0: no limit)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also Pagefind's own output, and where the time went")
    args = ap.parse_args(argv)
    if args.jobs < 0 or args.memory_mb <= 0 or (args.max_records is not None and args.max_records < 0):
        ap.error("--jobs and --max-records must be >= 0 and --memory-mb > 0")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    try:
        build(args.site.resolve(), args.cache.resolve(), quiet=not args.verbose, scheme=args.periods,
              jobs=args.jobs, memory_mb=args.memory_mb, records=args.records, max_records=args.max_records)
    except (SearchIndexError, OSError) as e:
        logger.error("search index: %s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
