"""Day file -> Pelican article: metadata for Pelican, and HTML content through the theme's templates.

One escaping path for all untrusted text (arXiv titles, abstracts, names, comments and ids, the
model's summaries, scores and briefing, topic names from the config): it reaches HTML only through
a Jinja environment with autoescaping on (the day body's `environment()` here, and Pelican's own,
which `autoescape_templates` turns on for every theme template), or through `highlight`, the one
function that returns Markup, built from escaped pieces. Keywords are wrapped in
<strong class="kw"> around escaped pieces, never inside math. No template marks anything else safe.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Collection, Container, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, TypeGuard

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup, escape
from pelican.readers import BaseReader
from pelican.urlwrappers import Tag

from ..core import relinks
from ..core.errors import StoreError
from ..core.i18n import Formatter, catalog_hash, gettext_for
from ..core.i18n import install as install_i18n
from ..core.models import SCHEMA_VERSION, Digest, Paper
from ..core.settings import RESOLVED_KEY, DigestSettings, load_settings
from ..core.store import iter_days, json_or_none, parse_with_json
from ..enrich.links import ARTEFACT_KINDS, Badge, badges
from ..enrich.tagging import Span, TopicDecision, gist, listing, tagger_for, trusts, why
from ..enrich.versions import page_changes, version_links
from ..summarize.view import (
    BriefingView,
    LedgerView,
    SummaryView,
    briefing_views,
    day_ledger,
    sort_by_score,
    summary_view,
)
from .cite import FILTERS as CITE_FILTERS
from .cite import CiteLinks
from .daycache import (
    LINK_FIELDS,
    DayCache,
    file_hash,
    fingerprint,
    prefill,
    record_key,
    view_inputs,
    workers,
)

DAY_TEMPLATE = "digest_day.html"
logger = logging.getLogger(__name__)


def highlight(text: str, spans: Iterable[Span], about: Container[str] | None = None) -> Markup:
    """Escape text and wrap each span in <strong class="kw" data-tag="topic">.

    With `about` (the topics the paper is about), a span of any other topic is only a mention:
    <strong class="kw kw-mention" data-mention="topic">, bolded quietly, never as a topic match.
    """
    out: list[str] = []
    pos = 0
    for sp in spans:
        out.append(str(escape(text[pos:sp.start])))
        attr = "kw" if about is None or sp.topic in about else "kw kw-mention"
        data = "data-tag" if attr == "kw" else "data-mention"
        out.append(
            f'<strong class="{attr}" {data}="{escape(sp.topic)}">'
            f"{escape(text[sp.start:sp.end])}</strong>"
        )
        pos = sp.end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


@dataclass(frozen=True)
class PaperView:
    """What the day template needs for one paper."""

    paper: Paper
    tags: tuple[str, ...]  # the topics the paper is about (chips, filter, topic pages, feeds)
    title_html: Markup
    abstract_html: Markup
    related: tuple[tuple[str, str], ...] = ()  # (href, label) of near-identical titles
    summary: SummaryView | None = None  # the stored summary, or "summary pending"
    mentions: tuple[str, ...] = ()  # topics whose terms occur but that the paper is not about
    # topic -> decision with its evidence (.tier, .terms, .reasons, .explanation), about and mentions
    decisions: Mapping[str, TopicDecision] = field(default_factory=dict)
    # the summary's tldr, method and headline with topic keywords bolded (escaped, as the abstract)
    tldr_html: Markup | None = None
    method_html: Markup | None = None
    headline_html: Markup | None = None
    # links to code, models, data sets, demos and project pages (enrich.links; hrefs checked
    # again here: only http(s)), the other stored versions' days, what changed since the last one
    artefacts: tuple[Badge, ...] = ()
    versions: tuple[tuple[str, str], ...] = ()  # (href, label)
    changes: Mapping[str, Any] | None = None
    # the build-cache entry this view came from and its place there (site/writer.py digests the
    # view by it): set by the reader, empty for a view made elsewhere
    cache_key: str = field(default="", compare=False)

    @property
    def has_code(self) -> bool:
        """Whether the paper links code, a model, a data set or a demo (the 'has code' filter)."""
        return any(b.kind in ARTEFACT_KINDS for b in self.artefacts)

    def matched(self, topic: str) -> tuple[str, ...]:
        """The words of the paper that matched the topic's terms, as written."""
        d = self.decisions.get(topic)
        return d.terms if d is not None else ()

    def why(self, topic: str) -> str:
        """Why the paper is about the topic, or only mentions it (its evidence, any verdict)."""
        d = self.decisions.get(topic)
        return why(d) if d is not None else ""

    def gist(self, topic: str) -> str:
        """What a mention is, in a few words: 'sparse views', or the matched words."""
        d = self.decisions.get(topic)
        return gist(d) if d is not None else ""


