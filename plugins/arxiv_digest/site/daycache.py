"""The build's per-day cache: what the reader made of a day file, kept while nothing it used changed.

An entry holds the reader's output for one day file (the rendered body and the DayView, which
keeps only the papers the day lists or mentions). It is found by two hashes:

  the day file's   git's blob id of its bytes (content, never mtimes alone: a CI checkout gives
                   every file a new mtime, and an edit within the same second must still count);
                   filekeys.py finds it without reading the file when its stat record or git's
                   index vouches for it
  the build's      the fingerprint: this plugin's code, the theme's templates, digest.yaml, every
                   Pelican setting (ARXIV_DIGEST_* and the validated config included) and the
                   versions of Python, Pelican, Jinja2 and MarkupSafe

so a day is loaded, validated, decided and rendered again exactly when its file, the config or
the code changed: a digest.yaml edit re-decides the whole archive at the next build, and an
unchanged day costs a stat of its file and one small read.

Entries live in content/digests/.cache/build/<fingerprint>/<date>.<file hash>.pickle, beside the
near-duplicate title index (git ignores .cache/, Pelican reads its .json files, and no entry is one; the
daily workflow keeps the folder with actions/cache). Each entry is written to a temp file and
renamed into place; an entry that cannot be read is a miss, one that cannot be written a warning.
The newest few fingerprints are kept (a local build and a publish build differ in SITEURL), the
older ones removed. The folder is disposable: delete it any time, the next build rebuilds it.
Only this build writes it (Pelican's own content cache is a pickle for the same reason).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import re
import shutil
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path, PurePath
from typing import Any, Protocol

from ..core.filekeys import FileKeys, file_key
from ..core.store import replace_file

logger = logging.getLogger(__name__)

CACHE_DIR = ".cache/build"  # under the data folder (content/digests)
FORMAT = 2  # bump when an entry's shape changes (2: the view's inputs key, ids shown)
KEEP_FINGERPRINTS = 3
PACKAGE = Path(__file__).resolve().parent.parent
_DEPENDENCIES = ("pelican", "jinja2", "markupsafe")
# settings no day's reader output depends on (a build into another folder reuses the cache)
_NOT_READ = frozenset(("OUTPUT_PATH", "CACHE_PATH", "DELETE_OUTPUT_DIRECTORY", "OUTPUT_RETENTION",
                       "WRITE_SELECTED", "LOAD_CONTENT_CACHE", "CACHE_CONTENT",
                       "DEBUG"))  # pelican -D: its log only


def file_hash(raw: bytes) -> str:
    """A day file's cache key from its bytes (filekeys.file_key: git's blob id)."""
    return file_key(raw)


# a paper's fields that only its own entry on the page reads: links written into a day file by a
# later day's update (enrich/backlinks.py), never read by the decision of what the page lists
LINK_FIELDS = ("related", "versions")


def view_inputs(data: Any, shown: Collection[str]) -> str:
    """A key of what a day's view and body read of its file's JSON (`data`): every field of the
    day and of its papers, except the link fields (LINK_FIELDS) of papers whose links the page
    does not show (`shown`: the ids it lists; a paper it only mentions shows its title, not its
    links). Two files with the same key under the same ids give the same page: a day that only
    gained a link on a paper it does not list keeps its key, its entry is reused and nothing
    derived from it is rendered again.
    Raises TypeError, KeyError or AttributeError for data that is not a day's shape."""
    ids = frozenset(shown)
    papers = [p if p["id"] in ids else {k: v for k, v in p.items() if k not in LINK_FIELDS}
              for p in data["papers"]]
    head = {k: v for k, v in data.items() if k != "papers"}
    text = json.dumps([FORMAT, sorted(ids), head, papers], allow_nan=True)
    return hashlib.blake2b(text.encode("ascii"), digest_size=16).hexdigest()


def record_key(record: Any) -> str:
    """A key of one paper's stored record (its JSON object, every field)."""
    return hashlib.blake2b(json.dumps(record).encode("ascii"), digest_size=12).hexdigest()


def _tree_hash(h: Any, root: Path) -> None:
    """Feed every file under root (relative path and bytes, sorted) into h; caches skipped."""
    if not root.is_dir():
        h.update(f"no folder {root}\0".encode())
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo"):
            continue
        h.update(rel.as_posix().encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())


