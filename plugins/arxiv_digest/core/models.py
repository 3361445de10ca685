"""Frozen dataclasses passed between stages (Paper, Digest) and their JSON form (schema version)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from .errors import StoreError

SCHEMA_VERSION = 2
# Version 1 held one summary per paper ("summary") and one briefing ("briefing"); version 2 keys
# both by language ("summaries", "briefings": {"en": ..., "zh-CN": ...}). Version 1 is read and
# migrated (migrate_v1); every write is version 2.
READABLE_VERSIONS = (1, SCHEMA_VERSION)
SOURCE_LANG = "en"  # the language of summaries stored before version 2 that name none
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
# where a paper comes from: arXiv (id: 2411.17700) or a preprint server (id: the DOI, 10.1101/...)
SOURCES = ("arxiv", "biorxiv", "medrxiv")
_SERVER_HOSTS = {"biorxiv": "www.biorxiv.org", "medrxiv": "www.medrxiv.org"}
_SOURCE_LABELS = {"arxiv": "arXiv", "biorxiv": "bioRxiv", "medrxiv": "medRxiv"}


def anchor_of(paper_id: str) -> str:
    """A stable HTML id for a paper id: an arXiv id as it is, a DOI with '/' as '-'.

    '10.1101/2020.01.01.123456' -> '10.1101-2020.01.01.123456'. An arXiv id never starts with
    '10.' (new-style ids are YYMM.NNNNN; old-style ones such as 'hep-th/9901001' keep their '/').
    """
    return paper_id.replace("/", "-") if paper_id.startswith("10.") else paper_id


def id_label(paper_id: str) -> str:
    """How an id is shown beside a link: 'arXiv:2411.17700' or 'doi:10.1101/...'."""
    return f"doi:{paper_id}" if paper_id.startswith("10.") else f"arXiv:{paper_id}"


@dataclass(frozen=True, order=True)
class Related:
    """A near-identical title under another id: the paper's id and the day it was announced."""

    date: str
    id: str

    def to_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {"date": self.date, "id": self.id}


@dataclass(frozen=True)
class Link:
    """A link to code, a model, a data set, a demo or a project page (enrich.links): kind and URL."""

    kind: str
    url: str

    def to_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {"kind": self.kind, "url": self.url}


