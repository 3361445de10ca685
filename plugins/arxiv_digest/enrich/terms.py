"""Topic terms -> compiled word-aware patterns -> matched spans on plain text (no HTML here)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..core.settings import Term, Topic

_SEP = r"[\s\-\u2010\u2011\u2012\u2013]+"  # spaces and hyphens between the words of a term
# Inline and display math: never highlighted inside.
_MATH = re.compile(
    r"(?<!\\)\$\$.+?(?<!\\)\$\$|(?<!\\)\$.+?(?<!\\)\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL
)


@dataclass(frozen=True)
class Span:
    """A keyword occurrence: text[start:end] belongs to topic."""

    start: int
    end: int
    topic: str


def term_pattern(term: Term) -> str:
    """A word-aware pattern: whole words only; a trailing * extends to the end of the word."""
    text = term.text
    wildcard = text.endswith("*")
    words = [w for w in re.split(r"[\s\-\u2010\u2011\u2012\u2013]+", text.rstrip("*")) if w]
    body = _SEP.join(re.escape(w) for w in words)
    tail = r"\w*" if wildcard else r"(?:e?s)?"
    return rf"{body}{tail}"


def compile_terms(terms: Iterable[Term]) -> list[re.Pattern[str]]:
    """One alternation per case rule; the longer terms first, so the longest match wins."""
    out = []
    for case_sensitive in (False, True):
        group = sorted((t for t in terms if t.case_sensitive == case_sensitive),
                       key=lambda t: (-len(t.text), t.text))
        if group:
            alternation = "|".join(term_pattern(t) for t in group)
            flags = 0 if case_sensitive else re.IGNORECASE
            out.append(re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", flags))
    return out


def compile_term(term: Term) -> re.Pattern[str]:
    """The pattern of a single term."""
    return compile_terms([term])[0]


def math_ranges(text: str) -> list[tuple[int, int]]:
    """The [start, end) ranges of $...$, $$...$$, \\(...\\) and \\[...\\] in text."""
    return [m.span() for m in _MATH.finditer(text)]


def _prefix(term: Term) -> str:
    """The first word of a term, lower-cased: a cheap substring test before the regex."""
    return re.split(r"[\s\-\u2010-\u2013*]", term.text.lower(), maxsplit=1)[0]


class TermMatcher:
    """Finds the topics' terms in text: whole words, outside math, leftmost-longest."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics: tuple[Topic, ...] = tuple(topics)
        self._compiled = [
            (
                t.name,
                compile_terms(t.terms),
                compile_terms(t.exclude),
                # most texts mention no term of most topics
                tuple({_prefix(x) for x in t.terms}),
            )
            for t in self.topics
        ]

    def spans(self, text: str) -> list[Span]:
        """Non-overlapping keyword spans in text, outside math, leftmost-longest first."""
        if not text:
            return []

        def overlaps(s: int, e: int, ranges: Sequence[tuple[int, int]]) -> bool:
            return any(rs < e and s < re_ for rs, re_ in ranges)

        candidates: list[tuple[int, int, int, str]] = []
        lowered = text.lower()
        maths: list[tuple[int, int]] | None = None  # found once, at the first term match
        for order, (name, terms, excludes, prefixes) in enumerate(self._compiled):
            if not any(p in lowered for p in prefixes):  # most texts: no term's first word
                continue
            blocked: list[tuple[int, int]] | None = None
            for pat in terms:
                for m in pat.finditer(text):
                    s, e = m.span()
                    if maths is None:
                        maths = math_ranges(text) if "$" in text or "\\" in text else []
                    if blocked is None:
                        blocked = [b.span() for x in excludes for b in x.finditer(text)]
                    if overlaps(s, e, maths) or overlaps(s, e, blocked):
                        continue
                    candidates.append((s, -(e - s), order, name))
        candidates.sort()
        out: list[Span] = []
        last_end = -1
        for s, neg_len, _order, name in candidates:
            if s >= last_end:
                out.append(Span(s, s - neg_len, name))
                last_end = s - neg_len
        return out
