"""Component tests: `python -m arxiv_digest update` against recorded arXiv responses over HTTP.

The real requests/arxiv/lxml stack talks to a local server on 127.0.0.1 that serves the recorded
feeds in ../shared/fixtures/arxiv, and injects the faults arXiv really produces.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from arxiv_digest.cli.commands import main
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


# --- links back into earlier days, written in place -------------------------------------------

EARLIER = "2024-11-27"


@pytest.fixture(scope="module")
def real_records() -> tuple:
    """The 1,504 real papers of the recorded feed (every category), normalised."""
    from arxiv_digest.update.fetch import parse_rss
    from arxiv_digest.update.normalize import normalize

    day = parse_rss((FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes(), "feed")
    return normalize(day.records, [])


def _store_day(data: Path, papers: tuple) -> Path:
    """A day stored as update stores it: store.save, then indexed (enrich.dayindex.remember)."""
    from arxiv_digest.core import store
    from arxiv_digest.core.models import Digest
    from arxiv_digest.enrich import dayindex

    digest = Digest(date=EARLIER, categories=("cs.AI", "cs.CL", "cs.CV", "cs.LG"), source="rss",
                    papers=papers, announced={"new": len(papers)},
                    extra={"briefings": {"en": {"topics": {"pruning": {"text": "x"}}}}})
    path = store.save(data, digest)
    dayindex.remember(data, path, digest)
    return path


def _later_day(earlier: tuple, n: int) -> object:
    """The next day: n replacements of earlier papers (version + 1) and n re-submissions of
    earlier titles under new ids, each linking back to the earlier day."""
    from dataclasses import replace

    from arxiv_digest.core.models import Digest, Related, VersionRef

    papers = []
    for k, p in enumerate(earlier[:n]):
        papers.append(replace(p, version=p.version + 1, announce_type="replace",
                              versions=(VersionRef(EARLIER, p.version),)))
        other = earlier[-1 - k]
        papers.append(replace(other, id=f"2411.9{k:04d}", related=(Related(EARLIER, other.id),)))
    return Digest(date="2024-11-28", categories=("cs.AI",), source="rss", papers=tuple(papers))


def _expected(path: Path, later) -> bytes:
    """What reading, linking and writing the whole day file gives (store.load -> store.dumps)."""
    from arxiv_digest.core import store
    from arxiv_digest.enrich.backlinks import _linked, wanted

    stored = store.load(path)
    links = wanted(later)[EARLIER]
    return store.dumps(stored.with_papers(tuple(_linked(p, links) for p in stored.papers))).encode()


def test_link_back_edits_only_the_linked_papers_and_writes_what_a_whole_rewrite_writes(
        tmp_path, real_records, monkeypatch):
    """A real-size earlier day (700 real papers, hostile text among them): 200 of its papers get
    a link back. Only their blocks are written again, and the file is byte for byte what reading
    and writing the whole day gives; its index is stamped for the new bytes (no re-read)."""
    from dataclasses import replace

    from arxiv_digest.core import store
    from arxiv_digest.core.filekeys import file_key
    from arxiv_digest.core.models import Related, VersionRef
    from arxiv_digest.enrich import backlinks, dayindex

    data = tmp_path / "digests"
    papers = list(real_records[:700])
    # text that looks like a paper's braces in the file's layout (escaped in JSON, so harmless)
    papers[3] = replace(papers[3], title='A "},\n    {\n title \\ with braces',
                        abstract='ends like a block\n    },\n    {\n  ]\n  "papers": [\n \u2028 é')
    papers[5] = replace(papers[5], related=(Related("2024-11-20", "2411.00001"),))
    # links already there, one of each kind: the new ones join them
    papers[-2] = replace(papers[-2], related=(Related("2024-11-20", "2411.00002"),),
                         versions=(VersionRef("2024-11-01", 1),))
    papers[1] = replace(papers[1], versions=(VersionRef("2024-11-01", 1),))
    path = _store_day(data, tuple(papers))
    later = _later_day(tuple(papers), 100)
    expected = _expected(path, later)
    before = path.read_bytes()

    def whole(*args):  # the in-place path must handle a day written by store.save
        raise AssertionError("the whole file was rewritten")

    monkeypatch.setattr(backlinks, "_rewrite", whole)
    assert backlinks.link_back(data, later, 5) == 1
    after = path.read_bytes()
    assert after == expected and after != before
    fresh = dayindex.fresh(data, after, EARLIER)
    assert fresh is not None and fresh[0]["key"] == file_key(after)
    assert [e.id for e in dayindex.day_entries(data, path)] == [p.id for p in papers]
    got = {p.id: p for p in store.load(path).papers}
    assert got[papers[3].id].title == papers[3].title
    assert Related(EARLIER, papers[0].id) not in got[papers[0].id].related
    assert got[papers[5].id].related == (Related("2024-11-20", "2411.00001"),)
    assert got[papers[-1].id].related == (Related("2024-11-28", "2411.90000"),)
    assert [v.date for v in got[papers[0].id].versions] == ["2024-11-28"]
    assert [v.date for v in got[papers[1].id].versions] == ["2024-11-01", "2024-11-28"]
    assert [r.id for r in got[papers[-2].id].related] == ["2411.00002", "2411.90001"]
    # idempotent: every link already there, nothing written
    assert backlinks.link_back(data, later, 5) == 0
    assert path.read_bytes() == after


def _compact(path: Path) -> None:
    path.write_text(json.dumps(json.loads(path.read_text())), encoding="utf-8")


def _reindented(path: Path) -> None:
    """Valid, but one linked paper's block not as store.dumps writes it (keys unsorted)."""
    day = json.loads(path.read_text())
    day["papers"][0] = dict(reversed(list(day["papers"][0].items())))
    path.write_text(json.dumps(day, indent=2, ensure_ascii=False), encoding="utf-8")


