"""Benchmark the site build as the archive grows: `make html` against plain Pelican, side by side.

Generates an archive of N announcement days at M papers a day in a temp dir, by recombining real
titles, abstracts and author lists from the recorded fixtures (../shared/fixtures/arxiv: the
1,504-item RSS day, the OAI page, the API recordings, the Kaggle snapshot head) with the real
category and announce-type mix of the RSS day. Each day goes through the project's own stages
(`pipeline.build_digest`: normalize, tag, link; the configured offline summarizer) and is written
with `store.save`, so the day files have the schema and the decisions `update` would store.
Everything is seeded: the same flags give the same archive.

For each size it measures, as subprocesses run the way the Makefile runs them:

  cold    `pelican content -o output -s pelicanconf.py`, then `python -m pagefind --site output`
          (after removing output/pagefind, as `make html` does), with no output/ and no caches
          (the build cache content/digests/.cache/build included)
  update  the new day's update stages on the stored archive (normalize, tag, link near-duplicates,
          the offline summarizer, store), timed in-process: no fetch, no interpreter start
  daily   one more announcement day added, both again with the output/ and caches of the cold build
  memory  peak RSS of each child (os.wait4's rusage; pagefind's binary is a grandchild it reaps)
  cpu     user + system CPU seconds of each child and what it reaped (steadier than wall time on
          a shared machine; the build's forked workers included)
  output  size and file count of output/
  plain   plain Pelican on the same listed papers: one Markdown article per day, default theme,
          no plugin (cold and daily, the same way)

and prints min and median over --runs, and the ratios ours / plain.
--profile runs one more cold Pelican build of the largest size under cProfile and prints the top
functions.

Run:  .venv/bin/python bench/bench_archive.py                    (20 days, 500 a day, 3 runs)
      .venv/bin/python bench/bench_archive.py --days 20 250 --profile
      .venv/bin/python bench/bench_archive.py --days 60 --per-day 1500   (all of cs)
--root benchmarks another checkout of the project (e.g. an export of main) with this script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
FIXTURES_NAME = "shared/fixtures/arxiv"
RSS = "rss_all-archives_2024-11-28.xml"
LAST_DAY = dt.date(2024, 11, 27)  # the generated archive ends here; the daily case adds the next
ATOM = "{http://www.w3.org/2005/Atom}"
OAI_RAW = "{http://arxiv.org/OAI/arXivRaw/}"


@dataclass(frozen=True)
class Text:
    """A real title, abstract and author list, to recombine."""

    title: str
    abstract: str
    authors: tuple[str, ...]


@dataclass(frozen=True)
class Listing:
    """A real listing slot: categories and announce type of one RSS item in our categories."""

    categories: tuple[str, ...]
    primary: str
    announce_type: str


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def real_texts(fixtures: Path) -> list[Text]:
    """Titles, abstracts and authors from every recorded source that has them."""
    from arxiv_digest.fetch import parse_rss
    from lxml import etree

    out = [Text(r.title, r.abstract, r.authors)
           for r in parse_rss((fixtures / RSS).read_bytes(), "rss").records]
    for line in (fixtures / "kaggle_arxiv-metadata-oai-snapshot_head200.jsonl").read_text().splitlines():
        rec = json.loads(line)
        out.append(Text(_clean(rec["title"]), _clean(rec["abstract"]),
                        tuple(_clean(a) for a in rec["authors"].split(",") if a.strip())))
    for path in sorted(fixtures.glob("oai_*.xml")):
        for raw in etree.parse(str(path)).iter(f"{OAI_RAW}arXivRaw"):
            out.append(Text(_clean(raw.findtext(f"{OAI_RAW}title")),
                            _clean(raw.findtext(f"{OAI_RAW}abstract")),
                            tuple(_clean(a) for a in (raw.findtext(f"{OAI_RAW}authors") or "").split(",")
                                  if a.strip())))
    for path in sorted(fixtures.glob("api20*.xml")):
        try:
            tree = etree.parse(str(path))
        except etree.XMLSyntaxError:
            continue
        for entry in tree.iter(f"{ATOM}entry"):
            out.append(Text(_clean(entry.findtext(f"{ATOM}title")),
                            _clean(entry.findtext(f"{ATOM}summary")),
                            tuple(_clean(a.findtext(f"{ATOM}name")) for a in entry.iter(f"{ATOM}author"))))
    return [t for t in out if t.title and t.abstract and t.authors]


def real_listings(fixtures: Path, categories: tuple[str, ...]) -> list[Listing]:
    """The category and announce-type mix of the RSS day, restricted to the configured categories."""
    from arxiv_digest.fetch import parse_rss

    wanted = set(categories)
    out = []
    for r in parse_rss((fixtures / RSS).read_bytes(), "rss").records:
        if not wanted or wanted.intersection(r.categories) or r.primary_category in wanted:
            out.append(Listing(tuple(r.categories), r.primary_category, r.announce_type))
    return out


def archive_days(n_days: int) -> list[dt.date]:
    """The last n announcement days up to LAST_DAY, oldest first (weekends and holidays skipped)."""
    from arxiv_digest import schedule

    start = LAST_DAY - dt.timedelta(days=n_days * 2 + 30)
    days = schedule.announcement_days(start, LAST_DAY)
    if len(days) < n_days:
        raise SystemExit(f"only {len(days)} announcement days before {LAST_DAY}")
    return list(days[-n_days:])


def next_day(day: dt.date) -> dt.date:
    """The announcement day after `day`."""
    from arxiv_digest import schedule

    d = day + dt.timedelta(days=1)
    while not schedule.is_announcement_day(d):
        d += dt.timedelta(days=1)
    return d


class Generator:
    """Writes generated day files with the project's own stages and store."""

    def __init__(self, site: Path, per_day: int, seed: int, fixtures: Path) -> None:
        from arxiv_digest.settings import load_settings

        self.settings = load_settings({"PATH": str(site / "content"),
                                       "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml")})
        self.texts = real_texts(fixtures)
        self.listings = real_listings(fixtures, tuple(self.settings.categories))
        self.per_day = per_day
        self.seed = seed
        self.summarizer = self._summarizer()

    def _summarizer(self) -> Any:
        from arxiv_digest.summarize import make_summarizer

        fixed = dt.datetime(2024, 11, 28, 12, tzinfo=dt.UTC)
        try:
            return make_summarizer(self.settings, clock=lambda: fixed)
        except TypeError:  # a make_summarizer without a clock
            return make_summarizer(self.settings)

    def records(self, day: dt.date) -> tuple[Any, ...]:
        """One day's raw records: real titles, abstracts and authors recombined, real listing slots."""
        from arxiv_digest.normalize import RawRecord

        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        out = []
        for k in range(self.per_day):
            slot = rng.choice(self.listings)
            title, body, names = rng.choice(self.texts), rng.choice(self.texts), rng.choice(self.texts)
            out.append(RawRecord(
                arxiv_id=f"{day:%y%m}.{(day.day - 1) * 3000 + k:05d}v{rng.choice((1, 1, 1, 2))}",
                title=title.title, authors=names.authors, abstract=body.abstract,
                categories=slot.categories, announce_type=slot.announce_type,
                primary_category=slot.primary,
            ))
        return tuple(out)

    def write_day(self, day: dt.date) -> Path:
        """Build one day through build_digest and the summarizer, and store it."""
        from arxiv_digest import store
        from arxiv_digest.fetch import FetchedDay
        from arxiv_digest.pipeline import build_digest

        digest = build_digest(FetchedDay(day, self.records(day), "rss"), self.settings)
        digest = self.summarizer.summarize(digest)
        return store.save(self.settings.data_dir, digest)