@dataclass(frozen=True, order=True)
class VersionRef:
    """Another stored version of the same paper (enrich.versions): its day and its version."""

    date: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"date": self.date, "version": self.version}


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
    # topic -> the decision for every topic a term matched (enrich.topics): {"tier": "about" or
    # "mentions", "terms": [...], "reasons": [...], "verdict": {...} when a model gave one}
    topics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # near-duplicate titles under other ids (re-submissions), on this day or an earlier one
    related: tuple[Related, ...] = ()
    # language (a BCP 47 tag: "en", "zh-CN") -> that language's summary and its bookkeeping: a
    # plain JSON-able mapping owned by the summarize stage (summary_in picks one)
    summaries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # links to code, models, data sets, demos and project pages found in the abstract and comment
    links: tuple[Link, ...] = ()
    # the other stored versions of this id on other days (earlier and later: both pages link)
    versions: tuple[VersionRef, ...] = ()
    # what changed since the latest earlier stored version (enrich.versions), on a replacement
    changes: Mapping[str, Any] | None = None
    # efficiency claims (enrich.claims): records whose every value keeps its span of the abstract
    claims: tuple[Mapping[str, Any], ...] = ()
    # "arxiv", "biorxiv" or "medrxiv" (absent in day files stored before other sources: arxiv)
    source: str = "arxiv"
    # the licence a preprint server gives (e.g. "cc_by"); None when it gives none (and for arXiv)
    license: str | None = None

    @property
    def summary(self) -> Mapping[str, Any] | None:
        """The summary record in English, else in the first stored language (for readers that
        show one summary whatever the edition, such as `status`); an edition uses summary_in."""
        if not self.summaries:
            return None
        return self.summaries.get(SOURCE_LANG) or self.summaries[min(self.summaries)]

    def summary_in(self, lang: str, *, offline: bool = True) -> Mapping[str, Any] | None:
        """The summary record for one language: the exact tag, else its language alone ("zh"
        for "zh-CN"); with `offline`, else an extractive record of another language (an offline
        summary is in the abstract's language whatever the edition, and says so)."""
        found: Mapping[str, Any] | None = lookup_lang(self.summaries, lang)
        if found is not None or not offline:
            return found
        for key in sorted(self.summaries):
            rec = self.summaries[key]
            if isinstance(rec, Mapping) and rec.get("backend") == "extractive":
                return rec
        return None

    @property
    def source_label(self) -> str:
        """The source as readers spell it: arXiv, bioRxiv, medRxiv."""
        return _SOURCE_LABELS.get(self.source, self.source)

    @property
    def versioned_id(self) -> str:
        """The id with its version, e.g. 2411.17700v2 or 10.1101/2021.09.30.462652v2."""
        return f"{self.id}v{self.version}"

    @property
    def anchor(self) -> str:
        """A stable HTML id: the arXiv id as it is; a DOI with '/' made '-' (10.1101-2020.01.01.1)."""
        return anchor_of(self.id)

    @property
    def abs_url(self) -> str:
        """The abstract page on arxiv.org or on the preprint server."""
        host = _SERVER_HOSTS.get(self.source)
        if host:
            return f"https://{host}/content/{self.versioned_id}"
        return f"https://arxiv.org/abs/{self.versioned_id}"

    @property
    def pdf_url(self) -> str:
        """The PDF on arxiv.org or on the preprint server."""
        if self.source in _SERVER_HOSTS:
            return f"{self.abs_url}.full.pdf"
        return f"https://arxiv.org/pdf/{self.versioned_id}"

    @property
    def html_url(self) -> str:
        """The HTML rendering on arxiv.org (LaTeXML) or the full text on the preprint server."""
        if self.source in _SERVER_HOSTS:
            return f"{self.abs_url}.full"
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
            "topics": {topic: dict(d) for topic, d in sorted(self.topics.items())},
            "related": [r.to_dict() for r in self.related],
            "summaries": {lang: dict(rec) for lang, rec in sorted(self.summaries.items())},
            "links": [link.to_dict() for link in self.links],
            "versions": [v.to_dict() for v in self.versions],
            "changes": dict(self.changes) if self.changes is not None else None,
            "claims": [dict(c) for c in self.claims],
            # written only off their defaults, so arXiv-only day files stay as they were
            **({"source": self.source} if self.source != "arxiv" else {}),
            **({"license": self.license} if self.license is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "paper") -> Paper:
        """Rebuild a Paper from its stored JSON form; every field's type is checked."""
        if not _is_valid_paper(data):  # the fast test; the messages are built only for a bad one
            _explain_invalid_paper(data, where)
        return cls._from_valid(data)

    @classmethod
    def _from_valid(cls, data: Any) -> Paper:
        """A Paper from a stored form that passed _is_valid_paper."""
        get = data.get
        tags, topics, related = get("tags"), get("topics"), get("related")
        summaries, links, versions = get("summaries"), get("links"), get("versions")
        # every field set here, validated above: the frozen dataclass's __init__ (one
        # object.__setattr__ per field) is skipped, which halves the cost of a day's 500 papers
        paper = object.__new__(cls)
        paper.__dict__.update(
            id=data["id"],
            version=data["version"],
            title=data["title"],
            authors=tuple(data["authors"]),
            abstract=data["abstract"],
            categories=tuple(data["categories"]),
            primary_category=data["primary_category"],
            announce_type=data["announce_type"],
            comment=get("comment"),
            doi=get("doi"),
            journal_ref=get("journal_ref"),
            tags={str(k): tuple(v) for k, v in tags.items()} if tags else {},
            topics={str(k): dict(v) for k, v in topics.items()} if topics else {},
            related=tuple(Related(r["date"], r["id"]) for r in related) if related else (),
            summaries={str(k): v for k, v in summaries.items()} if summaries else {},
            # absent in day files stored before code links and version diffs
            links=tuple(Link(x["kind"], x["url"]) for x in links) if links else (),
            versions=tuple(VersionRef(x["date"], x["version"]) for x in versions) if versions else (),
            changes=get("changes"),
            claims=tuple(get("claims") or ()),  # absent in day files stored before claims
            source=get("source") or "arxiv",  # absent before other sources
            license=get("license"),
        )
        return paper


