"""Component tests: `python -m arxiv_digest update` against recorded arXiv responses over HTTP.

The real requests/arxiv/lxml stack talks to a local server on 127.0.0.1 that serves the recorded
feeds in ../shared/fixtures/arxiv, and injects the faults arXiv really produces.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from arxiv_digest.cli import main
from arxiv_server import FIXTURES, ArxivServer, Fault, paged_feed
from conftest import CATS

RSS_PATH = f"/rss/{CATS}"
THU = "2024-11-28T10:17:00+00:00"  # 05:17 ET on the day of the recorded feed
DAY_FILE = Path("content/digests/2024/2024-11-28.json")


@pytest.fixture
def site(site_dir: Path, arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site whose update talks to the local server, with short polite delays."""
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.2\nARXIV_DIGEST_RETRIES = 2\n"
                "ARXIV_DIGEST_TIMEOUT = 2.0\nARXIV_DIGEST_PAGE_SIZE = 7\n")
    base = arxiv_server.base_url  # type: ignore[attr-defined]
    monkeypatch.setenv("ARXIV_DIGEST_RSS_URL", f"{base}/rss")
    monkeypatch.setenv("ARXIV_DIGEST_API_URL", f"{base}/api/query")
    monkeypatch.chdir(site_dir)
    return site_dir


def update(site: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-s", str(site / "pelicanconf.py"), "update", *args])
    out, err = capsys.readouterr()
    return code, out, err


def stored_files(site: Path) -> list[Path]:
    return sorted((site / "content" / "digests").rglob("*"))


def test_latest_feed_is_stored_under_the_feeds_own_date(site, arxiv_server, capsys):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    code, out, _ = update(site, capsys, "--now", THU)
    assert code == 0
    assert "2024-11-28: 513 papers stored" in out
    assert arxiv_server.count(RSS_PATH) == 1  # one request for all four categories
    day = json.loads((site / DAY_FILE).read_text())
    assert day["schema_version"] == 2 and day["date"] == "2024-11-28" and day["source"] == "rss"
    assert day["announced"] == {"cross": 1, "new": 329, "replace": 183}
    ids = [p["id"] for p in day["papers"]]
    assert len(ids) == len(set(ids)) == 513
    assert all("v" not in i for i in ids)
    # every paper is in a configured category; announce type and version are kept
    assert all({"cs.AI", "cs.CL", "cs.CV", "cs.LG"} & set(p["categories"]) for p in day["papers"])
    replaced = [p for p in day["papers"] if p["announce_type"] == "replace"]
    assert replaced and all(p["version"] >= 2 for p in replaced)
    # TeX accents decoded in names
    authors = {a for p in day["papers"] for a in p["authors"]}
    assert not any("\\" in a for a in authors)
    # tags: the topics a paper is about, with the words that matched; topics: every topic a term
    # matched, about or only mentions, with its evidence
    tagged = {p["id"]: p["tags"] for p in day["papers"] if p["tags"]}
    assert len(tagged) > 10
    assert all(words for tags in tagged.values() for words in tags.values())
    decided = [(p, n, d) for p in day["papers"] for n, d in p["topics"].items()]
    assert {d["tier"] for _, _, d in decided} == {"about", "mentions"}
    assert all(d["reasons"] and d["terms"] for _, _, d in decided)
    assert all((n in p["tags"]) == (d["tier"] == "about") for p, n, d in decided)


def test_clock_in_the_evening_before_does_not_change_the_day(site, arxiv_server, capsys):
    """The day is the feed's pubDate; a clock running ahead (next day in UTC) does not matter."""
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    code, _, _ = update(site, capsys, "--now", "2024-11-28T23:30:00-05:00")
    assert code == 0 and (site / DAY_FILE).exists()


def test_rerun_merges_and_loses_nothing(site, arxiv_server, capsys, caplog):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    assert update(site, capsys, "--now", THU)[0] == 0
    path = site / DAY_FILE
    first = path.read_bytes()
    assert update(site, capsys, "--now", THU)[0] == 0
    assert path.read_bytes() == first  # same feed, same bytes
    # a paper stored earlier but missing from a later fetch is kept, with what it had
    day = json.loads(first)
    extra = dict(day["papers"][0], id="2411.99999", title="Kept from an earlier run",
                 summaries={"en": {"tldr": "kept"}})
    day["papers"].append(extra)
    path.write_text(json.dumps(day))
    code, _, _ = update(site, capsys, "--now", THU)
    assert code == 0
    assert "1 stored papers are not in this fetch; they are kept" in caplog.text
    again = json.loads(path.read_text())
    kept = [p for p in again["papers"] if p["id"] == "2411.99999"]
    assert kept and kept[0]["summaries"] == {"en": {"tldr": "kept"}}
    assert len(again["papers"]) == 514


def test_503_then_success(site, arxiv_server, capsys):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    arxiv_server.fault(RSS_PATH, Fault(status=503))
    code, out, _ = update(site, capsys, "--now", THU)
    assert code == 0 and "513 papers stored" in out
    assert arxiv_server.count(RSS_PATH) == 2
    gap = arxiv_server.requests[1].at - arxiv_server.requests[0].at
    assert gap >= 0.2  # never sooner than the polite delay


def test_429_honours_retry_after(site, arxiv_server, capsys):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    arxiv_server.fault(RSS_PATH, Fault(status=429, headers={"Retry-After": "1"}))
    code, _, _ = update(site, capsys, "--now", THU)
    assert code == 0
    gap = arxiv_server.requests[1].at - arxiv_server.requests[0].at
    assert gap >= 1.0


def test_retries_run_out_exit_nonzero_and_write_nothing(site, arxiv_server, capsys):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    arxiv_server.fault(RSS_PATH, *[Fault(status=503)] * 3)
    code, _, err = update(site, capsys, "--now", THU)
    assert code == 3
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert "503" in err.strip().splitlines()[-1]
    assert arxiv_server.count(RSS_PATH) == 3  # the first try and two retries
    assert stored_files(site) == []


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(body=b""), "empty response body"),
        (Fault(truncate=200_000), "malformed or truncated XML"),
        (Fault(body=(FIXTURES / "rss_error_bad-archive-astroph_2024-11-28.xml").read_bytes()),
         "arXiv says: Bad archive 'astroph'"),
    ],
    ids=["empty-page", "truncated-xml", "error-feed"],
)
def test_unusable_bodies_fail_and_keep_the_stored_day(site, arxiv_server, capsys, fault, message):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    assert update(site, capsys, "--now", THU)[0] == 0
    before = (site / DAY_FILE).read_bytes()
    arxiv_server.fault(RSS_PATH, fault)
    code, _, err = update(site, capsys, "--now", THU)
    assert code == 3
    assert message in err
    assert (site / DAY_FILE).read_bytes() == before
    assert [p.name for p in (site / DAY_FILE).parent.iterdir()] == ["2024-11-28.json"]


