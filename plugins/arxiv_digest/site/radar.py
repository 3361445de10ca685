"""The radar's index: per day, what the browser needs to rank every stored paper against a profile.

The reader's profile (keywords, authors, arXiv ids, an uploaded library) never leaves the browser;
theme/static/js/radar.js ranks the papers against it. For that the build writes, per announcement
day, under radar/ (RADAR_DIR):

  YYYY-MM-DD.idx.json    what ranking needs, fetched alike for every reader who ranks the day
                         (enrich/radarindex.ranking): each paper's TOP_TERMS best terms of its
                         title and abstract (BM25 weight in the day, a title word counting
                         TITLE_WEIGHT times, idf floored at DF_FLOOR papers; terms that MIN_DF
                         papers of the day share come first: a word only one paper uses costs as
                         many bytes and rarely meets a profile) as HASH_BITS-bit FNV-1a hashes
                         (no vocabulary is shipped), and which papers link code, a model, a data
                         set or a demo; all in one bit stream ("p", pack_day: Rice-coded hash
                         sets, each hash's papers picked among those still owed a hash),
                         base64url. No ids: ranking needs only (day, paper number)
  YYYY-MM-DD.ids.json    the papers' ids (pack_ids: exp-Golomb gaps of the arXiv ids; the others
                         as strings, "xids"), fetched only when the profile likes papers (typed
                         arXiv ids, or a library citing arXiv papers)
  YYYY-MM-DD.au.json     the papers' authors as match keys (author_key: "s han"), fetched only
                         when the profile follows authors
  YYYY-MM-DD.mK.json     what showing a result needs, CHUNK papers a file (ids, versions, titles,
                         authors, announce types, which ones the day page lists): radar.js fetches
                         only the files of the results it shows, and shows a paper listed on
                         several days once (by the ids there, or in the id files if fetched)

Each file carries the day's numbering key (numbering_key: a hash of the ids in order), so radar.js
never pairs files of two builds of a day.
and radar/days.json: the days (newest first) with their files and page URL, and the tokenizer's
parameters (stop words, hash bits), so the browser tokenizes the profile exactly as the build did.
A day's papers are numbered in id order (arXiv ids by number, then the others), in both files.

Every stored paper of a day is indexed, not only the listed ones: a reader's niche is narrower
than the topics and often outside them. bench/bench_radar.py measures the trade-off between terms
kept a paper, ranking quality and the bytes a session downloads.

Each day's files are a pure function of the day file, the ids its page lists and this module
(no clock, no other day), so a rebuild is byte-identical and a day is cached on those (DayFiles):
on the part of the day file build_day reads (input_key), so a day whose papers only gained
related or version links (enrich/backlinks.py rewrites earlier days daily) is not computed again,
nor parsed: its key is taken from json.loads's plain dicts (raw_input_key) where the day has an
entry, and store.parse (which validates and names a broken file) runs only when that key has none.
The term statistics over the archive are document frequencies: the browser counts them over the
days it ranks (idf over the period).

The ranking stream (the idx file's "p": tokenizing and ranking every paper, most of the cost) is
enrich/radarindex.py's, computed by `update` and stored in the day file (its radar_index block);
a day whose block holds for what the file holds now (the fingerprint and the input key) is indexed
from the plain JSON without parsing it into objects (from_stored), the display, id and author
files made here from the papers' fields. A day without a valid block (older, hand-edited, another
tokenizer) is computed as before: the same bytes either way.

In a build, the days missing from the cache are computed early (EarlyFill): forked processes start
once the articles are read, while the other generators write their pages with the build's one
process, and the radar's output step then finds them in the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pelican.generators import Generator

from ..core import relinks
from ..core.errors import StoreError
from ..core.filekeys import FileKeys, file_key
from ..core.models import SCHEMA_VERSION, Digest
from ..core.store import iter_days, json_or_none, parse, write_if_changed
from ..enrich import radarindex
from ..enrich.radarindex import (
    FORMAT,
    HASH_BITS,
    MIN_DF,
    RADAR_KEY,
    STOPWORDS,
    TITLE_WEIGHT,
    TOP_TERMS,
    _dumps,
    arxiv_number,
    author_key,
    input_key,
    numbering_key,
    pack_ids,
    radar_order,
    ranking,
    raw_input_key,
    raw_rows,
    stored_ranking,
)
from .daycache import prefill, workers
from .render import digest_settings

logger = logging.getLogger(__name__)

RADAR_DIR = "radar"
CHUNK = 32  # papers a display file (radar.js fetches the files of the results it shows; radar.html says 32)


@dataclass(frozen=True)
class DayIndex:
    """One day's radar files (JSON text), computed from the day file alone."""

    date: str
    papers: int
    idx: str
    authors: str
    meta: tuple[str, ...]  # the display files, CHUNK papers each
    ids: str = ""  # the ids file