def _is_valid_paper(data: Any) -> bool:
    """Whether a stored paper passes every check of _explain_invalid_paper (without messages).

    The common case is tested first and cheaply: plain dicts and lists (what json.loads makes),
    empty optional fields; anything else goes through the same checks as _explain_invalid_paper.
    """
    if not _is_map(data):
        return False
    get = data.get
    pid, version = get("id"), get("version")
    tags, topics, related = get("tags"), get("topics"), get("related")
    summaries, links, versions, claims = get("summaries"), get("links"), get("versions"), get("claims")
    comment, doi, journal_ref, license_ = get("comment"), get("doi"), get("journal_ref"), get("license")
    changes = get("changes")
    return (
        isinstance(pid, str) and pid != ""
        and isinstance(get("title"), str) and isinstance(get("abstract"), str)
        and isinstance(get("primary_category"), str)
        and isinstance(version, int) and not isinstance(version, bool) and version >= 1
        and get("announce_type") in ANNOUNCE_TYPES
        and _str_list(get("authors")) and _str_list(get("categories"))
        and (comment is None or isinstance(comment, str)) and (doi is None or isinstance(doi, str))
        and (journal_ref is None or isinstance(journal_ref, str))
        # falsy tags, topics, related read as empty (as `or {}` / `or []` in the detailed checks)
        and (not tags or (_is_map(tags) and all(map(_str_list, tags.values()))))
        and (not topics or (_is_map(topics) and all(map(_is_map, topics.values()))))
        and (not related or (isinstance(related, list) and all(
            _is_map(r) and isinstance(r.get("date"), str) and isinstance(r.get("id"), str)
            for r in related)))
        # an empty {} / [] of the right type is valid; [] for an object (or {} for a list) is not
        and (summaries is None or (type(summaries) is dict and not summaries)
             or _summaries_ok(summaries))
        and (links is None or (type(links) is list and not links) or _links_ok(links))
        and (versions is None or (type(versions) is list and not versions) or _versions_ok(versions))
        and (claims is None or (type(claims) is list and not claims) or _claims_ok(claims))
        and (changes is None or _is_map(changes))
        and get("source", "arxiv") in SOURCES
        and (license_ is None or isinstance(license_, str))
    )


def _is_map(value: Any) -> bool:
    """isinstance(value, Mapping), a plain dict tested first (the ABC check costs more)."""
    return type(value) is dict or isinstance(value, Mapping)


def _summaries_ok(summaries: Any) -> bool:
    return summaries is None or (isinstance(summaries, Mapping) and all(
        isinstance(k, str) and _is_lang(k) and isinstance(v, Mapping) for k, v in summaries.items()))


_LANG_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*\Z")


def _is_lang(tag: str) -> bool:
    """A BCP 47 language tag as day files key summaries: 'en', 'zh-CN', 'zh-Hans-CN'."""
    return bool(_LANG_TAG.match(tag))


def lookup_lang(by_lang: Mapping[str, Any], lang: str) -> Any:
    """by_lang[lang], else by_lang[its language alone] ('zh-CN' -> 'zh'): BCP 47 lookup."""
    found = by_lang.get(lang)
    if found is None and "-" in lang:
        found = by_lang.get(lang.split("-")[0])
    return found


def _links_ok(links: Any) -> bool:
    return links is None or (isinstance(links, list) and all(
        isinstance(x, Mapping) and isinstance(x.get("kind"), str) and isinstance(x.get("url"), str)
        for x in links))


def _claims_ok(claims: Any) -> bool:
    return claims is None or (isinstance(claims, list) and all(
        isinstance(c, Mapping) and isinstance(c.get("by"), str) and isinstance(c.get("fields"), Mapping)
        and all(isinstance(v, Mapping) and isinstance(v.get("text"), str) and _span_ok(v.get("span"))
                for v in c["fields"].values())
        for c in claims))


def _span_ok(span: Any) -> bool:
    return isinstance(span, list) and len(span) == 2 and all(
        isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in span)


