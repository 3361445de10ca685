"""Serve the built site on 127.0.0.1 the way a static host does: a missing page is the site's 404.

    python scripts/serve.py [--port 8000] [--bind 127.0.0.1] [output]

`make serve` runs it. Pelican's own server (`pelican -l`) answers a missing URL with an empty
reply (it closes the connection without a status line); this one answers with status 404 and the
theme's 404.html, as GitHub Pages does. Everything else is Pelican's handler (`/x` finds `x.html`,
`x/index.html`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from http import HTTPStatus
from pathlib import Path

from pelican.server import ComplexHTTPRequestHandler, RootedHTTPServer

logger = logging.getLogger("serve")
NOT_FOUND_PAGE = "404.html"


class SiteHandler(ComplexHTTPRequestHandler):  # type: ignore[misc]
    """Pelican's development handler, with the site's 404 page for what does not exist."""

    base_path: str

    def do_GET(self) -> None:
        """A file (or a page by its directory), else the 404 page."""
        if self._send_not_found(head=False):
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        """As GET, without the body."""
        if self._send_not_found(head=True):
            return
        self.path = self.get_path_that_exists(self.path.split("?", 1)[0]) or self.path
        super().do_HEAD()

    def _send_not_found(self, head: bool) -> bool:
        original = self.path.split("?", 1)[0]
        if self.get_path_that_exists(original):
            return False
        page = Path(self.base_path) / NOT_FOUND_PAGE
        body = page.read_bytes() if page.is_file() else b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1>"
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        return True

    def log_message(self, format: str, *args: object) -> None:
        logger.info(format, *args)


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="output", help="the built site (default: output)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    root = Path(args.output)
    if not (root / "index.html").is_file():
        print(f"error: {root}/index.html not found: build the site first (make html)", file=sys.stderr)
        return 2
    RootedHTTPServer.allow_reuse_address = True
    try:
        httpd = RootedHTTPServer(str(root.resolve()), (args.bind, args.port), SiteHandler)
    except OSError as e:
        print(f"error: cannot listen on {args.bind}:{args.port}: {e.strerror}", file=sys.stderr)
        return 2
    print(f"serving {root} on http://{args.bind}:{httpd.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
