"""`backfill --source biorxiv|medrxiv` and `status` per source, through the CLI over real local HTTP.

The recorded medRxiv interval page (tests/biorxiv_server.py: 50 real records posted 2020-01-02 ..
2020-01-10, none on the weekend of 4-5 January) is served as the API would answer each interval
query of the backfill, paged by the count each page reports. The real-size run serves the 1,504
real records of the 28 November 2024 arXiv feed (title, abstract, authors) in the API's record
shape over a week of posting days: the identity fields (DOI, date, category) are derived, the
text is real, and the answers are paged as the server pages them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.core import store
from arxiv_digest.core.models import Digest
from arxiv_server import FIXTURES as ARXIV_FIXTURES
from arxiv_server import ArxivServer, Fault
from biorxiv_server import interval_records, serve_interval
from lxml import etree

NOW = "2020-01-12T08:00:00+00:00"  # yesterday, UTC: 2020-01-11


@pytest.fixture
def site(site_dir: Path, arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site listing arXiv and medRxiv (every category), whose API is the local server."""
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.0\nARXIV_DIGEST_RETRIES = 1\n"
                "ARXIV_DIGEST_TIMEOUT = 2.0\n")
    with open(site_dir / "digest.yaml", "a", encoding="utf-8") as f:
        f.write("\nsources:\n  arxiv:\n  medrxiv:\n  biorxiv:\n")
    monkeypatch.setenv("ARXIV_DIGEST_BIORXIV_API_URL", arxiv_server.base_url)  # type: ignore[attr-defined]
    monkeypatch.chdir(site_dir)
    return site_dir


def run(site: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-s", str(site / "pelicanconf.py"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def serve_runs(http: ArxivServer, server: str, records: list[dict[str, Any]],
               runs: list[tuple[str, str]], sizes: tuple[int, ...] = (7,)) -> dict[tuple[str, str], Any]:
    """Serve each interval query the backfill makes: the records posted inside it."""
    paths = {}
    for a, b in runs:
        inside = [r for r in records if a <= r["date"] <= b]
        paths[(a, b)] = serve_interval(http, server, a, b, inside, sizes)
    return paths


def stored_days(site: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((site / "content" / "digests").rglob("*.json"))}


