"""The build's per-day cache (plugins/arxiv_digest/site/daycache.py): an incremental build is byte-identical
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
from typing import Any

import pytest
import yaml
from arxiv_digest.core.errors import StoreError
from arxiv_digest.core.models import Paper, _explain_invalid_paper, _is_valid_paper
from arxiv_digest.site.daycache import CACHE_DIR, canonical, workers
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
    """A build with no cache (days, compiled templates) and a fresh output folder."""
    from arxiv_digest.site.templatecache import CACHE_DIR as TEMPLATES

    shutil.rmtree(cache_root(site), ignore_errors=True)
    shutil.rmtree(site / "content" / "digests" / TEMPLATES, ignore_errors=True)
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
        with caplog.at_level(logging.INFO, logger="arxiv_digest.site.daycache"):
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
    from arxiv_digest.site.daycache import DayCache, file_hash, prefill

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
        logging.getLogger("arxiv_digest.site.render").warning("%s: made in a worker", path.stem)
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


# --- Topic decisions made at update, trusted by the build (tagging.DECIDED_BY) -------------------

def _settings(site: Path) -> Any:
    from arxiv_digest.core.settings import load_settings

    return load_settings({"PATH": str(site / "content"),
                          "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml")}, env={})


def _day_file(site: Path) -> Path:
    return site / "content" / "digests" / "2024" / "2024-11-28.json"


def _listed_ids(output: Path) -> set[str]:
    from lxml import html

    doc = html.fromstring((output / "2024/11/28/index.html").read_bytes())
    return {a.get("id") for a in doc.cssselect("article.paper")}


@pytest.fixture
def stamped(tmp_path: Path) -> Path:
    """A site with the real day (513 papers) decided and stamped as update stores it."""
    from arxiv_digest.core.store import load, save
    from arxiv_digest.enrich.tagging import DECIDED_BY, decide_day

    site = make_site(tmp_path / "stamped", days={})
    settings = _settings(site)
    save(settings.data_dir, decide_day(load(_day_file(site)), settings))
    assert DECIDED_BY in json.loads(_day_file(site).read_text(encoding="utf-8"))
    return site


def _flip_one(site: Path) -> str:
    """Store 'about' for a paper the decider says only mentions a topic (stamp kept as it is)."""
    path = _day_file(site)
    day = json.loads(path.read_text(encoding="utf-8"))
    for p in day["papers"]:
        mentions = [n for n, d in p["topics"].items() if d["tier"] == "mentions"]
        if mentions and not p["tags"] and p["announce_type"] == "new":
            p["topics"][mentions[0]]["tier"] = "about"
            p["tags"][mentions[0]] = p["topics"][mentions[0]]["terms"]
            path.write_text(json.dumps(day, indent=2), encoding="utf-8")
            return str(p["id"])
    raise AssertionError("no paper that only mentions a topic")


def test_stored_decisions_are_trusted_until_digest_yaml_changes(stamped: Path, tmp_path: Path) -> None:
    """The build reads a stamped day's decisions instead of deciding again (a stored 'about' the
    decider would not make shows), gives the same pages as deciding again, and decides again once
    digest.yaml's topics change (the stamp no longer matches)."""
    plain = make_site(tmp_path / "plain", days={})  # the same day without the stamp: decided again
    trusted = build_site(stamped, tmp_path / "trusted")
    assert_identical(trusted, build_site(plain, tmp_path / "redecided"))

    flipped = _flip_one(stamped)
    assert flipped in _listed_ids(build_site(stamped, tmp_path / "flipped"))  # read, not re-decided

    for site in (stamped, plain):  # a definition edited: every day decided again
        config = site / "digest.yaml"
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["topics"]["sparsity"]["definition"] += " Edited."
        config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    edited = build_site(stamped, tmp_path / "edited")
    assert flipped not in _listed_ids(edited)
    assert_identical(edited, build_site(plain, tmp_path / "plain-edited"))


def test_an_edited_text_is_decided_again(stamped: Path, tmp_path: Path) -> None:
    flipped = _flip_one(stamped)
    path = _day_file(stamped)
    day = json.loads(path.read_text(encoding="utf-8"))
    paper = next(p for p in day["papers"] if p["id"] == flipped)
    paper["abstract"] += " Edited by hand."
    path.write_text(json.dumps(day), encoding="utf-8")
    assert flipped not in _listed_ids(build_site(stamped, tmp_path / "out"))


