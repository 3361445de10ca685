"""Backfill: walk a range of days through an API, resumably and politely.

arXiv: each announcement day is one `pipeline.update_day(settings, day=...)`, stored atomically
before the next one starts, so an interrupted backfill keeps every finished day and a re-run skips
them (unless `force`). Requests keep at least ARXIV_DIGEST_REQUEST_DELAY seconds apart across days
too: the fetch layer spaces the pages of one day, this module spaces the days.

bioRxiv/medRxiv (`backfill_preprints`): they post every day, weekends included. The days not yet
stored for that server are fetched in runs of up to INTERVAL_DAYS consecutive days, one interval
query per run (`/details/{server}/{from}/{to}/{cursor}`, paged and checked against its reported
total by fetch_biorxiv), then stored day by day (`pipeline.store_preprints`) before the next run.
A day counts as stored for a server when its file holds a paper from that server.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..cli.status import day_cost, summary_counts
from ..core import schedule, store
from ..core.errors import DigestError, NoAnnouncementError
from ..core.models import Digest
from ..core.settings import DigestSettings
from ..summarize import Summarizer
from .pipeline import store_preprints, update_day

logger = logging.getLogger(__name__)

STORED, SKIPPED, EMPTY, FAILED = "stored", "skipped", "empty", "failed"
NO_POSTS = "no posts"  # a preprint server's posting day with nothing in the configured categories
INTERVAL_DAYS = 7  # posting days per interval query (a week of bioRxiv: ~1,500 records, 15 pages)


@dataclass(frozen=True)
class DayResult:
    """What the backfill did with one announcement day."""

    day: dt.date
    status: str  # stored | skipped | empty | failed
    papers: int = 0
    added: int = 0
    summaries: int = 0
    cost: float = 0.0
    message: str = ""


@dataclass
class BackfillReport:
    """The whole run: the days planned, what happened to each, and why it stopped (if it did)."""

    days: list[dt.date]
    results: list[DayResult] = field(default_factory=list)
    error: DigestError | None = None
    interrupted: bool = False

    def count(self, status: str) -> int:
        """How many days ended with this status."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def papers(self) -> int:
        """Papers fetched by this run (skipped days not counted)."""
        return sum(r.papers for r in self.results if r.status == STORED)

    @property
    def summaries(self) -> int:
        """Summaries done on the days this run stored."""
        return sum(r.summaries for r in self.results if r.status == STORED)

    @property
    def cost(self) -> float:
        """LLM spend recorded on the days this run stored."""
        return sum(r.cost for r in self.results if r.status == STORED)

    @property
    def remaining(self) -> list[dt.date]:
        """Planned days not done: not reached, failed, or empty."""
        done = {r.day for r in self.results if r.status in (STORED, SKIPPED, NO_POSTS)}
        return [d for d in self.days if d not in done]

    @property
    def exit_code(self) -> int:
        """0 all done; the error's code when it stopped; 4 when some days had no data yet."""
        if self.interrupted:
            return 130
        if self.error is not None:
            return self.error.exit_code
        if self.count(EMPTY):
            return NoAnnouncementError.exit_code
        return 0


def plan(
    settings: DigestSettings, start: dt.date, end: dt.date | None, now: dt.datetime
) -> tuple[list[dt.date], str | None]:
    """The announcement days from start to end (default: the latest), and a note if clipped."""
    latest = schedule.expected_day(now)
    note = None
    if end is None:
        end = latest
    elif end > latest:
        note = f"{end} is in the future: stopping at {latest}, the latest possible announcement"
        end = latest
    if start > end:
        raise ValueError(f"--from {start} is after --to {end}")
    return schedule.announcement_days(start, end, settings.holidays), note


class Listener:
    """Receives progress; the default does nothing (the CLI shows a progress bar)."""

    def day_started(self, day: dt.date, index: int) -> None:
        """A day is about to be fetched or skipped."""

    def day_done(self, result: DayResult, report: BackfillReport) -> None:
        """A day finished (stored, skipped, empty or failed)."""