def skeleton(root: Path, site: Path) -> None:
    """A copy of the project's site skeleton (as tests/conftest.py site_dir), plugins linked."""
    site.mkdir(parents=True, exist_ok=True)
    for name in ("pelicanconf.py", "publishconf.py", "digest.yaml"):
        shutil.copy(root / name, site / name)
    shutil.copytree(root / "theme", site / "theme")
    (site / "plugins").symlink_to(root / "plugins")
    (site / "content" / "digests").mkdir(parents=True)
    pages = root / "content" / "pages"
    if pages.is_dir():
        shutil.copytree(pages, site / "content" / "pages")


def plain_markdown(digest: Any, is_listed: Callable[[Any], bool]) -> str:
    """One Markdown article for a day's listed papers (what plain Pelican renders)."""
    lines = [f"Title: arXiv digest {digest.date}", f"Date: {digest.date} 00:00",
             "Category: digest", ""]
    for p in digest.papers:
        if not is_listed(p):
            continue
        lines += [f"## {p.title}", "", ", ".join(p.authors), "",
                  f"[arXiv:{p.id}](https://arxiv.org/abs/{p.versioned_id}) · "
                  + " · ".join(sorted(p.tags)), "", p.abstract, ""]
        if p.summary and isinstance(p.summary.get("text"), str):
            lines += [f"*Summary:* {p.summary['text']}", ""]
    return "\n".join(lines)


