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
from arxiv_digest import store
from arxiv_digest.enrich import near_duplicates
from arxiv_digest.enrich.near_duplicates import MAX_RELATED, cache_path, recent_titles
from arxiv_digest.fetch import parse_rss
from arxiv_digest.models import Digest, Paper, Related
from arxiv_digest.normalize import link_near_duplicates, normalize
from arxiv_server import FIXTURES
from rapidfuzz import fuzz, process, utils

ROOT = Path(__file__).resolve().parents[1]
RSS = FIXTURES / "rss_all-archives_2024-11-28.xml"
DAY = "2024-11-28"


def all_pairs(papers: Sequence[Paper], threshold: float, date: str,
              earlier: Sequence[tuple[str, str, str]]) -> dict[str, set[Related]]:
    """The reference: every pair scored (the method used before the index), links by id."""
    pool = [(date, p.id, p.title) for p in papers] + [e for e in earlier if e[0] != date]
    titles = [" ".join(sorted(utils.default_process(t).split())) for _, _, t in pool]
    out: dict[str, set[Related]] = {}
    for i, paper in enumerate(papers):
        for _, _, j in process.extract(titles[i], titles, scorer=fuzz.ratio,
                                       score_cutoff=threshold, limit=None):
            if pool[j][1] != paper.id:
                out.setdefault(paper.id, set()).add(Related(pool[j][0], pool[j][1]))
    return out


def links(papers: Sequence[Paper]) -> dict[str, set[Related]]:
    return {p.id: set(p.related) for p in papers if p.related}


def resubmitted(title: str, rng: random.Random) -> str:
    """A title as a re-submission may change it: one to three edits of the kinds seen on arXiv."""
    words = title.split()
    for _ in range(rng.choice((1, 1, 2, 3))):
        i = rng.randrange(len(words))
        kind = rng.randrange(9)
        if kind == 0:
            words = [w.upper() for w in words]
        elif kind == 1:
            words[i] += "s"
        elif kind == 2:
            words.insert(0, rng.choice(("Towards", "On", "A")))
        elif kind == 3 and len(words) > 3:
            del words[i]
        elif kind == 4 and len(words[i]) > 3:  # a typo: two letters swapped
            w, j = words[i], rng.randrange(len(words[i]) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        elif kind == 5:
            words[i] = words[i].replace("iz", "is").replace("or", "our")
        elif kind == 6:
            words[i] = words[i].replace("-", " ")
        elif kind == 7:
            words += [":", rng.choice(("A Survey", "Extended Version", "Revisited"))]
        else:
            words[i] = words[i].lower()
    return " ".join(words)


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


# -- the recent days' titles: a derived index beside the day files ---------------------------


def store_days(data_dir: Path, papers: tuple[Paper, ...], dates: Sequence[str]) -> None:
    for n, date in enumerate(dates):
        day = tuple(replace(p, id=f"{p.id}.{n}") for p in papers)
        store.save(data_dir, Digest(date=date, categories=("cs.LG",), source="rss", papers=day))


def reference_titles(data_dir: Path, day: dt.date, lookback: int) -> list[tuple[str, str, str]]:
    """What update read before the index: every day file in the window, loaded whole."""
    first = (day - dt.timedelta(days=lookback)).isoformat()
    out = []
    for path in store.iter_days(data_dir):
        if first <= path.stem < day.isoformat():
            d = store.load(path)
            out += [(d.date, p.id, p.title) for p in d.papers]
    return out


def test_recent_titles_index_is_derived_rebuilt_and_pruned(tmp_path: Path, real_day: tuple[Paper, ...],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "content" / "digests"
    dates = ["2024-10-01", "2024-10-28", "2024-11-01", "2024-11-04", "2024-11-05"]
    store_days(data, real_day[:600], dates)
    today = dt.date(2024, 11, 6)
    expected = reference_titles(data, today, 30)
    assert len(expected) == 4 * 600  # 2024-10-01 is outside the 30 days

    assert recent_titles(data, today, 30) == expected  # derives the index files
    files = sorted((data / near_duplicates.CACHE_DIR).iterdir())
    assert [f.name for f in files] == [f"{d}.titles" for d in dates[1:]]
    assert recent_titles(data, today, 30) == expected  # read from them

    # a day file changed since (a merge added a paper): its index is stale and rebuilt
    path = store.day_path(data, "2024-11-04")
    changed = store.load(path)
    extra = replace(real_day[0], id="2411.55555", title="A Paper Added Later")
    store.save(data, changed.with_papers((*changed.papers, extra)))
    assert ("2024-11-04", "2411.55555", "A Paper Added Later") in recent_titles(data, today, 30)

    # missing, malformed or foreign index files are derived again
    cache_path(data, "2024-11-01").unlink()
    cache_path(data, "2024-11-05").write_text("{not json")
    cache_path(data, "2024-10-28").write_text(json.dumps({"format": 99, "titles": [["x", "y"]]}))
    assert recent_titles(data, today, 30) == reference_titles(data, today, 30)
    assert json.loads(cache_path(data, "2024-11-05").read_text())["format"] == near_duplicates.CACHE_FORMAT

    # the window moves on: index files of days before it are removed
    assert recent_titles(data, dt.date(2024, 12, 2), 30) == reference_titles(data, dt.date(2024, 12, 2), 30)
    assert sorted(f.name for f in (data / near_duplicates.CACHE_DIR).iterdir()) == [
        "2024-11-04.titles", "2024-11-05.titles"]

    # an index that cannot be written: a warning, and the titles all the same
    folder = data / near_duplicates.CACHE_DIR
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    folder.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        assert recent_titles(data, today, 30) == reference_titles(data, today, 30)
    assert "title index not written" in caplog.text


def test_broken_day_in_the_window_still_fails_the_update(tmp_path: Path, real_day: tuple[Paper, ...]) -> None:
    from arxiv_digest.errors import StoreError

    data = tmp_path / "digests"
    store_days(data, real_day[:5], ["2024-11-04"])
    recent_titles(data, dt.date(2024, 11, 6), 30)
    store.day_path(data, "2024-11-04").write_text('{"schema_version": 1, "date": "2024-11-04"')
    with pytest.raises(StoreError, match=r"2024-11-04\.json: not valid JSON"):
        recent_titles(data, dt.date(2024, 11, 6), 30)


def test_index_folder_is_ignored_by_git_and_pelican() -> None:
    rel = cache_path(Path("content/digests"), "2024-11-28")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(rel)], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{rel} is not git-ignored"
    from arxiv_digest.render import DigestReader

    assert rel.suffix.lstrip(".") not in DigestReader.file_extensions
    assert any(part.startswith(".") for part in rel.parts[2:])  # Pelican's IGNORE_FILES: **/.*
