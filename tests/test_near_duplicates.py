"""Near-duplicate titles at update: the title index scores only plausible pairs, with the same links
as scoring every pair on real titles; the recent days' titles come from a derived index file."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import subprocess
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from arxiv_digest.core import store
from arxiv_digest.core.models import Digest, Paper, Related
from arxiv_digest.enrich import dayindex
from arxiv_digest.enrich.dayindex import index_path
from arxiv_digest.enrich.near_duplicates import MAX_RELATED, recent_titles
from arxiv_digest.update.fetch import parse_rss
from arxiv_digest.update.normalize import link_near_duplicates, normalize
from arxiv_server import FIXTURES
from near_dup_reference import all_pairs, resubmitted, titles_from_day_files

ROOT = Path(__file__).resolve().parents[1]
RSS = FIXTURES / "rss_all-archives_2024-11-28.xml"
DAY = "2024-11-28"


def links(papers: Sequence[Paper]) -> dict[str, set[Related]]:
    return {p.id: set(p.related) for p in papers if p.related}


@pytest.fixture(scope="module")
def real_day() -> tuple[Paper, ...]:
    return normalize(parse_rss(RSS.read_bytes(), "rss").records, [])


def test_same_links_as_scoring_every_pair_on_a_real_size_day(real_day: tuple[Paper, ...]) -> None:
    """1,504 real titles plus 60 same-day re-submissions against 3,000 stored titles: recombined
    real titles, and 400 real titles edited as re-submissions edit them (case, plural, spelling,
    typo, word added or dropped, subtitle)."""
    rng = random.Random(11)
    words = [p.title.split() for p in real_day]
    earlier: list[tuple[str, str, str]] = []
    for k in range(3000):
        date = f"2024-11-{1 + k % 27:02d}"
        if k % 7 == 0:
            title = resubmitted(rng.choice(real_day).title, rng)
        else:  # a real-looking title: the first half of one real title, the second of another
            a, b = rng.choice(words), rng.choice(words)
            title = " ".join(a[: len(a) // 2] + b[len(b) // 2:])
        earlier.append((date, f"2410.{k:05d}", title))
    same_day = [replace(p, id=f"2411.9{k:04d}", title=resubmitted(p.title, rng))
                for k, p in enumerate(rng.sample(real_day, 60))]
    papers = (*real_day, *same_day)

    expected = all_pairs(papers, 92, DAY, earlier)
    got = links(link_near_duplicates(papers, 92, DAY, earlier))
    assert sum(map(len, expected.values())) > 450  # the case is not vacuous
    assert got == expected


def test_existing_links_are_kept_and_same_day_links_are_mutual(real_day: tuple[Paper, ...]) -> None:
    first = replace(real_day[0], related=(Related("2024-10-01", "2410.00001"),))
    twin = replace(real_day[0], id="2411.99999", title=real_day[0].title.upper() + ".")
    out = {p.id: p for p in link_near_duplicates((first, twin, *real_day[1:50]), 92, DAY)}
    assert set(out[first.id].related) == {Related("2024-10-01", "2410.00001"), Related(DAY, twin.id)}
    assert out[twin.id].related == (Related(DAY, first.id),)


def test_hostile_titles(real_day: tuple[Paper, ...]) -> None:
    """Empty and punctuation-only titles link to nothing; a 10,000-character title is compared
    like any other; one identical title on 3,000 papers keeps each paper's links bounded."""
    base = real_day[0]
    empty = [replace(base, id=f"2411.8{k:04d}", title=t)
             for k, t in enumerate(["", " ", "???", "-- : --", "$$", "\u200b"])]
    huge = "Sparse attention " * 588 + "for long inputs"
    long_ones = [replace(base, id="2411.70001", title=huge),
                 replace(base, id="2411.70002", title=huge.replace("inputs", "input"))]
    papers = (*empty, *long_ones, *real_day[:200])
    earlier = [("2024-11-20", "2411.60001", ""), ("2024-11-20", "2411.60002", "!!"),
               ("2024-11-20", "2411.60003", huge.upper())]
    out = {p.id: p for p in link_near_duplicates(papers, 92, DAY, earlier)}
    assert all(not out[p.id].related for p in empty)
    assert set(out["2411.70001"].related) == {Related(DAY, "2411.70002"),
                                             Related("2024-11-20", "2411.60003")}
    assert all(not out[p.id].related for p in real_day[:200])

    # one title for 1,000 papers today and 2,000 stored: each keeps MAX_RELATED, the latest first
    same = tuple(replace(base, id=f"2411.{k:05d}", title="Attention Is All You Need")
                 for k in range(1000))
    stored = [(f"2024-11-{1 + k % 27:02d}", f"2410.{k:05d}", "attention is all you need!")
              for k in range(2000)]
    started = time.perf_counter()
    linked = link_near_duplicates(same, 92, DAY, stored)
    assert time.perf_counter() - started < 20  # linear, not 1,000 x 3,000 (a loose bound)
    assert all(len(p.related) == MAX_RELATED for p in linked)
    assert all(r.date == DAY for r in linked[0].related)  # identical score: the latest day first