def backfill(
    settings: DigestSettings,
    days: list[dt.date],
    *,
    force: bool = False,
    now: dt.datetime | None = None,
    summarizer: Summarizer | None = None,
    listener: Listener | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> BackfillReport:
    """Fetch and store each day in order; stop at the first fetch or storage failure."""
    listener = listener or Listener()
    report = BackfillReport(days=list(days))
    last_request_end: float | None = None
    for index, day in enumerate(days):
        listener.day_started(day, index)
        if not force and store.day_path(settings.data_dir, day).exists():
            result = _skipped(settings, day)
            report.results.append(result)
            listener.day_done(result, report)
            continue
        try:
            _space(last_request_end, settings.request_delay, sleep)
            try:
                outcome = update_day(settings, day=day, now=now, summarizer=summarizer)
            finally:
                last_request_end = time.monotonic()
        except NoAnnouncementError as e:
            result = DayResult(day, EMPTY, message=str(e))
        except DigestError as e:
            _failed(report, listener, day, e)
            break
        except KeyboardInterrupt:
            report.interrupted = True
            break
        else:
            if outcome.digest is None:  # cannot happen for an announcement day; kept honest
                result = DayResult(day, EMPTY, message=outcome.reason or "nothing stored")
            else:
                result = _stored(settings, day, outcome.digest, len(outcome.digest.papers),
                                 outcome.added)
        report.results.append(result)
        listener.day_done(result, report)
    return report


def _space(last_request_end: float | None, delay: float, sleep: Callable[[float], Any]) -> None:
    """Wait until `delay` seconds have passed since the last request ended (none: no wait)."""
    if last_request_end is not None:
        wait = last_request_end + delay - time.monotonic()
        if wait > 0:
            sleep(wait)


def _stored(settings: DigestSettings, day: dt.date, digest: Digest, papers: int, added: int) -> DayResult:
    """The STORED result of a day: its papers, what was added, summaries done and the day's cost."""
    return DayResult(day, STORED, papers=papers, added=added,
                     summaries=summary_counts(digest, settings).done, cost=day_cost(digest))


def _failed(report: BackfillReport, listener: Listener, day: dt.date, e: DigestError) -> None:
    """Record the failure that stops the backfill."""
    report.error = e
    result = DayResult(day, FAILED, message=str(e))
    report.results.append(result)
    listener.day_done(result, report)


def _unreadable(day: dt.date, e: DigestError) -> DayResult:
    return DayResult(day, SKIPPED, message=f"stored file unreadable ({e}); --force refetches it")


def _skipped(settings: DigestSettings, day: dt.date) -> DayResult:
    try:
        stored = store.load_day(settings.data_dir, day)
    except DigestError as e:  # unreadable: say so, but never overwrite it without --force
        return _unreadable(day, e)
    papers = len(stored.papers) if stored else 0
    done = summary_counts(stored).done if stored else 0
    return DayResult(day, SKIPPED, papers=papers, summaries=done,
                     message="already stored (--force fetches it again)")


# -- bioRxiv / medRxiv ------------------------------------------------------------------------------


def plan_posting_days(start: dt.date, end: dt.date | None, now: dt.datetime
                      ) -> tuple[list[dt.date], str | None]:
    """Every day from start to end (default: yesterday, UTC, the last complete posting day), and
    a note if clipped: a preprint server posts every day, weekends and holidays included."""
    latest = now.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    note = None
    if end is None:
        end = latest
    elif end > latest:
        note = f"{end} is not over yet: stopping at {latest}, the last complete posting day"
        end = latest
    if start > end:
        raise ValueError(f"--from {start} is after --to {end}")
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)], note


def source_papers(digest: Digest | None, server: str) -> int:
    """How many of a stored day's papers come from this source."""
    return sum(1 for p in digest.papers if p.source == server) if digest else 0


def _stored_for(settings: DigestSettings, server: str, day: dt.date) -> DayResult | None:
    """The SKIPPED result for a day whose file already holds this server's papers, else None."""
    if not store.day_path(settings.data_dir, day).exists():
        return None
    try:
        stored = store.load_day(settings.data_dir, day)
    except DigestError as e:  # unreadable: never merged into without --force
        return _unreadable(day, e)
    n = source_papers(stored, server)
    if not n:
        return None
    return DayResult(day, SKIPPED, papers=n, message=f"{server} already stored (--force fetches it again)")


