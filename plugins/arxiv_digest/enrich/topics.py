"""The one topic decision: for each paper and topic, "about" or only "mentions", with evidence.

A topic's terms find candidate matches (enrich.terms). Each match is read in its context: the
nearest word, within `window` content words either side and inside its clause, that belongs to
the topic's `confirm` list or to one of its `not_about` lists decides whether the match counts
("sparse rewards" does not count for sparsity; a tie does not count). A paper is *about* a topic
when its title or abstract has the topic's `requires` context and a counting match stands in the
title or in the contribution sentence ("we propose ...", "this paper ..."), or occurs
`min_occurrences` times (twice when one is in the abstract's first sentence). Any other match
makes it *mention* the topic. No model is involved; a model's verdict can be applied afterwards
(apply_verdict), and it can only re-decide a topic that a term matched.

Update stores the decisions in the day file (Paper.topics, Paper.tags); the build decides again
with the current config (decide_paper) and re-applies any stored verdict still valid for the
paper's text and the topic's definition.

Wiring a model's verdict (the summarize stage): offer the model the paper's matched topics
(paper.topics) with their definitions (definitions()), ask "about or not" for each, then call
apply_verdict(paper, topic, about, by=model, why=reason) per topic and keep the returned paper.
Decide the listing with Tagger.about(paper) (it honours stored verdicts), not Tagger.tag(title,
abstract) (text only). A re-fetch replaces paper.topics with fresh offline decisions, so
re-apply the verdicts from the cached summary record on every run (no new call).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from ..core.models import Paper
from ..core.settings import Term, Topic
from .decision import (
    ABOUT,
    MENTIONS,
    TIERS,
    TopicDecision,
    Verdict,
    decisions_of,
    verdict_key,
    with_verdict,
)
from .sentences import sentence_spans
from .terms import Span, TermMatcher, compile_terms, math_ranges

logger = logging.getLogger(__name__)

# Words skipped when counting the context window ("sparsity of the rewards": rewards is 1 away).
STOPWORDS = frozenset((
    "a", "an", "the", "of", "and", "or", "for", "to", "in", "on", "at", "by", "with", "from",
    "into", "onto", "via", "as", "its", "their", "our", "his", "her", "this", "that", "these",
    "those", "is", "are", "was", "were", "be", "been", "being", "such", "both", "either", "each",
    "very", "highly", "more", "most", "less", "than", "also", "which", "whose", "while", "where",
    "when", "then", "it", "they", "we", "us", "can", "may",
))
# A clause ends at ; ! ? and at . or : followed by a space (not inside 1.58-bit or N:M).
_CLAUSE_BREAK = re.compile(r"[;!?\n]|[.:](?=\s|$)")
_WORD = re.compile(r"\w+")
# The sentence that states the contribution.
CONTRIBUTION = re.compile(
    r"\b(?:we|our\s+(?:work|paper|study|approach|method|framework|contribution)s?)\s+"
    r"(?:[a-z]+\s+){0,2}?"
    r"(?:propose|present|introduce|develop|design|devise|investigate|study|explore|analy[sz]e|"
    r"examine|address|tackle|revisit|formulate|focus|build|contribute|report)\w*"
    r"|\b(?:this|the\s+present|the\s+proposed)\s+(?:paper|work|study|article|letter|note)\b"
    r"|\b(?:is|are)\s+(?:proposed|introduced|presented|developed)\b",
    re.IGNORECASE,
)
MEMO_SIZE = 4096  # decisions a decider remembers (a day's papers, several times over)
MAX_TEXT = 100_000  # characters of title or abstract read (a hostile abstract is cut, not parsed whole)


@dataclass(frozen=True)
class _Match:
    text: str
    in_title: bool
    sentence: int  # index of the abstract sentence; -1 in the title
    contribution: bool
    excluded: str | None  # why it does not count: a not_about label, or a missing context


class _Rules:
    """A topic's compiled context rules."""

    def __init__(self, topic: Topic) -> None:
        self.topic = topic
        self.confirm = compile_terms(topic.confirm)
        self.not_about = [(label, compile_terms(words)) for label, words in topic.not_about]
        self.requires = compile_terms(topic.requires)
        # each term's own pattern (longest first), to tell which term a span is
        self.terms = sorted(((t, compile_terms([t])[0]) for t in topic.terms),
                            key=lambda tp: -len(tp[0].text))
        self.term_requires = {t.text: compile_terms(t.requires) for t in topic.terms if t.requires}

    def term_of(self, word: str) -> Term | None:
        """The term that matched `word` (a span's text)."""
        for term, pat in self.terms:
            if pat.fullmatch(word):
                return term
        return None

    def context(self, text: str, start: int, end: int) -> str | None:
        """Nearest context word to text[start:end]: a not_about label, "" (confirms), or None."""
        if self.topic.window <= 0 or not (self.confirm or self.not_about):
            return None
        lo, hi = _clause(text, start, end)
        after = _content_words(text, end, hi)[: self.topic.window]
        before = _content_words(text, lo, start)[::-1][: self.topic.window]
        for distance in range(self.topic.window):
            hits: list[str | None] = []
            for side in (after, before):
                if distance < len(side):
                    hits += self._at(text, side[distance])
            if hits:
                labels = [h for h in hits if h is not None]
                return labels[0] if labels else ""  # a tie excludes
        return None

    def classify(self, text: str, start: int, end: int, whole: str) -> str | None:
        """Why the match text[start:end] does not count, or None when it counts."""
        word = text[start:end]
        term = self.term_of(word)
        if term is not None and term.text in self.term_requires and not any(
                p.search(whole) for p in self.term_requires[term.text]):
            return f"{word.lower()} not framed as {self.topic.name}"
        ctx = self.context(text, start, end)
        if ctx:
            return ctx
        if ctx is None and term is not None and term.needs_context:
            return f"no {self.topic.name} context around {word.lower()}"
        return None

    def _at(self, text: str, pos: int) -> list[str | None]:
        """What the context word starting at pos says: a not_about label, None (confirms), or []."""
        for label, pats in self.not_about:
            if any(p.match(text, pos) for p in pats):
                return [label]
        if any(p.match(text, pos) for p in self.confirm):
            return [None]
        return []

    def has_required_context(self, text: str) -> bool:
        """Whether text has one of the topic's `requires` words (always true without any)."""
        return not self.requires or any(p.search(text) for p in self.requires)


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The [lo, hi) of the clause around text[start:end]."""
    lo = max(0, start - 400)
    for br in _CLAUSE_BREAK.finditer(text, lo, start):
        lo = br.end()
    nxt = _CLAUSE_BREAK.search(text, end, min(len(text), end + 400))
    return lo, (nxt.start() if nxt else min(len(text), end + 400))


def _content_words(text: str, lo: int, hi: int) -> list[int]:
    """Start offsets of the words in text[lo:hi] that are not stop words."""
    return [m.start() for m in _WORD.finditer(text, lo, hi) if m.group().lower() not in STOPWORDS]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


class TopicDecider:
    """Matches the topics' terms (spans, for bolding) and decides about / mentions per topic."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics: tuple[Topic, ...] = tuple(topics)
        self.matcher = TermMatcher(self.topics)
        self._rules = {t.name: _Rules(t) for t in self.topics}
        self._by_name = {t.name: t for t in self.topics}
        # (title, abstract) -> decisions: update decides each paper up to four times (tag, the
        # summarize stage's listing twice, verdicts), and the build's bolding needs the same spans
        self._memo: dict[tuple[str, str], dict[str, TopicDecision]] = {}

    def spans(self, text: str) -> list[Span]:
        """Non-overlapping keyword spans in text, outside math, leftmost-longest first (bolding)."""
        return self.matcher.spans(text[:MAX_TEXT])

    def decide(self, title: str, abstract: str) -> dict[str, TopicDecision]:
        """topic -> decision, for every topic a term matched, in config order (no model)."""
        key = (title, abstract)
        known = self._memo.get(key)
        if known is None:
            known = self._decide(title, abstract)
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = known
        return dict(known)  # the caller's own dict (decide_paper replaces entries in it)

    def _decide(self, title: str, abstract: str) -> dict[str, TopicDecision]:
        title, abstract = title[:MAX_TEXT], abstract[:MAX_TEXT]
        title_spans = self.matcher.spans(title)
        abstract_spans = self.matcher.spans(abstract)
        if not title_spans and not abstract_spans:
            return {}
        sentences = sentence_spans(abstract) or [(0, len(abstract))]
        contribution = [bool(CONTRIBUTION.search(abstract, s, e)) for s, e in sentences]
        whole = f"{title}\n{abstract}"
        found: dict[str, list[_Match]] = {}
        for sp in title_spans:
            rules = self._rules[sp.topic]
            found.setdefault(sp.topic, []).append(_Match(
                title[sp.start:sp.end], True, -1, False,
                rules.classify(title, sp.start, sp.end, whole)))
        index = 0
        for sp in abstract_spans:
            while index < len(sentences) - 1 and sp.start >= sentences[index][1]:
                index += 1
            rules = self._rules[sp.topic]
            found.setdefault(sp.topic, []).append(_Match(
                abstract[sp.start:sp.end], False, index, contribution[index],
                rules.classify(abstract, sp.start, sp.end, whole)))
        out = {}
        for topic in self.topics:
            if topic.name in found:
                out[topic.name] = self._decide_topic(topic, found[topic.name], whole)
        for topic in self.topics:  # then the topics a related topic lends its evidence to
            d = out.get(topic.name)
            if d is not None and not d.about and topic.related:
                about = tuple(r for r in topic.related if r in out and out[r].about)
                if about:
                    out[topic.name] = self._decide_topic(topic, found[topic.name], whole, about)
        return out

    def _decide_topic(self, topic: Topic, matches: Sequence[_Match], whole: str,
                      related: Sequence[str] = ()) -> TopicDecision:
        terms = tuple(dict.fromkeys(m.text for m in matches))
        counting = [m for m in matches if m.excluded is None]
        excluded: dict[str, int] = {}
        for m in matches:
            if m.excluded is not None:
                excluded[m.excluded] = excluded.get(m.excluded, 0) + 1
        notes = tuple((label if label.startswith("no ") else f"excluded: {label}")
                      + (f" x{n}" if n > 1 else "")
                      for label, n in excluded.items())
        if not counting:
            return TopicDecision(topic.name, MENTIONS, terms, notes)
        positive = []
        if any(m.in_title for m in counting):
            positive.append("title")
        if any(m.contribution for m in counting):
            positive.append("contribution sentence")
        n = len(counting)
        if n >= topic.min_occurrences:
            positive.append(f"{n} occurrences")
        elif n >= 2 and any(m.sentence == 0 for m in counting):
            positive.append(f"first sentence, {n} occurrences")
        elif related:
            positive.append(f"about {', '.join(related)}, {_plural(n, 'occurrence')}")
        if not self._rules[topic.name].has_required_context(whole):
            return TopicDecision(topic.name, MENTIONS, terms,
                                 ("no model context", *positive, *notes))
        if positive:
            return TopicDecision(topic.name, ABOUT, terms, (*positive, *notes))
        return TopicDecision(
            topic.name, MENTIONS, terms,
            (f"{_plural(n, 'occurrence')}, not in the title or contribution sentence", *notes),
        )

    def decide_paper(self, paper: Paper) -> dict[str, TopicDecision]:
        """The paper's decisions with the current config, with its stored verdicts re-applied."""
        out = self.decide(paper.title, paper.abstract)
        for name, stored in (paper.topics or {}).items():
            verdict = Verdict.from_dict(stored.get("verdict")) if isinstance(stored, Mapping) else None
            topic = self._by_name.get(name)
            if verdict is None or topic is None or name not in out:
                continue
            if verdict.key != verdict_key(topic, paper.title, paper.abstract):
                continue  # the text or the definition changed since: the verdict no longer holds
            out[name] = with_verdict(out[name], verdict)
        return out

    def about(self, paper: Paper) -> tuple[str, ...]:
        """The topics the paper is about (config order): its tags on the page, feeds and briefing."""
        return tuple(n for n, d in self.decide_paper(paper).items() if d.about)

    def tag(self, title: str, abstract: str) -> dict[str, tuple[str, ...]]:
        """topic -> matched words, for the topics the text is about (no verdicts: text only)."""
        return {n: d.terms for n, d in self.decide(title, abstract).items() if d.about}

    def tag_paper(self, paper: Paper) -> Paper:
        """The paper with its decisions stored: `tags` (about topics) and `topics` (all, with evidence)."""
        decisions = self.decide_paper(paper)
        return replace(
            paper,
            tags={n: d.terms for n, d in decisions.items() if d.about},
            topics={n: d.to_dict() for n, d in decisions.items()},
        )