def _versions_ok(versions: Any) -> bool:
    return versions is None or (isinstance(versions, list) and all(
        isinstance(x, Mapping) and isinstance(x.get("date"), str)
        and isinstance(x.get("version"), int) and not isinstance(x.get("version"), bool)
        for x in versions))


def _explain_invalid_paper(data: Any, where: str) -> None:
    """Raise StoreError naming the first field of a stored paper that is wrong, and why."""
    _check(isinstance(data, Mapping), where, "an object", data)
    pid = data.get("id")
    _check(isinstance(pid, str) and bool(pid), f"{where}.id", "a non-empty string", pid)
    where = f"{where} ({pid})"
    for key in ("title", "abstract", "primary_category"):
        _check(isinstance(data.get(key), str), f"{where}.{key}", "a string", data.get(key))
    version = data.get("version")
    _check(isinstance(version, int) and not isinstance(version, bool) and version >= 1,
           f"{where}.version", "an integer >= 1", version)
    kind = data.get("announce_type")
    _check(kind in ANNOUNCE_TYPES, f"{where}.announce_type", f"one of {', '.join(ANNOUNCE_TYPES)}",
           kind)
    for key in ("authors", "categories"):
        _check(_str_list(data.get(key)), f"{where}.{key}", "a list of strings", data.get(key))
    for key in ("comment", "doi", "journal_ref"):
        _check(data.get(key) is None or isinstance(data[key], str), f"{where}.{key}",
               "a string or null", data.get(key))
    tags = data.get("tags") or {}
    _check(isinstance(tags, Mapping) and all(_str_list(v) for v in tags.values()),
           f"{where}.tags", "an object of topic -> list of strings", tags)
    topics = data.get("topics") or {}  # absent in day files stored before topic decisions
    _check(isinstance(topics, Mapping) and all(isinstance(v, Mapping) for v in topics.values()),
           f"{where}.topics", "an object of topic -> decision object", topics)
    related = data.get("related") or []
    _check(isinstance(related, list) and all(
        isinstance(r, Mapping) and isinstance(r.get("date"), str) and isinstance(r.get("id"), str)
        for r in related), f"{where}.related", 'a list of {"date", "id"} objects', related)
    _check(_summaries_ok(data.get("summaries")), f"{where}.summaries",
           'an object of language tag ("en", "zh-CN") -> summary object', data.get("summaries"))
    _check(_links_ok(data.get("links")), f"{where}.links", 'a list of {"kind", "url"} objects',
           data.get("links"))
    _check(_versions_ok(data.get("versions")), f"{where}.versions",
           'a list of {"date", "version"} objects', data.get("versions"))
    _check(data.get("changes") is None or isinstance(data["changes"], Mapping), f"{where}.changes",
           "an object or null", data.get("changes"))
    _check(_claims_ok(data.get("claims")), f"{where}.claims",
           'a list of {"by", "fields": {name: {"value", "span": [a, b], "text"}}} objects',
           data.get("claims"))
    _check(data.get("source", "arxiv") in SOURCES, f"{where}.source", f"one of {', '.join(SOURCES)}",
           data.get("source"))
    _check(data.get("license") is None or isinstance(data["license"], str), f"{where}.license",
           "a string or null", data.get("license"))
    raise StoreError(f"{where}: not a valid paper")  # unreachable while both tests agree


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40] + '...' if len(text) > 40 else text}"


def _check(ok: bool, where: str, what: str, got: Any) -> None:
    if not ok:
        raise StoreError(f"{where}: expected {what}, got {_describe(got)}")


