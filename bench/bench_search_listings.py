"""Pagefind's peak memory for the search index at real listing density (issue 11: <= 500 MB).

A real announcement day lists about 17 papers at 500 papers a day (the generated archive lists
about 7), and about 50 at 1,500 a day (all of cs). A closed year then holds ~4,250 listing
records, or ~12,750, in one bundle. This bench builds a site of synthetic day pages filled with
real listed cards (each card's HTML taken whole from a built archive's day pages: real titles,
authors, summaries, abstracts, topics and categories; a card is given a paper page path of its
own so every record is distinct; past the pool's size cards repeat with new paths, which grows
the postings but not the vocabulary) and a stub paper page per record (listing records stand for
listed paper pages), then runs scripts/search_index.py as the Makefile does (listings records,
the tiered periods, a cold cache) and prints each bundle's record count and its Pagefind
process's peak RSS (os.wait4), with the whole run's CPU seconds (user + sys, Pagefind included)
and the most Pagefind memory at once, for each density, side by side: with the script's default
split of a period by record count (--max-records), and without it (--max-records 0, as before).

--hidden models instead how many superseded records periods.json names ("hide") after N years,
with the script's own period rules: R papers listed again a day (default 5), each first listed
as long before as a replacement on the real 2024-11-28 feed was first submitted (its arXiv id's
month; ../shared/fixtures/arxiv/rss_all-archives_2024-11-28.xml), counted before (every listing
in another period than the newer one is hidden for good) and now (a closed year leaves out what
the next closed year lists again).

--browser-site DIR makes instead one site at --per-day's first density over --days weekdays from
2021-01-04, with --relisted papers a day listed again (their earlier records superseded, as the
real feed's replacement ages say), the source's search page and theme, indexed as the Makefile
does, for the search page's timings over real density and real superseded records:

    bench_search_listings.py --source OUT --browser-site DIR --per-day 17 --days 1000
    bench_search.py --browser-only --keep DIR --days 1000 --network fast4g --static ... --search-page ...

(--search-page: a search page built by this checkout's theme, when OUT's is older.)

Run (the source is any built archive's output/ with day pages, e.g. 1,000 generated days):
    .venv/bin/python bench/bench_search_listings.py --source OUT [--per-day 17 50] [--days 265]
    .venv/bin/python bench/bench_search_listings.py --hidden [--relisted 5]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "plugins"))

from bench_archive import LAUNCHER  # noqa: E402 (the small launcher whose child's rusage is measured)

INDEXED = re.compile(r"search: indexed (\S+) \((\d+) pages\) in ([\d.]+) s, peak (\d+) MB")
AT_ONCE = re.compile(r"at most (\d+) MB of Pagefind at once")
PAPER_HREF = re.compile(rb'href="/papers/[^"/]+/"')
CARD_ID = re.compile(rb'(<article class="paper[^"]*" id=")[^"]+(")')


def harvest(source: Path) -> list[bytes]:
    """Every listed card (article.paper with a paper-page link) of the source's day pages, as HTML."""
    cards: list[bytes] = []
    for page in sorted(source.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/index.html")):
        root = lxml.html.fromstring(page.read_bytes())
        for card in root.iter("article"):
            if "paper" in (card.get("class") or "").split() and card.find(".//a[@class='paper-page']") is not None:
                cards.append(lxml.html.tostring(card))
    return cards


def weekdays(first: date, n: int) -> Iterator[date]:
    """n announcement days (Monday to Friday) from `first` on."""
    day = first
    while n:
        if day.weekday() < 5:
            yield day
            n -= 1
        day += timedelta(days=1)


def make_site(site: Path, cards: list[bytes], per_day: int, days: int) -> int:
    """Day pages of `per_day` real cards each over `days` weekdays from 2023-01-02 (the last few in
    2024, so 2023 is a closed year), a stub paper page per card; the number of records."""
    n = 0
    for day in weekdays(date(2023, 1, 2), days):
        iso = day.isoformat()
        folder = site / iso[:4] / iso[5:7] / iso[8:]
        folder.mkdir(parents=True)
        body = []
        for _ in range(per_day):
            pid = f"s{n:06d}"
            card = cards[n % len(cards)]
            card = CARD_ID.sub(rb"\g<1>" + pid.encode() + rb"\g<2>", card, count=1)
            body.append(PAPER_HREF.sub(b'href="/papers/' + pid.encode() + b'/"', card))
            paper = site / "papers" / pid
            paper.mkdir(parents=True)
            (paper / "index.html").write_text(
                f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{pid}</title></head><body>'
                f'<article class="paper-page" data-pagefind-body data-pagefind-sort="date:{iso}">'
                f"<h1>{pid}</h1></article></body></html>", encoding="utf-8")
            n += 1
        url = f"/{iso[:4]}/{iso[5:7]}/{iso[8:]}/"
        (folder / "index.html").write_bytes(
            b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>' + iso.encode()
            + b'</title></head><body><main><article class="day" data-url="' + url.encode()
            + b'" data-date="' + iso.encode() + b'"><h1>' + iso.encode() + b"</h1>\n"
            + b"\n".join(body) + b"\n</article></main></body></html>\n")
    return n




def replacement_ages() -> list[int]:
    """Months between each replacement on the real 2024-11-28 feed and its first submission (its
    arXiv id's month)."""
    feed = FEED if FEED.is_file() else Path("/work/shared/fixtures/arxiv") / FEED.name
    ages = []
    for item in re.findall(r"<item>(.*?)</item>", feed.read_text(encoding="utf-8"), re.S):
        kind = re.search(r"<arxiv:announce_type>(.*?)<", item)
        ident = re.search(r"oai:arXiv.org:(\d{2})(\d{2})\.", item)
        if kind and kind.group(1).startswith("replace") and ident:
            ages.append((24 - int(ident.group(1))) * 12 + 11 - int(ident.group(2)))
    return ages


def browser_site(where: Path, source: Path, cards: list[bytes], per_day: int, days: int, relisted: int) -> None:
    """A site for bench_search.py --browser-only (WHERE/days<N>/ours/output, its index as
    WHERE/days<N>/pagefind-tiered): `days` weekdays from 2021-01-04 of `per_day` real cards each,
    `relisted` of them a day a paper listed before (as long before as the real feed's
    replacements were first submitted: the same paper page, so its earlier listing is
    superseded), stub paper pages, and the source's search page and theme; indexed as the
    Makefile does."""
    import random

    rng = random.Random(1)
    ages = replacement_ages()
    base = where / f"days{days}"
    site = base / "ours" / "output"
    shutil.rmtree(base, ignore_errors=True)
    site.mkdir(parents=True)
    shutil.copytree(source / "search", site / "search")
    shutil.copytree(source / "theme", site / "theme")
    listed: list[tuple[date, str, bytes]] = []  # every first listing: day, paper id, card
    dates: list[date] = []  # their days, for bisect
    n = relists = 0
    for day in weekdays(date(2021, 1, 4), days):
        iso = day.isoformat()
        body = []
        for k in range(per_day):
            first = day - timedelta(days=int(rng.choice(ages) * 30.4 + rng.random() * 30)) if k < relisted else None
            upto = bisect.bisect_right(dates, first) if first is not None else 0
            if upto:  # one of the papers first listed by then (around that day)
                _, pid, card = listed[upto - 1 - rng.randrange(min(upto, 40))]
                relists += 1
            else:
                pid = f"s{n:06d}"
                card = cards[n % len(cards)]
                card = CARD_ID.sub(rb"\g<1>" + pid.encode() + rb"\g<2>", card, count=1)
                card = PAPER_HREF.sub(b'href="/papers/' + pid.encode() + b'/"', card)
                listed.append((day, pid, card))
                dates.append(day)
                paper = site / "papers" / pid
                paper.mkdir(parents=True)
                (paper / "index.html").write_text(
                    f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{pid}</title></head>'
                    f'<body><article class="paper-page" data-pagefind-body data-pagefind-sort="date:{iso}">'
                    f"<h1>{pid}</h1></article></body></html>", encoding="utf-8")
                n += 1
            body.append(card)
        url = f"/{iso[:4]}/{iso[5:7]}/{iso[8:]}/"
        folder = site / iso[:4] / iso[5:7] / iso[8:]
        folder.mkdir(parents=True)
        (folder / "index.html").write_bytes(
            b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>' + iso.encode()
            + b'</title></head><body><main><article class="day" data-url="' + url.encode()
            + b'" data-date="' + iso.encode() + b'"><h1>' + iso.encode() + b"</h1>\n"
            + b"\n".join(body) + b"\n</article></main></body></html>\n")
    wall, cpu, rss, _ = index(site, base / "cache", [])
    os.replace(site / "pagefind", base / "pagefind-tiered")
    data = json.loads((base / "pagefind-tiered" / "periods.json").read_text(encoding="utf-8"))
    print(f"{days} days, {per_day} listed a day ({relisted} of them listed before): {n:,} papers, "
          f"{relists:,} listed again; indexed in {wall:.1f} s ({cpu:.1f} CPU s, peak {rss:.0f} MB); "
          f"{len(data['periods'])} bundles {' '.join(data['periods'])}; {len(data.get('hide', [])):,} hidden, "
          f"{len(data.get('check', {})):,} checked; filter file {data.get('hidden_filters')}")


def index(site: Path, cache: Path, extra: list[str]) -> tuple[float, float, float, str]:
    """Run the script (a cold cache); wall s, CPU s (Pagefind included), peak RSS of any process
    in the tree (MB), and its log. Forked by a small launcher so this process's size is not counted."""
    shutil.rmtree(cache, ignore_errors=True)
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, rss.name, sys.executable,
                               str(ROOT / "scripts" / "search_index.py"), "--site", str(site),
                               "--cache", str(cache), "--records", "listings", *extra],
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(f"search_index.py failed:\n{proc.stdout}{proc.stderr}")
        maxrss, cpu = (Path(rss.name).read_text() or "0 0").split()
    return wall, float(cpu), int(maxrss) / 1024, proc.stdout + proc.stderr