def build_day(digest: Digest, listed: Iterable[str] = (), top: int = TOP_TERMS,
              chunk: int = CHUNK, min_df: int = MIN_DF, bits: int = HASH_BITS,
              tally: dict[str, int] | None = None, inputs: str | None = None) -> DayIndex:
    """The day's index and display files: a pure function of the day (and the ids the page lists).
    The ranking stream is the one update stored in the day file (enrich/radarindex.stamp) while it
    holds for the day's input key (`inputs`, computed here if not given) and these are the default
    parameters, else computed: the same bytes. `tally`: pack_day's bits by field (computed), and
    the ids' ("ids")."""
    papers = radar_order(digest.papers)
    stream = None
    if tally is None and (top, min_df, bits) == (TOP_TERMS, MIN_DF, HASH_BITS) and RADAR_KEY in digest.extra:
        stream = stored_ranking(digest.extra, inputs if inputs is not None else input_key(digest))
    if stream is None:
        stream = ranking(papers, top, min_df, bits, tally)
    return day_index(digest.date, [(p.id, p.version, p.title, p.authors, p.announce_type) for p in papers],
                     stream, listed, chunk, tally)


Row = tuple[str, int, str, Sequence[str], str]  # a paper's display fields: id, version, title, authors, type


def day_index(date: str, rows: Sequence[Row], stream: str, listed: Iterable[str] = (), chunk: int = CHUNK,
              tally: dict[str, int] | None = None) -> DayIndex:
    """The day's files from its papers' display fields in the radar's order and its ranking
    stream (enrich/radarindex.ranking); `tally`: the ids' bits ("ids")."""
    n = len(rows)
    numbers = [x for x in (arxiv_number(r[0]) for r in rows) if x is not None]
    key = numbering_key(r[0] for r in rows)
    idx = _dumps({"v": FORMAT, "n": n, "key": key, "p": stream})
    packed_ids = pack_ids(numbers)
    if tally is not None:
        tally["ids"] = 6 * len(packed_ids)
    ids = _dumps({"v": FORMAT, "n": n, "key": key, "p": packed_ids,
                  "xids": [r[0] for r in rows[len(numbers):]]})
    authors = _dumps({"v": FORMAT, "date": date, "key": key, "au": [
        "|".join(k for k in (author_key(a) for a in r[3]) if k) for r in rows]})
    listed_set = set(listed)
    meta = tuple(_dumps({
        "v": FORMAT, "date": date, "first": start, "key": key,
        "id": [r[0] for r in part],
        "ver": [r[1] for r in part],
        "title": [r[2] for r in part],
        "au": [list(r[3]) for r in part],
        "type": [r[4] for r in part],
        "listed": [i for i, r in enumerate(part) if r[0] in listed_set],
    }) for start in range(0, n, chunk) for part in (rows[start:start + chunk],))
    return DayIndex(date, n, idx, authors, meta, ids)


# in a day file's bytes when it holds a stored ranking (store.dumps writes the key so; a file
# without it is not read for one)
_STORED_MARK = f'"{RADAR_KEY}":'.encode()