PLAIN_CONF = """\
SITENAME = "plain"
PATH = "content"
TIMEZONE = "America/New_York"
DEFAULT_LANG = "en"
ARTICLE_URL = "{date:%Y}/{date:%m}/{date:%d}/"
ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{date:%d}/index.html"
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
FEED_MAX_ITEMS = 30
"""


def write_plain_day(plain: Path, digest: Any, settings: Any) -> None:
    """The plain-Pelican twin of a day file."""
    from arxiv_digest.tagging import is_listed

    path = plain / "content" / digest.date[:4] / f"{digest.date}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plain_markdown(
        digest, lambda p: is_listed(p.is_replacement, tuple(p.tags), settings)), encoding="utf-8")


@dataclass
class Child:
    """One child process's wall time and peak memory."""

    seconds: float
    maxrss_mb: float
    cpu: float = 0.0  # user + system seconds of the child and the processes it reaped


# A small launcher between this (large) process and the measured one: a child's peak RSS starts at
# its parent's RSS when it forks, so the measured command is forked by this small process instead,
# which reports that child's rusage (os.wait4: its own peak, or that of a child it reaped, such as
# pagefind's binary under `python -m pagefind`).
LAUNCHER = """\
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> Child:
    """Run a command; its wall time and its peak RSS (including the children it reaped)."""
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, rss.name, *cmd], cwd=cwd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        seconds = time.perf_counter() - started
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed in {cwd} (exit {proc.returncode}):\n"
                             f"{proc.stderr.decode(errors='replace')[-3000:]}")
        fields = (Path(rss.name).read_text() or "0 0").split()
    return Child(seconds, int(fields[0]) / 1024, float(fields[1]))


def output_size(out: Path) -> tuple[float, int]:
    """MB and file count under out/."""
    files = [p for p in out.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def clear_build_state(site: Path) -> None:
    """What a cold build starts without: output/ and every cache a build may keep."""
    for rel in ("output", "cache", ".cache"):
        shutil.rmtree(site / rel, ignore_errors=True)
    for cache in (site / "content").rglob(".cache"):
        shutil.rmtree(cache, ignore_errors=True)


@dataclass
class Build:
    """One cold-then-daily measurement of one site."""

    cold_pelican: Child
    cold_search: Child | None
    daily_pelican: Child
    daily_search: Child | None
    mb: float
    files: int
    daily_mb: float
    daily_files: int


def pelican_cmd() -> list[str]:
    return [sys.executable, "-m", "pelican", "content", "-o", "output", "-s", "pelicanconf.py"]


def search_cmd() -> list[str]:
    """As the Makefile's SEARCH_INDEX: the old index removed, then Pagefind over output/."""
    return [sys.executable, "-c", "import runpy, shutil, sys; shutil.rmtree('output/pagefind', "
            "ignore_errors=True); sys.argv = ['pagefind', '--site', 'output', '--silent']; "
            "runpy.run_module('pagefind', run_name='__main__')"]


def measure(site: Path, add_day: Callable[[], None], remove_day: Callable[[], None],
            env: dict[str, str], search: bool) -> Build:
    """Cold build (pelican, then pagefind), then add a day and build again on the kept state."""
    remove_day()
    clear_build_state(site)
    cold_p = run(pelican_cmd(), site, env)
    cold_s = run(search_cmd(), site, env) if search else None
    mb, files = output_size(site / "output")
    add_day()
    daily_p = run(pelican_cmd(), site, env)
    daily_s = run(search_cmd(), site, env) if search else None
    daily_mb, daily_files = output_size(site / "output")
    return Build(cold_p, cold_s, daily_p, daily_s, mb, files, daily_mb, daily_files)


@dataclass
class Sized:
    """Every run at one archive size."""

    days: int
    papers: int
    listed: int
    ours: list[Build] = field(default_factory=list)
    plain: list[Build] = field(default_factory=list)


def mm(values: list[float], fmt: str = "{:.1f}") -> str:
    """'min / median'."""
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"