@dataclass(frozen=True)
class DayView:
    """What the day template needs for one day."""

    digest: Digest
    date: dt.date
    listed: tuple[PaperView, ...]  # new and cross-listed papers shown
    updated: tuple[PaperView, ...]  # replacements shown apart (empty when hidden)
    topic_counts: tuple[tuple[str, int], ...]
    list_all: bool
    replacements: str
    briefing: tuple[BriefingView, ...] = ()  # one paragraph per topic (summarize stage)
    ledger: LedgerView | None = None  # the day's LLM cost table
    scoring: bool = False  # show relevance/novelty scores (llm.scoring.enabled)
    # papers not listed that mention a topic (its words occur, it is not about it): a quiet list
    mentioned: tuple[PaperView, ...] = ()
    # the build-cache entry (day file hash and build fingerprint) this view is a function of
    cache_key: str = field(default="", compare=False)

    @property
    def listed_total(self) -> int:
        """How many papers the page lists."""
        return len(self.listed) + len(self.updated)

    @property
    def tags(self) -> tuple[str, ...]:
        """Topics with at least one paper this day."""
        return tuple(t for t, n in self.topic_counts if n)

    @property
    def topic_split(self) -> dict[str, tuple[int, int]]:
        """topic -> (new and cross-listed papers, updated versions) listed: the chip counts both."""
        return {t: (sum(t in v.tags for v in self.listed), sum(t in v.tags for v in self.updated))
                for t, _ in self.topic_counts}


def related_links(paper: Paper, date: str, data_link: str) -> tuple[tuple[str, str], ...]:
    """Links to near-identical titles: an anchor on the same day, a Pelican {filename} link otherwise."""
    out = []
    for r in paper.related:
        if r.date == date:
            out.append((f"#{r.id}", f"arXiv:{r.id}"))
        else:
            out.append((f"{{filename}}{data_link}/{r.date[:4]}/{r.date}.json#{r.id}", f"arXiv:{r.id} ({r.date})"))
    return tuple(out)


def data_link_of(settings: DigestSettings, content_root: str | None) -> str:
    """The day files' folder as a Pelican {filename} link path ("/digests"), "" when none."""
    if content_root is None:
        return ""
    try:
        return "/" + settings.data_dir.resolve().relative_to(Path(content_root).resolve()).as_posix()
    except ValueError:  # day files outside PATH: Pelican cannot link them
        return ""


