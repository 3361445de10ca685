"""A local HTTP server on 127.0.0.1 that answers like arXiv from the recorded fixtures.

Routes map a request path (and query) to a recorded file in ../shared/fixtures/arxiv. Faults can
be queued per path: a status with headers (503, 429 + Retry-After), an empty body, a truncated
body, or a delay. Every request is logged so tests can assert on what was asked, and when.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

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
        self.requests: list[Request] = []
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
                fault = queue.popleft() if queue else Fault()
                if fault.delay:
                    time.sleep(fault.delay)
                target = server.routes.get(path)
                if target is None:
                    self.send_error(404, f"no fixture routed for {path}")
                    return
                server.used.add(path)
                if fault.body is not None:
                    body = fault.body
                elif isinstance(target, Path):
                    body = target.read_bytes()
                else:
                    body = target(query)
                if fault.truncate is not None:
                    body = body[: fault.truncate]
                self.send_response(fault.status)
                ctype = "application/atom+xml" if "api" in path else "application/rss+xml"
                self.send_header("Content-Type", ctype + "; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for k, v in fault.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

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


def paged_feed(fixture: str) -> Callable[[dict[str, list[str]]], bytes]:
    """Serve the real entries of a recorded API response, paged by start/max_results.

    The recorded envelope is kept; only opensearch totalResults/startIndex/itemsPerPage are set
    to describe the recorded entries, so a client can page through them completely.
    """
    raw = (FIXTURES / fixture).read_bytes()
    entries = _ENTRY.findall(raw)
    head = raw[: raw.index(b"<entry>")]
    tail = raw[raw.rindex(b"</entry>") + len(b"</entry>"):]

    def answer(query: dict[str, list[str]]) -> bytes:
        start = int(query.get("start", ["0"])[0])
        size = int(query.get("max_results", ["10"])[0])
        page = entries[start : start + size]
        h = re.sub(rb"<opensearch:totalResults([^>]*)>\d+<", b"<opensearch:totalResults\\1>%d<" % len(entries), head)
        h = re.sub(rb"<opensearch:startIndex([^>]*)>\d+<", b"<opensearch:startIndex\\1>%d<" % start, h)
        h = re.sub(rb"<opensearch:itemsPerPage([^>]*)>\d+<", b"<opensearch:itemsPerPage\\1>%d<" % len(page), h)
        return h + b"\n".join(page) + tail

    return answer
