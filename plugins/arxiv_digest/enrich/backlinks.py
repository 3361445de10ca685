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

import json
import logging
import re
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from ..core import relinks, store
from ..core.errors import DigestError, StoreError
from ..core.filekeys import file_key
from ..core.models import SCHEMA_VERSION, Digest, Paper, Related, VersionRef
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


Links = dict[str, tuple[set[Related], set[VersionRef]]]  # paper id -> the links it should hold


def link_back(data_dir: Path, digest: Digest, lock_timeout: float) -> int:
    """Write the links `digest` makes to earlier days into those days; returns the days written."""
    written = 0
    for day, links in sorted(wanted(digest).items()):
        path = store.day_path(data_dir, day)
        if not path.exists():
            continue
        try:
            with store.day_lock(data_dir, day, lock_timeout):
                changed = _splice(data_dir, path, links)
                if changed is None:
                    changed = _rewrite(data_dir, path, links)
        except DigestError as e:
            logger.warning("%s: the links back from %s were not written (%s); the next update of "
                           "%s tries again", path, digest.date, e, digest.date)
            continue
        if not changed:
            continue
        written += 1
        logger.info("%s: %d papers link forward to %s", day, changed, digest.date)
    return written


def _linked(p: Paper, links: Links) -> Paper:
    """The paper with the links it should hold added (the same object when none is new)."""
    related, refs = links.get(p.id, (set(), set()))
    new_related = tuple(sorted(set(p.related) | related))
    new_versions = tuple(sorted(set(p.versions) | refs))
    if new_related != p.related or new_versions != p.versions:
        return replace(p, related=new_related, versions=new_versions)
    return p


def _rewrite(data_dir: Path, path: Path, links: Links) -> int:
    """Read, validate and write the whole day file with the links added; the papers changed."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror}") from e
    stored = store.parse(path, raw)
    papers = tuple(_linked(p, links) for p in stored.papers)
    ids = [new.id for new, old in zip(papers, stored.papers, strict=True) if new is not old]
    if ids:
        updated = stored.with_papers(papers)
        store.save(data_dir, updated)
        try:
            new = path.read_bytes()  # read back once: its key indexes it and records the step
        except OSError:
            return len(ids)
        key = dayindex.remember(data_dir, path, updated, new)
        # the file now differs from `raw` only in these papers' links (core/relinks.py): the
        # build reuses what it made of `raw` for a page that lists none of them
        if key is not None:
            relinks.record(data_dir, path.stem, file_key(raw), key, ids)
    return len(ids)


# A day file as store.dumps writes it: two-space indent, sorted keys, one paper per block of lines
# opened by "    {" and closed by "    }" (a JSON string holds no raw newline, so these lines
# are the papers' own braces, and a paper's own keys are the only lines indented six spaces inside
# the papers' list). A link back changes a few papers of a day of hundreds: only their blocks are
# found (by their "id" line) and written again, the rest of the file is kept as it is, as bytes
# (parsing and encoding a whole day file took 0.13 s, most of it json's pure-Python indenting
# encoder; splitting it into every paper's block, decoding and encoding it, ~6 ms more a day).
_PAPERS_OPEN = b'\n  "papers": [\n'
_PAPERS_CLOSE = b"\n  ]"
_ID = b'\n      "id": '  # a paper's id line, one level inside its block
_INDENT = "    "


_LINE_BREAKS = re.compile(r"\n *")
_FIELD = "\n" + _INDENT + "  "  # a paper's keys, one level inside its block


def _is_written_as(p: Paper, block: str) -> bool:
    """Whether a paper's block is the paper as store.dumps writes it: the block without its line
    breaks and indents is json's one-line form of the paper (C encoder) with the same separators."""
    line = json.dumps(p.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ": "))
    return _LINE_BREAKS.sub("", block.removeprefix(_INDENT)) == line


