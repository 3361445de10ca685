"""The build's per-day cache (plugins/arxiv_digest/daycache.py): an incremental build is byte-identical
to a cold one, a digest.yaml edit re-decides every day, a broken cache entry is only a miss.

The archive is the real 2024-11-28 day (513 papers) plus the made-up days of tests/sitedata.py
(math, a holiday, a month boundary, a paginated topic), built by Pelican in-process.
"""

from __future__ import annotations

import filecmp
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
import yaml
from arxiv_digest.daycache import CACHE_DIR, canonical, workers
from arxiv_digest.errors import StoreError
from arxiv_digest.models import Paper, _explain_invalid_paper, _is_valid_paper
from conftest import build_site
from sitedata import make_site

LATE_DAY = "2024-12-26"  # the day "announced" after the first build


def cache_root(site: Path) -> Path:
    return site / "content" / "digests" / CACHE_DIR


def entries(site: Path) -> dict[Path, int]:
    """Every cache entry and its mtime."""
    return {p: p.stat().st_mtime_ns for p in cache_root(site).glob("*/*.pickle")}


def tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def assert_identical(a: Path, b: Path) -> None:
    """Same files, same bytes."""
    files = tree(a)
    assert files == tree(b)
    _, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert not mismatch and not errors, f"differ: {mismatch[:10]} {errors[:10]}"


def cold_build(site: Path, output: Path) -> Path:
    """A build with no cache and a fresh output folder."""
    shutil.rmtree(cache_root(site), ignore_errors=True)
    return build_site(site, output)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = make_site(tmp_path_factory.mktemp("archive"))
    late = site / "content" / "digests" / LATE_DAY[:4] / f"{LATE_DAY}.json"
    shutil.move(late, site / f"{LATE_DAY}.json")  # not announced yet
    return site