def from_stored(path: Path, data: Any, listed: Iterable[str] = ()) -> tuple[str, DayIndex] | None:
    """(the day's input key, its files) from the day file's JSON as json.loads read it, without
    parsing it into a Digest (store.parse: three times json.loads's cost), when the day file holds
    a ranking stream update stored (enrich/radarindex.stamp) that still holds for what the file
    holds now (its input key, from the plain values: the same bytes as build_day); else None (the
    caller parses the file, which names what is wrong in a broken one). What the radar reads of
    the day is then what update stored from a valid day, key for key (the build's reader
    validates the whole file)."""
    if not isinstance(data, dict) or RADAR_KEY not in data or data.get("date") != path.stem:
        return None
    if data.get("schema_version") != SCHEMA_VERSION:
        return None
    found = raw_rows(data)
    if found is None:
        return None
    inputs, papers = found
    stream = stored_ranking(data, inputs)
    if stream is None:
        return None
    try:
        rows = [(p["id"], p["version"], p["title"], p["authors"], p["announce_type"]) for p in papers]
        return inputs, day_index(path.stem, rows, stream, listed)
    except (KeyError, TypeError, AttributeError, ValueError):  # not as update stored it: parsed instead
        return None


def day_files(day: str, chunks: int = 0) -> dict[str, Any]:
    """A day's file names, relative to RADAR_DIR: the index, and the display files' pattern
    (%d: the chunk's number) with how many there are."""
    return {"idx": f"{day}.idx.json", "ids": f"{day}.ids.json", "au": f"{day}.au.json", "meta": f"{day}.m%d.json",
            "chunks": chunks}


def meta_file(day: str, k: int) -> str:
    """The name of a day's k-th display file."""
    return f"{day}.m{k}.json"


