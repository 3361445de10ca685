"""Citing a paper: its page's URL, BibTeX, COinS, and math as readable text (no HTML here).

Every value that leaves this module is plain text for an autoescaping template (COinS is a
percent-encoded query string) or BibTeX whose every field went through `bibtex_text`, the one
function that escapes text for TeX: braces, backslashes and the other TeX specials of titles and
names become escaped characters, so a hostile title can neither close its field nor run a command.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from ..core.models import Paper
from ..enrich.tagging import math_ranges

logger = logging.getLogger(__name__)

# A version-less arXiv id: 2411.17700, or the old style hep-th/9901001 (math.GT/0309136).
ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}")
# A preprint server's DOI (bioRxiv, medRxiv: 10.1101/2020.01.01.123456, 10.1101/19004184): a
# registrant, then dot-separated segments of letters, digits, '-' and '_' (never '..' or a leading
# dot, so it is safe as a path under papers/ and, with '/' made '-', as a BibTeX key).
PREPRINT_DOI = re.compile(r"10\.\d{4,9}/[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*")
COINS_MAX_AUTHORS = 20  # a long author list gives its first 20 in COinS (the .bib and the page: all)
# who publishes each preprint server (their own BibTeX exports name Cold Spring Harbor Laboratory)
SERVER_PUBLISHERS = {"biorxiv": "Cold Spring Harbor Laboratory",
                     "medrxiv": "Cold Spring Harbor Laboratory"}


def is_arxiv_id(pid: str) -> bool:
    """True when pid is a well-formed version-less arXiv id (safe as a path and a BibTeX key)."""
    return ARXIV_ID.fullmatch(pid) is not None


def is_page_id(pid: str) -> bool:
    """True when pid can name a paper's page: an arXiv id or a well-formed preprint DOI."""
    return is_arxiv_id(pid) or PREPRINT_DOI.fullmatch(pid) is not None


@lru_cache(maxsize=1)
def _latex2text() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="text", strict_latex_spaces=False)


@lru_cache(maxsize=4096)
def _formula_text(tex: str) -> str:
    try:
        text = str(_latex2text().latex_to_text(tex))
    except Exception as e:  # pylatexenc raises assorted errors on broken TeX: keep it as written
        logger.debug("math kept as written (%s): %.80r", e, tex)
        return tex
    return " ".join(text.split()) or tex


