"""Unit tests: which submissions each announcement date covers (14:00 ET cut-offs)."""

from __future__ import annotations

import datetime as dt

from arxiv_digest.core.schedule import (
    announcement_days,
    expected_day,
    is_announcement_day,
    submission_window,
    why_no_announcement,
)
from arxiv_digest.update.fetch import api_query

D = dt.date
UTC = dt.UTC


def window(day: dt.date, holidays: frozenset[dt.date] = frozenset()) -> tuple[str, str]:
    start, end = submission_window(day, holidays)
    return start.strftime("%a %Y-%m-%d %H:%M"), end.strftime("%a %Y-%m-%d %H:%M")


def test_thursday_covers_tuesday_to_wednesday_deadlines() -> None:
    # Thu 28 Nov 2024 (EST, UTC-5): Tue 14:00 ET -> Wed 14:00 ET
    assert window(D(2024, 11, 28)) == ("Tue 2024-11-26 19:00", "Wed 2024-11-27 19:00")


def test_monday_covers_thursday_to_friday() -> None:
    # Mon 2 Dec 2024: submissions from Thu 28 Nov 14:00 ET to Fri 29 Nov 14:00 ET
    assert window(D(2024, 12, 2)) == ("Thu 2024-11-28 19:00", "Fri 2024-11-29 19:00")


def test_tuesday_covers_the_weekend() -> None:
    # Tue 3 Dec 2024: Fri 14:00 ET -> Mon 14:00 ET (weekend submissions)
    assert window(D(2024, 12, 3)) == ("Fri 2024-11-29 19:00", "Mon 2024-12-02 19:00")


def test_summer_time_cutoff_is_1800_utc() -> None:
    # Thu 24 Sep 2026 (EDT, UTC-4)
    assert window(D(2026, 9, 24)) == ("Tue 2026-09-22 18:00", "Wed 2026-09-23 18:00")


def test_holiday_rolls_into_the_next_announcement() -> None:
    # Thu 25 Dec 2025 has no announcement; Fri 26 Dec covers two deadlines
    holidays = frozenset({D(2025, 12, 25)})
    assert not is_announcement_day(D(2025, 12, 25), holidays)
    assert window(D(2025, 12, 26), holidays) == ("Tue 2025-12-23 19:00", "Thu 2025-12-25 19:00")


def test_weekends_have_no_announcement() -> None:
    assert why_no_announcement(D(2024, 11, 30)) == (
        "2024-11-30 is a Saturday: arXiv does not announce on weekends"
    )
    assert announcement_days(D(2024, 11, 28), D(2024, 12, 3)) == [
        D(2024, 11, 28), D(2024, 11, 29), D(2024, 12, 2), D(2024, 12, 3),
    ]


def test_expected_day_is_the_date_in_new_york() -> None:
    assert expected_day(dt.datetime(2024, 11, 28, 4, 30, tzinfo=UTC)) == D(2024, 11, 27)
    assert expected_day(dt.datetime(2024, 11, 28, 5, 17, tzinfo=UTC)) == D(2024, 11, 28)


def test_api_query_for_a_monday() -> None:
    start, end = submission_window(D(2024, 12, 2))
    assert api_query(["cs.AI", "cs.LG"], start, end) == (
        "(cat:cs.AI OR cat:cs.LG) AND submittedDate:[202411281900 TO 202411291859]"
    )
