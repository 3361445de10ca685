"""One small derived index per stored day: each paper's id, version, source and title.

Update looks back over the stored days twice: near-duplicate titles over the last 30 days
(enrich.near_duplicates) and the earlier version of each replacement over the whole archive
(enrich.versions). Both read this index instead of the day files:
`content/digests/.cache/day-index/YYYY-MM-DD.index`, two lines of JSON:

    {"format", "sha256", "stat", "ids", "versions", "sources"}   the header, with the columns
    ["title", ...]                                                the titles, in the same order

("sources" holds runs of one source, [["arxiv", 1504], ["biorxiv", 40]], in the papers' order.)

The titles come last, on their own line, so a reader that needs only ids and versions (the version
lookup, over every stored day) stops before them. The index is derived from the day file: rebuilt
when missing, unreadable, of another format or stale, written atomically, git-ignored (the
repository ignores .cache/) and never read by Pelican (a hidden folder, and not a .json file).
While the day file's size, mtime (ns) and inode are those recorded in `stat`, the index is used
without hashing the file (every write of a day file renames a new file into place: a new inode);
otherwise the file is hashed, and a matching sha256 only refreshes the recorded stat (a checkout
touches files without changing them). A day file written by update is indexed at once (`remember`),
so the next update reads nothing but the index. Deleting the folder costs the next update one read
of each stored day. The source ("arxiv", "biorxiv", "medrxiv") is kept with each id: ids of
different sources have different shapes (arXiv ids, DOIs), and a near-duplicate across sources is
a link like any other.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any, NamedTuple

from .. import store
from ..errors import StoreError
from ..models import Digest, Paper

logger = logging.getLogger(__name__)

CACHE_DIR = ".cache/day-index"  # under the data folder (content/digests)
SUFFIX = ".index"
FORMAT = 2  # 2: sources as runs
# the two indexes this one replaced (near-duplicate titles, version ids): removed when seen
LEGACY_DIRS = (".cache/near-duplicates", ".cache/versions")


class Entry(NamedTuple):
    """One paper of a stored day, as the index holds it."""

    id: str
    version: int
    title: str
    source: str


def index_path(data_dir: Path, day: str) -> Path:
    """content/digests/.cache/day-index/YYYY-MM-DD.index"""
    return data_dir / CACHE_DIR / f"{day}{SUFFIX}"


def _stat(path: Path) -> list[int]:
    try:
        st = path.stat()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror}") from e
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _render(sha: str, stat: list[int], papers: tuple[Paper, ...]) -> tuple[dict[str, Any], bytes]:
    """The header of a day's index, and the index file's bytes."""
    runs: list[list[Any]] = []  # [source, count]: runs of papers of one source, in order
    for p in papers:
        if runs and runs[-1][0] == p.source:
            runs[-1][1] += 1
        else:
            runs.append([p.source, 1])
    head = {"format": FORMAT, "sha256": sha, "stat": stat, "ids": [p.id for p in papers],
            "versions": [p.version for p in papers], "sources": runs}
    titles = [p.title for p in papers]
    return head, _join(head, json.dumps(titles, ensure_ascii=False, separators=(",", ":")).encode())


def _join(head: dict[str, Any], titles: bytes) -> bytes:
    return json.dumps(head, separators=(",", ":")).encode("utf-8") + b"\n" + titles + b"\n"


def _write(data_dir: Path, day: str, data: bytes) -> None:
    try:
        store.write_atomic(index_path(data_dir, day), data.decode("utf-8"))
    except StoreError as e:  # a cache: the update goes on without it
        logger.warning("day index not written (%s); the next update reads the day file again", e)


def _header(first: bytes) -> dict[str, Any] | None:
    """The parsed header line of an index file, or None if it is not one."""
    try:
        head = json.loads(first)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
        return None
    if not (isinstance(head, dict) and head.get("format") == FORMAT
            and isinstance(head.get("sha256"), str) and isinstance(head.get("stat"), list)):
        return None
    ids, versions, runs = head.get("ids"), head.get("versions"), head.get("sources")
    if not (isinstance(ids, list) and isinstance(versions, list) and len(ids) == len(versions)
            and set(map(type, versions)) <= {int} and set(map(type, ids)) <= {str}
            and isinstance(runs, list) and all(
                isinstance(r, list) and len(r) == 2 and isinstance(r[0], str)
                and type(r[1]) is int and r[1] > 0 for r in runs)
            and sum(r[1] for r in runs) == len(ids)):
        return None
    return head


def _read(cached: Path, with_titles: bool) -> tuple[dict[str, Any], bytes | None] | None:
    """(header, the raw titles line if asked) of an index file; None if missing or malformed."""
    try:
        with cached.open("rb") as f:
            first = f.readline()  # the version lookup stops here
            rest = f.read() if with_titles else None
    except OSError:
        return None
    head = _header(first)
    return None if head is None else (head, rest)


def _titles(rest: bytes, n: int) -> list[str] | None:
    try:
        titles = json.loads(rest)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
        return None
    if not isinstance(titles, list) or len(titles) != n:
        return None
    return [str(t) for t in titles]


def _load(data_dir: Path, path: Path, with_titles: bool) -> tuple[dict[str, Any], list[str] | None]:
    """The header (and the titles, if asked) of a day's index, rebuilt from the day file if need be.

    Raises StoreError when the day file cannot be read or is not a valid day file."""
    stat = _stat(path)
    day = path.stem
    cached = index_path(data_dir, day)
    found = _read(cached, with_titles)
    titles: list[str] | None = None
    if found is not None and with_titles:
        titles = _titles(found[1] or b"", len(found[0]["ids"]))
        if titles is None:
            found = None  # a broken titles line: derived again
    if found is not None and found[0]["stat"] == stat:
        return found[0], titles
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror}") from e
    sha = hashlib.sha256(raw).hexdigest()
    if found is not None and found[0]["sha256"] == sha:  # touched, not changed: a new stat only
        head = found[0]
        rest = found[1]
        if rest is None:
            try:
                rest = cached.read_bytes().partition(b"\n")[2]
            except OSError:
                rest = None
        if rest is not None and (with_titles or _titles(rest, len(head["ids"])) is not None):
            head["stat"] = stat
            _write(data_dir, day, _join(head, rest.rstrip(b"\n")))
            return head, titles
    papers = store.load(path).papers  # validates the day file, as reading it always has
    head, data = _render(sha, stat, papers)
    _write(data_dir, day, data)
    return head, [p.title for p in papers] if with_titles else None


def day_versions(data_dir: Path, path: Path) -> dict[str, int]:
    """{id: version} of one stored day (the titles are not read)."""
    head, _ = _load(data_dir, path, False)
    return dict(zip(head["ids"], head["versions"], strict=True))


def day_entries(data_dir: Path, path: Path) -> list[Entry]:
    """(id, version, title, source) of every paper of one stored day, in the day file's order."""
    head, titles = _load(data_dir, path, True)
    sources = [source for source, count in head["sources"] for _ in range(count)]
    return [Entry(*fields) for fields in
            zip(head["ids"], head["versions"], titles or (), sources, strict=True)]


