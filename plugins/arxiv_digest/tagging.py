"""Topics for the rest of the plugin: the Tagger (spans for bolding, the about/mentions decision
of enrich.topics) and is_listed, the one rule for what a day page lists. No HTML here."""

from __future__ import annotations

from collections.abc import Sequence

from .enrich.terms import Span, compile_term, compile_terms, math_ranges, term_pattern
from .enrich.topics import ABOUT, MENTIONS, TopicDecider, TopicDecision
from .settings import DigestSettings

__all__ = [
    "ABOUT", "MENTIONS", "Span", "Tagger", "TopicDecision", "compile_term", "compile_terms",
    "is_listed", "math_ranges", "term_pattern",
]


class Tagger(TopicDecider):
    """Finds topic keywords (spans) and decides which topics a paper is about.

    spans(text): every term match, for bolding (in "about" and "mentions" papers alike);
    decide(title, abstract) / decide_paper(paper): topic -> TopicDecision with its evidence;
    tag(title, abstract) / about(paper): only the topics the paper is about.
    """


def is_listed(is_replacement: bool, topics: Sequence[str], settings: DigestSettings) -> bool:
    """Whether the day page lists a paper about these topics (the one rule for page and summaries).

    `topics` are the topics the paper is *about* (Tagger.about / Tagger.tag / stored Paper.tags);
    a paper that only mentions a topic is not listed for it.
    """
    if is_replacement and settings.replacements == "hide":
        return False
    return bool(topics) or settings.list_all
