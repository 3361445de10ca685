"""bioRxiv/medRxiv: the `sources:` config, and fetching recorded API answers over real local HTTP.

The answers are built by tests/biorxiv_server.py from the real records in ../shared/fixtures/biorxiv,
served to fetch.py's one HTTP layer (requests/urllib3) by tests/arxiv_server.py.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.core.errors import ConfigError, FetchError
from arxiv_digest.core.models import Paper
from arxiv_digest.core.settings import SERVER_CATEGORIES, DigestSettings, load_settings
from arxiv_digest.update.fetch_biorxiv import fetch_day, fetch_interval, split_authors
from arxiv_server import ArxivServer, Fault
from biorxiv_server import (
    by_doi_records,
    compact,
    interval_page,
    interval_records,
    serve_interval,
)
from conftest import pelican_settings

START, END = "2020-01-01", "2022-12-31"
D0, D1 = dt.date(2020, 1, 1), dt.date(2022, 12, 31)


def _settings(tmp_path: Path, yaml_text: str = "", **over: Any) -> DigestSettings:
    cfg = tmp_path / "digest.yaml"
    cfg.write_text(yaml_text, encoding="utf-8")
    return load_settings(pelican_settings(tmp_path, ARXIV_DIGEST_CONFIG=str(cfg), **over), env={})


@pytest.fixture
def settings(tmp_path: Path, arxiv_server: ArxivServer) -> DigestSettings:
    return _settings(tmp_path, ARXIV_DIGEST_BIORXIV_API_URL=arxiv_server.base_url,  # type: ignore[attr-defined]
                     ARXIV_DIGEST_REQUEST_DELAY=0.0, ARXIV_DIGEST_RETRIES=2)


# --- configuration ---------------------------------------------------------------------------

def test_no_sources_section_means_arxiv_only(tmp_path: Path) -> None:
    s = _settings(tmp_path, "topics: {x: {terms: [x]}}\n")
    assert [(x.name, x.categories) for x in s.sources] == [("arxiv", s.categories)]


def test_sources_section_parsed_and_spellings_normalised(tmp_path: Path) -> None:
    s = _settings(tmp_path, """
sources:
  arxiv:
  biorxiv: {categories: [Neuroscience, cell_biology, "cell  biology"]}
  medrxiv: {}
