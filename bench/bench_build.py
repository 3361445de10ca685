"""Benchmark `make html`'s Pelican build as the archive grows (the pagefind step excluded).

Builds sites of 1, 20 and 60 announcement days (copies of the real 2024-11-28 day under other
dates) in temp dirs, side by side, and prints the time per day: the build should stay linear.
Run: .venv/bin/python bench/bench_build.py

The daily case, stage by stage: on a site that bench/bench_archive.py --keep left (DIR/daysN/ours,
with the day it adds parked at DIR/daysN/<date>.json; copy it first, the build writes into it),
each run removes the day and builds (the state before), puts the day back and builds again: that
build's CPU seconds (user+sys, with its worker processes), wall time and peak memory, and where
its time went (wall seconds in each generator's context and output, in the page writer's skip
decisions, rendering and template loading). Min / median over the runs.
Run: .venv/bin/python bench/bench_build.py --daily SITE --day PARKED.json [--runs 3]

A day a later update only linked back to (--cards K): on the real 513-paper day, stored as update
stores it, a later day's update writes version links back into K papers its page lists (and 3 it
does not); the CPU milliseconds (process time, in this process, min / median of --runs) of the
two ways the build can make that day's entry: the whole day read, decided and rendered
(DigestReader.render, what a worker did for each such day before) and only those papers' cards
rendered into the kept body (DigestReader.patch); and that both give the same entry.
Run: .venv/bin/python bench/bench_build.py --cards 2 [--runs 20]
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
DAY = ROOT / "content/digests/2024/2024-11-28.json"


def make_site(base: Path, n_days: int) -> Path:
    from arxiv_digest.core.schedule import announcement_days

    for name in ("pelicanconf.py", "digest.yaml"):
        shutil.copy(ROOT / name, base / name)
    shutil.copytree(ROOT / "theme", base / "theme")
    record = json.loads(DAY.read_text())
    days = announcement_days(dt.date(2024, 9, 2), dt.date(2024, 12, 31))[-n_days:]
    for d in days:
        path = base / "content/digests" / str(d.year) / f"{d.isoformat()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(record, date=d.isoformat())))
    return base


def build(site: Path) -> float:
    from pelican import Pelican
    from pelican.settings import read_settings

    settings = read_settings(str(site / "pelicanconf.py"), override={
        "PATH": str(site / "content"), "OUTPUT_PATH": str(site / "output"),
        "THEME": str(site / "theme"), "PLUGIN_PATHS": [str(ROOT / "plugins")],
        "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml"), "SITEURL": "https://example.org"})
    started = time.perf_counter()
    Pelican(settings).run()
    return time.perf_counter() - started


# The measured daily build: Pelican in this interpreter, its stages timed (wall seconds).
CHILD = """
import collections, functools, json, time
acc = collections.Counter()

