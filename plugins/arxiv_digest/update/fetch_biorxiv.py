"""bioRxiv and medRxiv: one posting day from api.biorxiv.org, as Papers.

Requests go through fetch.py's one HTTP layer (spacing, deadlines, retries, size caps). The API
answers `/details/{server}/{from}/{to}/{cursor}[?category=...]` with a `messages` block (status,
`count` of this page, `total` of the interval) and a `collection` of records. We page by the cursor
with the count each page reports, check that each page holds as many records as it says and that
the pages add up to the reported total, and refuse a record outside the requested category (the
API quietly returns everything for a category it does not know). One paper per DOI: the highest
version posted in the interval (a version above 1 is a replacement, as on arXiv).

A posting day is the server's `date`: they post every day, weekends included.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import requests

from ..core.errors import FetchError
from ..core.models import Paper
from ..core.settings import SERVER_CATEGORIES, DigestSettings, category_key
from .fetch import get_body, make_session
from .normalize import clean_text

logger = logging.getLogger(__name__)

SERVERS = tuple(SERVER_CATEGORIES)  # "biorxiv", "medrxiv"
_MAX_PAGES = 10_000  # a guard against a server whose cursor never reaches its total


def details_url(base: str, server: str, start: dt.date, end: dt.date, cursor: int,
                category: str | None) -> str:
    """The interval query: {base}/details/{server}/{from}/{to}/{cursor}[?category=cell_biology]."""
    url = f"{base}/details/{server}/{start.isoformat()}/{end.isoformat()}/{cursor}"
    if category:
        url += "?category=" + quote(category.replace(" ", "_"))
    return url


def _get_json(session: requests.Session, url: str) -> Mapping[str, Any]:
    body = get_body(session, url)
    if not body.strip():
        raise FetchError(f"{url}: empty response body")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise FetchError(f"{url}: malformed or truncated JSON ({e})") from e
    if not isinstance(data, dict):
        raise FetchError(f"{url}: expected a JSON object, got {type(data).__name__}")
    return data


def _int(value: Any, url: str, key: str) -> int:
    try:
        n = int(value)  # the API sends `total` as a string and `count` as a number
    except (TypeError, ValueError) as e:
        raise FetchError(f"{url}: messages.{key} is not a number: {value!r}") from e
    if n < 0:
        raise FetchError(f"{url}: messages.{key} is negative: {n}")
    return n


def iter_records(session: requests.Session, base: str, server: str, start: dt.date, end: dt.date,
                 category: str | None) -> Iterator[Mapping[str, Any]]:
    """Every record of the interval (one category, or all), page by page, checked for completeness."""
    cursor = 0
    total: int | None = None
    for _ in range(_MAX_PAGES):
        url = details_url(base, server, start, end, cursor, category)
        data = _get_json(session, url)
        messages = data.get("messages")
        collection = data.get("collection")
        if not (isinstance(messages, list) and messages and isinstance(messages[0], dict)):
            raise FetchError(f"{url}: no `messages` block in the answer")
        if not isinstance(collection, list):
            raise FetchError(f"{url}: no `collection` list in the answer")
        msg = messages[0]
        status = str(msg.get("status", ""))
        if status != "ok":
            if "no posts found" in status.lower() and not collection and total is None:
                logger.info("%s %s: no posts in %s..%s", server, category or "all", start, end)
                return
            raise FetchError(f"{url}: the server says {status!r}")
        count = _int(msg.get("count"), url, "count")
        page_total = _int(msg.get("total"), url, "total")
        if total is None:
            total = page_total
        elif page_total != total:
            raise FetchError(
                f"{url}: the interval's total changed while paging ({total} -> {page_total}); "
                "nothing stored, try again"
            )
        if len(collection) != count:
            raise FetchError(
                f"{url}: the page says it holds {count} records but has {len(collection)}; "
                "truncated answer, nothing stored"
            )
        for rec in collection:
            if not isinstance(rec, dict):
                raise FetchError(f"{url}: a record is not an object: {rec!r:.60}")
            yield rec
        cursor += count
        if cursor >= total:
            if cursor > total:
                raise FetchError(f"{url}: the pages hold {cursor} records, more than the total {total}")
            return
        if count == 0:
            raise FetchError(
                f"{url}: an empty page at cursor {cursor} of {total}: incomplete answer, nothing stored"
            )
    raise FetchError(f"{server}: more than {_MAX_PAGES} pages for {start}..{end}; giving up")


def split_authors(text: str) -> tuple[str, ...]:
    """'Durrieu, L.; Bush, A.' -> ('L. Durrieu', 'A. Bush'): the name order arXiv's cards use."""
    out = []
    for part in text.split(";"):
        name = clean_text(part)
        if not name:
            continue
        last, sep, first = name.partition(",")
        if sep and first.strip() and "," not in first:
            name = f"{first.strip()} {last.strip()}"
        out.append(name)
    return tuple(out)


def _field(rec: Mapping[str, Any], key: str, url: str) -> str:
    value = rec.get(key)
    if not isinstance(value, str):
        raise FetchError(f"{url}: record {rec.get('doi')!r}: `{key}` is not a string: {value!r:.60}")
    return value


