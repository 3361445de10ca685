"""Load and save one announcement day as pretty JSON under content/, atomically; merge re-runs.

Every read-modify-write of a day (update, summarize, backfill) holds that day's lock
(`day_lock`, a `filelock` lock file content/digests/.locks/YYYY-MM-DD.lock), so two runs at once
never lose each other's papers: the second one waits, then merges into what the first wrote.
A write goes through a temp file `.YYYY-MM-DD.json.XXXX.tmp`; one left by a killed run is removed
at the next write of that day (under the lock). Git ignores both (.gitignore). Every file written
through `replace_file` (day files and the derived caches under .cache/) also prunes, once per
process and folder, the temp files of killed writes there that are more than an hour old.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import filelock

from .errors import BusyError, StoreError
from .models import Digest, Paper

logger = logging.getLogger(__name__)

LOCK_DIR = ".locks"  # under the data folder: one lock file per day


def day_path(data_dir: Path, day: dt.date | str) -> Path:
    """content/digests/YYYY/YYYY-MM-DD.json"""
    iso = day if isinstance(day, str) else day.isoformat()
    return data_dir / iso[:4] / f"{iso}.json"


def dumps(digest: Digest) -> str:
    """The exact text stored for a day: sorted keys, two-space indent, trailing newline."""
    return json.dumps(digest.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# a paper's block of lines in a day file as dumps writes it (two-space indent: the papers' list
# one level in, each paper's braces two, its keys three): a JSON string holds no raw newline, so
# these lines are the papers' own braces
_BLOCK_OPEN = b"\n    {\n"  # a paper's block starts after this line break
_BLOCK_CLOSE = b"\n    }"  # and ends with this


def paper_block(raw: bytes, at: int, begin: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """(start, stop) of the paper's block of lines around position `at` (one of its own lines,
    e.g. its id line) in a day file's bytes as dumps writes them, searched within raw[begin:end]
    (the papers' list, or the whole file); None when its braces are not found."""
    opened = raw.rfind(_BLOCK_OPEN, max(begin - 1, 0), at)
    closed = raw.find(_BLOCK_CLOSE, at, len(raw) if end is None else end)
    if opened < 0 or closed < 0:
        return None
    return opened + 1, closed + len(_BLOCK_CLOSE)


def load(path: Path) -> Digest:
    """Read and validate one day file; its `date` must be the date its name says."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror}") from e
    return parse(path, raw)


def parse(path: Path, raw: bytes) -> Digest:
    """Validate the bytes read from one day file (as `load`); `path` names it in errors."""
    return parse_with_json(path, raw)[0]


def parse_with_json(path: Path, raw: bytes) -> tuple[Digest, Any]:
    """`parse`, and the day file's JSON as json.loads read it (for a caller that keys on the
    stored records: one parse, not two). The JSON is the caller's to read, not to change: the
    Digest's mutable values (decisions, summaries, changes, claims) share it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise StoreError(f"{path}: cannot be read: not UTF-8 ({e.reason})") from e
    if not text.strip():
        raise StoreError(f"{path}: the file is empty")
    # a real day is ~30,000 new containers and none is garbage (JSON makes no cycles, nor do the
    # Digest and Paper objects): the collections they would trigger only walk the heap, a fifth
    # of a load in a build's heap
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise StoreError(f"{path}: not valid JSON (line {e.lineno}): {e.msg}") from e
        except RecursionError as e:
            raise StoreError(f"{path}: not a day file: JSON nested too deeply to read") from e
        try:
            digest = Digest.from_dict(data)
        except StoreError as e:
            raise StoreError(f"{path}: {e}") from e
    finally:
        if collecting:
            gc.enable()
    if path.suffix == ".json" and digest.date != path.stem:
        raise StoreError(f"{path}: date {digest.date!r} disagrees with the file name "
                         f"(expected {path.stem!r})")
    return digest, data