def _version_1(path: Path) -> None:
    """The same day as schema version 1 (one `summary` per paper), as older files are."""
    day = json.loads(path.read_text())
    day["schema_version"] = 1
    for p in day["papers"]:
        p["summary"] = p.pop("summaries").get("en")
    path.write_text(json.dumps(day, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")


def _hand_edited_after_indexing(path: Path) -> None:
    """A change of the same length (the index's stat catches the new mtime)."""
    text = path.read_text()
    path.write_text(text.replace('"schema_version": 2', '"schema_version": 2'), encoding="utf-8")


@pytest.mark.parametrize("edit", [_compact, _reindented, _version_1, _hand_edited_after_indexing])
def test_link_back_into_a_day_file_not_laid_out_as_store_writes_it_rewrites_it_whole(
        tmp_path, real_records, edit):
    """A day file in another layout (compact, other key order, schema version 1) or changed
    since it was indexed: the links are added by reading, validating and writing it whole."""
    from arxiv_digest.enrich import backlinks, dayindex

    data = tmp_path / "digests"
    path = _store_day(data, real_records[:500])
    edit(path)
    if edit is not _hand_edited_after_indexing:
        dayindex.day_entries(data, path)  # indexed again, as the lookback of an update does
    later = _later_day(real_records[:500], 20)
    expected = _expected(path, later)
    assert backlinks.link_back(data, later, 5) == 1
    assert path.read_bytes() == expected
    assert json.loads(expected)["schema_version"] == 2


@pytest.mark.parametrize("bad", ['"version": "two"', '"papers": {}', "{ not json"])
def test_link_back_never_writes_into_an_invalid_day(tmp_path, real_records, caplog, bad):
    """An invalid earlier day (a wrong type, not JSON): a warning, the file left as it was."""
    from arxiv_digest.enrich import backlinks

    data = tmp_path / "digests"
    path = _store_day(data, real_records[:500])
    text = path.read_text()
    if bad.startswith("{"):
        broken = text[:-10] + bad
    elif bad.startswith('"version"'):
        broken = text.replace('"version": 1', bad, 1)
    else:
        broken = text.replace('"papers": [', '"papers": {}, "x": [', 1)
    path.write_text(broken, encoding="utf-8")
    assert backlinks.link_back(data, _later_day(real_records[:500], 5), 5) == 0
    assert path.read_text() == broken
    assert "the links back from 2024-11-28 were not written" in caplog.text


@pytest.mark.parametrize("layout", ["as stored", "compact", "one id twice"])
def test_earlier_versions_read_from_their_blocks_are_the_stored_papers(tmp_path, real_records,
                                                                        layout):
    """A replacement's earlier version is parsed from its own block of the day file that holds
    it (not the whole file); any other layout is parsed whole, with the same result."""
    from dataclasses import replace

    from arxiv_digest.enrich import versions

    data = tmp_path / "digests"
    papers = list(real_records[:600])
    papers[7] = replace(papers[7], abstract='"id": "2411.00001",\n    {\n  "date": x')
    path = _store_day(data, tuple(papers))
    if layout == "compact":
        _compact(path)
    elif layout == "one id twice":
        day = json.loads(path.read_text())
        day["papers"].append(dict(day["papers"][3], title="The same id again"))
        path.write_text(json.dumps(day, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    later = [replace(p, version=p.version + 1, announce_type="replace") for p in papers[:150]]
    found = versions.earlier_versions(data, "2024-11-28", later)
    from_blocks = versions._blocks(path.read_bytes(), EARLIER, {p.id for p in later})
    assert (from_blocks is not None) == (layout == "as stored")
    stored = {p.id: p for p in papers}
    if layout == "one id twice":  # the last one in the file, as ever
        stored[papers[3].id] = replace(papers[3], title="The same id again")
    assert found == {p.id: (EARLIER, stored[p.id]) for p in papers[:150]}
