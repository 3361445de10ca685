#!/usr/bin/env python3
"""Lighthouse scores of the built site, measured with Debian's chromium on 127.0.0.1.

    .venv/bin/python bench/lighthouse.py              # make html, then measure
    .venv/bin/python bench/lighthouse.py --no-build   # measure output/ as it is

Builds the site (`make html`), serves output/ on 127.0.0.1, and runs the `lighthouse` npm package
(installed on first use into ~/.cache/arxiv-digest-bench; npm registry only) against the day page,
a paper page, the home page, the archive, the atlas and the radar, with the mobile (default) and
desktop presets. Prints a table of the four category scores and the day page's HTML weight, and exits
1 when the day or paper page scores under the target (95) for performance or accessibility.
A benchmark, not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE_VERSION = "12.8.2"  # 13.x needs Node >= 22.19
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "arxiv-digest-bench"
CHROME = shutil.which("chromium") or "/usr/bin/chromium"
CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update --disable-sync")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGET = 95


class _Pages(SimpleHTTPRequestHandler):
    """Serves the site as GitHub Pages does: text compressed with gzip when the browser asks."""

    COMPRESS = (".html", ".css", ".js", ".json", ".xml", ".svg")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?")[0].endswith("/"):
                return super().send_head()  # the redirect to the URL with a slash
            path = path / "index.html"
        gzip_ok = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (gzip_ok and path.is_file() and path.suffix in self.COMPRESS):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")  # GitHub Pages' caching
        self.end_headers()
        return io.BytesIO(body)


def lighthouse_bin() -> Path:
    """The lighthouse CLI, installed from npm into the cache on first use."""
    exe = CACHE / "node_modules" / ".bin" / "lighthouse"
    pkg = CACHE / "node_modules" / "lighthouse" / "package.json"
    if not exe.exists() or json.loads(pkg.read_text())["version"] != LIGHTHOUSE_VERSION:
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"installing lighthouse@{LIGHTHOUSE_VERSION} into {CACHE} ...", file=sys.stderr)
        subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix",
                        str(CACHE), f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True)
    return exe


def run(exe: Path, url: str, preset: str, out: Path) -> dict[str, Any]:
    """One Lighthouse run; returns the parsed JSON report."""
    cmd = [str(exe), url, "--quiet", "--output=json", f"--output-path={out}",
           f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}"]
    if preset == "desktop":
        cmd.append("--preset=desktop")
    env = dict(os.environ, CHROME_PATH=CHROME)
    subprocess.run(cmd, check=True, env=env, timeout=300)
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-build", action="store_true", help="measure output/ without `make html`")
    ap.add_argument("--site", default=str(ROOT / "output"), help="the built site (default output/)")
    ap.add_argument("--keep", help="a folder to keep the JSON reports in")
    ap.add_argument("--only", choices=("day", "paper", "home", "archive", "atlas", "radar"),
                    help="measure one page only")
    args = ap.parse_args()
    site = Path(args.site)
    if not args.no_build:
        subprocess.run(["make", "-C", str(ROOT), "html", f"OUTPUTDIR={site}"], check=True,
                       stdout=subprocess.DEVNULL)
    days = sorted(site.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/index.html"))
    if not days:
        print(f"no day page under {site}: build the site first", file=sys.stderr)
        return 2
    day = "/" + str(days[-1].parent.relative_to(site)) + "/"
    papers = sorted(site.glob("papers/*/index.html"))
    paper = "/" + str(papers[0].parent.relative_to(site)) + "/" if papers else None
    exe = lighthouse_bin()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Pages, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    reports = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lighthouse-"))
    reports.mkdir(parents=True, exist_ok=True)
    rows = []
    failed = False
    try:
        pages = [("day", day), ("paper", paper), ("home", "/"), ("archive", "/archives/"),
                 ("atlas", "/atlas/"), ("radar", "/radar/")]
        for name, path in pages:
            if path is None or (args.only and name != args.only):
                continue
            for preset in ("mobile", "desktop"):
                rep = run(exe, base + path, preset, reports / f"{name}-{preset}.json")
                scores = {c: round(100 * (rep["categories"][c]["score"] or 0)) for c in CATEGORIES}
                audits = rep["audits"]
                lcp = audits["largest-contentful-paint"]["displayValue"]
                cls = audits["cumulative-layout-shift"]["displayValue"]
                tbt = audits["total-blocking-time"]["displayValue"]
                rows.append((name, preset, scores, lcp, tbt, cls))
                if name in ("day", "paper") and min(scores["performance"], scores["accessibility"]) < TARGET:
                    failed = True
                for c in ("accessibility", "performance"):
                    for ref in rep["categories"][c]["auditRefs"]:
                        a = audits[ref["id"]]
                        if ref["weight"] and a["score"] is not None and a["score"] < 1:
                            print(f"  {name}/{preset} {c}: {a['id']} ({a['score']}): {a['title']}")
    finally:
        server.shutdown()
    weight = days[-1].stat().st_size
    print(f"\nLighthouse {LIGHTHOUSE_VERSION}, chromium {CHROME}, site {site}")
    print(f"day page {day}: {weight:,} bytes of HTML ({weight / 1e6:.2f} MB; target < 1 MB)\n")
    print(f"{'page':8} {'preset':8} " + " ".join(f"{c:>14}" for c in CATEGORIES)
          + f" {'LCP':>8} {'TBT':>8} {'CLS':>6}")
    for name, preset, scores, lcp, tbt, cls in rows:
        print(f"{name:8} {preset:8} " + " ".join(f"{scores[c]:>14}" for c in CATEGORIES)
              + f" {lcp:>8} {tbt:>8} {cls:>6}")
    print(f"\ntarget: day page performance and accessibility >= {TARGET}: "
          + ("NOT MET" if failed else "met"))
    print(f"reports: {reports}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
