"""What is stored: days, gaps on announcement days, summaries still to do, and spend per month.

Gaps are counted per source, each by its own schedule: arXiv's announcement days (no weekends or
holidays) over the days whose file holds arXiv's listing, and every calendar day for bioRxiv and
medRxiv (they post daily) over the days whose file holds that server's papers.

The summaries and their ledger belong to the summarize stage; this module only reads them, and
reads them defensively: a paper's summary may be missing (None), a mapping with a "failure", or a
pending marker, and the day's ledger (Digest.extra["ledger"]) may be a mapping of totals, a mapping
per model, or a list of calls.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import schedule, store
from ..core.errors import StoreError
from ..core.models import Digest, Paper
from ..core.settings import DigestSettings
from ..enrich.links import has_artefacts
from ..enrich.tagging import listing

logger = logging.getLogger(__name__)

# Keys under which a cost in US dollars may be recorded, most specific first.
COST_KEYS = ("cost_usd", "total_cost_usd", "total_cost", "cost", "usd")
TOTAL_KEYS = ("total", "totals")


def summary_state(summary: Any) -> str:
    """'done', 'failed' or 'pending' for one paper's summary mapping (None is pending)."""
    if not isinstance(summary, Mapping) or not summary:
        return "pending"
    if summary.get("failure") or summary.get("error") or summary.get("status") in ("failed", "error"):
        return "failed"
    if summary.get("pending") or summary.get("status") == "pending":
        return "pending"
    return "done"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().lstrip("$"))
        except ValueError:
            return None
    return None


def ledger_cost(ledger: Any) -> float:
    """The US dollars a ledger records, whatever its shape, counting nothing twice."""
    if isinstance(ledger, Mapping):
        for key in COST_KEYS:
            if key in ledger:
                value = _number(ledger[key])
                if value is not None:
                    return value
        for key in TOTAL_KEYS:
            if isinstance(ledger.get(key), Mapping):
                return ledger_cost(ledger[key])
        return sum(ledger_cost(v) for v in ledger.values() if isinstance(v, (Mapping, list)))
    if isinstance(ledger, list):
        return sum(ledger_cost(v) for v in ledger)
    return 0.0


def day_cost(digest: Digest) -> float:
    """The day's LLM spend: its ledger, or else the costs recorded on its papers' summaries."""
    ledger = digest.extra.get("ledger")
    if ledger:
        return ledger_cost(ledger)
    return sum(ledger_cost(p.summary) for p in digest.papers if isinstance(p.summary, Mapping))


@dataclass(frozen=True)
class SummaryCounts:
    """How many of a day's papers have a summary, are waiting for one, or failed."""

    done: int = 0
    pending: int = 0
    failed: int = 0

    def __add__(self, other: SummaryCounts) -> SummaryCounts:
        return SummaryCounts(
            self.done + other.done, self.pending + other.pending, self.failed + other.failed
        )

    @property
    def todo(self) -> int:
        """Papers the next update will try to summarize again."""
        return self.pending + self.failed


def wants_summary(paper: Paper, settings: DigestSettings | None) -> bool:
    """Whether the summarize stage summarizes this paper: the ones the day page lists.

    Decided as the page decides (tagging.listing: the current topics and any model verdict that
    still holds), so `status`, `summarize` and the page agree after a change to digest.yaml.
    """
    if settings is None:
        return True
    return listing(paper, settings).listed


def summary_counts(digest: Digest, settings: DigestSettings | None = None) -> SummaryCounts:
    """Count the day's summaries: done, and (among the papers it lists) pending or failed; in
    the settings' language (DEFAULT_LANG: an edition counts its own summaries)."""
    done = pending = failed = 0
    for p in digest.papers:
        state = summary_state(p.summary_in(settings.llm.lang) if settings is not None else p.summary)
        if state == "done":
            done += 1
        elif wants_summary(p, settings):
            pending += state == "pending"
            failed += state == "failed"
    return SummaryCounts(done, pending, failed)


@dataclass
class MonthSpend:
    """One month of stored days: how many, papers, summaries done and dollars spent."""

    days: int = 0
    papers: int = 0
    summaries: int = 0
    cost: float = 0.0


@dataclass
class SourceStatus:
    """A preprint server's stored posting days (files holding its papers) and the days missing."""

    name: str
    days: list[dt.date] = field(default_factory=list)
    papers: int = 0
    gaps: list[dt.date] = field(default_factory=list)
    gaps_from: dt.date | None = None
    latest_expected: dt.date | None = None  # the last complete posting day (yesterday, UTC)