def canonical(obj: Any, depth: int = 0) -> Any:
    """A JSON-able, run-independent form of a settings value (no memory addresses, sets sorted)."""
    if depth > 30:
        return "<deep>"
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, bytes):
        return obj.hex()
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, (dt.date, dt.time)):
        return obj.isoformat()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"<dataclass>": type(obj).__qualname__,
                **{f.name: canonical(getattr(obj, f.name), depth + 1) for f in dataclasses.fields(obj)}}
    if isinstance(obj, Mapping):
        items = [(json.dumps(canonical(k, depth + 1), sort_keys=True), canonical(v, depth + 1))
                 for k, v in obj.items()]
        return [["<map>"], *sorted(items, key=lambda kv: kv[0])]
    if isinstance(obj, (list, tuple)):
        return [canonical(x, depth + 1) for x in obj]
    if isinstance(obj, (set, frozenset)):
        return ["<set>", *sorted(json.dumps(canonical(x, depth + 1), sort_keys=True) for x in obj)]
    if isinstance(obj, re.Pattern):
        return ["<re>", obj.pattern if isinstance(obj.pattern, str) else repr(obj.pattern), obj.flags]
    name = getattr(obj, "__qualname__", None)
    if isinstance(name, str):  # a function or class: by name
        return f"<{getattr(obj, '__module__', '')}.{name}>"
    return f"<{type(obj).__module__}.{type(obj).__qualname__}>"


def fingerprint(settings: Mapping[str, Any], config_file: Path | None, theme: str | None) -> str:
    """The build's fingerprint: what every day's reader output depends on besides its file."""
    h = hashlib.sha256(f"daycache {FORMAT}\0python {sys.version_info[:3]}\0".encode())
    for dist in _DEPENDENCIES:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "?"
        h.update(f"{dist} {version}\0".encode())
    _tree_hash(h, PACKAGE)
    if theme:
        _tree_hash(h, Path(theme) / "templates")
    if config_file is not None and config_file.is_file():
        h.update(b"config\0" + config_file.read_bytes())
    kept = {k: v for k, v in settings.items() if k not in _NOT_READ}
    h.update(json.dumps(canonical(kept), sort_keys=True, default=str).encode("utf-8"))
    return h.hexdigest()[:20]


