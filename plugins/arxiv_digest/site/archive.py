"""The archive's shape: days in order with previous/next links, and the month-by-month calendar.

A calendar cell is an announcement day with its page, a weekend or holiday ("no announcement"), a
weekday the archive lacks ("not archived"), or a date outside the archive's span.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.i18n import N_
from .render import DayView

# Calendar cell kinds
DIGEST, WEEKEND, HOLIDAY, MISSING, OUTSIDE = "digest", "weekend", "holiday", "missing", "outside"


def day_articles(articles: Iterable[Any]) -> list[Any]:
    """The articles that are announcement days (they carry a DayView), oldest first."""
    days = [a for a in articles if isinstance(getattr(a, "day", None), DayView)]
    return sorted(days, key=lambda a: a.day.date)


def day_links(articles: Iterable[Any]) -> list[tuple[Any, str]]:
    """The day articles oldest first, each with its URL read once (Pelican formats `article.url`
    anew from the metadata and settings on every read; listings read it once per paper)."""
    return [(a, a.url) for a in day_articles(articles)]


@dataclass(frozen=True)
class DayLink:
    """A neighbour day as a day page shows it: its URL and date, nothing else, so a page is keyed
    on what it shows of its neighbours (a neighbour's changed papers leave it as it was)."""

    url: str
    date: dt.date


def link_days(articles: Sequence[Any]) -> None:
    """Give each day article prev_day (older) and next_day (newer) links (DayLink or None)."""
    links = [(a, DayLink(url, a.day.date)) for a, url in day_links(articles)]
    for i, (article, _) in enumerate(links):
        article.prev_day = links[i - 1][1] if i > 0 else None
        article.next_day = links[i + 1][1] if i + 1 < len(links) else None


@dataclass(frozen=True)
class CalendarDay:
    """One date of the archive calendar and what happened on it."""

    date: dt.date
    kind: str  # DIGEST, WEEKEND, HOLIDAY, MISSING (announcement day not stored) or OUTSIDE
    url: str = ""
    listed: int = 0
    announced: int = 0

    @property
    def label(self) -> str:
        """What a reader is told about this date."""
        if self.kind == DIGEST:
            return f"{self.listed} paper{'' if self.listed == 1 else 's'}"
        if self.kind == WEEKEND:
            return N_("no announcement")
        if self.kind == HOLIDAY:
            return N_("no announcement (holiday)")
        if self.kind == MISSING:
            return N_("not archived")
        return ""


@dataclass(frozen=True)
class CalendarMonth:
    """One month of the archive, as weeks of seven cells (Monday first; None pads the grid)."""

    year: int
    month: int
    weeks: tuple[tuple[CalendarDay | None, ...], ...]

    @property
    def name(self) -> str:
        """'November 2024'"""
        return f"{calendar.month_name[self.month]} {self.year}"

    @property
    def slug(self) -> str:
        """'2024-11', an anchor id."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def digest_days(self) -> tuple[CalendarDay, ...]:
        """The dates of this month that have a page."""
        return tuple(d for w in self.weeks for d in w if d is not None and d.kind == DIGEST)

    @property
    def papers(self) -> int:
        """Papers listed over the month."""
        return sum(d.listed for d in self.digest_days)


def build_calendar(
    articles: Sequence[Any], holidays: Iterable[dt.date] = ()
) -> tuple[CalendarMonth, ...]:
    """Every month from the first stored day to the last, newest month first."""
    days = day_articles(articles)
    if not days:
        return ()
    holidays = frozenset(holidays)
    by_date = {a.day.date: a for a in days}
    first, last = days[0].day.date, days[-1].day.date
    months = []
    year, month = first.year, first.month
    cal = calendar.Calendar(firstweekday=calendar.MONDAY)
    while (year, month) <= (last.year, last.month):
        weeks = []
        for week in cal.monthdatescalendar(year, month):
            cells: list[CalendarDay | None] = []
            for d in week:
                if d.month != month:
                    cells.append(None)
                elif d in by_date:
                    a = by_date[d]
                    cells.append(CalendarDay(d, DIGEST, a.url, a.day.listed_total,
                                             a.day.digest.announced_total))
                elif d.weekday() >= 5:
                    cells.append(CalendarDay(d, WEEKEND))
                elif d in holidays:
                    cells.append(CalendarDay(d, HOLIDAY))
                elif first < d < last:
                    cells.append(CalendarDay(d, MISSING))
                else:
                    cells.append(CalendarDay(d, OUTSIDE))
            weeks.append(tuple(cells))
        months.append(CalendarMonth(year, month, tuple(weeks)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(reversed(months))
