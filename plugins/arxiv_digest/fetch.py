"""The only module that talks to arXiv: the daily RSS feed, and the API (arxiv.py) for backfills.

One HTTP layer does the retries: a requests session whose adapter retries 429/5xx and connection
errors with exponential backoff, honours Retry-After, and puts a timeout on every request. The
arxiv client is given that session and no retries of its own. Every body is parsed strictly: a
truncated or malformed document is an error, never a partial day.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests
from lxml import etree
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .errors import FetchError
from .normalize import RawRecord, split_authors
from .settings import DigestSettings

logger = logging.getLogger(__name__)

USER_AGENT = "arxiv-digest/0.1 (static daily digest; at most one request every 3 s)"
RETRY_STATUSES = (429, 500, 502, 503, 504)
_NS = {
    "arxiv": "http://arxiv.org/schemas/atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "atom": "http://www.w3.org/2005/Atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
_DESC = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w\-]+)\s*(?:Abstract:\s*)?(?P<abs>.*)$",
    re.DOTALL,
)


@dataclass(frozen=True)
class FetchedDay:
    """What one source said about one announcement: its date and the records in it."""

    date: dt.date
    records: tuple[RawRecord, ...]
    source: str


class _TimeoutAdapter(HTTPAdapter):
    """An adapter that puts a timeout on every request (requests has no session-wide one)."""

    def __init__(self, timeout: float, **kwargs: Any) -> None:
        self._timeout = timeout
        super().__init__(**kwargs)

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class _PoliteSession(requests.Session):
    """Keeps at least `delay` seconds between requests, and checks every API page strictly."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self._delay = delay
        self._last = 0.0
        self.total_results: int | None = None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        wait = self._last + self._delay - time.monotonic()
        if wait > 0:
            logger.debug("waiting %.1f s between requests", wait)
            time.sleep(wait)
        try:
            return super().request(method, url, *args, **kwargs)
        finally:
            self._last = time.monotonic()


class _PoliteRetry(Retry):
    """urllib3 retries that never come back sooner than arXiv's delay, even on a short Retry-After."""

    min_backoff = 3.0

    def get_backoff_time(self) -> float:
        return max(self.min_backoff, super().get_backoff_time())

    def get_retry_after(self, response: Any) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else max(after, self.min_backoff)


