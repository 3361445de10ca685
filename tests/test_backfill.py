"""`backfill`: a range of announcement days through the API, resumable, polite, with progress.

The real requests/arxiv/lxml stack talks to the local arXiv stand-in, which serves the recorded
entries of a real API response for every day and fails on demand.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.cli.status import day_cost, summary_counts
from arxiv_digest.core import schedule
from arxiv_digest.core.store import load
from arxiv_digest.update import fetch
from arxiv_server import FIXTURES, ArxivServer, Fault, api_day_from_rss, api_pages, paged_feed
from sitecopy import env, project_copy, run

API = "/api/query"
FEED = "api2026_query_cat-cs.LG_OR_cat-cs.AI_start0_max20.xml"  # 20 real entries
EMPTY = "api2026_idlist_0808.05394.xml"  # a real API answer with no entries
DELAY = 0.2
RETRIES = 2  # so a day fails after exactly RETRIES + 1 answers of 503
WEEK = [dt.date(2026, 11, 2) + dt.timedelta(days=i) for i in range(5)]  # Monday to Friday
CATS = ("cs.AI", "cs.CL", "cs.CV", "cs.LG")


@pytest.fixture
def site(site_dir: Path, arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(f"\nARXIV_DIGEST_REQUEST_DELAY = {DELAY}\nARXIV_DIGEST_RETRIES = {RETRIES}\n"
                "ARXIV_DIGEST_TIMEOUT = 5.0\n")
    monkeypatch.setenv("ARXIV_DIGEST_API_URL", f"{arxiv_server.base_url}{API}")  # type: ignore[attr-defined]
    monkeypatch.chdir(site_dir)
    return site_dir


def backfill(site: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-s", str(site / "pelicanconf.py"), "backfill", *args])
    out, err = capsys.readouterr()
    return code, out, err


def day_file(site: Path, day: dt.date) -> Path:
    return site / "content" / "digests" / str(day.year) / f"{day}.json"


def query_of(day: dt.date) -> str:
    start, end = schedule.submission_window(day)
    return fetch.api_query(CATS, start, end)


def days_requested(server: ArxivServer, since: int = 0) -> list[dt.date]:
    """The day each request since index `since` asked for (by its submittedDate window)."""
    by_query = {query_of(d): d for d in WEEK}
    return [by_query[r.query["search_query"][0]] for r in server.requests[since:]]


def test_interrupted_backfill_keeps_its_days_and_resumes(site, arxiv_server, capsys):
    arxiv_server.route(API, paged_feed(FEED))
    arxiv_server.fault(API, Fault(), Fault(), *[Fault(status=503)] * (RETRIES + 1))

    code, out, err = backfill(site, capsys, "--from", "2026-11-02", "--to", "2026-11-06")
    assert code == 3  # a fetch failure, after the retries
    assert not arxiv_server.faults[API]  # every queued answer was used: day 3 failed for real
    assert "error: backfill stopped at 2026-11-04: arXiv API: HTTP 503 after retries" in err
    assert "3 day(s) not done; days stored so far are kept" in err
    assert "python -m arxiv_digest backfill --from 2026-11-04 --to 2026-11-06" in err
    assert "2 stored, 0 skipped" in out
    assert [day_file(site, d).exists() for d in WEEK] == [True, True, False, False, False]
    assert days_requested(arxiv_server) == [WEEK[0], WEEK[1]] + [WEEK[2]] * (RETRIES + 1)
    stored = {d: day_file(site, d).read_bytes() for d in WEEK[:2]}

    before = len(arxiv_server.requests)
    code, out, err = backfill(site, capsys, "--from", "2026-11-02", "--to", "2026-11-06")
    assert code == 0, err
    # days 1-2 were skipped without a request; days 3-5 fetched once each, in order
    assert days_requested(arxiv_server, before) == WEEK[2:]
    assert all(day_file(site, d).exists() for d in WEEK)
    assert {d: day_file(site, d).read_bytes() for d in WEEK[:2]} == stored
    assert "backfill 2026-11-02..2026-11-06: 5 announcement days; 3 stored, 2 skipped" in out
    assert "2026-11-02  skipped     20 papers, already stored (--force fetches it again)" in err
    assert "2026-11-04  stored      20 papers (+20)" in err
    # polite across days: at least the request delay between one day's request and the next
    times = [r.at for r in arxiv_server.requests[before:]]
    assert all(b - a >= DELAY * 0.95 for a, b in itertools.pairwise(times))


def test_progress_counts_match_the_stored_days(site, arxiv_server, capsys):
    arxiv_server.route(API, paged_feed(FEED))
    code, out, err = backfill(site, capsys, "--from", "2026-11-02", "--to", "2026-11-03")
    assert code == 0, err
    digests = [load(day_file(site, d)) for d in WEEK[:2]]
    papers = sum(len(d.papers) for d in digests)
    done = sum(summary_counts(d).done for d in digests)
    cost = sum(day_cost(d) for d in digests)
    assert f"{papers:,} papers fetched, {done:,} summaries, ${cost:.4f}" in out
    for d in digests:
        line = next(x for x in err.splitlines() if x.startswith(f"{d.date}  stored"))
        assert f"{summary_counts(d).done} summaries  ${day_cost(d):.4f}" in line


def test_progress_bar_on_a_terminal(site, arxiv_server, capsys, monkeypatch):
    """On a terminal the bar shows the day, papers, summaries and cost so far."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "160")
    arxiv_server.route(API, paged_feed(FEED))
    code, _, err = backfill(site, capsys, "--from", "2026-11-02", "--to", "2026-11-03")
    assert code == 0
    assert "2026-11-03" in err and "2/2" in err and "40 papers" in err and "summaries" in err
    assert "$0.0000" in err or "$" in err


