"""Benchmark the radar: ranking quality on a real day against a real library, and index size.

Quality. The profile is a real public BibTeX library (tests/data/radar/kvcache_thesis_references.bib,
provenance in SOURCES.md there); the day is the shipped content/digests/2024/2024-11-28.json (513
papers); the relevance of its papers to the library was judged by hand (labels-2024-11-28.json,
grades 0/1/2). The radar ranks with theme/static/js/radar.js run in node (tests/radar_node.js):
the browser's own code. It is compared with

  topics     the keyword baseline readers have today: papers the digest's keyword topics
             (digest.yaml) tag as about a topic first, by the number of topic words matched,
             then those that only mention one
  keywords   the radar with a few typed keywords and no library ("KV cache", "quantization",
             "LLM inference", "long context"), to show what the library adds

and prints NDCG@10 (graded gains 2^g - 1) and precision@10 (grade >= 1) for each index variant
given: --top (terms kept a paper) times --min-df (a term fewer papers of the day use fills a
paper's slots only after the shared ones). One profile is one sample: 'halves' is the mean over
8 random halves of the library (seeded), a steadier figure.

Size. An archive of 30 calendar days of announcement days up to 2024-11-27 (21 or 22 days) at
--per-day papers a day, from recombined real titles, abstracts and authors (bench_archive.py's
generator: the project's own stages and store), indexed by site/radar.py. A typical session
uploads the library, ranks the 30 days and shows the top 20: it downloads days.json, every day's
ranking index, every day's ids (the library cites arXiv papers: liked ones; a profile that likes
none skips them) and the display files (32 papers each) that hold the 20 results; a profile that
follows authors also downloads every day's author keys. Prints those bytes gzipped
(level 6, what web servers use) for each variant, beside the real 513-paper day's index times the
number of days (recombined text repeats abstracts, so that is the honest figure). --bits: the
terms' hash bits (fewer: smaller, more collisions; one day at b bits meets about as many as 22
days at b + 4).

Bits. The real day's index, per field of pack_day (code, degrees, shared hashes and their
counts, single hashes, postings) and the ids' own file, beside format 3's fields.

Build. --build-days N: N generated announcement days (bench_archive.py's generator) indexed through
site/radar.py's per-day cache (DayFiles, keyed on what build_day reads of each day file: radar.input_key)
as the build does it
(DayFiles.fill: the missing days in forked processes, daycache.prefill): cold in one process
(before), cold in one process per CPU, again unchanged, daily (one new day), and cold again.
CPU seconds include the worker processes'.

Run:  .venv/bin/python bench/bench_radar.py
      .venv/bin/python bench/bench_radar.py --top 4 5 8 --min-df 1 2 --per-day 513
      .venv/bin/python bench/bench_radar.py --top 5 --min-df 2 --no-size --build-days 250
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "bench"))

DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"
DATA = ROOT / "tests" / "data" / "radar"
LIBRARY = DATA / "kvcache_thesis_references.bib"
LABELS = DATA / "labels-2024-11-28.json"
NODE_RUNNER = ROOT / "tests" / "radar_node.js"
TYPED_KEYWORDS = ["KV cache", "quantization", "LLM inference", "long context"]
SHOWN = 20  # results the radar page shows at first


def node_rank(manifest: dict[str, Any], days: list[dict[str, Any]], library: Path | None,
              profile: dict[str, Any] | None = None, limit: int = 0) -> dict[str, Any]:
    """Rank with radar.js in node; the answer of tests/radar_node.js."""
    job = {"mode": "rank", "manifest": manifest, "days": days, "profile": profile or {}, "limit": limit,
           "library": {"name": library.name, "text": library.read_text(encoding="utf-8")} if library else None}
    proc = subprocess.run(["node", str(NODE_RUNNER)], input=json.dumps(job), capture_output=True,
                          text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"radar_node.js failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout))


def ndcg(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """NDCG@k with gains 2^g - 1."""
    dcg = sum((2 ** grades.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def precision(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """Share of the top k with grade >= 1."""
    return sum(1 for pid in ranked[:k] if grades.get(pid, 0) >= 1) / k


def topics_baseline(digest: Any) -> list[str]:
    """The digest's keyword topics: 'about' papers first, by topic words matched, then mentions."""
    scored = []
    for i, p in enumerate(digest.papers):
        about = sum(len(d.get("terms", ())) for d in p.topics.values() if d.get("tier") == "about")
        mentions = sum(len(d.get("terms", ())) for d in p.topics.values() if d.get("tier") != "about")
        if about or mentions:
            scored.append((-(1000 * about + mentions), i, p.id))
    return [pid for _, _, pid in sorted(scored)]


