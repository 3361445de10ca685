"""store.merge counts a paper as missing from a fetch only against the fetch's own sources.

A day file can hold arXiv's listing and the bioRxiv/medRxiv papers posted that day. Storing the
preprints merges them into arXiv's day (pipeline.store_preprints): arXiv's papers are not "missing"
from a bioRxiv fetch, and bioRxiv's are not missing from the next arXiv re-fetch. A paper of the
fetched source that the fetch lacks is still kept, with one warning per source.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from arxiv_digest.core import store
from arxiv_digest.core.models import Digest, Paper
from arxiv_digest.core.settings import load_settings
from arxiv_digest.update.fetch_biorxiv import fetch_interval
from arxiv_digest.update.pipeline import store_preprints
from arxiv_server import ArxivServer
from biorxiv_server import interval_records, serve_interval
from sitedata import make_site

DAY = "2024-11-28"  # the shipped day: arXiv's real listing of 513 papers
MISSING = "are not in this fetch"


@pytest.fixture
def preprints(tmp_path: Path) -> tuple[Path, list[Paper]]:
    """A site holding the real arXiv day, and 50 real bioRxiv records fetched over local HTTP."""
    site = make_site(tmp_path / "site", days={})
    cfg = site / "digest.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\nsources:\n  arxiv:\n  biorxiv:\n",
                   encoding="utf-8")
    http = ArxivServer()
    base = http.start()
    try:
        serve_interval(http, "biorxiv", "2020-01-01", "2022-12-31", interval_records("biorxiv"), (50,))
        settings = load_settings({"PATH": str(site / "content"), "ARXIV_DIGEST_CONFIG": str(cfg),
                                  "ARXIV_DIGEST_BIORXIV_API_URL": base,
                                  "ARXIV_DIGEST_REQUEST_DELAY": 0.0}, env={})
        bio = fetch_interval(settings, "biorxiv", dt.date(2020, 1, 1), dt.date(2022, 12, 31))
    finally:
        http.stop()
    return site, list(bio)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and MISSING in r.getMessage()]


def test_preprints_merged_into_arxiv_s_day_warn_about_nothing(
        preprints: tuple[Path, list[Paper]], caplog: pytest.LogCaptureFixture) -> None:
    site, bio = preprints
    settings = load_settings({"PATH": str(site / "content"),
                              "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml")}, env={})
    arxiv_day = store.load_day(settings.data_dir, DAY)
    assert arxiv_day is not None and len(arxiv_day.papers) == 513
    caplog.set_level(logging.WARNING)
    # the real path: bioRxiv's papers stored into arXiv's day, under its lock
    store_preprints(settings, "biorxiv", dt.date.fromisoformat(DAY), tuple(bio))
    assert warnings(caplog) == []  # was "513 stored papers are not in this fetch"
    both = store.load_day(settings.data_dir, DAY)
    assert both is not None
    assert {p.source for p in both.papers} == {"arxiv", "biorxiv"}
    assert len(both.papers) == 513 + len(bio)

    # arXiv's listing fetched again (all 513): bioRxiv's papers are not missing from it
    caplog.clear()
    merged = store.merge(both, arxiv_day)
    assert warnings(caplog) == [] and len(merged.papers) == len(both.papers)

    # a source's own paper absent from its re-fetch: kept, one warning naming that source only
    caplog.clear()
    fewer_arxiv = replace(arxiv_day, papers=arxiv_day.papers[3:])
    fewer_bio = Digest(date=DAY, categories=(), source="api", papers=tuple(bio[1:]))
    merged = store.merge(store.merge(both, fewer_arxiv), fewer_bio)
    assert warnings(caplog) == [
        f"{DAY}: 3 stored papers are not in this fetch; they are kept (arxiv)",
        f"{DAY}: 1 stored papers are not in this fetch; they are kept (biorxiv)",
    ]
    assert {p.id for p in merged.papers} == {p.id for p in both.papers}


def test_hostile_sources_are_counted_apart_and_an_empty_fetch_warns_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    """Unknown or markup source names are kept apart (never lumped with arXiv), and a fetch with
    no papers says nothing of any source."""
    base = Paper(id="2411.00001", version=1, title="t", abstract="a", authors=(), categories=(),
                 primary_category="cs.LG", announce_type="new")
    old = Digest(date=DAY, categories=("cs.LG",), source="rss", papers=(
        base, replace(base, id="2411.00002"),
        replace(base, id="10.1101/x", source="<b>medrxiv</b>"),
    ))
    caplog.set_level(logging.WARNING)
    store.merge(old, replace(old, papers=()))
    assert warnings(caplog) == []
    store.merge(old, replace(old, papers=(replace(base, id="10.1101/y", source="<b>medrxiv</b>"),)))
    assert warnings(caplog) == [f"{DAY}: 1 stored papers are not in this fetch; they are kept (<b>medrxiv</b>)"]