def test_timeout_on_a_hung_server(site, arxiv_server, capsys):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    arxiv_server.fault(RSS_PATH, *[Fault(delay=3.0)] * 3)
    code, _, err = update(site, capsys, "--now", THU)
    assert code == 3
    assert "timed out" in err or "Timeout" in err
    assert stored_files(site) == []


def test_stale_feed_is_reported_not_published(site, arxiv_server, capsys):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    code, _, err = update(site, capsys, "--now", "2024-11-29T10:17:00+00:00")
    assert code == 4
    assert "stale feed: arXiv's feed is still dated 2024-11-28, expected 2024-11-29" in err
    assert stored_files(site) == []


@pytest.mark.parametrize(
    ("now", "latest"),
    [("2023-11-28T10:17:00+00:00", "2023-11-29"),  # the feed is a year ahead of the clock
     ("2024-11-26T12:00:00-05:00", "2024-11-27")],  # two days ahead: more than the tolerance
    ids=["a-year-ahead", "two-days-ahead"],
)
def test_a_feed_dated_in_the_future_is_refused(site, arxiv_server, capsys, now, latest):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    code, _, err = update(site, capsys, "--now", now)
    assert code == 3
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: future feed: arXiv's feed is dated 2024-11-28, but at ")
    assert f"the latest possible listing is {latest} (a day after today in New York)" in line
    assert "the feed or this machine's clock is wrong; nothing stored" in line
    assert stored_files(site) == []


def test_a_feed_dated_tomorrow_in_new_york_is_stored(site, arxiv_server, capsys):
    """arXiv announces at 20:00 ET the listing dated the next day: one day ahead is accepted."""
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    code, out, _ = update(site, capsys, "--now", "2024-11-27T21:30:00-05:00")
    assert code == 0 and "2024-11-28: 513 papers stored" in out


def test_empty_feed_on_an_announcement_day_is_reported(site, arxiv_server, capsys):
    arxiv_server.route(RSS_PATH, "rss_test-archive_empty_2024-11-28.xml")
    code, _, err = update(site, capsys, "--now", THU)
    assert code == 4
    assert "empty feed: arXiv's feed dated 2024-11-28 lists no papers" in err
    assert stored_files(site) == []


@pytest.mark.parametrize("now", ["2024-11-30T10:17:00+00:00", "2024-12-01T10:17:00+00:00"])
def test_weekend_is_a_clean_no_announcement(site, arxiv_server, capsys, now):
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    code, out, _ = update(site, capsys, "--now", now)
    assert code == 0
    assert "no announcement:" in out and "arXiv does not announce on weekends" in out
    assert arxiv_server.requests == []  # not even a request
    assert stored_files(site) == []