FEED = ROOT.parent / "shared" / "fixtures" / "arxiv" / "rss_all-archives_2024-11-28.xml"


def hidden_model(relisted: int) -> None:
    """Hidden ids after 2, 4 and 8 years of days, before and now (see the module docstring)."""
    import random

    sys.path.insert(0, str(ROOT / "scripts"))
    import search_index as si

    ages = replacement_ages()  # months between a replacement's announcement (2024-11) and its first submission
    print(f"{len(ages)} replacements on the real feed: {sum(a <= 12 for a in ages) / len(ages):.0%} first "
          f"submitted within a year, {sum(a <= 24 for a in ages) / len(ages):.0%} within two")
    for years in (2, 4, 8):
        rng = random.Random(1)
        days = list(weekdays(date(2021, 1, 4), 260 * years))
        newest = days[-1].isoformat()[:7]
        before = now = 0
        for day in days:
            for _ in range(relisted):
                first = day - timedelta(days=int(rng.choice(ages) * 30.4 + rng.random() * 30))
                if first < days[0]:
                    continue
                old = si.period_of(first.isoformat()[:7], newest)
                new = si.period_of(day.isoformat()[:7], newest)
                if old != new:
                    before += 1
                    closed_next = len(old) == len(new) == 4 and int(new) == int(old) + 1 and new < newest[:4]
                    now += not closed_next
        print(f"  {years} years ({len(days):,} days, {relisted} relisted a day): hidden ids before {before:,} "
              f"(~{before * 13 / 1000:.0f} kB), now {now:,} (~{now * 13 / 1000:.0f} kB)")