def math_as_text(text: str) -> str:
    """Text with each $...$, $$...$$, \\(...\\), \\[...\\] turned into readable characters
    ('$\\times$' -> the multiplication sign, '$O(n \\log n)$' -> 'O(n log n)'); the rest is kept as written."""
    out, pos = [], 0
    for start, end in math_ranges(text):
        out.append(text[pos:start])
        out.append(_formula_text(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


# -- BibTeX ---------------------------------------------------------------------------------------

_TEX_SPECIAL = {
    # BibTeX counts every brace, escaped or not: \{ would unbalance the value, these do not
    "\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "$": r"\$", "%": r"\%", "&": r"\&",
    "#": r"\#", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
    "@": "{@}",  # harmless in a braced value; braced so that no tool reads an entry start
}
_TEX_RE = re.compile("|".join(re.escape(c) for c in _TEX_SPECIAL))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def bibtex_text(text: str) -> str:
    """Plain text as the inside of a braced BibTeX value: math as readable text, TeX specials
    escaped, whitespace (newlines included) collapsed. The only way text enters a .bib."""
    flat = " ".join(_CONTROL.sub(" ", math_as_text(text)).split())
    return _TEX_RE.sub(lambda m: _TEX_SPECIAL[m.group(0)], flat)


def _author(name: str) -> str:
    text = bibtex_text(name)
    # a comma or a word "and" would split one name into two, or into last/first: keep it whole
    if "," in text or re.search(r"(?i)\band\b", text):
        return "{" + text + "}"
    return text


def bibtex_key(paper: Paper) -> str:
    """'arXiv:2411.17700', 'bioRxiv:10.1101-2020.01.01.123456': the source, then the id with any
    character a key cannot hold ('/' of old-style ids and DOIs) as '-'."""
    prefix = "arXiv" if paper.source == "arxiv" else paper.source_label
    return prefix + ":" + re.sub(r"[^A-Za-z0-9.\-]", "-", paper.id)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def bibtex_url(url: str) -> str:
    """A URL as a BibTeX value: anything but letters, digits and :/.-_~ percent-encoded."""
    return quote(url, safe=":/.-_~")


def bibtex_entry(paper: Paper, announced: dt.date) -> str:
    """One @misc entry, every field escaped: arXiv's own form (eprint, archivePrefix, primaryClass)
    for an arXiv paper; for a bioRxiv/medRxiv preprint its DOI, the server as `howpublished`, its
    publisher, the version in `note` and the journal DOI (once published) there too."""
    fields = [
        ("title", "{" + bibtex_text(paper.title) + "}"),  # double braces keep the capitals
        ("author", " and ".join(_author(a) for a in paper.authors) or "{unknown}"),
        ("year", str(announced.year)),
        ("month", _MONTHS[announced.month - 1]),
    ]
    if paper.source == "arxiv":
        fields += [
            ("eprint", bibtex_text(paper.versioned_id)),
            ("archivePrefix", "arXiv"),
            ("primaryClass", bibtex_text(paper.primary_category or "")),
            ("url", bibtex_url(paper.abs_url)),
        ]
        if paper.doi:
            fields.append(("doi", bibtex_text(paper.doi)))
    else:  # the id is the preprint's DOI; paper.doi is the journal's, once published
        note = f"Preprint, version {paper.version}"
        if paper.doi:
            note += f"; published as doi:{paper.doi}"
        fields += [
            ("howpublished", bibtex_text(paper.source_label)),
            ("publisher", bibtex_text(SERVER_PUBLISHERS.get(paper.source, paper.source_label))),
            ("doi", bibtex_text(paper.id)),
            ("url", bibtex_url(paper.abs_url)),
            ("note", bibtex_text(note)),
        ]
    body = ",\n".join(
        f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}"
        for name, value in fields)
    return f"@misc{{{bibtex_key(paper)},\n{body}\n}}\n"


def bibtex_file(entries: Iterable[str], what: str) -> str:
    """A .bib file: a comment line saying what it holds, then the entries (each id once)."""
    seen: set[str] = set()
    out = [f"% {bibtex_text(what)}\n"]
    for e in entries:
        key = e.split(",", 1)[0]
        if key not in seen:
            seen.add(key)
            out.append("\n" + e)
    return "".join(out)


# -- COinS ----------------------------------------------------------------------------------------


def coins(paper: Paper, announced: dt.date) -> str:
    """The OpenURL ContextObject of a span.Z3988 (Zotero saves every paper of a page from these).

    Lean, as a day of 300 papers carries 300 of them: title, date, the abs URL, the first authors;
    for a bioRxiv/medRxiv preprint also its DOI (`info:doi/`, which Zotero keeps as the DOI) and the
    server's name."""
    pairs: list[tuple[str, str]] = [
        ("ctx_ver", "Z39.88-2004"),
        ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
        ("rft.genre", "preprint"),
        ("rft.atitle", " ".join(paper.title.split())),
        ("rft.date", announced.isoformat()),
        ("rft_id", paper.abs_url),  # Zotero keeps an http(s) rft_id as the item's URL
    ]
    if paper.source != "arxiv":
        pairs += [("rft_id", f"info:doi/{paper.id}"), ("rft.jtitle", paper.source_label)]
    pairs += [("rft.au", " ".join(a.split())) for a in paper.authors[:COINS_MAX_AUTHORS]]
    return urlencode(pairs, quote_via=quote, safe=":/")


# -- where a paper's page and the .bib files live -------------------------------------------------


@dataclass(frozen=True)
class CiteLinks:
    """URLs of paper pages and .bib files, absolute when SITEURL is (else from the site root)."""

    siteurl: str = ""
    paper_url: str = ""  # e.g. "papers/{id}/"; "" when paper pages are off
    day_bib: str = ""  # e.g. "bib/{date}.bib"; "" when off

    def _join(self, path: str) -> str:
        return f"{self.siteurl.rstrip('/')}/{path}"

    def paper(self, pid: str) -> str:
        """The paper's page, or "" when it has none (pages off, or an id that names no page)."""
        if not self.paper_url or not is_page_id(pid):
            return ""
        return self._join(self.paper_url.format(id=pid))

    def day_bib_url(self, date: dt.date) -> str:
        """The day's .bib file, or "" when off."""
        return self._join(self.day_bib.format(date=date.isoformat())) if self.day_bib else ""


def paper_save_as(pattern: str, pid: str) -> str:
    """Where a paper's page is written (pattern with {id}), or "" for an id that names no page
    (neither an arXiv id nor a preprint DOI: it could not be a safe path)."""
    return pattern.format(id=pid) if is_page_id(pid) else ""


def authors_line(authors: Sequence[str]) -> str:
    """'A, B and C'."""
    names = list(authors)
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + (names[-1] if names else "")


FILTERS = {"coins": coins, "bibtex": bibtex_entry, "math_text": math_as_text}
