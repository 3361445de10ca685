"""Benchmark what re-listed papers cost the search index (issue 11): old paper pages moved to the
newest day, as a new version listed today moves them, then scripts/search_index.py with its cache.

A paper page's search record carries its newest listing's date (data-pagefind-meta/sort
"date:...", the year and month filters), so when a new version of an old paper is listed, its page
leaves the period it was in and that period's whole bundle is indexed again. This times that on a
built site whose search cache is current (e.g. a bench_search.py --keep archive, copied: pages are
rewritten by rename, so a hard-linked copy leaves the original alone):

  control   one page of the newest month edited (a plain day re-indexes that month only)
  relist K  K pages, each from a different older period when there are enough (newest first
            after the newest month), moved to the newest page's date, with a sentence added to
            the abstract (as a revision does)

Each case runs --runs times on different pages (seeded); after each run the pages are put back
and the index brought back (not timed). Per run: wall and CPU s (user + system of the script and
the Pagefind processes it waited for, os.wait4) and the periods re-indexed; min / median.

--records listings (the default, as the script's) runs the listing records: a re-listed paper's card (of an earlier
day) is then also added to the newest day's page, as its new listing would be (the paper page's
own edit no longer matters to search, its listings are the records).

Run: .venv/bin/python bench/bench_search_relist.py --site /tmp/x/output --cache /tmp/x/cache --relist 1 4
     [--records pages] (a cache of its own per kind of records)
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "search_index.py"
sys.path.insert(0, str(ROOT / "scripts"))

import search_index as si  # noqa: E402 (the script's own scan and period rules)

DATE = re.compile(r"date:\d{4}-\d\d-\d\d")


RECORDS = "listings"  # --records (the script's default)


def run_index(site: Path, cache: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the tree, the periods re-indexed) of one search_index.py run."""
    with tempfile.TemporaryFile() as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(SCRIPT), "--site", str(site), "--cache", str(cache),
                                 "--records", RECORDS], stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"search_index.py failed:\n{text[-2000:]}")
    m = re.search(r"re-indexed (.*?); [\d.]+ s", text)
    return wall, usage.ru_utime + usage.ru_stime, m.group(1) if m else "?"


def replace(path: Path, data: bytes) -> None:
    """Write by rename (a hard-linked copy's other names keep the old bytes)."""
    tmp = path.with_name(f".{path.name}.relist.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def moved(data: bytes, newest: str) -> bytes:
    """The page as its new version's listing on `newest` would show it (date, filters, abstract)."""
    text = data.decode("utf-8")
    text = DATE.sub(f"date:{newest}", text)
    text = re.sub(r'data-year="\d{4}"', f'data-year="{newest[:4]}"', text)
    text = re.sub(r'data-month="\d{4}-\d\d"', f'data-month="{newest[:7]}"', text)
    text = text.replace("</p></section>", " We also report results on two more benchmarks.</p></section>", 1)
    return text.encode("utf-8")


CARD = re.compile(rb'<article class="paper" id="([^"]+)".*?</article>', re.S)


def relisted_day(newest_page: bytes, cards: list[bytes]) -> bytes:
    """The newest day's page with these cards (of earlier days) listed on it too, each as a new
    version with a sentence added to its abstract."""
    at = newest_page.index(b'<article class="paper"')
    extra = b"".join(c.replace(b"</p></details>", b" We also report results on two more benchmarks.</p></details>", 1)
                     for c in cards)
    return newest_page[:at] + extra + newest_page[at:]


def main() -> None:
    global RECORDS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", type=Path, required=True)
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--relist", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--records", choices=("pages", "listings"), default="listings",
                    help="the script's --records; with listings, a re-listed paper's card is also "
                         "added to the newest day's page (as its new listing)")
    args = ap.parse_args()
    RECORDS = args.records
    site, cache = args.site.resolve(), args.cache.resolve()
    wall, cpu, what = run_index(site, cache)
    print(f"settle: {wall:.2f} s wall, {cpu:.2f} CPU s, re-indexed {what}", flush=True)
    pages, _ = si.scan(site, si.read_scan(cache, RECORDS), records="pages")  # (the paper pages, whichever --records)
    groups = si.assign(pages, "tiered")
    periods = si.newest_first(list(groups))
    newest_month = max(p.month for p in pages if p.month)
    newest_day = max(DATE.findall((site / p.rel).read_text("utf-8"))[0][5:]
                     for p in groups[periods[0]])
    rng = random.Random(args.seed)
    print(f"{len(pages):,} pages, periods {', '.join(f'{p} ({len(groups[p])})' for p in periods)}; "
          f"newest day {newest_day}", flush=True)
    cases = [("control", 0)] + [(f"relist {k}", k) for k in args.relist]
    for name, k in cases:
        walls, cpus, notes = [], [], []
        for _ in range(args.runs):
            if k == 0:
                chosen = [rng.choice(groups[periods[0]])]
            else:
                older = [p for p in periods[1:] if p != si.UNDATED]
                chosen = [rng.choice(groups[older[i % len(older)]]) for i in range(k)]
            kept = {p.rel: (site / p.rel).read_bytes() for p in chosen}
            if k and RECORDS == "listings":  # the new listings: cards on the newest day's page
                day_rel = "/".join(newest_day.split("-")) + "/index.html"
                cards = []
                for p in chosen:
                    pid = p.rel.split("/")[-2]
                    for day in sorted(site.glob("[0-9]*/[0-9]*/[0-9]*/index.html")):
                        m = next((c for c in CARD.finditer(day.read_bytes()) if c.group(1).decode() == pid), None)
                        if m:
                            cards.append(m.group(0))
                            break
                newest_page = (site / day_rel).read_bytes()
                replace(site / day_rel, relisted_day(newest_page, cards))
            for rel, data in kept.items():
                replace(site / rel, moved(data, newest_day) if k else data.replace(
                    b"</p></section>", b" One more sentence.</p></section>", 1))
            time.sleep(2.1)  # past the script's racy window, as a build a while before would be
            wall, cpu, what = run_index(site, cache)
            walls.append(wall)
            cpus.append(cpu)
            notes.append(what)
            print(f"  {name}: {wall:.2f} s wall, {cpu:.2f} CPU s, re-indexed {what}", flush=True)
            for rel, data in kept.items():
                replace(site / rel, data)
            if k and RECORDS == "listings":
                replace(site / day_rel, newest_page)
            time.sleep(2.1)
            run_index(site, cache)
        print(f"{name}: wall {min(walls):.2f} / {statistics.median(walls):.2f} s, "
              f"CPU {min(cpus):.2f} / {statistics.median(cpus):.2f} s (min / median of {len(walls)}); "
              f"newest month {newest_month}", flush=True)


if __name__ == "__main__":
    main()
