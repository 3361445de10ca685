"""Is a model's sentence grounded in its sources? Numbers, names, venues and prompt copies checked.

A model's prose (a summary's tldr and method, each sentence of a briefing) is published only if
everything checkable in it comes from the text it was given:

- every number (years included) appears in the sources;
- every capitalised word that does not start a sentence (names, institutions, "Berkeley"), and every
  acronym or mixed-case token ("ICML", "NeurIPS", "DeepMind") appears in the sources or in the
  prompt's own vocabulary;
- every venue (a known conference acronym, or "Conference/Workshop/Symposium on ...",
  "Journal/Transactions of ...") appears in the sources;
- it does not copy the prompt: no placeholder such as `<the paragraph>`, and no run of
  COPY_WORDS words taken from the instructions (that the sources do not contain too).

The checks are deliberately simple and conservative: a sentence they refuse falls back to the
extractive text, which is always grounded. They never judge whether a claim is *true*, only whether
its checkable parts come from the sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

COPY_WORDS = 6  # words in a row copied from the instructions that make a reply a prompt copy
_ARXIV_ID = re.compile(r"\b(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_PLACEHOLDER = re.compile(r"</?[A-Za-z][A-Za-z _-]{0,40}>|\$\{?[a-z_]+\}?\b"
                          r"|\[(?:insert|your|the)\b[^\]]*\]", re.I)
_WORD = re.compile(r"[A-Za-z][\w'\u2019-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)\s*[\"'(\[]*$")
VENUES = (
    "AAAI", "ACL", "AISTATS", "ASPLOS", "COLING", "COLT", "CVPR", "DAC", "EACL", "ECCV", "EMNLP",
    "HPCA", "ICASSP", "ICCV", "ICLR", "ICML", "IJCAI", "ISCA", "JMLR", "KDD", "MICRO", "MLSys",
    "NAACL", "NeurIPS", "NIPS", "NSDI", "OSDI", "SIGIR", "SOSP", "TMLR", "UAI", "WACV",
)
_VENUE = re.compile(
    r"\b(?:" + "|".join(VENUES) + r")\b"
    r"|\b(?:[A-Z][a-z]+\s+)*(?:Conference|Workshop|Symposium)\s+(?:on|of)\s+[A-Z][\w-]*"
    r"(?:\s+(?:[A-Z][\w-]*|and|of|on|for))*"
    r"|\b(?:Journal|Transactions|Proceedings)\s+(?:on|of)\s+[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*")
_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Finding:
    """Why a text is not grounded: the failure kind and what was found."""

    kind: str  # "ungrounded" (number, name, venue) or "prompt_copy"
    what: str  # e.g. "venue 'ICML'"


def squash(text: str) -> str:
    """Lower case, letters and digits only: what two spellings of a name share."""
    return _ALNUM.sub("", text.lower())


def numbers(text: str) -> set[str]:
    """The numbers a text states (arXiv ids removed; '1,000' and '1000' are the same)."""
    text = _ARXIV_ID.sub(" ", text)
    return {m.group(0).replace(",", "").rstrip(".") for m in _NUMBER.finditer(text)}


def _words(text: str) -> set[str]:
    return {m.group(0).lower().strip("'\u2019-") for m in _WORD.finditer(text)}


def _shingles(text: str, n: int) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _names(text: str) -> list[str]:
    """Capitalised words not starting a sentence, and acronyms or mixed-case words anywhere."""
    out = []
    for m in _WORD.finditer(_ARXIV_ID.sub(" ", text)):
        word = m.group(0).rstrip("'\u2019-")
        inner_caps = any(c.isupper() for c in word[1:])
        if not word[0].isupper():
            continue
        if inner_caps or not _SENTENCE_START.search(text[:m.start()]):
            out.append(word)
    return out


class Grounding:
    """Checks texts against their sources and the prompt they answered."""

    def __init__(self, instructions: str, vocabulary: Iterable[str] = ()) -> None:
        self.instructions = instructions
        self.copy_shingles = _shingles(instructions, COPY_WORDS)
        self.allowed_words = _words(instructions) | {w.lower() for v in vocabulary
                                                     for w in _WORD.findall(v)}
        self.allowed_flat = squash(instructions + " " + " ".join(vocabulary))

    def check(self, text: str, sources: str, extra_numbers: Iterable[str] = ()) -> Finding | None:
        """The first reason text is not grounded in sources, or None."""
        copied = self.copied(text, sources)
        if copied:
            return copied
        have = numbers(sources) | set(extra_numbers)
        for num in sorted(numbers(text)):
            if num not in have:
                return Finding("ungrounded", f"number {num!r}")
        flat = squash(sources)
        for m in _VENUE.finditer(text):
            if squash(m.group(0)) not in flat:
                return Finding("ungrounded", f"venue {m.group(0)!r}")
        source_words = _words(sources)
        for name in _names(text):
            low = name.lower()
            if low in source_words or low in self.allowed_words:
                continue
            if squash(name) and (squash(name) in flat or squash(name) in self.allowed_flat):
                continue
            return Finding("ungrounded", f"name {name!r}")
        return None

    def copied(self, text: str, sources: str) -> Finding | None:
        """A placeholder or a run of instruction words the sources do not explain."""
        for m in _PLACEHOLDER.finditer(text):
            if m.group(0) not in sources:
                return Finding("prompt_copy", f"placeholder {m.group(0)!r}")
        shared = _shingles(text, COPY_WORDS) & self.copy_shingles
        if shared - _shingles(sources, COPY_WORDS):
            return Finding("prompt_copy", f"copies the instructions ({' '.join(min(shared))!r})")
        return None
