"""Frozen dataclasses passed between stages (Paper, Digest) and their JSON form (schema version)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import StoreError

SCHEMA_VERSION = 1
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")


@dataclass(frozen=True, order=True)
class Related:
    """A near-identical title under another id: the paper's id and the day it was announced."""

    date: str
    id: str

    def to_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {"date": self.date, "id": self.id}


@dataclass(frozen=True)
class Paper:
    """One arXiv paper as announced on one day, keyed by its version-less id."""

    id: str
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    primary_category: str
    announce_type: str
    comment: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    # topic -> the words that matched, as they appear in the title or abstract
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # near-duplicate titles under other ids (re-submissions), on this day or an earlier one
    related: tuple[Related, ...] = ()
    # summary and its bookkeeping: a plain JSON-able mapping owned by the summarize stage
    summary: Mapping[str, Any] | None = None

    @property
    def versioned_id(self) -> str:
        """The id with its version, e.g. 2411.17700v2."""
        return f"{self.id}v{self.version}"

    @property
    def abs_url(self) -> str:
        """The abstract page on arxiv.org."""
        return f"https://arxiv.org/abs/{self.versioned_id}"

    @property
    def pdf_url(self) -> str:
        """The PDF on arxiv.org."""
        return f"https://arxiv.org/pdf/{self.versioned_id}"

    @property
    def html_url(self) -> str:
        """The HTML (LaTeXML) rendering on arxiv.org."""
        return f"https://arxiv.org/html/{self.versioned_id}"

    @property
    def is_replacement(self) -> bool:
        """True for replace and replace-cross announcements (an updated version)."""
        return self.announce_type.startswith("replace")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in a day file."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "authors": list(self.authors),
            "abstract": self.abstract,
            "categories": list(self.categories),
            "primary_category": self.primary_category,
            "announce_type": self.announce_type,
            "comment": self.comment,
            "doi": self.doi,
            "journal_ref": self.journal_ref,
            "tags": {topic: list(terms) for topic, terms in sorted(self.tags.items())},
            "related": [r.to_dict() for r in self.related],
            "summary": dict(self.summary) if self.summary is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Paper:
        """Rebuild a Paper from its stored JSON form."""
        try:
            return cls(
                id=str(data["id"]),
                version=int(data["version"]),
                title=str(data["title"]),
                authors=tuple(str(a) for a in data["authors"]),
                abstract=str(data["abstract"]),
                categories=tuple(str(c) for c in data["categories"]),
                primary_category=str(data["primary_category"]),
                announce_type=str(data["announce_type"]),
                comment=data.get("comment"),
                doi=data.get("doi"),
                journal_ref=data.get("journal_ref"),
                tags={str(k): tuple(v) for k, v in (data.get("tags") or {}).items()},
                related=tuple(Related(str(r["date"]), str(r["id"])) for r in data.get("related") or ()),
                summary=data.get("summary"),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise StoreError(f"paper record {data.get('id', '?')!r} is invalid: {e}") from e


@dataclass(frozen=True)
class Digest:
    """One announcement day: every paper announced in the configured categories."""

    date: str  # ISO date of the announcement, as arXiv dates it
    categories: tuple[str, ...]
    source: str  # "rss" (the daily feed) or "api" (a backfill)
    papers: tuple[Paper, ...]
    # announce type -> how many arXiv announced in the categories that day
    announced: Mapping[str, int] = field(default_factory=dict)
    # stage-owned extras kept verbatim (summaries' ledger, briefing, ...)
    extra: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def announced_total(self) -> int:
        """How many papers arXiv announced in the categories that day."""
        return sum(self.announced.values())

    def paper(self, paper_id: str) -> Paper | None:
        """The paper with this version-less id, if any."""
        for p in self.papers:
            if p.id == paper_id:
                return p
        return None

    def with_papers(self, papers: tuple[Paper, ...]) -> Digest:
        """A copy with other papers."""
        return replace(self, papers=papers)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in a day file."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "date": self.date,
            "categories": list(self.categories),
            "source": self.source,
            "announced": dict(sorted(self.announced.items())),
            "papers": [p.to_dict() for p in self.papers],
        }
        for key, value in sorted(self.extra.items()):
            out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Digest:
        """Rebuild a Digest from its stored JSON form; rejects unknown schema versions."""
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"schema_version {version!r} is not supported (this build reads {SCHEMA_VERSION})"
            )
        known = {"schema_version", "date", "categories", "source", "announced", "papers"}
        try:
            return cls(
                date=str(data["date"]),
                categories=tuple(data["categories"]),
                source=str(data["source"]),
                papers=tuple(Paper.from_dict(p) for p in data["papers"]),
                announced={str(k): int(v) for k, v in data["announced"].items()},
                extra={k: v for k, v in data.items() if k not in known},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise StoreError(f"day record is invalid: {e}") from e
