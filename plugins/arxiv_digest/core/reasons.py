"""Topic reasons in the interface's language: the `topic_why` filter of the templates.

The topic decision writes its evidence as English reason strings (enrich.topics; a model's
verdict, enrich.decision.with_verdict), the day files store them so, and tagging.why joins them
into the one line a topic chip shows: "about: title; 3 occurrences". An edition in another
language shows that line in its catalog's words: every reason shape is a msgid with placeholders
(below), and `translate_why` reads the line back into those shapes. What is data stays as it is
(the template escapes it): matched words, not_about labels and topic names (digest.yaml), a
model's name and its words. A reason of no known shape is kept as it is. English (no catalog)
gets the line unchanged, byte for byte. tests/test_i18n.py decides the real 1,504-item feed and
checks that every reason the decider writes has a shape here, so a new reason shape is caught.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable

from .i18n import N_

# The line (tagging.why) and the join of its reasons.
ABOUT_LINE = N_("about: %(reasons)s")
MENTIONS_LINE = N_("only mentions: %(reasons)s")
NO_REASONS = N_("matched words")
SEPARATOR = N_("; ")
# Reasons without a number (enrich.topics).
TITLE = N_("title")
CONTRIBUTION = N_("contribution sentence")
NO_MODEL_CONTEXT = N_("no model context")
EXCLUDED = N_("excluded: %(label)s")
NOT_FRAMED = N_("%(word)s not framed as %(topic)s")
NO_CONTEXT = N_("no %(topic)s context around %(word)s")
TIMES = N_("%(reason)s x%(num)s")  # an exclusion seen several times
# A model's verdict (enrich.decision.with_verdict), with or without its words.
MODEL = {
    ("about", False): N_("model (%(model)s): about"),
    ("not about", False): N_("model (%(model)s): not about"),
    ("about", True): N_("model (%(model)s): about, %(why)s"),
    ("not about", True): N_("model (%(model)s): not about, %(why)s"),
}

_LINE = re.compile(r"(about|only mentions): (.*)", re.DOTALL)
_COUNTED = re.compile(r"(?P<reason>.+?) x(?P<num>\d+)", re.DOTALL)
_EXCLUDED = re.compile(r"excluded: (?P<label>.+)", re.DOTALL)
_NOT_FRAMED = re.compile(r"(?P<word>.+) not framed as (?P<topic>.+)", re.DOTALL)
_NO_CONTEXT = re.compile(r"no (?P<topic>.+) context around (?P<word>.+)", re.DOTALL)
_OCCURRENCES = re.compile(r"(?P<num>\d+) occurrences?")
_FIRST = re.compile(r"first sentence, (?P<num>\d+) occurrences?")
_RELATED = re.compile(r"about (?P<topics>.+), (?P<num>\d+) occurrences?", re.DOTALL)
_ELSEWHERE = re.compile(r"(?P<num>\d+) occurrences?, not in the title or contribution sentence")
_MODEL = re.compile(r"model \((?P<model>.*?)\): (?P<verdict>about|not about)(?:, (?P<why>.*))?",
                    re.DOTALL)
_PLAIN = {"title": TITLE, "contribution sentence": CONTRIBUTION, "no model context": NO_MODEL_CONTEXT}

Tr = gettext.NullTranslations


def _note(tr: Tr, text: str) -> str | None:
    """An exclusion (once or "x N" times) in the catalog's words, or None for another shape."""
    m = _EXCLUDED.fullmatch(text)
    if m:
        label = m["label"]
        framed = _NOT_FRAMED.fullmatch(label)
        if framed:
            label = tr.gettext(NOT_FRAMED) % {"word": framed["word"], "topic": framed["topic"]}
        return tr.gettext(EXCLUDED) % {"label": label}
    m = _NO_CONTEXT.fullmatch(text)
    if m:
        return tr.gettext(NO_CONTEXT) % {"topic": m["topic"], "word": m["word"]}
    return None


def _counted(tr: Tr, m: re.Match[str]) -> str:
    return tr.ngettext("%(num)s occurrence", "%(num)s occurrences", int(m["num"])) % {
        "num": int(m["num"])}


def _first(tr: Tr, m: re.Match[str]) -> str:
    n = int(m["num"])
    return tr.ngettext("first sentence, %(num)s occurrence", "first sentence, %(num)s occurrences",
                       n) % {"num": n}


def _related(tr: Tr, m: re.Match[str]) -> str:
    n = int(m["num"])
    return tr.ngettext("about %(topics)s, %(num)s occurrence", "about %(topics)s, %(num)s occurrences",
                       n) % {"topics": m["topics"], "num": n}


def _elsewhere(tr: Tr, m: re.Match[str]) -> str:
    n = int(m["num"])
    return tr.ngettext("%(num)s occurrence, not in the title or contribution sentence",
                       "%(num)s occurrences, not in the title or contribution sentence",
                       n) % {"num": n}


def _model(tr: Tr, m: re.Match[str]) -> str:
    msgid = MODEL[(m["verdict"], m["why"] is not None)]
    return tr.gettext(msgid) % {"model": m["model"], "why": m["why"] or ""}


_SHAPES: tuple[tuple[re.Pattern[str], Callable[[Tr, re.Match[str]], str]], ...] = (
    (_OCCURRENCES, _counted), (_FIRST, _first), (_ELSEWHERE, _elsewhere), (_RELATED, _related),
    (_MODEL, _model),
)


def translate_reason(tr: Tr, reason: str) -> str | None:
    """One reason in the catalog's words, or None when it has no known shape."""
    if reason in _PLAIN:
        return tr.gettext(_PLAIN[reason])
    for pattern, say in _SHAPES:
        m = pattern.fullmatch(reason)
        if m:
            return say(tr, m)
    m = _COUNTED.fullmatch(reason)  # an exclusion seen several times: "excluded: sparse views x2"
    if m:
        note = _note(tr, m["reason"])
        if note is not None:
            return tr.gettext(TIMES) % {"reason": note, "num": int(m["num"])}
    return _note(tr, reason)


def _reasons(text: str) -> list[str]:
    """The line's reasons: split at "; ", a piece of no known shape joined back to the one
    before it (a model's words or a label from digest.yaml may hold "; " themselves)."""
    out: list[str] = []
    for piece in text.split("; "):
        if out and translate_reason(gettext.NullTranslations(), piece) is None:
            out[-1] += "; " + piece
        else:
            out.append(piece)
    return out


def translate_why(tr: Tr, line: object) -> str:
    """A topic chip's why line (tagging.why) in the catalog's words; unchanged without a catalog."""
    text = "" if line is None else str(line)
    if type(tr) is gettext.NullTranslations or not text:
        return text
    m = _LINE.fullmatch(text)
    if m is None:
        return translate_reason(tr, text) or text
    said, rest = m.groups()
    if rest == NO_REASONS:
        reasons = tr.gettext(NO_REASONS)
    else:
        reasons = tr.gettext(SEPARATOR).join(
            translate_reason(tr, r) or r for r in _reasons(rest))
    msgid = ABOUT_LINE if said == "about" else MENTIONS_LINE
    return tr.gettext(msgid) % {"reasons": reasons}