def test_hostile_stored_decisions(stamped: Path, tmp_path: Path) -> None:
    """A stamped day whose stored decisions are not decisions: unknown topics are ignored, a
    malformed decision makes its paper decided again, markup stays text; the build succeeds."""
    path = _day_file(stamped)
    day = json.loads(path.read_text(encoding="utf-8"))
    listed = [p for p in day["papers"] if p["tags"] and p["announce_type"] == "new"]
    assert len(listed) >= 3
    listed[0]["topics"]["<script>alert(1)</script>"] = {"tier": "about", "terms": ["<b>x</b>"],
                                                          "reasons": ["</p><script>"]}
    name = next(iter(listed[1]["tags"]))
    listed[1]["topics"][name] = {"tier": "evil", "terms": 5}
    listed[2]["topics"][next(iter(listed[2]["tags"]))]["reasons"] = ["<img src=x onerror=alert(2)>"]
    path.write_text(json.dumps(day), encoding="utf-8")
    out = build_site(stamped, tmp_path / "out")
    text = (out / "2024/11/28/index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in text and "<img src=x" not in text and "<b>x</b>" not in text
    ids = _listed_ids(out)
    assert {listed[0]["id"], listed[1]["id"], listed[2]["id"]} <= ids  # listed[1]: decided again


def test_update_stores_decisions_the_build_can_trust(site_dir: Path, arxiv_server: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """update (the real feed, 513 papers) stamps the day; every stored decision is the one the
    build would make; a second update merges and stamps again."""
    from arxiv_digest.cli.commands import main
    from arxiv_digest.core.store import load
    from arxiv_digest.enrich.tagging import listing, trusts
    from conftest import CATS

    monkeypatch.setenv("ARXIV_DIGEST_RSS_URL", f"{arxiv_server.base_url}/rss")
    monkeypatch.chdir(site_dir)
    arxiv_server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    settings = _settings(site_dir)
    for _ in range(2):
        assert main(["-s", str(site_dir / "pelicanconf.py"), "update",
                     "--now", "2024-11-28T10:17:00+00:00"]) == 0
        digest = load(_day_file(site_dir))
        assert len(digest.papers) == 513 and trusts(digest, settings)
        for p in digest.papers:
            assert listing(p, settings, stored=True) == listing(p, settings), p.id


def test_decider_sources_cover_what_the_decider_imports() -> None:
    """A change to any module the decision depends on changes the decider's fingerprint."""
    import ast

    from arxiv_digest.enrich.tagging import DECIDER_SOURCES

    package = Path(__file__).resolve().parents[1] / "plugins" / "arxiv_digest"
    data_only = {"core/models.py", "core/settings.py"}  # read as values: the topics are hashed instead
    seen: set[str] = set()
    pending = ["enrich/topics.py"]
    while pending:
        rel = pending.pop()
        if rel in seen:
            continue
        seen.add(rel)
        if rel in data_only:
            continue
        folder = (package / rel).parent
        for node in ast.walk(ast.parse((package / rel).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = folder
                for _ in range(node.level - 1):
                    base = base.parent
                target = base.joinpath(*(node.module or "").split("."))
                names = [target.with_suffix(".py")] if node.module else [
                    base / f"{a.name}.py" for a in node.names]
                for path in names:
                    if path.is_file():
                        pending.append(path.relative_to(package).as_posix())
    assert seen - data_only <= set(DECIDER_SOURCES)
    assert set(DECIDER_SOURCES) <= seen


# --- The page writer (site/writer.py): unchanged pages are not rendered ----------------------------

def test_a_daily_build_renders_only_what_changed(site: Path, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """With the output and record of the last build, adding a day renders its pages and the pages
    that list it; the other pages are not rendered (their files keep their mtime), and the result
    is byte-identical to a cold build."""
    late = site / "content" / "digests" / LATE_DAY[:4] / f"{LATE_DAY}.json"
    late.unlink(missing_ok=True)
    output = tmp_path / "kept"
    build_site(site, output)
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*.html")}
    shutil.copy(site / f"{LATE_DAY}.json", late)
    try:
        with caplog.at_level(logging.INFO, logger="arxiv_digest.site.writer"):
            build_site(site, output)
        line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("Pages:"))
        rendered, skipped = (int(w) for w in line.replace(",", "").split() if w.isdigit())
        # (a topic's old page/<n>/ redirects are texts (SkipWriter.write_text), not template pages)
        kept = [p for p, t in before.items() if p.stat().st_mtime_ns == t
                and b'http-equiv="refresh"' not in p.read_bytes()]
        assert skipped == len(kept) > rendered > 0
        assert (output / "papers").is_dir() and any("papers" in p.parts for p in kept)
        assert (output / "2024/11/28/index.html") in kept  # an older day, neither prev nor next
        assert (output / "2024/12/24/index.html") not in kept  # its next day is the new one
        assert_identical(output, cold_build(site, tmp_path / "cold"))
    finally:
        late.unlink(missing_ok=True)


def test_a_daily_build_makes_only_the_bib_files_that_changed(site: Path, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Adding a day makes its .bib and those of the topics it adds papers to; every other .bib is
    neither made nor written (it keeps its mtime). A deleted or damaged .bib is written again, and
    the output stays byte-identical to a cold build."""
    late = site / "content" / "digests" / LATE_DAY[:4] / f"{LATE_DAY}.json"
    late.unlink(missing_ok=True)
    output = tmp_path / "kept"
    build_site(site, output)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in output.rglob("*.bib")}
    assert len(before) >= 6  # the days' and the topics'
    shutil.copy(site / f"{LATE_DAY}.json", late)

    counts: list[int] = []

    def build() -> int:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="arxiv_digest.site.bibtex"):
            build_site(site, output)
        line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("BibTeX"))
        counts[:] = [int(w.strip(",;")) for w in line.split() if w.strip(",;").isdigit()]
        return counts[1]

    try:
        made = build()
        # the topics' .bib files made again: only the new day's papers' entries made anew
        assert 0 < counts[2] < counts[3], counts
        after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in output.rglob("*.bib")}
        changed = {p for p in after if before.get(p, (None,))[0] != after[p][0]}
        new_day = next(p for p in after if LATE_DAY in p.name)
        assert new_day in changed and new_day not in before
        assert made == len(changed) < len(after)  # only what changed was made
        assert all(after[p][1] == before[p][1] for p in after if p not in changed)  # kept mtimes
        old_day = next(p for p in after if "2024-11-28" in p.name)
        assert old_day not in changed
        old_day.unlink()  # deleted: written again
        damaged = next(p for p in after if p != old_day and p not in changed)
        damaged.write_text("@misc{garbage,}\n", encoding="utf-8")
        assert build() == 2
        assert old_day.read_bytes() == after[old_day][0]
        assert build() == 0
        from arxiv_digest.site.bibtex import ENTRIES
        entries = site / "content" / "digests" / ENTRIES
        assert entries.is_file()
        entries.write_text('{"format": 1, "entries": [', encoding="utf-8")  # damaged: ignored
        for p in after:
            p.unlink()
        build()
        assert counts[3] == 0  # every entry made again
        assert_identical(output, cold_build(site, tmp_path / "cold"))
    finally:
        late.unlink(missing_ok=True)


def test_a_build_with_nothing_new_keeps_the_topic_bib_entries(site: Path, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """A build with nothing new makes no .bib, and keeps the entries of the topics' .bib files it
    left as they were (.cache/pages/bib.entries): the next daily build makes only the new day's
    papers' entries, as it would right after a build that made them, and equals a cold build."""
    from arxiv_digest.site.bibtex import ENTRIES

    late = site / "content" / "digests" / LATE_DAY[:4] / f"{LATE_DAY}.json"
    late.unlink(missing_ok=True)
    output = tmp_path / "kept"
    counts: list[int] = []

    def build() -> list[int]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="arxiv_digest.site.bibtex"):
            build_site(site, output)
        line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("BibTeX"))
        counts[:] = [int(w.strip(",;")) for w in line.split() if w.strip(",;").isdigit()]
        return list(counts)

    entries = site / "content" / "digests" / ENTRIES
    entries.unlink(missing_ok=True)
    try:
        first = build()
        assert first[2] > 0 and first[3] == 0  # every entry made
        kept = json.loads(entries.read_bytes())["entries"]
        again = build()
        assert again[1] == 0 and again[2] == 0  # nothing made
        assert json.loads(entries.read_bytes())["entries"].keys() >= {
            k for k in kept if LATE_DAY not in k}
        shutil.copy(site / f"{LATE_DAY}.json", late)
        daily = build()
        late_papers = len(json.loads(late.read_bytes())["papers"])
        assert 0 < daily[2] <= late_papers < daily[3], daily  # only the new day's entries made
        assert_identical(output, cold_build(site, tmp_path / "cold"))
    finally:
        late.unlink(missing_ok=True)


@pytest.mark.parametrize("damage", ["files", "record"])
def test_tampered_output_or_record_is_rendered_again(site: Path, tmp_path: Path, damage: str) -> None:
    from arxiv_digest.site.writer import PAGES_DIR

    output = build_site(site, tmp_path / "out")
    if damage == "files":
        pages = sorted((output / "papers").rglob("index.html"))
        pages[0].unlink()
        pages[1].write_text("garbage", encoding="utf-8")
        (output / "2024/11/28/index.html").write_text("garbage", encoding="utf-8")
    else:
        for record in (site / "content" / "digests" / PAGES_DIR).glob("*.record"):
            record.write_bytes(b"\x00{not json")
    build_site(site, output)
    assert_identical(output, cold_build(site, tmp_path / "cold"))


def test_digests_tell_apart_what_renders_differently() -> None:
    import dataclasses as dc
    import functools

    from arxiv_digest.site.writer import Digester, Unknown
    from markupsafe import Markup

    d = Digester()
    assert d.of("<b>") != d.of(Markup("<b>"))
    assert d.of({"a": 1, "b": 2}) != d.of({"b": 2, "a": 1})  # templates iterate in order
    assert d.of((1, "1")) != d.of((1, 1)) and d.of([1]) != d.of((1,))
    assert d.of({1, 2, 3}) == d.of({3, 2, 1})

    @dc.dataclass(frozen=True)
    class View:
        text: str
        cache_key: str = ""

    assert d.of(View("a")) != d.of(View("b"))
    assert d.of(View("a", "k")) == d.of(View("b", "k"))  # by its build-cache entry
    x = 1
    with pytest.raises(Unknown):
        d.of(lambda: x)  # a closure: what it returns is not known
    with pytest.raises(Unknown):
        d.of(object())
    assert d.of(len) == d.of(len) and d.of(functools.partial(max, 1)) != d.of(functools.partial(max, 2))


def _writer(output: Path, old: dict[str, Any] | None = None) -> Any:
    """A SkipWriter outside a Pelican build (its record on, by hand), over Jinja templates."""
    from arxiv_digest.site.writer import SkipWriter

    writer = SkipWriter(str(output), settings={"PAGINATED_TEMPLATES": {"index": None}})
    writer.on = True
    writer.old = dict(old or {})
    return writer


def test_a_page_is_skipped_only_when_what_its_template_reads_is_as_last_time(tmp_path: Path) -> None:
    """write_file decides a page before Pelican builds its context: the variables the page takes
    from the generator's context are digested once for all its pages, and again when one of them
    is another object; the call's own variables per page. Hostile text stays escaped."""
    import jinja2
    from pelican import signals

    env = jinja2.Environment(loader=jinja2.DictLoader({
        "page.html": "{% extends 'base.html' %}{% block body %}{{ x }}|{{ y }}{% endblock %}",
        "base.html": "<title>{{ SITENAME }}</title>{% block body %}{% endblock %}"}), autoescape=True)
    template = env.get_template("page.html")
    out = tmp_path / "out"
    context = {"SITENAME": "<b>site</b>", "y": [1, 2]}

    def write_all(writer: Any, ctx: dict[str, Any], n: int = 200) -> None:
        for i in range(n):
            writer.write_file(f"p/{i}/index.html", template, ctx, x=f"<i>{i}</i>")

    first = _writer(out)
    write_all(first, context)
    assert (first.rendered, first.skipped) == (200, 0)
    page = (out / "p/7/index.html").read_text(encoding="utf-8")
    assert page == "<title>&lt;b&gt;site&lt;/b&gt;</title>&lt;i&gt;7&lt;/i&gt;|[1, 2]"
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}

    written: list[str] = []

    def on_written(path: str, context: Any) -> None:
        written.append(path)

    signals.content_written.connect(on_written)
    try:
        second = _writer(out, first.pages)
        write_all(second, dict(context))  # another dict, equal values: still unchanged
    finally:
        signals.content_written.disconnect(on_written)
    assert (second.rendered, second.skipped) == (0, 200)
    assert len(written) == 200  # skipped pages are still announced to plugins
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.html")} == mtimes

    third = _writer(out, second.pages)
    ctx = dict(context)
    for i in range(4):
        if i == 2:
            ctx["SITENAME"] = "<b>renamed</b>"  # another object from page 2 on
        third.write_file(f"p/{i}/index.html", template, ctx, x=f"<i>{i}</i>")
    third.write_file("p/5/index.html", template, ctx, x="<i>changed</i>")
    assert (third.rendered, third.skipped) == (3, 2)
    assert (out / "p/3/index.html").read_text(encoding="utf-8").startswith(
        "<title>&lt;b&gt;renamed&lt;/b&gt;")
    assert "&lt;i&gt;changed&lt;/i&gt;" in (out / "p/5/index.html").read_text(encoding="utf-8")
    assert (out / "p/1/index.html").stat().st_mtime_ns == mtimes[out / "p/1/index.html"]

    fourth = _writer(out, third.pages)
    (out / "p/1/index.html").write_text("tampered", encoding="utf-8")
    ctx["y"].append(3)  # the same list, changed in place: a new build digests it anew
    write_all(fourth, ctx, 6)
    assert fourth.rendered == 6
    assert (out / "p/1/index.html").read_text(encoding="utf-8").endswith("|[1, 2, 3]")
    with pytest.raises(Exception, match="already written"):  # Pelican's check, for a skipped page
        fifth = _writer(out, fourth.pages)
        write_all(fifth, ctx, 1)
        write_all(fifth, ctx, 1)


def test_a_paper_pages_key_tells_apart_what_its_page_shows() -> None:
    import datetime as dt

    from arxiv_digest.site.papers import _page_key

    class V:
        def __init__(self, key: str) -> None:
            self.cache_key = key

    class A:
        def __init__(self, key: str) -> None:
            self.day = type("D", (), {"cache_key": key, "date": dt.date(2024, 11, 28)})()

    when = dt.datetime(2024, 11, 28, tzinfo=dt.UTC)
    listed = [(V("k#l1"), A("k"), "2024/11/28/")]
    key = _page_key("2411.1", "papers/2411.1/", "papers/2411.1/index.html", listed, when, [])
    assert key and key == _page_key("2411.1", "papers/2411.1/", "papers/2411.1/index.html",
                                     listed, when, [])
    assert key != _page_key("2411.1", "papers/2411.1/", "papers/2411.1/index.html",
                            [(V("k#l2"), A("k"), "2024/11/28/")], when, [])
    assert key != _page_key("2411.1", "papers/2411.1/", "papers/2411.1/index.html", listed, when,
                            [("https://arxiv.org/abs/2411.2", "2411.2 (2024-11-27)")])
    # hostile strings cannot make two different pages' keys equal
    a = _page_key("x", "u", "s", listed, when, [("a\0b", "c")])
    b = _page_key("x", "u", "s", listed, when, [("a", "b\0c")])
    assert a != b
    assert _page_key("x", "u", "s", [(V(""), A("k"), "d/")], when, []) == ""  # outside the cache


def test_compiled_templates_are_kept_between_builds(site: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The second build loads every theme template Pelican renders from its compiled code, and its
    pages are byte-identical; damaged compiled files are compiled again; another edition (its
    own catalog: Jinja may fold a translated constant into the code) keeps its own."""
    import jinja2
    from arxiv_digest.site.templatecache import CACHE_DIR as TEMPLATES

    folder = site / "content" / "digests" / TEMPLATES
    shutil.rmtree(folder, ignore_errors=True)
    compiled: list[str | None] = []
    original = jinja2.Environment.compile

    def compile_(self: Any, source: Any, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(name)
        return original(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", compile_)
    first = build_site(site, tmp_path / "first")
    theme = {p.name for p in (site / "theme" / "templates").glob("*.html")}
    first_theme = [n for n in compiled if n in theme]
    assert len(first_theme) >= 10 and len(list(folder.glob("*/*.jinja"))) >= len(set(first_theme))
    compiled.clear()
    second = build_site(site, tmp_path / "second")
    assert [n for n in compiled if n in theme] == []
    assert_identical(second, first)
    for i, kept in enumerate(sorted(folder.glob("*/*.jinja"))):
        data = kept.read_bytes()
        kept.write_bytes((b"", data[:20], data[:-40], b"\x80garbage")[i % 4])
    compiled.clear()
    third = build_site(site, tmp_path / "third")
    assert len([n for n in compiled if n in theme]) >= len(set(first_theme)) - 1
    assert_identical(third, first)
    compiled.clear()
    build_site(site, tmp_path / "zh", DEFAULT_LANG="zh-CN")
    assert len([n for n in compiled if n in theme]) >= len(set(first_theme))  # none reused
    assert len([p for p in folder.iterdir() if p.is_dir()]) == 2


def test_compiled_code_is_kept_apart_for_each_environment_setup() -> None:
    """What a template compiles to depends on the environment: each setup has its own entries."""
    import jinja2
    from arxiv_digest.site.templatecache import signature

    def env(**kw: Any) -> jinja2.Environment:
        return jinja2.Environment(extensions=kw.pop("extensions", ["jinja2.ext.i18n"]),
                                  autoescape=kw.pop("autoescape", True), **kw)

    base = signature(env())
    assert base == signature(env())
    assert base != signature(env(autoescape=False))
    assert base != signature(env(extensions=[]))
    assert base != signature(env(trim_blocks=True))
    newstyle = env()
    newstyle.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    assert base != signature(newstyle)
    plain, passing = env(), env()
    plain.filters["f"] = lambda v: v
    passing.filters["f"] = jinja2.pass_context(lambda c, v: v)
    assert signature(plain) != signature(passing) != base


def test_a_build_with_nothing_new_writes_no_file(site: Path, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Built again on its own output with no day added, no page, feed, .bib or atlas download is
    rendered or written (each keeps its mtime; Pelican's copies of the theme's files aside);
    a deleted feed and atlas file are written again, byte-identical to a cold build."""
    late = site / "content" / "digests" / LATE_DAY[:4] / f"{LATE_DAY}.json"
    late.unlink(missing_ok=True)
    output = build_site(site, tmp_path / "kept")

    def stamps() -> dict[Path, int]:
        return {p: p.stat().st_mtime_ns for p in output.rglob("*")
                if p.is_file() and "theme" not in p.relative_to(output).parts}

    before = stamps()
    assert any(p.suffix == ".xml" for p in before) and any(p.suffix == ".csv" for p in before)
    with caplog.at_level(logging.INFO, logger="arxiv_digest.site.writer"):
        build_site(site, output)
    assert stamps() == before
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("Pages:"))
    assert line.startswith("Pages: 0 rendered")
    feed = next(p for p in before if p.name.endswith(".atom.xml") and "topics" in p.parts)
    download = next(p for p in before if p.name == "claims.csv")
    feed.unlink()
    download.write_text("tampered", encoding="utf-8")
    build_site(site, output)
    assert_identical(output, cold_build(site, tmp_path / "cold"))


def test_a_kept_output_loses_the_pages_of_a_day_that_is_gone(site: Path, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """A build into a kept output/ (the publish build keeps it: publishconf.py) deletes what the
    last build wrote and this one did not, so it holds what a fresh output would; a file the
    writer did not write, or one changed since, is left alone."""
    late = site / "content" / "digests" / LATE_DAY[:4] / f"{LATE_DAY}.json"
    output = tmp_path / "kept"
    shutil.copy(site / f"{LATE_DAY}.json", late)
    try:
        build_site(site, output)
    finally:
        late.unlink()
    gone = output / "2024/12/26/index.html"
    assert gone.is_file()
    mine = output / "notes.txt"  # not the writer's
    mine.write_text("kept")
    with caplog.at_level(logging.INFO, logger="arxiv_digest.site.writer"):
        build_site(site, output)
    assert not gone.exists() and not gone.parent.exists()  # the day's folder went with it
    assert any(r.getMessage().startswith("Removed ") for r in caplog.records)
    assert mine.read_text() == "kept"
    mine.unlink()
    assert_identical(output, cold_build(site, tmp_path / "cold"))


def test_stale_files_are_deleted_only_when_as_recorded(tmp_path: Path) -> None:
    """remove_stale deletes a recorded file this build did not write only while it is exactly as
    recorded, and never a path outside the output folder (a hostile or damaged record)."""
    output = tmp_path / "out"
    (output / "a").mkdir(parents=True)
    stale, edited = output / "a" / "stale.html", output / "edited.html"
    outside = tmp_path / "outside.html"
    for f in (stale, edited, outside):
        f.write_text("x")
    edited_rec = edited.stat()
    edited.write_text("changed since")  # other size: not the recorded file any more
    w = _writer(output)

    def rec(p: Path, st: os.stat_result | None = None) -> list[Any]:
        st = st or p.stat()
        return ["d", st.st_size, st.st_mtime_ns]

    w.previous = {"a/stale.html": rec(stale), "edited.html": rec(edited, edited_rec),
                  "../outside.html": rec(outside), "gone.html": ["d", 1, 1], "bad": "x"}
    assert w.remove_stale() == 1
    assert not stale.exists() and not (output / "a").exists()
    assert edited.read_text() == "changed since" and outside.is_file()


# --- Pages keyed on what they show (issue 11): a day that only gained links it does not show -------

def _entry(site: Path, day: str = "2024-11-28") -> Any:
    """The build cache's entry for a day: (body, view, ids listed, inputs key)."""
    import pickle

    (path,) = cache_root(site).glob(f"*/{day}.*.pickle")
    with path.open("rb") as f:
        return pickle.load(f)[2]


def _rewrite(path: Path, change: Any) -> None:
    """Apply change(paper dict) to every paper of a day file, stored as update stores it."""
    day = json.loads(path.read_text(encoding="utf-8"))
    for p in day["papers"]:
        change(p)
    path.write_text(json.dumps(day, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")


def _stamps(output: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in output.rglob("*")
            if p.is_file() and "theme" not in p.relative_to(output).parts}


@pytest.mark.parametrize("decided", ["stamped", "undecided"])
def test_links_on_papers_a_day_does_not_show_render_nothing(tmp_path: Path, decided: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """The real 513-paper day gains version and near-identical-title links (as a later day's
    update writes them back, enrich/backlinks.py) on every paper its page does not list, those it
    only mentions included: the next build reuses the day's cache entry (no parse, decision or
    render), writes no page, feed, .bib or atlas file, and its output is byte-identical to a cold
    build (so the body shows no link of a paper it does not list), whether the day's stored
    decisions are trusted or decided again."""
    from arxiv_digest.core.store import load, save
    from arxiv_digest.enrich.tagging import decide_day

    site = make_site(tmp_path / "site", days={})
    if decided == "stamped":
        settings = _settings(site)
        save(settings.data_dir, decide_day(load(_day_file(site)), settings))
    output = build_site(site, tmp_path / "kept")
    body, view, listed, _ = _entry(site)
    shown = set(listed)
    assert shown == {v.paper.id for v in (*view.listed, *view.updated)} and 0 < len(shown) < 513
    assert body.count('<li id="m-') > 5  # papers it only mentions: links added to them too
    before = _stamps(output)

    def link(p: dict[str, Any]) -> None:
        if p["id"] not in shown:
            p["versions"] = [*p["versions"], {"date": "2024-12-02", "version": p["version"] + 1}]
            p["related"] = [*p["related"], {"date": "2024-12-02", "id": f"2412.{len(p['id']):05d}"}]

    _rewrite(_day_file(site), link)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="arxiv_digest"):
        build_site(site, output)
    messages = [r.getMessage() for r in caplog.records]
    assert any("only links of papers the page does not list changed" in m for m in messages)
    assert next(m for m in messages if m.startswith("Pages:")).startswith("Pages: 0 rendered")
    assert _stamps(output) == before  # nothing written
    assert len(list(cache_root(site).glob("*/2024-11-28.*.pickle"))) == 1  # re-keyed, one a day
    assert_identical(output, cold_build(site, tmp_path / "cold"))


def test_a_change_a_day_shows_renders_that_paper_and_escapes_it(stamped: Path, tmp_path: Path) -> None:
    """A listed paper of the real day gains a version link and a hostile author: the day page and
    that paper's page are rendered again (escaped), the other listed papers' pages are not (each
    paper page is keyed on its own record), and the output is byte-identical to a cold build."""
    output = build_site(stamped, tmp_path / "kept")
    listed = sorted(_listed_ids(output))
    changed, other = listed[0], listed[-1]
    before = _stamps(output)
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'

    def edit(p: dict[str, Any]) -> None:
        if p["id"] == changed:
            p["versions"] = [*p["versions"], {"date": "2024-12-02", "version": p["version"] + 1}]
            p["authors"] = [*p["authors"], hostile]

    _rewrite(_day_file(stamped), edit)
    build_site(stamped, output)
    after = _stamps(output)
    day_page = output / "2024/11/28/index.html"
    page = output / "papers" / changed / "index.html"
    other_page = output / "papers" / other / "index.html"
    assert after[day_page] != before[day_page] and after[page] != before[page]
    assert after[other_page] == before[other_page]
    for html_file in (day_page, page):
        text = html_file.read_text(encoding="utf-8")
        assert "&lt;script&gt;alert(" in text and "<script>alert(" not in text
        assert "<img src=x" not in text
    assert_identical(output, cold_build(stamped, tmp_path / "cold"))


@pytest.mark.parametrize("bad", [5, [{"date": 5, "version": 2}], [{"date": "2024-12-02"}], ["x"]])
def test_an_invalid_link_on_a_paper_not_shown_still_fails_the_build(stamped: Path, tmp_path: Path,
                                                                    bad: Any) -> None:
    """A link field the page does not show, made invalid, is not let through by the reused entry:
    the build stops naming the day file, as a cold build does."""
    from arxiv_digest.core.errors import BrokenDaysError

    build_site(stamped, tmp_path / "kept")
    shown = set(_entry(stamped)[2])
    victim: list[str] = []

    def damage(p: dict[str, Any]) -> None:
        if p["id"] not in shown and not victim:
            victim.append(p["id"])
            p["versions"] = bad

    _rewrite(_day_file(stamped), damage)
    with pytest.raises(BrokenDaysError, match=r"2024-11-28\.json"):
        build_site(stamped, tmp_path / "kept")


def test_a_changed_day_leaves_its_neighbours_pages_as_they_were(site: Path, tmp_path: Path) -> None:
    """A day page shows only its neighbours' URLs and dates (site/archive.py DayLink): a listed
    paper of the real day gains a hostile title, the day page is rendered again (escaped), its
    previous and next days' pages are not (their files keep their mtime), and the output is
    byte-identical to a cold build."""
    from lxml import html

    late = site / "content" / "digests" / LATE_DAY[:4] / f"{LATE_DAY}.json"
    late.unlink(missing_ok=True)
    original = _day_file(site).read_bytes()
    output = build_site(site, tmp_path / "kept")
    day_page = output / "2024/11/28/index.html"
    doc = html.fromstring(day_page.read_bytes())
    neighbours = [output / a.get("href").split("://", 1)[-1].split("/", 1)[-1].lstrip("/") / "index.html"
                  if not a.get("href").endswith(".html") else None
                  for a in doc.cssselect('a[rel="prev"], a[rel="next"]')]
    neighbours = sorted({p for p in neighbours if p is not None})  # (nav above and below)
    assert len(neighbours) == 2 and all(p.is_file() for p in neighbours), neighbours
    listed = sorted(_listed_ids(output))
    before = _stamps(output)
    hostile = '<script>alert("n")</script> & <b>'

    def edit(p: dict[str, Any]) -> None:
        if p["id"] == listed[0]:
            p["title"] = hostile + p["title"]

    try:
        _rewrite(_day_file(site), edit)
        build_site(site, output)
        after = _stamps(output)
        assert after[day_page] != before[day_page]
        text = day_page.read_text(encoding="utf-8")
        assert "&lt;script&gt;alert(" in text and "<script>alert(" not in text
        for page in neighbours:
            assert after[page] == before[page], page
        assert_identical(output, cold_build(site, tmp_path / "cold"))
    finally:
        _day_file(site).write_bytes(original)


# --- Links written back by a later day's update: reused without reading the day (core/relinks.py) --

def _link_back(site: Path, ids: list[str], index: bool) -> None:
    """A later day's update (enrich/backlinks.link_back, as update runs it) whose replacements are
    new versions of these papers of the real day: their `versions` gain the later day. index: the
    real day's day index is fresh, so the links are spliced into the file in place (else the
    day is rewritten whole)."""
    from dataclasses import replace

    from arxiv_digest.core.models import VersionRef
    from arxiv_digest.core.store import load
    from arxiv_digest.enrich import dayindex
    from arxiv_digest.enrich.backlinks import link_back

    data = site / "content" / "digests"
    day = load(_day_file(site))
    if index:
        dayindex.remember(data, _day_file(site), day)
    else:
        shutil.rmtree(data / dayindex.CACHE_DIR, ignore_errors=True)
    by_id = {p.id: p for p in day.papers}
    later = replace(day, date="2024-12-02", papers=tuple(
        replace(by_id[i], version=by_id[i].version + 1,
                versions=(VersionRef("2024-11-28", by_id[i].version),)) for i in ids))
    assert link_back(data, later, 5.0) == 1


@pytest.mark.parametrize("index", [True, False], ids=["spliced", "rewritten"])
def test_links_written_back_to_papers_a_day_does_not_list_are_not_read_again(
        stamped: Path, tmp_path: Path, index: bool, caplog: pytest.LogCaptureFixture) -> None:
    """The real 513-paper day gains version links on 40 papers its page does not list, written by
    a later day's update (enrich/backlinks.py, in place or whole): the update records the change
    (core/relinks.py), and the next build reuses the day's entry without reading or parsing the
    file, renders and writes nothing, and equals a cold build. A second write-back chains."""
    from arxiv_digest.core import relinks
    from arxiv_digest.core.filekeys import file_key

    output = build_site(stamped, tmp_path / "kept")
    shown = set(_entry(stamped)[2])
    others = sorted(p["id"] for p in json.loads(_day_file(stamped).read_bytes())["papers"]
                    if p["id"] not in shown)
    before = _stamps(output)
    data = stamped / "content" / "digests"
    for round_, ids in enumerate((others[:40], others[40:45])):
        old_key = file_key(_day_file(stamped).read_bytes())
        _link_back(stamped, ids, index)
        new_key = file_key(_day_file(stamped).read_bytes())
        assert relinks.steps(data, "2024-11-28")[-1] == (old_key, new_key, tuple(sorted(ids)))
        if round_ == 0:  # the build sees one step, then two chained (no build in between)
            continue
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="arxiv_digest"):
            build_site(stamped, output)
        messages = [r.getMessage() for r in caplog.records]
        assert any("1 day(s) only gained links" in m for m in messages), messages
        assert not any("only links of papers the page does not list changed" in m for m in messages)
        assert not any("decided and rendered" in m for m in messages)  # no worker read it either
        assert next(m for m in messages if m.startswith("Pages:")).startswith("Pages: 0 rendered")
        assert _stamps(output) == before
        assert len(relinks.earlier(data, "2024-11-28", new_key)) == 2
    assert len(list(cache_root(stamped).glob("*/2024-11-28.*.pickle"))) == 1
    assert_identical(output, cold_build(stamped, tmp_path / "cold"))


def test_links_written_back_to_a_listed_paper_render_it(stamped: Path, tmp_path: Path) -> None:
    """A later day's update links back to a paper the real day lists: the recorded step names
    it, so the day is rendered again and shows the link; output equals a cold build."""
    output = build_site(stamped, tmp_path / "kept")
    listed = sorted(_entry(stamped)[2])
    before = _stamps(output)
    _link_back(stamped, listed[:1], True)
    build_site(stamped, output)
    day_page = output / "2024/11/28/index.html"
    assert _stamps(output)[day_page] != before[day_page]
    assert "2024-12-02" in day_page.read_text(encoding="utf-8")
    assert_identical(output, cold_build(stamped, tmp_path / "cold"))


def test_links_written_back_to_listed_papers_render_only_their_cards(
        stamped: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A later day's update links back to two papers the real day lists (a version link, and a
    near-identical title under a hostile id), and to papers it does not list, one of the listed
    ones carrying a hostile title from an earlier edit: the recorded step (core/relinks.py) lets
    the build read only those two records and render only their cards into the kept body
    (render.DigestReader.patch, in this process: no worker parses the day). The entry is the one
    a cold build makes of the whole file (body, views and keys), the links show, the hostile
    text is escaped, the output equals a cold build, and a file broken afterwards still fails
    the build naming it."""
    from dataclasses import replace

    from arxiv_digest.core.errors import BrokenDaysError
    from arxiv_digest.core.models import Related, VersionRef
    from arxiv_digest.core.store import load
    from arxiv_digest.enrich import dayindex
    from arxiv_digest.enrich.backlinks import link_back

    hostile = '<script>alert("c")</script> & <img src=x onerror=alert(1)>'
    build_site(stamped, tmp_path / "first")
    listed = sorted(_entry(stamped)[2])
    assert len(listed) > 5
    target, other = listed[1], listed[-2]

    def retitle(p: dict[str, Any]) -> None:
        if p["id"] == target:
            p["title"] = hostile + p["title"]

    _rewrite(_day_file(stamped), retitle)  # a hand edit: read whole at the next build
    output = build_site(stamped, tmp_path / "kept")
    before = _stamps(output)
    data = stamped / "content" / "digests"
    day = load(_day_file(stamped))
    dayindex.remember(data, _day_file(stamped), day)
    by_id = {p.id: p for p in day.papers}
    unlisted = [i for i in sorted(by_id) if i not in set(listed)][:3]
    bad_id = '2412.0"><b>9'
    later = replace(day, date="2024-12-02", papers=(
        *(replace(by_id[i], version=by_id[i].version + 1,
                  versions=(VersionRef("2024-11-28", by_id[i].version),))
          for i in (target, *unlisted)),
        replace(by_id[other], id=bad_id, related=(Related("2024-11-28", other),))))
    assert link_back(data, later, 5.0) == 1
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="arxiv_digest"):
        build_site(stamped, output)
    messages = [r.getMessage() for r in caplog.records]
    assert any("1 day(s) only gained links of papers their page lists" in m for m in messages), messages
    assert any("2 listed paper(s) gained links: their cards rendered" in m for m in messages)
    assert not any("decided and rendered" in m for m in messages)  # no worker read the day
    after = _stamps(output)
    day_page = output / "2024/11/28/index.html"
    assert after[day_page] != before[day_page]
    for pid in listed:  # each paper page keyed on its own record: only the two written again
        page = output / "papers" / pid / "index.html"
        assert (after[page] != before[page]) == (pid in (target, other)), pid
    text = day_page.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;c&#34;)" in text and "<script>alert(" not in text
    assert "<img src=x" not in text and '"><b>9' not in text and "2412.0&#34;&gt;&lt;b&gt;9" in text
    assert "2024-12-02" in text
    patched = _entry(stamped)
    cold = cold_build(stamped, tmp_path / "cold")
    made = _entry(stamped)
    assert patched[0] == made[0] and patched[2:] == made[2:]
    assert patched[1] == made[1] and patched[1].cache_key == made[1].cache_key
    assert [v.cache_key for v in (*patched[1].listed, *patched[1].updated)] == [
        v.cache_key for v in (*made[1].listed, *made[1].updated)]
    assert_identical(output, cold)
    _day_file(stamped).write_text('{"date": "2024-11-28", "papers": [', encoding="utf-8")
    with pytest.raises(BrokenDaysError, match=r"2024-11-28\.json"):
        build_site(stamped, output)


@pytest.mark.parametrize("edit", ["hostile", "broken", "record"])
def test_a_day_edited_after_its_links_were_written_back_is_read(stamped: Path, tmp_path: Path,
                                                                edit: str) -> None:
    """After a write-back the day file is edited by hand, so its key is no recorded step's: a
    hostile title on a listed paper is rendered, escaped; a broken file fails the build naming
    it. A damaged record is ignored: the day is read, and the output equals a cold build."""
    from arxiv_digest.core import relinks
    from arxiv_digest.core.errors import BrokenDaysError

    output = build_site(stamped, tmp_path / "kept")
    shown = set(_entry(stamped)[2])
    others = sorted(p["id"] for p in json.loads(_day_file(stamped).read_bytes())["papers"]
                    if p["id"] not in shown)
    _link_back(stamped, others[:3], True)
    data = stamped / "content" / "digests"
    if edit == "broken":
        _day_file(stamped).write_text('{"date": "2024-11-28", "papers": [', encoding="utf-8")
        with pytest.raises(BrokenDaysError, match=r"2024-11-28\.json"):
            build_site(stamped, output)
        return
    if edit == "record":
        path = relinks.record_path(data, "2024-11-28")
        path.write_bytes(b'{"format": 1, "steps": [["x", 5]]}')
        assert relinks.steps(data, "2024-11-28") == []
        build_site(stamped, output)
        assert_identical(output, cold_build(stamped, tmp_path / "cold"))
        return
    hostile = '<script>alert("r")</script> & <img src=x onerror=alert(1)>'
    target = sorted(shown)[0]

    def retitle(p: dict[str, Any]) -> None:
        if p["id"] == target:
            p["title"] = hostile + p["title"]

    _rewrite(_day_file(stamped), retitle)
    build_site(stamped, output)
    text = (output / "2024/11/28/index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;r&#34;)" in text and "<script>alert(" not in text
    assert "<img src=x" not in text
    assert_identical(output, cold_build(stamped, tmp_path / "cold"))


def test_the_heap_is_frozen_while_pages_are_written_and_thawed_after(site: Path,
                                                                      tmp_path: Path) -> None:
    """Once the days are read, the build moves its heap into the GC's permanent generation
    (site/plugin.py freeze_heap) and hands it back when the build ends (unfreeze_heap): a
    long-lived `pelican -r` keeps nothing frozen between builds."""
    import gc

    from pelican import signals

    frozen: list[int] = []

    def writing(*_: Any, **__: Any) -> None:
        frozen.append(gc.get_freeze_count())

    signals.all_generators_finalized.connect(writing)
    try:
        build_site(site, tmp_path / "out")
    finally:
        signals.all_generators_finalized.disconnect(writing)
    assert frozen and frozen[0] > 10_000
    assert gc.get_freeze_count() == 0