def test_holiday_is_a_clean_no_announcement(site, arxiv_server, capsys):
    # Fri 29 Nov 2024 listed as a holiday; the feed is still Thursday's: no announcement, exit 0
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write('\nARXIV_DIGEST_HOLIDAYS = ["2024-11-28", "2024-11-29"]\n')
    arxiv_server.route(RSS_PATH, "rss_all-archives_2024-11-28.xml")
    code, out, _ = update(site, capsys, "--now", "2024-11-29T10:17:00+00:00")
    assert code == 0 and "2024-11-29 is an arXiv holiday" in out
    assert stored_files(site) == []
    # a listed holiday on which arXiv announced after all: the day is stored, never skipped
    code, out, _ = update(site, capsys, "--now", THU)
    assert code == 0 and "2024-11-28: 513 papers stored" in out


API_FIXTURE = "api2026_query_cat-cs.LG_OR_cat-cs.AI_start0_max20.xml"


def test_backfill_pages_through_the_api_for_the_announced_window(site, arxiv_server, capsys):
    # the recorded papers were submitted on Wed 29 Apr 2026, announced Thu 30 Apr
    arxiv_server.route("/api/query", paged_feed(API_FIXTURE))
    code, out, _ = update(site, capsys, "--date", "2026-04-30", "--now", "2026-05-01T12:00:00+00:00")
    assert code == 0, out
    queries = [r.query for r in arxiv_server.requests]
    assert [q["start"][0] for q in queries] == ["0", "7", "14"]
    assert all(q["search_query"][0].endswith("submittedDate:[202604281800 TO 202604291759]")
               for q in queries)
    assert queries[0]["search_query"][0].startswith("(cat:cs.AI OR cat:cs.CL OR cat:cs.CV OR cat:cs.LG)")
    gaps = [b.at - a.at for a, b in zip(arxiv_server.requests, arxiv_server.requests[1:], strict=False)]
    assert min(gaps) >= 0.2  # one request per delay, across pages
    day = json.loads((site / "content/digests/2026/2026-04-30.json").read_text())
    assert day["source"] == "api" and len(day["papers"]) == 20
    assert {p["announce_type"] for p in day["papers"]} <= {"new", "cross"}


def test_backfill_refuses_an_incomplete_result(site, arxiv_server, capsys):
    # the recorded response says 364218 results but holds 20: never store a partial day
    arxiv_server.route("/api/query", API_FIXTURE)
    code, _, err = update(site, capsys, "--date", "2026-04-30", "--now", "2026-05-01T12:00:00+00:00")
    assert code == 3
    assert "the page starts at 0; refusing to store a day from misaligned pages" in err
    assert stored_files(site) == []


def test_backfill_truncated_second_page_fails_cleanly(site, arxiv_server, capsys):
    arxiv_server.route("/api/query", paged_feed(API_FIXTURE))
    arxiv_server.fault("/api/query", Fault(), Fault(truncate=3000))
    code, _, err = update(site, capsys, "--date", "2026-04-30", "--now", "2026-05-01T12:00:00+00:00")
    assert code == 3 and "malformed or truncated XML" in err
    assert stored_files(site) == []


def test_backfill_of_a_saturday_or_the_future(site, arxiv_server, capsys):
    code, out, _ = update(site, capsys, "--date", "2026-05-02", "--now", "2026-05-04T12:00:00+00:00")
    assert code == 0 and "Saturday" in out
    code, _, err = update(site, capsys, "--date", "2026-05-08", "--now", "2026-05-04T12:00:00+00:00")
    assert code == 4 and "in the future" in err
    assert arxiv_server.requests == []


def test_backfill_empty_page_mid_way_is_an_error(site, arxiv_server, capsys):
    empty = (FIXTURES / "api2026_idlist_0000.0000.xml").read_bytes()  # a real empty API page
    arxiv_server.route("/api/query", paged_feed(API_FIXTURE))
    arxiv_server.fault("/api/query", Fault(), Fault(body=empty))
    code, _, err = update(site, capsys, "--date", "2026-04-30", "--now", "2026-05-01T12:00:00+00:00")
    assert code == 3 and "empty page after 7 results" in err
    assert stored_files(site) == []


def test_backfill_api_error_feed(site, arxiv_server, capsys):
    error = (FIXTURES / "api2026_idlist_abc_http400_error.xml").read_bytes()
    arxiv_server.route("/api/query", API_FIXTURE)
    arxiv_server.fault("/api/query", Fault(status=400, body=error))
    code, _, err = update(site, capsys, "--date", "2026-04-30", "--now", "2026-05-01T12:00:00+00:00")
    assert code == 3 and "HTTP 400" in err
    assert arxiv_server.count("/api/query") == 1  # a 400 is not retried
