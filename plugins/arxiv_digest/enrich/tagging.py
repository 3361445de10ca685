"""Topics for the rest of the plugin: the Tagger (spans for bolding, the about/mentions decision
of enrich.topics), and `listing`, the one function that decides whether and under which topics a
paper is listed. No HTML here.

Every place that lists papers goes through `listing` (the day page and so the topic pages, feeds
and paper pages built from it, the summarize stage and its briefing, `status`, `export-md`): it
decides with the current digest.yaml and re-applies any stored model verdict that still holds
(Tagger.decide_paper), so they never disagree.

Decisions are made at update and stored (Paper.topics), and the day file says who made them: its
DECIDED_BY key holds the decider's fingerprint (the topic definitions of digest.yaml and the
deciding code, decider_fingerprint). The build trusts a day's stored decisions while that
fingerprint is the current one (`trusts`, `listing(..., stored=True)`), and decides the day again
otherwise (a digest.yaml edit, new deciding code, a day file from before the stamp). Every path
that writes decisions into a day goes through `decide_day`, which decides all its papers and
stamps it, so a stamp never covers a paper decided otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..core.models import Digest, Paper
from ..core.settings import DigestSettings, Topic
from ..site.daycache import canonical
from .decision import decisions_of
from .terms import Span, compile_term, compile_terms, math_ranges, term_pattern
from .topics import ABOUT, MENTIONS, TIERS, TopicDecider, TopicDecision

__all__ = [
    "ABOUT", "DECIDED_BY", "MENTIONS", "Listing", "Span", "Tagger", "TopicDecision", "compile_term",
    "compile_terms", "decide_day", "decider_fingerprint", "gist", "is_listed", "listing",
    "math_ranges", "stamp", "tagger_for", "term_pattern", "trusts", "why",
]

DECIDED_BY = "topics_decided_by"  # the day file's key holding the decider's fingerprint
DECIDER_FORMAT = 1  # bump when what a stored decision means changes without a code change here
# The deciding code (under plugins/arxiv_digest): every module enrich.topics imports from this
# package, except models and settings (data only; the topics' values are hashed instead).
# tests/test_build_cache.py checks that this list covers the imports.
DECIDER_SOURCES = ("enrich/decision.py", "enrich/sentences.py", "enrich/terms.py",
                   "enrich/topics.py")
_PACKAGE = Path(__file__).resolve().parent.parent


class Tagger(TopicDecider):
    """Finds topic keywords (spans) and decides which topics a paper is about.

    spans(text): every term match, for bolding (in "about" and "mentions" papers alike);
    decide(title, abstract) / decide_paper(paper): topic -> TopicDecision with its evidence;
    tag(title, abstract) / about(paper): only the topics the paper is about.
    """


@lru_cache(maxsize=8)
def _tagger(topics: tuple[Topic, ...]) -> Tagger:
    return Tagger(topics)


def tagger_for(settings: DigestSettings) -> Tagger:
    """The Tagger of these settings' topics (compiled once per set of topics)."""
    return _tagger(tuple(settings.topics))


@lru_cache(maxsize=1)
def _decider_code() -> bytes:
    h = hashlib.sha256(f"decider {DECIDER_FORMAT}\0".encode())
    for rel in DECIDER_SOURCES:
        h.update(rel.encode() + b"\0" + hashlib.sha256((_PACKAGE / rel).read_bytes()).digest())
    return h.digest()


@lru_cache(maxsize=8)
def _fingerprint(topics: tuple[Topic, ...]) -> str:
    h = hashlib.sha256(_decider_code())
    h.update(json.dumps(canonical(topics), sort_keys=True).encode("utf-8"))
    return h.hexdigest()[:20]


def decider_fingerprint(settings: DigestSettings) -> str:
    """Who decides topics: a hash of digest.yaml's topic definitions and the deciding code."""
    return _fingerprint(tuple(settings.topics))


