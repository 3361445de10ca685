"""Links both ways between days: the earlier day's record learns about the later day, at update.

A day's update links its papers back to earlier days: a near-identical title (`related`) and the
earlier version of a replacement (`versions`); a near-identical title can also be a paper stored
that same day by an earlier run (another source: the same preprint on bioRxiv and medRxiv). Once
the day is stored, `link_back` writes the other direction into each earlier day file it names
(and into the day itself for such a paper), under that day's lock (store.day_lock):
the earlier paper gets `related` {date, id} or `versions` {date, version} pointing at the new day.
Each day file thus holds every link its page shows, so the build stays one file in, one page out
(and its per-day cache, keyed on the file's bytes, stays right without looking at other days).

Why here and not in the build: the build would have to read every day before rendering any, and a
day's page would depend on other files than its own. Writing at update costs a rewrite of the few
earlier days touched (idempotent: a link already there writes nothing), and it is safe the way
every update is: the earlier day is read, changed and written under its own lock, atomically, after
the new day's lock is released (no run ever holds two day locks, so two runs cannot deadlock).
A back link that cannot be written (the earlier day is locked past the timeout, unreadable or
invalid) is a warning, never a failed update: the new day is stored, and its next update tries
again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from .. import store
from ..errors import DigestError
from ..models import Digest, Related, VersionRef
from . import dayindex

logger = logging.getLogger(__name__)


def wanted(digest: Digest) -> dict[str, dict[str, tuple[set[Related], set[VersionRef]]]]:
    """earlier day -> paper id -> (related, versions) links that day's record should hold (the day
    itself too, for a same-day link to a paper stored there before, e.g. from another source)."""
    out: dict[str, dict[str, tuple[set[Related], set[VersionRef]]]] = defaultdict(dict)
    by_id = {p.id: p for p in digest.papers}
    for p in digest.papers:
        for r in p.related:
            back = Related(digest.date, p.id)
            # the same day: a paper of another source stored there earlier, without the link yet
            if r.date < digest.date or (r.date == digest.date and r.id in by_id
                                        and back not in by_id[r.id].related):
                out[r.date].setdefault(r.id, (set(), set()))[0].add(back)
        for v in p.versions:
            if v.date < digest.date:
                out[v.date].setdefault(p.id, (set(), set()))[1].add(
                    VersionRef(digest.date, p.version))
    return dict(out)


def link_back(data_dir: Path, digest: Digest, lock_timeout: float) -> int:
    """Write the links `digest` makes to earlier days into those days; returns the days written."""
    written = 0
    for day, links in sorted(wanted(digest).items()):
        path = store.day_path(data_dir, day)
        if not path.exists():
            continue
        try:
            with store.day_lock(data_dir, day, lock_timeout):
                stored = store.load(path)
                papers, changed = [], 0
                for p in stored.papers:
                    related, refs = links.get(p.id, (set(), set()))
                    new_related = tuple(sorted(set(p.related) | related))
                    new_versions = tuple(sorted(set(p.versions) | refs))
                    if new_related != p.related or new_versions != p.versions:
                        p = replace(p, related=new_related, versions=new_versions)
                        changed += 1
                    papers.append(p)
                if not changed:
                    continue
                updated = stored.with_papers(tuple(papers))
                store.save(data_dir, updated)
                dayindex.remember(data_dir, path, updated)
        except DigestError as e:
            logger.warning("%s: the links back from %s were not written (%s); the next update of "
                           "%s tries again", path, digest.date, e, digest.date)
            continue
        written += 1
        logger.info("%s: %d papers link forward to %s", day, changed, digest.date)
    return written
