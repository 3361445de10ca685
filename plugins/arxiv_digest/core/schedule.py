"""arXiv's announcement calendar: which dates announce, and which submissions each date covers.

arXiv announces Sunday to Thursday at 20:00 ET; the listing (and the RSS feed) is dated the next
day, Monday to Friday. Submissions received before the 14:00 ET deadline on a weekday go into the
next announcement, so the announcement dated D covers the submissions received between the
deadline on the weekday before the previous announcement day and 14:00 ET on the weekday before D.
A holiday skips an announcement; its submissions roll into the next announcement day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")
DEADLINE = dt.time(14, 0)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def is_announcement_day(day: dt.date, holidays: Collection[dt.date] = ()) -> bool:
    """True when arXiv publishes a listing dated `day` (Monday to Friday, not a holiday)."""
    return day.weekday() < 5 and day not in holidays


def why_no_announcement(day: dt.date, holidays: Collection[dt.date] = ()) -> str | None:
    """A human reason when `day` has no announcement, else None."""
    if day.weekday() >= 5:
        return f"{day.isoformat()} is a {WEEKDAYS[day.weekday()]}: arXiv does not announce on weekends"
    if day in holidays:
        return f"{day.isoformat()} is an arXiv holiday: there is no announcement"
    return None


def previous_weekday(day: dt.date) -> dt.date:
    """The last Monday-to-Friday date strictly before `day`."""
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def previous_announcement_day(day: dt.date, holidays: Collection[dt.date] = ()) -> dt.date:
    """The last announcement date strictly before `day`."""
    day -= dt.timedelta(days=1)
    while not is_announcement_day(day, holidays):
        day -= dt.timedelta(days=1)
    return day


def _deadline(announcement: dt.date) -> dt.datetime:
    """14:00 ET on the weekday before the announcement dated `announcement`, in UTC."""
    d = previous_weekday(announcement)
    return dt.datetime.combine(d, DEADLINE, tzinfo=ET).astimezone(dt.UTC)


def submission_window(
    day: dt.date, holidays: Collection[dt.date] = ()
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the submissions announced in the listing dated `day`."""
    if not is_announcement_day(day, holidays):
        raise ValueError(why_no_announcement(day, holidays))
    return _deadline(previous_announcement_day(day, holidays)), _deadline(day)


def expected_day(now: dt.datetime) -> dt.date:
    """The listing date a feed should carry at `now` (the feed refreshes at midnight ET)."""
    return now.astimezone(ET).date()


# How far ahead of today's date in New York a feed may be dated. arXiv announces at 20:00 ET the
# listing dated the next day, and a clock a few minutes slow near midnight ET reads the day
# before: a feed dated tomorrow (ET) is plausible, one dated later means the feed or the clock
# is wrong.
FEED_AHEAD_TOLERANCE = dt.timedelta(days=1)


def latest_feed_date(now: dt.datetime) -> dt.date:
    """The latest date a genuine feed can carry at `now`: today in New York, plus the tolerance."""
    return expected_day(now) + FEED_AHEAD_TOLERANCE


def announcement_days(
    start: dt.date, end: dt.date, holidays: Collection[dt.date] = ()
) -> list[dt.date]:
    """Every announcement date from start to end, inclusive."""
    out = []
    d = start
    while d <= end:
        if is_announcement_day(d, holidays):
            out.append(d)
        d += dt.timedelta(days=1)
    return out