def file_names(day: str, papers: int) -> list[str]:
    """A day of this many papers' files: the index, the ids, the author keys, the display files."""
    files = day_files(day)
    return [files["idx"], files["ids"], files["au"], *(meta_file(day, k) for k in range(-(-papers // CHUNK)))]


_OUR_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.(idx|ids|au|meta|m\d+)\.json")


def manifest(days: Sequence[tuple[str, int, str]]) -> str:
    """radar/days.json: the days (newest first, each with its paper count, files and page URL)
    and the tokenizer's parameters for radar.js."""
    return _dumps({
        "v": FORMAT,
        "abs_url": ABS_URL,
        "bits": HASH_BITS, "title_weight": TITLE_WEIGHT, "chunk": CHUNK,
        "stopwords": list(STOPWORDS),
        "days": [{"date": d, "n": n, "url": url, **day_files(d, -(-n // CHUNK))}
                 for d, n, url in sorted(days, reverse=True)],
    }) + "\n"


ABS_URL = "https://arxiv.org/abs/"  # where an unlisted paper links (the JS holds no host names)
CACHE_DIR = ".cache/radar"  # under the data folder, beside the build cache (git ignores .cache/)


def _listed_hash(ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:12]


def fingerprint() -> str:
    """What a day's radar files depend on besides the day: this module's code and parameters and
    the ranking's (enrich/radarindex.fingerprint)."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(_dumps([radarindex.fingerprint(), FORMAT, CHUNK]).encode())
    return h.hexdigest()[:16]


# in the fingerprint's folder: what output/ holds (not .json: Pelican would read it as a day)
STATE = "days.state"


class DayFiles:
    """Each day's radar files, cached on disk by what build_day reads of the day file (input_key)
    and the ids its page lists.

    A day is tokenized again only when what the radar reads of it, what its page lists, or this
    module changed: a day file rewritten with new related or version links only (backlinks) is
    parsed once to find its input key and reuses its files. The day files' keys come from
    filekeys.FileKeys, as the build cache's do (its stat record, else git's index in a fresh
    checkout, else the bytes); STATE keeps each day's file key -> input key, so an unchanged day
    file is not read, and what the last build wrote to its output folder, so that a daily build
    reads and writes nothing for an unchanged day (`unchanged`): one stat of the day file and one
    of its index in output/. The folder is disposable. `fill` parses and computes the days whose
    file changed in forked processes first (daycache.prefill: this is one of its stores; a worker
    leaves the file key -> input key it found in a small .in file beside the entries).
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / CACHE_DIR
        self.dir = self.root / fingerprint()
        self.built = 0  # days computed (not read from the cache) by this object
        self._listed: dict[str, str] = {}  # day -> hash of the ids its page lists
        self.files = FileKeys(data_dir)  # the day files' keys (shared record with the build cache)
        self._out: dict[str, Any] = {"dir": "", "days": {}}  # the output folder, day -> what is there
        self._inputs: dict[str, list[str]] = {}  # day -> [its file's key, input_key of it]
        self._entry_days: set[str] | None = None  # the days with an entry (_with_entry), listed once
        self._key_days: set[str] = set()  # the days with a .in file when _with_entry listed the folder
        try:
            state = json.loads((self.dir / STATE).read_text(encoding="utf-8"))
            out = state["out"]
            if isinstance(out, dict) and isinstance(out.get("days"), dict):
                self._out = out
            inputs = state.get("inputs")
            if isinstance(inputs, dict):
                self._inputs = {d: r for d, r in inputs.items()
                                if isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # no state yet, or an unreadable one: every day is hashed (and its files compared)

    def _entry(self, day: str, inputs: str) -> Path:
        listed = self._listed.get(day) or _listed_hash(())
        return self.dir / f"{day}.{inputs[:24]}.{listed}.radar"  # not .json: Pelican would read it as a day

    def _key_file(self, day: str, key: str) -> Path:
        return self.dir / f"{day}.{key[:24]}.in"

    def _input_of(self, day: str, key: str) -> str | None:
        """The input key of the day file whose file key is `key`, if known (STATE, else a worker's
        .in file), without reading the day file."""
        rec = self._inputs.get(day)
        if rec is not None and rec[0] == key:
            return rec[1]
        try:
            data = json.loads(self._key_file(day, key).read_text(encoding="utf-8"))
            found = data["in"]
            if data["key"] != key or not isinstance(found, str) or not found:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self._inputs[day] = [key, found]
        return found

    def _read(self, day: str, inputs: str) -> DayIndex | None:
        try:
            data = json.loads(self._entry(day, inputs).read_text(encoding="utf-8"))
            meta = data["meta"]
            if not isinstance(meta, list):
                raise TypeError("meta")
            return DayIndex(str(data["date"]), int(data["papers"]), str(data["idx"]),
                            str(data["authors"]), tuple(str(m) for m in meta), str(data["ids"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self, path: Path, text: str) -> None:
        """Write one cache file atomically (the folder is made; a failure is a warning)."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as e:
            logger.warning("radar: could not cache %s: %s", path.name, e)

    def _store(self, day: str, inputs: str, value: DayIndex) -> None:
        """Store the day's files for this input key; drop the day's older entries."""
        entry = self._entry(day, inputs)
        had = day in self._with_entry()
        self._with_entry().add(day)
        if had and self.dir.is_dir():  # a day without an entry has none to drop (a cold build: no listing)
            for old in self.dir.glob(f"{day}.*.radar"):
                if old != entry:
                    old.unlink(missing_ok=True)
        self._write(entry, _dumps({"date": value.date, "papers": value.papers, "idx": value.idx,
                                   "authors": value.authors, "meta": list(value.meta), "ids": value.ids}))

    def _with_entry(self) -> set[str]:
        """The days that have an entry (for some input key; _store keeps one a day)."""
        if self._entry_days is None:
            try:
                names = os.listdir(self.dir)
            except OSError:
                names = []
            self._entry_days = {name.split(".", 1)[0] for name in names if name.endswith(".radar")}
            self._key_days = {name.split(".", 1)[0] for name in names if name.endswith(".in")}
        return self._entry_days

    def _plain(self, day: str, raw: bytes) -> Any:
        """The day file's JSON (json_or_none) when something here reads it: the day has an entry
        (_known_inputs) or the file holds a stored ranking (from_stored); else None, unread."""
        if day in self._with_entry() or _STORED_MARK in raw:
            return json_or_none(raw)
        return None

    def _known_inputs(self, day: str, data: Any) -> tuple[str | None, bool]:
        """(the input key of the day file whose plain JSON is `data` (raw_input_key: no Digest),
        whether the day has an entry for it). The key is None for a day without any entry (a new
        day, a cold build: not keyed here) or a file not shaped as a day file; a caller that
        finds no entry parses the file (store.parse names what is wrong in a broken one) and may
        take this key as the parsed day's input_key (the same value: not computed twice)."""
        if data is None or day not in self._with_entry():
            return None, False
        inputs = raw_input_key(data)
        return inputs, inputs is not None and self._entry(day, inputs).is_file()

    def key_of(self, path: Path) -> str:
        """The day file's content key (daycache.prefill's store protocol; filekeys.FileKeys)."""
        return self.files.key_of(path)

    def has(self, day: str, key: str) -> bool:
        """Whether the day file with this file key has a known input key and an entry for it
        (and the ids its page lists)."""
        inputs = self._input_of(day, key)
        return inputs is not None and self._entry(day, inputs).is_file()

    def put(self, day: str, key: str, value: Any) -> None:
        """Record what `fill`'s make found for the day file with this file key: (its input key, its
        DayIndex, or None when the entry for that input key was already there)."""
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)
                and (value[1] is None or isinstance(value[1], DayIndex))):
            raise TypeError(f"radar cache: (input key, DayIndex or None) expected, not {type(value).__name__}")
        inputs, index = value
        if index is not None:
            self._store(day, inputs, index)
        name = self._key_file(day, key)
        self._with_entry()
        if day in self._key_days and self.dir.is_dir():  # else no .in file to drop (a cold build: no listing)
            for old in self.dir.glob(f"{day}.*.in"):
                if old != name:
                    old.unlink(missing_ok=True)
        self._write(name, _dumps({"key": key, "in": inputs, "built": index is not None}))
        self._key_days.add(day)
        self._inputs[day] = [key, inputs]

    def _carried(self, day: str, key: str) -> bool:
        """Whether the day file with this key is one a later update only wrote related or version
        links into (core/relinks.py recorded the step from a version with an entry): the radar reads
        neither, so that version's input key stands for this one, kept without reading the file."""
        for old, _ids in relinks.earlier(self.data_dir, day, key):
            inputs = self._input_of(day, old)
            if inputs is not None and self._entry(day, inputs).is_file():
                self.put(day, key, (inputs, None))
                return True
        return False

    def fill(self, days: Sequence[tuple[Path, Sequence[str]]], processes: int) -> int:
        """Key the days whose file key has no entry in parallel (one process per CPU, as the
        build cache does: _known_inputs, else store.parse) and compute those whose input key has
        none either; returns how many were computed. `get` then finds them."""
        listed = {path.stem: list(ids) for path, ids in days}
        for day, ids in listed.items():
            self._listed[day] = _listed_hash(ids)
        missing = [path for path, _ in days if not self.has(path.stem, self.key_of(path))]
        self._with_entry()  # listed once, before the workers fork
        missing = [path for path in missing if not self._carried(path.stem, self.key_of(path))]

        def make(path: Path, raw: bytes) -> tuple[str, DayIndex | None]:
            data = self._plain(path.stem, raw)
            known, entry = self._known_inputs(path.stem, data)
            if known is not None and entry:
                return known, None  # only what the radar does not read changed
            made = from_stored(path, data, listed[path.stem])  # update's ranking: no parse
            if made is not None:
                return made
            digest = parse(path, raw)
            inputs = known if known is not None else input_key(digest)  # the same key (test_radar_rawkey)
            if known is None and self._entry(path.stem, inputs).is_file():
                return inputs, None  # only what the radar does not read changed
            return inputs, build_day(digest, listed[path.stem], inputs=inputs)

        if not prefill(self, missing, make, processes, what="parsed for the radar"):
            return 0
        made = 0
        for path in missing:  # what the workers found (their .in files), kept for `get`: read once
            key = self.key_of(path)
            try:
                data = json.loads(self._key_file(path.stem, key).read_text(encoding="utf-8"))
                if data.get("key") != key:
                    continue
                made += bool(data.get("built"))
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(data.get("in"), str) and data["in"]:
                self._inputs[path.stem] = [key, data["in"]]
                self._key_days.add(path.stem)
        self.built += made
        return made

    def get(self, path: Path, listed: Sequence[str]) -> DayIndex:
        """The day's files, from the cache or computed (and cached)."""
        day, key = path.stem, self.key_of(path)
        self._listed[day] = _listed_hash(listed)
        inputs = self._input_of(day, key)
        if inputs is not None:
            index = self._read(day, inputs)
            if index is not None:
                return index
        raw = path.read_bytes()
        key = file_key(raw)
        data = self._plain(day, raw)
        known, entry = self._known_inputs(day, data)
        if known is not None and entry:
            index = self._read(day, known)
            if index is not None:
                self._inputs[day] = [key, known]
                return index
        made = from_stored(path, data, listed)  # update's ranking: no parse
        if made is not None:
            inputs, index = made
            self._inputs[day] = [key, inputs]
            self.built += 1
            self._store(day, inputs, index)
            return index
        digest = parse(path, raw)
        inputs = known if known is not None else input_key(digest)  # the same key (test_radar_rawkey)
        self._inputs[day] = [key, inputs]
        index = self._read(day, inputs)
        if index is None:
            index = build_day(digest, listed, inputs=inputs)
            self.built += 1
            self._store(day, inputs, index)
        return index

    def _recorded(self, path: Path, listed: Sequence[str], out: Path) -> tuple[list[Any], str] | None:
        """(the output record of the day, the day file's key) when `out` still holds the day's
        index as the last build wrote it there for this listing (same size and mtime), else None."""
        rec = self._out["days"].get(path.stem) if self._out.get("dir") == str(out) else None
        if not isinstance(rec, list) or len(rec) != 6:
            return None
        try:
            st = (out / day_files(path.stem)["idx"]).stat()
            key = self.key_of(path)
        except OSError:
            return None
        if [rec[1], *rec[2:4]] != [_listed_hash(listed), st.st_size, st.st_mtime_ns]:
            return None
        return rec, key

    def unchanged(self, path: Path, listed: Sequence[str], out: Path) -> int | None:
        """The day's paper count if `out` holds the day's files as the last build wrote them
        from this day file and listing (nothing to read or write), else None."""
        found = self._recorded(path, listed, out)
        if found is None or found[0][0] != found[1]:
            return None
        return int(found[0][4])

    def same_inputs(self, path: Path, listed: Sequence[str], out: Path) -> bool:
        """Whether `out` holds the day's files as the last build wrote them from the same input key
        (as `get` just found it) and listing, though the day file changed: nothing to write."""
        found = self._recorded(path, listed, out)
        if found is None:
            return False
        rec, key = found
        if self._input_of(path.stem, key) is None:  # a worker's .in file, if `fill` parsed the day
            return False
        inputs = self._inputs[path.stem]
        return inputs[0] == key and rec[5] == inputs[1]

    def wrote(self, path: Path, listed: Sequence[str], out: Path, papers: int) -> None:
        """Record that `out` now holds the day's files (see `unchanged`, `same_inputs`)."""
        if self._out.get("dir") != str(out):
            self._out = {"dir": str(out), "days": {}}
        try:
            st = (out / day_files(path.stem)["idx"]).stat()
            key = self.key_of(path)
            inputs = self._inputs.get(path.stem)
            self._out["days"][path.stem] = [key, _listed_hash(listed), st.st_size, st.st_mtime_ns, papers,
                                            inputs[1] if inputs is not None and inputs[0] == key else ""]
        except OSError:
            self._out["days"].pop(path.stem, None)

    def save_state(self, days: Iterable[str]) -> None:
        """Write STATE (atomically), keeping only these days' records, and the day files' keys."""
        keep = set(days)
        self._out["days"] = {d: r for d, r in self._out["days"].items() if d in keep}
        self._inputs = {d: r for d, r in self._inputs.items() if d in keep}
        self.files.save()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / f".{STATE}.{os.getpid()}.tmp"
            tmp.write_text(_dumps({"out": self._out, "inputs": self._inputs}), encoding="utf-8")
            tmp.replace(self.dir / STATE)
        except OSError as e:
            logger.warning("radar: could not save %s: %s", self.dir / STATE, e)

    def prune(self) -> None:
        """Remove the entries of other fingerprints (an older radar.py)."""
        if self.root.is_dir():
            for other in self.root.iterdir():
                if other != self.dir and other.is_dir():
                    shutil.rmtree(other, ignore_errors=True)


class EarlyFill:
    """The days a build will write, computed while the build goes on: RadarGenerator starts it
    once the articles are read (generate_context) and waits for it before writing (generate_output),
    so that the forked processes (DayFiles.fill) use the core the build's one process leaves idle
    while the other generators render their pages. It only fills the cache: write_days then finds
    every day there (and computes inline whatever it could not: a broken day fails there, named)."""

    def __init__(self, data_dir: Path, todo: Sequence[tuple[Path, Sequence[str], str]], out: Path,
                 processes: int) -> None:
        self.cache = DayFiles(data_dir)
        self.cache.files.keys([path for path, _, _ in todo])  # every day's key at once (one git call at most)
        self.out = out
        # DayFiles.unchanged of each day (nothing else writes the radar's output meanwhile)
        self.unchanged = {path: self.cache.unchanged(path, listed, out) for path, listed, _ in todo}
        changed = [(path, listed) for path, listed, _ in todo if self.unchanged[path] is None]
        self._thread: threading.Thread | None = None
        if processes > 1 and len(changed) > 1:  # a daily build (one new day) is computed in write_days
            self._thread = threading.Thread(target=self._fill, args=(changed, processes),
                                            name="radar-early-fill", daemon=True)
            self._thread.start()

    def _fill(self, changed: list[tuple[Path, Sequence[str]]], processes: int) -> None:
        try:
            self.cache.fill(changed, processes)
        except Exception as e:  # write_days computes the day again inline and says what is wrong
            logger.debug("radar: early fill stopped (%s: %s)", type(e).__name__, e)

    def wait(self) -> DayFiles:
        """The cache, once the early fill is done."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return self.cache


def write_days(data_dir: Path, todo: Sequence[tuple[Path, Sequence[str], str]], out: Path,
               processes: int, early: EarlyFill | None = None) -> tuple[int, int]:
    """Write the radar files of these days (day file, ids its page lists, page URL) and days.json
    into `out`, removing the files of days no longer there; returns (days unchanged in `out`,
    days computed). An unchanged day costs two stats (DayFiles.unchanged); the days missing
    from the cache are computed in `processes` forked processes first (or were, by `early`)."""
    out.mkdir(parents=True, exist_ok=True)
    present = set(os.listdir(out))  # a file not there is written at once (write_if_changed reads it first)
    cache = early.wait() if early is not None else DayFiles(data_dir)
    known = early.unchanged if early is not None and early.out == out else {}
    if early is None:  # else EarlyFill did
        cache.files.keys([path for path, _, _ in todo])  # every day's key at once (one git call at most)
    days: list[tuple[str, int, str]] = []
    written: set[str] = set()
    changed = []
    for path, listed, url in todo:
        n = known[path] if path in known else cache.unchanged(path, listed, out)
        if n is None:
            changed.append((path, listed, url))
            continue
        written.update(file_names(path.stem, n))
        days.append((path.stem, n, url))
    cache.fill([(path, listed) for path, listed, _ in changed], processes)  # a cold build: in parallel
    for path, listed, url in changed:
        if cache.same_inputs(path, listed, out):  # parsed by `fill`: only what the radar does not read changed
            n = int(cache._out["days"][path.stem][4])
            written.update(file_names(path.stem, n))
            cache.wrote(path, listed, out, n)
            days.append((path.stem, n, url))
            continue
        try:
            index = cache.get(path, listed)
        except (OSError, StoreError) as e:
            raise StoreError(f"{path}: cannot be indexed for the radar: {e}") from e
        names = file_names(index.date, index.papers)
        if not cache.same_inputs(path, listed, out):  # else only what the radar does not read changed
            for name, text in zip(names, (index.idx, index.ids, index.authors, *index.meta), strict=True):
                if name in present:
                    write_if_changed(out / name, text)
                else:
                    (out / name).write_bytes(text.encode("utf-8"))
        written.update(names)
        cache.wrote(path, listed, out, index.papers)
        days.append((index.date, index.papers, url))
    cache.save_state(path.stem for path, _, _ in todo)
    cache.prune()
    for stale in out.iterdir():  # a day's files from an older format or a removed day
        if _OUR_FILE.fullmatch(stale.name) and stale.name not in written:
            stale.unlink(missing_ok=True)
    write_if_changed(out / "days.json", manifest(days))
    return len(todo) - len(changed), cache.built


class RadarGenerator(Generator):  # type: ignore[misc]
    """Writes radar/<day>.idx.json, .au.json and .mK.json, radar/days.json and the radar page."""

    _early: EarlyFill | None = None
    _todo: list[tuple[Path, Sequence[str], str]] | None = None

    def generate_context(self) -> None:
        """Add the radar page's URL to the context, and start computing the days whose files
        are not in the cache (EarlyFill: they are written in generate_output)."""
        self.context["radar_url"] = f"{RADAR_DIR}/"
        self._todo = self._days()
        self._early = EarlyFill(digest_settings(self.settings).data_dir, self._todo,
                                Path(self.output_path) / RADAR_DIR, workers())

    def _days(self) -> list[tuple[Path, Sequence[str], str]]:
        """Every stored day the articles generator read: (day file, ids its page lists, page URL)."""
        ds = digest_settings(self.settings)
        pages = {str(getattr(a, "slug", "")): a for a in self.context.get("articles", [])
                 if getattr(a, "day", None) is not None}
        todo: list[tuple[Path, Sequence[str], str]] = []
        for path in iter_days(ds.data_dir):
            article = pages.get(path.stem)
            if article is None:  # not a day the articles generator read (broken days stop the build)
                continue
            view = article.day
            todo.append((path, [v.paper.id for v in (*view.listed, *view.updated)], str(article.url)))
        return todo

    def generate_output(self, writer: Any) -> None:
        """Index every stored day (from the day files: the articles keep only the listed papers)."""
        ds = digest_settings(self.settings)
        todo = self._todo if self._todo is not None else self._days()
        early, self._early, self._todo = self._early, None, None
        unchanged, computed = write_days(ds.data_dir, todo, Path(self.output_path) / RADAR_DIR, workers(), early)
        writer.write_file(f"{RADAR_DIR}/index.html", self.get_template("radar"), self.context,
                          page_name="radar", relative_urls=self.settings.get("RELATIVE_URLS", False))
        logger.info("radar: indexed %d days (%d unchanged in output/, %d computed, the others from the cache)",
                    len(todo), unchanged, computed)


def get_generators(pelican: Any) -> type[Generator]:
    """Add the radar generator (plugin.py connects this to get_generators)."""
    return RadarGenerator