def report(s: Sized, runs: int) -> None:
    """Print one size's figures: min / median over the runs, and the ratios."""
    def t(builds: list[Build], get: Callable[[Build], Child | None]) -> list[float]:
        return [c.seconds for b in builds if (c := get(b)) is not None]

    def m(builds: list[Build], get: Callable[[Build], Child | None]) -> list[float]:
        return [c.maxrss_mb for b in builds if (c := get(b)) is not None]

    def cpu(builds: list[Build], get: Callable[[Build], Child | None]) -> list[float]:
        return [c.cpu for b in builds if (c := get(b)) is not None]

    o, p = s.ours, s.plain
    print(f"\n== {s.days} days, {s.papers:,} papers stored, {s.listed:,} listed "
          f"({runs} run(s); min / median) ==")
    print(f"{'':34s}{'make html (ours)':>24s}{'plain Pelican':>22s}{'ratio (min)':>14s}")
    rows: list[tuple[str, list[float], list[float] | None, str]] = [
        ("cold: pelican, s", t(o, lambda b: b.cold_pelican), t(p, lambda b: b.cold_pelican), "{:.2f}"),
        ("cold: pagefind, s", t(o, lambda b: b.cold_search), None, "{:.2f}"),
        ("cold: pelican + pagefind, s",
         [b.cold_pelican.seconds + (b.cold_search.seconds if b.cold_search else 0) for b in o],
         t(p, lambda b: b.cold_pelican), "{:.2f}"),
        ("daily (+1 day): pelican, s", t(o, lambda b: b.daily_pelican),
         t(p, lambda b: b.daily_pelican), "{:.2f}"),
        ("daily (+1 day): pagefind, s", t(o, lambda b: b.daily_search), None, "{:.2f}"),
        ("daily (+1 day): pelican + pagefind, s",
         [b.daily_pelican.seconds + (b.daily_search.seconds if b.daily_search else 0) for b in o],
         t(p, lambda b: b.daily_pelican), "{:.2f}"),
        ("cold: pelican CPU (user+sys), s", cpu(o, lambda b: b.cold_pelican),
         cpu(p, lambda b: b.cold_pelican), "{:.2f}"),
        ("daily: pelican CPU (user+sys), s", cpu(o, lambda b: b.daily_pelican),
         cpu(p, lambda b: b.daily_pelican), "{:.2f}"),
        ("daily: pagefind CPU (user+sys), s", cpu(o, lambda b: b.daily_search), None, "{:.2f}"),
        ("peak RSS pelican (cold), MB", m(o, lambda b: b.cold_pelican), m(p, lambda b: b.cold_pelican),
         "{:.0f}"),
        ("peak RSS pagefind (cold), MB", m(o, lambda b: b.cold_search), None, "{:.0f}"),
        ("peak RSS pelican (daily), MB", m(o, lambda b: b.daily_pelican),
         m(p, lambda b: b.daily_pelican), "{:.0f}"),
        ("peak RSS pagefind (daily), MB", m(o, lambda b: b.daily_search), None, "{:.0f}"),
        ("output (cold), MB", [b.mb for b in o], [b.mb for b in p], "{:.1f}"),
        ("output (cold), files", [float(b.files) for b in o], [float(b.files) for b in p], "{:.0f}"),
        ("output (after daily), MB", [b.daily_mb for b in o], [b.daily_mb for b in p], "{:.1f}"),
        ("output (after daily), files", [float(b.daily_files) for b in o],
         [float(b.daily_files) for b in p], "{:.0f}"),
    ]
    for label, ours, plain, fmt in rows:
        if not ours:
            continue
        ratio = f"{min(ours) / min(plain):.2f}x" if plain and min(plain) > 0 else ""
        print(f"{label:34s}{mm(ours, fmt):>24s}{mm(plain, fmt) if plain else '':>22s}{ratio:>14s}")


def profile(site: Path, env: dict[str, str], top: int) -> None:
    """One cold Pelican build under cProfile: the top functions by cumulative and own time."""
    clear_build_state(site)
    prof = site / "pelican.prof"
    started = time.perf_counter()
    run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "pelican", "content", "-o", "output",
         "-s", "pelicanconf.py"], site, env)
    print(f"\n== cProfile of a cold pelican build ({time.perf_counter() - started:.1f} s under the "
          f"profiler): top {top} by cumulative time ==")
    stats = pstats.Stats(str(prof))
    stats.sort_stats("cumulative").print_stats(top)
    print(f"== top {top} by own time ==")
    stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, nargs="+", default=[20],
                    help="archive sizes in announcement days (the issue's: 20 250 1000)")
    ap.add_argument("--per-day", type=int, default=500, help="papers a day (500: the four default "
                    "categories; 1500: all of cs)")
    ap.add_argument("--runs", type=int, default=3, help="cold+daily measurements per size")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--root", type=Path, default=HERE,
                    help="the project checkout to benchmark (default: this one)")
    ap.add_argument("--fixtures", type=Path, default=None,
                    help=f"recorded fixtures (default: ROOT/../{FIXTURES_NAME})")
    ap.add_argument("--no-search", action="store_true", help="skip the pagefind step")
    ap.add_argument("--no-plain", action="store_true", help="skip plain Pelican")
    ap.add_argument("--profile", action="store_true",
                    help="also profile one cold pelican build of the largest size")
    ap.add_argument("--top", type=int, default=30, help="functions shown by --profile")
    ap.add_argument("--keep", type=Path, default=None,
                    help="build under this folder and keep it (default: a temp dir, removed)")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    fixtures = (args.fixtures or root.parent / FIXTURES_NAME).resolve()
    if args.per_day > 3000:
        raise SystemExit("--per-day is at most 3000 (the generated ids have room for that)")
    sys.path.insert(0, str(root / "plugins"))
    logging.disable(logging.WARNING)
    env = dict(os.environ, PYTHONPATH=str(root / "plugins"), PYTHONHASHSEED="0")
    env.pop("ARXIV_DIGEST_SETTINGS", None)
    env.pop("ARXIV_DIGEST_LLM_MODEL", None)  # the offline summarizer, always

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_archive."))
    print(f"benchmarking {root} ({args.per_day} papers a day, {args.runs} run(s), sizes {args.days}); "
          f"sites in {base}")
    try:
        for n in args.days:
            sized = bench_size(root, base / f"days{n}", n, args, fixtures, env)
            report(sized, args.runs)
        if args.profile:
            profile(base / f"days{max(args.days)}" / "ours", env, args.top)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