def timed(key, f):
    @functools.wraps(f)
    def w(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            acc[key(a)] += time.perf_counter() - t
    return w

import jinja2
import pelican
from pelican import generators
from arxiv_digest.site import writer as W
if hasattr(W.SkipWriter, "_skip_page"):  # (a writer from before write_file decided pages)
    W.SkipWriter._skip_page = timed(lambda a: "writer: skip decisions (write_file)", W.SkipWriter._skip_page)
W._Keyed.render = timed(lambda a: "writer: render (changed pages, paginated decisions)", W._Keyed.render)
jinja2.Environment._load_template = timed(lambda a: "jinja: template loading", jinja2.Environment._load_template)
seen = set()

def wrap(cls):
    if cls in seen:
        return
    seen.add(cls)
    for m in ("generate_context", "generate_output"):
        if m in vars(cls):
            setattr(cls, m, timed(lambda a, m=m: f"{type(a[0]).__name__}.{m}", vars(cls)[m]))

orig_init = generators.Generator.__init__
def init(self, *a, **k):
    for c in type(self).__mro__:
        if c is not generators.Generator and issubclass(c, generators.Generator):
            wrap(c)
    orig_init(self, *a, **k)
generators.Generator.__init__ = init
t0 = time.perf_counter()
try:  # as `pelican content -o output -s pelicanconf.py` (the same settings: the same caches)
    pelican.main(["content", "-o", "output", "-s", "pelicanconf.py", "-q"])
except SystemExit as e:
    if e.code:
        raise
acc["total (in-process)"] = time.perf_counter() - t0
print(json.dumps(acc))
"""


def _run(cmd: list[str], site: Path) -> tuple[float, float, float, str]:
    """(wall s, CPU s with reaped children, peak RSS MB, stdout) of a command run in site."""
    import os
    import resource
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(site / "plugins"), PYTHONHASHSEED="0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=site, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd[:3])} failed in {site}:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, proc.stdout


def daily(site: Path, parked: Path, runs: int) -> None:
    """The daily case on a kept site, stage by stage (see the module docstring)."""
    import statistics

    day = site / "content" / "digests" / parked.name[:4] / parked.name
    plain = [sys.executable, "-m", "pelican", "content", "-o", "output", "-s", "pelicanconf.py", "-q"]
    walls, cpus, rss, stages = [], [], [], []
    for _ in range(runs):
        day.unlink(missing_ok=True)
        _run(plain, site)
        shutil.copy(parked, day)
        wall, cpu, mb, out = _run([sys.executable, "-c", CHILD], site)
        walls.append(wall)
        cpus.append(cpu)
        rss.append(mb)
        stages.append(json.loads(out.strip().splitlines()[-1]))
        print(f"  run: {wall:.2f} s wall, {cpu:.2f} CPU s, peak {mb:.0f} MB", flush=True)

    def mm(v: list[float]) -> str:
        return f"{min(v):.2f} / {statistics.median(v):.2f}"

    print(f"daily build of {site} (+{parked.stem}), {runs} run(s), min / median:")
    print(f"  CPU s (user+sys): {mm(cpus)}   wall s: {mm(walls)}   peak MB: {max(rss):.0f}")
    print("  stage (wall s, median of the runs; stages nest: the writer's inside the generators'):")
    keys = sorted({k for s in stages for k in s}, key=lambda k: -statistics.median(
        [s.get(k, 0.0) for s in stages]))
    for k in keys:
        print(f"    {statistics.median([s.get(k, 0.0) for s in stages]):7.3f}  {k}")


def cards(k: int, runs: int) -> None:
    """--cards K: patch vs render for one day linked back to K of its listed papers."""
    import statistics
    from dataclasses import replace

    sys.path.insert(0, str(ROOT / "tests"))
    from arxiv_digest.core import relinks
    from arxiv_digest.core.models import VersionRef
    from arxiv_digest.core.store import load, save
    from arxiv_digest.enrich import dayindex
    from arxiv_digest.enrich.backlinks import link_back
    from arxiv_digest.enrich.tagging import decide_day
    from arxiv_digest.site.render import DigestReader, digest_settings
    from pelican.settings import read_settings
    from sitedata import make_site as test_site

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        site = test_site(Path(tmp) / "site", days={})
        settings = read_settings(str(site / "pelicanconf.py"), override={
            "PATH": str(site / "content"), "OUTPUT_PATH": str(Path(tmp) / "out"),
            "THEME": str(site / "theme"), "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml")})
        ours = digest_settings(settings)
        data = ours.data_dir
        path = data / "2024" / "2024-11-28.json"
        day = decide_day(load(path), ours)
        save(data, day)
        dayindex.remember(data, path, day)
        reader = DigestReader(settings)
        cache = reader.day_cache(ours)
        before = path.read_bytes()
        entry = reader.render(path, before, ours)
        cache.put(path.stem, cache.key_of(path), entry)
        listed = sorted(entry[2])
        unlisted = [p.id for p in day.papers if p.id not in set(listed)][:3]
        by_id = {p.id: p for p in day.papers}
        later = replace(day, date="2024-12-02", papers=tuple(
            replace(by_id[i], version=by_id[i].version + 1,
                    versions=(VersionRef("2024-11-28", by_id[i].version),))
            for i in (*listed[:k], *unlisted)))
        link_back(data, later, 5.0)
        raw = path.read_bytes()
        key = cache.files.key_of(path)
        (_, ids), *_ = relinks.earlier(data, path.stem, key)
        timings: dict[str, list[float]] = {"render": [], "patch": []}
        made: dict[str, object] = {}
        for _ in range(runs):
            for name, make in (("render", lambda: reader.render(path, raw, ours)),
                               ("patch", lambda: reader.patch(path, key, entry, ids, ours))):
                t0 = time.process_time()
                made[name] = make()
                timings[name].append((time.process_time() - t0) * 1000)
        a, b = made["render"], made["patch"]
        assert isinstance(a, tuple) and isinstance(b, tuple)
        same = a == b and a[1].cache_key == b[1].cache_key and [
            v.cache_key for v in (*a[1].listed, *a[1].updated)] == [
            v.cache_key for v in (*b[1].listed, *b[1].updated)]
        print(f"the real day ({len(day.papers)} papers, {len(listed)} listed), linked back to {k} "
              f"listed and {len(unlisted)} unlisted papers; {runs} runs, CPU ms min / median:")
        for name, ms in timings.items():
            print(f"  {name:7s} {min(ms):7.1f} / {statistics.median(ms):7.1f}")
        print(f"  the same entry (body, views, keys): {same}")


def main() -> None:
    if "--cards" in sys.argv:
        import argparse

        ap = argparse.ArgumentParser(description=__doc__)
        ap.add_argument("--cards", type=int, required=True, help="listed papers linked back")
        ap.add_argument("--runs", type=int, default=20)
        args = ap.parse_args()
        cards(args.cards, args.runs)
        return
    if "--daily" in sys.argv:
        import argparse

        ap = argparse.ArgumentParser(description=__doc__)
        ap.add_argument("--daily", type=Path, required=True, help="a kept site (bench_archive --keep)")
        ap.add_argument("--day", type=Path, required=True, help="the parked day file it adds")
        ap.add_argument("--runs", type=int, default=3)
        args = ap.parse_args()
        daily(args.daily.resolve(), args.day.resolve(), args.runs)
        return
    logging.disable(logging.WARNING)
    results = []
    for n in (1, 20, 60):
        with tempfile.TemporaryDirectory() as tmp:
            site = make_site(Path(tmp), n)
            seconds = build(site)
            pages = sum(1 for _ in (site / "output").rglob("*.html"))
            results.append((n, seconds))
            print(f"{n:3d} days ({n * 513:6,} papers, {pages:4d} pages): {seconds:6.2f} s"
                  f"  = {seconds / n * 1000:7.1f} ms per day")
    base = results[0][1]
    for n, s in results[1:]:
        print(f"{n} days take {s / base:.1f}x the time of 1 day ({n}x the data)")


if __name__ == "__main__":
    main()
