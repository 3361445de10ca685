"""update_day(): fetch -> normalize -> tag -> link duplicates and code -> compare versions ->
summarize -> merge -> radar index -> store -> links back into earlier days."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core import schedule, store
from ..core.errors import NoAnnouncementError, StoreError
from ..core.filekeys import FileKeys
from ..core.models import Digest, Paper
from ..core.settings import DigestSettings
from ..enrich import backlinks, claims, dayindex, links, near_duplicates, radarindex, versions
from ..enrich.tagging import DECIDED_BY, Tagger, decide_day, stamp, tagger_for, trusts
from ..summarize import Summarizer, make_summarizer
from ..summarize.day import utc_now
from . import fetch
from .normalize import link_near_duplicates, normalize

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateResult:
    """What an update did: stored a day (path set) or found nothing to publish (reason set)."""

    day: dt.date
    path: Path | None = None
    digest: Digest | None = None
    reason: str | None = None
    added: int = 0


def tag_papers(papers: tuple[Paper, ...], tagger: Tagger) -> tuple[Paper, ...]:
    """Decide each paper's topics: `tags` (the topics it is about, with the words that matched)
    and `topics` (every matched topic: about or mentions, with its evidence)."""
    return tuple(tagger.tag_paper(p) for p in papers)


def recent_titles(settings: DigestSettings, day: dt.date,
                  files: FileKeys | None = None) -> list[tuple[str, str, str]]:
    """(date, id, title) of the papers stored in the lookback window before `day` (from the small
    title index kept beside the day files, rebuilt from a day file when missing or stale)."""
    return near_duplicates.recent_titles(settings.data_dir, day, settings.duplicate_lookback_days,
                                         files)


def build_digest(
    fetched: fetch.FetchedDay, settings: DigestSettings, earlier: list[tuple[str, str, str]] | None = None
) -> Digest:
    """Normalise, tag and link one fetched day into a Digest (pure, no I/O)."""
    started = time.monotonic()
    papers = normalize(fetched.records, settings.categories)
    papers = tag_papers(papers, tagger_for(settings))
    papers = link_near_duplicates(
        papers, settings.duplicate_threshold, fetched.date.isoformat(), earlier or ()
    )
    papers = links.link_papers(papers)  # code, models, data sets, demos, project pages
    papers = claims.extract_papers(papers)  # efficiency claims, each value with its span
    counts = Counter(p.announce_type for p in papers)
    tagged = Counter(t for p in papers for t in p.tags)
    logger.info(
        "%s: %d papers in %s (%s); tagged %s in %.2f s",
        fetched.date, len(papers), ",".join(settings.categories),
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none",
        ", ".join(f"{k} {v}" for k, v in tagged.items()) or "none",
        time.monotonic() - started,
    )
    return Digest(
        date=fetched.date.isoformat(),
        categories=settings.categories,
        source=fetched.source,
        papers=papers,
        announced=dict(counts),
        extra={DECIDED_BY: stamp(settings, papers)},  # the build trusts these decisions
    )


def index_for_radar(digest: Digest) -> Digest:
    """The day with the radar's ranking stored in it (enrich/radarindex.stamp: each paper's terms,
    selected and packed), so the build does not rank every paper of the day again; a day whose
    stored ranking still holds is returned as it is."""
    started = time.monotonic()
    stamped = radarindex.stamp(digest)
    if stamped is not digest:
        logger.info("%s: radar index of %d papers in %.2f s", digest.date, len(digest.papers),
                    time.monotonic() - started)
    return stamped


def fetch_day(
    settings: DigestSettings, day: dt.date | None, now: dt.datetime
) -> fetch.FetchedDay | str:
    """Fetch the latest feed (day None) or backfill a day; a str is why nothing is published."""
    if day is not None:
        reason = schedule.why_no_announcement(day, settings.holidays)
        if reason:
            return reason
        if day > schedule.expected_day(now):
            raise NoAnnouncementError(f"{day} is in the future: arXiv has not announced it yet")
        start, end = schedule.submission_window(day, settings.holidays)
        logger.info("%s covers submissions from %s to %s (UTC)", day, start, end)
        fetched = fetch.fetch_api(settings, day, start, end)
        if not fetched.records:
            raise NoAnnouncementError(
                f"{day}: the arXiv API has no submissions in {', '.join(settings.categories)} "
                f"between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC; nothing stored"
            )
        return fetched
    today = schedule.expected_day(now)
    if today.weekday() >= 5:  # arXiv never announces on weekends: not even a request
        return schedule.why_no_announcement(today) or ""
    # On a listed holiday the feed is still read: should arXiv announce after all, the day is
    # stored rather than silently skipped; a feed still dated before it confirms the holiday.
    fetched = fetch.fetch_rss(settings)
    fetch.refuse_future_feed(fetched, now)  # dated after tomorrow (ET): exit 3, nothing stored
    if fetched.date < today and today in settings.holidays:
        return schedule.why_no_announcement(today, settings.holidays) or ""
    if fetched.date < today:
        raise NoAnnouncementError(
            f"stale feed: arXiv's feed is still dated {fetched.date}, expected {today}; "
            "nothing published (try again later)"
        )
    if not normalize(fetched.records, settings.categories):
        raise NoAnnouncementError(
            f"empty feed: arXiv's feed dated {fetched.date} lists no papers in "
            f"{', '.join(settings.categories)}; nothing published (try again later)"
        )
    return fetched


def _clock(now: dt.datetime | None) -> Callable[[], dt.datetime]:
    """The summarizer's clock: a fixed `now` (the command's --now), else the real time."""
    if now is None:
        return utc_now
    fixed = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    return lambda: fixed


def update_day(
    settings: DigestSettings,
    *,
    day: dt.date | None = None,
    now: dt.datetime | None = None,
    summarizer: Summarizer | None = None,
    resummarize: bool = False,
) -> UpdateResult:
    """Run the whole update for the latest announcement (or `day`) and store it atomically.

    now: the command's clock (`--now`); it also stamps summary failures and decides their backoff.
    """
    clock = _clock(now)
    now = now or dt.datetime.now(dt.UTC)
    fetched = fetch_day(settings, day, now)
    if isinstance(fetched, str):
        logger.info("no announcement: %s", fetched)
        return UpdateResult(day=day or schedule.expected_day(now), reason=fetched)
    return store_fetched(settings, fetched, clock=clock, summarizer=summarizer,
                         resummarize=resummarize)


def store_fetched(
    settings: DigestSettings,
    fetched: fetch.FetchedDay,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    summarizer: Summarizer | None = None,
    resummarize: bool = False,
) -> UpdateResult:
    """Everything update does after the fetch: normalize, decide, link (near-duplicates over the
    lookback, code, claims, versions), then under the day's lock merge, summarize and store, then
    link back from earlier days. bench/bench_archive.py times the daily update through this."""
    # the day files' content keys, found once for both lookbacks (enrich.dayindex)
    files = FileKeys(settings.data_dir)
    digest = build_digest(fetched, settings, recent_titles(settings, fetched.date, files))
    # a replacement whose earlier version is stored: what changed, and that version's day
    digest = versions.link_versions(digest, settings.data_dir, files)
    # read, merge, summarize and write under the day's lock: a second run at the same time waits,
    # then merges into what this one stored (and finds its summaries in the cache: no second bill)
    with store.day_lock(settings.data_dir, digest.date, settings.lock_timeout):
        stored = store.load_day(settings.data_dir, digest.date)
        before = len(stored.papers) if stored else 0
        if stored is not None:  # every paper decided again with this config (see decide_day)
            digest = decide_day(store.merge(stored, digest), settings)
        digest = (summarizer or make_summarizer(settings, clock=clock)).summarize(
            digest, resummarize=resummarize)
        digest = index_for_radar(digest)
        path = store.save(settings.data_dir, digest)
        dayindex.remember(settings.data_dir, path, digest)
    # the other direction, written into the earlier days (each under its own lock, after this
    # day's lock is released): their pages link forward to this day
    backlinks.link_back(settings.data_dir, digest, settings.lock_timeout)
    added = len(digest.papers) - before
    logger.info("%s: stored %d papers (%+d) in %s", digest.date, len(digest.papers), added, path)
    return UpdateResult(day=fetched.date, path=path, digest=digest, added=added)


def summarize_stored(
    settings: DigestSettings,
    days: list[dt.date],
    *,
    summarizer: Summarizer | None = None,
    resummarize: bool = False,
    now: dt.datetime | None = None,
) -> list[tuple[dt.date, Digest, Path]]:
    """Summarize stored days again, without asking arXiv: retries pending and failed summaries.

    now: the command's clock (`--now`): failures are stamped with it and back off from it.
    """
    summarizer = summarizer or make_summarizer(settings, clock=_clock(now))
    out = []
    for day in days:
        missing = StoreError(f"{store.day_path(settings.data_dir, day)}: {day} is not stored")
        if not store.day_path(settings.data_dir, day).exists():
            raise missing  # checked first: no lock file for a day that does not exist
        with store.day_lock(settings.data_dir, day, settings.lock_timeout):
            stored = store.load_day(settings.data_dir, day)
            if stored is None:
                raise missing
            digest = summarizer.summarize(stored, resummarize=resummarize)
            path = store.save(settings.data_dir, digest)
        out.append((day, digest, path))
    return out


@dataclass(frozen=True)
class Restamped:
    """One stored day `restamp_stored` wrote again, and why."""

    day: str
    decided: bool  # its topic decisions no longer held (digest.yaml's topics or the deciding code changed)
    ranked: bool  # its radar ranking was missing or stale (a day stored before it, or another ranking code)


def restamp_stored(settings: DigestSettings, days: list[dt.date] | None = None) -> list[Restamped]:
    """Store again what `update` decides and computes from a stored day alone, where it no longer
    holds: the topic decisions (as the build would make them now) and the radar's ranking
    (enrich/radarindex.py). No request to arXiv or a model; each day under its lock, written only
    when something changed (a failed write leaves the day as it was). `days`: these stored days
    (each must be stored), else every stored day. The build then reads each day as stored
    instead of deciding and ranking it at every cold build."""
    if days is None:
        paths = list(store.iter_days(settings.data_dir))
    else:
        paths = [store.day_path(settings.data_dir, day) for day in days]
        for path in paths:
            if not path.exists():
                raise StoreError(f"{path}: {path.stem} is not stored")
    out = []
    for path in paths:
        with store.day_lock(settings.data_dir, path.stem, settings.lock_timeout):
            stored = store.load(path)
            decided = stored if trusts(stored, settings) else decide_day(stored, settings)
            ranked = radarindex.stamp(decided)
            if ranked is stored:
                continue
            saved = store.save(settings.data_dir, ranked)
            dayindex.remember(settings.data_dir, saved, ranked)
        out.append(Restamped(path.stem, decided is not stored, ranked is not decided))
    return out


def update_preprints(
    settings: DigestSettings,
    server: str,
    *,
    day: dt.date | None = None,
    now: dt.datetime | None = None,
    summarizer: Summarizer | None = None,
    resummarize: bool = False,
) -> UpdateResult:
    """Fetch one posting day of bioRxiv or medRxiv (default: yesterday, UTC) into that day's file.

    They post every day, weekends included, and their day is the posting date. The papers join the
    day's file (arXiv's, when that day has one) under the day's lock, as a re-run of update does.
    """
    from . import fetch_biorxiv  # only this path talks to api.biorxiv.org

    source = settings.listed_source(server)
    now = now or dt.datetime.now(dt.UTC)
    day = day or (now.date() - dt.timedelta(days=1))
    if day > now.date():
        raise NoAnnouncementError(f"{day} is in the future: {server} has not posted it yet")
    papers = tuple(fetch_biorxiv.fetch_day(settings, server, day, source.categories))
    if not papers:
        reason = f"{server} posted nothing in {', '.join(source.categories) or 'any category'} on {day}"
        return UpdateResult(day=day, reason=reason)
    return store_preprints(settings, server, day, papers, now=now, summarizer=summarizer,
                           resummarize=resummarize)


def store_preprints(
    settings: DigestSettings,
    server: str,
    day: dt.date,
    papers: tuple[Paper, ...],
    *,
    now: dt.datetime | None = None,
    summarizer: Summarizer | None = None,
    resummarize: bool = False,
) -> UpdateResult:
    """Tag, link, summarize and store one posting day's fetched preprints into that day's file
    (update --source, and backfill --source for each day of its interval)."""
    date = day.isoformat()
    papers = tag_papers(papers, tagger_for(settings))
    files = FileKeys(settings.data_dir)
    papers = link_near_duplicates(papers, settings.duplicate_threshold, date,
                                  recent_titles(settings, day, files))
    papers = claims.extract_papers(links.link_papers(papers))
    # categories and counts stay arXiv's: the merge keeps the stored day's, and adds these papers
    digest = Digest(date=date, categories=(), source="api", papers=papers,
                    extra={DECIDED_BY: stamp(settings, papers)})
    digest = versions.link_versions(digest, settings.data_dir, files)
    with store.day_lock(settings.data_dir, date, settings.lock_timeout):
        stored = store.load_day(settings.data_dir, date)
        before = len(stored.papers) if stored else 0
        if stored is not None:  # every paper decided again with this config (see decide_day)
            digest = decide_day(store.merge(stored, digest), settings)
        digest = (summarizer or make_summarizer(settings, clock=_clock(now))).summarize(
            digest, resummarize=resummarize)
        digest = index_for_radar(digest)
        path = store.save(settings.data_dir, digest)
        dayindex.remember(settings.data_dir, path, digest)
    backlinks.link_back(settings.data_dir, digest, settings.lock_timeout)
    added = len(digest.papers) - before
    logger.info("%s: %s: stored %d papers (%+d) in %s", date, server, len(digest.papers), added, path)
    return UpdateResult(day=day, path=path, digest=digest, added=added)
