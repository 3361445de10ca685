"""The only module that talks to arXiv: the daily RSS feed, and the API (arxiv.py) for backfills.

One HTTP layer (`_PoliteSession`) does the spacing, the retries and the limits: one request every
ARXIV_DIGEST_REQUEST_DELAY seconds (retries and redirects included), a read timeout and a total
deadline on every request, one deadline for the whole day's fetch, exponential backoff on 429/5xx
and broken connections that honours Retry-After up to a cap, at most a few redirects, and a size
cap on every body. The arxiv client is given that session and no retries of its own. Every body
is parsed strictly: a truncated or malformed document is an error, never a partial day.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from lxml import etree
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..core import schedule
from ..core.errors import FetchError
from ..core.settings import DigestSettings
from .normalize import RawRecord, split_authors

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


class _Attempt:
    """One try of one request: the connections it used, and a watchdog for its deadline.

    A read timeout bounds each socket read, not a whole response: a server that sends one byte
    every few seconds never trips it. The watchdog shuts the attempt's sockets down when its
    deadline passes, which wakes any blocked read, whether it waits for headers or body.
    """

    def __init__(self, seconds: float) -> None:
        self.conns: list[Any] = []
        self.expired = False
        self._done = threading.Event()
        self._seconds = seconds
        self._thread = threading.Thread(target=self._watch, name="fetch-deadline", daemon=True)

    def __enter__(self) -> _Attempt:
        _current.attempt = self
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        _current.attempt = None
        self._done.set()

    def _watch(self) -> None:
        if self._done.wait(self._seconds):
            return
        self.expired = True
        while True:  # again until the attempt ends: a socket may appear after the deadline
            for conn in list(self.conns):
                # conn.sock is None once a closing response took the socket over: hence opened
                for sock in {id(s): s for s in (conn.sock, getattr(conn, "opened", None)) if s}.values():
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
            if self._done.wait(0.1):
                return


_current = threading.local()


class _TrackedHTTPConnection(HTTPConnection):
    """Keeps the socket it opened: http.client drops `sock` when a response will close it."""

    opened: Any = None

    def connect(self) -> None:
        super().connect()
        self.opened = self.sock


class _TrackedHTTPSConnection(HTTPSConnection):
    opened: Any = None

    def connect(self) -> None:
        super().connect()
        self.opened = self.sock


class _TrackedPool(HTTPConnectionPool):
    """Tells the running attempt which connection it uses, so its watchdog can cut it."""

    ConnectionCls = _TrackedHTTPConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        attempt = getattr(_current, "attempt", None)
        if attempt is not None:
            attempt.conns.append(conn)
        return conn


class _TrackedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection
    _get_conn = _TrackedPool._get_conn


class _TrackedAdapter(HTTPAdapter):
    """A plain adapter (no retries of its own) whose pools report their connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TrackedPool, "https": _TrackedHTTPSPool}


class _Retryable(Exception):
    """A try failed in a way worth trying again (timeout, connection, 429/5xx)."""