def day_view(digest: Digest, settings: DigestSettings, content_root: str | None = None) -> DayView:
    """Select, tag and highlight the papers of one day."""
    data_link = data_link_of(settings, content_root)
    tagger = tagger_for(settings)
    names = tuple(t.name for t in settings.topics)
    stored = trusts(digest, settings)  # decided at update by this config and code: not again
    views = []
    mentioned = []
    skip_undecided = stored and not settings.list_all
    for p in digest.papers:
        if skip_undecided and not p.topics:  # most of a day: no stored decision, so `listing`
            continue  # would say neither listed nor mentioning a topic; not asked 500 times
        decided = listing(p, settings, tagger, stored=stored)  # the one decision
        decisions, tags = decided.decisions, decided.about
        if not decided.listed:
            if decided.mentions and not (p.is_replacement and settings.replacements == "hide"):
                mentioned.append(PaperView(p, (), highlight(p.title, tagger.spans(p.title), ()),
                                           Markup(""), mentions=decided.mentions,
                                           decisions=decisions))
            continue
        summary = summary_view(p.summary_in(settings.llm.lang), settings.llm.scoring.enabled, tags,
                               names)
        tldr, method, headline = (None if not text else highlight(text, tagger.spans(text), tags)
                                  for text in (summary.tldr, summary.method, summary.headline))
        views.append(PaperView(p, tags, highlight(p.title, tagger.spans(p.title), tags),
                               highlight(p.abstract, tagger.spans(p.abstract), tags),
                               related_links(p, digest.date, data_link),
                               summary,
                               mentions=decided.mentions,
                               decisions=decisions, tldr_html=tldr, method_html=method,
                               headline_html=headline, artefacts=badges(p.links),
                               versions=version_links(p, data_link), changes=page_changes(p)))
    listed = tuple(v for v in views if not v.paper.is_replacement)
    updated = tuple(v for v in views if v.paper.is_replacement)  # empty when hidden (is_listed)
    if settings.llm.scoring.enabled and settings.llm.scoring.sort:
        listed, updated = sort_by_score(listed), sort_by_score(updated)
    counts = Counter(t for v in (*listed, *updated) for t in v.tags)
    return DayView(
        digest=digest,
        date=dt.date.fromisoformat(digest.date),
        listed=listed,
        updated=updated,
        topic_counts=tuple((t.name, counts.get(t.name, 0)) for t in tagger.topics),
        list_all=settings.list_all,
        replacements=settings.replacements,
        briefing=briefing_views(digest, [t.name for t in settings.topics], settings.llm.lang),
        ledger=day_ledger(digest),
        scoring=settings.llm.scoring.enabled,
        mentioned=tuple(mentioned),
    )


def slim(view: DayView) -> DayView:
    """The view as the build keeps it once the day body is rendered: its digest holds only the
    papers the day lists, and `mentioned` is empty (those papers appear only in the body). The rest
    were needed only to decide; an archive of every stored paper would not fit in memory, and the
    build cache (daycache.py) stores this view for every day."""
    kept = {id(v.paper) for v in (*view.listed, *view.updated)}
    papers = tuple(p for p in view.digest.papers if id(p) in kept)
    return replace(view, digest=view.digest.with_papers(papers), mentioned=())


def keyed(view: DayView, key: str, paper_keys: Mapping[str, str] | None = None) -> DayView:
    """The view and its papers' views marked as the pure function of `key` (a build-cache entry):
    the page writer (site/writer.py) then digests them by that key instead of by value.
    paper_keys: paper id -> what its view alone is a function of (its stored record, the day's
    date, whether the day's decisions are trusted), so that a paper's pages do not depend on the
    other papers of its day; a paper without one is keyed by the day and its place."""
    def mark(views: tuple[PaperView, ...], kind: str) -> tuple[PaperView, ...]:
        return tuple(replace(v, cache_key=(paper_keys or {}).get(v.paper.id) or f"{key}#{kind}{i}")
                     for i, v in enumerate(views))

    return replace(view, cache_key=key, listed=mark(view.listed, "l"),
                   updated=mark(view.updated, "u"), mentioned=mark(view.mentioned, "m"))


def paper_keys(digest: Digest, data: Any, stored: bool, fingerprint: str,
               ids: Collection[str] | None = None) -> dict[str, str]:
    """paper id -> the key of its PaperView (see keyed): the build's fingerprint, the day's date,
    whether its stored decisions are trusted, and the paper's record as stored (`data`: the day
    file's JSON). Empty when the records cannot be told apart (an id twice, an older schema).
    ids: only these papers' keys (those the page shows; the others' records are not hashed)."""
    records = data.get("papers") if isinstance(data, Mapping) else None
    if (data.get("schema_version") != SCHEMA_VERSION or not isinstance(records, list)
            or len(records) != len(digest.papers)):
        return {}
    if len({p.id for p in digest.papers}) != len(records):
        return {}
    return {p.id: f"{fingerprint}:p:{digest.date}:{stored:d}:{record_key(r)}"
            for p, r in zip(digest.papers, records, strict=True) if ids is None or p.id in ids}