def test_an_empty_day_is_reported_the_others_are_stored(site, arxiv_server, capsys):
    """The API answering nothing for one day: the others go on; exit 4; a re-run retries it."""
    paged, empty = paged_feed(FEED), (FIXTURES / EMPTY).read_bytes()
    tuesday = query_of(WEEK[1])
    arxiv_server.route(API, lambda q: empty if q["search_query"][0] == tuesday else paged(q))
    code, _, err = backfill(site, capsys, "--from", "2026-11-02", "--to", "2026-11-04")
    assert code == 4
    assert "warning: the API had no papers for 2026-11-03; nothing stored for them" in err
    assert [day_file(site, d).exists() for d in WEEK[:3]] == [True, False, True]

    arxiv_server.route(API, paged)
    before = len(arxiv_server.requests)
    code, _, _ = backfill(site, capsys, "--from", "2026-11-02", "--to", "2026-11-04")
    assert code == 0 and days_requested(arxiv_server, before) == [WEEK[1]]


def test_force_fetches_stored_days_again(site, arxiv_server, capsys):
    arxiv_server.route(API, paged_feed(FEED))
    assert backfill(site, capsys, "--from", "2026-11-02", "--to", "2026-11-03")[0] == 0
    before = len(arxiv_server.requests)
    code, out, _ = backfill(site, capsys, "--from", "2026-11-02", "--to", "2026-11-03", "--force")
    assert code == 0 and "2 stored, 0 skipped" in out
    assert days_requested(arxiv_server, before) == WEEK[:2]
    day = json.loads(day_file(site, WEEK[0]).read_text())
    assert len(day["papers"]) == 20  # merged, not duplicated


def test_weekends_holidays_and_the_future_are_not_fetched(site, arxiv_server, capsys):
    arxiv_server.route(API, paged_feed(FEED))
    code, out, _ = backfill(site, capsys, "--from", "2026-11-07", "--to", "2026-11-08")
    assert code == 0 and "no announcement days in that range" in out
    code, out, _ = backfill(site, capsys, "--from", "2026-12-24", "--to", "2026-12-27",
                            "--now", "2026-12-28T12:00:00+00:00")
    assert code == 0 and "1 announcement days; 1 stored" in out  # the 24th; the 25th is a holiday
    code, out, err = backfill(site, capsys, "--from", "2026-11-05", "--to", "2026-11-30",
                              "--now", "2026-11-06T12:00:00+00:00")
    assert "note: 2026-11-30 is in the future: stopping at 2026-11-06" in err
    assert code == 0 and "backfill 2026-11-05..2026-11-06: 2 announcement days" in out


def test_usage_errors(site, arxiv_server, capsys):
    code, _, err = backfill(site, capsys, "--from", "2026-11-06", "--to", "2026-11-02")
    assert code == 2 and "--from 2026-11-06 is after --to 2026-11-02" in err
    with pytest.raises(SystemExit) as e:
        backfill(site, capsys, "--from", "06/11/2026")
    assert e.value.code == 2
    assert "expected a date as YYYY-MM-DD, got '06/11/2026'" in capsys.readouterr().err
    assert arxiv_server.requests == []


def test_make_backfill(tmp_path, arxiv_server):
    """The README's `make backfill FROM=... TO=...`, and its usage message."""
    site = project_copy(tmp_path / "site", request_delay=DELAY)
    arxiv_server.route(API, paged_feed(FEED))
    environ = env(site, ARXIV_DIGEST_API_URL=f"{arxiv_server.base_url}{API}")  # type: ignore[attr-defined]
    done = run(["make", "backfill"], site, environ)
    assert done.returncode == 2 and "usage: make backfill FROM=YYYY-MM-DD" in done.stderr
    done = run(["make", "backfill", "FROM=2026-11-02", "TO=2026-11-03"], site, environ)
    assert done.returncode == 0, done.stderr
    assert "2 announcement days; 2 stored" in done.stdout
    done = run(["make", "backfill", "FROM=2026-11-02", "TO=2026-11-03", "FORCE=1"], site, environ)
    assert done.returncode == 0 and "2 stored, 0 skipped" in done.stdout


