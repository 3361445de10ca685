"""Benchmark the topic pages' share of a daily build, on an archive kept by bench_archive.py --keep.

For each run it removes the daily day (the 2024-11-28 file bench_archive parks beside `ours/`),
builds (the state before), puts the day back and builds again (the daily case), each build a child
`pelican` process of the site with TopicsGenerator.generate_output timed (CPU and wall seconds) and
the topic pages counted: how many the page writer checked, how many it rendered (the rest were
unchanged since the last build and skipped). It prints min / median over the runs. The archive is
used in place (its output/ and caches change): copy one first (cp -a).

Run:  .venv/bin/python bench/bench_topic_pages.py /tmp/copy/days250 --runs 3
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

DAY = "2024-11-28"  # the day bench_archive.py adds for the daily case

CHILD = r"""
import os, runpy, sys, time
sys.path.insert(0, os.path.realpath("plugins"))
import arxiv_digest.site.topics as topics
import arxiv_digest.site.writer as writer
seen = {"checked": 0, "rendered": 0}
unchanged = writer.SkipWriter.unchanged
def counted(self, template, ctx):
    skip = unchanged(self, template, ctx)
    if str(ctx.get("output_file", "")).startswith("topics/"):
        seen["checked"] += 1
        seen["rendered"] += not skip
    return skip
writer.SkipWriter.unchanged = counted
generate = topics.TopicsGenerator.generate_output
def timed(self, w):
    cpu, wall = time.process_time(), time.perf_counter()
    generate(self, w)
    print("TOPICS %.4f %.4f %d %d" % (time.process_time() - cpu, time.perf_counter() - wall,
                                      seen["checked"], seen["rendered"]), file=sys.stderr)
topics.TopicsGenerator.generate_output = timed
sys.argv = ["pelican", "content", "-o", "output", "-s", "pelicanconf.py"]
runpy.run_module("pelican", run_name="__main__")
"""
LINE = re.compile(r"^TOPICS (\S+) (\S+) (\d+) (\d+)$", re.M)


def build(site: Path) -> tuple[float, float, int, int, float]:
    """One pelican build of the site: (topics CPU s, wall s, checked, rendered, the child's CPU s)."""
    env = dict(os.environ, PYTHONPATH=str(site / "plugins"), PYTHONHASHSEED="0")
    before = os.times()
    proc = subprocess.run([sys.executable, "-c", CHILD], cwd=site, env=env, capture_output=True,
                          text=True, check=False)
    after = os.times()
    found = LINE.search(proc.stderr)
    if proc.returncode or not found:
        raise SystemExit(f"pelican failed in {site} (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    child = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return (float(found[1]), float(found[2]), int(found[3]), int(found[4]), child)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", type=Path, help="a bench_archive.py --keep folder: days<N>/")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    site, parked = args.archive / "ours", args.archive / f"{DAY}.json"
    day = site / "content" / "digests" / DAY[:4] / f"{DAY}.json"
    if not parked.is_file() or not (site / "pelicanconf.py").is_file():
        raise SystemExit(f"{args.archive}: expected ours/ and {parked.name} (bench_archive.py --keep)")
    daily: list[tuple[float, float, int, int, float]] = []
    try:
        for i in range(args.runs):
            day.unlink(missing_ok=True)
            build(site)
            shutil.copy(parked, day)
            daily.append(build(site))
            cpu, wall, checked, rendered, child = daily[-1]
            print(f"run {i + 1}: topics.generate_output {cpu:.3f} CPU s ({wall:.3f} s wall); "
                  f"topic pages {checked} checked, {rendered} rendered; pelican {child:.2f} CPU s")
    finally:
        day.unlink(missing_ok=True)

    def mm(values: list[float]) -> str:
        return f"{min(values):.3f} / {statistics.median(values):.3f}"
    print(f"daily case, {args.runs} run(s), min / median: topics.generate_output "
          f"{mm([d[0] for d in daily])} CPU s, {mm([d[1] for d in daily])} s wall; pelican "
          f"{mm([d[4] for d in daily])} CPU s; topic pages rendered {daily[0][3]} of {daily[0][2]}")


if __name__ == "__main__":
    main()