@dataclass
class Status:
    """Everything `status` reports."""

    days: list[dt.date] = field(default_factory=list)
    papers: int = 0
    summaries: SummaryCounts = field(default_factory=SummaryCounts)
    todo_days: list[tuple[dt.date, int]] = field(default_factory=list)  # days with work left
    gaps: list[dt.date] = field(default_factory=list)
    months: dict[str, MonthSpend] = field(default_factory=dict)
    broken: list[tuple[Path, str]] = field(default_factory=list)
    stale_temp: list[Path] = field(default_factory=list)  # left by killed writes
    latest_expected: dt.date | None = None
    gaps_from: dt.date | None = None  # where gaps are counted from: the start date, or the first stored day
    # (day, listed papers that link code/a model/data/a demo, listed papers): code-link coverage
    code: list[tuple[dt.date, int, int]] = field(default_factory=list)
    arxiv_days: list[dt.date] = field(default_factory=list)  # days whose file holds arXiv's listing
    sources: dict[str, SourceStatus] = field(default_factory=dict)  # bioRxiv, medRxiv

    @property
    def cost(self) -> float:
        """Total spend over every stored day."""
        return sum(m.cost for m in self.months.values())


def collect(settings: DigestSettings, now: dt.datetime | None = None) -> Status:
    """Read every stored day (an unreadable file is reported, never fatal)."""
    now = now or dt.datetime.now(dt.UTC)
    status = Status()
    for source in settings.sources:
        if source.name != "arxiv":
            status.sources[source.name] = SourceStatus(source.name)
    if settings.data_dir.is_dir():
        status.stale_temp = sorted(settings.data_dir.glob("[0-9][0-9][0-9][0-9]/.*.json.*.tmp"))
    for path in store.iter_days(settings.data_dir):
        try:
            digest = store.load(path)
        except StoreError as e:
            status.broken.append((path, str(e)))
            continue
        day = dt.date.fromisoformat(digest.date)  # validated by store.load
        status.days.append(day)
        per_source = Counter(p.source for p in digest.papers)
        if digest.categories or per_source["arxiv"]:  # a preprint-only day is no arXiv day
            status.arxiv_days.append(day)
        for name, n in per_source.items():
            if name != "arxiv":
                src = status.sources.setdefault(name, SourceStatus(name))
                src.days.append(day)
                src.papers += n
        counts = summary_counts(digest, settings)
        status.papers += len(digest.papers)
        status.summaries += counts
        if counts.todo:
            status.todo_days.append((day, counts.todo))
        month = status.months.setdefault(digest.date[:7], MonthSpend())
        month.days += 1
        month.papers += len(digest.papers)
        month.summaries += counts.done
        month.cost += day_cost(digest)
        listed = [p for p in digest.papers if wants_summary(p, settings)]
        status.code.append((day, sum(1 for p in listed if has_artefacts(p.links)), len(listed)))
    status.days.sort()
    status.arxiv_days.sort()
    _preprint_gaps(status, settings, now)
    today = schedule.expected_day(now)
    latest = today
    while not schedule.is_announcement_day(latest, settings.holidays):
        latest -= dt.timedelta(days=1)
    status.latest_expected = latest
    # a configured start date bounds the gaps (a fresh clone holds one old sample day: counting from
    # it would ask for years of backfill); without one they count from the first stored day
    status.gaps_from = settings.start_date or (status.arxiv_days[0] if status.arxiv_days else None)
    if status.gaps_from is not None and status.gaps_from <= latest:
        stored = set(status.arxiv_days)
        status.gaps = [
            d for d in schedule.announcement_days(status.gaps_from, latest, settings.holidays)
            if d not in stored
        ]
    return status


def _preprint_gaps(status: Status, settings: DigestSettings, now: dt.datetime) -> None:
    """Each preprint server's missing posting days: every calendar day from the start date (or its
    first stored day) to yesterday (UTC) whose file holds none of its papers."""
    latest = now.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    for src in status.sources.values():
        src.days.sort()
        src.latest_expected = latest
        src.gaps_from = settings.start_date or (src.days[0] if src.days else None)
        if src.gaps_from is None or src.gaps_from > latest:
            continue
        stored = set(src.days)
        src.gaps = [d for d in (src.gaps_from + dt.timedelta(days=i)
                                for i in range((latest - src.gaps_from).days + 1)) if d not in stored]


def ranges(days: Sequence[dt.date], holidays: Iterable[dt.date] = ()) -> list[tuple[dt.date, dt.date]]:
    """Group days into runs of consecutive announcement days: [(first, last), ...]."""
    hol = frozenset(holidays)
    out: list[tuple[dt.date, dt.date]] = []
    for d in sorted(days):
        if out:
            first, last = out[-1]
            nxt = last + dt.timedelta(days=1)
            while not schedule.is_announcement_day(nxt, hol) and nxt < d:
                nxt += dt.timedelta(days=1)
            if nxt == d:
                out[-1] = (first, d)
                continue
        out.append((d, d))
    return out


def format_ranges(spans: list[tuple[dt.date, dt.date]]) -> str:
    """'2026-10-12, 2026-10-15..2026-10-16'"""
    return ", ".join(a.isoformat() if a == b else f"{a}..{b}" for a, b in spans)


