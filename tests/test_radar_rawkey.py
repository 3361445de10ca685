"""The radar keys a day file on what build_day reads of it from json.loads's plain dicts
(radar.raw_input_key), parsing the file (store.parse) only when that key has no entry: the same
key as radar.input_key of the parsed day, on real days (the 513-paper day, the 1,504 records of the
all-archives feed), a hostile day and days whose optional fields are missing or empty; a day file
broken where the radar reads still fails naming the file."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.core.errors import StoreError
from arxiv_digest.core.store import load, parse
from arxiv_digest.site import radar
from arxiv_digest.update.fetch import parse_rss
from arxiv_server import FIXTURES
from conftest import ROOT

DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"
FEED = FIXTURES / "rss_all-archives_2024-11-28.xml"


def real() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DAY.read_text(encoding="utf-8"))
    return data


def both(tmp_path: Path, data: Any, name: str = "2024-11-28") -> tuple[str | None, str]:
    """(raw_input_key of the JSON, input_key of the parsed file) for this day data."""
    path = tmp_path / f"{name}.json"
    raw = json.dumps(data, indent=1).encode("utf-8")
    path.write_bytes(raw)
    return radar.raw_input_key(json.loads(raw)), radar.input_key(parse(path, raw))


def feed_day() -> dict[str, Any]:
    """The 1,504 real records of the recorded all-archives feed as one day file (the real day's
    first paper as the shape of each, its radar fields from the record)."""
    fetched = parse_rss(FEED.read_bytes(), str(FEED))
    data = real()
    template = data["papers"][0]
    papers = []
    for r in fetched.records:
        m = re.fullmatch(r"(?:.*/abs/)?(.+?)(?:v(\d+))?", r.arxiv_id)
        assert m is not None
        p = copy.deepcopy(template)
        p.update(id=m.group(1), version=int(m.group(2) or 1), title=r.title, abstract=r.abstract,
                 authors=list(r.authors), announce_type=r.announce_type, categories=list(r.categories),
                 primary_category=r.categories[0] if r.categories else "", links=[])
        papers.append(p)
    data["papers"] = papers
    return data


def test_the_real_day_keys_alike(tmp_path: Path) -> None:
    raw, parsed = both(tmp_path, real())
    assert raw == parsed == radar.input_key(load(DAY))
    data = real()
    data["papers"].reverse()  # the radar's order, not the file's
    assert both(tmp_path, data) == (parsed, parsed)


def test_the_1504_record_feed_day_keys_alike(tmp_path: Path) -> None:
    data = feed_day()
    assert len(data["papers"]) == 1504
    assert len({p["announce_type"] for p in data["papers"]}) >= 3
    raw, parsed = both(tmp_path, data)
    assert raw == parsed


def test_a_hostile_day_keys_alike(tmp_path: Path) -> None:
    data = real()
    papers = data["papers"][:6]
    papers[0].update(title='</script><img src=x onerror=alert(1)> "\u2028 \u202e $x^2$',
                     authors=["<b>x</b>", "{\\L}ukasz, ,", ""], abstract="\x00\ud7ff\ud800" + "kv cache " * 20_000)
    papers[1].update(id="10.1101/2024.11.25.<b>", title="", authors=[], abstract="")
    papers[2].update(id="hep-th/9901001", links=[{"kind": "code", "url": "javascript:alert(1)"}])
    papers[3].update(id=papers[4]["id"])  # the same id twice: the file's order decides
    papers[5].update(id="2411.0001", announce_type="replace-cross", version=99)  # not as arXiv writes it
    data["papers"] = papers
    raw, parsed = both(tmp_path, data)
    assert raw == parsed


@pytest.mark.parametrize("missing", ["absent", "null", "empty"])
def test_days_without_the_optional_fields_key_alike(tmp_path: Path, missing: str) -> None:
    data = real()
    for p in data["papers"][:40]:
        for field in ("links", "related", "versions", "tags", "topics", "summaries", "claims", "comment",
                      "doi", "journal_ref", "changes"):
            if missing == "absent":
                p.pop(field, None)
            elif missing == "null" and field in ("links", "related", "versions", "comment", "doi",
                                                 "journal_ref", "changes"):
                p[field] = None
            elif field in ("links", "related", "versions", "claims"):
                p[field] = []
    data["papers"] = data["papers"][:40]
    for p in data["papers"][:3]:
        p["authors"] = []
    try:
        raw, parsed = both(tmp_path, data)
    except StoreError:  # a null the store refuses: nothing to key
        assert missing == "null"
        return
    assert raw == parsed
    data["papers"] = []
    raw, parsed = both(tmp_path, data)
    assert raw == parsed


@pytest.mark.parametrize("data", [None, [], {"date": 5, "papers": []}, {"date": "2024-11-28"},
                                  {"date": "2024-11-28", "papers": [{"id": 5}]},
                                  {"date": "2024-11-28", "papers": [{"id": "2411.00001"}]},
                                  {"date": "2024-11-28", "papers": ["x"]},
                                  {"date": "2024-11-28", "papers": [{"id": "2411.00001", "version": 1, "title": "t",
                                                                     "abstract": "a", "authors": [],
                                                                     "announce_type": "new", "links": [5]}]}])
def test_not_a_day_has_no_raw_key(data: Any) -> None:
    assert radar.raw_input_key(data) is None


def _day(data_dir: Path, data: dict[str, Any], date: str) -> Path:
    path = data_dir / date[:4] / f"{date}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(data, date=date)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize("processes", [1, 2])
def test_backlinked_days_are_keyed_without_a_parse_and_broken_ones_fail(tmp_path: Path, processes: int,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Real volume (three 513-paper days): days whose papers only gained related/version links are
    found by their raw key (none computed, the output unchanged, as a cold build writes it); a day
    broken where the radar reads (a title of the wrong type) or not JSON at all fails naming the
    file, in the workers' path and in the inline one."""
    data_dir, out = tmp_path / "digests", tmp_path / "out" / "radar"
    base = real()
    paths = [_day(data_dir, base, d) for d in ("2024-11-26", "2024-11-27", "2024-11-28")]
    todo = [(p, ["2411.18077"], f"{p.stem}/") for p in paths]
    assert radar.write_days(data_dir, todo, out, processes) == (0, 3)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for p in paths[:2]:
        d = json.loads(p.read_text(encoding="utf-8"))
        for i, q in enumerate(d["papers"]):
            if i % 3 == 0:
                q["related"] = [*q.get("related", []), {"date": "2024-12-02", "id": f"2412.{i:05d}"}]
                q["versions"] = [*q.get("versions", []), {"date": "2024-12-02", "version": q["version"] + 1}]
        p.write_text(json.dumps(d, indent=1), encoding="utf-8")
    parsed: list[Path] = []  # store.parse as it is, its calls recorded (the inline path's; a worker's are its own)

    def recording(path: Path, raw: bytes) -> Any:
        parsed.append(path)
        return parse(path, raw)

    monkeypatch.setattr(radar, "parse", recording)
    assert radar.write_days(data_dir, todo, out, processes) == (1, 0)
    assert parsed == []  # keyed from the plain JSON, in the workers (2) or inline (1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    cold = tmp_path / "cold"
    radar.write_days(data_dir, todo, cold, 1)
    assert {p.name: p.read_bytes() for p in cold.iterdir()} == before
    d = json.loads(paths[0].read_text(encoding="utf-8"))
    d["papers"][1]["title"] = 5
    paths[0].write_text(json.dumps(d), encoding="utf-8")
    paths[1].write_text('{"date": "2024-11-27", "papers": [', encoding="utf-8")
    with pytest.raises(StoreError, match=re.escape(f"{paths[0]}: cannot be indexed for the radar: {paths[0]}: ")):
        radar.write_days(data_dir, todo, out, processes)  # two changed: the workers' path first
    for path in paths[:2]:  # one changed: inline
        with pytest.raises(StoreError, match=re.escape(f"{path}: cannot be indexed for the radar: {path}: ")):
            radar.write_days(data_dir, [t for t in todo if t[0] in (path, paths[2])], out, processes)
    assert parsed[-2:] == paths[:2]  # parsed, so store.parse named what is wrong