def apply_verdict(paper: Paper, topic: Topic, about: bool, *, by: str, why: str = "") -> Paper:
    """The paper with a model's verdict on one topic stored and applied.

    A topic the model rejects becomes "mentions"; a matched topic it confirms becomes "about".
    The model cannot add a topic: with no stored decision for it (no term matched), the paper is
    returned unchanged. The verdict is kept under paper.topics[topic]["verdict"] with a key of the
    text and the definition, so the build re-applies it until either changes.
    """
    stored = (paper.topics or {}).get(topic.name)
    if not isinstance(stored, Mapping):
        logger.debug("%s: no term of %s matched; the model cannot add it", paper.id, topic.name)
        return paper
    verdict = Verdict(about, by, " ".join(why.split())[:300],
                      verdict_key(topic, paper.title, paper.abstract))
    decision = TopicDecision(
        topic.name, str(stored.get("tier", MENTIONS)),
        tuple(str(t) for t in stored.get("terms") or ()),
        tuple(str(r) for r in stored.get("reasons") or () if not str(r).startswith("model (")),
    )
    decision = with_verdict(decision, verdict)
    topics = {**paper.topics, topic.name: decision.to_dict()}
    tags = dict(paper.tags)
    if decision.about:
        tags[topic.name] = decision.terms
    else:
        tags.pop(topic.name, None)
    return replace(paper, topics=topics, tags={n: tags[n] for n in topics if n in tags})


def definitions(topics: Iterable[Topic]) -> str:
    """The topics and their definitions, one per line, for a model's prompt."""
    return "\n".join(f"- {t.name}: {t.definition or 'papers about ' + t.name}" for t in topics)


__all__ = [
    "ABOUT", "MENTIONS", "TIERS", "Span", "TopicDecider", "TopicDecision", "Verdict", "apply_verdict",
    "decisions_of", "definitions", "math_ranges", "verdict_key",
]
