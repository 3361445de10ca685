"""Near-duplicate titles (re-submissions under a new id): which pairs to score, and the titles of
recent days kept in a small derived index beside the day files.

A pair is linked when rapidfuzz's `fuzz.ratio` of the two titles, lower-cased, stripped of
punctuation and with their words sorted (token_sort_ratio, the tokens sorted once per title), is at
least the threshold: the same rule as ever. What changed is which pairs get scored. Scoring every
new title against every stored one is 1,500 x 33,000 pairs a day for all of cs over the 30-day
lookback (10-16 s); instead a small inverted index of word prefixes (a word's first
`PREFIX_LETTERS` letters, so "model"/"models" and "optimize"/"optimise" fall together) picks the
plausible partners, and only those are scored:

- every stored title (one entry per distinct processed title, however many papers share it) is
  indexed under each of its word prefixes, in order of length;
- a new title with n distinct word prefixes looks up its n - ceil(n/2) + h rarest prefixes (h = 2,
  or 1 for a one-word title) within the lengths a match can have, and only stored titles found under
  at least h of them are scored.

Every title that shares at least half of the new title's word prefixes is therefore scored (by the
prefix-filter argument: h of the shared prefixes must be among that many rarest), which holds for
every re-submission we have seen: a changed case, punctuation, plural, spelling or word. A title
that a threshold of 92 would still call similar while changing the first letters of more than half
of its words is missed; tests/test_near_duplicates.py checks on real titles with such edits that
the links are the same as scoring every pair.

Below a threshold of FILTER_MIN_THRESHOLD (80) titles sharing few words can match, and every pair
is scored, as before. Two deliberate differences from scoring every pair, for hostile input only: a title with no letter
or digit links to nothing (two empty titles are not a re-submission of each other), and a paper
keeps at most MAX_RELATED links (the best scores, then the most recent), so a thousand papers with
one identical title cost linear time and a bounded page.

The titles of recent days come from the derived per-day index (enrich.dayindex), which the version
lookup shares; the day being updated is read too, so a paper of another source stored that day
(the same preprint on bioRxiv and medRxiv, or on arXiv and bioRxiv) is linked like any other (a
paper of that day with the id of one of the new papers is the same paper, not compared with itself).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from ..core.filekeys import FileKeys
from ..core.models import Paper, Related
from . import dayindex

logger = logging.getLogger(__name__)

PREFIX_LETTERS = 5  # a word's first letters that index it: plurals and suffixes fall together
# Below this threshold titles that share few words can score high enough: every pair is scored
# (within the lengths a match can have), slowly but exactly. Such a threshold links unrelated papers.
FILTER_MIN_THRESHOLD = 80.0
MAX_RELATED = 20  # links kept per paper: a bound for hostile input, never reached by real days

Entry = tuple[str, str, str]  # (date, id, title)


def title_key(title: str) -> str:
    """The compared form of a title: lower case, punctuation as spaces, words sorted."""
    return " ".join(sorted(utils.default_process(title).split()))


def _prefixes(key: str) -> set[str]:
    return {w[:PREFIX_LETTERS] for w in key.split()}


class TitleIndex:
    """Distinct processed titles, indexed by word prefix in order of length, for `matches`."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = sorted(set(keys))
        self.keys.sort(key=len)  # by length, then text (a stable sort)
        self.lengths = [len(k) for k in self.keys]
        postings: defaultdict[str, list[int]] = defaultdict(list)
        for j, key in enumerate(self.keys):  # postings come out sorted by j, i.e. by length
            for prefix in _prefixes(key):
                postings[prefix].append(j)
        self.postings = dict(postings)

    def matches(self, key: str, threshold: float) -> list[tuple[str, float]]:
        """(stored key, score) of every indexed title scoring at least `threshold` against `key`."""
        prefixes = _prefixes(key)
        if not key or not prefixes:
            return []
        # ratio >= t needs |la - lb| <= r (la + lb), r = 1 - t/100 (one more for float rounding)
        r = min(max(1.0 - threshold / 100.0, 0.0), 1.0)
        low = bisect.bisect_left(self.lengths, math.floor(len(key) * (1 - r) / (1 + r)) - 1)
        high = (len(self.keys) if r >= 1.0
                else bisect.bisect_right(self.lengths, math.ceil(len(key) * (1 + r) / (1 - r)) + 1))
        if threshold < FILTER_MIN_THRESHOLD:
            return self._score(key, self.keys[low:high], threshold)
        n = len(prefixes)
        shared = math.ceil(n / 2)  # every title sharing this many prefixes is found
        hits = min(2, shared)
        probe = n - shared + hits
        lists = sorted((self.postings.get(p, []) for p in prefixes), key=len)[:probe]
        seen: set[int] = set()
        found: set[int] = set()  # in at least `hits` of the lists (1 or 2)
        for postings in lists:
            part = set(postings[bisect.bisect_left(postings, low):bisect.bisect_left(postings, high)])
            if hits == 2:
                found |= part & seen
            seen |= part
        return self._score(key, [self.keys[j] for j in (found if hits == 2 else seen)], threshold)

    @staticmethod
    def _score(key: str, candidates: Sequence[str], threshold: float) -> list[tuple[str, float]]:
        return [(choice, score) for choice, score, _ in process.extract(
            key, candidates, scorer=fuzz.ratio, score_cutoff=threshold, limit=None)]


