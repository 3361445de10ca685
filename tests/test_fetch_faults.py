"""Hostile servers: `update` ends in bounded time with one clear line, and the stored day is kept.

Each fault is served over real local HTTP by tests/arxiv_server.py to the real requests/urllib3
stack: a server that drips one byte at a time (in the body, or from the status line on), a huge
body (with and without Content-Length), a redirect loop, and Retry-After: 86400. Every test first
stores the real day, then checks that the failing run leaves its file byte-identical.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import re
import time
from pathlib import Path

import pytest
from arxiv_digest.cli.commands import main
from arxiv_server import ArxivServer, Fault
from conftest import CATS

RSS_PATH = f"/rss/{CATS}"
THU = "2024-11-28T10:17:00+00:00"
DAY_FILE = Path("content/digests/2024/2024-11-28.json")
DELAY = 0.2
TIMEOUT = 2.0  # per socket read: a drip of one byte every DRIP seconds never trips it
DRIP = 0.3
REQUEST_DEADLINE = 1.5
MAX_BYTES = 5_000_000  # the real feed is 2.8 MB
SETTINGS = f"""
ARXIV_DIGEST_REQUEST_DELAY = {DELAY}
ARXIV_DIGEST_RETRIES = 1
ARXIV_DIGEST_TIMEOUT = {TIMEOUT}
ARXIV_DIGEST_REQUEST_DEADLINE = {REQUEST_DEADLINE}
ARXIV_DIGEST_FETCH_DEADLINE = 20.0
ARXIV_DIGEST_MAX_RETRY_AFTER = 5.0
ARXIV_DIGEST_MAX_REDIRECTS = 3
ARXIV_DIGEST_MAX_RESPONSE_BYTES = {MAX_BYTES}
"""


@pytest.fixture
def site(site_dir: Path, arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(SETTINGS)
    monkeypatch.setenv("ARXIV_DIGEST_RSS_URL", f"{arxiv_server.base_url}/rss")  # type: ignore[attr-defined]
    monkeypatch.chdir(site_dir)
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    return site_dir


def settings_line(site: Path, line: str) -> None:
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(f"\n{line}\n")


def update(site: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    """Run `update`; the exit code, the last line on stderr, and the seconds it took."""
    started = time.monotonic()
    code = main(["-s", str(site / "pelicanconf.py"), "update", "--now", THU])
    took = time.monotonic() - started
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    return code, lines[-1] if lines else "", took


@pytest.fixture
def stored(site: Path, arxiv_server: ArxivServer, capsys: pytest.CaptureFixture[str]) -> bytes:
    """The day as a good run stores it; the fault tests start from here."""
    code, err, _ = update(site, capsys)
    assert code == 0, err
    arxiv_server.requests.clear()
    arxiv_server.sent.clear()
    return (site / DAY_FILE).read_bytes()


def assert_kept(site: Path, stored: bytes) -> None:
    assert (site / DAY_FILE).read_bytes() == stored
    assert [p.name for p in (site / DAY_FILE).parent.iterdir() if not p.name.startswith(".")] == [
        DAY_FILE.name
    ]
    assert not list((site / DAY_FILE).parent.glob("*.tmp"))


@pytest.mark.parametrize("headers", [False, True], ids=["body-drip", "status-line-drip"])
def test_a_dripping_server_hits_the_request_deadline(site, arxiv_server, capsys, stored, headers):
    """One byte every 0.3 s never trips a 2 s read timeout; the 1.5 s deadline cuts each try."""
    arxiv_server.fault_always(RSS_PATH, Fault(drip=DRIP, drip_headers=headers))
    code, line, took = update(site, capsys)
    assert code == 3
    assert line.startswith(f"error: {arxiv_server.base_url}{RSS_PATH}: ")  # type: ignore[attr-defined]
    assert line.endswith(
        f"no complete answer within {REQUEST_DEADLINE:g} s (ARXIV_DIGEST_REQUEST_DEADLINE); "
        "gave up after 2 tries"
    )
    assert arxiv_server.count(RSS_PATH) == 2  # the try and one retry
    assert 2 * REQUEST_DEADLINE <= took < 2 * REQUEST_DEADLINE + 2.0
    assert all(0 < n < 20 for n in arxiv_server.sent)  # a few bytes each, then cut
    assert_kept(site, stored)


def test_the_fetch_deadline_bounds_all_tries(site, arxiv_server, capsys, stored):
    """However many retries are allowed, the whole fetch stops at ARXIV_DIGEST_FETCH_DEADLINE."""
    settings_line(site, "ARXIV_DIGEST_RETRIES = 10\nARXIV_DIGEST_FETCH_DEADLINE = 2.5")
    arxiv_server.fault_always(RSS_PATH, Fault(drip=DRIP))
    code, line, took = update(site, capsys)
    assert code == 3
    assert line.endswith(
        ": the fetch deadline passed (ARXIV_DIGEST_FETCH_DEADLINE, 2.5 s) after 2 request(s); "
        "nothing stored"
    )
    assert 2.5 <= took < 4.0
    assert_kept(site, stored)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "no-content-length"])
def test_a_huge_body_is_refused_without_reading_it(site, arxiv_server, capsys, stored, chunked):
    """200 MB: refused from its Content-Length, or read only up to the cap when it has none."""
    arxiv_server.fault_always(RSS_PATH, Fault(size=200_000_000, content_length=not chunked))
    code, line, took = update(site, capsys)
    assert code == 3
    if chunked:
        assert line.endswith(": the response is larger than ARXIV_DIGEST_MAX_RESPONSE_BYTES "
                             "(5 MB); stopped reading")
    else:
        assert line.endswith(": the response is 200 MB, more than ARXIV_DIGEST_MAX_RESPONSE_BYTES "
                             "(5 MB); not read")
    assert arxiv_server.count(RSS_PATH) == 1  # not retried: it would be as big again
    assert took < 5.0
    deadline = time.monotonic() + 5
    while not arxiv_server.sent and time.monotonic() < deadline:
        time.sleep(0.05)  # the server thread notices the hang-up on its next write
    assert arxiv_server.sent[0] < 30_000_000  # the cap plus socket buffers, not 200 MB
    assert_kept(site, stored)


def test_a_redirect_loop_is_spaced_and_capped(site, arxiv_server, capsys, stored):
    arxiv_server.fault_always(RSS_PATH, Fault(status=302, headers={"Location": RSS_PATH}, body=b""))
    code, line, took = update(site, capsys)
    assert code == 3
    assert line.endswith(f": more than 3 redirects (ARXIV_DIGEST_MAX_REDIRECTS), the last to {RSS_PATH}; "
                         "giving up")
    assert arxiv_server.count(RSS_PATH) == 4  # the request and 3 redirects, then stop
    times = [r.at for r in arxiv_server.requests]
    assert all(b - a >= DELAY * 0.95 for a, b in itertools.pairwise(times))  # each one spaced
    assert took < 3.0
    assert_kept(site, stored)


def test_a_redirect_is_followed(site, arxiv_server, capsys, stored):
    """A moved feed still works: one redirect, spaced like any request, then the feed."""
    arxiv_server.route("/moved", "rss_all-archives_2024-11-28.xml")
    arxiv_server.fault(RSS_PATH, Fault(status=301, headers={"Location": "/moved"}, body=b""))
    code, line, _ = update(site, capsys)
    assert code == 0, line
    assert [r.path for r in arxiv_server.requests] == [RSS_PATH, "/moved"]
    assert arxiv_server.requests[1].at - arxiv_server.requests[0].at >= DELAY * 0.95
    assert (site / DAY_FILE).read_bytes() == stored


def _http_date_in(seconds: int) -> str:
    return email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds),
                                       usegmt=True)


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [(429, "86400"), (503, "http-date a day ahead")],
    ids=["429-seconds", "503-http-date"],
)
def test_a_long_retry_after_fails_at_once_naming_the_wait(site, arxiv_server, capsys, stored,
                                                         status, retry_after):
    if retry_after.startswith("http-date"):
        retry_after = _http_date_in(86400)  # made now, not at collection: a slow suite runs for minutes
    arxiv_server.fault_always(RSS_PATH, Fault(status=status, headers={"Retry-After": retry_after}))
    code, line, took = update(site, capsys)
    assert code == 3
    # the date is a day ahead when the fault is set: a little less than 86400 s by now
    assert re.search(rf": HTTP {status}, the server asks to wait 8[56]\d\d\d s \(24 h\) ", line), line
    assert f"(Retry-After: {retry_after}), more than ARXIV_DIGEST_MAX_RETRY_AFTER (5 s)" in line
    assert line.endswith("; nothing stored, try again later")
    assert arxiv_server.count(RSS_PATH) == 1 and took < 2.0  # no silent sleep
    assert_kept(site, stored)


def test_a_retry_after_past_the_fetch_deadline_fails_at_once(site, arxiv_server, capsys, stored):
    """Within the cap, but the wait would outlast the fetch deadline: fail now, not later."""
    settings_line(site, "ARXIV_DIGEST_FETCH_DEADLINE = 3.0")
    arxiv_server.fault_always(RSS_PATH, Fault(status=429, headers={"Retry-After": "4"}))
    code, line, took = update(site, capsys)
    assert code == 3
    assert line.endswith(": HTTP 429; retry 1 would wait 4 s, past the fetch deadline "
                         "(ARXIV_DIGEST_FETCH_DEADLINE, 3 s); nothing stored")
    assert took < 2.0
    assert_kept(site, stored)


@pytest.mark.parametrize(
    ("line", "expected"),
    [("ARXIV_DIGEST_MAX_REDIRECTS = -1", "ARXIV_DIGEST_MAX_REDIRECTS: expected an integer >= 0, got -1"),
     ("ARXIV_DIGEST_REQUEST_DEADLINE = 'soon'",
      "ARXIV_DIGEST_REQUEST_DEADLINE: expected a number >= 0.001, got 'soon'")],
    ids=["redirects", "deadline"],
)
def test_limit_settings_are_validated(site, arxiv_server, capsys, line, expected):
    settings_line(site, line)
    code, err, _ = update(site, capsys)
    assert code == 2 and expected in err
    assert arxiv_server.requests == []
