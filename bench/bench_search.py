"""Benchmark the search index as the archive grows: one whole-site index, a bundle a year, tiered periods.

Uses bench/bench_archive.py's generator (real titles, abstracts and authors recombined, the real
category and announce-type mix, through the project's own stages and store) for archives of N
announcement days at M papers a day, builds each once with Pelican, then measures, side by side:

  single  `python -m pagefind --site output` over the whole site (the Makefile before issue 11)
  year    scripts/search_index.py --periods year: one bundle per year, only changed years indexed
  tiered  scripts/search_index.py (default): closed years, the newest year's closed quarters, the
          newest quarter's months; a new day re-indexes one month

  cold    no index and no cache
  daily   one more announcement day built by Pelican, then the index again (with its cache)
  memory  peak RSS of the indexing process tree (os.wait4's rusage via bench_archive.run: the
          largest one process's; when the script indexes periods side by side, its log line "at
          most N MB of Pagefind at once" adds up the ones that ran together); CPU is user + system
          seconds of the tree (the shared machine's load inflates wall time)
  bytes   the index as published (output/pagefind), in MB and files
  browser the search page loaded (load event, network idle) in headless chromium with the CPU
          slowed 4x (CDP Emulation.setCPUThrottlingRate) and the page's network throttled
          (CDP Network.emulateNetworkConditions: a latency added to each request, download and
          upload throughput; Pagefind's worker fetches are throttled too) by --network:
            lh-slow4g  150 ms, 1.6 Mbit/s down, 750 kbit/s up: Lighthouse's mobile "slow 4G" RTT
                       and throughput (its simulated throttling's rttMs / throughputKbps), without
                       DevTools' request-latency multiplier; the default, as in earlier figures
            slow4g     Chrome DevTools' "Slow 4G" preset: 562.5 ms (150 ms x 3.75), 180,000 B/s
                       down (1.6 Mbit/s x 0.9), 84,375 B/s up (750 kbit/s x 0.9)
            fast4g     Chrome DevTools' "Fast 4G" preset: 165 ms (60 ms x 2.75), 1,012,500 B/s
                       down (9 Mbit/s x 0.9), 168,750 B/s up (1.5 Mbit/s x 0.9)
            none       the CPU slowed only (127.0.0.1 as it is; --fast-network says the same)
          (the presets: devtools-frontend front_end/core/sdk/NetworkManager.ts, Slow4GConditions
          and Fast4GConditions, whose latency multipliers align them with Lighthouse's
          devtools-throttling presets); then a word typed into the box (one input event, as a paste): the time until
          the first result link appears (the search page's debounce included; with
          --type-ms N a letter every N ms, timed from the last one), for a common and a rare
          word, and the bytes and requests under /pagefind/ as the server counted them (worker
          fetches included); no browser cache. "whole list": until the result count shows (the
          search page shows the newest period's results first, then the whole archive's list
          with its count; Pagefind's UI showed both at once)

  --browser-only   only the browser timing, over archives a --keep run left (days<N>/ours/output
          and its kept indexes: old-pagefind, pagefind-year, pagefind-tiered), with the theme's
          static files (site.js: the search page's warm-up) taken from --static, so one built
          archive times two versions of the page: e.g. --static /tmp/before (a copy of HEAD's
          theme/static) against the checkout's theme/static

Run:  .venv/bin/python bench/bench_search.py --days 250 1000 --keep /tmp/bench_search
      (--keep reuses a generated archive and its Pelican output; the 1,000-day one takes ~20 min
      to generate and ~2 min to build on 2 cores)
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
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
WORDS = ("model", "hyperbolic")  # common (most papers), rare (a few papers a year)
SCHEMES = ("year", "tiered")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# name -> (latency ms, download B/s, upload B/s), or None: the network as it is (see the docstring)
NETWORKS: dict[str, tuple[float, float, float] | None] = {
    "lh-slow4g": (150, 1.6e6 / 8, 750e3 / 8),
    "slow4g": (150 * 3.75, 1.6e6 / 8 * 0.9, 750e3 / 8 * 0.9),
    "fast4g": (60 * 2.75, 9e6 / 8 * 0.9, 1.5e6 / 8 * 0.9),
    "none": None,
}
NETWORK = "lh-slow4g"  # --network
TYPE_MS = 0  # --type-ms: a letter every N ms (the time counts from the last letter); 0: one paste


def prepare(where: Path, n: int, per_day: int, seed: int, fixtures: Path, env: dict[str, str]) -> Path:
    """The n-day archive (generated if missing) with this checkout's theme, built by Pelican."""
    from arxiv_digest.core import store

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
    # a kept output/ may hold that day's pages from an earlier run (Pelican keeps what it wrote):
    # build from nothing, or the daily case would find its pages indexed already
    ba.clear_build_state(site)
    t0 = time.perf_counter()
    ba.run(ba.pelican_cmd(), site, env)
    print(f"{n} days: pelican build {time.perf_counter() - t0:.0f} s; "
          f"{sum(1 for _ in (site / 'output' / 'papers').rglob('index.html')):,} paper pages", flush=True)
    return where / extra.name