def link_near_duplicates(
    papers: tuple[Paper, ...],
    threshold: float,
    date: str,
    earlier: Sequence[Entry] = (),
) -> tuple[Paper, ...]:
    """Link near-identical titles under different ids (re-submissions), rather than dropping them.

    `papers` are the day's papers (announced on `date`); `earlier` holds (date, id, title) of papers
    stored on recent days (and on `date`: another source's), so a re-submission links back to the
    day of the first one. An entry of `date` with the id of one of `papers` is that paper (stored by
an earlier run of the day): it is skipped.
    """
    if not papers:
        return papers
    day_keys = [title_key(p.title) for p in papers]
    members: dict[str, list[tuple[str, str]]] = {}  # key -> (date, id) of every paper with it
    for key, p in zip(day_keys, papers, strict=True):
        members.setdefault(key, []).append((date, p.id))
    today = {p.id for p in papers}
    for other_date, other_id, title in earlier:
        if other_date != date or other_id not in today:
            members.setdefault(title_key(title), []).append((other_date, other_id))
    index = TitleIndex([k for k in members if k])
    found: dict[str, dict[str, float]] = {
        key: dict(index.matches(key, threshold)) for key in dict.fromkeys(day_keys)}
    for key, others in list(found.items()):  # same-day pairs both ways, as the score is symmetric
        for other, score in list(others.items()):
            if other in found:
                found[other].setdefault(key, score)
    ordered: dict[str, list[tuple[str, str]]] = {}  # a key's papers: latest day first, then id
    related: dict[int, set[Related]] = {}
    for i, (key, paper) in enumerate(zip(day_keys, papers, strict=True)):
        picks: list[tuple[float, str, str]] = []
        for other, score in found[key].items():
            if other not in ordered:
                ordered[other] = sorted(dict.fromkeys(members[other]), key=lambda m: m[1])
                ordered[other].sort(key=lambda m: m[0], reverse=True)
            taken = 0
            for other_date, other_id in ordered[other]:  # at most MAX_RELATED from one title
                if other_id != paper.id:
                    picks.append((score, other_date, other_id))
                    taken += 1
                    if taken == MAX_RELATED:
                        break
        # the best scores first, then the most recent day, then the id (stable sorts)
        picks.sort(key=lambda t: t[2])
        picks.sort(key=lambda t: (t[0], t[1]), reverse=True)
        links = {Related(d, pid) for _, d, pid in picks[:MAX_RELATED]}
        if links:
            related[i] = links
    if related:
        logger.info("near-duplicate titles: %d papers linked", len(related))
    return tuple(
        replace(p, related=tuple(sorted(set(p.related) | related.get(i, set()))))
        for i, p in enumerate(papers)
    )


def recent_titles(data_dir: Path, day: dt.date, lookback_days: int,
                  files: FileKeys | None = None) -> list[Entry]:
    """(date, id, title) of the papers stored in the `lookback_days` before `day` and on `day`
    itself (a paper of another source stored that day), from the day index (enrich.dayindex).
    `files`: the update's FileKeys (the day files' content keys, shared with the version lookup)."""
    first, last = (day - dt.timedelta(days=lookback_days)).isoformat(), day.isoformat()
    days = [path for path in dayindex.stored_days(data_dir) if first <= path.stem <= last]
    keys = dayindex.keys(data_dir, days, files)
    out: list[Entry] = []
    for path in days:
        out += [(path.stem, e.id, e.title)
                for e in dayindex.day_entries(data_dir, path, keys.get(path))]
    return out
