"""Each day file's content key, without reading the file when nothing says it changed.

The key is git's blob id of the file's bytes (sha1 of b"blob <size>\\0" + bytes: `file_key`), so it
is the same whether git's index named it or the file was read and hashed here. A build keys every
stored day (the build cache, the radar files); reading ~900 MB of day files to hash them took 1.6 s
of a daily build at 1,000 days. `FileKeys.keys` takes each key from the cheapest source that vouches
for it:

  1. the stat record (content/digests/.cache/build/files.keys): each day file's size, mtime_ns,
     ctime_ns and inode, and its key, as git's index and scripts/search_index.py's scan.json keep
     them. A file whose four values are those recorded is not read.
  2. git's index, when the data folder is in a git work tree (a fresh CI checkout: every file has a
     new inode and mtime, so the record vouches for none): a tracked file that git reports
     unmodified (`git ls-files -m` compares the stat data git recorded at checkout and re-reads a
     racily clean file) has the blob id the index names; the file is stat'ed before and after git
     looked, and used only if both agree. Files with a `filter`, `ident` or
     `working-tree-encoding` attribute are hashed instead (their bytes are not the blob's; an
     end-of-line conversion is harmless: JSON reads the same).
  3. reading and hashing the file.

The assumption, as git's: a file rewritten with other bytes changes its size, mtime, ctime or inode.
All four staying equal is possible only for a rewrite within the filesystem's timestamp resolution
of the moment the file was last seen, so a file modified less than RACY_NS before it was looked at
is not recorded (git's "racily clean" rule): it is hashed again next time. A same-size rewrite
that also restores mtime and ctime (`touch -d` cannot set ctime; only a clock change or a
filesystem copy tool that fakes both could) is not seen; delete content/digests/.cache to rebuild
everything. The record is disposable, written atomically, and a broken one is ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .store import replace_file

logger = logging.getLogger(__name__)

RECORD = ".cache/build/files.keys"  # under the data folder; JSON, not named .json: Pelican reads those
FORMAT = 1
RACY_NS = 2_000_000_000  # FAT's mtime resolution is 2 s; ext4/APFS/NTFS are finer
GIT_TIMEOUT = 30.0
Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
_UNSAFE_ATTRIBUTES = ("filter", "ident", "working-tree-encoding")


def file_key(raw: bytes) -> str:
    """The key of a day file's bytes: git's blob id (hex sha1 of b"blob <size>\\0" + raw)."""
    h = hashlib.sha1(b"blob %d\0" % len(raw), usedforsecurity=False)
    h.update(raw)
    return h.hexdigest()


def stat_of(st: os.stat_result) -> Stat:
    """What says a file is the one seen before: size, mtime, ctime, inode (as git's index)."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class FileKeys:
    """The keys of the day files under one data folder, from the stat record, git's index, or
    their bytes (see the module docstring). One object per build; `save` keeps the record."""

    def __init__(self, data_dir: Path, *, git: bool = True,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.data_dir = Path(os.path.abspath(data_dir))
        self.record = self.data_dir / RECORD
        self.git = git
        self.clock = clock
        self.hashed = 0  # files read and hashed by this object
        self.from_git = 0  # keys git's index gave
        self._seen: dict[str, tuple[Stat, str]] = {}  # this run: rel -> (stat, key)
        self._keep: dict[str, tuple[Stat, str]] = {}  # what the next run may trust
        self._rels: dict[str, str | None] = {}
        self._loaded = False
        self._changed = False

    def _rel(self, path: Path) -> str | None:
        """The path under the data folder, with '/' (None outside it: hashed, never recorded)."""
        name = os.fspath(path)
        if name in self._rels:
            return self._rels[name]
        full = os.path.abspath(name)
        prefix = os.path.join(os.fspath(self.data_dir), "")
        rel = full[len(prefix):].replace(os.sep, "/") if full.startswith(prefix) else None
        self._rels[name] = rel
        return rel

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            data = json.loads(self.record.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                return
            files = data["files"]
            for rel, (size, mtime, ctime, ino, key) in files.items():
                if not (isinstance(key, str) and len(key) == 40 and all(
                        isinstance(x, int) and not isinstance(x, bool)
                        for x in (size, mtime, ctime, ino))):
                    raise ValueError(f"{rel}: not a record entry")
                self._keep[str(rel)] = ((size, mtime, ctime, ino), key)
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
            logger.debug("%s: unreadable, ignored (%s: %s)", self.record, type(e).__name__, e)
            self._keep.clear()

    def _remember(self, rel: str | None, st: Stat, key: str, looked_at: int) -> None:
        if rel is None:
            return
        self._seen[rel] = (st, key)
        if max(st[1], st[2]) < looked_at - RACY_NS:  # not racily clean: the next run may trust it
            if self._keep.get(rel) != (st, key):
                self._keep[rel] = (st, key)
                self._changed = True
        elif self._keep.pop(rel, None) is not None:
            self._changed = True

    def key_of(self, path: Path) -> str:
        """One file's key (the record, else its bytes); OSError when it cannot be read."""
        found = self.keys([path]).get(Path(path))
        return found if found is not None else file_key(Path(path).read_bytes())  # says why not

    def keys(self, paths: Iterable[Path]) -> dict[Path, str]:
        """The keys of these files: the record's, else git's index's, else their bytes' (a file
        that cannot be stat'ed or read is left out: its reader says what is wrong)."""
        self._load()
        out: dict[Path, str] = {}
        todo: list[tuple[Path, str | None, Stat]] = []
        for path in paths:
            path = Path(path)
            try:
                st = stat_of(path.stat())
            except OSError:
                continue
            rel = self._rel(path)
            if rel is not None:
                known = self._seen.get(rel) or self._keep.get(rel)
                if known is not None and known[0] == st:
                    out[path] = known[1]
                    self._seen[rel] = known
                    continue
            todo.append((path, rel, st))
        if len(todo) > 1 and self.git:  # one git call for many files, not for one
            self._from_git(todo, out)
        for path, rel, _ in todo:
            if path in out:
                continue
            looked_at = self.clock()
            try:
                st = stat_of(path.stat())  # before reading: a later write changes it
                key = file_key(path.read_bytes())
            except OSError:
                continue
            self.hashed += 1
            out[path] = key
            self._remember(rel, st, key, looked_at)
        return out

    def _from_git(self, todo: list[tuple[Path, str | None, Stat]], out: dict[Path, str]) -> None:
        """Fill `out` with git's blob ids of the files git reports unmodified."""
        wanted = {rel: (path, st) for path, rel, st in todo if rel is not None}
        if not wanted:
            return
        looked_at = self.clock()
        try:
            staged = _git(self.data_dir, "ls-files", "-z", "-s", "-v", "--", ".")
            modified = set(_git(self.data_dir, "ls-files", "-z", "-m", "--", ".").split("\0"))
            clean: dict[str, str] = {}
            for entry in staged.split("\0"):
                meta, _, rel = entry.partition("\t")
                fields = meta.split(" ")
                # "H" only: not assume-unchanged ("h"), skip-worktree ("S"), conflicted (stage > 0)
                if (len(fields) == 4 and fields[0] == "H" and fields[3] == "0" and rel in wanted
                        and rel not in modified):
                    clean[rel] = fields[2]
            if clean:
                attrs = _git(self.data_dir, "check-attr", "-z", "--stdin", *_UNSAFE_ATTRIBUTES,
                             stdin="\0".join(clean) + "\0").split("\0")
                for i in range(0, len(attrs) - 2, 3):
                    if attrs[i + 2] not in ("unspecified", "unset"):
                        clean.pop(attrs[i], None)
        except (OSError, subprocess.SubprocessError, UnicodeDecodeError) as e:
            logger.debug("%s: git's index not used (%s: %s)", self.data_dir, type(e).__name__, e)
            return
        for rel, key in clean.items():
            path, before = wanted[rel]
            try:
                after = stat_of(path.stat())
            except OSError:
                continue
            if after == before and len(key) == 40:  # unchanged while git looked
                out[path] = key
                self.from_git += 1
                self._remember(rel, before, key, looked_at)

    def save(self) -> None:
        """Keep what the next run may trust: what this run found, and the record's other entries
        whose files still exist (a run may key only some days: update's lookback); a record that
        cannot be written is a debug line, and the next run hashes."""
        gone = [rel for rel in self._keep if rel not in self._seen
                and not os.path.lexists(os.path.join(self.data_dir, rel))]
        for rel in gone:
            del self._keep[rel]
        if not (self._changed or gone):
            return
        files = {rel: [*st, key] for rel, (st, key) in sorted(self._keep.items())}
        try:
            replace_file(self.record, json.dumps({"format": FORMAT, "files": files},
                                                 separators=(",", ":")).encode("utf-8"))
        except OSError as e:
            logger.debug("%s: not written (%s)", self.record, e)
            return
        self._changed = False


def _git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    """A git command's output in cwd (CalledProcessError when git fails or is not a work tree)."""
    proc = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, encoding="utf-8", check=True,
                          timeout=GIT_TIMEOUT)
    return proc.stdout