def _str_list(value: Any) -> bool:
    if type(value) is list:  # json.loads's lists: isinstance over the items without a generator
        return all(map(isinstance, value, itertools.repeat(str)))
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


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
    def from_dict(cls, data: Any) -> Digest:
        """Rebuild a Digest from its stored JSON form; rejects unknown schema versions and types."""
        _check(isinstance(data, Mapping), "the day file", "a JSON object", data)
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS or isinstance(version, bool):
            raise StoreError(
                f"schema_version {version!r} is not supported (this build reads "
                f"{' and '.join(map(str, READABLE_VERSIONS))})"
            )
        data = migrate_v1(data)
        date = data.get("date")
        _check(isinstance(date, str) and _is_iso_date(date), "date", "an ISO date (YYYY-MM-DD)", date)
        _check(_str_list(data.get("categories")), "categories", "a list of strings",
               data.get("categories"))
        _check(isinstance(data.get("source"), str), "source", "a string", data.get("source"))
        announced = data.get("announced")
        _check(isinstance(announced, Mapping) and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in announced.values()),
            "announced", "an object of announce type -> count >= 0", announced)
        papers = data.get("papers")
        _check(isinstance(papers, list), "papers", "a list", papers)
        known = {"schema_version", "date", "categories", "source", "announced", "papers"}
        return cls(
            date=date,
            categories=tuple(data["categories"]),
            source=data["source"],
            papers=tuple(map(_paper, papers, itertools.count())),
            announced={str(k): v for k, v in announced.items()},
            extra={k: v for k, v in data.items() if k not in known},
        )


def _paper(data: Any, i: int) -> Paper:
    """The day's i-th stored paper (Paper.from_dict; its place named only when it is invalid)."""
    if not _is_valid_paper(data):
        _explain_invalid_paper(data, f"papers[{i}]")
    return Paper._from_valid(data)


def migrate_v1(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A day file's JSON in the version 2 shape: a paper's one "summary" becomes
    "summaries": {language: summary}, the day's one "briefing" becomes "briefings": {language: ...}.

    The language is the one the record names ("language": "Chinese" -> "zh", by CLDR's English
    language names), else English ("en"): before version 2 a record without a language was either
    extractive (in the abstract's language) or written in the default language, English. Anything
    that is not the version 1 shape is left for the checks to report. Version 2 data is returned
    as it is (a "summary" key beside no "summaries" is migrated too, so nothing is dropped).
    """
    papers = data.get("papers")
    legacy = isinstance(papers, list) and any(
        isinstance(p, Mapping) and "summary" in p and "summaries" not in p for p in papers)
    if not legacy and not ("briefing" in data and "briefings" not in data):
        return data
    out = dict(data)
    if legacy and isinstance(papers, list):
        out["papers"] = [_migrate_paper(p) for p in papers]
    if "briefing" in out and "briefings" not in out:
        briefing = out.pop("briefing")
        topics = briefing.get("topics") if isinstance(briefing, Mapping) else None
        named = next((r for r in topics.values() if isinstance(r, Mapping)), None) if isinstance(
            topics, Mapping) else None
        out["briefings"] = {record_lang(named): briefing} if briefing is not None else {}
    return out


def _migrate_paper(paper: Any) -> Any:
    if not isinstance(paper, Mapping) or "summary" not in paper or "summaries" in paper:
        return paper
    out = {k: v for k, v in paper.items() if k != "summary"}
    rec = paper["summary"]
    # null: none yet; anything else that is not an object is kept for the checks to name
    out["summaries"] = {} if rec is None else {record_lang(rec): rec} if isinstance(
        rec, Mapping) else rec
    return out


def record_lang(record: Any) -> str:
    """The language tag of a version 1 summary or briefing record: the one its "language"
    names ("English" -> "en", "Chinese" -> "zh"), else "en"."""
    name = record.get("language") if isinstance(record, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        return SOURCE_LANG
    names = _language_names()
    name = " ".join(name.split())
    if _is_lang(name) and name.split("-")[0].lower() in names.values():
        return name  # already a tag ("zh-CN")
    words = name.lower().split()
    # the whole name, else its first word that names a language ("Simplified Chinese" -> zh)
    for candidate in (" ".join(words), *words):
        if candidate in names:
            return names[candidate]
    return SOURCE_LANG


@lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    """CLDR's English names of languages, lower case -> language code ('chinese' -> 'zh')."""
    from babel import Locale

    out: dict[str, str] = {}
    for code, name in Locale("en").languages.items():
        if "_" not in code:  # a language alone: 'zh', not 'zh_Hant'
            out.setdefault(str(name).lower(), code)
    return out


def _is_iso_date(text: str) -> bool:
    try:
        return len(text) == 10 and bool(dt.date.fromisoformat(text))
    except ValueError:
        return False
