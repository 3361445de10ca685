"""The references the near-duplicate linking is checked against, shared by
tests/test_near_duplicates.py and bench/bench_near_duplicates.py: every pair scored (the method
before the word-prefix index), and every day file of the window loaded whole (before the index)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path

from arxiv_digest.core import store
from arxiv_digest.core.models import Paper, Related
from rapidfuzz import fuzz, process, utils


def all_pairs(papers: Sequence[Paper], threshold: float, date: str,
              earlier: Sequence[tuple[str, str, str]]) -> dict[str, set[Related]]:
    """Every day title scored against every title of the day and the lookback, links by id (a
    stored entry of `date` with the id of one of `papers` is that paper)."""
    ids = {p.id for p in papers}
    pool = [(date, p.id, p.title) for p in papers] + [
        e for e in earlier if e[0] != date or e[1] not in ids]
    titles = [" ".join(sorted(utils.default_process(t).split())) for _, _, t in pool]
    out: dict[str, set[Related]] = {}
    for i, paper in enumerate(papers):
        for _, _, j in process.extract(titles[i], titles, scorer=fuzz.ratio,
                                       score_cutoff=threshold, limit=None):
            if pool[j][1] != paper.id:
                out.setdefault(paper.id, set()).add(Related(pool[j][0], pool[j][1]))
    return out


def titles_from_day_files(data_dir: Path, day: dt.date, lookback: int) -> list[tuple[str, str, str]]:
    """(date, id, title) of the window (`lookback` days before `day`, and `day`), each day file
    loaded whole."""
    first = (day - dt.timedelta(days=lookback)).isoformat()
    out = []
    for path in store.iter_days(data_dir):
        if first <= path.stem <= day.isoformat():
            d = store.load(path)
            out += [(d.date, p.id, p.title) for p in d.papers]
    return out


def resubmitted(title: str, rng: random.Random) -> str:
    """A title as a re-submission may change it: one to three edits of the kinds seen on arXiv
    (case, plural, a word added or dropped, a typo, spelling, hyphens, a subtitle)."""
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
