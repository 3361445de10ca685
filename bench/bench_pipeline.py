"""Benchmark the offline stages of `update` on the real 2024-11-28 feed (1504 items, 513 ours).

Prints each stage's time, and the near-duplicate search with and without 30 stored days of titles
side by side (the ratio is what the lookback costs). Run: .venv/bin/python bench/bench_pipeline.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from arxiv_digest.fetch import parse_rss  # noqa: E402
from arxiv_digest.normalize import link_near_duplicates, normalize  # noqa: E402
from arxiv_digest.pipeline import tag_papers  # noqa: E402
from arxiv_digest.settings import load_settings  # noqa: E402
from arxiv_digest.tagging import Tagger, compile_term  # noqa: E402
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


def main() -> None:
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


if __name__ == "__main__":
    main()
