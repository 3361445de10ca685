"""Benchmark the search index as the archive grows: one whole-site Pagefind index against one per year.

Uses bench/bench_archive.py's generator (real titles, abstracts and authors recombined, the real
category and announce-type mix, through the project's own stages and store) for archives of N
announcement days at M papers a day, builds each once with Pelican, then measures, side by side:

  old     `python -m pagefind --site output` over the whole site (the Makefile before issue 11)
  new     scripts/search_index.py: one bundle per year, only changed years indexed, kept in a cache

  cold    no index and no cache
  daily   one more announcement day built by Pelican, then the index again (new: with its cache)
  memory  peak RSS of the indexing process tree (os.wait4's rusage via bench_archive.run)
  bytes   the index as published (output/pagefind), in MB and files
  browser a search for a common word on the search page in headless chromium, with the CPU slowed
          4x (CDP Emulation.setCPUThrottlingRate) and a slow-4G network (150 ms, 1.6 Mbps) on the
          page (Pagefind's worker fetches are not throttled): the time from navigation to the first
          result, and the bytes and requests under /pagefind/ as the server counted them

Run:  .venv/bin/python bench/bench_search.py --days 250 1000 --keep /tmp/bench_search
      (--keep reuses a generated archive and its Pelican output; the 1,000-day one takes ~20 min
      to generate and ~2 min to build on 2 cores)
"""

from __future__ import annotations

import argparse
import functools
import http.server
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "bench"))
sys.path.insert(0, str(HERE / "plugins"))

import bench_archive as ba  # noqa: E402 (the generator and the measured runner, shared)

SCRIPT = HERE / "scripts" / "search_index.py"
WORD = "model"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def prepare(where: Path, n: int, per_day: int, seed: int, fixtures: Path, env: dict[str, str]) -> Path:
    """The n-day archive (generated if missing) with this checkout's theme, built by Pelican."""
    from arxiv_digest import store

    site = where / "ours"
    if not (site / "content" / "digests").is_dir():
        ba.skeleton(HERE, site)
    shutil.rmtree(site / "theme")
    shutil.copytree(HERE / "theme", site / "theme")  # the theme under test (search page, site.js)
    days = ba.archive_days(n)
    gen = None
    for day in [*days, ba.next_day(days[-1])]:
        if not store.day_path(site / "content" / "digests", day).exists():
            gen = gen or ba.Generator(site, per_day, seed, fixtures)
            gen.write_day(day)
    extra: Path = store.day_path(site / "content" / "digests", ba.next_day(days[-1]))
    shutil.move(extra, where / extra.name)  # the daily case's day waits outside content/
    t0 = time.perf_counter()
    ba.run(ba.pelican_cmd(), site, env)
    print(f"{n} days: pelican build {time.perf_counter() - t0:.0f} s; "
          f"{sum(1 for _ in (site / 'output' / 'papers').rglob('index.html')):,} paper pages", flush=True)
    return where / extra.name


def old_cmd(dest: Path) -> list[str]:
    return [sys.executable, "-c", "import runpy, shutil, sys; "
            f"shutil.rmtree({str(dest)!r}, ignore_errors=True); "
            f"sys.argv = ['pagefind', '--site', 'output', '--output-path', {str(dest)!r}, '--silent']; "
            "runpy.run_module('pagefind', run_name='__main__')"]


def new_cmd(cache: Path) -> list[str]:
    return [sys.executable, str(SCRIPT), "--site", "output", "--cache", str(cache)]