def remember(data_dir: Path, path: Path, digest: Digest) -> None:
    """Index a day file just written from `digest` (call it under the day's lock, after the save):
    the next lookup reads the index alone."""
    try:
        stat = _stat(path)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    except (StoreError, OSError):
        return
    _write(data_dir, digest.date, _render(sha, stat, digest.papers)[1])


def fresh(data_dir: Path, path: Path) -> tuple[dict[str, Any], bytes] | None:
    """(header, raw titles line) of a day's index when it still describes the day file: the file's
    size, mtime (ns) and inode are those recorded, so it is unchanged since it was validated and
    indexed (by `remember` after a save, or rebuilt from the file by a lookup); else None."""
    try:
        stat = _stat(path)
    except StoreError:
        return None
    found = _read(index_path(data_dir, path.stem), True)
    if found is None or found[0]["stat"] != stat or not found[1]:
        return None
    return found[0], found[1]


def restamp(data_dir: Path, path: Path, data: bytes, head: dict[str, Any], titles: bytes) -> None:
    """Index a day file just rewritten as `data` with the same papers in the same order (ids,
    versions, titles and sources as `head` and `titles` hold: only links changed), without
    rendering the columns again or reading the file back. Call it under the day's lock."""
    try:
        stat = _stat(path)
    except StoreError:
        return
    head = {**head, "sha256": hashlib.sha256(data).hexdigest(), "stat": stat}
    _write(data_dir, path.stem, _join(head, titles.rstrip(b"\n")))


def stored_days(data_dir: Path) -> list[Path]:
    """Every stored day file, oldest first; the index files of days no longer stored are removed."""
    days = list(store.iter_days(data_dir))
    folder = data_dir / CACHE_DIR
    if folder.is_dir():
        keep = {p.stem for p in days}
        for old in folder.glob(f"*{SUFFIX}"):
            if old.stem not in keep:
                try:
                    old.unlink()
                except OSError as e:
                    logger.debug("%s: not removed: %s", old, e)
    for legacy in LEGACY_DIRS:
        if (data_dir / legacy).is_dir():
            shutil.rmtree(data_dir / legacy, ignore_errors=True)
    return days