def _runs(days: list[dt.date], size: int) -> list[list[dt.date]]:
    """Consecutive days in runs of at most `size`."""
    out: list[list[dt.date]] = []
    for d in days:
        if out and len(out[-1]) < size and out[-1][-1] + dt.timedelta(days=1) == d:
            out[-1].append(d)
        else:
            out.append([d])
    return out


def backfill_preprints(
    settings: DigestSettings,
    server: str,
    days: list[dt.date],
    *,
    force: bool = False,
    now: dt.datetime | None = None,
    summarizer: Summarizer | None = None,
    listener: Listener | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    interval_days: int = INTERVAL_DAYS,
) -> BackfillReport:
    """Fetch a server's posting days by interval queries and store each day; stop at the first
    fetch or storage failure (the days stored so far are kept; a re-run skips them)."""
    from . import fetch_biorxiv  # only this path talks to api.biorxiv.org

    source = settings.listed_source(server)
    listener = listener or Listener()
    report = BackfillReport(days=list(days))
    todo = []
    for index, day in enumerate(days):
        skipped = None if force else _stored_for(settings, server, day)
        if skipped is None:
            todo.append(day)
            continue
        listener.day_started(day, index)
        report.results.append(skipped)
        listener.day_done(skipped, report)
    last_request_end: float | None = None
    where = ", ".join(source.categories) or "any category"
    for run in _runs(todo, max(1, interval_days)):
        listener.day_started(run[0], days.index(run[0]))
        try:
            _space(last_request_end, settings.request_delay, sleep)
            try:
                posted = fetch_biorxiv.fetch_posting_days(settings, server, run[0], run[-1],
                                                          source.categories)
            finally:
                last_request_end = time.monotonic()
            for day in run:
                listener.day_started(day, days.index(day))
                papers = posted.get(day, [])
                if not papers:
                    result = DayResult(day, NO_POSTS, message=f"{server} posted nothing in {where}")
                else:
                    outcome = store_preprints(settings, server, day, tuple(papers), now=now,
                                              summarizer=summarizer)
                    assert outcome.digest is not None  # store_preprints always stores
                    result = _stored(settings, day, outcome.digest, len(papers), outcome.added)
                report.results.append(result)
                listener.day_done(result, report)
        except DigestError as e:
            done = {r.day for r in report.results}
            _failed(report, listener, next((d for d in run if d not in done), run[0]), e)
            break
        except KeyboardInterrupt:
            report.interrupted = True
            break
    return report


def describe(result: DayResult) -> str:
    """One line per day for the log."""
    if result.status == STORED:
        return (
            f"{result.day}  stored   {result.papers:>5} papers ({result.added:+d})  "
            f"{result.summaries} summaries  ${result.cost:.4f}"
        )
    if result.status == SKIPPED:
        return f"{result.day}  skipped  {result.papers:>5} papers, {result.message}"
    if result.status == EMPTY:
        return f"{result.day}  empty    {result.message}"
    if result.status == NO_POSTS:
        return f"{result.day}  no posts {result.message}"
    return f"{result.day}  FAILED   {result.message}"


class RichListener(Listener):
    """A rich progress bar: day, papers fetched, summaries done, cost so far; a line per day."""

    def __init__(self, console: Any, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.fields[day]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "{task.fields[papers]:,} papers · {task.fields[summaries]:,} summaries · "
                "${task.fields[cost]:.4f}"
            ),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task(
            "backfill", total=total, day="starting", papers=0, summaries=0, cost=0.0
        )

    def __enter__(self) -> RichListener:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def day_started(self, day: dt.date, index: int) -> None:
        """Show the day being fetched."""
        self.progress.update(self.task, day=day.isoformat())

    def day_done(self, result: DayResult, report: BackfillReport) -> None:
        """Advance the bar and print the day's line above it."""
        self.progress.console.print(describe(result), markup=False, highlight=False)
        self.progress.update(
            self.task, advance=1, papers=report.papers, summaries=report.summaries,
            cost=report.cost,
        )