def _texts(papers: Sequence[Paper]) -> str:
    """A hash of what the decider read: each paper's id, title and abstract, in order."""
    h = hashlib.blake2b(digest_size=10)
    for p in papers:
        h.update(f"{p.id}\0{p.title}\0{p.abstract}\0".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def stamp(settings: DigestSettings, papers: Sequence[Paper]) -> str:
    """The DECIDED_BY value: the decider's fingerprint and a hash of the texts it decided, so a
    title or abstract edited afterwards (by hand, or by a merge) makes the day decided again."""
    return f"{decider_fingerprint(settings)}:{_texts(papers)}"


def trusts(digest: Digest, settings: DigestSettings) -> bool:
    """Whether the day's stored decisions are those the current config and code would make."""
    stored = digest.extra.get(DECIDED_BY)
    return isinstance(stored, str) and stored == stamp(settings, digest.papers)


def decide_day(digest: Digest, settings: DigestSettings) -> Digest:
    """The day with every paper's topics decided now (stored verdicts re-applied) and stamped
    with the decider's fingerprint: what update stores, and the build then trusts."""
    tagger = tagger_for(settings)
    papers = tuple(tagger.tag_paper(p) for p in digest.papers)
    return replace(digest, papers=papers, extra={**digest.extra, DECIDED_BY: stamp(settings, papers)})


def is_listed(is_replacement: bool, topics: Sequence[str], settings: DigestSettings) -> bool:
    """Whether the day page lists a paper about these topics (the rule inside `listing`).

    `topics` are the topics the paper is *about*; a paper that only mentions a topic is not
    listed for it. Use `listing(paper, settings)`, which decides the topics first.
    """
    if is_replacement and settings.replacements == "hide":
        return False
    return bool(topics) or settings.list_all


@dataclass(frozen=True)
class Listing:
    """Whether a paper is listed, under which topics, and the decisions behind it."""

    listed: bool
    about: tuple[str, ...]  # the topics it is listed under (chips, filter, topic pages, feeds)
    mentions: tuple[str, ...]  # topics whose terms occur but that it is not about
    decisions: Mapping[str, TopicDecision] = field(default_factory=dict)


def _well_formed(decision: object) -> bool:
    if not isinstance(decision, Mapping) or decision.get("tier") not in TIERS:
        return False
    lists = (decision.get("terms"), decision.get("reasons"))
    return all(v is None or (isinstance(v, list) and all(isinstance(x, str) for x in v))
               for v in lists)


def stored_decisions(paper: Paper, topics: Sequence[str]) -> dict[str, TopicDecision] | None:
    """The paper's stored decisions for these topics, in this order (the config's); None when one
    of them is not a decision (a hand-edited file): the paper is then decided again."""
    wanted = [name for name in topics if name in paper.topics]
    if not all(_well_formed(paper.topics[name]) for name in wanted):
        return None
    stored = decisions_of(paper)
    return {name: stored[name] for name in wanted}


def listing(paper: Paper, settings: DigestSettings, tagger: Tagger | None = None, *,
            stored: bool = False) -> Listing:
    """The one decision of what lists a paper, with the current config and valid model verdicts.

    stored: the paper's day is trusted (`trusts`): its stored decisions are read, not made again.
    """
    decisions = stored_decisions(paper, [t.name for t in settings.topics]) if stored else None
    if decisions is None:
        decisions = (tagger or tagger_for(settings)).decide_paper(paper)
    about = tuple(n for n, d in decisions.items() if d.about)
    mentions = tuple(n for n, d in decisions.items() if not d.about)
    return Listing(is_listed(paper.is_replacement, about, settings), about, mentions, decisions)


_EXCLUDED = "excluded: "


def gist(decision: TopicDecision) -> str:
    """A few words on what a mention is: 'sparse views', or the matched words ('pruned')."""
    labels = [r[len(_EXCLUDED):].rsplit(" x", 1)[0] for r in decision.reasons
              if r.startswith(_EXCLUDED) and " not framed as " not in r]  # not_about labels
    return ", ".join(dict.fromkeys(labels)) if labels else ", ".join(decision.terms[:3])


def why(decision: TopicDecision) -> str:
    """Why the paper is about the topic or only mentions it, in one line for a reader."""
    said = "about" if decision.about else "only mentions"
    return f"{said}: {'; '.join(decision.reasons) or 'matched words'}"