def test_threshold_extremes_match_every_pair(real_day: tuple[Paper, ...]) -> None:
    papers = real_day[:120]
    earlier = [("2024-11-20", f"2410.{k:05d}", p.title.lower()) for k, p in enumerate(real_day[100:220])]
    for threshold in (100.0, 99.5, 80.0, 60.0, 0.0):
        expected = all_pairs(papers, threshold, DAY, earlier)
        got = links(link_near_duplicates(papers, threshold, DAY, earlier))
        if threshold == 0.0:  # every pair matches: each paper keeps its MAX_RELATED best
            assert all(len(v) == MAX_RELATED for v in got.values()) and got.keys() == expected.keys()
            assert all(got[k] <= expected[k] for k in got)
        else:
            assert got == expected, threshold


# -- the recent days' titles: the derived per-day index (enrich.dayindex) ----------------------


def store_days(data_dir: Path, papers: tuple[Paper, ...], dates: Sequence[str]) -> None:
    for n, date in enumerate(dates):
        day = tuple(replace(p, id=f"{p.id}.{n}") for p in papers)
        store.save(data_dir, Digest(date=date, categories=("cs.LG",), source="rss", papers=day))


def index_names(data: Path) -> list[str]:
    return sorted(f.name for f in (data / dayindex.CACHE_DIR).iterdir())