def _with_links(block: str, p: Paper) -> str | None:
    """A paper's block (as store.dumps writes it) with its `related` and `versions` values those
    of `p`, the rest of the block kept; None if a field is not where that layout puts it."""
    for key, value in (("related", [r.to_dict() for r in p.related]),
                       ("versions", [v.to_dict() for v in p.versions])):
        head = f'{_FIELD}"{key}": '
        at = block.find(head)
        if at < 0:
            return None
        start = at + len(head)
        if block.startswith("[]", start):
            stop = start + 2
        else:
            stop = block.find(_FIELD + "]", start)
            if stop < 0:
                return None
            stop += len(_FIELD) + 1
        text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
        block = block[:start] + text.replace("\n", _FIELD) + block[stop:]
    return block


def _id_lines(raw: bytes, begin: int, end: int) -> dict[str, int] | None:
    """paper id -> where its id line is, for every paper of the papers' list raw[begin:end] (a
    day file in store.dumps's layout), in one pass over the list (a search per linked paper
    scanned the whole file twice for each: ~20 papers linked on a day cost more than splitting
    it); None when an id is not a plain JSON string or is there twice."""
    out: dict[str, int] = {}
    at = raw.find(_ID, begin, end)
    while at >= 0:
        start = at + len(_ID)
        stop = raw.find(b"\n", start, end)
        token = raw[start:stop if stop >= 0 else end].rstrip(b",")
        try:
            pid = json.loads(token)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        if not isinstance(pid, str) or pid in out:
            return None
        out[pid] = at
        at = raw.find(_ID, start, end)
    return out


def _splice(data_dir: Path, path: Path, links: Links) -> int | None:
    """Add the links to the papers that need them by rewriting only those papers' blocks; the
    papers changed, or None when this day file is not one to edit in place (then the caller
    reads and writes it whole, as before).

    In place needs: the day index derived from these very bytes (validated when indexed), the
    file in store.dumps's layout with the papers' list where it puts it and one id line per
    indexed paper, the rest of the day (date, counts, briefings, ...) of the current schema and
    exactly as store.dumps writes it, and each changed paper's block (around its id line)
    exactly as store.dumps writes that paper. The result is then the bytes store.save would write for the updated day.
    """
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    found = dayindex.fresh(data_dir, raw, path.stem)
    if found is None:
        return None
    head, titles = found
    opened = raw.find(_PAPERS_OPEN)
    begin = opened + len(_PAPERS_OPEN)
    end = raw.find(_PAPERS_CLOSE, begin)
    if opened < 0 or end < 0:
        return None
    rest = raw[:opened] + b'\n  "papers": []' + raw[end + len(_PAPERS_CLOSE):]
    try:
        text = rest.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not (isinstance(data, dict) and data.get("schema_version") == SCHEMA_VERSION
            and data.get("date") == path.stem):
        return None
    if store.dumps(Digest.from_dict(data)) != text:  # raises StoreError on an invalid day
        return None
    lines = _id_lines(raw, begin, end)
    if lines is None or len(lines) != len(head["ids"]):
        return None
    edits: list[tuple[int, int, bytes]] = []
    changed_ids = []
    for pid in links:
        if pid not in lines:
            continue
        span = store.paper_block(raw, lines[pid], begin, end)
        if span is None:
            return None
        a, b = span
        try:
            block = raw[a:b].decode("utf-8")
            record = json.loads(block)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        if not isinstance(record, dict) or record.get("id") != pid:
            return None
        old = Paper.from_dict(record, f"{path}: paper {pid}")
        if not _is_written_as(old, block):  # not as this code writes it: rewritten whole
            return None
        new = _linked(old, links)
        if new is not old:
            linked = _with_links(block, new)
            if linked is None:
                return None
            edits.append((a, b, linked.encode("utf-8")))
            changed_ids.append(pid)
    if not changed_ids:
        return 0
    parts: list[bytes] = []
    done = 0
    for a, b, edited in sorted(edits):
        parts += [raw[done:a], edited]
        done = b
    parts.append(raw[done:])
    out = b"".join(parts)
    store.remove_stale_temp_files(path)
    try:
        store.replace_file(path, out, fsync=True)
    except OSError as e:
        raise StoreError(f"{path}: cannot be written: {e.strerror}") from e
    key = file_key(out)
    dayindex.restamp(data_dir, path.stem, out, head, titles, key)
    relinks.record(data_dir, path.stem, head["key"], key, changed_ids)
    return len(changed_ids)