def main(argv: list[str] | None = None) -> None:
    """Measure each density with the split by record count and without it, side by side."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=None,
                    help="a built archive's output/ (its day pages' cards), e.g. bench_archive.py --keep DIR's "
                         "DIR/days1000/ours/output")
    ap.add_argument("--per-day", type=int, nargs="+", default=[17, 50], help="listed papers a day")
    ap.add_argument("--days", type=int, default=255, help="announcement days from 2023-01-02 (255: 2023 closed)")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir, removed)")
    ap.add_argument("--runs", type=int, default=1, help="runs of each (min/median printed)")
    ap.add_argument("--modes", nargs="+", default=["split", "whole"], choices=["split", "whole"])
    ap.add_argument("--hidden", action="store_true", help="model the hidden ids instead (no Pagefind)")
    ap.add_argument("--relisted", type=int, default=5,
                    help="with --hidden or --browser-site: papers listed again a day")
    ap.add_argument("--browser-site", type=Path, default=None,
                    help="instead: make a site at real density with --relisted papers a day listed again "
                         "(--per-day's first value, --days from 2021-01-04) and its index, for "
                         "bench_search.py --browser-only --keep BROWSER_SITE --days N")
    args = ap.parse_args(argv)
    if args.hidden:
        hidden_model(args.relisted)
        return
    if args.source is None:
        ap.error("--source OUT is needed: a built archive's output/ with day pages")
    cards = harvest(args.source)
    if not cards:
        raise SystemExit(f"no listed cards in {args.source}")
    print(f"{len(cards):,} real listed cards from {args.source}")
    if args.browser_site is not None:
        browser_site(args.browser_site, args.source, cards, args.per_day[0], args.days, args.relisted)
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-search-density-"))
    modes = {"split": [], "whole": ["--max-records", "0"]}
    try:
        for per_day in args.per_day:
            site = work / f"site-{per_day}"
            shutil.rmtree(site, ignore_errors=True)
            n = make_site(site, cards, per_day, args.days)
            print(f"\n== {per_day} listed a day, {args.days} days: {n:,} records "
                  f"({'cards repeat' if n > len(cards) else 'all distinct cards'})")
            for mode in args.modes:
                runs = [index(site, work / "cache", modes[mode]) for _ in range(args.runs)]
                walls, cpus = sorted(r[0] for r in runs), sorted(r[1] for r in runs)
                log = runs[0][3]
                bundles = INDEXED.findall(log)
                at_once = AT_ONCE.search(log)
                worst = max(int(b[3]) for b in bundles)
                print(f"  {mode:5} ({' '.join(modes[mode]) or 'default'}): {len(bundles)} bundles, "
                      f"largest Pagefind peak {worst} MB, at once {at_once.group(1) if at_once else worst} MB; "
                      f"wall {walls[0]:.1f}/{walls[len(walls) // 2]:.1f} s, "
                      f"CPU {cpus[0]:.1f}/{cpus[len(cpus) // 2]:.1f} s (min/median of {len(runs)})")
                for period, pages, secs, peak in sorted(bundles, key=lambda b: b[0]):
                    print(f"      {period:15} {int(pages):6,} records  {float(secs):5.1f} s  peak {int(peak):5} MB "
                          f"({int(peak) / max(1, int(pages)) * 1000:.0f} kB a record)")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n(load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