def to_paper(rec: Mapping[str, Any], server: str, where: str) -> tuple[Paper, str]:
    """One API record -> (Paper, its posting date)."""
    doi = clean_text(_field(rec, "doi", where))
    if not doi.startswith("10.") or "/" not in doi or any(c.isspace() for c in doi):
        raise FetchError(f"{where}: not a DOI: {doi!r:.80}")
    try:
        version = int(_field(rec, "version", where))
        date = dt.date.fromisoformat(_field(rec, "date", where)).isoformat()
    except ValueError as e:
        raise FetchError(f"{where}: record {doi}: bad version or date ({e})") from e
    if version < 1:
        raise FetchError(f"{where}: record {doi}: version {version} < 1")
    category = category_key(_field(rec, "category", where))
    published = rec.get("published")
    licence = rec.get("license")
    paper = Paper(
        id=doi,
        version=version,
        title=clean_text(_field(rec, "title", where)),
        authors=split_authors(_field(rec, "authors", where)),
        abstract=clean_text(_field(rec, "abstract", where)),
        categories=(category,) if category else (),
        primary_category=category,
        announce_type="new" if version == 1 else "replace",
        doi=published.strip() if isinstance(published, str) and published.strip() not in ("", "NA")
        else None,
        source=server,
        license=licence.strip() if isinstance(licence, str) and licence.strip() else None,
    )
    return paper, date


def latest_versions(pairs: list[tuple[Paper, str]]) -> list[Paper]:
    """One paper per DOI, the highest version in the interval, by DOI.

    A version above 1 is a replacement, as on arXiv ("replace": an updated version). Links to the
    other versions are made at update from the stored days (enrich.versions), as for arXiv, so a
    version whose posting day is not stored is never linked.
    """
    best: dict[str, Paper] = {}
    for paper, date in pairs:
        held = best.get(paper.id)
        if held is None or paper.version > held.version:
            best[paper.id] = paper
        if held is not None:
            logger.debug("%s: versions %d and %d in the interval (v%d posted %s)", paper.id,
                         held.version, paper.version, paper.version, date)
    return [best[doi] for doi in sorted(best)]


def fetch_day(settings: DigestSettings, server: str, day: dt.date,
              categories: tuple[str, ...] = (), session: requests.Session | None = None
              ) -> list[Paper]:
    """The papers a server posted on `day` (its posting date) in `categories` (none: all)."""
    return fetch_interval(settings, server, day, day, categories, session)


def fetch_interval(settings: DigestSettings, server: str, start: dt.date, end: dt.date,
                   categories: tuple[str, ...] = (), session: requests.Session | None = None
                   ) -> list[Paper]:
    """The papers posted from `start` to `end` in `categories` (none: all), one per DOI, by DOI."""
    pairs = fetch_pairs(settings, server, start, end, categories, session)
    papers = latest_versions(pairs)
    logger.info("%s %s..%s: %d records, %d papers (%s)", server, start, end, len(pairs), len(papers),
                ", ".join(categories) or "all categories")
    return papers


def fetch_posting_days(settings: DigestSettings, server: str, start: dt.date, end: dt.date,
                       categories: tuple[str, ...] = (), session: requests.Session | None = None
                       ) -> dict[dt.date, list[Paper]]:
    """The papers of every posting day from `start` to `end`, from one interval query: each day
    keeps one paper per DOI at its highest version posted that day (a DOI posted again on a later
    day of the interval is that day's replacement, as update --source stores it day by day).
    Days with no posts are absent. The whole interval is checked against its reported total."""
    by_day: dict[str, list[tuple[Paper, str]]] = {}
    pairs = fetch_pairs(settings, server, start, end, categories, session)
    for paper, date in pairs:
        by_day.setdefault(date, []).append((paper, date))
    out = {dt.date.fromisoformat(d): latest_versions(ps) for d, ps in sorted(by_day.items())}
    logger.info("%s %s..%s: %d records over %d posting days (%s)", server, start, end, len(pairs),
                len(out), ", ".join(categories) or "all categories")
    return out


def fetch_pairs(settings: DigestSettings, server: str, start: dt.date, end: dt.date,
                categories: tuple[str, ...] = (), session: requests.Session | None = None
                ) -> list[tuple[Paper, str]]:
    """Every record posted from `start` to `end` in `categories` (none: all) as (Paper, posting
    date), checked: the right server, the right category, a date inside the interval."""
    if server not in SERVER_CATEGORIES:
        raise FetchError(f"unknown preprint server {server!r}; expected one of {', '.join(SERVERS)}")
    session = session or make_session(settings)
    pairs: list[tuple[Paper, str]] = []
    for category in categories or (None,):
        if category is not None and category not in SERVER_CATEGORIES[server]:
            raise FetchError(f"{server}: unknown subject category {category!r}")
        for rec in iter_records(session, settings.biorxiv_api_url, server, start, end, category):
            where = details_url(settings.biorxiv_api_url, server, start, end, 0, category)
            rec_server = rec.get("server")
            if isinstance(rec_server, str) and rec_server.lower() != server:
                raise FetchError(f"{where}: a record from {rec_server!r}, not {server}")
            paper, date = to_paper(rec, server, where)
            if category and paper.primary_category != category:
                raise FetchError(
                    f"{where}: record {paper.id} is in {paper.primary_category!r}, not {category!r}: "
                    "the server ignored the category filter; nothing stored"
                )
            if not start.isoformat() <= date <= end.isoformat():
                raise FetchError(f"{where}: record {paper.id} v{paper.version} is dated {date}, "
                                 f"outside {start}..{end}")
            pairs.append((paper, date))
    return pairs
