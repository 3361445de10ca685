"""A stored day as Markdown in the classic daily-digest shape, for mirrors on GitHub.

    # 2024-11-28
    - [Title](#title)          table of contents; anchors follow GitHub's heading ids
    ## Title
    >Authors: A, B

    >2024-11-28

    > https://arxiv.org/abs/2411.00001v1

    Abstract with **keyword** in bold.

Titles, names and abstracts are third-party text: Markdown's special characters are escaped
outside math, math ($...$, \\(...\\)) is kept as written except that < and > become \\lt and \\gt
(so no HTML tag can start inside a formula), and keywords are bolded only where
tagging.Tagger.spans found whole words outside math.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from ..core.models import Digest, Paper
from ..core.settings import DigestSettings
from ..enrich.tagging import Span, Tagger, listing, math_ranges

# Escaped everywhere outside math: they start emphasis, code, links, HTML, tables, strikethrough,
# or close an ATX heading.
_ALWAYS = set("\\`*[]<>|~#")
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_ANGLE = re.compile(r"[<>]")
_BLOCK_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")


# Symbols that Unicode counts as alphabetic (circled and squared Latin letters): GitHub keeps them.
_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))


def _kept(ch: str) -> bool:
    if ch in "- ":
        return True
    cat = unicodedata.category(ch)
    if cat[0] in "LM" or cat in ("Nd", "Nl", "Pc"):
        return True
    return any(lo <= ord(ch) <= hi for lo, hi in _ALPHABETIC_SYMBOLS)


def github_slug(text: str) -> str:
    """GitHub's heading id for a heading whose rendered text is `text` (before de-duplication).

    Lower-case; drop every character that is not a letter, mark, decimal or letter number,
    connector punctuation, hyphen or space (symbols, other punctuation, other spaces, emoji);
    then each space becomes a hyphen. Mirrors github-slugger, whose fixtures come from GitHub.
    """
    return "".join(ch for ch in text.lower() if _kept(ch)).replace(" ", "-")


class Slugger:
    """Unique heading ids in document order, de-duplicated the way GitHub does (-1, -2, ...)."""

    def __init__(self) -> None:
        self.occurrences: dict[str, int] = {}

    def slug(self, text: str) -> str:
        """The id of the next heading with this rendered text."""
        result = base = github_slug(text)
        while result in self.occurrences:
            self.occurrences[base] += 1
            result = f"{base}-{self.occurrences[base]}"
        self.occurrences[result] = 0
        return result


def _escape_plain(text: str) -> str:
    """Escape Markdown in text that holds no math."""
    out = []
    for i, ch in enumerate(text):
        if ch in _ALWAYS:
            out.append("\\" + ch)
        elif ch == "_":
            # intraword underscores never emphasise in GFM; escape the others
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            out.append("_" if before.isalnum() and after.isalnum() else "\\_")
        elif ch == "&" and _ENTITY.match(text, i):
            out.append("\\&")
        else:
            out.append(ch)
    return "".join(out)


def _math(tex: str) -> str:
    """Math kept for GitHub to render, with < and > as TeX's \\lt and \\gt: never raw HTML."""
    return _ANGLE.sub(lambda m: "\\lt " if m.group() == "<" else "\\gt ", tex)


def inline(text: str, spans: Iterable[Span] = ()) -> str:
    """Escape text for inline Markdown, keep math verbatim, and bold each keyword span."""
    maths = math_ranges(text)
    bold = sorted((s.start, s.end) for s in spans)
    marks: list[tuple[int, int, str]] = [(s, e, "math") for s, e in maths]
    marks += [(s, e, "bold") for s, e in bold if not any(ms < e and s < me for ms, me in maths)]
    marks.sort()
    out: list[str] = []
    pos = 0
    for start, end, kind in marks:
        if start < pos:  # overlapping marks: the first one wins
            continue
        out.append(_escape_plain(text[pos:start]))
        piece = text[start:end]
        out.append(_math(piece) if kind == "math" else f"**{_escape_plain(piece)}**")
        pos = end
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def paragraph(text: str, spans: Iterable[Span] = ()) -> str:
    """One paragraph of inline Markdown that cannot turn into a list, quote or heading."""
    md = " ".join(inline(text, spans).split())
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), md, count=1)


def selected(digest: Digest, settings: DigestSettings, tagger: Tagger, include_all: bool) -> list[Paper]:
    """The papers the day page lists: tagged ones (or all), new before replacements."""
    keep = [p for p in digest.papers if include_all or listing(p, settings, tagger).listed]
    fresh = [p for p in keep if not p.is_replacement]
    updated = [p for p in keep if p.is_replacement]
    return fresh + ([] if settings.replacements == "hide" else updated)


def export_day(digest: Digest, settings: DigestSettings, *, include_all: bool = False) -> str:
    """The day as one Markdown document."""
    tagger = Tagger(settings.topics)
    papers = selected(digest, settings, tagger, include_all)
    slugger = Slugger()
    slugger.slug(digest.date)  # the h1 takes its id first
    lines = [f"# {digest.date}", ""]
    cats = ", ".join(digest.categories)
    what = "papers" if include_all or settings.list_all else "papers on the digest's topics"
    lines.append(
        f"{len(papers)} {what} of {digest.announced_total or len(digest.papers)} announced "
        f"in {cats}."
    )
    lines.append("")
    if not papers:
        return "\n".join(lines)
    anchors = [slugger.slug(p.title.strip()) for p in papers]
    for paper, anchor in zip(papers, anchors, strict=True):
        lines.append(f"- [{inline(paper.title)}](#{anchor})")
    lines.append("")
    for paper in papers:
        lines.append(f"## {inline(paper.title)}")
        lines.append(f">Authors: {inline(', '.join(paper.authors))}")
        lines.append("")
        lines.append(f">{digest.date}")
        lines.append("")
        lines.append(f"> {paper.abs_url}")
        lines.append("")
        for para in re.split(r"\n\s*\n", paper.abstract.strip()):
            if para.strip():
                lines.append(paragraph(para, tagger.spans(para)))
                lines.append("")
    return "\n".join(lines)
