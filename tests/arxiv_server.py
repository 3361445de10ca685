"""A local HTTP server on 127.0.0.1 that answers like arXiv from the recorded fixtures.

Routes map a request path (and query) to a recorded file in ../shared/fixtures/arxiv. Faults can
be queued per path, or set for every request (`fault_always`): a status with headers (503,
429 + Retry-After, a 302 loop), an empty or truncated body, a delay, a response dripped one byte
at a time (from the status line or from the body), or a huge generated body. Every request is
logged so tests can assert on what was asked, and when; `sent` counts the body bytes written.

`api_day_from_rss` turns the real records of a recorded RSS day into arXiv API answers in the
2026 format, paged by start/max_results and filtered by the query's `cat:` terms, as arXiv does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "arxiv"
if not FIXTURES.is_dir():  # a fresh clone sits beside shared/
    FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "arxiv"


@dataclass
class Fault:
    """One injected answer instead of the recorded one."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: the recorded body
    truncate: int | None = None  # serve only the first N bytes of the recorded body
    delay: float = 0.0
    drip: float = 0.0  # seconds between bytes: the body is sent one byte at a time
    drip_headers: bool = False  # with drip: from the status line on, not only the body
    size: int | None = None  # a generated body of this many bytes (never held in memory)
    content_length: bool = True  # False: no Content-Length, the body ends when the connection does


@dataclass
class Request:
    """One request the server received."""

    path: str
    query: dict[str, list[str]]
    at: float


