"""What changed between two stored versions of a paper, decided at update.

When a day announces a replacement (v2 and later) and an earlier version of the same id is stored
on an earlier day, the replacement records (`Paper.changes`):

    since     {"date", "version"}: the stored version it is compared with (the latest earlier one)
    title     word diff, or null when unchanged
    abstract  word diff with long unchanged runs elided ("…"), or null when unchanged
    notes     [{"field", "old", "new"}]: a comment, journal reference or DOI the new version states
              and the old one did not, or stated otherwise ("accepted at …", a new journal ref)
    figures   [[old, new]]: numbers with units (45.2%, 2.3x, 4-bit, 7B, 12 GB, 30 ms, …) of the
              abstract that changed (both set), appeared (old null) or went away (new null)

A diff is a list of [op, text] segments: "=" unchanged words, "-" removed, "+" added, "…" a run of
unchanged words left out. The page renders them with <ins>/<del> through the autoescaping template,
so the text is never markup. Both papers also list each other's day in `versions` ({"date",
"version"}): the replacement at once, the earlier day's record through enrich.backlinks after the
day is stored, so the two pages link to each other.

Finding the earlier version: the {id: version} columns of the derived per-day index
(enrich.dayindex, shared with the near-duplicate titles; the titles line is not read), over every
stored day before this one; only the day that holds the latest earlier version is read, for those
papers alone.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core import store
from ..core.errors import StoreError
from ..core.filekeys import FileKeys
from ..core.models import Digest, Paper, VersionRef
from . import dayindex

logger = logging.getLogger(__name__)

CONTEXT = 8  # unchanged words kept on each side of a change in the abstract's diff
MAX_DIFF_WORDS = 4000  # longer texts are not compared word by word (hostile input only)
NOTE_FIELDS = ("comment", "journal_ref", "doi")

Segment = list[str]  # [op, text]


# --- word diffs -------------------------------------------------------------------------------

def word_diff(old: str, new: str, context: int | None = None) -> list[Segment] | None:
    """[op, text] segments turning old into new word by word; None when the words are the same.

    With `context`, runs of unchanged words longer than 2 * context keep `context` words on each
    side of a change and the rest becomes one "…" segment.
    """
    a, b = old.split(), new.split()
    if a == b:
        return None
    if len(a) > MAX_DIFF_WORDS or len(b) > MAX_DIFF_WORDS:
        return [["-", " ".join(a[:context or 40]) + " …"], ["+", " ".join(b[:context or 40]) + " …"]]
    out: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    opcodes = matcher.get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            words = a[i1:i2]
            if context is not None and len(words) > 2 * context:
                head = words[:context] if n > 0 else []
                tail = words[-context:] if n < len(opcodes) - 1 else []
                if head:
                    out.append(["=", " ".join(head)])
                out.append(["…", ""])
                if tail:
                    out.append(["=", " ".join(tail)])
            else:
                out.append(["=", " ".join(words)])
            continue
        if i2 > i1:
            out.append(["-", " ".join(a[i1:i2])])
        if j2 > j1:
            out.append(["+", " ".join(b[j1:j2])])
    return out


# --- figures: numbers with units ----------------------------------------------------------------

TIMES = "\u00d7"  # the multiplication sign: 2.3x, 2.3\\times and 2.3-fold are written 2.3 TIMES
_NUMBER = r"(?<![\w.])[-+\u00b1]?\d+(?:,\d{3})*(?:\.\d+)?"
_FIGURE = re.compile(
    _NUMBER + r"(?:\s*(?P<unit>"
    r"\\?%|\$?\\times\$?|\u00d7|x(?![\w-])|-?fold\b|times\b"
    r"|-?bits?\b|[KMGT]i?B\b|bytes\b"
    r"|[KMBT](?=\s|[-,.;:)]|$)|(?:million|billion|trillion)\b"
    r"|ms\b|s\b|sec(?:onds?)?\b|min(?:utes?)?\b|h(?:ours?)?\b|days?\b"
    r"|FPS\b|fps\b|[KMGTP]?FLOPs\b|dB\b|Hz\b|[kMG]Hz\b|W\b|kWh\b|tokens?\b|points?\b|pp\b"
    r"|(?:BLEU|ROUGE(?:-\w+)?|F1|mAP|AP|AUC|PSNR|SSIM|FID|Elo)\b"
    r"))")


def _unit(raw: str) -> str:
    """The canonical unit: % for \\%, TIMES for x, \\times, times and -fold, -bit for bits."""
    unit = raw.strip("$\\-")
    if unit in ("times", "x", "fold", TIMES):
        return TIMES
    if unit in ("bit", "bits"):
        return "-bit"
    return unit


def figures(text: str) -> list[tuple[str, str]]:
    """(unit, figure) of every number with a unit in the text, in order: ('%', '45.2%'), ..."""
    out = []
    for m in _FIGURE.finditer(text):
        unit = _unit(m.group("unit"))
        number = text[m.start():m.start("unit")].strip()
        glue = "" if unit in ("%", TIMES, "-bit") or len(unit) == 1 else " "
        out.append((unit, f"{number}{glue}{unit}"))
    return out


def _left(items: list[tuple[str, str]], budget: Counter[tuple[str, str]]) -> list[tuple[str, str]]:
    """The items the budget still counts, in order (each taken once per count)."""
    out = []
    for item in items:
        if budget[item] > 0:
            budget[item] -= 1
            out.append(item)
    return out


def figure_changes(old: str, new: str) -> list[list[str | None]]:
    """[[old, new]] for figures that changed (paired by unit, in order), appeared or went away."""
    before, after = figures(old), figures(new)
    removed = _left(before, Counter(before) - Counter(after))
    added = _left(after, Counter(after) - Counter(before))
    out: list[list[str | None]] = []
    for unit in dict.fromkeys(u for u, _ in removed + added):
        olds = [f for u, f in removed if u == unit]
        news = [f for u, f in added if u == unit]
        for i in range(max(len(olds), len(news))):
            out.append([olds[i] if i < len(olds) else None, news[i] if i < len(news) else None])
    return out


# --- the change record --------------------------------------------------------------------------

def changes(old: Paper, new: Paper, since: str) -> dict[str, Any]:
    """What changed from `old` (stored on day `since`) to `new`, as stored in Paper.changes."""
    notes = []
    for name in NOTE_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if after and after != before:  # a source that does not carry the field (RSS) says nothing
            notes.append({"field": name, "old": before, "new": after})
    abstract = word_diff(old.abstract, new.abstract, CONTEXT)
    return {
        "since": {"date": since, "version": old.version},
        "title": word_diff(old.title, new.title),
        "abstract": abstract,
        "notes": notes,
        "figures": figure_changes(old.abstract, new.abstract) if abstract else [],
    }


def valid_changes(data: Any) -> bool:
    """Whether a stored `changes` value has the shape `changes` writes (or is null)."""
    if data is None:
        return True
    if not isinstance(data, Mapping):
        return False
    since = data.get("since")
    ok = (isinstance(since, Mapping) and isinstance(since.get("date"), str)
          and isinstance(since.get("version"), int))
    for key in ("title", "abstract"):
        diff = data.get(key)
        ok = ok and (diff is None or (isinstance(diff, list) and all(
            isinstance(s, list) and len(s) == 2 and s[0] in ("=", "-", "+", "…")
            and isinstance(s[1], str) for s in diff)))
    notes = data.get("notes") or []
    ok = ok and isinstance(notes, list) and all(
        isinstance(n, Mapping) and n.get("field") in NOTE_FIELDS and isinstance(n.get("new"), str)
        and (n.get("old") is None or isinstance(n.get("old"), str)) for n in notes)
    figs = data.get("figures") or []
    return ok and isinstance(figs, list) and all(
        isinstance(f, list) and len(f) == 2 and all(x is None or isinstance(x, str) for x in f)
        for f in figs)


# --- the earlier version of a replacement ---------------------------------------------------------

def earlier_versions(data_dir: Path, date: str, papers: Sequence[Paper],
                     files: FileKeys | None = None) -> dict[str, tuple[str, Paper]]:
    """id -> (day, stored paper): the latest stored version, before `date`, of each replacement.
    `files`: the update's FileKeys (the day files' content keys, see enrich.dayindex)."""
    wanted = {p.id: p.version for p in papers if p.is_replacement and p.version > 1}
    if not wanted:
        return {}
    where: dict[str, str] = {}
    days = [path for path in dayindex.stored_days(data_dir) if path.stem < date]
    keys = dayindex.keys(data_dir, days, files)
    for path in days:  # oldest first: a later day overwrites
        try:
            ids = dayindex.day_versions(data_dir, path, keys.get(path))
        except StoreError as e:
            logger.warning("%s; its papers are not compared with new versions", e)
            continue
        for pid in wanted.keys() & ids.keys():
            if ids[pid] < wanted[pid]:
                where[pid] = path.stem
    out: dict[str, tuple[str, Paper]] = {}
    for day in sorted(set(where.values())):
        path = store.day_path(data_dir, day)
        try:
            for p in _stored_papers(path, {pid for pid, d in where.items() if d == day}):
                out[p.id] = (day, p)
        except StoreError as e:
            logger.warning("%s; its papers are not compared with new versions", e)
    return out


def _stored_papers(path: Path, ids: set[str]) -> list[Paper]:
    """The papers with these ids in one day file, each validated as store.load validates it (the
    other papers of the day are not built: a replacement's earlier day is read for a few papers)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read as a day file: {e.strerror}") from e
    found = _blocks(raw, path.stem, ids)
    if found is not None:
        return [Paper.from_dict(p, f"{path}: paper {p['id']}") for p in found]
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as e:  # RecursionError: nested too deep
        raise StoreError(f"{path}: cannot be read as a day file: {e}") from e
    papers = data.get("papers") if isinstance(data, dict) else None
    if not isinstance(papers, list) or data.get("date") != path.stem:
        raise StoreError(f"{path}: not a day file of {path.stem}")
    return [Paper.from_dict(p, f"{path}: papers[{i}]") for i, p in enumerate(papers)
            if isinstance(p, dict) and p.get("id") in ids]


def _blocks(raw: bytes, day: str, ids: set[str]) -> list[dict[str, Any]] | None:
    """The stored papers with these ids, parsed from their own blocks of a day file laid out as
    store.dumps writes it (a day file is ~1 MB; parsing it whole for one paper cost ~10 ms a day,
    and a real day's replacements have earlier versions on ~100 days); None when the file is not
    laid out so, or an id is not found exactly once (the caller then parses the whole file).
    The file is searched as bytes (UTF-8: every marker is ASCII); only the blocks are decoded."""
    if (f'\n  "date": {json.dumps(day)},\n'.encode() not in raw
            or b'\n  "papers": [\n' not in raw):
        return None
    out = []
    for pid in sorted(ids):
        line = f'\n      "id": {json.dumps(pid, ensure_ascii=False)},\n'.encode()
        at = raw.find(line)
        if at < 0 or raw.find(line, at + 1) >= 0:
            return None
        span = store.paper_block(raw, at)
        if span is None:
            return None
        try:
            paper = json.loads(raw[span[0]:span[1]].decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        if not isinstance(paper, dict) or paper.get("id") != pid:
            return None
        out.append(paper)
    return out


def link_versions(digest: Digest, data_dir: Path, files: FileKeys | None = None) -> Digest:
    """Each replacement with an earlier stored version: what changed, and that version's day."""
    found = earlier_versions(data_dir, digest.date, digest.papers, files)
    if not found:
        return digest
    papers = []
    for p in digest.papers:
        if p.id in found:
            day, old = found[p.id]
            p = replace(p, changes=changes(old, p, day),
                        versions=tuple(sorted({*p.versions, VersionRef(day, old.version)})))
        papers.append(p)
    logger.info("%s: %d updated versions compared with the stored earlier version", digest.date,
                len(found))
    return digest.with_papers(tuple(papers))


def date_label(iso: str) -> str:
    """'Thu 21 Nov 2024'"""
    d = dt.date.fromisoformat(iso)
    return f"{d:%a} {d.day} {d:%b %Y}"


def version_links(paper: Paper, data_link: str) -> tuple[tuple[str, str], ...]:
    """(href, label) of the paper's other stored versions: a Pelican {filename} link to each day."""
    return tuple(
        (f"{{filename}}{data_link}/{v.date[:4]}/{v.date}.json#{paper.id}",
         f"v{v.version} · {date_label(v.date)}")
        for v in paper.versions if v.date and _is_iso(v.date))


def page_changes(paper: Paper) -> Mapping[str, Any] | None:
    """The stored changes when they have the shape `changes` writes (a hand-edited file: none)."""
    if paper.changes is None or not valid_changes(paper.changes) or not _is_iso(
            str(paper.changes["since"]["date"])):
        return None
    return paper.changes


def _is_iso(text: str) -> bool:
    try:
        return len(text) == 10 and bool(dt.date.fromisoformat(text))
    except ValueError:
        return False