""")
    assert [(x.name, x.categories) for x in s.sources] == [
        ("arxiv", s.categories), ("biorxiv", ("neuroscience", "cell biology")), ("medrxiv", ())]


@pytest.mark.parametrize("body, key, expected", [
    ("sources: {chemrxiv: {}}", "sources.chemrxiv", "one of the sources arxiv, biorxiv, medrxiv"),
    ("sources: {biorxiv: {categories: [neuroscince]}}", "sources.biorxiv.categories",
     "biorxiv subject categories, one of: animal behavior and cognition"),
    ("sources: {medrxiv: {categories: [neuroscience]}}", "sources.medrxiv.categories",
     "medrxiv subject categories"),
    ("sources: {medrxiv: {categories: []}}", "sources.medrxiv.categories", "a non-empty list"),
    ("sources: {medrxiv: {subjects: [x]}}", "sources.medrxiv", "only the key 'categories'"),
    ("sources: {arxiv: {categories: [cs.LG]}}", "sources.arxiv", "ARXIV_DIGEST_CATEGORIES"),
    ("sources: [biorxiv]", "sources", "a mapping of source names"),
])
def test_bad_sources_name_file_key_and_expectation(tmp_path: Path, body: str, key: str,
                                                   expected: str) -> None:
    with pytest.raises(ConfigError) as e:
        _settings(tmp_path, body + "\n")
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path / 'digest.yaml'}: {key}: expected "), msg
    assert expected in msg


def test_known_categories_cover_every_recorded_record() -> None:
    for server in ("biorxiv", "medrxiv"):
        for rec in interval_records(server) + by_doi_records(server):
            assert rec["category"] in SERVER_CATEGORIES[server], rec["category"]


# --- fetching --------------------------------------------------------------------------------

def test_pages_by_cursor_with_reported_count(settings: DigestSettings, arxiv_server: ArxivServer) -> None:
    records = interval_records("biorxiv")
    path = serve_interval(arxiv_server, "biorxiv", START, END, records, sizes=(7, 20, 23))
    papers = fetch_interval(settings, "biorxiv", D0, D1)
    assert [r.path for r in arxiv_server.requests] == [path(0), path(7), path(27)]
    dois = {r["doi"] for r in records}
    assert [p.id for p in papers] == sorted(dois)
    # one paper per DOI, the highest version; the earlier ones are known versions
    by_id = {p.id: p for p in papers}
    for doi in dois:
        versions = sorted({int(r["version"]) for r in records if r["doi"] == doi})
        p = by_id[doi]
        assert p.version == versions[-1]
        assert p.announce_type == ("new" if p.version == 1 else "replace")
    assert by_id["10.1101/008326"].version == 4  # v3 and v4 are both on the page
    assert all(p.source == "biorxiv" for p in papers)


def test_record_mapping(settings: DigestSettings, arxiv_server: ArxivServer) -> None:
    records = interval_records("medrxiv")
    serve_interval(arxiv_server, "medrxiv", START, END, records, sizes=(50,))
    papers = {p.id: p for p in fetch_interval(settings, "medrxiv", D0, D1)}
    for rec in records:
        p = papers[rec["doi"]]
        if p.version != int(rec["version"]):
            continue
        assert p.categories == (rec["category"],) and p.primary_category == rec["category"]
        assert p.license == (rec["license"] or None)
        assert p.doi == (None if rec["published"] == "NA" else rec["published"])
        assert len(p.authors) == len([a for a in rec["authors"].split(";") if a.strip()])
        assert p.title == " ".join(rec["title"].split())
        assert p.abs_url == f"https://www.medrxiv.org/content/{rec['doi']}v{rec['version']}"
        assert p.pdf_url.endswith(".full.pdf")
    assert split_authors("Banno, M.; Tsujimoto, Y.; Kataoka, Y.") == (
        "M. Banno", "Y. Tsujimoto", "Y. Kataoka")
    assert split_authors("COVID-19 Genomics UK Consortium;; O'Brien, E. ") == (
        "COVID-19 Genomics UK Consortium", "E. O'Brien")


def test_versions_across_dates_from_doi_lookups(settings: DigestSettings,
                                                arxiv_server: ArxivServer) -> None:
    records = by_doi_records("medrxiv")
    serve_interval(arxiv_server, "medrxiv", START, END, records, sizes=(4,))
    p = {p.id: p for p in fetch_interval(settings, "medrxiv", D0, D1)}["10.1101/2021.12.11.21267504"]
    assert (p.version, p.announce_type, p.versions) == (3, "replace", ())


def test_category_filter_and_a_server_that_ignores_it(settings: DigestSettings,
                                                      arxiv_server: ArxivServer) -> None:
    records = interval_records("biorxiv")
    path = serve_interval(arxiv_server, "biorxiv", START, END, records, sizes=(3,))
    papers = fetch_interval(settings, "biorxiv", D0, D1, ("neuroscience", "plant biology"))
    assert {p.primary_category for p in papers} == {"neuroscience", "plant biology"}
    assert len(papers) == len({r["doi"] for r in records
                               if r["category"] in ("neuroscience", "plant biology")})
    assert {r.query.get("category", [""])[0] for r in arxiv_server.requests} == {
        "neuroscience", "plant_biology"}
    # the API answers an unknown category with everything: a record outside it is refused
    arxiv_server.routes.clear()
    serve_interval(arxiv_server, "biorxiv", START, END, records, filter_category=False)
    with pytest.raises(FetchError, match="ignored the category filter"):
        fetch_interval(settings, "biorxiv", D0, D1, ("neuroscience",))
    with pytest.raises(FetchError, match="unknown subject category"):
        fetch_interval(settings, "biorxiv", D0, D1, ("neuroscince",))
    assert path(0) == f"/details/biorxiv/{START}/{END}/0"


def test_no_posts_found_is_an_empty_day(settings: DigestSettings, arxiv_server: ArxivServer) -> None:
    serve_interval(arxiv_server, "biorxiv", "2020-01-05", "2020-01-05", [], sizes=(1,))
    assert fetch_day(settings, "biorxiv", dt.date(2020, 1, 5)) == []


def test_retries_a_503(settings: DigestSettings, arxiv_server: ArxivServer) -> None:
    records = interval_records("biorxiv")
    path = serve_interval(arxiv_server, "biorxiv", START, END, records, sizes=(25,))
    arxiv_server.fault(path(25), Fault(status=503))
    assert len(fetch_interval(settings, "biorxiv", D0, D1)) == len({r["doi"] for r in records})
    assert arxiv_server.count(path(25)) == 2


@pytest.mark.parametrize("fault, message", [
    (Fault(status=503), "HTTP 503 after retries"),
    (Fault(truncate=500), "malformed or truncated JSON"),
    (Fault(body=b""), "empty response body"),
    (Fault(body=b"<html>busy</html>"), "malformed or truncated JSON"),
    (Fault(body=b'{"messages": [{"status": "Server not recognized"}], "collection": []}'),
     "the server says 'Server not recognized'"),
    (Fault(body=b'{"messages": [{"status": "ok", "count": "x", "total": "5"}], "collection": []}'),
     "messages.count is not a number"),
])
def test_faults_are_one_clear_error(settings: DigestSettings, arxiv_server: ArxivServer,
                                    fault: Fault, message: str) -> None:
    path = serve_interval(arxiv_server, "biorxiv", START, END, interval_records("biorxiv"), sizes=(20,))
    arxiv_server.fault_always(path(20), fault)
    with pytest.raises(FetchError, match=message):
        fetch_interval(settings, "biorxiv", D0, D1)


def test_recorded_trimmed_page_is_refused(settings: DigestSettings, arxiv_server: ArxivServer) -> None:
    """The recorded page says count 100 but holds 50 records: a truncated answer, never a partial day."""
    page = interval_page("biorxiv")
    arxiv_server.route(f"/details/biorxiv/{START}/{END}/0", lambda q: compact(page))
    with pytest.raises(FetchError, match="says it holds 100 records but has 50"):
        fetch_interval(settings, "biorxiv", D0, D1)


def test_total_mismatch_is_refused(settings: DigestSettings, arxiv_server: ArxivServer) -> None:
    records = interval_records("medrxiv")
    serve_interval(arxiv_server, "medrxiv", START, END, records, sizes=(30,), total=len(records) + 10)
    with pytest.raises(FetchError, match="an empty page at cursor 50 of 60"):
        fetch_interval(settings, "medrxiv", D0, D1)
    arxiv_server.routes.clear()
    path = serve_interval(arxiv_server, "medrxiv", START, END, records, sizes=(30,))
    changed = json.loads(arxiv_server.routes[path(30)]({}))  # type: ignore[operator]
    changed["messages"][0]["total"] = "51"
    arxiv_server.fault_always(path(30), Fault(body=compact(changed)))
    with pytest.raises(FetchError, match=r"total changed while paging \(50 -> 51\)"):
        fetch_interval(settings, "medrxiv", D0, D1)


def test_records_out_of_the_interval_or_without_doi_are_refused(
        settings: DigestSettings, arxiv_server: ArxivServer) -> None:
    records = interval_records("biorxiv")
    serve_interval(arxiv_server, "biorxiv", "2020-01-08", "2020-01-08", records[:5])
    with pytest.raises(FetchError, match=r"outside 2020-01-08\.\.2020-01-08"):
        fetch_day(settings, "biorxiv", dt.date(2020, 1, 8))
    arxiv_server.routes.clear()
    bad = [{**records[0], "doi": "<script>alert(1)</script>"}]
    serve_interval(arxiv_server, "biorxiv", START, END, bad)
    with pytest.raises(FetchError, match="not a DOI"):
        fetch_interval(settings, "biorxiv", D0, D1)


def test_hostile_text_is_kept_as_text_and_round_trips(settings: DigestSettings,
                                                      arxiv_server: ArxivServer) -> None:
    rec = interval_records("medrxiv")[0]
    hostile = {**rec, "title": '<img src=x onerror=alert(1)>\u202e "quoted" \x00 & </h3>',
               "authors": "<b>Evil</b>, A.; ;;, ; Null\u0000, B.", "license": "<i>cc</i>",
               "abstract": "a\n\n\tb " * 3, "published": "NA"}
    serve_interval(arxiv_server, "medrxiv", START, END, [hostile])
    (p,) = fetch_interval(settings, "medrxiv", D0, D1)
    assert p.title.startswith("<img src=x onerror=alert(1)>")
    assert p.authors[0] == "A. <b>Evil</b>"
    assert p.abstract == "a b a b a b"
    again = Paper.from_dict(json.loads(json.dumps(p.to_dict())))
    assert again == p


def test_old_day_files_load_as_arxiv_and_new_fields_round_trip() -> None:
    old = {"id": "2411.17700", "version": 2, "title": "t", "authors": ["A"], "abstract": "a",
           "categories": ["cs.LG"], "primary_category": "cs.LG", "announce_type": "replace"}
    p = Paper.from_dict(old)
    assert (p.source, p.license, p.anchor, p.source_label) == ("arxiv", None, "2411.17700", "arXiv")
    assert "source" not in p.to_dict() and "license" not in p.to_dict()
    b = Paper.from_dict({**old, "id": "10.1101/2020.01.01.123456", "source": "biorxiv",
                         "license": "cc_by"})
    assert b.anchor == "10.1101-2020.01.01.123456"
    assert b.abs_url == "https://www.biorxiv.org/content/10.1101/2020.01.01.123456v2"
    assert Paper.from_dict(b.to_dict()) == b
    from arxiv_digest.core.errors import StoreError
    with pytest.raises(StoreError, match=r"\.source: expected one of arxiv, biorxiv, medrxiv"):
        Paper.from_dict({**old, "source": "chemrxiv"})


def test_anchor_and_label_of_any_id() -> None:
    from arxiv_digest.core.models import anchor_of, id_label
    assert anchor_of("10.1101/2020.01.01.123456") == "10.1101-2020.01.01.123456"
    assert anchor_of("10.1101/19004184") == "10.1101-19004184"  # old-style medRxiv DOI
    assert anchor_of("2411.17700") == "2411.17700"
    assert anchor_of("hep-th/9901001") == "hep-th/9901001"
    assert id_label("10.1101/19004184") == "doi:10.1101/19004184"
    assert id_label("2411.17700") == "arXiv:2411.17700"