HALVES = 8  # random halves of the library (seeded): a steadier quality figure than one profile


def half_libraries(tmp: Path) -> list[Path]:
    """HALVES libraries of half the entries each, drawn with seeds 0.. from the real library."""
    import random
    import re

    entries = ["@" + e for e in re.split(r"(?m)^@", LIBRARY.read_text(encoding="utf-8"))[1:]]
    out = []
    for seed in range(HALVES):
        path = tmp / f"half{seed}.bib"
        path.write_text("\n".join(random.Random(seed).sample(entries, len(entries) // 2)), encoding="utf-8")
        out.append(path)
    return out


def quality(variants: list[tuple[int, int, int]]) -> None:
    from arxiv_digest.core.store import load
    from arxiv_digest.site import radar

    digest = load(DAY)
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    grades = {pid: int(g[0]) for pid, g in labels["grades"].items()}
    print(f"quality: {DAY.relative_to(ROOT)} ({len(digest.papers)} papers), library "
          f"{LIBRARY.name}; labels: {sum(g == 2 for g in grades.values())} x grade 2, "
          f"{sum(g == 1 for g in grades.values())} x grade 1, the other "
          f"{len(digest.papers) - len(grades)} grade 0")
    print(f"  terms: kept a paper; min df: a term only fewer papers of the day use fills a paper's "
          f"slots last; halves: mean over {HALVES} random halves of the library")
    base = topics_baseline(digest)
    print(f"  {'ranker':34} {'library':>14} {'4 keywords':>14} {'halves':>14}")
    print(f"  {'':34} {'NDCG@10':>8} {'P@10':>5} {'NDCG@10':>8} {'P@10':>5} {'NDCG@10':>8} {'P@10':>5}")
    print(f"  {'topics (keyword baseline)':34} {ndcg(base, grades):8.3f} {precision(base, grades):5.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        halves = half_libraries(Path(tmp))
        for top, min_df, bits in variants:
            index = radar.build_day(digest, top=top, min_df=min_df, bits=bits)
            manifest = {**json.loads(radar.manifest([(digest.date, index.papers, "")])), "bits": bits}
            days = [_job_day(index)]
            lib = [r["id"] for r in node_rank(manifest, days, LIBRARY)["results"]]
            kw = [r["id"] for r in node_rank(manifest, days, None, {"keywords": TYPED_KEYWORDS})["results"]]
            half = [[r["id"] for r in node_rank(manifest, days, h)["results"]] for h in halves]
            name = f"radar, {top} terms, df {min_df}, {bits} bits" + (" (default)" if (top, min_df, bits) == (
                radar.TOP_TERMS, radar.MIN_DF, radar.HASH_BITS) else "")
            print(f"  {name:34} {ndcg(lib, grades):8.3f} {precision(lib, grades):5.2f} "
                  f"{ndcg(kw, grades):8.3f} {precision(kw, grades):5.2f} "
                  f"{sum(ndcg(h, grades) for h in half) / HALVES:8.3f} "
                  f"{sum(precision(h, grades) for h in half) / HALVES:5.2f}", flush=True)
    top10 = node_rank(json.loads(radar.manifest([(digest.date, len(digest.papers), "")])),
                      [_job_day(radar.build_day(digest))], LIBRARY, limit=10)
    print(f"  radar's top 10 (default, {radar.TOP_TERMS} terms, min df {radar.MIN_DF}), grade, first reason:")
    for r in top10["results"]:
        why = r["reasons"][0][:90] if r["reasons"] else ""
        print(f"    {grades.get(r['id'], 0)} {r['id']} {r['score']:7.1f}  {why}")


def _job_day(index: Any) -> dict[str, Any]:
    """A day for radar_node.js: its index and its ids (as the page fetches them for a library that
    cites arXiv papers; with them each result has its id, and a paper on several days comes once)."""
    return {"date": index.date, "idx": json.loads(index.idx), "ids": json.loads(index.ids)}


def accounting(variants: list[tuple[int, int, int]]) -> None:
    """Where the bits of the real day's index go, per field of pack_day (and of the id file)."""
    from arxiv_digest.core.store import load
    from arxiv_digest.site import radar

    digest = load(DAY)
    print(f"bits: the real day's index ({len(digest.papers)} papers), per field; the ids are a file of "
          f"their own, fetched only when the profile likes papers")
    fields = ["code", "degrees", "shared hashes", "shared counts", "single hashes", "postings"]
    print(f"  {'terms':>5} {'min df':>6} {'bits':>4} " + " ".join(f"{f:>13}" for f in fields)
          + f" {'index':>8} {'gzipped':>8} {'ids':>6} {'ids gz':>7}")
    for top, min_df, bits in variants:
        tally: dict[str, int] = {}
        index = radar.build_day(digest, top=top, min_df=min_df, bits=bits, tally=tally)
        total = sum(tally.get(f, 0) for f in fields)
        print(f"  {top:5} {min_df:6} {bits:4} " + " ".join(f"{tally.get(f, 0):13}" for f in fields)
              + f" {total:8} {gz(index.idx) * 8:8} {tally['ids']:6} {gz(index.ids) * 8:7}")
    print("  format 3 (the default then, 18 bits): ids 4529, code 257, hash gaps 13427, counts 2392, "
          "postings 18016 = 38,652 bits; gzipped 39,752")


def gz(text: str | bytes, level: int = 6) -> int:
    """Bytes of the text gzipped (level 6: what web servers use)."""
    return len(gzip.compress(text.encode("utf-8") if isinstance(text, str) else text, level))


def size(variants: list[tuple[int, int, int]], per_day: int, seed: int) -> None:
    from arxiv_digest.core.store import load
    from arxiv_digest.site import radar
    from bench_archive import Generator, archive_days, skeleton

    last = dt.date(2024, 11, 27)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        skeleton(ROOT, site)
        gen = Generator(site, per_day, seed, ROOT.parent / "shared" / "fixtures" / "arxiv")
        days = [d for d in archive_days(40) if (last - d).days < 30]
        digests = [load(gen.write_day(d)) for d in days]
    real = load(DAY)
    papers = sum(len(d.papers) for d in digests)
    print(f"size: {len(days)} announcement days in the 30 days to {last}, {papers} papers "
          f"({per_day} a day, recombined real text); a session ranks them all and shows the top "
          f"{SHOWN}; bytes gzipped (-6). 'real x{len(days)}': the real 513-paper day's index "
          f"{len(days)} times (the honest figure: recombined text repeats real abstracts)")
    print("  'labelled in session': the real day ranked with the generated days before it (the "
          "library), NDCG@10 / P@10 of its papers, and how many of the session's top 20 are those "
          "of 22-bit hashes (hash collisions)")
    print("  session: days.json, every day's index and ids (the library cites arXiv papers: liked ones),"
          " and the display files of the results shown")
    print(f"  {'terms':>5} {'min df':>6} {'bits':>4} {'index':>9} {'real x' + str(len(days)):>9} {'ids':>8} "
          f"{'shown':>18} {'session':>9}   {'+ follow authors':>16}   labelled in session")
    grades = {pid: int(g[0]) for pid, g in json.loads(LABELS.read_text(encoding="utf-8"))["grades"].items()}
    reference: dict[tuple[int, int], set[tuple[str, str]]] = {}
    for top, min_df, bits in sorted(variants, key=lambda v: -v[2]):  # 22 bits first: the reference
        built = [radar.build_day(d, top=top, min_df=min_df, bits=bits) for d in digests]
        manifest = json.dumps({**json.loads(radar.manifest([(x.date, x.papers, "") for x in built])), "bits": bits})
        idx = sum(gz(x.idx) for x in built)
        real_idx = gz(radar.build_day(real, top=top, min_df=min_df, bits=bits).idx) * len(days)
        chunks = {(x.date, k): gz(m) for x in built for k, m in enumerate(x.meta)}
        ranked = node_rank(json.loads(manifest), [_job_day(x) for x in built], LIBRARY, limit=SHOWN)["results"]
        shown = {(r["date"], r["doc"] // radar.CHUNK) for r in ranked}
        shown_bytes = sum(chunks[c] for c in shown)
        ids = sum(gz(x.ids) for x in built)  # the library cites arXiv papers: the page fetches the ids
        session = gz(manifest) + idx + ids + shown_bytes
        authors = sum(gz(x.authors) for x in built)
        with_real = [*built[1:], radar.build_day(real, top=top, min_df=min_df, bits=bits)]
        both = node_rank({**json.loads(manifest)}, [_job_day(x) for x in with_real], LIBRARY)["results"]
        on_day = [r["id"] for r in both if r["date"] == real.date]
        top20 = {(r["date"], r["id"]) for r in both[:SHOWN]}
        same = len(top20 & reference.setdefault((top, min_df), top20))
        print(f"  {top:5} {min_df:6} {bits:4} {idx / 1e3:6.1f} KB {real_idx / 1e3:6.1f} KB {ids / 1e3:5.1f} KB "
              f"{shown_bytes / 1e3:6.1f} KB ({len(shown):2} files) "
              f"{session / 1e3:6.1f} KB   {(session + authors) / 1e3:13.1f} KB   "
              f"{ndcg(on_day, grades):.3f} {precision(on_day, grades):.2f} {same:2}/{SHOWN}", flush=True)
    print("  before (format 1, 2 abstract terms + every day's titles and authors): "
          "index 81.4 KB + meta 762.0 KB = 843.4 KB a session (+ days.json)")
    print("  before (format 3, ids in the index, 18 bits, 4 terms, min df 2): index 97.0 KB, real x22 109.3 KB, "
          "session 158.9 KB")


def build(n_days: int, per_day: int, seed: int) -> None:
    """The radar's share of a build: every day's files through site/radar.py's per-day cache."""
    import os
    import resource
    import time

    from arxiv_digest.site import radar
    from arxiv_digest.site.daycache import workers
    from bench_archive import Generator, archive_days, next_day, skeleton

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        skeleton(ROOT, site)
        gen = Generator(site, per_day, seed, ROOT.parent / "shared" / "fixtures" / "arxiv")
        days = archive_days(n_days)
        t0 = time.perf_counter()
        paths = [gen.write_day(d) for d in days]
        print(f"build: {n_days} days x {per_day} papers generated in {time.perf_counter() - t0:.0f} s "
              f"(bench_archive.py's generator)")
        data = site / "content" / "digests"

        def run(label: str, every: list[Path], processes: int) -> None:
            # as RadarGenerator does: the missing days in `processes` forked processes, then each day
            cache = radar.DayFiles(data)
            t, cpu = time.perf_counter(), time.process_time()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            cache.fill([(p, []) for p in every], processes)
            for p in every:
                cache.get(p, [])
            took, cpu = time.perf_counter() - t, time.process_time() - cpu
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            print(f"  {label:52} {took:6.2f} s wall, {cpu:6.2f} s CPU  ({cache.built} of {len(every)} "
                  f"days computed, {processes} process{'es' if processes > 1 else ''})")

        n = workers()
        print(f"  load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        run("cold, one process (before)", paths, 1)
        shutil.rmtree(data / radar.CACHE_DIR)
        run("cold, forked processes (daycache.prefill)", paths, n)
        run("again, unchanged (cache from the day files)", paths, n)
        paths.append(gen.write_day(next_day(days[-1])))
        run("daily (one new day)", paths, n)
        shutil.rmtree(data / radar.CACHE_DIR)
        run("cold again, with the new day", paths, n)


def stored(source: Path, runs: int, backlinked: int = 0) -> None:
    """The radar's share of a build over stored day files (e.g. a bench_archive.py --keep site's
    content/digests), as RadarGenerator does it (radar.write_days): cold (no cache, no output),
    again unchanged, daily (one new day: the last one under the next date), and with --backlinked
    N, N earlier days whose papers only gained related/version links (rewritten by core.store.save,
    as enrich/backlinks.py does daily; the radar reads none of them). The day files are hard-linked
    into a temp folder (never written in place); CPU seconds include the workers'."""
    import os
    import resource
    import time
    from dataclasses import replace

    from arxiv_digest.core.models import Related, VersionRef
    from arxiv_digest.core.store import load, save
    from arxiv_digest.site import radar
    from arxiv_digest.site.daycache import workers

    paths = sorted(p for p in source.rglob("*.json") if re.fullmatch(r"\d{4}-\d{2}-\d{2}\.json", p.name)
                   and ".cache" not in p.parts)
    print(f"stored: {len(paths)} day files from {source}, min of {runs} runs; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    def timed(data: Path, out: Path) -> tuple[float, float, str]:
        files = sorted(p for p in data.rglob("*.json") if ".cache" not in p.parts)
        t, cpu = time.perf_counter(), time.process_time()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        unchanged, computed = radar.write_days(data, [(p, [], p.stem) for p in files], out, workers())
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = time.process_time() - cpu + (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return cpu, time.perf_counter() - t, f"{computed} computed, {unchanged} unchanged in output/"

    results: dict[str, list[tuple[float, float, str]]] = {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            data, out = Path(tmp) / "digests", Path(tmp) / "output" / "radar"
            for p in paths:
                (data / p.parent.name).mkdir(parents=True, exist_ok=True)
                os.link(p, data / p.parent.name / p.name)
            old = time.time() - 3600  # a checkout's files, not ones written a moment ago
            for p in data.rglob("*.json"):
                os.utime(p, (old, old))
            results.setdefault("cold", []).append(timed(data, out))
            results.setdefault("again, unchanged", []).append(timed(data, out))
            last = sorted(data.rglob("*.json"))[-1]
            nxt = (dt.date.fromisoformat(last.stem) + dt.timedelta(days=1)).isoformat()
            new = data / nxt[:4] / f"{nxt}.json"
            new.parent.mkdir(exist_ok=True)
            new.write_text(last.read_text(encoding="utf-8").replace(f'"date": "{last.stem}"', f'"date": "{nxt}"', 1),
                           encoding="utf-8")
            results.setdefault("daily (one new day)", []).append(timed(data, out))
            if backlinked:  # what enrich/backlinks.py does daily: earlier days gain related/version links
                for p in sorted(data.rglob("*.json"))[-backlinked - 1:-1]:
                    d = load(p)
                    save(data, d.with_papers(tuple(
                        replace(q, related=(*q.related, Related(nxt, q.id)),
                                versions=(*q.versions, VersionRef(nxt, q.version + 1))) if i % 3 == 0 else q
                        for i, q in enumerate(d.papers))))
                results.setdefault(f"{backlinked} days backlinked", []).append(timed(data, out))
    for label, got in results.items():
        cpu, wall, what = min(got)
        print(f"  {label:24} {cpu:7.2f} s CPU  {wall:7.2f} s wall  (min of {len(got)}; {what})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, nargs="+", default=[3, 4, 5, 6, 8], help="terms kept a paper")
    ap.add_argument("--min-df", type=int, nargs="+", default=[1, 2],
                    help="papers of the day a term needs to be kept before the others")
    ap.add_argument("--bits", type=int, nargs="+", default=[0], help="hash bits (0: radar.HASH_BITS)")
    ap.add_argument("--per-day", type=int, default=513)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--no-size", action="store_true")
    ap.add_argument("--build-days", type=int, default=0, help="also time the index over this many days")
    ap.add_argument("--stored", type=Path, help="only time the radar over these stored day files (a data folder)")
    ap.add_argument("--runs", type=int, default=3, help="runs of --stored (the minimum is printed)")
    ap.add_argument("--backlinked", type=int, default=0,
                    help="with --stored: also time a build after this many earlier days gained related/version links")
    args = ap.parse_args()
    from arxiv_digest.site import radar

    if args.stored:
        stored(args.stored, args.runs, args.backlinked)
        return
    variants = [(top, min_df, bits or radar.HASH_BITS) for bits in args.bits for min_df in args.min_df
                for top in args.top]
    quality(variants)
    accounting(variants)
    if not args.no_size:
        size(variants, args.per_day, args.seed)
    if args.build_days:
        build(args.build_days, args.per_day, args.seed)


if __name__ == "__main__":
    main()