def network_label() -> str:
    """The network profile, as the tables name it."""
    conditions = NETWORKS[NETWORK]
    if conditions is None:
        return "as is (127.0.0.1)"
    latency, down, up = conditions
    return f"{NETWORK} ({latency:g} ms, {down * 8 / 1e6:.2f} Mbit/s down, {up * 8 / 1e3:.0f} kbit/s up)"


def old_cmd(dest: Path) -> list[str]:
    return [sys.executable, "-c", "import runpy, shutil, sys; "
            f"shutil.rmtree({str(dest)!r}, ignore_errors=True); "
            f"sys.argv = ['pagefind', '--site', 'output', '--output-path', {str(dest)!r}, '--silent']; "
            "runpy.run_module('pagefind', run_name='__main__')"]


def new_cmd(cache: Path, scheme: str) -> list[str]:
    return [sys.executable, str(SCRIPT), "--site", "output", "--cache", str(cache), "--periods", scheme]


def size(folder: Path) -> tuple[float, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def old_site(site: Path, bundle: Path, dest: Path, static: Path | None = None, page: Path | None = None) -> Path:
    """The built site with `bundle` as /pagefind/ (symlinks; served for the browser); with
    `static`, the theme's static files (output/theme/) overlaid by that folder's; with `page`,
    that file as the search page (search/index.html)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for entry in (site / "output").iterdir():
        kept = entry.name != "pagefind" and (static is None or entry.name != "theme")
        if kept and (page is None or entry.name != "search"):
            (dest / entry.name).symlink_to(entry)
    if page is not None:
        (dest / "search").mkdir()
        shutil.copy(page, dest / "search" / "index.html")
    if static is not None:  # the built theme (or this checkout's), then --static's files over it
        theme = site / "output" / "theme"
        shutil.copytree(theme if theme.is_dir() else HERE / "theme" / "static", dest / "theme", symlinks=True)
        shutil.copytree(static, dest / "theme", dirs_exist_ok=True)
    (dest / "pagefind").symlink_to(bundle)
    return dest


def browser_only(where: Path, n: int, args: argparse.Namespace) -> None:
    """Type-to-first-result over a kept archive's indexes, with the theme's static files from --static."""
    site = where / "ours"
    bundles = {"single": where / "old-pagefind", **{s: where / f"pagefind-{s}" for s in SCHEMES}}
    for extra in sorted(where.glob("pagefind-*")):  # another layout left there to compare
        bundles.setdefault(extra.name[len("pagefind-"):], extra)
    roots = {label: old_site(site, b, where.parent / f"browser-{n}-{label}", args.static, args.search_page)
             for label, b in bundles.items() if b.is_dir()}
    print(f"\n== {n} days, browser only, static files from {args.static}"
          f"{f', search page {args.search_page}' if args.search_page else ''}; CPU 4x slower, network "
          f"{network_label()}, no cache; "
          f"{f'a letter every {TYPE_MS} ms' if TYPE_MS else 'the word pasted'}; "
          f"{args.browser_runs} runs ==", flush=True)
    for word in WORDS:
        for label, root in roots.items():
            runs = [type_search(root, word) for _ in range(args.browser_runs)]
            firsts = sorted(float(r["first"]) for r in runs)
            print(f"{label:>7s} {word!r:14s} first result min / median {firsts[0]:.2f} / "
                  f"{statistics.median(firsts):.2f} s (" + ", ".join(f"{float(r['first']):.2f}" for r in runs) + ")"
                  f", whole list (its count shown) {mm([float(r['whole']) for r in runs], '{:.2f}')} s ("
                  + ", ".join(f"{float(r['whole']):.2f}" for r in runs) + ")"
                  f"; {statistics.median(float(r['kb']) for r in runs):.0f} kB / "
                  f"{statistics.median(float(r['requests']) for r in runs):.0f} requests after typing, "
                  f"{statistics.median(float(r['load_kb']) for r in runs):.0f} kB before; "
                  f"{runs[0]['message']!r}; warmed before typing: {[r['ready'] for r in runs]}", flush=True)


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


def type_search(root: Path, word: str) -> dict[str, Any]:
    """The search page loaded, then `word` typed: ms to the first result, /pagefind/ bytes, requests."""
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
            conditions = NETWORKS[NETWORK]
            if conditions is not None:
                latency, down, up = conditions
                cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": latency,
                                                              "downloadThroughput": down,
                                                              "uploadThroughput": up})
            page.goto(f"{base}/search/", wait_until="load")
            page.wait_for_selector(".pagefind-ui__search-input")
            page.wait_for_load_state("networkidle")
            loaded = len(sent)
            ready = page.locator("#search").get_attribute("data-search-ready")  # warm-up done (issue 11)
            # the first result link, then the whole list's count ("N results for ..."): Pagefind
            # UI's class names, which the search page's own list (js/search/search.js) keeps
            ms, whole = page.evaluate("""([word, gap]) => new Promise((resolve, reject) => {
                const box = document.querySelector('.pagefind-ui__search-input');
                const hit = () => document.querySelector('.pagefind-ui__result a.pagefind-ui__result-link');
                const counted = () => /^\\d/.test(
                  (document.querySelector('.pagefind-ui__message') || {}).textContent || '');
                let t0 = null;  // the last input event (the whole word)
                let first = null;
                const obs = new MutationObserver(() => {
                  if (t0 === null) return;
                  const now = performance.now();
                  if (first === null && hit()) first = now - t0;
                  if (first !== null && counted()) { obs.disconnect(); resolve([first, now - t0]); } });
                obs.observe(document.getElementById('search'), {childList: true, subtree: true});
                setTimeout(() => reject(new Error('no result in 120 s')), 120000);
                const put = n => {  // one input event per letter, `gap` ms apart (0: the word at once)
                  box.value = word.slice(0, n);
                  if (n === word.length) t0 = performance.now();
                  box.dispatchEvent(new Event('input', {bubbles: true}));
                  if (n < word.length) setTimeout(() => put(n + 1), gap);
                };
                put(gap > 0 ? 1 : word.length);
            })""", [word, TYPE_MS])
            page.wait_for_timeout(1500)  # let the first page of results finish loading
            count = page.locator(".pagefind-ui__message").inner_text()
            ctx.close()
            b.close()
    finally:
        server.shutdown()
        server.server_close()
    search = [n for path, n in sent[loaded:] if path.startswith("/pagefind/")]
    before = [n for path, n in sent[:loaded] if path.startswith("/pagefind/")]
    return {"first": ms / 1000, "whole": whole / 1000, "kb": sum(search) / 1e3, "requests": len(search),
            "load_kb": sum(before) / 1e3, "message": count, "ready": ready}


def mm(values: list[float], fmt: str) -> str:
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"


def bench_size(where: Path, n: int, args: argparse.Namespace, fixtures: Path, env: dict[str, str]) -> None:
    parked = prepare(where, n, args.per_day, args.seed, fixtures, env)
    site = where / "ours"
    out = site / "output" / "pagefind"
    day_file = site / "content" / "digests" / parked.name[:4] / parked.name
    old_bundle = where / "old-pagefind"
    cache = {s: where / f"search-cache-{s}" for s in SCHEMES}
    pub = {s: where / f"pagefind-{s}" for s in SCHEMES}  # each scheme's published folder, kept apart
    rows: dict[str, list[float]] = {}

    def add(key: str, c: ba.Child) -> None:
        rows.setdefault(f"{key} s", []).append(c.seconds)
        rows.setdefault(f"{key} cpu", []).append(c.cpu)
        rows.setdefault(f"{key} MB", []).append(c.maxrss_mb)

    def swap_in(scheme: str) -> None:
        shutil.rmtree(out, ignore_errors=True)
        if pub[scheme].exists():
            os.replace(pub[scheme], out)

    def swap_out(scheme: str) -> None:
        shutil.rmtree(pub[scheme], ignore_errors=True)
        os.replace(out, pub[scheme])

    for i in range(args.runs):
        day_file.unlink(missing_ok=True)
        if i:
            ba.run(ba.pelican_cmd(), site, env)  # back to n days
        add("single cold", ba.run(old_cmd(old_bundle), site, env))
        rows.setdefault("single bytes", []).append(size(old_bundle)[0])
        rows.setdefault("single files", []).append(size(old_bundle)[1])
        for s in SCHEMES:
            shutil.rmtree(cache[s], ignore_errors=True)
            shutil.rmtree(pub[s], ignore_errors=True)
            swap_in(s)
            add(f"{s} cold", ba.run(new_cmd(cache[s], s), site, env))
            rows.setdefault(f"{s} bytes", []).append(size(out)[0])
            rows.setdefault(f"{s} files", []).append(size(out)[1])
            rows.setdefault(f"{s} bundles", []).append(len(json.loads((out / "periods.json").read_text())["periods"]))
            swap_out(s)
        shutil.copy(parked, day_file)
        add("pelican daily", ba.run(ba.pelican_cmd(), site, env))
        add("single daily", ba.run(old_cmd(old_bundle), site, env))
        for s in SCHEMES:
            swap_in(s)
            add(f"{s} daily", ba.run(new_cmd(cache[s], s), site, env))
            add(f"{s} unchanged", ba.run(new_cmd(cache[s], s), site, env))
            swap_out(s)
        print(f"  run {i + 1}: cold single {rows['single cold s'][-1]:.1f} s, "
              + ", ".join(f"{s} {rows[f'{s} cold s'][-1]:.1f} s" for s in SCHEMES)
              + f"; daily single {rows['single daily s'][-1]:.1f} s, "
              + ", ".join(f"{s} {rows[f'{s} daily s'][-1]:.1f} s" for s in SCHEMES), flush=True)
    periods = {s: json.loads((pub[s] / "periods.json").read_text())["periods"] for s in SCHEMES}
    browser: dict[tuple[str, str], dict[str, float]] = {}
    if args.browser and Path(CHROMIUM).exists():
        roots = {"single": old_site(site, old_bundle, where / "site-single")}
        roots.update({s: old_site(site, pub[s], where / f"site-{s}") for s in SCHEMES})
        for word in WORDS:
            for label, root in roots.items():
                runs = [type_search(root, word) for _ in range(args.browser_runs)]
                browser[label, word] = {k: statistics.median([float(r[k]) for r in runs])
                                        for k in ("first", "kb", "requests", "load_kb")}
                browser[label, word]["min_first"] = min(float(r["first"]) for r in runs)
                print(f"  browser {label} {word!r}: {runs[0]['message']!r}; first result "
                      + ", ".join(f"{float(r['first']):.2f}" for r in runs) + " s", flush=True)
    swap_in("tiered")  # output/ as `make html` leaves it
    papers = sum(1 for _ in (site / "output" / "papers").rglob("index.html"))
    print(f"\n== {n} days at {args.per_day} a day: {papers:,} paper pages (search records); "
          f"{args.runs} run(s), min / median ==")
    for s in SCHEMES:
        print(f"{s} periods: {' '.join(periods[s])}")
    cols = ("single", *SCHEMES)
    print(f"{'':34s}" + "".join(f"{c:>18s}" for c in cols) + f"{'tiered/single':>15s}{'tiered/year':>13s}")
    table = [
        ("cold index, s", "cold s", "{:.1f}"),
        ("cold index, CPU s", "cold cpu", "{:.1f}"),
        ("cold peak RSS, MB", "cold MB", "{:.0f}"),
        ("daily (+1 day) index, s", "daily s", "{:.1f}"),
        ("daily index, CPU s", "daily cpu", "{:.1f}"),
        ("daily peak RSS, MB", "daily MB", "{:.0f}"),
        ("nothing changed, s", "unchanged s", "{:.1f}"),
        ("nothing changed, CPU s", "unchanged cpu", "{:.1f}"),
        ("index as published, MB", "bytes", "{:.1f}"),
        ("index as published, files", "files", "{:.0f}"),
        ("bundles merged", "bundles", "{:.0f}"),
    ]
    for label, key, fmt in table:
        # the single index has no "nothing changed" case: Pagefind indexes everything every time
        vals = {c: rows.get(f"{c} {key}") or rows.get(f"{c} {key.replace('unchanged', 'daily')}") or [1.0]
                for c in cols}
        print(f"{label:34s}" + "".join(f"{mm(vals[c], fmt):>18s}" for c in cols)
              + f"{min(vals['tiered']) / max(min(vals['single']), 1e-9):>14.2f}x"
              + f"{min(vals['tiered']) / max(min(vals['year']), 1e-9):>12.2f}x")
    print(f"{'(pelican for the daily day, s)':34s}{mm(rows['pelican daily s'], '{:.1f}'):>18s}")
    if browser:
        print(f"typing a word on the loaded search page, CPU 4x slower, network "
              f"{network_label()}, no cache; median of {args.browser_runs} (best):")
        for word in WORDS:
            for label, key, fmt in (("first result after typing, s", "first", "{:.2f}"),
                                    ("/pagefind/ kB for the search", "kb", "{:.0f}"),
                                    ("/pagefind/ requests for it", "requests", "{:.0f}"),
                                    ("/pagefind/ kB before typing", "load_kb", "{:.0f}")):
                cells = []
                for c in cols:
                    v = browser[c, word]
                    cell = fmt.format(v[key])
                    if key == "first":
                        cell += f" ({v['min_first']:.2f})"
                    cells.append(cell)
                print(f"{word + ': ' + label:34s}" + "".join(f"{x:>18s}" for x in cells))


def main(argv: list[str] | None = None) -> None:
    global NETWORK, TYPE_MS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, nargs="+", default=[250, 1000])
    ap.add_argument("--per-day", type=int, default=500)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--browser-runs", type=int, default=3)
    ap.add_argument("--no-browser", dest="browser", action="store_false")
    ap.add_argument("--browser-only", action="store_true",
                    help="only the browser timing over the archives a --keep run left")
    ap.add_argument("--static", type=Path, default=HERE / "theme" / "static",
                    help="with --browser-only: the theme's static files to serve (default: this checkout's)")
    ap.add_argument("--search-page", type=Path, default=None,
                    help="with --browser-only: serve this file as the search page (search/index.html), "
                         "e.g. the page as another version of theme/templates/search.html renders it")
    ap.add_argument("--network", choices=sorted(NETWORKS), default=NETWORK,
                    help="browser timing: the network profile (default lh-slow4g; see the docstring)")
    ap.add_argument("--fast-network", action="store_true",
                    help="browser timing with the CPU slowed only (--network none)")
    ap.add_argument("--type-ms", type=int, default=0,
                    help="browser timing: type a letter every N ms (time from the last letter); default one paste")
    ap.add_argument("--keep", type=Path, default=None,
                    help="generate and build under this folder and keep it (default: a temp dir)")
    args = ap.parse_args(argv)
    NETWORK, TYPE_MS = "none" if args.fast_network else args.network, args.type_ms
    logging.disable(logging.WARNING)
    fixtures = (HERE.parent / ba.FIXTURES_NAME).resolve()
    env = dict(os.environ, PYTHONPATH=str(HERE / "plugins"), PYTHONHASHSEED="0")
    env.pop("ARXIV_DIGEST_SETTINGS", None)
    env.pop("ARXIV_DIGEST_LLM_MODEL", None)
    if args.browser_only:
        if args.keep is None:
            ap.error("--browser-only needs --keep (the folder a full run kept)")
        for n in args.days:
            browser_only(args.keep / f"days{n}", n, args)
        return
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_search."))
    try:
        for n in args.days:
            bench_size(base / f"days{n}", n, args, fixtures, env)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