def test_ctrl_c_keeps_the_finished_days(site, arxiv_server):
    """SIGINT in the middle of a day: the days already stored stay, exit 130, resume command."""
    import os
    import signal
    import subprocess
    import sys
    import time

    arxiv_server.route(API, paged_feed(FEED))
    arxiv_server.fault(API, Fault(), Fault(delay=20))  # day 2 hangs until interrupted
    proc = subprocess.Popen(
        [sys.executable, "-m", "arxiv_digest", "-s", "pelicanconf.py", "backfill",
         "--from", "2026-11-02", "--to", "2026-11-06"],
        cwd=site, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a suite started in the background by a non-interactive shell inherits SIGINT ignored, and
        # Python then installs no KeyboardInterrupt handler: give the child the default disposition
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while len(arxiv_server.requests) < 2:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: 4 day(s) not done; every stored day is kept" in err
    assert "Resume with: python -m arxiv_digest backfill --from 2026-11-03 --to 2026-11-06" in err
    assert "1 stored" in out
    assert [day_file(site, d).exists() for d in WEEK] == [True, False, False, False, False]
    assert not list((site / "content" / "digests").rglob(".*.tmp"))  # no half-written file


# Real-size days: the 1,504 real records of the recorded all-archives feed of Thu 28 Nov 2024,
# served as arXiv API answers (2026 format) that honour start/max_results and the cat: terms.
RSS_DAY = "rss_all-archives_2024-11-28.xml"
REAL_DAY = dt.date(2024, 11, 28)


def _rss_items() -> list[tuple[str, set[str]]]:
    """(version-less id, categories) of every item of the recorded feed, read independently."""
    from lxml import etree

    channel = etree.parse(str(FIXTURES / RSS_DAY)).getroot().find("channel")
    return [((item.findtext("link") or "").rsplit("/", 1)[-1],
             {c.text for c in item.findall("category") if c.text})
            for item in channel.findall("item")]


ALL_CATS = sorted({c for _, cats in _rss_items() for c in cats})  # 144 categories


@pytest.mark.parametrize(
    ("categories", "page_size", "papers", "pages"),
    [
        (["cs.AI"], None, 194, 1),  # a small real day: one page at the default size (1000)
        (list(CATS), 200, 513, 3),  # the four default categories
        (ALL_CATS, 400, 1504, 4),  # every archive: more than 1,000 results over several pages
    ],
    ids=["194-one-page", "513-default-cats", "1504-all-archives"],
)
def test_a_real_size_day_is_stored_complete(site, arxiv_server, capsys, categories, page_size,
                                            papers, pages):
    start, end = schedule.submission_window(REAL_DAY)
    arxiv_server.route(API, api_pages(api_day_from_rss(RSS_DAY, start, end)))
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(f"\nARXIV_DIGEST_CATEGORIES = {categories!r}\n")
        if page_size:
            f.write(f"ARXIV_DIGEST_PAGE_SIZE = {page_size}\n")
    code, out, err = backfill(site, capsys, "--from", "2024-11-28", "--to", "2024-11-28",
                              "--now", "2024-11-29T12:00:00+00:00")
    assert code == 0, err
    size = page_size or 1000
    asked = [(int(r.query["start"][0]), int(r.query["max_results"][0])) for r in arxiv_server.requests]
    assert asked == [(i * size, size) for i in range(pages)]  # every page once, in order
    assert len({r.query["search_query"][0] for r in arxiv_server.requests}) == 1
    times = [r.at for r in arxiv_server.requests]
    assert all(b - a >= DELAY * 0.95 for a, b in itertools.pairwise(times))
    expected = {i for i, cats in _rss_items() if cats & set(categories)}
    assert len(expected) == papers
    day = json.loads(day_file(site, REAL_DAY).read_text())
    assert {p["id"] for p in day["papers"]} == expected  # every paper, none twice
    assert len(day["papers"]) == papers and day["source"] == "api"
    assert f"{papers:,} papers fetched" in out


def test_overlapping_pages_are_refused(site, arxiv_server, capsys):
    """A page that repeats entries of an earlier one (the result set moved) never makes a day."""
    start, end = schedule.submission_window(REAL_DAY)
    pages = api_pages(api_day_from_rss(RSS_DAY, start, end))

    def shifted(q: dict[str, list[str]]) -> bytes:
        body = pages({**q, "start": [str(max(0, int(q["start"][0]) - 5))]})
        return body.replace(b"<opensearch:startIndex>%d<" % max(0, int(q["start"][0]) - 5),
                            b"<opensearch:startIndex>%s<" % q["start"][0].encode())

    arxiv_server.route(API, shifted)
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_PAGE_SIZE = 200\n")
    code, _, err = backfill(site, capsys, "--from", "2024-11-28", "--to", "2024-11-28",
                            "--now", "2024-11-29T12:00:00+00:00")
    assert code == 3
    assert "the page repeats 5 entries of earlier pages" in err
    assert not day_file(site, REAL_DAY).exists()
