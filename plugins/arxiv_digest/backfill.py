"""Backfill: walk a range of announcement days through the arXiv API, resumably and politely.

Each day is one `pipeline.update_day(settings, day=...)`, stored atomically before the next one
starts, so an interrupted backfill keeps every finished day and a re-run skips them (unless
`force`). Requests keep at least ARXIV_DIGEST_REQUEST_DELAY seconds apart across days too: the
fetch layer spaces the pages of one day, this module spaces the days.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import schedule, store
from .errors import DigestError, NoAnnouncementError
from .pipeline import update_day
from .settings import DigestSettings
from .status import day_cost, summary_counts
from .summarize import Summarizer

logger = logging.getLogger(__name__)

STORED, SKIPPED, EMPTY, FAILED = "stored", "skipped", "empty", "failed"


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
        done = {r.day for r in self.results if r.status in (STORED, SKIPPED)}
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
            if last_request_end is not None:
                wait = last_request_end + settings.request_delay - time.monotonic()
                if wait > 0:
                    sleep(wait)
            try:
                outcome = update_day(settings, day=day, now=now, summarizer=summarizer)
            finally:
                last_request_end = time.monotonic()
        except NoAnnouncementError as e:
            result = DayResult(day, EMPTY, message=str(e))
        except DigestError as e:
            report.error = e
            result = DayResult(day, FAILED, message=str(e))
            report.results.append(result)
            listener.day_done(result, report)
            break
        except KeyboardInterrupt:
            report.interrupted = True
            break
        else:
            if outcome.digest is None:  # cannot happen for an announcement day; kept honest
                result = DayResult(day, EMPTY, message=outcome.reason or "nothing stored")
            else:
                counts = summary_counts(outcome.digest, settings)
                result = DayResult(
                    day, STORED, papers=len(outcome.digest.papers), added=outcome.added,
                    summaries=counts.done, cost=day_cost(outcome.digest),
                )
        report.results.append(result)
        listener.day_done(result, report)
    return report


def _skipped(settings: DigestSettings, day: dt.date) -> DayResult:
    try:
        stored = store.load_day(settings.data_dir, day)
    except DigestError as e:  # unreadable: say so, but never overwrite it without --force
        return DayResult(day, SKIPPED, message=f"stored file unreadable ({e}); --force refetches it")
    papers = len(stored.papers) if stored else 0
    done = summary_counts(stored).done if stored else 0
    return DayResult(day, SKIPPED, papers=papers, summaries=done,
                     message="already stored (--force fetches it again)")


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
