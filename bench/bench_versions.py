"""Benchmark the update's two new steps on real text at full size: code links, and finding each
replacement's earlier version across a long archive.

The new day is the real 2024-11-28 feed with every category (1,504 papers, 569 replacements). The
archive holds --days earlier announcement days of 1,504 papers each, stored as day files with the
project's store (the feed's real records under new ids; one day in five also holds some of the
feed's replacements as their v1). Side by side:

  links     find_links over every abstract of the feed (enrich.links)
  versions  earlier_versions for the 569 replacements (enrich.versions):
              load    every day file loaded whole (what the index spares)
              cold    no index files yet: every day read, indexed and its index written
              touched every day file touched (a fresh checkout: new mtimes, same bytes): hashed,
                      not re-read
              warm    the index as the last update left it (size, mtime and inode unchanged)
  lookback  what one update reads from the day index (enrich.dayindex), warm: the titles of the
            30-day window (near-duplicates), and those plus every day's ids (versions)

Min and median over --runs. Run: .venv/bin/python bench/bench_versions.py [--days 120]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from arxiv_digest.core import schedule, store  # noqa: E402
from arxiv_digest.core.models import Digest  # noqa: E402
from arxiv_digest.enrich import dayindex, links, near_duplicates, versions  # noqa: E402
from arxiv_digest.update.fetch import parse_rss  # noqa: E402
from arxiv_digest.update.normalize import normalize  # noqa: E402

FEED = ROOT.parent / "shared/fixtures/arxiv/rss_all-archives_2024-11-28.xml"
DAY = dt.date(2024, 11, 28)


def timed(fn: Callable[[], object], runs: int, before: Callable[[], object] | None = None) -> list[float]:
    out = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def show(name: str, times: list[float]) -> None:
    print(f"  {name:<10} min {min(times):7.3f} s   median {statistics.median(times):7.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=120, help="earlier stored days (default 120)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    fetched = parse_rss(FEED.read_bytes(), str(FEED))
    papers = normalize(fetched.records, ())
    replaced = [p for p in papers if p.is_replacement]
    print(f"feed: {len(papers)} papers, {len(replaced)} replacements; archive: {args.days} days "
          f"x {len(papers)} papers")

    t = timed(lambda: [links.find_links(p.abstract, p.comment) for p in papers], args.runs)
    found = sum(1 for p in papers if links.find_links(p.abstract, p.comment))
    print(f"links: {found} of {len(papers)} papers link an artefact")
    show("links", t)

    tmp = Path(tempfile.mkdtemp(prefix="bench-versions-"))
    try:
        data = tmp / "digests"
        days = []
        d = DAY - dt.timedelta(days=1)
        while len(days) < args.days:
            if schedule.is_announcement_day(d, frozenset()):
                days.append(d)
            d -= dt.timedelta(days=1)
        for n, day in enumerate(sorted(days)):
            # ids no real paper has (yymm 9NNN: no new-style id is that old)
            own = tuple(replace(p, id=f"9{n:03d}.{i:05d}", version=1, announce_type="new")
                        for i, p in enumerate(papers))
            if n % 5 == 0:  # some of the feed's replacements, as their v1
                own = own[: len(papers) - 100] + tuple(
                    replace(p, version=1, announce_type="new") for p in replaced[n % 400:][:100])
            store.save(data, Digest(day.isoformat(), ("cs",), "api", own, {"new": len(own)}))
        size = sum(p.stat().st_size for p in store.iter_days(data))
        print(f"versions: {args.days} day files, {size / 1e6:.0f} MB")

        def load_all() -> None:
            for path in store.iter_days(data):
                store.load(path)

        def lookup() -> None:
            versions.earlier_versions(data, DAY.isoformat(), replaced)

        def drop_index() -> None:
            shutil.rmtree(data / dayindex.CACHE_DIR, ignore_errors=True)

        def touch_all() -> None:
            for path in store.iter_days(data):
                os.utime(path)

        show("load", timed(load_all, 1))
        show("cold", timed(lookup, args.runs, drop_index))
        show("touched", timed(lookup, args.runs, touch_all))
        show("warm", timed(lookup, args.runs))
        hits = versions.earlier_versions(data, DAY.isoformat(), replaced)
        print(f"  {len(hits)} of {len(replaced)} replacements have a stored earlier version")

        def titles() -> None:
            near_duplicates.recent_titles(data, DAY, 30)

        print("lookback indexes of one update (warm): the 30 days' titles, then every day's ids")
        show("titles", timed(titles, args.runs))
        show("both", timed(lambda: (titles(), lookup()), args.runs))
        size = sum(p.stat().st_size for p in (data / dayindex.CACHE_DIR).iterdir())
        print(f"  day index: {size / 1e6:.1f} MB for {args.days} days")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
