"""One small derived index per stored day: each paper's id, version, source and title.

Update looks back over the stored days twice: near-duplicate titles over the last 30 days
(enrich.near_duplicates) and the earlier version of each replacement over the whole archive
(enrich.versions). Both read this index instead of the day files:
`content/digests/.cache/day-index/YYYY-MM-DD.index`, two lines of JSON:

    {"format", "key", "ids", "versions", "sources"}   the header, with the columns
    ["title", ...]                                     the titles, in the same order

("sources" holds runs of one source, [["arxiv", 1504], ["biorxiv", 40]], in the papers' order.)

The titles come last, on their own line, so a reader that needs only ids and versions (the version
lookup, over every stored day) stops before them. The index is derived from the day file: rebuilt
when missing, unreadable, of another format or stale, written atomically, git-ignored (the
repository ignores .cache/) and never read by Pelican (a hidden folder, and not a .json file).
`key` is the day file's content key (filekeys.file_key: git's blob id of its bytes), the key the
build's cache uses. An update asks for the keys of every stored day at once (`keys`), through
filekeys.FileKeys: a file whose size, mtime, ctime and inode are those recorded is not read, and
in a fresh checkout (every file new to the record, as in the daily workflow) git's index gives
the keys of the files it reports unmodified; only the other files are read and hashed. A day file
written by update is indexed at once (`remember`), so the next update reads nothing but the index.
Deleting the folder costs the next update one read of each stored day. The source ("arxiv",
"biorxiv", "medrxiv") is kept with each id: ids of
different sources have different shapes (arXiv ids, DOIs), and a near-duplicate across sources is
a link like any other.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..core import store
from ..core.errors import StoreError
from ..core.filekeys import FileKeys, file_key
from ..core.models import Digest, Paper

logger = logging.getLogger(__name__)

CACHE_DIR = ".cache/day-index"  # under the data folder (content/digests)
SUFFIX = ".index"
FORMAT = 3  # 2: sources as runs; 3: the content key (git's blob id) instead of sha256 and stat
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


def _render(key: str, papers: tuple[Paper, ...]) -> tuple[dict[str, Any], bytes]:
    """The header of a day's index, and the index file's bytes."""
    runs: list[list[Any]] = []  # [source, count]: runs of papers of one source, in order
    for p in papers:
        if runs and runs[-1][0] == p.source:
            runs[-1][1] += 1
        else:
            runs.append([p.source, 1])
    head = {"format": FORMAT, "key": key, "ids": [p.id for p in papers],
            "versions": [p.version for p in papers], "sources": runs}
    titles = [p.title for p in papers]
    return head, _join(head, json.dumps(titles, ensure_ascii=False, separators=(",", ":")).encode())


def _join(head: dict[str, Any], titles: bytes) -> bytes:
    return json.dumps(head, separators=(",", ":")).encode("utf-8") + b"\n" + titles + b"\n"


def _write(data_dir: Path, day: str, data: bytes) -> None:
    """Write an index file through a temp file and a rename, without fsync: it is derived, and a
    file a crash leaves empty or cut short fails its checks and is derived again."""
    path = index_path(data_dir, day)
    try:
        store.replace_file(path, data)
    except OSError as e:  # a cache: the update goes on without it
        logger.warning("day index not written (%s: %s); the next update reads the day file again",
                       path, e.strerror)


def _header(first: bytes) -> dict[str, Any] | None:
    """The parsed header line of an index file, or None if it is not one."""
    try:
        head = json.loads(first)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
        return None
    if not (isinstance(head, dict) and head.get("format") == FORMAT
            and isinstance(head.get("key"), str)):
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


def _load(data_dir: Path, path: Path, with_titles: bool,
          key: str | None) -> tuple[dict[str, Any], list[str] | None]:
    """The header (and the titles, if asked) of a day's index, rebuilt from the day file if need be.
    `key`: the day file's content key (from `keys`); None reads and hashes the file.

    Raises StoreError when the day file cannot be read or is not a valid day file."""
    raw: bytes | None = None
    if key is None:
        raw = _read_day(path)
        key = file_key(raw)
    found = _read(index_path(data_dir, path.stem), with_titles)
    if found is not None and found[0]["key"] == key:
        if not with_titles:
            return found[0], None
        titles = _titles(found[1] or b"", len(found[0]["ids"]))
        if titles is not None:  # else a broken titles line: derived again
            return found[0], titles
    if raw is None:
        raw = _read_day(path)
    papers = store.parse(path, raw).papers  # validates the day file, as reading it always has
    head, data = _render(file_key(raw), papers)
    _write(data_dir, path.stem, data)
    return head, [p.title for p in papers] if with_titles else None


def _read_day(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror}") from e


def keys(data_dir: Path, paths: Sequence[Path], files: FileKeys | None = None) -> dict[Path, str]:
    """The content keys of these day files, at once (filekeys.FileKeys: its stat record, else
    git's index, else the bytes); a file that cannot be read is left out (its lookup says why).
    `files`: one FileKeys for the whole update (the lookups share what it found)."""
    files = files if files is not None else FileKeys(data_dir)
    found = files.keys(paths)
    files.save()
    return found


def day_versions(data_dir: Path, path: Path, key: str | None = None) -> dict[str, int]:
    """{id: version} of one stored day (the titles are not read); `key` as in `keys`."""
    head, _ = _load(data_dir, path, False, key)
    return dict(zip(head["ids"], head["versions"], strict=True))


def day_entries(data_dir: Path, path: Path, key: str | None = None) -> list[Entry]:
    """(id, version, title, source) of every paper of one stored day, in the day file's order."""
    head, titles = _load(data_dir, path, True, key)
    sources = [source for source, count in head["sources"] for _ in range(count)]
    return [Entry(*fields) for fields in
            zip(head["ids"], head["versions"], titles or (), sources, strict=True)]


def remember(data_dir: Path, path: Path, digest: Digest, raw: bytes | None = None) -> str | None:
    """Index a day file just written from `digest` (call it under the day's lock, after the save):
    the next lookup reads the index alone. raw: the file's bytes, when the caller has read them.
    Returns the file's content key (None when it cannot be read)."""
    try:
        key = file_key(path.read_bytes() if raw is None else raw)
    except OSError:
        return None
    _write(data_dir, digest.date, _render(key, digest.papers)[1])
    return key


def fresh(data_dir: Path, raw: bytes, day: str) -> tuple[dict[str, Any], bytes] | None:
    """(header, raw titles line) of a day's index when it was derived from exactly these bytes of
    the day file (so they were validated when indexed), else None."""
    found = _read(index_path(data_dir, day), True)
    if found is None or found[0]["key"] != file_key(raw) or not found[1]:
        return None
    return found[0], found[1]


def restamp(data_dir: Path, day: str, data: bytes, head: dict[str, Any], titles: bytes,
            key: str | None = None) -> None:
    """Index a day file just rewritten as `data` with the same papers in the same order (ids,
    versions, titles and sources as `head` and `titles` hold: only links changed), without
    rendering the columns again or reading the file back. Call it under the day's lock.
    key: file_key(data), when the caller has it."""
    head = {**head, "key": key or file_key(data)}
    _write(data_dir, day, _join(head, titles.rstrip(b"\n")))


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
