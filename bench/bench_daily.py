"""Benchmark the whole daily case (issue 11): update, build and search index for one new day on a
stored archive, caches and output kept, as the daily workflow runs it.

On copies of SITE (a site folder whose content/digests holds days before 2024-11-28, with its
pelicanconf.py, publishconf.py and digest.yaml, e.g. bench_archive.py's `ours`; SITE is never
written), each step is a child process (interpreter start and imports included), timed with
os.wait4 (wall, CPU = user + system of the child and the children it waited for, peak RSS of the
biggest of them):

  cold     the update's day index of every stored day (.cache/day-index, which the daily
           workflow keeps with .cache), then pelican with publishconf.py, as `make publish-html` runs it, but with
           -e DELETE_OUTPUT_DIRECTORY=false (publishconf.py empties output/; the daily case keeps
           it), then scripts/search_index.py --site output --cache .cache/search/en (the Makefile's
           search step); once, into a base folder every daily run is copied from
  again    the same two commands once more on a fresh copy of the base: nothing new (this also
           settles the copy: the day files' stat record and the search scan's see new inodes and
           ctimes after a copy, so the first build of a copy reads them again)
  daily    the real `python -m arxiv_digest update` against a local RSS server serving the
           recorded 2024-11-28 feed (bench_pipeline.py's child and feed), then pelican and the
           search index again
  spread   the same with --spread N: N of the feed's replacements re-pointed to papers of N
           earlier days (a real day's 183 replacements have earlier versions on ~110 days of a
           four-year archive), so `update` writes version links back into N earlier day files
           and the build renders those days again

Each daily run works on its own copy of the base, at the base's path (the base is renamed aside
meanwhile: the build cache's fingerprint holds PATH and OUTPUT_PATH), day files as hard links (the
store writes by rename), output/ and the caches copied whole (Pelican writes pages in place), and
settled by `again`.
Per step: wall s, CPU s, peak RSS MB; for a build the output files it wrote (mtime at or after its
start; by top folder in the run lines: "days" = the year folders' day pages), from the logs the
earlier days written back (update) and the periods re-indexed (search). Min / median over --runs;
no assertions. --profile PATH adds one more run of the last case whose pelican runs under cProfile
(stats to PATH; not in the table; `--cases plain --runs 0 --profile P` profiles the plain case).

Run: .venv/bin/python bench/bench_daily.py --archive /tmp/bench/days1000/ours --spread 110 --runs 2
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import CATS, NOW, link_tree, spread_feed  # noqa: E402

PY = sys.executable


class Step:
    """One child process's figures."""

    def __init__(self, wall: float, cpu: float, rss_mb: float, log: str) -> None:
        self.wall, self.cpu, self.rss_mb, self.log = wall, cpu, rss_mb, log

    written: tuple[int, int] | None = None  # (files written, files in output/) for a build
    kinds: dict[str, int] | None = None  # files written by output/'s top folder (years: day pages)

    def pages(self) -> str:
        if self.written is None:
            return ""
        return f"{self.written[0]:,} of {self.written[1]:,} files written"

    def indexed(self) -> str:
        m = re.search(r"re-indexed (.*?); [\d.]+ s", self.log)
        return m.group(1) if m else ""

    def written_back(self) -> int:
        return len(re.findall(r"papers link forward to", self.log))


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> Step:
    """Run one child; (wall, CPU, peak RSS, its output) from os.wait4."""
    with tempfile.TemporaryFile() as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    if code:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd} (exit {code}):\n{text[-3000:]}")
    return Step(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def build(site: Path, env: dict[str, str], profile: Path | None = None) -> Step:
    """Pelican on the site, and how many output files it wrote (mtime at or after its start: the
    writer logs its "Pages:" count at INFO only, and -v would log every file)."""
    t0 = time.time_ns() - 1_000_000
    step = run(pelican_cmd(site, profile), site, env)
    n = total = 0
    kinds: dict[str, int] = {}
    out = site / "output"
    for folder, _, files in os.walk(out):
        top = Path(folder).relative_to(out).parts[:1]
        kind = "days" if top and top[0].isdigit() else (top[0] if top else "/")
        for name in files:
            total += 1
            if os.stat(os.path.join(folder, name)).st_mtime_ns >= t0:
                n += 1
                kinds[kind] = kinds.get(kind, 0) + 1
    step.written, step.kinds = (n, total), kinds
    return step


def pelican_cmd(site: Path, profile: Path | None = None) -> list[str]:
    prof = ["-m", "cProfile", "-o", str(profile)] if profile else []
    return [PY, *prof, "-m", "pelican", str(site / "content"), "-o", str(site / "output"),
            "-s", str(site / "publishconf.py"), "-e", "DELETE_OUTPUT_DIRECTORY=false"]


def search_cmd(site: Path) -> list[str]:
    return [PY, str(ROOT / "scripts" / "search_index.py"), "--site", str(site / "output"),
            "--cache", str(site / ".cache" / "search" / "en"), "--records", "listings"]  # the Makefile's default


def make_base(src: Path, base: Path) -> None:
    """The site folder: settings copied (PLUGINS as this checkout's pelicanconf.py lists them),
    plugins and theme this checkout's, day files linked (the update's day index kept; no
    build-side cache: the cold build makes its own)."""
    base.mkdir(parents=True)
    for name in ("pelicanconf.py", "publishconf.py", "digest.yaml"):
        shutil.copy(src / name, base / name)
    conf = (ROOT / "pelicanconf.py").read_text(encoding="utf-8")
    plugins = re.search(r"^PLUGINS = .*$", conf, re.M)
    if plugins:  # the checkout's plugins (an archive made by an older checkout may lack one)
        old = (base / "pelicanconf.py").read_text(encoding="utf-8")
        (base / "pelicanconf.py").write_text(re.sub(r"^PLUGINS = .*$", lambda _: plugins.group(0),
                                                    old, flags=re.M), encoding="utf-8")
    (base / "plugins").symlink_to(ROOT / "plugins")
    (base / "theme").symlink_to(ROOT / "theme")
    link_tree(src / "content", base / "content")
    cache = base / "content" / "digests" / ".cache"
    for entry in cache.iterdir() if cache.is_dir() else ():
        if entry.name != "day-index":  # build/, pages/, radar/, jinja/: the build's (links removed)
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


WARM_INDEX = """
import sys
from pathlib import Path
from arxiv_digest.enrich import dayindex
data = Path(sys.argv[1])
days = dayindex.stored_days(data)
keys = dayindex.keys(data, days)
for path in days:
    dayindex.day_entries(data, path, keys.get(path))
"""


def warm_index(base: Path, env: dict[str, str]) -> Step:
    """The update's day index of every stored day (.cache/day-index), as the daily workflow keeps
    it with .cache: without it the first update reads and indexes every stored day (~12 CPU s at
    1,000 days), a cost of a fresh cache, not of the daily case."""
    return run([PY, "-c", WARM_INDEX, str(base / "content" / "digests")], base, env)


def copy_site(base: Path, where: Path) -> None:
    """A run's copy of the base: day files hard-linked, caches and output copied whole."""
    where.mkdir(parents=True)
    for name in ("pelicanconf.py", "publishconf.py", "digest.yaml"):
        shutil.copy(base / name, where / name)
    for name in ("plugins", "theme"):
        (where / name).symlink_to(os.readlink(base / name))
    digests = base / "content" / "digests"
    for folder in digests.iterdir():
        if folder.name != ".cache":
            link_tree(folder, where / "content" / "digests" / folder.name)
    for rel in ("content/digests/.cache", "output", ".cache"):
        if (base / rel).exists():
            subprocess.run(["cp", "-a", str(base / rel), str(where / rel)], check=True)


def mm(values: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", type=Path, required=True, help="a site folder with a stored archive")
    ap.add_argument("--spread", type=int, default=110, metavar="N",
                    help="replacements re-pointed to N earlier days in the spread case (default 110)")
    ap.add_argument("--runs", type=int, default=2, help="runs of each daily case (default 2)")
    ap.add_argument("--work", type=Path, help="folder for the copies (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="leave the copies (as WORK/<case><run>)")
    ap.add_argument("--profile", type=Path, metavar="PATH",
                    help="also profile the last case's pelican once (cProfile stats to PATH)")
    ap.add_argument("--cases", default="plain,spread", help="daily cases, comma-separated")
    args = ap.parse_args()

    from arxiv_digest.core.settings import load_settings
    from arxiv_server import FIXTURES, ArxivServer

    src = args.archive.resolve()
    work = args.work.resolve() if args.work else Path(tempfile.mkdtemp(prefix="bench_daily."))
    work.mkdir(parents=True, exist_ok=True)
    lock = (work / ".bench_daily.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # runs swap WORK/base: one at a time
    except BlockingIOError:
        raise SystemExit(f"another bench_daily.py is running in {work}") from None
    env = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"))
    for name in ("ARXIV_DIGEST_LLM_MODEL", "ARXIV_DIGEST_LLM_API_BASE", "ARXIV_DIGEST_SETTINGS"):
        env.pop(name, None)  # the offline summarizer, always
    settings = load_settings({"PATH": str(src / "content"),
                              "ARXIV_DIGEST_CONFIG": str(src / "digest.yaml")})
    data = src / "content" / "digests"
    days = sum(1 for p in data.rglob("*.json") if ".cache" not in p.parts)
    raw = (FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes()
    feeds = {"plain": raw}
    if "spread" in args.cases:
        feeds["spread"] = spread_feed(raw, data, args.spread, tuple(settings.categories))
    server = ArxivServer()
    base_url = server.start()
    current = {"body": raw}
    server.route(f"/rss/{CATS}", lambda query: current["body"])
    uenv = dict(env, ARXIV_DIGEST_RSS_URL=f"{base_url}/rss")
    rows: list[tuple[str, str, list[Step]]] = []

    def row(case: str, step: str, steps: list[Step]) -> None:
        rows.append((case, step, steps))
        s = steps[-1]
        print(f"  {case:7s} {step:8s} wall {s.wall:7.2f} s  CPU {s.cpu:7.2f} s  RSS {s.rss_mb:5.0f} MB"
              f"  {s.pages()}{s.indexed()}{f'{s.written_back()} days back' if step == 'update' else ''}",
              flush=True)

    print(f"{days} stored days in {src}; code {ROOT}; work {work}; load {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    try:
        base, kept = work / "base", work / "base.kept"
        if kept.exists() and not (base / ".cache" / "search" / "en" / "state.json").exists():
            shutil.rmtree(base, ignore_errors=True)  # a killed run's copy
            kept.rename(base)
        if not (base / ".cache" / "search" / "en" / "state.json").exists():
            shutil.rmtree(base, ignore_errors=True)
            make_base(src, base)
            row("cold", "index", [warm_index(base, env)])
            row("cold", "pelican", [build(base, env)])
            row("cold", "search", [run(search_cmd(base), base, env)])
        else:
            print(f"  (base kept from an earlier run: {base})")
            row("kept", "index", [warm_index(base, env)])  # a base made before the index step
        cases = [c for c in args.cases.split(",") if c]
        for case in cases:
            got: dict[str, list[Step]] = {"pelican0": [], "search0": [], "update": [], "pelican": [],
                                         "search": [], "total": []}
            current["body"] = feeds[case]
            extra = 1 if args.profile and case == cases[-1] else 0
            for i in range(args.runs + extra):
                profiled = i == args.runs  # the extra run: its pelican under cProfile, not counted
                # the run's copy takes the base's path (the build cache's fingerprint holds every
                # Pelican setting, PATH and OUTPUT_PATH included: elsewhere every day is new)
                where = base
                base.rename(kept)
                copy_site(kept, where)
                again = [build(where, env), run(search_cmd(where), where, env)]
                cmd = [PY, "-m", "arxiv_digest", "-s", str(where / "pelicanconf.py"), "update",
                       "--now", NOW]
                update = run(cmd, where, uenv)
                if profiled:
                    print(f"  profiling the {case} case's build ...", flush=True)
                    step = build(where, env, args.profile)
                    written = sorted((step.kinds or {}).items(), key=lambda kv: -kv[1])
                    print(f"  (under cProfile: wall {step.wall:.2f} s, CPU {step.cpu:.2f} s, "
                          f"{step.pages()}: " + ", ".join(f"{name} {count}" for name, count in written)
                          + f"; stats in {args.profile})", flush=True)
                else:
                    got["pelican0"].append(again[0])
                    got["search0"].append(again[1])
                    got["update"].append(update)
                    got["pelican"].append(build(where, env))
                    got["search"].append(run(search_cmd(where), where, env))
                    parts = [got[k][-1] for k in ("update", "pelican", "search")]
                    got["total"].append(Step(sum(p.wall for p in parts), sum(p.cpu for p in parts),
                                             max(p.rss_mb for p in parts), ""))
                    for k in ("pelican0", "search0", "update", "pelican", "search", "total"):
                        row(f"{case}#{i}", {"pelican0": "again", "search0": "again-s"}.get(k, k),
                            [got[k][-1]])
                    for k in ("pelican0", "pelican"):
                        written = sorted((got[k][-1].kinds or {}).items(), key=lambda kv: -kv[1])
                        print(f"    files written by {k}: "
                              + ", ".join(f"{name} {count}" for name, count in written), flush=True)
                if args.keep:
                    shutil.rmtree(work / f"{case}{i}", ignore_errors=True)
                    where.rename(work / f"{case}{i}")
                else:
                    shutil.rmtree(where)
                kept.rename(base)
            label = {"pelican0": "again pelican", "search0": "again search"}
            for k, steps in got.items():
                rows.append((case, label.get(k, k), steps))
    finally:
        server.stop()
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\n{'case':8s} {'step':14s} {'wall s (min / med)':>19s} {'CPU s (min / med)':>19s} "
          f"{'peak RSS':>9s}  output files written, periods re-indexed, days written back")
    for case, step, steps in rows:
        if "#" in case or not steps:
            continue
        extra = steps[0].pages() or steps[0].indexed() or (
            f"{steps[0].written_back()} earlier days written back" if step == "update" else "")
        print(f"{case:8s} {step:14s} {mm([s.wall for s in steps]):>19s} {mm([s.cpu for s in steps]):>19s} "
              f"{max(s.rss_mb for s in steps):6.0f} MB  {extra}")


if __name__ == "__main__":
    main()