def json_or_none(raw: bytes) -> Any:
    """A day file's JSON as plain values, or None when it is not UTF-8 JSON (the caller then
    parses it with parse(), which names what is wrong); the cyclic GC is paused meanwhile, as in
    parse_with_json: ~30,000 new containers a real day, none garbage."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    finally:
        if collecting:
            gc.enable()


def load_day(data_dir: Path, day: dt.date | str) -> Digest | None:
    """The stored day, or None when it has never been stored."""
    path = day_path(data_dir, day)
    return load(path) if path.exists() else None


def iter_days(data_dir: Path) -> Iterator[Path]:
    """Every stored day file, oldest first."""
    if data_dir.is_dir():
        yield from sorted(data_dir.glob("[0-9][0-9][0-9][0-9]/*.json"))


def lock_path(data_dir: Path, day: dt.date | str) -> Path:
    """content/digests/.locks/YYYY-MM-DD.lock: the day's lock file.

    Lock files stay (deleting one while another run waits on it would let two runs hold "the"
    lock); they live apart from the day files, and git ignores them.
    """
    iso = day if isinstance(day, str) else day.isoformat()
    return data_dir / LOCK_DIR / f"{iso}.lock"


@contextmanager
def day_lock(data_dir: Path, day: dt.date | str, timeout: float) -> Iterator[Path]:
    """Hold the day's lock across a read-modify-write; wait up to `timeout` s, then BusyError.

    The lock is an OS file lock (flock on Linux/macOS, LockFileEx on Windows): the kernel drops it
    when its process dies, even by kill -9, so a crashed run never leaves the day locked.
    """
    path = lock_path(data_dir, day)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"{path.parent}: cannot be created: {e.strerror}") from e
    lock = filelock.FileLock(path, thread_local=False)
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            logger.warning("%s: another run is updating this day; waiting up to %g s for it "
                           "(lock %s)", day_path(data_dir, day).name, timeout, path)
            started = time.monotonic()
            lock.acquire(timeout=timeout)
            logger.info("%s: the other run finished after %.1f s; merging into what it stored",
                        day_path(data_dir, day).name, time.monotonic() - started)
    except filelock.Timeout as e:
        raise BusyError(
            f"{day_path(data_dir, day)}: another run is still updating this day after {timeout:g} s "
            f"(lock {path}); nothing was written. Run again when it has finished "
            "(ARXIV_DIGEST_LOCK_TIMEOUT sets the wait)"
        ) from e
    except OSError as e:
        raise StoreError(f"{path}: cannot be locked: {e.strerror}") from e
    try:
        yield path
    finally:
        lock.release()


def stale_temp_files(path: Path) -> list[Path]:
    """Temp files a killed write of this day file left behind (.NAME.*.tmp)."""
    return sorted(path.parent.glob(f".{path.name}.*.tmp")) if path.parent.is_dir() else []


def remove_stale_temp_files(path: Path) -> int:
    """Delete what killed writes of this day left; call it only while holding the day's lock."""
    removed = 0
    for tmp in stale_temp_files(path):
        try:
            tmp.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            logger.warning("%s: a stale temp file could not be removed: %s", tmp, e.strerror)
            continue
        removed += 1
        logger.warning("%s: removed a temp file left by an interrupted write", tmp)
    return removed


# replace_file's temp files: "." + the target's name + "." + mkstemp's 8 characters + ".tmp"
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp\Z")
TEMP_MAX_AGE = 3600.0  # s: a temp file older than this is a killed write's (a write takes ms)
# folder -> when it was last swept (time.monotonic): each folder at most once per TEMP_MAX_AGE in
# a process, so a cold build writing a thousand cache entries lists its folder once
_swept: dict[str, float] = {}


