"""Benchmark `update`: its offline stages on the real 2024-11-28 feed, and the daily update as the
daily workflow runs it on a stored archive.

Default: each offline stage's time on the real feed (1,504 items, 513 ours), and the near-duplicate
search with and without 30 stored days of titles side by side (the ratio is what the lookback
costs).

--archive SITE: the real command, `python -m arxiv_digest update`, as a child process (interpreter
start and imports included) against a local RSS server on 127.0.0.1 serving the recorded feed of
2024-11-28, on a copy of SITE (a site folder whose content/digests holds days before 2024-11-28,
e.g. the `ours` folder `bench/bench_archive.py --keep DIR` leaves). SITE is never written: each
run works on a copy made of hard links (every write of a day file or index renames a new file into
place). Two cases, min and median of --runs:

  first    no content/digests/.cache/day-index yet: every stored day is read once (shown apart)
  daily    the caches the daily workflow keeps: the day index, and the stat record of the day
           files' keys (filekeys.py), as the previous run left them
  checkout (--checkout) a fresh `git clone` of the archive with .cache restored beside it, as the
           daily workflow's actions/checkout + actions/cache give it: every day file is new to the
           stat record, so git's index vouches for the keys (the clone is made once, ~1 min)

Each line gives wall and CPU seconds (user + system, the child's rusage), peak RSS, and how many
earlier day files the update wrote back into (links back: each such day's pages are built again).
--spread N makes the served day more like a real one for the links back: N of its replacements
become new versions of papers stored on N different earlier days (the real feed's 183
replacements have earlier versions first announced from 2019 to 2024: about 110 distinct days on a
four-year archive), whereas a generated archive shares no id with the real feed.
Then one update in this process, timed stage by stage (pipeline.build_digest and its lookback,
versions, the locked merge + summarize + save, links back).

--links-back N (with --archive): the links back alone, in this process: N stored days of SITE
copied (each indexed, as update leaves it), then one version link written back into one paper of
each (--per-day K: in K papers of each; enrich/backlinks.link_back's per-day step, under the
day's lock, fsync included): CPU and wall milliseconds per day, min / median of --runs.

Run: .venv/bin/python bench/bench_pipeline.py
     .venv/bin/python bench/bench_pipeline.py --archive /tmp/bench/days1000/ours --spread 110
     .venv/bin/python bench/bench_pipeline.py --archive /tmp/bench/days1000/ours --links-back 60
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "tests"))

from arxiv_digest.core.settings import load_settings  # noqa: E402
from arxiv_digest.enrich.tagging import Tagger, compile_term  # noqa: E402
from arxiv_digest.update.fetch import parse_rss  # noqa: E402
from arxiv_digest.update.normalize import link_near_duplicates, normalize  # noqa: E402
from arxiv_digest.update.pipeline import tag_papers  # noqa: E402
from rapidfuzz import fuzz, process, utils  # noqa: E402

FEED = ROOT.parent / "shared/fixtures/arxiv/rss_all-archives_2024-11-28.xml"


def best(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def naive_tag(topics, papers) -> int:
    """The straightforward way, as a baseline: every term's regex over every text."""
    compiled = [[compile_term(t) for t in topic.terms] for topic in topics]
    hits = 0
    for p in papers:
        for pats in compiled:
            for pat in pats:
                hits += len(pat.findall(p.title)) + len(pat.findall(p.abstract))
    return hits


def naive_duplicates(papers, earlier) -> int:
    """Baseline: token_sort_ratio with rapidfuzz's processor applied per comparison."""
    titles = [p.title for p in papers] + [t for _, _, t in earlier]
    n = 0
    for p in papers:
        n += len(process.extract(p.title, titles, scorer=fuzz.token_sort_ratio,
                                 processor=utils.default_process, score_cutoff=92, limit=None))
    return n