def bench_size(root: Path, where: Path, n: int, args: argparse.Namespace, fixtures: Path,
               env: dict[str, str]) -> Sized:
    """Generate one archive (ours and its plain twin) and measure both --runs times."""
    from arxiv_digest import store
    from arxiv_digest.tagging import is_listed

    ours, plain = where / "ours", where / "plain"
    days = archive_days(n)
    extra = next_day(days[-1])
    started = time.perf_counter()
    if not (ours / "content" / "digests").is_dir():
        skeleton(root, ours)
    gen = Generator(ours, args.per_day, args.seed, fixtures)
    plain.mkdir(parents=True, exist_ok=True)
    (plain / "pelicanconf.py").write_text(PLAIN_CONF)
    stored = listed = 0
    for day in [*days, extra]:
        path = store.day_path(gen.settings.data_dir, day)
        if not path.exists():
            gen.write_day(day)
        digest = store.load(path)
        write_plain_day(plain, digest, gen.settings)
        if day != extra:
            stored += len(digest.papers)
            listed += sum(is_listed(p.is_replacement, tuple(p.tags), gen.settings) for p in digest.papers)
    # the daily update's own stages for the new day, on the stored archive (in this process: no
    # fetch, no interpreter start): normalize, tag, link near-duplicates, summarize, store
    updates = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        gen.write_day(extra)
        updates.append(time.perf_counter() - t0)
    # the daily case's new day waits outside content/ until it is "announced"
    day_file = store.day_path(gen.settings.data_dir, extra)
    parked = where / day_file.name
    plain_file = plain / "content" / str(extra.year) / f"{extra.isoformat()}.md"
    plain_parked = where / plain_file.name
    shutil.move(day_file, parked)
    shutil.move(plain_file, plain_parked)
    print(f"\n{n} days + 1 generated in {time.perf_counter() - started:.1f} s "
          f"({stored:,} papers, {listed:,} listed; the daily case adds {extra})")
    print(f"daily case, update stages for {extra} (normalize, tag, link, offline summary, store; "
          f"no fetch, in-process): {mm(updates, '{:.2f}')} s (min / median)")

    def add(src: Path, dst: Path) -> Callable[[], None]:
        return lambda: shutil.copy(src, dst)

    def remove(dst: Path) -> Callable[[], None]:
        return lambda: dst.unlink(missing_ok=True)

    sized = Sized(n, stored, listed)
    for i in range(args.runs):
        b = measure(ours, add(parked, day_file), remove(day_file), env, not args.no_search)
        sized.ours.append(b)
        line = (f"  run {i + 1}: ours cold {b.cold_pelican.seconds:.1f}"
                f"+{b.cold_search.seconds if b.cold_search else 0:.1f} s, daily "
                f"{b.daily_pelican.seconds:.1f}+{b.daily_search.seconds if b.daily_search else 0:.1f} s")
        if not args.no_plain:
            pb = measure(plain, add(plain_parked, plain_file), remove(plain_file), env, False)
            sized.plain.append(pb)
            line += f"; plain cold {pb.cold_pelican.seconds:.1f} s, daily {pb.daily_pelican.seconds:.1f} s"
        print(line, flush=True)
    remove(day_file)()
    return sized


if __name__ == "__main__":
    main()