def prune_temp_files(folder: Path, max_age: float = TEMP_MAX_AGE, now: float | None = None) -> int:
    """Delete the temp files that killed writes of `replace_file` left in `folder` (not below it);
    returns how many. Only names replace_file makes (`.NAME.XXXXXXXX.tmp`), only regular files
    (a symlink is not followed), only this user's, and only when last modified more than
    `max_age` seconds ago: a live writer's temp file is younger (it exists while its bytes are
    written), and one stopped longer than that fails at its rename, leaving the old file."""
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no folder (yet), or unreadable: nothing of ours to prune
        return 0
    uid = os.getuid() if hasattr(os, "getuid") else None
    removed = 0
    for entry in entries:
        if not _TEMP_NAME.match(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if (not stat.S_ISREG(st.st_mode) or now - st.st_mtime <= max_age
                or (uid is not None and st.st_uid != uid)):
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:  # another run pruned it first
            continue
        except OSError as e:
            logger.debug("%s: a stale temp file could not be removed: %s", entry.path, e.strerror)
            continue
        removed += 1
    if removed:
        logger.info("%s: removed %d temp file(s) left by interrupted writes", folder, removed)
    return removed


def _sweep(folder: Path) -> None:
    """prune_temp_files(folder), at most once per TEMP_MAX_AGE per folder in this process."""
    key = os.fspath(folder)
    now = time.monotonic()
    last = _swept.get(key)
    if last is not None and now - last < TEMP_MAX_AGE:
        return
    _swept[key] = now
    prune_temp_files(folder)


def replace_file(path: Path, data: bytes, *, fsync: bool = False) -> None:
    """Write bytes through a temp file in `path`'s folder (created if needed), then rename it over
    `path`: a reader sees the old file or the new one, never a part. With `fsync`, the bytes reach
    the disk before the rename (the day files); derived caches skip it (a torn one fails its checks
    and is made again). The file gets the umask's mode, as open() would give; the temp file never
    stays behind, and those that killed writes left in the folder are pruned once they are old
    (prune_temp_files). OSError when it cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str) -> None:
    """Write text through a temp file in the same folder, fsync, then rename over `path`."""
    try:
        replace_file(path, text.encode("utf-8"), fsync=True)
    except OSError as e:
        raise StoreError(f"{path}: cannot be written: {e.strerror}") from e


def write_if_changed(path: Path, text: str) -> None:
    """Write a generated output file only when its bytes differ, so an unchanged file keeps its
    mtime (incremental deploys upload less); parent folders are created."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def save(data_dir: Path, digest: Digest) -> Path:
    """Write the day atomically (see write_atomic); returns its path. Hold its day_lock."""
    path = day_path(data_dir, digest.date)
    remove_stale_temp_files(path)
    write_atomic(path, dumps(digest))
    return path


def merge_paper(old: Paper, new: Paper) -> Paper:
    """A re-fetched paper: newer metadata wins, nothing the stored one had is lost."""
    # links between days (near-duplicates, other versions) are unions: another day's update may
    # have added one to the stored paper (enrich.backlinks)
    related = tuple(sorted(set(old.related) | set(new.related)))
    versions = tuple(sorted(set(old.versions) | set(new.versions)))
    if new.version < old.version:
        return replace(old, tags=new.tags or old.tags, topics=new.topics or old.topics,
                       related=related, versions=versions)
    return replace(
        new,
        # summaries are kept per language (a language the new one lacks keeps the stored one);
        # the summarize stage decides from its cache key whether each still holds
        summaries={**old.summaries, **new.summaries},
        related=related,
        versions=versions,
        changes=new.changes if new.changes is not None else old.changes,
    )


def merge(old: Digest, new: Digest) -> Digest:
    """Merge a re-run into the stored day: every stored paper stays; counts never go down."""
    fresh = {p.id: p for p in new.papers}
    # a fetch covers only its own sources: a bioRxiv day merged into the day that holds arXiv's
    # listing does not make arXiv's papers missing from it (nor the other way round)
    fetched = {p.source for p in new.papers}
    kept = []
    missing: dict[str, int] = {}
    for p in old.papers:
        if p.id in fresh:
            kept.append(merge_paper(p, fresh.pop(p.id)))
            continue
        kept.append(p)
        if p.source in fetched:
            missing[p.source] = missing.get(p.source, 0) + 1
    for source, n in sorted(missing.items()):
        logger.warning(
            "%s: %d stored papers are not in this fetch; they are kept (%s)", old.date, n, source
        )
    announced = {
        k: max(old.announced.get(k, 0), new.announced.get(k, 0))
        for k in set(old.announced) | set(new.announced)
    }
    extra = {**old.extra, **new.extra}
    kept_b, new_b = old.extra.get("briefings"), new.extra.get("briefings")
    if isinstance(kept_b, Mapping) and isinstance(new_b, Mapping):
        extra["briefings"] = {**kept_b, **new_b}  # per language, like summaries
    return replace(
        new,
        papers=(*kept, *fresh.values()),
        announced=announced,
        extra=extra,
        categories=tuple(dict.fromkeys((*old.categories, *new.categories))),
        source=old.source if old.source == "rss" else new.source,
    )