@pytest.mark.parametrize("processes", [1, 2])
def test_days_an_update_only_linked_back_are_not_read(tmp_path: Path, processes: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A later day's update writes version links back into a real 513-paper day (the real
    enrich/backlinks.link_back, which records the step in core/relinks.py): the radar keeps that
    day's entry without reading its file at all (no json.loads, no parse), the output as it was and
    as a cold build writes it. A day whose links were edited by hand (no recorded step) is read."""
    from dataclasses import replace

    from arxiv_digest.core import relinks
    from arxiv_digest.core.models import VersionRef
    from arxiv_digest.enrich.backlinks import link_back

    data_dir, out = tmp_path / "digests", tmp_path / "out" / "radar"
    paths = [_day(data_dir, real(), d) for d in ("2024-11-26", "2024-11-27", "2024-11-28")]
    todo = [(p, ["2411.18077"], f"{p.stem}/") for p in paths]
    assert radar.write_days(data_dir, todo, out, processes) == (0, 3)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    day = load(paths[0])
    later = replace(day, date="2024-12-02", papers=tuple(
        replace(p, version=p.version + 1, versions=(VersionRef("2024-11-26", p.version),))
        for p in day.papers[:40]))
    assert link_back(data_dir, later, 5.0) == 1
    assert relinks.steps(data_dir, "2024-11-26")
    for path in paths[1:]:  # by hand: no recorded step
        d = json.loads(path.read_text(encoding="utf-8"))
        d["papers"][0]["related"] = [{"date": "2024-12-02", "id": "2412.00001"}]
        path.write_text(json.dumps(d, indent=1), encoding="utf-8")
    read: list[bytes] = []
    plain = radar.json_or_none

    def recording(raw: bytes) -> Any:
        read.append(raw)
        return plain(raw)

    monkeypatch.setattr(radar, "json_or_none", recording)  # as it is, its calls recorded (inline: processes 1)
    assert radar.write_days(data_dir, todo, out, processes) == (0, 0)
    if processes == 1:
        assert sorted(read) == sorted(p.read_bytes() for p in paths[1:])  # not the linked-back day
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    cold = tmp_path / "cold"
    radar.write_days(data_dir, todo, cold, 1)
    assert {p.name: p.read_bytes() for p in cold.iterdir()} == before
