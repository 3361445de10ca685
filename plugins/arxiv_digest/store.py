"""Load and save one announcement day as pretty JSON under content/, atomically; merge re-runs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from .errors import StoreError
from .models import Digest, Paper

logger = logging.getLogger(__name__)


def day_path(data_dir: Path, day: dt.date | str) -> Path:
    """content/digests/YYYY/YYYY-MM-DD.json"""
    iso = day if isinstance(day, str) else day.isoformat()
    return data_dir / iso[:4] / f"{iso}.json"


def dumps(digest: Digest) -> str:
    """The exact text stored for a day: sorted keys, two-space indent, trailing newline."""
    return json.dumps(digest.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def load(path: Path) -> Digest:
    """Read one day file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise StoreError(f"{path}: not valid JSON (line {e.lineno}): {e.msg}") from e
    try:
        return Digest.from_dict(data)
    except StoreError as e:
        raise StoreError(f"{path}: {e}") from e


def load_day(data_dir: Path, day: dt.date | str) -> Digest | None:
    """The stored day, or None when it has never been stored."""
    path = day_path(data_dir, day)
    return load(path) if path.exists() else None


def iter_days(data_dir: Path) -> Iterator[Path]:
    """Every stored day file, oldest first."""
    if data_dir.is_dir():
        yield from sorted(data_dir.glob("[0-9][0-9][0-9][0-9]/*.json"))


def write_atomic(path: Path, text: str) -> None:
    """Write text through a temp file in the same folder, fsync, then rename over `path`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise StoreError(f"{path}: cannot be written: {e.strerror}") from e


def save(data_dir: Path, digest: Digest) -> Path:
    """Write the day atomically (see write_atomic); returns its path."""
    path = day_path(data_dir, digest.date)
    write_atomic(path, dumps(digest))
    return path


def merge_paper(old: Paper, new: Paper) -> Paper:
    """A re-fetched paper: newer metadata wins, nothing the stored one had is lost."""
    if new.version < old.version:
        return replace(old, tags=new.tags or old.tags, related=new.related or old.related)
    return replace(
        new,
        # a summary is kept; the summarize stage decides from its cache key whether it still holds
        summary=new.summary if new.summary is not None else old.summary,
        related=tuple(sorted(set(old.related) | set(new.related))),
    )


def merge(old: Digest, new: Digest) -> Digest:
    """Merge a re-run into the stored day: every stored paper stays; counts never go down."""
    fresh = {p.id: p for p in new.papers}
    kept = []
    for p in old.papers:
        kept.append(merge_paper(p, fresh.pop(p.id)) if p.id in fresh else p)
    missing = len(old.papers) - (len(new.papers) - len(fresh))
    if missing:
        logger.warning(
            "%s: %d stored papers are not in this fetch; they are kept", old.date, missing
        )
    announced = {
        k: max(old.announced.get(k, 0), new.announced.get(k, 0))
        for k in set(old.announced) | set(new.announced)
    }
    extra = {**old.extra, **new.extra}
    return replace(
        new,
        papers=(*kept, *fresh.values()),
        announced=announced,
        extra=extra,
        categories=tuple(dict.fromkeys((*old.categories, *new.categories))),
        source=old.source if old.source == "rss" else new.source,
    )