# Every template of the theme, whatever its name (.html, .xml, a string): escape by default.
AUTOESCAPE = select_autoescape(default=True, default_for_string=True)


@lru_cache(maxsize=8)
def environment(templates: str, lang: str | None = None, catalog: str = "") -> Environment:
    """The autoescaping environment the day body is rendered in, with DEFAULT_LANG's catalog
    (the theme's translations/, beside templates/) and locale filters installed.

    catalog: the catalog's hash (i18n.catalog_hash), so an edited catalog gets a new environment.
    """
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=AUTOESCAPE,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(CITE_FILTERS)  # coins, bibtex, math_text: plain text, escaped by the template
    install_i18n(env, Path(templates).parent, lang)
    return env


def autoescape_templates(settings: dict[str, Any]) -> None:
    """Turn autoescaping on in Pelican's template environment (JINJA_ENVIRONMENT), for good.

    Pelican's default leaves it off, and its generators render the topic pages, the topics index,
    the topic feeds' entries, the archive and the ledger from the same untrusted strings.
    """
    jinja = dict(settings.get("JINJA_ENVIRONMENT") or {})
    if jinja.get("autoescape") is not True:
        logger.debug("JINJA_ENVIRONMENT: autoescape turned on (was %r)", jinja.get("autoescape"))
    jinja["autoescape"] = True
    settings["JINJA_ENVIRONMENT"] = jinja


def _same(name: str) -> str:
    return name


def render_day(view: DayView, theme: str, tag_slug: Callable[[str], str] = _same,
               cite: CiteLinks | None = None, lang: str | None = None) -> str:
    """The day's HTML body from the theme's digest_day.html.

    tag_slug: a topic name -> its Pelican slug, for the {tag} links (Pelican slugifies what follows
    {tag} again, so the escaped form of a name with markup would give another slug).
    cite: where each paper's page and the day's .bib file are (none when omitted).
    lang: DEFAULT_LANG (the interface's language; English when omitted).
    """
    env = environment(str(Path(theme) / "templates"), lang, catalog_hash(theme, lang))
    return env.get_template(DAY_TEMPLATE).render(day=view, tag_slug=tag_slug, cite=cite or CiteLinks())


# one paper's card as the day body renders it (theme/templates/_day_card.html, which digest_day.html
# imports with context)
_CARD = '{% from "_day_card.html" import paper_card with context %}{{ paper_card(v) }}'


@lru_cache(maxsize=8)
def _card_template(env: Environment) -> Template:
    return env.from_string(_CARD)


def render_card(day: DayView, view: PaperView, theme: str, tag_slug: Callable[[str], str] = _same,
                cite: CiteLinks | None = None, lang: str | None = None) -> str:
    """One paper's card, as render_day writes it into the day's body (same arguments)."""
    env = environment(str(Path(theme) / "templates"), lang, catalog_hash(theme, lang))
    return _card_template(env).render(day=day, v=view, tag_slug=tag_slug, cite=cite or CiteLinks())


def digest_settings(settings: dict[str, Any]) -> DigestSettings:
    """The validated object the plugin stored at initialisation (or a fresh one)."""
    resolved = settings.get(RESOLVED_KEY)
    if isinstance(resolved, DigestSettings):
        return resolved
    resolved = load_settings(settings)
    settings[RESOLVED_KEY] = resolved
    return resolved


def day_title(date: dt.date, settings: dict[str, Any] | None = None) -> str:
    """'arXiv digest for Thursday, 28 November 2024' (in DEFAULT_LANG with Pelican's settings)."""
    if settings is None:
        return f"arXiv digest for {date:%A}, {date.day} {date:%B %Y}"
    tr = gettext_for(settings)
    when = Formatter(settings.get("DEFAULT_LANG"), tr).long_date(date)
    return tr.gettext("arXiv digest for %(date)s") % {"date": when}