def stages() -> None:
    settings = load_settings({"ARXIV_DIGEST_CONFIG": str(ROOT / "digest.yaml")})
    body = FEED.read_bytes()
    day = parse_rss(body, "feed")
    papers = normalize(day.records, settings.categories)
    tagger = Tagger(settings.topics)
    all_papers = normalize(day.records, [])
    # 30 stored days of titles: the feed's 1504 real titles, ten times over, as other days
    earlier = [(f"2024-10-{d:02d}", f"{p.id}.{d}", p.title) for d in range(1, 11) for p in all_papers]
    print(f"papers: {len(day.records)} in the feed, {len(papers)} in the categories")
    print(f"parse RSS (lxml, strict):          {best(lambda: parse_rss(body, 'feed')) * 1000:8.1f} ms")
    norm = best(lambda: normalize(day.records, settings.categories))
    print(f"normalize (ids, TeX, whitespace):  {norm * 1000:8.1f} ms")
    tag = best(lambda: tag_papers(papers, tagger))
    naive = best(lambda: naive_tag(settings.topics, papers))
    print(f"tag {len(papers)} papers (Tagger):        {tag * 1000:8.1f} ms")
    print(f"tag {len(papers)} papers (naive per-term): {naive * 1000:8.1f} ms"
          f"   -> Tagger is {naive / tag:.1f}x faster")
    same = best(lambda: link_near_duplicates(papers, 92, day.date.isoformat()), 3)
    look = best(lambda: link_near_duplicates(papers, 92, day.date.isoformat(), earlier), 3)
    naive_look = best(lambda: naive_duplicates(papers, earlier), 1)
    print(f"near-duplicates, same day only:    {same * 1000:8.1f} ms ({len(papers)} x {len(papers)})")
    print(f"near-duplicates, + {len(earlier)} titles: {look * 1000:8.1f} ms"
          f" ({len(papers)} x {len(papers) + len(earlier)})")
    print(f"  naive token_sort_ratio, same work: {naive_look * 1000:8.1f} ms   -> {naive_look / look:.1f}x slower")
    print(f"ratio lookback / same day:         {look / same:8.1f}x")


# --- the daily update on a stored archive ----------------------------------------------------

NOW = "2024-11-28T10:17:00+00:00"  # 05:17 ET on the day of the recorded feed
CATS = "cs.AI+cs.CL+cs.CV+cs.LG"


def link_tree(src: Path, dst: Path) -> None:
    """A copy of src made of hard links (folders made, files linked; .locks left out)."""
    for folder, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d != ".locks"]
        rel = Path(folder).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(Path(folder) / name, dst / rel / name)


def site_copy(site: Path, where: Path, digests: Path) -> Path:
    """A site folder at `where`: SITE's settings and theme, day files linked from `digests`."""
    where.mkdir(parents=True)
    for name in ("pelicanconf.py", "publishconf.py", "digest.yaml"):
        shutil.copy(site / name, where / name)
    (where / "theme").symlink_to((site / "theme").resolve() if (site / "theme").exists()
                                 else ROOT / "theme")
    link_tree(digests, where / "content" / "digests")
    return where


def spread_feed(body: bytes, data_dir: Path, n: int, categories: tuple[str, ...]) -> bytes:
    """The feed with n of its replacements (in our categories) turned into new versions of papers
    stored on n different earlier days, spaced evenly over the archive: each item takes the stored
    paper's id, version + 1, title and abstract (with one sentence added, as a revision does)."""
    from xml.sax.saxutils import escape

    from arxiv_digest.core import store

    if n <= 0:
        return body
    text = body.decode("utf-8")
    days = [p for p in store.iter_days(data_dir) if p.stem < "2024-11-28"]
    picks = [days[round(i * (len(days) - 1) / max(n - 1, 1))] for i in range(min(n, len(days)))]
    ours = normalize(parse_rss(body, "feed").records, categories)
    replaced = [p for p in ours if p.is_replacement][:len(picks)]
    items = text.split("<item>")
    where = {}
    for i, item in enumerate(items):
        m = re.search(r"arXiv:(\S+?)v\d+ Announce Type:", item)
        if m:
            where[m.group(1)] = i
    for k, (paper, path) in enumerate(zip(replaced, picks, strict=False)):
        stored = store.load(path).papers[k % 50]  # one paper of that day
        item = items[where[paper.id]]
        title = f"<title>{escape(stored.title)}</title>"
        item = re.sub(r"<title>.*?</title>", lambda _, t=title: t, item, count=1, flags=re.S)
        item = re.sub(r"arXiv:\S+?v\d+ Announce Type:",
                      f"arXiv:{stored.id}v{stored.version + 1} Announce Type:", item, count=1)
        revised = escape(f"{stored.abstract} We also report results on two more benchmarks.")
        item = re.sub(r"Abstract: .*?</description>",
                      lambda _, r=revised: f"Abstract: {r}</description>", item, count=1, flags=re.S)
        items[where[paper.id]] = item
    return "<item>".join(items).encode("utf-8")


