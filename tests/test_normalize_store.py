"""Unit tests: normalising raw records, near-duplicates, and atomic, merging day storage."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from arxiv_digest.core import store
from arxiv_digest.core.errors import StoreError
from arxiv_digest.core.models import SCHEMA_VERSION, Digest, Related
from arxiv_digest.update.fetch import parse_rss
from arxiv_digest.update.normalize import (
    RawRecord,
    decode_name,
    link_near_duplicates,
    normalize,
    split_authors,
    split_id,
)
from arxiv_server import FIXTURES


def rec(arxiv_id: str, title: str = "A title", cats: tuple[str, ...] = ("cs.LG",),
        announce: str = "new") -> RawRecord:
    return RawRecord(arxiv_id=arxiv_id, title=title, authors=("A. Author",), abstract="Text.",
                     categories=cats, announce_type=announce)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2411.17700v1", ("2411.17700", 1)),
        ("oai:arXiv.org:2411.17700v12", ("2411.17700", 12)),
        ("http://arxiv.org/abs/2604.26951v3", ("2604.26951", 3)),
        ("hep-th/0601001", ("hep-th/0601001", 1)),
        ("http://arxiv.org/abs/quant-ph/0201082v1", ("quant-ph/0201082", 1)),
    ],
)
def test_split_id(raw: str, expected: tuple[str, int]) -> None:
    assert split_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (r"Jos\'e Roberto", "José Roberto"),
        (r"Przemys{\l}aw  Olbratowski", "Przemysław Olbratowski"),
        (r"Jaros{\l}aw \.Zygierewicz", "Jarosław Żygierewicz"),
        (r"V\'aclav Vavry\v{c}uk", "Václav Vavryčuk"),
        ("Ratna Kandala,  Deepti", "Ratna Kandala, Deepti"),
        ("Plain   Name", "Plain Name"),
    ],
)
def test_tex_accents_and_whitespace_in_names(raw: str, name: str) -> None:
    assert decode_name(raw) == name


def test_split_authors_keeps_affiliations_whole() -> None:
    assert split_authors("A B (IFPEN, Paris), C D (LEMTA),  E F") == (
        "A B (IFPEN, Paris)", "C D (LEMTA)", "E F")


def test_one_record_per_id_across_categories_highest_version() -> None:
    papers = normalize(
        [rec("2411.00009v1", cats=("cs.LG",)), rec("2411.00001v2", cats=("cs.AI", "cs.LG"), announce="replace"),
         rec("2411.00001v1", cats=("cs.CL",)), rec("2411.00002v1", cats=("math.CO",))],
        ["cs.AI", "cs.LG", "cs.CL"],
    )
    ids = [(p.id, p.version, p.announce_type) for p in papers]
    assert ("2411.00001", 2, "replace") in ids and len(ids) == 2
    assert ("2411.00009", 1, "new") in ids
    assert not any(i == "2411.00002" for i, _, _ in ids)  # math.CO only: not ours


def test_latex_is_kept_in_titles_and_abstracts() -> None:
    day = parse_rss((FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes(), "fixture")
    papers = normalize(day.records, [])
    with_math = [p for p in papers if "$" in p.title]
    assert len(with_math) >= 50
    assert all(p.title.count("$") % 2 == 0 for p in with_math)


def test_near_duplicate_titles_are_linked_not_dropped() -> None:
    papers = normalize(
        [rec("2411.00010v1", "Sparse Attention for Long Context Transformers"),
         rec("2411.00011v1", "Sparse attention for long-context transformers"),
         rec("2411.00012v1", "Quantized Diffusion Models")],
        ["cs.LG"],
    )
    earlier = [("2024-11-20", "2411.00001", "Quantized diffusion models"),
               ("2024-11-20", "2411.00002", "Something else entirely")]
    linked = {p.id: p.related for p in link_near_duplicates(papers, 92, "2024-11-28", earlier)}
    assert linked == {
        "2411.00010": (Related("2024-11-28", "2411.00011"),),
        "2411.00011": (Related("2024-11-28", "2411.00010"),),
        "2411.00012": (Related("2024-11-20", "2411.00001"),),  # a re-submission of an earlier paper
    }


def test_rss_fixture_without_item_pubdate_and_single_category() -> None:
    # the early-2024 stat feed has no per-item pubDate; the 2026 feed is re-serialised
    stat = parse_rss((FIXTURES / "rss_stat_2024-03-26.xml").read_bytes(), "stat")
    assert str(stat.date) == "2024-03-26" and len(stat.records) == 123
    kinds = {r.announce_type for r in stat.records}
    assert kinds == {"new", "cross", "replace", "replace-cross"}
    lg = parse_rss((FIXTURES / "rss_cs.LG_2026-04-27_trimmed3items_reserialized.xml").read_bytes(), "lg")
    assert str(lg.date) == "2026-04-27" and len(lg.records) == 3


def digest(papers: tuple = ()) -> Digest:
    return Digest(date="2024-11-28", categories=("cs.LG",), source="rss", papers=papers,
                  announced={"new": len(papers)})


def test_save_is_atomic_and_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    papers = normalize([rec("2411.00010v1")], ["cs.LG"])
    path = store.save(tmp_path, digest(papers))
    before = path.read_bytes()
    assert json.loads(before)["schema_version"] == SCHEMA_VERSION == 2
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(StoreError, match="cannot be written: No space left on device"):
        store.save(tmp_path, digest(normalize([rec("2411.00011v1")], ["cs.LG"])))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_load_rejects_unknown_schema_and_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "2024" / "2024-11-28.json"
    path.parent.mkdir()
    path.write_text('{"schema_version": 99}')
    with pytest.raises(StoreError, match=r"2024-11-28.json: schema_version 99 is not supported"):
        store.load(path)
    path.write_text('{"schema_version": 1, ')
    with pytest.raises(StoreError, match=r"not valid JSON \(line 1\)"):
        store.load(path)


def test_merge_never_shrinks_and_keeps_summaries() -> None:
    a, b = normalize([rec("2411.00010v1"), rec("2411.00011v1")], ["cs.LG"])
    old = digest((replace(a, summaries={"en": {"tldr": "x"}, "zh-CN": {"tldr": "甲"}}), b))
    newer_a = replace(a, version=2, title="A title, revised", summaries={"zh-CN": {"tldr": "乙"}})
    merged = store.merge(old, digest((newer_a,)))
    assert [p.id for p in merged.papers] == ["2411.00010", "2411.00011"]
    # every language is kept; a language the new one has is the new one's
    assert merged.papers[0].version == 2
    assert merged.papers[0].summaries == {"en": {"tldr": "x"}, "zh-CN": {"tldr": "乙"}}
    assert merged.announced == {"new": 2}
    # briefings are merged per language too
    merged = store.merge(replace(old, extra={"briefings": {"en": {"topics": {}}}}),
                         replace(digest((newer_a,)), extra={"briefings": {"zh-CN": {"topics": {}}}}))
    assert set(merged.extra["briefings"]) == {"en", "zh-CN"}


def _v1_day() -> dict:
    """The shipped 2024-11-28 day (513 real papers, 17 extractive summaries, an extractive
    briefing) in the version 1 shape it was committed in (written back to it if content/ holds a
    later version)."""
    from sitedata import REAL_DAY

    data = json.loads(REAL_DAY.read_text(encoding="utf-8"))
    if data["schema_version"] == 2:
        data["schema_version"] = 1
        for p in data["papers"]:
            p["summary"] = p.pop("summaries").get("en")
        data["briefing"] = data.pop("briefings")["en"]
    assert data["schema_version"] == 1 and len(data["papers"]) == 513
    return data


def test_a_version_1_day_file_is_migrated_to_summaries_per_language(tmp_path: Path) -> None:
    """Version 1 (one "summary" per paper, one "briefing") reads as version 2: each record under
    the language it names (a model summary written in Chinese under "zh", which the zh-CN edition
    finds), else under "en"; nothing else changes, and the next write is version 2."""
    data = _v1_day()
    summarized = {p["id"]: p["summary"] for p in data["papers"] if p["summary"]}
    assert len(summarized) == 17
    chinese = next(iter(summarized))
    data["papers"][[p["id"] for p in data["papers"]].index(chinese)]["summary"] = {
        **summarized[chinese], "backend": "litellm", "model": "m", "language": "Chinese"}
    path = tmp_path / "2024" / "2024-11-28.json"
    path.parent.mkdir()
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    day = store.load(path)
    assert day.schema_version == SCHEMA_VERSION and len(day.papers) == 513
    by_id = {p.id: p for p in day.papers}
    for pid, rec in summarized.items():
        if pid == chinese:
            assert by_id[pid].summaries == {"zh": {**rec, "backend": "litellm", "model": "m",
                                                   "language": "Chinese"}}
            assert by_id[pid].summary_in("zh-CN") is by_id[pid].summaries["zh"]
            assert by_id[pid].summary_in("en") is None  # a model's Chinese is not English
        else:
            assert by_id[pid].summaries == {"en": rec}
            assert by_id[pid].summary_in("zh-CN") == rec  # an offline summary stands in, labelled
    assert all(p.summaries == {} for p in day.papers if p.id not in summarized)
    assert day.extra["briefings"] == {"en": data["briefing"]} and "briefing" not in day.extra
    assert day.extra["ledger"] == data["ledger"]
    # everything but the two migrated keys is as it was
    again = json.loads(store.dumps(day))
    assert again["schema_version"] == 2
    for old, new in zip(data["papers"], again["papers"], strict=True):
        assert {k: v for k, v in old.items() if k != "summary"} == {
            k: v for k, v in new.items() if k != "summaries"}
    # written back, it reads the same; a second write is byte for byte the first
    store.save(tmp_path, day)
    assert store.load(path) == day
    assert store.dumps(store.load(path)) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("summaries, message", [
    ([{"tldr": "x"}], "expected an object of language tag"),
    ({"../../etc": {"tldr": "x"}}, "expected an object of language tag"),
    ({"en": "a summary"}, "expected an object of language tag"),
    ({"<script>": {}}, "expected an object of language tag"),
])
def test_hostile_summaries_are_refused_naming_the_paper(tmp_path: Path, summaries: object,
                                                        message: str) -> None:
    data = _v1_day()
    data["schema_version"] = 2
    for p in data["papers"]:
        p["summaries"] = {"en": p.pop("summary")} if p["summary"] else {}
    data["papers"][3]["summaries"] = summaries
    path = tmp_path / "2024" / "2024-11-28.json"
    path.parent.mkdir()
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StoreError, match=rf"papers\[3\] \({data['papers'][3]['id']}\)\.summaries: {message}"):
        store.load(path)


def test_a_version_1_summary_of_the_wrong_type_is_named_not_dropped(tmp_path: Path) -> None:
    data = _v1_day()
    data["papers"][5]["summary"] = ["not", "an", "object"]
    path = tmp_path / "2024" / "2024-11-28.json"
    path.parent.mkdir()
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StoreError, match=r"papers\[5\] .*\.summaries: expected an object"):
        store.load(path)


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"a":' * 100_000])
def test_deeply_nested_json_is_a_store_error_naming_the_file(tmp_path: Path, raw: str) -> None:
    path = tmp_path / "2024-11-28.json"
    path.write_text(raw)
    with pytest.raises(StoreError, match=r"2024-11-28\.json: not a day file: JSON nested too deeply"):
        store.load(path)


def test_papers_read_from_a_day_file_equal_those_built_by_their_constructor(tmp_path: Path) -> None:
    """Paper.from_dict sets the fields directly (the frozen __init__ skipped, for speed): on the
    1,504-item RSS day, with every optional field filled in on some papers, each paper read back
    equals the one its constructor makes, compares and pickles alike, and is written back as read."""
    import pickle

    from arxiv_digest.core.models import Link, Paper, VersionRef

    day = parse_rss((FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes(), "fixture")
    papers = normalize(day.records, [])  # every category
    assert len(papers) > 1000
    full = [replace(p, comment="c", doi="10.1/x", journal_ref="J", tags={"pruning": ("prune",)},
                    topics={"pruning": {"tier": "about", "terms": ["prune"]}},
                    related=(Related("2024-11-27", "2411.00001"),),
                    summaries={"en": {"text": "t"}}, links=(Link("code", "https://x.org"),),
                    versions=(VersionRef("2024-11-01", 1),), changes={"since": {"date": "x"}},
                    claims=({"by": "rules", "fields": {}},), source="biorxiv", license="cc_by")
            for p in papers[:50]]
    digest = Digest("2024-11-28", ("cs.LG",), "rss", (*full, *papers), {"new": len(papers)})
    path = store.save(tmp_path, digest)
    back = store.load(path)
    assert back == digest and store.dumps(back) == path.read_text()
    for p in back.papers:
        made = Paper(**vars(p))
        assert made == p and vars(made) == vars(p) and pickle.loads(pickle.dumps(p)) == p
    with pytest.raises(AttributeError):
        back.papers[0].title = "changed"  # type: ignore[misc]  # still frozen


class _Str(str):
    pass


class _List(list):  # type: ignore[type-arg]
    pass


class _Map(dict):  # type: ignore[type-arg]
    pass


def test_the_fast_check_agrees_with_the_worded_one_on_hostile_shapes() -> None:
    """_is_valid_paper takes shortcuts for json.loads's plain dicts, lists and empty fields; on
    other shapes (subclasses, tuples, empty containers of the wrong kind, falsy non-containers)
    and on every paper of the real 1,504-item day damaged one field at a time, it accepts exactly
    what _explain_invalid_paper accepts, and Digest.from_dict names the damaged paper."""
    from types import MappingProxyType

    from arxiv_digest.core.models import Paper, _explain_invalid_paper, _is_valid_paper

    day = parse_rss((FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes(), "fixture")
    papers = [p.to_dict() for p in normalize(day.records, [])]
    assert len(papers) > 1000
    odd = [_Str("x"), _List(), _List(["a"]), _List([1]), _Map(), _Map(a=["x"]), ("x",), (),
           MappingProxyType({}), MappingProxyType({"t": ["w"]}), {"t": ("w",)}, {"t": [_Str("w")]},
           {"en": []}, {"en": {}}, {"zh-CN": _Map()}, [{"date": _Str("d"), "id": "i"}],
           [_Map(date="d", id="i")], [{"kind": "code", "url": 1}], [{"date": "d", "version": True}],
           [{"by": "r", "fields": {"x": {"text": "t", "span": [0, True]}}}], 0, "", False, b"x",
           float("nan"), None, [], {}]
    fields = sorted({k for p in papers[:1] for k in p} | {"source", "license"})

    def agree(case: object) -> bool:
        try:
            _explain_invalid_paper(case, "paper")
        except StoreError as e:
            worded_ok = str(e).endswith(": not a valid paper")
        return _is_valid_paper(case) == worded_ok

    cases = 0
    for i, key in enumerate(fields):
        for j, value in enumerate(odd):
            base = papers[(i * len(odd) + j) % len(papers)]
            case = {**base, key: value}
            assert agree(case), (key, value)
            cases += 1
    assert cases > 500
    for p in papers:
        assert _is_valid_paper(p) and agree(p)
    assert agree(_Map(papers[0])) and agree(MappingProxyType(papers[0])) and not _is_valid_paper([])
    # a whole real day with one paper damaged: refused, naming that paper and the field
    damaged = [dict(p) for p in papers]
    damaged[777]["authors"] = ("A",)
    data = {"schema_version": SCHEMA_VERSION, "date": "2024-11-28", "categories": ["cs.LG"],
            "source": "rss", "announced": {}, "papers": damaged}
    with pytest.raises(StoreError, match=r"^papers\[777\] \(\S+\)\.authors: expected a list of strings"):
        Digest.from_dict(data)
    damaged[777] = papers[777]
    assert len(Digest.from_dict(data).papers) == len(papers)
    assert Paper.from_dict(papers[0]).to_dict() == papers[0]


@pytest.mark.parametrize("raw", [b'{"schema_version": 2, "date": "2024-11-28", "papers": [', b"[" * 100_000,
                                 b'{"schema_version": 2, "date": "2024-11-28", "categories": [],'
                                 b' "source": "rss", "announced": {}, "papers": [{"id": 1}]}',
                                 b'{"schema_version": 2, "date": "2024-11-28", "categories": [],'
                                 b' "source": "rss", "announced": {}, "papers": []}'])
def test_reading_a_day_pauses_the_collector_and_always_restores_it(tmp_path: Path, raw: bytes) -> None:
    """store.parse pauses the cyclic GC while it builds a day (nothing it makes is garbage): after
    a good or a broken day it is on again, and a caller that had it off finds it off."""
    import gc

    path = tmp_path / "2024-11-28.json"
    path.write_bytes(raw)
    good = raw.endswith(b"[]}")
    assert gc.isenabled()
    for caller_has_it_on in (True, False):
        if not caller_has_it_on:
            gc.disable()
        try:
            if good:
                assert store.load(path).papers == ()
            else:
                with pytest.raises(StoreError, match=r"2024-11-28\.json: "):
                    store.load(path)
            assert gc.isenabled() == caller_has_it_on
        finally:
            gc.enable()


def _age(path: Path, seconds: float) -> None:
    when = __import__("time").time() - seconds
    os.utime(path, (when, when), follow_symlinks=False)


def test_temp_files_of_killed_writes_are_pruned_only_ours_only_old(tmp_path: Path, monkeypatch) -> None:
    """A write into a folder prunes what killed writes of replace_file left there once they are
    more than an hour old: in a real-size cache folder (1,000 entries) only the old temp files
    replace_file names go; young ones (a live writer's), other names, folders, symlinks (and what
    they point to) and the entries themselves stay; the folder is listed once per hour a process."""
    monkeypatch.setattr(store, "_swept", {})
    folder = tmp_path / ".cache" / "build" / "fp"
    folder.mkdir(parents=True)
    for i in range(1000):
        entry = folder / f"2023-{i // 28 + 1:02d}-{i % 28 + 1:02d}.{i:032x}.pickle"
        entry.write_bytes(b"entry")
        _age(entry, 7 * 86400)
    stale = [folder / f".2024-11-{d:02d}.{d:032x}.pickle.{'abc_x9' + str(d).zfill(2)}.tmp"
             for d in range(1, 21)]
    for t in stale:
        t.write_bytes(b"half a pickle")
        _age(t, 2 * 3600)
    young = folder / ".2024-11-27.index.k3j_9x0a.tmp"  # a live writer's, being written
    young.write_bytes(b"partial")
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    kept_old = [folder / ".x.tmp", folder / "notours.abcd1234.tmp", folder / ".a.abcd1234.tmp.bak",
                folder / ".a.ABCD1234.tmp", folder / ".a.abcd123.tmp", folder / ".a.abcd12345.tmp"]
    for k in kept_old:
        k.write_bytes(b"not ours")
        _age(k, 30 * 86400)
    sub = folder / ".d.abcd1234.tmp"
    sub.mkdir()
    (sub / "inner").write_text("x")
    _age(sub, 30 * 86400)
    link = folder / ".l.abcd1234.tmp"
    link.symlink_to(outside)
    _age(outside, 30 * 86400)
    _age(link, 30 * 86400)

    listed: list[object] = []
    real_scandir = os.scandir
    monkeypatch.setattr(store.os, "scandir", lambda p: listed.append(p) or real_scandir(p))
    store.replace_file(folder / "2024-11-28.new.pickle", b"new entry")
    assert not any(t.exists() for t in stale)
    assert young.exists() and all(k.exists() for k in kept_old) and (sub / "inner").exists()
    assert link.is_symlink() and outside.read_text() == "keep"
    assert len([p for p in folder.iterdir() if p.name.endswith(".pickle")]) == 1001
    # a second stale file after the sweep waits for the next sweep (an hour later in this process)
    another = folder / ".2024-11-29.x.pickle.zzzzzzzz.tmp"
    another.write_bytes(b"x")
    _age(another, 2 * 3600)
    store.replace_file(folder / "2024-11-29.new.pickle", b"newer")
    assert another.exists() and len(listed) == 1
    monkeypatch.setattr(store, "_swept", {})
    store.replace_file(folder / "2024-11-29.new.pickle", b"newer")
    assert not another.exists() and len(listed) == 2
    assert store.prune_temp_files(tmp_path / "no such folder") == 0


def test_a_day_write_prunes_old_leftovers_of_other_days_in_its_year(tmp_path: Path, monkeypatch) -> None:
    """store.save removes its own day's leftovers at once (under the day's lock, as before) and,
    through replace_file, other days' leftovers in the year folder once they are an hour old."""
    monkeypatch.setattr(store, "_swept", {})
    year = tmp_path / "2024"
    year.mkdir()
    own = year / ".2024-11-28.json.a1b2c3d4.tmp"
    other_old = year / ".2024-11-27.json.e5f6g7h8.tmp"
    other_young = year / ".2024-11-26.json.i9j0k1l2.tmp"
    for t in (own, other_old, other_young):
        t.write_text("{half")
    _age(other_old, 3 * 3600)
    digest = Digest("2024-11-28", ("cs.LG",), "rss", (), {"new": 0})
    path = store.save(tmp_path, digest)
    assert store.load(path) == digest
    assert not own.exists() and not other_old.exists() and other_young.exists()


def test_parse_with_json_gives_the_day_and_the_json_it_was_read_from(tmp_path: Path) -> None:
    """One parse for a caller that also keys on the stored records (the build's day cache): the
    Digest equals store.load's and the JSON equals json.loads of the same bytes, on the real
    1,504-item day; a broken file fails alike."""
    day = parse_rss((FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes(), "fixture")
    digest = Digest("2024-11-28", ("cs.LG",), "rss", normalize(day.records, []), {"new": 1})
    path = store.save(tmp_path, digest)
    raw = path.read_bytes()
    got, data = store.parse_with_json(path, raw)
    assert got == store.load(path) == digest and data == json.loads(raw)
    assert len(data["papers"]) == len(got.papers) > 1000
    path.write_bytes(raw.replace(b'"schema_version": 2', b'"schema_version": 9'))
    with pytest.raises(StoreError, match="schema_version 9 is not supported"):
        store.parse_with_json(path, path.read_bytes())