# a build-cache entry: the day's body, its slim view, the ids whose links the page shows (those
# it lists) and daycache.view_inputs of the file under them
Entry = tuple[str, DayView, tuple[str, ...], str]


def is_entry(value: Any) -> TypeGuard[Entry]:
    """Whether a value read from the build cache has an entry's shape."""
    return (isinstance(value, tuple) and len(value) == 4 and isinstance(value[0], str)
            and isinstance(value[1], DayView) and isinstance(value[2], tuple)
            and all(isinstance(i, str) for i in value[2]) and isinstance(value[3], str))


# patch(path, key, entry, ids): the entry of the day file at path (content key `key`), made from
# `entry` (an earlier version's) whose papers `ids` changed only their links; None to read it whole
Patch = Callable[[Path, str, Entry, frozenset[str]], Entry | None]


def carry_relinked(cache: DayCache, data_dir: Path, keys: Mapping[Path, str],
                   patch: Patch | None = None) -> int:
    """Reuse, without reading the day file, the entry of each day whose file only gained links
    since a version the cache has an entry for (core/relinks.py: the update recorded which papers'
    links it changed), when none of those papers is one the page lists; when some are, `patch`
    makes the entry from the earlier one (DigestReader.patch: those papers' cards rendered again).
    Returns how many entries were carried or patched.

    The same entry reuse() or render() would make after parsing the whole file, at the cost of
    one small read (or, patched, of reading the file and rendering a card or two): a real day's
    update writes links into ~110 earlier days."""
    carried = patched = 0
    for path, key in keys.items():
        day = path.stem
        if cache.has(day, key):
            continue
        for old, ids in relinks.earlier(data_dir, day, key):
            found = cache.get(day, old)
            if not is_entry(found):
                continue
            if ids.isdisjoint(found[2]):
                cache.put(day, key, found, keep=True)
                carried += 1
            elif patch is not None:
                made = patch(path, key, found, ids)
                if made is not None:
                    cache.put(day, key, made, keep=True)
                    patched += 1
            break
    if carried:
        logger.info("Build cache: %d day(s) only gained links of papers their page does not list: "
                    "their entries reused, the files not read", carried)
    if patched:
        logger.info("Build cache: %d day(s) only gained links of papers their page lists: those "
                    "papers' cards rendered again, the rest of each page kept", patched)
    return carried + patched