def size(folder: Path) -> tuple[float, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def old_site(site: Path, bundle: Path, dest: Path) -> Path:
    """The built site with the old single index as /pagefind/ (symlinks; served for the browser)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for entry in (site / "output").iterdir():
        if entry.name != "pagefind":
            (dest / entry.name).symlink_to(entry)
    (dest / "pagefind").symlink_to(bundle)
    return dest


class _Counting(http.server.SimpleHTTPRequestHandler):
    """Serves quietly and counts the bytes of every file it sends (a worker's fetches included:
    Pagefind 1.5 searches in a web worker, whose requests the page's CDP session does not see)."""

    sent: list[tuple[str, int]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def copyfile(self, source: Any, outputfile: Any) -> None:
        data = source.read()
        outputfile.write(data)
        self.sent.append((self.path, len(data)))


def browser_search(root: Path, word: str) -> dict[str, Any]:
    """First-result time and /pagefind/ bytes for `word` on the search page, slowed like a phone."""
    from playwright.sync_api import sync_playwright

    sent: list[tuple[str, int]] = []
    handler = type("Handler", (_Counting,), {"sent": sent})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            ctx = b.new_context(viewport={"width": 412, "height": 915})
            page = ctx.new_page()
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 150,
                                                          "downloadThroughput": 1.6e6 / 8,
                                                          "uploadThroughput": 750e3 / 8})
            t0 = time.perf_counter()
            page.goto(f"{base}/search/?q={word}", wait_until="commit")
            page.wait_for_selector(".pagefind-ui__result a.pagefind-ui__result-link", timeout=120000)
            first = time.perf_counter() - t0
            page.wait_for_timeout(1500)  # let the first page of results finish loading
            count = page.locator(".pagefind-ui__message").inner_text()
            ctx.close()
            b.close()
    finally:
        server.shutdown()
        server.server_close()
    search = [n for path, n in sent if path.startswith("/pagefind/")]
    return {"first": first, "kb": sum(search) / 1e3, "requests": len(search),
            "all_kb": sum(n for _, n in sent) / 1e3, "message": count}


def mm(values: list[float], fmt: str) -> str:
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"


def bench_size(where: Path, n: int, args: argparse.Namespace, fixtures: Path, env: dict[str, str]) -> None:
    parked = prepare(where, n, args.per_day, args.seed, fixtures, env)
    site = where / "ours"
    day_file = site / "content" / "digests" / parked.name[:4] / parked.name
    old_bundle, cache = where / "old-pagefind", where / "search-cache"
    rows: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)

    for i in range(args.runs):
        day_file.unlink(missing_ok=True)
        if i:
            ba.run(ba.pelican_cmd(), site, env)  # back to n days
        c = ba.run(old_cmd(old_bundle), site, env)
        add("old cold s", c.seconds)
        add("old cold MB", c.maxrss_mb)
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(site / "output" / "pagefind", ignore_errors=True)
        c = ba.run(new_cmd(cache), site, env)
        add("new cold s", c.seconds)
        add("new cold MB", c.maxrss_mb)
        add("old bytes", size(old_bundle)[0])
        add("old files", size(old_bundle)[1])
        add("new bytes", size(site / "output" / "pagefind")[0])
        add("new files", size(site / "output" / "pagefind")[1])
        shutil.copy(parked, day_file)
        p = ba.run(ba.pelican_cmd(), site, env)
        add("pelican daily s", p.seconds)
        c = ba.run(old_cmd(old_bundle), site, env)
        add("old daily s", c.seconds)
        add("old daily MB", c.maxrss_mb)
        c = ba.run(new_cmd(cache), site, env)
        add("new daily s", c.seconds)
        add("new daily MB", c.maxrss_mb)
        c = ba.run(new_cmd(cache), site, env)
        add("new unchanged s", c.seconds)
        print(f"  run {i + 1}: old cold {rows['old cold s'][-1]:.1f} s, new cold {rows['new cold s'][-1]:.1f} s; "
              f"old daily {rows['old daily s'][-1]:.1f} s, new daily {rows['new daily s'][-1]:.1f} s", flush=True)
    browser: dict[str, dict[str, float]] = {}
    if args.browser and Path(CHROMIUM).exists():
        for label, root in (("old", old_site(site, old_bundle, where / "old-site")), ("new", site / "output")):
            runs = [browser_search(root, WORD) for _ in range(args.runs)]
            browser[label] = {k: statistics.median([float(r[k]) for r in runs])
                              for k in ("first", "kb", "requests", "all_kb")}
            browser[label]["min_first"] = min(float(r["first"]) for r in runs)
            print(f"  browser {label}: {runs[0]['message']!r}", flush=True)
    periods = (site / "output" / "pagefind" / "periods.json").read_text()
    papers = sum(1 for _ in (site / "output" / "papers").rglob("index.html"))
    print(f"\n== {n} days at {args.per_day} a day: {papers:,} paper pages (search records); "
          f"{args.runs} run(s), min / median ==\nperiods: {' '.join(periods.split('[', 1)[1].split(']')[0].split())}")
    print(f"{'':40s}{'old: one index':>20s}{'new: a bundle a year':>24s}{'new/old (min)':>15s}")
    table = [
        ("cold index, s", "old cold s", "new cold s", "{:.1f}"),
        ("cold peak RSS, MB", "old cold MB", "new cold MB", "{:.0f}"),
        ("daily (+1 day) index, s", "old daily s", "new daily s", "{:.1f}"),
        ("daily peak RSS, MB", "old daily MB", "new daily MB", "{:.0f}"),
        ("nothing changed, s", "old daily s", "new unchanged s", "{:.1f}"),
        ("index as published, MB", "old bytes", "new bytes", "{:.1f}"),
        ("index as published, files", "old files", "new files", "{:.0f}"),
    ]
    for label, o, nw, fmt in table:
        print(f"{label:40s}{mm(rows[o], fmt):>20s}{mm(rows[nw], fmt):>24s}{min(rows[nw]) / min(rows[o]):>14.2f}x")
    print(f"{'(pelican for the daily day, s)':40s}{mm(rows['pelican daily s'], '{:.1f}'):>20s}")
    if browser:
        bo, bn = browser["old"], browser["new"]
        print(f"search '{WORD}', CPU 4x slower, slow 4G (150 ms, 1.6 Mbps), no cache (median):")
        for label, key, fmt in (("  first result after navigation, s", "first", "{:.2f}"),
                                ("  ... best run, s", "min_first", "{:.2f}"),
                                ("  /pagefind/ transferred, kB", "kb", "{:.0f}"),
                                ("  /pagefind/ requests", "requests", "{:.0f}"),
                                ("  whole page transferred, kB", "all_kb", "{:.0f}")):
            print(f"{label:40s}{fmt.format(bo[key]):>20s}{fmt.format(bn[key]):>24s}{bn[key] / bo[key]:>14.2f}x")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, nargs="+", default=[250, 1000])
    ap.add_argument("--per-day", type=int, default=500)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--no-browser", dest="browser", action="store_false")
    ap.add_argument("--keep", type=Path, default=None,
                    help="generate and build under this folder and keep it (default: a temp dir)")
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)
    fixtures = (HERE.parent / ba.FIXTURES_NAME).resolve()
    env = dict(os.environ, PYTHONPATH=str(HERE / "plugins"), PYTHONHASHSEED="0")
    env.pop("ARXIV_DIGEST_SETTINGS", None)
    env.pop("ARXIV_DIGEST_LLM_MODEL", None)
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_search."))
    try:
        for n in args.days:
            bench_size(base / f"days{n}", n, args, fixtures, env)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