def make_session(settings: DigestSettings) -> _PoliteSession:
    """A session with timeouts, polite spacing, and backoff on 429/5xx honouring Retry-After."""
    retry_class = type("Retry", (_PoliteRetry,), {"min_backoff": settings.request_delay})
    retry = retry_class(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        backoff_factor=max(settings.request_delay, 0.01),
        backoff_max=120,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = _PoliteSession(settings.request_delay)
    adapter = _TimeoutAdapter(settings.timeout, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _get(session: requests.Session, url: str) -> bytes:
    """GET a URL; any failure after the retries becomes one FetchError line."""
    try:
        resp = session.get(url)
    except requests.exceptions.RequestException as e:
        raise FetchError(f"{url}: {describe(e)}") from e
    if resp.status_code != 200:
        raise FetchError(f"{url}: HTTP {resp.status_code} after retries")
    return resp.content


def describe(e: BaseException) -> str:
    """One line for a requests failure: what went wrong, after how many tries."""
    reason: object = e
    while reason is not None and hasattr(reason, "reason") and reason.reason is not None:
        reason = reason.reason  # MaxRetryError -> ReadTimeoutError, ...
    if e.args and hasattr(e.args[0], "reason") and e.args[0].reason is not None:
        reason = e.args[0].reason
    name = type(reason).__name__
    if "Timeout" in name or isinstance(e, requests.exceptions.Timeout):
        return "timed out (no answer within the timeout), retries exhausted"
    if isinstance(e, requests.exceptions.RetryError):
        return f"gave up after retries: {reason}"
    if isinstance(e, requests.exceptions.ConnectionError):
        return f"could not connect, retries exhausted ({name})"
    return f"request failed: {name}: {reason}"


def _parse_xml(body: bytes, url: str) -> Any:
    """Parse strictly: a truncated or malformed document is a FetchError."""
    if not body.strip():
        raise FetchError(f"{url}: empty response body")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    try:
        return etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as e:
        raise FetchError(f"{url}: malformed or truncated XML ({e.msg})") from e


def _text(el: Any, path: str) -> str | None:
    found = el.find(path, _NS)
    return found.text if found is not None and found.text is not None else None


def rss_url(settings: DigestSettings) -> str:
    """{url}/{cat}+{cat}..."""
    return f"{settings.rss_url}/{'+'.join(settings.categories)}"


def parse_rss(body: bytes, url: str) -> FetchedDay:
    """Parse an arXiv RSS 2.0 feed (2024+ format) into its date and records."""
    root = _parse_xml(body, url)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise FetchError(f"{url}: not an RSS feed (root <{root.tag}>)")
    title = _text(channel, "title") or ""
    if title.startswith("Feed error"):
        raise FetchError(f"{url}: arXiv says: {_text(channel, 'description') or title}")
    pub = _text(channel, "pubDate")
    if not pub:
        raise FetchError(f"{url}: the feed has no <pubDate>, so its day is unknown")
    try:
        day = email.utils.parsedate_to_datetime(pub).date()
    except (TypeError, ValueError) as e:
        raise FetchError(f"{url}: unreadable <pubDate> {pub!r}") from e
    records = []
    for item in channel.iterfind("item"):
        desc = _text(item, "description") or ""
        m = _DESC.match(desc)
        link = _text(item, "link") or ""
        if not m:
            raise FetchError(f"{url}: item {link!r} has an unexpected description")
        announce = _text(item, "arxiv:announce_type") or m.group("type")
        records.append(
            RawRecord(
                arxiv_id=m.group("id"),
                title=_text(item, "title") or "",
                authors=split_authors(_text(item, "dc:creator") or ""),
                abstract=m.group("abs"),
                categories=tuple(c.text.strip() for c in item.iterfind("category") if c.text),
                announce_type=announce,
                doi=_text(item, "arxiv:DOI"),
                journal_ref=_text(item, "arxiv:journal_reference"),
            )
        )
    return FetchedDay(date=day, records=tuple(records), source="rss")


def fetch_rss(settings: DigestSettings) -> FetchedDay:
    """The latest announcement for the configured categories: one request for all of them."""
    url = rss_url(settings)
    started = time.monotonic()
    body = _get(make_session(settings), url)
    day = parse_rss(body, url)
    logger.info(
        "fetched RSS %s: %d items dated %s in %.1f s",
        url, len(day.records), day.date, time.monotonic() - started,
    )
    return day


def api_query(categories: Iterable[str], start: dt.datetime, end: dt.datetime) -> str:
    """The API search query for the submissions in [start, end) in the categories."""
    cats = " OR ".join(f"cat:{c}" for c in categories)
    last = end - dt.timedelta(minutes=1)
    return f"({cats}) AND submittedDate:[{start:%Y%m%d%H%M} TO {last:%Y%m%d%H%M}]"


def fetch_api(
    settings: DigestSettings, day: dt.date, start: dt.datetime, end: dt.datetime
) -> FetchedDay:
    """Backfill one announcement day through the arXiv API (arxiv.py), checking completeness."""
    import arxiv

    query = api_query(settings.categories, start, end)
    session = make_session(settings)
    client = arxiv.Client(page_size=settings.page_size, delay_seconds=0, num_retries=0)
    client.query_url_format = settings.api_url + "?{}"
    # arxiv.py has no public hook for its session; ours adds timeouts, spacing and backoff.
    session.hooks["response"].append(ApiPageChecker(session))
    client._session = session
    search = arxiv.Search(
        query=query,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Ascending,
    )
    wanted = set(settings.categories)
    records: dict[str, RawRecord] = {}
    started = time.monotonic()
    fetched = 0
    try:
        for r in client.results(search):
            fetched += 1
            announce = "new" if r.primary_category in wanted else "cross"
            records[r.entry_id] = RawRecord(
                arxiv_id=r.entry_id,
                title=r.title,
                authors=tuple(a.name for a in r.authors),
                abstract=r.summary,
                categories=tuple(r.categories),
                primary_category=r.primary_category,
                announce_type=announce,
                comment=r.comment,
                doi=r.doi,
                journal_ref=r.journal_ref,
            )
    except arxiv.HTTPError as e:
        raise FetchError(f"arXiv API: HTTP {e.status} after retries ({e.url})") from e
    except arxiv.UnexpectedEmptyPageError as e:
        raise FetchError(
            f"arXiv API returned an empty page after {fetched} results; the day is incomplete"
        ) from e
    except requests.exceptions.RequestException as e:
        raise FetchError(f"arXiv API: request failed: {type(e).__name__}: {e}") from e
    total = _check_complete(session, fetched)
    logger.info(
        "fetched API %s..%s: %d of %d results in %.1f s",
        start.isoformat(), end.isoformat(), fetched, total, time.monotonic() - started,
    )
    return FetchedDay(date=day, records=tuple(records.values()), source="api")


def _check_complete(session: _PoliteSession, fetched: int) -> int:
    """Fail unless the API pages added up to the totalResults arXiv announced."""
    total = session.total_results
    if total is None:
        raise FetchError("arXiv API: no response could be checked")
    if fetched != total:
        raise FetchError(
            f"arXiv API: got {fetched} of {total} results; refusing to store an incomplete day"
        )
    return total


class ApiPageChecker:
    """Validates every API page before arxiv.py sees it (arxiv.py parses leniently)."""

    def __init__(self, session: _PoliteSession) -> None:
        self.session = session

    def __call__(self, resp: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if resp.status_code != 200:
            return resp
        root = _parse_xml(resp.content, resp.url)
        total = _text(root, "opensearch:totalResults")
        if total is None or not total.strip().isdigit():
            raise FetchError(f"{resp.url}: no opensearch:totalResults in the API response")
        for entry in root.iterfind("atom:entry", _NS):
            eid = _text(entry, "atom:id") or ""
            if "/api/errors" in eid:
                raise FetchError(f"arXiv API error: {_text(entry, 'atom:summary') or eid}")
        if self.session.total_results is None:
            self.session.total_results = int(total)
        return resp