def test_recent_titles_index_is_derived_rebuilt_and_pruned(tmp_path: Path, real_day: tuple[Paper, ...],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "content" / "digests"
    dates = ["2024-10-01", "2024-10-28", "2024-11-01", "2024-11-04", "2024-11-05"]
    store_days(data, real_day[:600], dates)
    today = dt.date(2024, 11, 6)
    expected = titles_from_day_files(data, today, 30)
    assert len(expected) == 4 * 600  # 2024-10-01 is outside the 30 days

    assert recent_titles(data, today, 30) == expected  # derives the index files
    assert index_names(data) == [f"{d}.index" for d in dates[1:]]
    assert recent_titles(data, today, 30) == expected  # read from them

    # a day file changed since (a merge added a paper): its index is stale and rebuilt
    path = store.day_path(data, "2024-11-04")
    changed = store.load(path)
    extra = replace(real_day[0], id="2411.55555", title="A Paper Added Later")
    store.save(data, changed.with_papers((*changed.papers, extra)))
    assert ("2024-11-04", "2411.55555", "A Paper Added Later") in recent_titles(data, today, 30)

    # missing, malformed or foreign index files are derived again
    index_path(data, "2024-11-01").unlink()
    index_path(data, "2024-11-05").write_text("{not json")
    index_path(data, "2024-10-28").write_text(json.dumps({"format": 99, "ids": ["x"]}) + "\n[]")
    assert recent_titles(data, today, 30) == titles_from_day_files(data, today, 30)
    head = index_path(data, "2024-11-05").read_text().splitlines()[0]
    assert json.loads(head)["format"] == dayindex.FORMAT

    # the day itself is read too (papers of another source stored that day)
    assert recent_titles(data, dt.date(2024, 11, 5), 30) == titles_from_day_files(
        data, dt.date(2024, 11, 5), 30)

    # the window moves on: the index files stay (the version lookup reads every day) until their
    # day file is gone
    later = dt.date(2024, 12, 2)
    assert recent_titles(data, later, 30) == titles_from_day_files(data, later, 30)
    assert index_names(data) == [f"{d}.index" for d in dates[1:]]
    store.day_path(data, "2024-10-28").unlink()
    recent_titles(data, later, 30)
    assert index_names(data) == [f"{d}.index" for d in dates[2:]]

    # an index that cannot be written: a warning, and the titles all the same
    folder = data / dayindex.CACHE_DIR
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    folder.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        assert recent_titles(data, today, 30) == titles_from_day_files(data, today, 30)
    assert "day index not written" in caplog.text


def test_broken_day_in_the_window_still_fails_the_update(tmp_path: Path, real_day: tuple[Paper, ...]) -> None:
    from arxiv_digest.core.errors import StoreError

    data = tmp_path / "digests"
    store_days(data, real_day[:5], ["2024-11-04"])
    recent_titles(data, dt.date(2024, 11, 6), 30)
    store.day_path(data, "2024-11-04").write_text('{"schema_version": 1, "date": "2024-11-04"')
    with pytest.raises(StoreError, match=r"2024-11-04\.json: not valid JSON"):
        recent_titles(data, dt.date(2024, 11, 6), 30)


def test_index_folder_is_ignored_by_git_and_pelican() -> None:
    rel = index_path(Path("content/digests"), "2024-11-28")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(rel)], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{rel} is not git-ignored"
    from arxiv_digest.site.render import DigestReader

    assert rel.suffix.lstrip(".") not in DigestReader.file_extensions
    assert any(part.startswith(".") for part in rel.parts[2:])  # Pelican's IGNORE_FILES: **/.*


# -- the day index: one file a day, shared with the version lookup ---------------------------


def test_day_index_columns_titles_line_and_hostile_files(tmp_path: Path, real_day: tuple[Paper, ...]) -> None:
    """The version lookup reads the header line alone; titles with line breaks and quotes round
    trip; broken or foreign index files (and the two indexes this one replaced) go away."""
    data = tmp_path / "digests"
    odd = ("Line\nbreak", "U+2028\u2028and U+2029\u2029", '"quoted" \\ back', "", "\u200b", "ñ 数据")
    papers = (*real_day[:500], *(replace(real_day[0], id=f"2411.9{k:04d}", title=t)
                                 for k, t in enumerate(odd)))
    path = store.save(data, Digest(date="2024-11-27", categories=("cs",), source="rss", papers=papers))
    for legacy in dayindex.LEGACY_DIRS:
        (data / legacy).mkdir(parents=True)
        (data / legacy / "2024-11-27.titles").write_text("old")
    assert dayindex.stored_days(data) == [path]
    assert not any((data / legacy).exists() for legacy in dayindex.LEGACY_DIRS)
    entries = dayindex.day_entries(data, path)
    assert [(e.id, e.version, e.title, e.source) for e in entries] == [
        (p.id, p.version, p.title, p.source) for p in papers]
    index = index_path(data, "2024-11-27")
    assert index.read_bytes().count(b"\n") == 2  # the header line, the titles line

    # a broken titles line: the ids still come from the header; the titles are derived again
    head = index.read_bytes().partition(b"\n")[0]
    index.write_bytes(head + b"\n[\"cut short")
    assert dayindex.day_versions(data, path) == {p.id: p.version for p in papers}
    assert index.read_bytes() == head + b"\n[\"cut short"  # not rewritten: nothing was wrong
    assert dayindex.day_entries(data, path) == entries
    # hostile headers: wrong types, columns of different lengths, a huge line, binary
    good = json.loads(head)
    for change in ({"ids": good["ids"][1:]}, {"versions": ["1"] * len(good["ids"])},
                   {"ids": [1] * len(good["ids"])}, {"key": 5}, {"sources": [["arxiv", -1]]},
                   {"sources": [["arxiv", len(good["ids"]) - 1]]}, {"sources": "arxiv"},
                   {"format": 1}):
        index.write_bytes(json.dumps({**good, "stat": [], **change}).encode() + b"\n[]")
        assert dayindex.day_versions(data, path) == {p.id: p.version for p in papers}, change
        assert dayindex.day_entries(data, path) == entries
    for bad in (b"[" * 100_000, b"\xff\xfe\x00garbage\n\n", b"", b"\n"):
        index.write_bytes(bad)
        assert dayindex.day_versions(data, path) == {p.id: p.version for p in papers}
        assert dayindex.day_entries(data, path) == entries

    # touched, same bytes (a checkout): the same content key, the index kept as it is
    before = index.read_bytes()
    path.touch()
    assert dayindex.day_entries(data, path) == entries
    assert index.read_bytes() == before