@pytest.fixture(scope="module")
def incremental(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build, announce one more day, build again on the kept output/ and cache."""
    output = tmp_path_factory.mktemp("kept") / "output"
    shutil.rmtree(cache_root(site), ignore_errors=True)
    build_site(site, output)
    before = entries(site)
    assert len(before) == 5  # one entry per day file
    shutil.copy(site / f"{LATE_DAY}.json", site / "content" / "digests" / LATE_DAY[:4])
    build_site(site, output)
    after = entries(site)
    assert {p: t for p, t in after.items() if p in before} == before  # every old day: a hit
    assert [p.name.split(".")[0] for p in set(after) - set(before)] == [LATE_DAY]
    return output


def test_incremental_build_is_byte_identical_to_a_cold_build(
        site: Path, incremental: Path, tmp_path: Path) -> None:
    cold = cold_build(site, tmp_path / "cold")
    assert (cold / "2024/12/26/index.html").is_file()
    assert_identical(incremental, cold)


def test_a_warm_build_is_byte_identical_to_a_cold_build(site: Path, incremental: Path,
                                                        tmp_path: Path) -> None:
    build_site(site, tmp_path / "a")  # fills the cache (OUTPUT_PATH is no part of its key)
    filled = entries(site)
    warm = build_site(site, tmp_path / "warm")  # every day from the cache
    assert entries(site) == filled  # nothing rewritten: every day was a hit
    assert_identical(warm, cold_build(site, tmp_path / "cold"))


def test_digest_yaml_change_re_decides_every_day(site: Path, incremental: Path, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    build_site(site, tmp_path / "before")  # the cache holds every day under the old config
    old_fingerprints = {p.name for p in cache_root(site).iterdir()}
    day = (tmp_path / "before" / "2024/11/28/index.html").read_text(encoding="utf-8")
    assert 'data-tag="kv-cache"' in day
    config = site / "digest.yaml"
    saved = config.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(saved)
        del data["topics"]["kv-cache"]
        config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        with caplog.at_level(logging.INFO, logger="arxiv_digest.daycache"):
            changed = build_site(site, tmp_path / "after")  # warm cache of the old config
        if workers() > 1:  # decided in parallel before Pelican reads the days
            assert "Build cache: 6 of 6 day(s) decided and rendered" in caplog.text
        new = {p.name for p in cache_root(site).iterdir()} - old_fingerprints
        assert len(new) == 1  # a new fingerprint, and every day decided again under it
        assert len(list((cache_root(site) / new.pop()).glob("*.pickle"))) == 6
        for page in (changed / "2024").rglob("index.html"):
            assert 'data-tag="kv-cache"' not in page.read_text(encoding="utf-8")
        assert_identical(changed, cold_build(site, tmp_path / "cold"))
    finally:
        config.write_text(saved, encoding="utf-8")


@pytest.mark.parametrize("damage", [b"", b"\x80garbage", b"truncated"])
def test_a_broken_cache_entry_is_a_miss(site: Path, incremental: Path, tmp_path: Path,
                                        damage: bytes) -> None:
    shutil.rmtree(cache_root(site), ignore_errors=True)
    build_site(site, tmp_path / "fill")
    for entry in entries(site):
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2] if damage == b"truncated" else damage)
    rebuilt = build_site(site, tmp_path / "rebuilt")
    assert all(os.path.getsize(p) > 1000 for p in entries(site))  # written again
    assert_identical(rebuilt, cold_build(site, tmp_path / "cold"))


def test_fingerprint_ignores_memory_addresses_and_set_order() -> None:
    class Thing:
        pass

    a = {"X": {3, 1, 2}, "F": Thing(), "G": len, "P": Path("/x"), "D": {"b": 1, "a": [Thing()]}}
    b = {"D": {"a": [Thing()], "b": 1}, "P": Path("/x"), "G": len, "F": Thing(), "X": {2, 3, 1}}
    assert json.dumps(canonical(a), sort_keys=True) == json.dumps(canonical(b), sort_keys=True)


GOOD = {"id": "2411.00001", "version": 1, "title": "T", "authors": ["A"], "abstract": "B",
        "categories": ["cs.LG"], "primary_category": "cs.LG", "announce_type": "new",
        "comment": None, "doi": None, "journal_ref": None, "tags": {"t": ["w"]},
        "topics": {"t": {"tier": "about"}}, "related": [{"date": "2024-11-27", "id": "x"}],
        "summaries": {}}
BAD_VALUES = [None, 0, -1, True, 1.5, "", "x", [], ["x"], [1], {}, {"a": 1}, {"a": ["x"]},
              [{"date": "d", "id": 1}], [{"date": "d", "id": "i"}], "new", "replace-cross"]


def test_fast_validation_rejects_exactly_what_the_detailed_checks_reject() -> None:
    """Day files are validated by a fast test; the detailed checks only word the error."""
    good = {**Paper.from_dict(GOOD).to_dict(), **GOOD}  # every field a paper has today
    cases = [good, [], "paper", {}]
    for key in good:
        for value in BAD_VALUES:
            cases.append({**good, key: value})
        cases.append({k: v for k, v in good.items() if k != key})
    assert len(cases) > 250
    invalid = 0
    for case in cases:
        with pytest.raises(StoreError) as e:
            _explain_invalid_paper(case, "paper")
        passed = str(e.value).endswith(": not a valid paper")  # every detailed check passed
        invalid += not passed
        assert _is_valid_paper(case) == passed, case
        if not passed:
            with pytest.raises(StoreError, match=r"^paper"):
                Paper.from_dict(case)
    assert invalid > 150
    assert _is_valid_paper(GOOD)
    assert {k: v for k, v in Paper.from_dict(GOOD).to_dict().items() if k in GOOD} == GOOD


def test_prefill_relays_what_workers_log_and_fills_the_cache(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Missing days are made in forked workers; what they log reaches the build's log once."""
    from arxiv_digest.daycache import DayCache, file_hash, prefill

    days = []
    for n in range(1, 6):
        path = tmp_path / "2024" / f"2024-11-0{n}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"n": n}), encoding="utf-8")
        days.append(path)
    broken = days[-1]

    def make(path: Path, raw: bytes) -> dict[str, int]:
        if path == broken:
            raise ValueError("a broken day: the reader reports it")
        logging.getLogger("arxiv_digest.render").warning("%s: made in a worker", path.stem)
        return {"n": json.loads(raw)["n"], "pid": os.getpid()}

    cache = DayCache(tmp_path, "f" * 20)
    with caplog.at_level(logging.INFO):
        made = prefill(cache, days, make, processes=2)
    assert made == 4
    for path in days[:-1]:
        value = cache.get(path.stem, file_hash(path.read_bytes()))
        assert value is not None and value["pid"] != os.getpid()  # made in a worker
        assert caplog.text.count(f"{path.stem}: made in a worker") == 1
    assert cache.get(broken.stem, file_hash(broken.read_bytes())) is None  # left to the reader
    assert prefill(cache, days, make, processes=2) == 0  # only the broken day is missing
