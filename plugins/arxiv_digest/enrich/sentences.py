"""The one sentence splitter for abstracts: topic decisions, claims and extractive summaries.

A sentence ends at . ! or ? (and any closing quote or bracket right after it) followed by white
space and a capital, a digit, an opening quote or bracket, "$" or "\\" (TeX). It does not end
after an abbreviation ("e.g.", "et al.", "Fig.", "vs.", "Dr.") or inside a number ("2.5x", "3.1%":
no space follows the point). Abstracts also run two sentences together with no space at all
("... is not understood.To fill this gap, ..."): a point after three lower-case letters followed
by a capitalised word ends a sentence too. Spans are offsets into the text as given (claims keep
their exact spans); `sentences` gives the same sentences with their white space collapsed.
"""

from __future__ import annotations

import re

# (?<![\w.]) so "Tables." or "prefig." are not abbreviations; the list is matched case-blind,
# except the titles and "No." (number), which only count capitalised ("5 ms." ends a sentence).
_ABBREV = re.compile(
    r"(?:(?<![\w.])(?i:e\.g|i\.e|et al|al|etc|vs|figs?|eqs?|cf|resp|approx|w\.r\.t|viz|"
    r"secs?|refs?|ca)|(?<![\w.])(?:Dr|Mr|Ms|Mrs|Prof|No|Nos))\.$")
_END = re.compile(
    r"[.!?](?:[\"')\]]?(?=\s+[\"'(\[]?[A-Z0-9$\\])"  # . then space and a capital, digit, $ or \
    r"|(?<=[a-z]{3}[.!?])(?=[A-Z][a-z]+\s))")  # "understood.To fill": no space at all
_LOOKBACK = 12  # characters before a point that can hold an abbreviation ("w.r.t." is 6)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence of the text, without the white space between them."""
    out: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    while start < n and text[start].isspace():
        start += 1
    for m in _END.finditer(text):
        point = m.start() + 1  # just after . ! ?
        if _ABBREV.search(text, max(start, point - _LOOKBACK), point):
            continue
        out.append((start, m.end()))
        start = m.end()
        while start < n and text[start].isspace():
            start += 1
    end = n
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        out.append((start, end))
    return out


def sentences(text: str) -> list[str]:
    """The sentences of the text, each with its white space collapsed to single spaces."""
    return [" ".join(text[s:e].split()) for s, e in sentence_spans(text)]