def child(site: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """(wall s, CPU s, peak RSS KB, log) of one `python -m arxiv_digest update` child (os.wait4)."""
    cmd = [sys.executable, "-m", "arxiv_digest", "-s", str(site / "pelicanconf.py"), "update",
           "--now", NOW]
    with tempfile.TemporaryFile() as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=site, env=env, stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    if proc.returncode:
        raise SystemExit(f"update failed (exit {proc.returncode}): {text[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, text


def stamp_keys(site: Path) -> None:
    """The stat record of the day files' keys as the previous run leaves it (the copy's links gave
    every file a new ctime; files younger than filekeys.RACY_NS are not recorded: wait it out)."""
    from arxiv_digest.core.filekeys import RACY_NS
    from arxiv_digest.enrich import dayindex

    time.sleep(RACY_NS / 1e9 + 0.2)
    data = site / "content" / "digests"
    dayindex.keys(data, dayindex.stored_days(data))


def written_back(log: str) -> int:
    return len(re.findall(r"papers link forward to", log))


def mm(values: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"


def archive(args: argparse.Namespace) -> None:
    """The daily update on a copy of a stored archive (see the module docstring)."""
    from arxiv_digest.core import store
    from arxiv_digest.enrich import dayindex
    from arxiv_server import FIXTURES, ArxivServer

    site = args.archive.resolve()
    src = site / "content" / "digests"
    settings = load_settings({"PATH": str(site / "content"),
                              "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml")})
    days = sum(1 for _ in store.iter_days(src))
    body = spread_feed((FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes(), src, args.spread,
                       tuple(settings.categories))
    server = ArxivServer()
    base = server.start()
    server.route(f"/rss/{CATS}", lambda query: body)
    env = dict(os.environ, ARXIV_DIGEST_RSS_URL=f"{base}/rss", PYTHONPATH=str(ROOT / "plugins"))
    for name in ("ARXIV_DIGEST_LLM_MODEL", "ARXIV_DIGEST_LLM_API_BASE", "ARXIV_DIGEST_SETTINGS"):
        env.pop(name, None)  # the offline summarizer, always
    tmp = Path(tempfile.mkdtemp(prefix="bench_pipeline."))
    load = os.getloadavg()[0]
    print(f"{days} stored days in {site}; the served day: the real 2024-11-28 feed"
          f"{f' with {args.spread} replacements re-pointed to {args.spread} earlier days' if args.spread else ''}"
          f"; load average {load:.1f} on {os.cpu_count()} CPUs")
    try:
        # the first update: no day index yet (every stored day is read once)
        first_site = site_copy(site, tmp / "first", src)
        shutil.rmtree(first_site / "content" / "digests" / ".cache", ignore_errors=True)
        first = child(first_site, env)
        shutil.rmtree(first_site, ignore_errors=True)
        print(f"  first run (no day index)  wall {first[0]:.2f} s, CPU {first[1]:.2f} s, "
              f"peak RSS {first[2] / 1024:.0f} MB; {written_back(first[3])} earlier days written")
        # a base with the day index derived (as the first run leaves it, before its own writes)
        basesite = site_copy(site, tmp / "base", src)
        shutil.rmtree(basesite / "content" / "digests" / ".cache", ignore_errors=True)
        base_data = basesite / "content" / "digests"
        stored = dayindex.stored_days(base_data)
        keys = dayindex.keys(base_data, stored)
        for path in stored:
            dayindex.day_entries(base_data, path, keys.get(path))
        cases: list[tuple[str, Path | None]] = [("daily", None)]
        if args.checkout:
            cases.append(("checkout", make_repo(basesite, tmp / "repo")))
        for name, repo in cases:
            rows = []
            for i in range(args.runs):
                where = tmp / f"{name}{i}"
                if repo is None:
                    run_site = site_copy(site, where, base_data)
                    stamp_keys(run_site)
                else:
                    subprocess.run(["git", "clone", "-q", str(repo), str(where)], check=True)
                    link_tree(base_data / ".cache", where / "content" / "digests" / ".cache")
                    run_site = where
                rows.append(child(run_site, env))
                shutil.rmtree(where, ignore_errors=True)
            print(f"  {name:9s} (min / median of {args.runs}): wall {mm([r[0] for r in rows])} s, "
                  f"CPU {mm([r[1] for r in rows])} s, peak RSS {max(r[2] for r in rows) / 1024:.0f} MB; "
                  f"{written_back(rows[0][3])} earlier days written")
        in_process(site, basesite, tmp / "stages", body, settings)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def make_repo(basesite: Path, repo: Path) -> Path:
    """A git repository holding the archive's day files and settings (made once)."""
    t0 = time.perf_counter()
    link_tree(basesite / "content" / "digests", repo / "content" / "digests")
    shutil.rmtree(repo / "content" / "digests" / ".cache", ignore_errors=True)
    for name in ("pelicanconf.py", "publishconf.py", "digest.yaml"):
        shutil.copy(basesite / name, repo / name)
    shutil.copytree(ROOT / "theme", repo / "theme")
    (repo / ".gitignore").write_text(".cache/\n.locks/\n")
    git = ["git", "-c", "user.email=bench@localhost", "-c", "user.name=bench"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "archive"], cwd=repo, check=True)
    print(f"  (git repository of the archive made in {time.perf_counter() - t0:.0f} s)")
    return repo


def in_process(site: Path, basesite: Path, where: Path, body: bytes, settings: Any) -> None:
    """One update in this process, stage by stage, on a fresh copy with the caches kept."""
    from arxiv_digest.core import store
    from arxiv_digest.core.filekeys import FileKeys
    from arxiv_digest.enrich import backlinks, versions
    from arxiv_digest.enrich.tagging import decide_day
    from arxiv_digest.summarize import make_summarizer
    from arxiv_digest.update import pipeline

    run_site = site_copy(site, where, basesite / "content" / "digests")
    stamp_keys(run_site)
    settings = load_settings({"PATH": str(run_site / "content"),
                              "ARXIV_DIGEST_CONFIG": str(run_site / "digest.yaml")})
    data = settings.data_dir
    times: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        t0 = time.process_time()
        out = fn()
        times[name] = time.process_time() - t0
        return out

    fetched = timed("parse the feed", lambda: parse_rss(body, "feed"))
    files = FileKeys(data)
    earlier = timed("lookback: 30 days' titles", lambda: pipeline.recent_titles(
        settings, fetched.date, files))
    digest = timed("normalize, decide, near-duplicates, links, claims",
                   lambda: pipeline.build_digest(fetched, settings, earlier))
    digest = timed("versions (every stored day's ids)",
                   lambda: versions.link_versions(digest, data, files))
    summarizer = make_summarizer(settings)

    def locked() -> Any:
        with store.day_lock(data, digest.date, settings.lock_timeout):
            stored = store.load_day(data, digest.date)
            merged = decide_day(store.merge(stored, digest), settings) if stored else digest
            done = summarizer.summarize(merged)
            path = store.save(data, done)
            pipeline.dayindex.remember(data, path, done)
        return done

    digest = timed("merge, summarize (offline), save, index", locked)
    written = timed("links back into earlier days",
                    lambda: backlinks.link_back(data, digest, settings.lock_timeout))
    total = sum(times.values())
    print(f"  stages, in this process (CPU s; imports and interpreter start not included; "
          f"{written} earlier days written back):")
    for name, sec in times.items():
        print(f"    {name:52s} {sec:6.2f}  {sec / total:4.0%}")
    print(f"    {'total':52s} {total:6.2f}")


def links_back(site: Path, n: int, runs: int, per_day: int = 1) -> None:
    """--links-back N: ms per day of writing one version link back into each of N stored days."""
    from dataclasses import replace

    from arxiv_digest.core import store
    from arxiv_digest.core.models import Digest, VersionRef
    from arxiv_digest.enrich import backlinks, dayindex

    days = list(store.iter_days(site / "content" / "digests"))[:n]
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench_links_back.") as tmp:
            data = Path(tmp) / "digests"
            papers = []
            for path in days:
                (data / path.parent.name).mkdir(parents=True, exist_ok=True)
                copy = data / path.parent.name / path.name
                shutil.copy(path, copy)
                day = store.load(copy)
                dayindex.remember(data, copy, day)
                step = max(1, len(day.papers) // per_day)
                papers += [(p, path) for p in day.papers[::step][:per_day]]
            later = Digest(date="2099-01-01", categories=("cs.AI",), source="rss", papers=tuple(
                replace(p, version=p.version + 1, versions=(VersionRef(d.stem, p.version),))
                for p, d in papers))
            t0, c0 = time.perf_counter(), time.process_time()
            written = backlinks.link_back(data, later, 5.0)
            wall.append((time.perf_counter() - t0) / len(days) * 1000)
            cpu.append((time.process_time() - c0) / len(days) * 1000)
            assert written == len(days), (written, len(days))
    print(f"links back into {per_day} paper(s) of each of {len(days)} stored days of {site} "
          f"({runs} runs, ms per day, min / "
          f"median): CPU {mm(cpu)}, wall {mm(wall)}; load {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", type=Path, help="a site folder with a stored archive (read only)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--spread", type=int, default=0, metavar="N",
                    help="re-point N replacements to papers of N earlier days (links back)")
    ap.add_argument("--checkout", action="store_true",
                    help="also the fresh-checkout case (a git clone of the archive each run)")
    ap.add_argument("--links-back", type=int, default=0, metavar="N",
                    help="with --archive: only the links back, into N stored days, in this process")
    ap.add_argument("--per-day", type=int, default=1, metavar="K",
                    help="with --links-back: papers linked back on each day (default 1)")
    args = ap.parse_args()
    if args.archive is None:
        stages()
    elif args.links_back:
        links_back(args.archive.resolve(), args.links_back, args.runs, args.per_day)
    else:
        archive(args)


if __name__ == "__main__":
    main()