class ArxivServer:
    """Serves recorded arXiv responses; start() returns its base URL."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[dict[str, list[str]]], bytes] | Path] = {}
        self.faults: dict[str, deque[Fault]] = {}
        self.always: dict[str, Fault] = {}
        self.requests: list[Request] = []
        self.sent: list[int] = []  # body bytes written, per request that got an answer
        self.used: set[str] = set()
        self._httpd: ThreadingHTTPServer | None = None

    def route(self, path: str, fixture: str | Path | Callable[[dict[str, list[str]]], bytes]) -> None:
        """Answer GET path with a fixture file (name in the fixtures folder) or a callable."""
        if isinstance(fixture, str):
            fixture = FIXTURES / fixture
        self.routes[path] = fixture

    def fault(self, path: str, *faults: Fault) -> None:
        """Queue faults for path: each request takes the next one until none is left."""
        self.faults.setdefault(path, deque()).extend(faults)

    def fault_always(self, path: str, fault: Fault | None) -> None:
        """Answer every request to path with this fault (after any queued ones); None stops it."""
        if fault is None:
            self.always.pop(path, None)
        else:
            self.always[path] = fault

    def count(self, path: str) -> int:
        """How many requests reached path."""
        return sum(1 for r in self.requests if r.path == path)

    def start(self) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                query = parse_qs(parts.query)
                server.requests.append(Request(path, query, time.monotonic()))
                queue = server.faults.get(path)
                fault = queue.popleft() if queue else server.always.get(path, Fault())
                if fault.delay:
                    time.sleep(fault.delay)
                target = server.routes.get(path)
                if target is None and fault.status == 200:
                    self.send_error(404, f"no fixture routed for {path}")
                    return
                server.used.add(path)
                if fault.size is not None:
                    self._send_generated(fault, path)
                    return
                if fault.body is not None:
                    body = fault.body
                elif isinstance(target, Path):
                    body = target.read_bytes()
                elif target is not None:
                    body = target(query)
                else:
                    body = b""
                if fault.truncate is not None:
                    body = body[: fault.truncate]
                head = self._head(fault, path, len(body))
                if not fault.drip:
                    self.wfile.write(head + body)
                    server.sent.append(len(body))
                    return
                sent = 0
                raw = head + body if fault.drip_headers else body
                if not fault.drip_headers:
                    self.wfile.write(head)
                try:
                    for i in range(len(raw)):
                        self.wfile.write(raw[i : i + 1])
                        self.wfile.flush()
                        sent += 1
                        time.sleep(fault.drip)
                except OSError:
                    pass  # the client gave up: that is what the test wants
                server.sent.append(sent)

            def _head(self, fault: Fault, path: str, length: int | None) -> bytes:
                """The status line and headers, as bytes (so they can be dripped too)."""
                ctype = "application/atom+xml" if "api" in path else "application/rss+xml"
                lines = [f"HTTP/1.0 {fault.status} {self.responses.get(fault.status, ('',))[0]}",
                         f"Server: {self.version_string()}", f"Date: {self.date_time_string()}",
                         f"Content-Type: {ctype}; charset=utf-8"]
                if length is not None and fault.content_length:
                    lines.append(f"Content-Length: {length}")
                lines += [f"{k}: {v}" for k, v in fault.headers.items()]
                return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

            def _send_generated(self, fault: Fault, path: str) -> None:
                """A body of fault.size bytes of real feed text, generated as it is sent."""
                assert fault.size is not None
                chunk = (FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes()[:65536]
                sent = 0
                try:
                    self.wfile.write(self._head(fault, path, fault.size))
                    while sent < fault.size:
                        part = chunk[: fault.size - sent]
                        self.wfile.write(part)
                        sent += len(part)
                except OSError:
                    pass  # the client stopped reading and hung up
                server.sent.append(sent)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that timed out and hung up is part of the test

        self._httpd = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()


_ENTRY = re.compile(rb"<entry>.*?</entry>", re.DOTALL)
_CATEGORY = re.compile(rb'<category term="([^"]+)"')
_QUERY_CAT = re.compile(r"cat:([\w.\-]+)")
ENVELOPE = "api2026_query_cat-cs.LG_OR_cat-cs.AI_start0_max20.xml"  # a real 2026 API answer


def paged_feed(fixture: str) -> Callable[[dict[str, list[str]]], bytes]:
    """Serve the real entries of a recorded API response, paged by start/max_results.

    The recorded envelope is kept; only opensearch totalResults/startIndex/itemsPerPage are set
    to describe the recorded entries, so a client can page through them completely.
    """
    raw = (FIXTURES / fixture).read_bytes()
    return api_pages(_ENTRY.findall(raw), fixture, filter_categories=False)


def api_pages(
    entries: list[bytes], envelope: str = ENVELOPE, *, filter_categories: bool = True
) -> Callable[[dict[str, list[str]]], bytes]:
    """Answer API queries from `entries` as arXiv does: the entries whose categories meet the
    query's `cat:` terms (when filter_categories), the page [start, start + max_results), and
    opensearch totalResults/startIndex/itemsPerPage to match, in a real recorded envelope."""
    raw = (FIXTURES / envelope).read_bytes()
    head = raw[: raw.index(b"<entry>")]
    tail = raw[raw.rindex(b"</entry>") + len(b"</entry>"):]
    cats = [set(_CATEGORY.findall(e)) for e in entries]

    def answer(query: dict[str, list[str]]) -> bytes:
        search = query.get("search_query", [""])[0]
        wanted = {c.encode() for c in _QUERY_CAT.findall(search)}
        hits = [e for e, c in zip(entries, cats, strict=True)
                if not filter_categories or not wanted or wanted & c]
        start = int(query.get("start", ["0"])[0])
        size = int(query.get("max_results", ["10"])[0])
        page = hits[start : start + size]
        title = (f"arXiv Query: search_query={search}&id_list={query.get('id_list', [''])[0]}"
                 f"&start={start}&max_results={size}")
        h = re.sub(rb"<title>[^<]*</title>", b"<title>" + escape(title).encode() + b"</title>", head, count=1)
        h = re.sub(rb"<opensearch:totalResults([^>]*)>\d+<", b"<opensearch:totalResults\\1>%d<" % len(hits), h)
        h = re.sub(rb"<opensearch:startIndex([^>]*)>\d+<", b"<opensearch:startIndex\\1>%d<" % start, h)
        h = re.sub(rb"<opensearch:itemsPerPage([^>]*)>\d+<", b"<opensearch:itemsPerPage\\1>%d<" % len(page), h)
        return h + b"\n".join(page) + (tail if page else b"\n</feed>\n")

    return answer


_RSS_NS = {"arxiv": "http://arxiv.org/schemas/atom", "dc": "http://purl.org/dc/elements/1.1/"}
_RSS_ID = re.compile(r"arXiv:(\S+?)(v\d+)\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?(.*)", re.DOTALL)


def api_day_from_rss(
    fixture: str, start: dt.datetime, end: dt.datetime
) -> list[bytes]:
    """The real records of a recorded RSS day as arXiv API entries in the 2026 format.

    Each item keeps its id and version, title, abstract, authors, categories (the first one is
    the primary, as on arXiv's listing), DOI and journal reference; its submission time is
    spread evenly over [start, end), the window the day covers, in the feed's order.
    """
    channel = etree.parse(str(FIXTURES / fixture)).getroot().find("channel")
    assert channel is not None
    items = channel.findall("item")
    step = (end - start) / max(len(items), 1)
    out = []
    for i, item in enumerate(items):
        m = _RSS_ID.match(item.findtext("description") or "")
        assert m, item.findtext("link")
        arxiv_id, version, abstract = m.group(1), m.group(2), m.group(3).strip()
        when = (start + step * i).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        cats = [c.text.strip() for c in item.findall("category") if c.text]
        authors = _split_authors(item.findtext("dc:creator", namespaces=_RSS_NS) or "")
        doi = item.findtext("arxiv:DOI", namespaces=_RSS_NS)
        journal = item.findtext("arxiv:journal_reference", namespaces=_RSS_NS)
        url = f"{arxiv_id}{version}"
        lines = [
            "  <entry>",
            f"    <id>http://arxiv.org/abs/{url}</id>",
            f"    <title>{escape(item.findtext('title') or '')}</title>",
            f"    <updated>{when}</updated>",
            f'    <link href="https://arxiv.org/abs/{url}" rel="alternate" type="text/html"/>',
            f'    <link href="https://arxiv.org/pdf/{url}" rel="related" type="application/pdf" title="pdf"/>',
            f"    <summary>{escape(abstract)}</summary>",
            *(f'    <category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>' for c in cats),
            f"    <published>{when}</published>",
            f"    <arxiv:primary_category term={quoteattr(cats[0])}/>",
            *([f"    <arxiv:journal_ref>{escape(journal)}</arxiv:journal_ref>"] if journal else []),
            *itertools.chain.from_iterable(
                ("    <author>", f"      <name>{escape(a)}</name>", "    </author>") for a in authors),
            *([f"    <arxiv:doi>{escape(doi)}</arxiv:doi>",
               f'    <link rel="related" href={quoteattr("https://doi.org/" + doi)} title="doi"/>']
              if doi else []),
            "  </entry>",
        ]
        out.append("\n".join(lines).encode())
    return out


def _split_authors(text: str) -> list[str]:
    """arXiv's comma-separated author list; commas inside parentheses stay."""
    out, cur, depth = [], [], 0
    for ch in text:
        depth += ch in "(["
        depth -= ch in ")]" and depth > 0
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return [a for a in out if a]