def biorxiv_papers(server: str) -> list[Paper]:
    """Real records of the recorded bioRxiv/medRxiv API answers, as update stores them."""
    from arxiv_digest.update.fetch_biorxiv import to_paper

    name = f"api_details_{server}_2020-01-01_2022-12-31_cursor0_first50of100_reindented.json"
    records = json.loads((FIXTURES.parent / "biorxiv" / name).read_text())["collection"]
    return [to_paper(rec, server, name)[0] for rec in records]


def test_near_duplicates_across_sources_are_linked_both_ways(tmp_path: Path,
                                                             real_day: tuple[Paper, ...]) -> None:
    """A preprint on bioRxiv and medRxiv stored the same day, and one on arXiv and bioRxiv on two
    days: each links to the other, though their ids (an arXiv id, DOIs) have different shapes."""
    from arxiv_digest.enrich.backlinks import link_back

    data = tmp_path / "digests"
    day = dt.date(2024, 11, 28)
    date = day.isoformat()
    bio = biorxiv_papers("biorxiv")
    med = biorxiv_papers("medrxiv")
    first = bio[3]  # posted on bioRxiv by an earlier run of the day, next to arXiv's papers
    stored = Digest(date=date, categories=("cs",), source="rss", papers=(*real_day[:500], first))
    path = store.save(data, stored)
    dayindex.remember(data, path, stored)
    assert [e.source for e in dayindex.day_entries(data, path)][-2:] == ["arxiv", "biorxiv"]

    # the same preprint on medRxiv (its title re-cased), stored into the same day later
    twin = replace(med[0], title=first.title.upper())
    earlier = recent_titles(data, day, 30)
    (linked,) = link_near_duplicates((twin,), 92, date, earlier)
    assert linked.related == (Related(date, first.id),)
    merged = store.merge(stored, Digest(date=date, categories=(), source="api", papers=(linked,)))
    dayindex.remember(data, store.save(data, merged), merged)
    assert link_back(data, merged, 5) == 1
    again = {p.id: p for p in store.load(path).papers}
    assert again[first.id].related == (Related(date, twin.id),)
    assert again[twin.id].related == (Related(date, first.id),)
    assert link_back(data, store.load(path), 5) == 0  # both ways already: nothing written

    # an arXiv re-run of the day finds its own stored papers: no paper links to itself
    rerun = link_near_duplicates(real_day[:500], 92, date, recent_titles(data, day, 30))
    assert links(rerun) == links(link_near_duplicates(real_day[:500], 92, date))

    # arXiv today, the same paper on bioRxiv the next day (another DOI shape, another source)
    arxiv_paper = real_day[10]
    cross = replace(bio[5], title=arxiv_paper.title + ".")
    next_day = dt.date(2024, 11, 29)
    (cross,) = link_near_duplicates((cross,), 92, next_day.isoformat(),
                                    recent_titles(data, next_day, 30))
    assert cross.related == (Related(date, arxiv_paper.id),)
    later = Digest(date=next_day.isoformat(), categories=(), source="api", papers=(cross,))
    store.save(data, later)
    assert link_back(data, later, 5) == 1
    back = {p.id: p for p in store.load(path).papers}[arxiv_paper.id]
    assert Related(next_day.isoformat(), cross.id) in back.related
