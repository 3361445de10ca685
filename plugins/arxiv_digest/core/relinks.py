"""Which day files differ from an earlier version of themselves only in some papers' links.

A later day's update writes `related` and `versions` links back into earlier day files
(enrich/backlinks.py): a real day touches ~110 earlier days of a four-year archive, and changes
only those two fields of a few papers of each. The build keys a day on its file's bytes, so each
such day would be read and parsed again to find that its page is as it was (a page shows the
links of the papers it lists, not of those it does not). The update knows what it changed, so it
records it here, per day: `content/digests/.cache/relinked/<day>.relinks`, JSON

    {"format": 1, "steps": [[earlier key, later key, [ids whose links changed]], ...]}

where a key is the day file's content key (filekeys.file_key: git's blob id of its bytes). Each
step is a fact about two byte strings ("the later file is the earlier one with only the link
fields of these papers changed"), true whoever reads it, so a hand edit, a re-update or a revert
of the file gives it a key no step names and nothing is carried over. The build (site/render.py)
and the radar (site/radar.py) walk the steps back from the file's key to a key they have an
entry for, and reuse it when no paper the entry shows is among the ids.

Steps are appended while they chain (a step's earlier key is the previous step's later key),
else the record starts again; the newest MAX_STEPS are kept. Written atomically under the day's
lock (the caller holds it), disposable like the rest of .cache/: a missing or broken record only
means the day is read again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from .store import replace_file

logger = logging.getLogger(__name__)

CACHE_DIR = ".cache/relinked"  # under the data folder; not .json: Pelican reads those
SUFFIX = ".relinks"
FORMAT = 1
MAX_STEPS = 16
Step = tuple[str, str, tuple[str, ...]]  # earlier key, later key, ids whose links changed


def record_path(data_dir: Path, day: str) -> Path:
    """Where a day's record is."""
    return Path(data_dir) / CACHE_DIR / f"{day}{SUFFIX}"


def _is_key(value: object) -> bool:
    return isinstance(value, str) and len(value) == 40


def steps(data_dir: Path, day: str) -> list[Step]:
    """The day's recorded steps, oldest first; [] when there is no record or it is broken."""
    path = record_path(data_dir, day)
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return []
        out: list[Step] = []
        for old, new, ids in data["steps"]:
            if not (_is_key(old) and _is_key(new) and isinstance(ids, list)
                    and all(isinstance(i, str) for i in ids)):
                raise ValueError("not a step")
            out.append((old, new, tuple(ids)))
        return out
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError, KeyError, RecursionError) as e:
        logger.debug("%s: unreadable, ignored (%s: %s)", path, type(e).__name__, e)
        return []


def record(data_dir: Path, day: str, old_key: str, new_key: str, ids: Iterable[str]) -> None:
    """Record that the day file with key `new_key` is the one with `old_key` with only the link
    fields (`related`, `versions`) of these papers changed. A record that cannot be written is a
    debug line: the build then reads the day again."""
    if old_key == new_key:
        return
    found = steps(data_dir, day)
    if not found or found[-1][1] != old_key:
        found = []  # the file changed otherwise since the last step: start again
    found.append((old_key, new_key, tuple(sorted(set(ids)))))
    found = found[-MAX_STEPS:]
    body = {"format": FORMAT, "steps": [[o, n, list(i)] for o, n, i in found]}
    path = record_path(data_dir, day)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, json.dumps(body, separators=(",", ":")).encode("utf-8"))
    except OSError as e:
        logger.debug("%s: not written (%s)", path, e)


def earlier(data_dir: Path, day: str, key: str) -> list[tuple[str, frozenset[str]]]:
    """The earlier keys of the day file whose key is `key`, nearest first, each with the ids of
    every paper whose links changed since that version: [] when its key is no recorded step's."""
    out: list[tuple[str, frozenset[str]]] = []
    ids: set[str] = set()
    seen = {key}
    for old, new, changed in reversed(steps(data_dir, day)):
        if new != key:
            break  # the chain ends (or never reached this key)
        ids.update(changed)
        if old in seen:
            break  # a cycle: links removed again; what is further back was already offered
        seen.add(old)
        out.append((old, frozenset(ids)))
        key = old
    return out