def report(status: Status, settings: DigestSettings, console: Any) -> None:
    """Print the status for a maintainer (a rich Console: colours on a terminal, plain in logs)."""
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[bold]arxiv-digest[/] data in {settings.data_dir}")
    if not status.days:
        console.print("stored days: none yet (run `make update`, or `make backfill FROM=... TO=...`)")
    else:
        console.print(
            f"stored days: {len(status.days)} ({status.days[0]} .. {status.days[-1]}), "
            f"{status.papers:,} papers"
        )
    latest = status.latest_expected
    if latest is not None:
        state = "stored" if latest in status.arxiv_days else "[yellow]not stored yet[/]: run `make update`"
        console.print(f"latest announcement day: {latest} ({state})")
    since = (f"since ARXIV_DIGEST_START_DATE {settings.start_date}" if settings.start_date
             else "since the first stored day")
    if status.gaps:
        spans = ranges(status.gaps, settings.holidays)
        console.print(
            f"[yellow]gaps[/]: {len(status.gaps)} announcement day(s) not stored {since}: "
            f"{format_ranges(spans)}"
        )
        console.print(
            f"  fill them: make backfill FROM={status.gaps[0]} TO={status.gaps[-1]}"
            "  (stored days are skipped)"
        )
        if settings.start_date is None:
            console.print(
                "  or start the archive later: set ARXIV_DIGEST_START_DATE = \"YYYY-MM-DD\" in "
                "pelicanconf.py (days before it are not counted)"
            )
    elif status.arxiv_days:
        console.print("gaps: none")
    for src in status.sources.values():
        _report_source(src, settings, console)
    s = status.summaries
    line = f"summaries: {s.done:,} done, {s.pending:,} pending, {s.failed:,} failed"
    if s.todo:
        worst = sorted(status.todo_days, key=lambda x: (-x[1], x[0]))[:5]
        line += " (the next update of a day retries them; most: " + ", ".join(
            f"{d} {n}" for d, n in worst) + ")"
    console.print(line)
    if status.code:
        recent = sorted(status.code)[-7:]
        with_code, listed = sum(c for _, c, _ in status.code), sum(n for _, _, n in status.code)
        console.print(
            "code links (listed papers that link code, a model, data or a demo): "
            + ", ".join(f"{d} {c}/{n}" for d, c, n in recent)
            + (f"; all {len(status.code)} days {with_code:,}/{listed:,}" if len(status.code) > 7 else "")
            + (f" ({with_code / listed:.0%})" if listed else ""))
    for path, error in status.broken:
        message = error if error.startswith(str(path)) else f"{path}: {error}"
        console.print(f"[red]unreadable[/]: {escape(message)}")
    if status.stale_temp:
        console.print(
            f"[yellow]stale temp files[/]: {len(status.stale_temp)} left by interrupted writes "
            f"(ignored by git; removed at the next update of their day): "
            + escape(", ".join(p.name for p in status.stale_temp))
        )
    if status.months:
        table = Table(title="spend per month", title_justify="left", show_edge=False)
        for name in ("month", "days", "papers", "summaries", "cost (USD)"):
            table.add_column(name, justify="left" if name == "month" else "right")
        for month, m in sorted(status.months.items()):
            table.add_row(month, str(m.days), f"{m.papers:,}", f"{m.summaries:,}", f"${m.cost:,.4f}")
        table.add_row(
            "total", str(len(status.days)), f"{status.papers:,}", f"{s.done:,}",
            f"${status.cost:,.4f}", style="bold",
        )
        console.print(table)


def _report_source(src: SourceStatus, settings: DigestSettings, console: Any) -> None:
    """A preprint server's lines: stored posting days, papers, gaps and the backfill that fills them."""
    fill = f"python -m arxiv_digest backfill --source {src.name}"
    if not src.days:
        console.print(f"{src.name}: no posting day stored yet (fetch one: python -m arxiv_digest "
                      f"update --source {src.name}, or {fill} --from YYYY-MM-DD)")
    else:
        console.print(f"{src.name}: {len(src.days)} posting day(s) stored ({src.days[0]} .. "
                      f"{src.days[-1]}), {src.papers:,} papers")
    if src.gaps:
        since = (f"since ARXIV_DIGEST_START_DATE {settings.start_date}" if settings.start_date
                 else "since its first stored day")
        console.print(
            f"  [yellow]gaps[/]: {len(src.gaps)} posting day(s) without {src.name} papers {since} "
            f"(it posts every day): {format_ranges(_runs(src.gaps))}")
        console.print(f"  fill them: {fill} --from {src.gaps[0]} --to {src.gaps[-1]}"
                      "  (stored days are skipped)")
    elif src.days:
        console.print(f"  gaps: none up to {src.latest_expected}")


def _runs(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive calendar days grouped into (first, last) runs."""
    out: list[tuple[dt.date, dt.date]] = []
    for d in sorted(days):
        if out and out[-1][1] + dt.timedelta(days=1) == d:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out