class _PoliteSession(requests.Session):
    """The one HTTP layer between us and arXiv: every request of one day goes through here.

    - at least `request_delay` seconds between requests, counting retries and redirects;
    - each try has a read timeout and a total deadline (`request_deadline`), and all requests of
      the session share one deadline (`fetch_deadline`) that no wait or try may run past;
    - 429/5xx, timeouts and broken connections are retried with exponential backoff (at least
      the delay), honouring Retry-After up to `max_retry_after`; a longer one fails at once;
    - redirects are followed by hand, at most `max_redirects`, each one a spaced request;
    - bodies are streamed and refused past `max_response_bytes`;
    - `validate`, when set, checks every 200 body before the caller sees it.
    """

    def __init__(self, settings: DigestSettings) -> None:
        super().__init__()
        self.settings = settings
        self.deadline = time.monotonic() + settings.fetch_deadline
        self.validate: Callable[[requests.Response], None] | None = None
        self.total_results: int | None = None
        self.requests_sent = 0
        self._last: float | None = None
        adapter = _TrackedAdapter(max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = USER_AGENT

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        # ours to decide: streaming (for the size cap), redirects (spaced, capped), timeouts
        for key in ("allow_redirects", "stream", "timeout"):
            kwargs.pop(key, None)
        first = target = url if isinstance(url, str) else url.decode()
        tries = redirects = 0
        while True:
            try:
                resp = self._try(method, target, *args, **kwargs)
            except _Retryable as e:
                tries += 1
                if tries > self.settings.retries:
                    raise FetchError(f"{target}: {e}; gave up after {tries} tries") from e
                self._pause(self._backoff(tries), target, f"{e}; retry {tries}")
                continue
            location = self.get_redirect_target(resp)
            if location is not None:
                redirects += 1
                if redirects > self.settings.max_redirects:
                    raise FetchError(
                        f"{first}: more than {self.settings.max_redirects} redirects "
                        f"(ARXIV_DIGEST_MAX_REDIRECTS), the last to {location}; giving up"
                    )
                target = urljoin(resp.url, location)
                logger.debug("redirect %d to %s", redirects, target)
                continue
            if resp.status_code in RETRY_STATUSES:
                after = _retry_after(resp)
                if after is not None and after > self.settings.max_retry_after:
                    raise FetchError(
                        f"{target}: HTTP {resp.status_code}, the server asks to wait "
                        f"{_human(after)} (Retry-After: {resp.headers['Retry-After']}), more "
                        f"than ARXIV_DIGEST_MAX_RETRY_AFTER ({_human(self.settings.max_retry_after)})"
                        "; nothing stored, try again later"
                    )
                if tries < self.settings.retries:
                    tries += 1
                    wait = max(after, self.settings.request_delay) if after else self._backoff(tries)
                    self._pause(wait, target, f"HTTP {resp.status_code}; retry {tries}")
                    continue
            if resp.status_code == 200 and self.validate is not None:
                self.validate(resp)
            return resp

    def _backoff(self, tries: int) -> float:
        delay = max(self.settings.request_delay, 0.01)
        return float(min(delay * 2 ** (tries - 1), 120.0))

    def _remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _pause(self, wait: float, url: str, why: str) -> None:
        """Sleep before a retry, unless that would run past the fetch deadline."""
        if wait > self._remaining():
            raise FetchError(
                f"{url}: {why} would wait {_human(wait)}, past the fetch deadline "
                f"(ARXIV_DIGEST_FETCH_DEADLINE, {_human(self.settings.fetch_deadline)}); "
                "nothing stored"
            )
        logger.info("%s: %s in %.1f s", url, why, wait)
        time.sleep(wait)

    def _try(self, method: str | bytes, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        """One spaced request with its deadline, and its body read under the size cap."""
        if self._last is not None:
            wait = self._last + self.settings.request_delay - time.monotonic()
            if wait > 0:
                if wait > self._remaining():
                    raise self._deadline_passed(url)
                logger.debug("waiting %.2f s between requests", wait)
                time.sleep(wait)
        fetch_left = self._remaining()
        if fetch_left <= 0:
            raise self._deadline_passed(url)
        seconds = min(self.settings.request_deadline, fetch_left)
        per_read = min(self.settings.timeout, seconds)
        self.requests_sent += 1
        try:
            with _Attempt(seconds) as attempt:
                try:
                    kwargs.update(stream=True, allow_redirects=False, timeout=(per_read, per_read))
                    resp = super().request(method, url, *args, **kwargs)
                    try:
                        resp._content = self._read_capped(resp, url, attempt)
                    finally:
                        resp.close()
                except requests.exceptions.RequestException as e:
                    if attempt.expired:
                        raise self._expired(url, seconds, fetch_left) from e
                    if isinstance(e, _RETRYABLE):
                        raise _Retryable(describe(e)) from e
                    raise FetchError(f"{url}: {describe(e)}") from e
                if attempt.expired:  # a cut connection can look like a short, complete body
                    raise self._expired(url, seconds, fetch_left)
        finally:
            self._last = time.monotonic()
        return resp

    def _read_capped(self, resp: requests.Response, url: str, attempt: _Attempt) -> bytes:
        cap = self.settings.max_response_bytes
        length = resp.headers.get("Content-Length", "")
        if length.strip().isdigit() and int(length) > cap:
            raise FetchError(
                f"{url}: the response is {_size(int(length))}, more than "
                f"ARXIV_DIGEST_MAX_RESPONSE_BYTES ({_size(cap)}); not read"
            )
        body = bytearray()
        for chunk in resp.iter_content(chunk_size=64 * 1024):
            body += chunk
            if len(body) > cap:
                raise FetchError(
                    f"{url}: the response is larger than ARXIV_DIGEST_MAX_RESPONSE_BYTES "
                    f"({_size(cap)}); stopped reading"
                )
            if attempt.expired:
                break
        return bytes(body)

    def _expired(self, url: str, seconds: float, fetch_left: float) -> Exception:
        if seconds >= fetch_left:
            return self._deadline_passed(url)
        return _Retryable(
            f"no complete answer within {_human(seconds)} (ARXIV_DIGEST_REQUEST_DEADLINE)"
        )

    def _deadline_passed(self, url: str) -> FetchError:
        return FetchError(
            f"{url}: the fetch deadline passed (ARXIV_DIGEST_FETCH_DEADLINE, "
            f"{_human(self.settings.fetch_deadline)}) after {self.requests_sent} request(s); "
            "nothing stored"
        )


_RETRYABLE = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _retry_after(resp: requests.Response) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), or None when absent or unreadable."""
    raw = resp.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        logger.warning("ignoring an unreadable Retry-After: %r", raw)
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _human(seconds: float) -> str:
    """86400 -> '86400 s (24 h)'; 2.5 -> '2.5 s'; 86368.8 -> '86369 s (24 h)'."""
    text = f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.3g} s"
    if seconds >= 3600:
        text += f" ({seconds / 3600:.3g} h)"
    elif seconds >= 120:
        text += f" ({seconds / 60:.3g} min)"
    return text


def _size(n: int) -> str:
    return f"{n:,} bytes" if n < 1_000_000 else f"{n / 1e6:.3g} MB"


def make_session(settings: DigestSettings) -> _PoliteSession:
    """The session for one day's fetch: spacing, deadlines, retries, redirect and size caps."""
    return _PoliteSession(settings)


def get_body(session: requests.Session, url: str) -> bytes:
    """GET a URL; any failure after the retries becomes one FetchError line."""
    try:
        resp = session.get(url)
    except requests.exceptions.RequestException as e:
        raise FetchError(f"{url}: {describe(e)}") from e
    if resp.status_code != 200:
        raise FetchError(f"{url}: HTTP {resp.status_code} after retries")
    return resp.content


def describe(e: BaseException) -> str:
    """One line for a requests failure: what went wrong."""
    reason: object = e
    while reason is not None and hasattr(reason, "reason") and reason.reason is not None:
        reason = reason.reason  # MaxRetryError -> ReadTimeoutError, ...
    if e.args and hasattr(e.args[0], "reason") and e.args[0].reason is not None:
        reason = e.args[0].reason
    name = type(reason).__name__
    if "Timeout" in name or isinstance(e, requests.exceptions.Timeout):
        return "timed out (no answer within the timeout)"
    if isinstance(e, requests.exceptions.ChunkedEncodingError):
        return "the connection broke in the middle of the response"
    if isinstance(e, requests.exceptions.ConnectionError):
        return f"could not connect ({name})"
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
    body = get_body(make_session(settings), url)
    day = parse_rss(body, url)
    logger.info(
        "fetched RSS %s: %d items dated %s in %.1f s",
        url, len(day.records), day.date, time.monotonic() - started,
    )
    return day


def refuse_future_feed(day: FetchedDay, now: dt.datetime) -> None:
    """A feed dated after the latest plausible listing date is refused, as a stale one is."""
    latest = schedule.latest_feed_date(now)
    if day.date > latest:
        raise FetchError(
            f"future feed: arXiv's feed is dated {day.date}, but at "
            f"{now.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC the latest possible listing is {latest} "
            "(a day after today in New York); the feed or this machine's clock is wrong; "
            "nothing stored"
        )


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
    # Spacing and retries are the session's (ours): arxiv.py neither sleeps nor retries.
    client = arxiv.Client(page_size=settings.page_size, delay_seconds=0, num_retries=0)
    client.query_url_format = settings.api_url + "?{}"
    # arxiv.py has no public hook for its session; ours adds the limits above, and checks pages.
    session.validate = ApiPageChecker(session)
    client._session = session
    search = arxiv.Search(
        query=query,
        max_results=None,  # arxiv.py's default is 100: a real day has 500-1,000 and more
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
        "fetched API %s..%s: %d of %d results, %d request(s) in %.1f s",
        start.isoformat(), end.isoformat(), fetched, total, session.requests_sent,
        time.monotonic() - started,
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
    """Validates every API page before arxiv.py sees it (arxiv.py parses leniently).

    A page must be well-formed, carry totalResults (the same on every page), start where it was
    asked to start, and hold no entry an earlier page held: a server that ignores `start`, or a
    result set that shifts under the paging, would otherwise repeat or drop papers silently.
    """

    def __init__(self, session: _PoliteSession) -> None:
        self.session = session
        self.seen: set[str] = set()

    def __call__(self, resp: requests.Response) -> None:
        root = _parse_xml(resp.content, resp.url)
        total = _text(root, "opensearch:totalResults")
        if total is None or not total.strip().isdigit():
            raise FetchError(f"{resp.url}: no opensearch:totalResults in the API response")
        ids = []
        for entry in root.iterfind("atom:entry", _NS):
            eid = _text(entry, "atom:id") or ""
            if "/api/errors" in eid:
                raise FetchError(f"arXiv API error: {_text(entry, 'atom:summary') or eid}")
            ids.append(eid.strip())
        known = self.session.total_results
        if not ids:  # an empty page: the whole answer (first page) or an error (see fetch_api)
            if known is None:
                self.session.total_results = int(total)
            return
        asked = parse_qs(urlsplit(resp.url).query).get("start", ["0"])[0]
        began = _text(root, "opensearch:startIndex")
        if began is not None and began.strip() != asked.strip():
            raise FetchError(
                f"{resp.url}: asked for results from {asked}, the page starts at {began.strip()}; "
                "refusing to store a day from misaligned pages"
            )
        if known is not None and int(total) != known:
            raise FetchError(
                f"{resp.url}: totalResults changed from {known} to {int(total)} between pages; "
                "the result set moved, try again later"
            )
        repeated = self.seen.intersection(ids)
        if repeated:
            raise FetchError(
                f"{resp.url}: the page repeats {len(repeated)} entries of earlier pages "
                f"(e.g. {min(repeated)}); refusing to store a day from overlapping pages"
            )
        self.seen.update(ids)
        self.session.total_results = int(total)