def test_backfill_a_source_by_interval_resumes_and_status_counts_its_own_days(
        site: Path, arxiv_server: ArxivServer, capsys: pytest.CaptureFixture[str]) -> None:
    records = interval_records("medrxiv")
    # a week per interval query: 2020-01-02..08, then 09..11 (the last complete day, by --now)
    runs = [("2020-01-02", "2020-01-08"), ("2020-01-09", "2020-01-11")]
    paths = serve_runs(arxiv_server, "medrxiv", records, [*runs, ("2020-01-04", "2020-01-05")])
    # the second interval fails (503 after the retry): the first week is stored and kept
    arxiv_server.fault_always(paths[runs[1]](0), Fault(status=503))
    code, out, err = run(site, capsys, "backfill", "--source", "medrxiv", "--from", "2020-01-02",
                         "--to", "2020-01-20", "--now", NOW)
    assert code == 3, err
    assert "2020-01-20 is not over yet: stopping at 2020-01-11" in err
    assert "error: backfill stopped at 2020-01-09" in err and "HTTP 503" in err
    assert ("python -m arxiv_digest backfill --source medrxiv --from 2020-01-09 --to 2020-01-11"
            in err)
    days = stored_days(site)
    posted = sorted({r["date"] for r in records if r["date"] <= "2020-01-08"})
    assert sorted(days) == posted  # 4 and 5 January: no posts, no file
    for iso, data in days.items():
        want = {r["doi"] for r in records if r["date"] == iso}
        assert {p["id"] for p in data["papers"]} == want
        assert {p["source"] for p in data["papers"]} == {"medrxiv"}
    # every page of the first week asked once, the second week's first page twice (retried)
    first_week = [r for r in records if r["date"] <= "2020-01-08"]
    assert sum(arxiv_server.count(paths[runs[0]](c)) for c in range(0, len(first_week), 7)) \
        == -(-len(first_week) // 7)
    assert arxiv_server.count(paths[runs[1]](0)) == 2

    # status: medRxiv's own days and gaps (every calendar day), no arXiv gaps from 2020
    code, out, _ = run(site, capsys, "status", "--now", NOW)
    assert code == 0
    text = " ".join(out.split())
    assert f"medrxiv: {len(posted)} posting day(s) stored (2020-01-02 .. 2020-01-08)" in text
    assert ("gaps: 5 posting day(s) without medrxiv papers since its first stored day (it posts "
            "every day): 2020-01-04..2020-01-05, 2020-01-09..2020-01-11") in text
    assert "fill them: python -m arxiv_digest backfill --source medrxiv --from 2020-01-04 --to 2020-01-11" in text
    assert "biorxiv: no posting day stored yet" in text
    assert "announcement day(s) not stored" not in text  # no arXiv day stored: no arXiv gaps

    # resume: stored days are skipped without a request; the rest is fetched and stored
    arxiv_server.fault_always(paths[runs[1]](0), None)
    before = len(arxiv_server.requests)
    code, out, err = run(site, capsys, "backfill", "--source", "medrxiv", "--from", "2020-01-02",
                         "--to", "2020-01-11", "--now", NOW)
    assert code == 0, err
    asked = {r.path.split("/")[3] + ".." + r.path.split("/")[4] for r in arxiv_server.requests[before:]}
    assert asked == {"2020-01-04..2020-01-05", "2020-01-09..2020-01-11"}
    assert ("backfill 2020-01-02..2020-01-11: 10 medrxiv posting days; 2 stored, 5 skipped "
            "(already stored), 3 with no posts") in " ".join(out.split())
    days = stored_days(site)
    assert sorted(days) == sorted({r["date"] for r in records})
    assert sum(len(d["papers"]) for d in days.values()) == len(
        {(r["date"], r["doi"]) for r in records})
    # a server that digest.yaml does not list, and a range the wrong way round
    (site / "digest.yaml").write_text((site / "digest.yaml").read_text(encoding="utf-8").replace(
        "  biorxiv:\n", ""), encoding="utf-8")
    code, _, err = run(site, capsys, "backfill", "--source", "biorxiv", "--from", "2020-01-02",
                       "--to", "2020-01-03", "--now", NOW)
    assert code == 2 and "sources: expected biorxiv to be listed" in err
    code, _, err = run(site, capsys, "backfill", "--source", "medrxiv", "--from", "2020-01-09",
                       "--to", "2020-01-02", "--now", NOW)
    assert code == 2 and "--from 2020-01-09 is after --to 2020-01-02" in err


def test_an_interval_short_of_its_reported_total_stores_nothing(
        site: Path, arxiv_server: ArxivServer, capsys: pytest.CaptureFixture[str]) -> None:
    records = [r for r in interval_records("medrxiv") if r["date"] <= "2020-01-03"]
    serve_interval(arxiv_server, "medrxiv", "2020-01-02", "2020-01-03", records, (10,),
                   total=len(records) + 5)
    code, _, err = run(site, capsys, "backfill", "--source", "medrxiv", "--from", "2020-01-02",
                       "--to", "2020-01-03", "--now", NOW)
    assert code == 3 and f"an empty page at cursor {len(records)} of {len(records) + 5}" in err
    assert stored_days(site) == {}


def test_a_source_day_beside_an_arxiv_day_is_not_skipped(
        site: Path, arxiv_server: ArxivServer, capsys: pytest.CaptureFixture[str]) -> None:
    """A day file holding arXiv's listing only is not stored for medRxiv: the backfill fetches it
    and merges; arXiv's papers stay. --force fetches a day that holds medRxiv papers again."""
    data = site / "content" / "digests"
    real = json.loads((Path(__file__).resolve().parents[1] / "content/digests/2024/2024-11-28.json")
                      .read_text(encoding="utf-8"))
    arxiv_paper = real["papers"][0]
    store.save(data, Digest.from_dict({**real, "date": "2020-01-03", "papers": [arxiv_paper]}))
    records = [r for r in interval_records("medrxiv") if r["date"] == "2020-01-03"]
    path = serve_interval(arxiv_server, "medrxiv", "2020-01-03", "2020-01-03", records, (5,))
    args = ("backfill", "--source", "medrxiv", "--from", "2020-01-03", "--to", "2020-01-03", "--now", NOW)
    code, out, err = run(site, capsys, *args)
    assert code == 0, err
    (day,) = stored_days(site).values()
    assert day["papers"][0]["id"] == arxiv_paper["id"]
    assert {p["id"] for p in day["papers"][1:]} == {r["doi"] for r in records}
    assert day["categories"] == real["categories"]
    code, out, _ = run(site, capsys, *args)
    assert code == 0 and "1 skipped" in out and arxiv_server.count(path(0)) == 1
    code, out, _ = run(site, capsys, *args, "--force")
    assert code == 0 and "1 stored" in out and arxiv_server.count(path(0)) == 2
    assert [p["id"] for p in stored_days(site)["2020-01-03"]["papers"]] == [p["id"] for p in day["papers"]]


_NS = {"dc": "http://purl.org/dc/elements/1.1/"}
_ABSTRACT = re.compile(r"arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?(.*)", re.S)


def rss_as_server_records(n_days: int, start: dt.date) -> list[dict[str, Any]]:
    """The 1,504 real items of the recorded feed in the API's record shape: real title, abstract
    and authors ("Last, F." as the servers write them); DOI, posting date and category derived."""
    channel = etree.parse(str(ARXIV_FIXTURES / "rss_all-archives_2024-11-28.xml")).getroot().find("channel")
    assert channel is not None
    out = []
    for i, item in enumerate(channel.findall("item")):
        m = _ABSTRACT.match(item.findtext("description") or "")
        assert m
        names = [a.strip() for a in (item.findtext("dc:creator", namespaces=_NS) or "").split(",") if a.strip()]
        authors = "; ".join(f"{n.split()[-1]}, {' '.join(n.split()[:-1])}" if " " in n else n for n in names)
        day = start + dt.timedelta(days=i % n_days)
        out.append({
            "doi": f"10.1101/{day:%Y.%m.%d}.{500000 + i}", "title": item.findtext("title") or "",
            "authors": authors, "author_corresponding": "", "author_corresponding_institution": "",
            "date": day.isoformat(), "version": "1", "type": "new results", "license": "cc_by",
            "category": "bioinformatics", "jatsxml": "", "abstract": m.group(1).strip(),
            "funder": "NA", "published": "NA", "server": "bioRxiv",
        })
    return out


def test_real_size_backfill_of_a_week(site: Path, arxiv_server: ArxivServer,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """1,504 real records over 7 posting days, one interval query paged 100 at a time (the
    server's page size): every record arrives on its day, and status counts the week."""
    records = rss_as_server_records(7, dt.date(2024, 11, 21))
    path = serve_interval(arxiv_server, "biorxiv", "2024-11-21", "2024-11-27", records, (100,))
    code, out, err = run(site, capsys, "backfill", "--source", "biorxiv", "--from", "2024-11-21",
                         "--to", "2024-11-27", "--now", "2024-11-28T08:00:00+00:00")
    assert code == 0, err
    assert "7 stored" in out and f"{len(records):,} papers fetched" in out
    assert sum(arxiv_server.count(path(c)) for c in range(0, len(records), 100)) == 16
    days = stored_days(site)
    assert sorted(days) == [f"2024-11-{d}" for d in range(21, 28)]
    for iso, data in days.items():
        assert {p["id"] for p in data["papers"]} == {r["doi"] for r in records if r["date"] == iso}
    code, out, _ = run(site, capsys, "status", "--now", "2024-11-28T08:00:00+00:00")
    text = " ".join(out.split())
    assert f"biorxiv: 7 posting day(s) stored (2024-11-21 .. 2024-11-27), {len(records):,} papers" in text
    assert "gaps: none up to 2024-11-27" in text