class DigestReader(BaseReader):  # type: ignore[misc]
    """Reads one day file into an article: content HTML plus metadata."""

    enabled = True
    file_extensions: ClassVar[list[str]] = ["json"]

    _cache: DayCache | None = None
    _prefilled = False

    def day_cache(self, settings: DigestSettings) -> DayCache:
        """This build's per-day cache (daycache.py), its fingerprint computed at the first day."""
        if self._cache is None:
            theme = self.settings.get("THEME")
            keyed = {**self.settings, "ARXIV_DIGEST_CATALOG": catalog_hash(
                theme, self.settings.get("DEFAULT_LANG"))}  # a catalog edit re-renders the days
            self._cache = DayCache(settings.data_dir, fingerprint(
                keyed, settings.config_file, theme))
        return self._cache

    def render(self, path: Path, raw: bytes, settings: DigestSettings) -> Entry:
        """The day's entry from the day file's bytes: load, decide, highlight, render; keyed on
        what the page reads of the file (daycache.view_inputs)."""
        digest, data = parse_with_json(path, raw)
        view = day_view(digest, settings, self.settings.get("PATH"))
        content = render_day(view, self.settings["THEME"], self._tag_slug, self._cite(settings),
                             self.settings.get("DEFAULT_LANG"))
        # the papers whose links the page shows: those it lists (a mentioned paper shows its
        # title and what it mentions, not its links; tests/test_build_cache.py holds the body to it)
        shown = tuple(sorted({v.paper.id for v in (*view.listed, *view.updated)}))
        inputs = view_inputs(data, shown)
        fp = self.day_cache(settings).folder.name
        keys = paper_keys(digest, data, trusts(digest, settings), fp, frozenset(shown))
        return content, keyed(slim(view), f"{fp}:{inputs}", keys), shown, inputs

    def _cite(self, settings: DigestSettings) -> CiteLinks:
        return CiteLinks(str(self.settings.get("SITEURL") or ""), settings.paper_url,
                         settings.day_bib)

    def _tag_slug(self, name: str) -> str:
        return str(Tag(name, self.settings).slug)

    def patch(self, path: Path, key: str, found: Entry, ids: frozenset[str],
              settings: DigestSettings) -> Entry | None:
        """The entry of the day file at `path` (content key `key`) from `found`, the entry of an
        earlier version of it that differs only in the links (`related`, `versions`) of the
        papers `ids` (a step the update recorded, core/relinks.py), some of which the page lists:
        only those papers are read from the file (each validated, and checked to differ from
        the one the entry holds in its links alone) and only their cards rendered again and put
        in place of the old ones in the kept body; the entry equals the one render() makes of
        the whole file. None when anything is not as expected (the file's bytes, a record, a
        key, a card not found once in the body): the day is then read and rendered whole."""
        content, view, shown_ids, _ = found
        shown = frozenset(shown_ids)
        changed = ids & shown
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        if file_hash(raw) != key:  # changed since it was keyed: read whole (and said what is wrong)
            return None
        data = json_or_none(raw)
        records: dict[str, Any] = {}
        try:
            for record in data["papers"]:
                if record["id"] in changed:
                    if record["id"] in records:
                        return None
                    records[record["id"]] = record
            inputs = view_inputs(data, shown)
        except (TypeError, KeyError, AttributeError, ValueError, RecursionError):
            return None
        if records.keys() != changed:
            return None
        fp = self.day_cache(settings).folder.name
        date = view.digest.date
        prefix = f"{fp}:p:{date}:"
        link = data_link_of(settings, self.settings.get("PATH"))
        views: dict[str, tuple[PaperView, PaperView]] = {}  # id -> (the old card's, the new)
        for old in (*view.listed, *view.updated):
            pid = old.paper.id
            if pid not in changed:
                continue
            try:
                paper = Paper.from_dict(records[pid], f"{path}: paper {pid}")
            except StoreError:
                return None  # the whole file is read, and the build says what is wrong
            same, sep, _ = old.cache_key.rpartition(":")
            if (replace(paper, related=old.paper.related, versions=old.paper.versions) != old.paper
                    or not sep or not same.startswith(prefix)):
                return None
            views[pid] = old, replace(old, paper=paper, related=related_links(paper, date, link),
                                      versions=version_links(paper, link),
                                      cache_key=f"{same}:{record_key(records[pid])}")
        if views.keys() != changed:
            return None

        def swap(olds: tuple[PaperView, ...]) -> tuple[PaperView, ...]:
            return tuple(views[v.paper.id][1] if v.paper.id in views else v for v in olds)

        papers = tuple(views[p.id][1].paper if p.id in views else p for p in view.digest.papers)
        day = replace(view, digest=view.digest.with_papers(papers), listed=swap(view.listed),
                      updated=swap(view.updated), cache_key=f"{fp}:{inputs}")
        args = (self.settings["THEME"], self._tag_slug, self._cite(settings),
                self.settings.get("DEFAULT_LANG"))
        for old, new in views.values():
            card = render_card(view, old, *args)
            at = content.find(card)
            if at < 0 or content.find(card, at + 1) >= 0:
                logger.debug("%s: the card of %s is not once in the kept body: rendered whole",
                             path, old.paper.id)
                return None
            content = content[:at] + render_card(day, new, *args) + content[at + len(card):]
        logger.debug("%s: %d listed paper(s) gained links: their cards rendered again", path,
                     len(views))
        return content, day, shown_ids, inputs

    def reuse(self, path: Path, raw: bytes, settings: DigestSettings) -> Entry | None:
        """The day's entry made from an earlier version of its file, when the page reads the same
        of both (daycache.view_inputs under the ids that entry lists): a day that only gained a
        link on a paper it does not list is neither parsed into papers nor rendered again. The
        link fields that differ are still validated, as parse() would (an invalid one: None,
        and rendering the day says what is wrong)."""
        cache = self.day_cache(settings)
        previous = cache.previous(path.stem)
        if not previous:
            return None
        data = json_or_none(raw)
        if data is None:
            return None
        for entry in previous:
            found = cache.load(entry)
            value = found[1] if found is not None else None
            if not is_entry(value):
                continue
            shown = frozenset(value[2])
            try:
                if view_inputs(data, shown) != value[3]:
                    continue
                for p in data["papers"]:
                    if p["id"] not in shown and any(p.get(f) for f in LINK_FIELDS):
                        Paper.from_dict(p)
            except (StoreError, TypeError, KeyError, AttributeError, ValueError, RecursionError):
                return None
            logger.debug("%s: only links of papers the page does not list changed: its page as "
                         "it was", path)
            return value
        return None

    def entry(self, path: Path, raw: bytes, settings: DigestSettings) -> Entry:
        """The day's cache entry from its file's bytes: an earlier one reused, else rendered."""
        return self.reuse(path, raw, settings) or self.render(path, raw, settings)

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        """Return (content, metadata) for Pelican: from the build cache while the day file, the
        config and the code are unchanged (daycache.py), else rendered and cached."""
        settings = digest_settings(self.settings)
        path = Path(source_path)
        cache = self.day_cache(settings)
        if not self._prefilled:  # the first day: every missing day made in parallel first
            self._prefilled = True
            days = list(iter_days(settings.data_dir))
            keys = cache.files.keys(days)  # every day's key at once: stat record, git's index, bytes
            cache.files.save()
            carry_relinked(cache, settings.data_dir, keys,
                           lambda p, key, found, ids: self.patch(p, key, found, ids, settings))
            if cache.files.hashed or cache.files.from_git:
                logger.debug("Build cache: %d of %d day file(s) hashed, %d keyed by git's index",
                             cache.files.hashed, len(days), cache.files.from_git)
            prefill(cache, days, lambda p, raw: self.entry(p, raw, settings), workers())
        try:
            hit = cache.get(path.stem, cache.key_of(path))
        except OSError:
            hit = None  # read below, which says what is wrong with the file
        if is_entry(hit):
            content, view = hit[0], hit[1]
        else:
            try:
                raw = path.read_bytes()
            except OSError as e:
                raise StoreError(f"{path}: cannot be read: {e.strerror}") from e
            made = self.entry(path, raw, settings)
            cache.put(path.stem, file_hash(raw), made)
            content, view = made[0], made[1]
        digest = view.digest
        tr = gettext_for(self.settings)
        counts = tr.gettext(", ").join(f"{n} {t}" for t, n in view.topic_counts if n)
        summary = tr.ngettext(
            "%(n)d paper announced in %(categories)s; %(listed)d listed",
            "%(n)d papers announced in %(categories)s; %(listed)d listed",
            digest.announced_total,
        ) % {"n": digest.announced_total, "categories": ", ".join(digest.categories),
             "listed": view.listed_total}
        summary += (tr.gettext(" (%(counts)s)") % {"counts": counts} if counts else "") + tr.gettext(".")
        metadata: dict[str, Any] = {
            "title": day_title(view.date, self.settings),
            "date": self.process_metadata("date", digest.date),
            "slug": digest.date,
            "category": self.process_metadata("category", "digest"),
            "summary": str(escape(summary)),
            "template": "article",
            "digest": digest,
            "day": view,
        }
        if view.cache_key:  # everything above is a function of it (site/writer.py)
            metadata["cache_key"] = view.cache_key
        if view.tags:
            metadata["tags"] = self.process_metadata("tags", ", ".join(view.tags))
        return content, metadata
