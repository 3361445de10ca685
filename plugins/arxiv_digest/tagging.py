"""Topics for the rest of the plugin: the Tagger (spans for bolding, the about/mentions decision
of enrich.topics), and `listing`, the one function that decides whether and under which topics a
paper is listed. No HTML here.

Every place that lists papers goes through `listing` (the day page and so the topic pages, feeds
and paper pages built from it, the summarize stage and its briefing, `status`, `export-md`): it
decides with the current digest.yaml and re-applies any stored model verdict that still holds
(Tagger.decide_paper), so they never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .enrich.terms import Span, compile_term, compile_terms, math_ranges, term_pattern
from .enrich.topics import ABOUT, MENTIONS, TopicDecider, TopicDecision
from .models import Paper
from .settings import DigestSettings, Topic

__all__ = [
    "ABOUT", "MENTIONS", "Listing", "Span", "Tagger", "TopicDecision", "compile_term",
    "compile_terms", "gist", "is_listed", "listing", "math_ranges", "tagger_for", "term_pattern",
    "why",
]


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


def listing(paper: Paper, settings: DigestSettings, tagger: Tagger | None = None) -> Listing:
    """The one decision of what lists a paper, with the current config and valid model verdicts."""
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
