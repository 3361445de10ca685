"""Raw fetched records -> Paper: version-less ids, whitespace, TeX accents, one record per id."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..core.errors import FetchError
from ..core.models import ANNOUNCE_TYPES, Paper
from ..enrich import near_duplicates

logger = logging.getLogger(__name__)

_ID_RE = re.compile(
    r"(?<![\w.])(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?(?!\w)"
)
_WS = re.compile(r"\s+")
_TEX_IN_NAME = re.compile(r"\\|\{")


@dataclass(frozen=True)
class RawRecord:
    """One record as a source gave it, before normalising (fetch's output)."""

    arxiv_id: str  # with or without version, possibly a URL
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    announce_type: str
    primary_category: str = ""
    comment: str | None = None
    doi: str | None = None
    journal_ref: str | None = None


def split_id(raw: str) -> tuple[str, int]:
    """'https://arxiv.org/abs/2411.17700v2' -> ('2411.17700', 2); no version means 1."""
    m = _ID_RE.search(raw.strip())
    if not m:
        raise FetchError(f"not an arXiv id: {raw!r}")
    return m.group("id"), int(m.group("v") or 1)


def clean_text(text: str) -> str:
    """Collapse runs of whitespace (keeps LaTeX as it is)."""
    return _WS.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _latex_decoder():  # type: ignore[no-untyped-def]
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text()


def decode_name(name: str) -> str:
    """Decode TeX accents in an author name (Jos\\'e -> José) and normalise whitespace."""
    name = clean_text(name)
    if _TEX_IN_NAME.search(name):
        try:
            name = clean_text(_latex_decoder().latex_to_text(name))
        except Exception as e:  # pylatexenc raises anything (IndexError on \href{..}) on odd TeX
            logger.debug("author name kept as written (TeX not decodable: %s): %r", e, name)
    return name


def split_authors(text: str) -> tuple[str, ...]:
    """Split arXiv's comma-separated author list, keeping commas inside parentheses."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return tuple(n for n in (clean_text(x) for x in out) if n)


def to_paper(rec: RawRecord) -> Paper:
    """Normalise one raw record."""
    pid, version = split_id(rec.arxiv_id)
    announce = rec.announce_type.strip().lower()
    if announce not in ANNOUNCE_TYPES:
        raise FetchError(f"{pid}: unknown announce type {rec.announce_type!r}")
    cats = tuple(dict.fromkeys(c.strip() for c in rec.categories if c.strip()))
    return Paper(
        id=pid,
        version=version,
        title=clean_text(rec.title),
        authors=tuple(decode_name(a) for a in rec.authors if a.strip()),
        abstract=clean_text(rec.abstract),
        categories=cats,
        primary_category=rec.primary_category or (cats[0] if cats else ""),
        announce_type=announce,
        comment=clean_text(rec.comment) if rec.comment else None,
        doi=clean_text(rec.doi) if rec.doi else None,
        journal_ref=clean_text(rec.journal_ref) if rec.journal_ref else None,
    )


def normalize(records: Iterable[RawRecord], categories: Iterable[str]) -> tuple[Paper, ...]:
    """Papers announced in the categories, one per version-less id (the highest version wins)."""
    wanted = set(categories)
    by_id: dict[str, Paper] = {}
    for rec in records:
        if wanted and not wanted.intersection(rec.categories) and rec.primary_category not in wanted:
            continue
        paper = to_paper(rec)
        old = by_id.get(paper.id)
        if old is None or paper.version > old.version:
            by_id[paper.id] = paper
    return tuple(by_id.values())


def link_near_duplicates(
    papers: tuple[Paper, ...],
    threshold: float,
    date: str,
    earlier: Sequence[tuple[str, str, str]] = (),
) -> tuple[Paper, ...]:
    """Link near-identical titles under different ids (re-submissions), rather than dropping them.

    `papers` are the day's papers (announced on `date`); `earlier` holds (date, id, title) of papers
    stored on recent days, so a re-submission links back to the day of the first one. Only plausible
    pairs are scored, through a small index of title words (enrich.near_duplicates).
    """
    return near_duplicates.link_near_duplicates(papers, threshold, date, earlier)