class DayCache:
    """One build fingerprint's entries: the reader's output per day file, by the file's hash."""

    def __init__(self, data_dir: Path, fingerprint: str) -> None:
        self.base = data_dir / CACHE_DIR
        self.folder = self.base / fingerprint
        self._pruned = False
        self._touched = False
        self._warned = False
        self._listing: dict[str, list[str]] | None = None  # day -> its entries' names (previous)
        self._names: dict[str, set[str]] | None = None  # day -> its entries' names now (put)
        self._made: dict[str, tuple[str, Any]] = {}  # day -> (key, value) put, not yet got
        self.files = FileKeys(data_dir)  # the day files' keys, read only when their stat changed

    def key_of(self, path: Path) -> str:
        """The day file's key (file_hash of its bytes), without reading it when its stat record
        or git's index vouches for it (filekeys.py)."""
        return self.files.key_of(path)

    def has(self, day: str, key: str) -> bool:
        """Whether an entry for this day file's hash exists (it may still turn out unreadable)."""
        return self._entry(day, key).is_file()

    def _entry(self, day: str, key: str) -> Path:
        return self.folder / f"{day}.{key[:32]}.pickle"

    def get(self, day: str, key: str) -> Any | None:
        """The stored value for this day file's hash, or None (missing, unreadable, stale format).
        A value this process put is handed back once without reading its file again."""
        made = self._made.pop(day, None)
        if made is not None and made[0] == key:
            return made[1]
        found = self.load(self._entry(day, key))
        return found[1] if found is not None and found[0] == key else None

    def load(self, path: Path) -> tuple[str, Any] | None:
        """(the day file's hash it was made from, the value) of one entry file, or None (missing,
        unreadable, stale format)."""
        if not self._touched:  # this fingerprint is in use: the last to be pruned
            self._touched = True
            with contextlib.suppress(OSError):
                os.utime(self.folder)
        collecting = gc.isenabled()
        gc.disable()  # an entry is ~650 new objects, none garbage: collections during the load
        try:  # only walked the heap again (40% of a load in a build's heap)
            with path.open("rb") as f:
                fmt, stored_key, value = pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception as e:  # a broken entry (truncated, renamed classes) is a miss
            logger.debug("%s: unreadable cache entry, rebuilt (%s: %s)", path, type(e).__name__, e)
            return None
        finally:
            if collecting:
                gc.enable()
        if fmt != FORMAT or not isinstance(stored_key, str):
            return None
        return stored_key, value

    def previous(self, day: str) -> list[Path]:
        """The day's entries as this build found the folder (made from earlier versions of its
        file: put() keeps one a day), to be tried before the day is rendered again."""
        if self._listing is None:
            listing: dict[str, list[str]] = {}
            try:
                names = os.listdir(self.folder)
            except OSError:
                names = []
            for name in names:
                if name.endswith(".pickle"):
                    listing.setdefault(name.split(".", 1)[0], []).append(name)
            self._listing = listing
        return [self.folder / name for name in self._listing.get(day, ())]

    def put(self, day: str, key: str, value: Any, keep: bool = False) -> None:
        """Store the value for this day file's hash (atomically); drop the day's older entries.
        keep: the build reads it back soon (get hands it back once, unread)."""
        path = self._entry(day, key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._prune()
            replace_file(path, pickle.dumps((FORMAT, key, value), protocol=pickle.HIGHEST_PROTOCOL))
            if keep:
                self._made[day] = (key, value)
            names = self._day_names()
            for old in names.get(day, set()) - {path.name}:
                (self.folder / old).unlink(missing_ok=True)
            names[day] = {path.name}
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as e:
            if not self._warned:  # one warning a build: the site is built all the same
                logger.warning("%s: the build cache cannot be written (%s); the site is built "
                               "without it", self.folder, e)
                self._warned = True

    def _day_names(self) -> dict[str, set[str]]:
        """day -> the names of its entries in the folder (listed once, then kept up to date by
        put: a glob of the folder at each put read ~1,000 names)."""
        if self._names is None:
            names: dict[str, set[str]] = {}
            try:
                found = os.listdir(self.folder)
            except OSError:
                found = []
            for name in found:
                if name.endswith(".pickle"):
                    names.setdefault(name.split(".", 1)[0], set()).add(name)
            self._names = names
        return self._names

    def _prune(self) -> None:
        """Keep the newest KEEP_FINGERPRINTS fingerprint folders (this one included)."""
        if self._pruned:
            return
        self._pruned = True
        os.utime(self.folder)  # this fingerprint is in use: the last to be pruned
        others = sorted((p for p in self.base.iterdir() if p.is_dir() and p != self.folder),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in others[KEEP_FINGERPRINTS - 1:]:
            shutil.rmtree(stale, ignore_errors=True)
            logger.debug("%s: removed an old build cache", stale)


class Store(Protocol):
    """What prefill fills: DayCache, or another per-day cache keyed on the day file's hash
    (site/radar.py's DayFiles)."""

    def key_of(self, path: Path) -> str: ...
    def has(self, day: str, key: str) -> bool: ...
    def put(self, day: str, key: str, value: Any) -> None: ...


# (cache, make) while prefill runs: the forked workers inherit it (nothing to pickle)
_JOB: tuple[Store, Callable[[Path, bytes], Any]] | None = None


class _Captured(logging.Handler):
    """A worker's log records, kept to be logged by the parent (plain data, picklable)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None
        record.exc_info = record.exc_text = None
        self.records.append(record)


_CAPTURED: _Captured | None = None


def _worker_init() -> None:
    """In a new worker: log nowhere but into _CAPTURED.

    The parent may run threads (Pelican's CLI shows a rich status spinner): a lock one of them
    held at the fork (the console's, a stream's) stays held in the worker, so the worker never
    touches the inherited handlers or streams; the parent logs what the worker said.
    """
    global _CAPTURED
    _CAPTURED = _Captured()
    for existing in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(existing, logging.Logger):
            existing.handlers = []
            existing.propagate = True
    logging.getLogger().handlers = [_CAPTURED]


def _fill_one(path: str) -> tuple[bool, list[logging.LogRecord]]:
    """In a worker: compute one day's entry and store it (False when the day cannot be made),
    with what was logged meanwhile."""
    assert _JOB is not None
    cache, make = _JOB
    if _CAPTURED is not None:
        _CAPTURED.records = []
    made = False
    try:
        raw = Path(path).read_bytes()
        value = make(Path(path), raw)
    except Exception as e:  # a broken day: the build reads it again itself, and says what is wrong
        logger.debug("%s: not prefilled (%s: %s)", path, type(e).__name__, e)
        return False, []  # the parent logs the same when it reads the day
    else:
        cache.put(Path(path).stem, file_hash(raw), value)
        made = True
    return made, list(_CAPTURED.records) if _CAPTURED is not None else []


def workers() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def prefill(cache: Store, paths: Iterable[Path], make: Callable[[Path, bytes], Any],
            processes: int, what: str = "decided and rendered") -> int:
    """Compute the entries missing for these day files in parallel (forked processes, one per
    CPU), so that the build then finds every day in the cache. Returns how many were made.

    A cold build or a digest.yaml edit re-decides every day: on two cores this halves its time.
    What a worker logs is logged here, day by day. Without fork (Windows) or with one CPU,
    nothing is done here and the reader fills the cache day by day.
    """
    global _JOB
    if processes < 2:
        return 0
    missing = [p for p in paths if not cache.has(p.stem, cache.key_of(p))]
    if len(missing) < 2:
        return 0
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return 0
    n = min(processes, len(missing))
    made = 0
    _JOB = (cache, make)
    try:
        with ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_worker_init) as pool:
            for ok, records in pool.map(_fill_one, [str(p) for p in missing]):
                made += ok
                for record in records:
                    logging.getLogger(record.name).handle(record)
    finally:
        _JOB = None
    logger.info("Build cache: %d of %d day(s) %s in %d processes", made, len(missing), what, n)
    return made
