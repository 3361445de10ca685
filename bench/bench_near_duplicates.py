"""Benchmark near-duplicate linking at update: all of cs (1,500 papers a day) over the 30-day lookback.

The new day is the real 2024-11-28 feed with every category (1,504 papers). The lookback holds the
announcement days of the 30 days before it (21 days x 1,500 papers), stored as day files with the
project's store: real titles recombined (half of one, half of another), and one in fifty a real
title edited as a re-submission edits it (tests/near_dup_reference.py, with the all-pairs reference
and the whole-file reader the tests check against). Side by side:

  link    scoring every pair (the method before the index) vs the word-prefix index
          (enrich.near_duplicates), and whether their links are the same
  titles  reading the lookback's titles: every day file loaded whole (before) vs the derived day
          index (enrich.dayindex), cold (no index files yet: derived and written) and warm

Min and median over --runs. Run: .venv/bin/python bench/bench_near_duplicates.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "tests")]

from arxiv_digest.core import schedule, store  # noqa: E402
from arxiv_digest.core.models import Digest, Paper  # noqa: E402
from arxiv_digest.enrich import dayindex, near_duplicates  # noqa: E402
from arxiv_digest.update.fetch import parse_rss  # noqa: E402
from arxiv_digest.update.normalize import normalize  # noqa: E402
from near_dup_reference import all_pairs, resubmitted, titles_from_day_files  # noqa: E402

FEED = ROOT.parent / "shared/fixtures/arxiv/rss_all-archives_2024-11-28.xml"
DAY = dt.date(2024, 11, 28)


def lookback_days(data_dir: Path, day_papers: Sequence[Paper], per_day: int, lookback: int,
                  seed: int) -> int:
    """Store the announcement days of the lookback; returns how many papers they hold."""
    rng = random.Random(seed)
    words = [p.title.split() for p in day_papers]
    days = schedule.announcement_days(DAY - dt.timedelta(days=lookback), DAY - dt.timedelta(days=1))
    n = 0
    for d in days:
        papers = []
        for k in range(per_day):
            base = rng.choice(day_papers)
            if rng.random() < 0.02:
                title = resubmitted(rng.choice(day_papers).title, rng)
            else:
                a, b = rng.choice(words), rng.choice(words)
                title = " ".join(a[: len(a) // 2] + b[len(b) // 2:])
            papers.append(replace(base, id=f"{d:%y%m}.{(d.day - 1) * 3000 + k:05d}", title=title))
        store.save(data_dir, Digest(date=d.isoformat(), categories=("cs",), source="rss",
                                    papers=tuple(papers)))
        n += len(papers)
    return n


def timed(fn: Callable[[], Any], runs: int, before: Callable[[], None] = lambda: None) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        before()
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def mm(times: list[float]) -> str:
    return f"{min(times) * 1000:8.0f} / {statistics.median(times) * 1000:8.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-day", type=int, default=1500)
    ap.add_argument("--lookback", type=int, default=30)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--old-runs", type=int, default=1, help="runs of the all-pairs method (slow)")
    ap.add_argument("--threshold", type=float, default=92.0)
    args = ap.parse_args()

    papers = normalize(parse_rss(FEED.read_bytes(), "feed").records, [])
    date = DAY.isoformat()
    tmp = Path(tempfile.mkdtemp(prefix="bench_near_dup."))
    data = tmp / "digests"
    try:
        stored = lookback_days(data, papers, args.per_day, args.lookback, 7)
        print(f"new day: {len(papers)} papers; lookback: {stored} papers on "
              f"{len(list(store.iter_days(data)))} stored days ({args.lookback} days before {date})")

        cold, earlier = timed(lambda: near_duplicates.recent_titles(data, DAY, args.lookback), args.runs,
                              lambda: shutil.rmtree(data / dayindex.CACHE_DIR, ignore_errors=True))
        warm, _ = timed(lambda: near_duplicates.recent_titles(data, DAY, args.lookback), args.runs)
        old_read, old_earlier = timed(lambda: titles_from_day_files(data, DAY, args.lookback), args.runs)
        assert earlier == old_earlier
        index_kb = sum(p.stat().st_size for p in (data / dayindex.CACHE_DIR).iterdir()) / 1024

        new, linked = timed(lambda: near_duplicates.link_near_duplicates(
            papers, args.threshold, date, earlier), args.runs)
        old, expected = timed(lambda: all_pairs(papers, args.threshold, date, earlier), args.old_runs)
        got = {p.id: set(p.related) for p in linked if p.related}
        n_links = sum(map(len, expected.values()))
        print(f"\n{'(min / median)':40s}{'before':>22s}{'now':>22s}{'speed-up':>10s}")
        print(f"{'read the lookback titles (cold index)':40s}{mm(old_read):>22s}{mm(cold):>22s}"
              f"{min(old_read) / min(cold):9.1f}x")
        print(f"{'read the lookback titles (warm index)':40s}{mm(old_read):>22s}{mm(warm):>22s}"
              f"{min(old_read) / min(warm):9.1f}x")
        print(f"{'link near-duplicates':40s}{mm(old):>22s}{mm(new):>22s}{min(old) / min(new):9.1f}x")
        total_old, total_new = min(old_read) + min(old), min(warm) + min(new)
        print(f"{'read + link (warm index), min':40s}{total_old * 1000:19.0f} ms{total_new * 1000:19.0f} ms"
              f"{total_old / total_new:9.1f}x")
        print(f"\nlinks: {n_links} by scoring every pair, {sum(map(len, got.values()))} by the index: "
              f"{'the same' if got == expected else 'DIFFERENT'}; day index {index_kb:.0f} KB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
