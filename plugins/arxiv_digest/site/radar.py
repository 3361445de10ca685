"""The radar's index: per day, what the browser needs to rank every stored paper against a profile.

The reader's profile (keywords, authors, arXiv ids, an uploaded library) never leaves the browser;
theme/static/js/radar.js ranks the papers against it. For that the build writes, per announcement
day, under radar/ (RADAR_DIR):

  YYYY-MM-DD.idx.json    what ranking needs, fetched alike for every reader who ranks the day:
                         each paper's TOP_TERMS best terms of its title and abstract (BM25 weight
                         in the day, a title word counting TITLE_WEIGHT times, idf floored at
                         DF_FLOOR papers; terms that MIN_DF papers of the day share come first: a
                         word only one paper uses costs as many bytes and rarely meets a profile)
                         as HASH_BITS-bit FNV-1a hashes (no vocabulary is shipped), and which
                         papers link code, a model, a data set or a demo; all in one bit stream
                         ("p", pack_day: Rice-coded hash sets, each hash's papers picked among
                         those still owed a hash), base64url. No ids: ranking needs only (day,
                         paper number)
  YYYY-MM-DD.ids.json    the papers' ids (pack_ids: exp-Golomb gaps of the arXiv ids; the others
                         as strings, "xids"), fetched only when the profile likes papers (typed
                         arXiv ids, or a library citing arXiv papers)
  YYYY-MM-DD.au.json     the papers' authors as match keys (author_key: "s han"), fetched only
                         when the profile follows authors
  YYYY-MM-DD.mK.json     what showing a result needs, CHUNK papers a file (ids, versions, titles,
                         authors, announce types, which ones the day page lists): radar.js fetches
                         only the files of the results it shows, and shows a paper listed on
                         several days once (by the ids there, or in the id files if fetched)

Each file carries the day's numbering key (numbering_key: a hash of the ids in order), so radar.js
never pairs files of two builds of a day.
and radar/days.json: the days (newest first) with their files and page URL, and the tokenizer's
parameters (stop words, hash bits), so the browser tokenizes the profile exactly as the build did.
A day's papers are numbered in id order (arXiv ids by number, then the others), in both files.

Every stored paper of a day is indexed, not only the listed ones: a reader's niche is narrower
than the topics and often outside them. bench/bench_radar.py measures the trade-off between terms
kept a paper, ranking quality and the bytes a session downloads.

Each day's files are a pure function of the day file, the ids its page lists and this module
(no clock, no other day), so a rebuild is byte-identical and a day is cached on those (DayFiles):
on the part of the day file build_day reads (input_key), so a day whose papers only gained
related or version links (enrich/backlinks.py rewrites earlier days daily) is not computed again,
nor parsed: its key is taken from json.loads's plain dicts (raw_input_key) where the day has an
entry, and store.parse (which validates and names a broken file) runs only when that key has none.
The term statistics over the archive are document frequencies: the browser counts them over the
days it ranks (idf over the period).

In a build, the days missing from the cache are computed early (EarlyFill): forked processes start
once the articles are read, while the other generators write their pages with the build's one
process, and the radar's output step then finds them in the cache.
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import heapq
import itertools
import json
import logging
import math
import operator
import os
import re
import shutil
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pelican.generators import Generator

from ..core import relinks
from ..core.errors import StoreError
from ..core.filekeys import FileKeys, file_key
from ..core.models import Digest, Paper
from ..core.store import iter_days, json_or_none, parse, write_if_changed
from ..enrich.links import ARTEFACT_KINDS, badges
from .daycache import prefill, workers
from .render import digest_settings

logger = logging.getLogger(__name__)

FORMAT = 4
RADAR_DIR = "radar"
HASH_BITS = 17  # fewer: smaller, more collisions (bench/bench_radar.py --bits: 17 ranks as 22 does, 16 loses a bit)
TOP_TERMS = 4  # terms kept per paper, title and abstract together (bench/bench_radar.py: size and quality)
MIN_DF = 2  # a term is kept only if this many papers of the day use it, while the paper has enough such terms
DF_FLOOR = 3  # selection treats a term used by fewer papers of the day as if this many used it
TITLE_WEIGHT = 2  # a title word counts as this many abstract words
K1, B = 1.2, 0.75  # BM25
CHUNK = 32  # papers a display file (radar.js fetches the files of the results it shows; radar.html says 32)

# English function words and the boilerplate of abstracts: they say nothing about a topic.
STOPWORDS: tuple[str, ...] = (
    "a", "about", "above", "achieve", "achieved", "achieves", "across", "after", "again", "against",
    "all", "almost", "along", "also", "although", "always", "am", "among", "an", "and", "another",
    "any", "approach", "approaches", "are", "around", "art", "as", "at", "available", "based", "be",
    "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "cannot",
    "code", "com", "could", "demonstrate", "demonstrates", "did", "different", "do", "does",
    "doing", "done", "down", "during", "each", "effective", "effectively", "either", "else",
    "enough", "even", "ever", "every", "existing", "experiment", "experimental", "experiments",
    "few", "first", "for", "from", "further", "furthermore", "github", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "however", "http", "https", "i",
    "if", "in", "into", "introduce", "introduces", "is", "it", "its", "itself", "just", "less",
    "like", "made", "make", "makes", "many", "may", "me", "method", "methods", "might", "more",
    "moreover", "most", "much", "must", "my", "neither", "new", "no", "nor", "not", "novel", "now",
    "of", "off", "often", "on", "once", "one", "only", "onto", "or", "org", "other", "others",
    "our", "ours", "out", "outperform", "outperforms", "over", "own", "paper", "per", "performance",
    "present", "presents", "problem", "problems", "propose", "proposed", "proposes", "rather",
    "recent", "recently", "result", "results", "same", "second", "several", "she", "should", "show",
    "shown", "shows", "significant", "significantly", "since", "so", "some", "state", "studies",
    "study", "such", "task", "tasks", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "though", "three", "through",
    "thus", "to", "too", "toward", "towards", "two", "under", "until", "up", "upon", "us", "use",
    "used", "uses", "using", "various", "very", "via", "was", "we", "well", "were", "what", "when",
    "where", "whether", "which", "while", "who", "whom", "whose", "why", "will", "with", "within",
    "without", "work", "works", "would", "www", "yet", "you", "your",
)

_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_WORD = re.compile(r"[a-z0-9]+")
_ARXIV_ID = re.compile(r"(\d{4})\.(\d{4,5})")
_TEX_BRACES = re.compile(r"[{}\\]")


def _fold(text: str) -> str:
    """Lower case, accents removed (NFKD without combining marks), math dropped."""
    if "$" in text or "\\" in text:  # _MATH needs one or the other (most abstracts have neither)
        text = _MATH.sub(" ", text)
    text = text.lower()
    if text.isascii():  # NFKD leaves ASCII as it is: the common case, without the per-letter walk
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Harman's S-stemmer: plurals to singular (queries -> query, caches -> cache, bias stays)."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


_STOP = frozenset(STOPWORDS)


class _Words(dict[str, str]):
    """Each word as `terms` keeps it ("" if it drops it: a stop word, a bare number, one letter):
    looked up once per distinct word (a day's texts repeat most of theirs)."""

    def __missing__(self, raw: str) -> str:
        word = "" if len(raw) < 2 or raw in _STOP or raw.isdigit() else stem(raw)
        if len(self) < 200_000:  # bounded: a build over many days meets new words every day
            self[raw] = word
        return word


_WORDS = _Words()


# every byte but a-z and 0-9 separates words (a non-ASCII letter too: encoded as "?")
_SEPARATE = bytes(b if 0x61 <= b <= 0x7A or 0x30 <= b <= 0x39 else 0x20 for b in range(256))


def _tokens(folded: str) -> list[str]:
    """_WORD.findall(folded), in C throughout (about 4 times faster on a day's abstracts)."""
    return folded.encode("ascii", "replace").translate(_SEPARATE).decode("ascii").split()


def _words(text: str) -> list[str]:
    """The text's words as `terms` keeps them, "" where it drops one (a pair never spans it)."""
    return list(map(_WORDS.__getitem__, _tokens(_fold(text))))


def _split_terms(text: str) -> tuple[list[str], list[str]]:
    """`terms` of the text as two lists, the words and the pairs of adjacent words (the same
    terms, in another order: what counting needs)."""
    ws = _words(text)
    return list(filter(None, ws)), [f"{a} {b}" for a, b in itertools.pairwise(ws) if a and b]


def terms(text: str, stop: frozenset[str] = _STOP) -> list[str]:
    """The terms of a text: stemmed words (no stop word, no bare number, two letters or more) and
    the pairs of adjacent such words ("kv cache"). radar.js `terms` is the same function."""
    if stop is _STOP:
        ws = _words(text)
    else:
        ws = ["" if len(r) < 2 or r in stop or r.isdigit() else stem(r) for r in _tokens(_fold(text))]
    out: list[str] = []
    prev = ""
    for word in ws:
        if word:
            out.append(word)
            if prev:
                out.append(f"{prev} {word}")
        prev = word
    return out


@functools.lru_cache(maxsize=65536)
def term_hash(term: str, bits: int | None = None) -> int:
    """FNV-1a (32-bit) of the term's UTF-8 bytes, folded to `bits` bits (radar.js `hash`)."""
    h = 0x811C9DC5
    for byte in term.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h >> (32 - (HASH_BITS if bits is None else bits))


@dataclass(frozen=True)
class DayIndex:
    """One day's radar files (JSON text), computed from the day file alone."""

    date: str
    papers: int
    idx: str
    authors: str
    meta: tuple[str, ...]  # the display files, CHUNK papers each
    ids: str = ""  # the ids file


def _paper_terms(title: str, abstract: str) -> tuple[Counter[str], list[str], int]:
    """A paper's term frequencies (a title term counting TITLE_WEIGHT times), its title terms and
    its length (the sum of the frequencies), counted in C (Counter.update)."""
    words, pairs = _split_terms(abstract)
    words += pairs
    tf: Counter[str] = Counter(words)
    t_words, t_pairs = _split_terms(title)
    t_words += t_pairs
    for _ in range(TITLE_WEIGHT):
        tf.update(t_words)
    return tf, t_words, len(words) + TITLE_WEIGHT * len(t_words)


def _paper_tf(title: str, abstract: str) -> tuple[Counter[str], set[str]]:
    """A paper's term frequencies (a title term counting TITLE_WEIGHT times) and its title terms."""
    tf, t_words, _ = _paper_terms(title, abstract)
    return tf, set(t_words)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"  # base64url's digits
_WIDTH = [f"0{w}b" for w in range(65)]  # format()'s spec of a value in w bits (widths above: rejected)


class Bits:
    """A bit stream written most significant bit first, as base64url digits of 6 bits (the last
    one padded with zeros): radar.js `Bits` reads it. Codes: fixed width; Rice with parameter k
    (n >= 0: n >> k in unary as ones ended by a zero, then the k low bits); exponential Golomb
    with parameter k (n >= 0: as Elias gamma codes n + 2^k, less its k leading zeros: an
    outlier costs its logarithm, not its size); truncated binary below a bound."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def fixed(self, value: int, width: int) -> None:
        """`value` in `width` bits."""
        if value < 0 or value >> width:
            raise ValueError(f"bits: {value} does not fit in {width} bits")
        if width:
            self._parts.append(format(value, _WIDTH[width]))

    def rice(self, value: int, k: int) -> None:
        """Rice code with parameter k: value >= 0."""
        self.rices((value,), k)

    def rices(self, values: Iterable[int], k: int) -> None:
        """Rice codes with parameter k of these values (each >= 0), in order."""
        append, low, spec = self._parts.append, (1 << k) - 1, _WIDTH[k]
        for value in values:
            if value < 0:
                raise ValueError(f"bits: rice of {value}")
            append("1" * (value >> k) + "0" + format(value & low, spec) if k else "1" * value + "0")

    def expgolomb(self, value: int, k: int = 0) -> None:
        """Exponential Golomb code with parameter k: value >= 0."""
        if value < 0:
            raise ValueError(f"bits: expgolomb of {value}")
        w = value + (1 << k)
        self._parts.append("0" * (w.bit_length() - 1 - k) + format(w, "b"))

    def below(self, value: int, bound: int) -> None:
        """0 <= value < bound in truncated binary: ceil(log2 bound) bits or one fewer."""
        if not 0 <= value < bound:
            raise ValueError(f"bits: {value} not below {bound}")
        width = (bound - 1).bit_length()
        short = (1 << width) - bound  # this many values take width - 1 bits
        if value < short:
            if width > 1:
                self._parts.append(format(value, _WIDTH[width - 1]))
        elif width:
            self._parts.append(format(value + short, _WIDTH[width]))

    def size(self) -> int:
        """The bits written so far."""
        return sum(map(len, self._parts))

    def text(self) -> str:
        """The stream as base64url digits (base64's, of the bits padded with zeros to whole bytes
        of three: then cut to the digits the bits fill)."""
        bits = "".join(self._parts)
        if not bits:
            return ""
        digits = -(-len(bits) // 6)
        bits += "0" * (-len(bits) % 24)
        return base64.urlsafe_b64encode(int(bits, 2).to_bytes(len(bits) // 8, "big")).decode("ascii")[:digits]


def best_k(values: Sequence[int], rice: bool) -> int:
    """The Rice (or exponential Golomb) parameter that codes these values in the fewest bits (the
    smallest such k below 31). A value costs at least k bits (Rice) or k + 1 (exp-Golomb), so the
    search stops at the first k whose least cost is no better than the best found."""
    if not values:
        return 0
    m, best, found = len(values), -1, 0
    for k in range(31):
        if best >= 0 and m * (k if rice else k + 1) >= best:
            break
        if rice:
            cost = sum(map(operator.rshift, values, itertools.repeat(k, m))) + m * k
        else:
            cost = 2 * sum(map(int.bit_length, map(operator.add, values, itertools.repeat(1 << k, m)))) - m * (1 + k)
        if best < 0 or cost < best:
            best, found = cost, k
    return found


def _list(out: Bits, values: Sequence[int]) -> None:
    """Numbers >= 0: expgolomb(count), the parameter in 5 bits, the numbers (exp-Golomb)."""
    out.expgolomb(len(values))
    k = best_k(values, rice=False)
    out.fixed(k, 5)
    for v in values:
        out.expgolomb(v, k)


def pack_ids(numbers: Sequence[int]) -> str:
    """The day's arXiv ids as numbers (arxiv_number), increasing, as one bit stream (radar.js
    `decodeIds`): how many, exp-Golomb; the first in 30 bits; the gaps less one, a list (`_list`)."""
    out = Bits()
    out.expgolomb(len(numbers))
    if numbers:
        out.fixed(numbers[0], 30)
        _list(out, [b - a - 1 for a, b in itertools.pairwise(numbers)])
    return out.text()


def _rice_list(out: Bits, values: Sequence[int]) -> None:
    """Numbers >= 0 whose count the reader knows: the Rice parameter in 5 bits, the numbers (Rice)."""
    k = best_k(values, rice=True)
    out.fixed(k, 5)
    out.rices(values, k)


def _hash_set(out: Bits, hashes: Sequence[int]) -> None:
    """Increasing hashes: how many, exp-Golomb; then the gaps (the first from -1) less one, a
    `_rice_list`."""
    out.expgolomb(len(hashes))
    _rice_list(out, [b - a - 1 for a, b in itertools.pairwise([-1, *hashes])])


def pack_day(n: int, code: Sequence[int], postings: dict[int, list[int]], top: int = TOP_TERMS,
             bits: int = HASH_BITS, tally: dict[str, int] | None = None) -> str:
    """A day's ranking index as one bit stream (radar.js `decodeDay`); the papers are 0..n-1, each
    with at most `top` hashes (its degree):

      code      the papers with code, increasing: the gaps (the first from -1) less one, a list
      top       exp-Golomb
      short     the papers of fewer than `top` hashes, increasing: their gaps, a list; then each
                one's top - degree - 1, a list of as many (without the count)
      shared    the hashes of two papers or more, a `_hash_set`; then, per hash, its number of
                papers less two, a `_rice_list`
      single    the hashes of one paper, a `_hash_set`
      postings  each shared hash (increasing), then each single one: its papers, picked among the
                papers that still have a hash to receive (the live papers, in order; a paper
                leaves once it received its degree, after the hash), as increasing positions
                there, each in truncated binary below the live count less the previous
                position's successor. The last papers are picked from few: the degrees make the
                postings cheaper than their plain numbers (about 1 bit in 17).

    `tally`, if given, gets the bits each of those fields took (bench/bench_radar.py prints them).
    """
    hashes = sorted(postings)
    if hashes and hashes[-1] >> bits:
        raise ValueError(f"pack_day: a hash of more than {bits} bits")
    degree = [0] * n
    for docs in postings.values():
        if not docs:
            raise ValueError("pack_day: a hash without papers")
        for doc in docs:
            degree[doc] += 1
    if any(d > top for d in degree):
        raise ValueError(f"pack_day: a paper with more than {top} hashes")
    out = Bits()
    mark = [0]

    def done(field: str) -> None:
        if tally is not None:
            size = out.size()
            tally[field] = tally.get(field, 0) + size - mark[0]
            mark[0] = size

    _list(out, [b - a - 1 for a, b in itertools.pairwise([-1, *code])])
    done("code")
    out.expgolomb(top)
    short = [i for i, d in enumerate(degree) if d < top]
    _list(out, [b - a - 1 for a, b in itertools.pairwise([-1, *short])])
    for i in short:
        out.expgolomb(top - degree[i] - 1)
    done("degrees")
    shared = [h for h in hashes if len(postings[h]) > 1]
    single = [h for h in hashes if len(postings[h]) == 1]
    _hash_set(out, shared)
    done("shared hashes")
    _rice_list(out, [len(postings[h]) - 2 for h in shared])
    done("shared counts")
    _hash_set(out, single)
    done("single hashes")
    live = [i for i, d in enumerate(degree) if d]
    left = degree[:]
    for h in (*shared, *single):
        docs = postings[h]
        size, low = len(live), 0
        for doc in docs:
            at = bisect.bisect_left(live, doc)
            out.below(at - low, size - low)
            low = at + 1
        for doc in docs:
            left[doc] -= 1
            if not left[doc]:
                del live[bisect.bisect_left(live, doc)]
    done("postings")
    return out.text()


@functools.lru_cache(maxsize=65536)  # an author's papers (and new versions) come on many days
def author_key(name: str) -> str:
    """What a followed author is matched on: the first initial and the last name, folded
    ("Han, Song", "Song Han", "S. Han" -> "s han"); radar.js `authorKey` is the same function."""
    s = _fold(name)
    if "{" in s or "}" in s or "\\" in s:
        s = _TEX_BRACES.sub("", s)
    if "," in s:
        first, *rest = s.split(",")
        s = " ".join(rest) + " " + first
    words: list[str] = _WORD.findall(s)
    if not words:
        return ""
    return (words[0][0] + " " if len(words) > 1 else "") + words[-1]


def arxiv_number(pid: str) -> int | None:
    """An arXiv id (YYMM.NNNN or YYMM.NNNNN) as one number, if it comes back as written (radar.js
    `arxivId`); any other id (a DOI, an old-style id) stays a string."""
    m = _ARXIV_ID.fullmatch(pid)
    if m is None:
        return None
    yymm, num = int(m.group(1)), int(m.group(2))
    back = f"{yymm:04d}.{num:05d}" if yymm >= 1501 else f"{yymm:04d}.{num:04d}"
    return yymm * 100_000 + num if back == pid else None


def radar_order(papers: Sequence[Paper]) -> list[Paper]:
    """The day's papers in the radar's order: arXiv ids by number, then the other ids as strings."""
    def key(p: Paper) -> tuple[int, int, str]:
        n = arxiv_number(p.id)
        return (0, n, "") if n is not None else (1, 0, p.id)
    return sorted(papers, key=key)


def _idf(c: int, n: int) -> float:
    d = max(c, min(DF_FLOOR, n))
    return math.log(1 + (n - d + 0.5) / (d + 0.5))


def day_idf(df: Counter[str], n: int) -> dict[str, float]:
    """Each term's BM25 idf in the day, capped below DF_FLOOR papers (so that a word only one
    paper uses does not crowd out the words a reader's profile can share); a day of fewer papers
    than DF_FLOOR floors at its size (else every idf would be negative and the worst terms win)."""
    by_df = {c: _idf(c, n) for c in set(df.values())}
    return {t: by_df[c] for t, c in df.items()}


def select_terms(tf: Counter[str], length: int, avg: float, idf: dict[str, float], top: int,
                 df: Counter[str] | None = None, min_df: int = 1) -> list[str]:
    """The paper's `top` terms by BM25 weight in the day (ties: the term's text), those that at
    least `min_df` papers of the day use first; the others only fill what is left (a paper of a
    small day, or one whose words no other paper shares, still gets `top` terms)."""
    norm = K1 * (1 - B + B * length / avg) if avg else K1
    k = K1 + 1
    scored = [(-(f * k / (f + norm)) * idf[t], t) for t, f in tf.items()]
    if df is None or min_df <= 1:
        return [t for _, t in heapq.nsmallest(top, scored)]
    shared = heapq.nsmallest(top, (x for x in scored if df[x[1]] >= min_df))
    if len(shared) < top:
        shared += heapq.nsmallest(top - len(shared), (x for x in scored if df[x[1]] < min_df))
    return [t for _, t in shared]


def _select(tf: Counter[str], norm: float, weight: dict[str, float], df: Counter[str], idf: dict[int, float],
            top: int) -> list[str]:
    """select_terms for build_day: `weight` holds the idf of the day's shared terms (those min_df
    papers use; every term if min_df is 1), the same floats as idf[df[t]]; only those are scored
    unless they do not fill `top`. (sorted(...)[:top] is heapq.nsmallest, faster at this size.)"""
    k = K1 + 1
    get = weight.get
    best = sorted([(-(f * k / (f + norm)) * w, t) for t, f in tf.items() if (w := get(t)) is not None])[:top]
    if len(best) < top:
        best += sorted([(-(f * k / (f + norm)) * idf[df[t]], t) for t, f in tf.items() if t not in weight])[
            :top - len(best)]
    return [t for _, t in best]


class _Tiers:
    """What _select_fast needs of a day (build_day computes it once): the shared terms of the
    highest idf (used by min_df to DF_FLOOR papers of the day: the floor gives them one weight),
    that weight, and the next lower idf of a shared term (None if none)."""

    def __init__(self, df: Counter[str], idf: dict[int, float], n: int, min_df: int) -> None:
        floor = min(DF_FLOOR, n)
        self.best = {t for t, c in df.items() if min_df <= c <= floor}
        self.top_w = _idf(floor, n)
        below = [c for c in idf if c > floor and c >= min_df]
        self.next_w = idf[min(below)] if below else None


def _select_fast(tf: Counter[str], norm: float, df: Counter[str], idf: dict[int, float], tiers: _Tiers,
                 min_df: int, top: int) -> list[str] | None:
    """_select's answer without scoring every term, or None when this shortcut does not apply
    (the caller then runs _select). A term's score depends only on its count f in the paper and
    its idf, rising with both: a term used once (f = 1) scores at best the top weight's score,
    and all those of the top weight tie there, ordered by their text. So the top terms are among
    the terms used more than once (scored as _select does) and the `top` first by text of the
    shared top-weight terms used once; this holds when the paper has `top` such terms and the
    next lower weight scores strictly less at f = 1 (else a tie across weights: _select)."""
    k = K1 + 1
    multi = [(t, f) for t, f in tf.items() if f > 1]
    once = tiers.best.intersection(tf.keys())
    once.difference_update([t for t, _ in multi])
    if len(once) < top:
        return None
    s1 = -(1 * k / (1 + norm)) * tiers.top_w
    if tiers.next_w is not None and -(1 * k / (1 + norm)) * tiers.next_w == s1:
        return None
    best = [(-(f * k / (f + norm)) * idf[c], t) for t, f in multi if (c := df[t]) >= min_df]
    best += [(s1, t) for t in sorted(once)[:top]]
    best.sort()
    return [t for _, t in best[:top]]


def build_day(digest: Digest, listed: Iterable[str] = (), top: int = TOP_TERMS,
              chunk: int = CHUNK, min_df: int = MIN_DF, bits: int = HASH_BITS,
              tally: dict[str, int] | None = None) -> DayIndex:
    """The day's index and display files: a pure function of the day (and the ids the page lists);
    `tally`: pack_day's bits by field, and the ids' ("ids")."""
    papers = radar_order(digest.papers)
    docs = [_paper_terms(p.title, p.abstract) for p in papers]
    n = len(papers)
    df: Counter[str] = Counter()
    for tf, _, _ in docs:
        df.update(tf.keys())
    lengths = [length for _, _, length in docs]
    avg = (sum(lengths) / n) if n else 1.0
    idf = {c: _idf(c, n) for c in set(df.values())}
    tiers = _Tiers(df, idf, n, min_df)
    weight: dict[str, float] | None = None  # for _select, made when first needed
    posts: dict[int, set[int]] = {}  # hash -> papers (two terms of a paper on one hash: one posting)
    for i, (tf, _, _) in enumerate(docs):
        norm = K1 * (1 - B + B * lengths[i] / avg) if avg else K1
        chosen = _select_fast(tf, norm, df, idf, tiers, min_df, top)
        if chosen is None:
            if weight is None:
                weight = {t: idf[c] for t, c in df.items() if c >= min_df}  # min_df <= 1: every term
            chosen = _select(tf, norm, weight, df, idf, top)
        for t in chosen:
            posts.setdefault(term_hash(t, bits), set()).add(i)
    numbers = [x for x in (arxiv_number(p.id) for p in papers) if x is not None]
    code = [i for i, p in enumerate(papers)  # as the day page's 'has code' (render.PaperView.has_code)
            if any(b.kind in ARTEFACT_KINDS for b in badges(p.links))]
    key = numbering_key(p.id for p in papers)
    idx = _dumps({"v": FORMAT, "n": n, "key": key,
                  "p": pack_day(n, code, {h: sorted(d) for h, d in posts.items()}, top, bits, tally)})
    packed_ids = pack_ids(numbers)
    if tally is not None:
        tally["ids"] = 6 * len(packed_ids)
    ids = _dumps({"v": FORMAT, "n": n, "key": key, "p": packed_ids,
                  "xids": [p.id for p in papers[len(numbers):]]})
    authors = _dumps({"v": FORMAT, "date": digest.date, "key": key, "au": [
        "|".join(k for k in (author_key(a) for a in p.authors) if k) for p in papers]})
    listed_set = set(listed)
    meta = tuple(_dumps({
        "v": FORMAT, "date": digest.date, "first": start, "key": key,
        "id": [p.id for p in part],
        "ver": [p.version for p in part],
        "title": [p.title for p in part],
        "au": [list(p.authors) for p in part],
        "type": [p.announce_type for p in part],
        "listed": [i for i, p in enumerate(part) if p.id in listed_set],
    }) for start in range(0, n, chunk) for part in (papers[start:start + chunk],))
    return DayIndex(digest.date, n, idx, authors, meta, ids)


def numbering_key(ids: Iterable[str]) -> str:
    """What numbers a day's papers, in 8 hex digits (the ids in the radar's order): each of the
    day's files carries it, so radar.js never pairs an index with display, id or author files
    of another build of the day (a browser's cache can hold one and not the other)."""
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:8]


def input_key(digest: Digest) -> str:
    """A hash of exactly what build_day reads of a day (besides the listed ids, keyed apart): the
    date and, in the radar's order, each paper's id, version, title, abstract, authors, announce
    type and links (kind and URL: which set 'has code'). Not its tags, topics, summaries, related
    or versions: a day file whose only change is there keeps its key (DayFiles reuses its files)."""
    rows = [[p.id, p.version, p.title, p.abstract, p.authors, p.announce_type,
             [[link.kind, link.url] for link in p.links]] for p in radar_order(digest.papers)]
    text = json.dumps(["radar input", FORMAT, digest.date, rows], separators=(",", ":"))  # ASCII: the fastest
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _raw_order_key(p: dict[str, Any]) -> tuple[int, int, str]:
    pid = p["id"]
    if not isinstance(pid, str):
        raise TypeError("id")
    n = arxiv_number(pid)
    return (0, n, "") if n is not None else (1, 0, pid)


def raw_input_key(data: Any) -> str | None:
    """input_key of the day whose file json.loads read as `data`, from the plain dicts and lists
    (no Digest, no Paper: half the cost of store.parse), the same value as input_key(parse(...))
    for a valid day file; None when `data` is not shaped as one (the caller parses the file,
    which names what is wrong). Not a validation: a day file is trusted on this key only where
    an entry for it exists, which build_day made from a parsed (valid) day file."""
    try:
        if not isinstance(data, dict):
            return None
        date, papers = data["date"], data["papers"]
        if not isinstance(date, str) or not isinstance(papers, list):
            return None
        rows = []
        for p in sorted(papers, key=_raw_order_key):
            links = p.get("links")
            rows.append([p["id"], p["version"], p["title"], p["abstract"], p["authors"], p["announce_type"],
                         [[x["kind"], x["url"]] for x in links] if links else []])
        text = json.dumps(["radar input", FORMAT, date, rows], separators=(",", ":"))
        return hashlib.sha256(text.encode("ascii")).hexdigest()
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError):
        return None


def day_files(day: str, chunks: int = 0) -> dict[str, Any]:
    """A day's file names, relative to RADAR_DIR: the index, and the display files' pattern
    (%d: the chunk's number) with how many there are."""
    return {"idx": f"{day}.idx.json", "ids": f"{day}.ids.json", "au": f"{day}.au.json", "meta": f"{day}.m%d.json",
            "chunks": chunks}


def meta_file(day: str, k: int) -> str:
    """The name of a day's k-th display file."""
    return f"{day}.m{k}.json"


def file_names(day: str, papers: int) -> list[str]:
    """A day of this many papers' files: the index, the ids, the author keys, the display files."""
    files = day_files(day)
    return [files["idx"], files["ids"], files["au"], *(meta_file(day, k) for k in range(-(-papers // CHUNK)))]


_OUR_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.(idx|ids|au|meta|m\d+)\.json")


def manifest(days: Sequence[tuple[str, int, str]]) -> str:
    """radar/days.json: the days (newest first, each with its paper count, files and page URL)
    and the tokenizer's parameters for radar.js."""
    return _dumps({
        "v": FORMAT,
        "abs_url": ABS_URL,
        "bits": HASH_BITS, "title_weight": TITLE_WEIGHT, "chunk": CHUNK,
        "stopwords": list(STOPWORDS),
        "days": [{"date": d, "n": n, "url": url, **day_files(d, -(-n // CHUNK))}
                 for d, n, url in sorted(days, reverse=True)],
    }) + "\n"


ABS_URL = "https://arxiv.org/abs/"  # where an unlisted paper links (the JS holds no host names)
CACHE_DIR = ".cache/radar"  # under the data folder, beside the build cache (git ignores .cache/)


def _listed_hash(ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:12]


def fingerprint() -> str:
    """What a day's radar files depend on besides the day: this module's code and parameters."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(_dumps([FORMAT, HASH_BITS, TOP_TERMS, MIN_DF, DF_FLOOR, TITLE_WEIGHT, K1, B, CHUNK,
                     STOPWORDS]).encode())
    return h.hexdigest()[:16]


# in the fingerprint's folder: what output/ holds (not .json: Pelican would read it as a day)
STATE = "days.state"


class DayFiles:
    """Each day's radar files, cached on disk by what build_day reads of the day file (input_key)
    and the ids its page lists.

    A day is tokenized again only when what the radar reads of it, what its page lists, or this
    module changed: a day file rewritten with new related or version links only (backlinks) is
    parsed once to find its input key and reuses its files. The day files' keys come from
    filekeys.FileKeys, as the build cache's do (its stat record, else git's index in a fresh
    checkout, else the bytes); STATE keeps each day's file key -> input key, so an unchanged day
    file is not read, and what the last build wrote to its output folder, so that a daily build
    reads and writes nothing for an unchanged day (`unchanged`): one stat of the day file and one
    of its index in output/. The folder is disposable. `fill` parses and computes the days whose
    file changed in forked processes first (daycache.prefill: this is one of its stores; a worker
    leaves the file key -> input key it found in a small .in file beside the entries).
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / CACHE_DIR
        self.dir = self.root / fingerprint()
        self.built = 0  # days computed (not read from the cache) by this object
        self._listed: dict[str, str] = {}  # day -> hash of the ids its page lists
        self.files = FileKeys(data_dir)  # the day files' keys (shared record with the build cache)
        self._out: dict[str, Any] = {"dir": "", "days": {}}  # the output folder, day -> what is there
        self._inputs: dict[str, list[str]] = {}  # day -> [its file's key, input_key of it]
        self._entry_days: set[str] | None = None  # the days with an entry (_with_entry), listed once
        self._key_days: set[str] = set()  # the days with a .in file when _with_entry listed the folder
        try:
            state = json.loads((self.dir / STATE).read_text(encoding="utf-8"))
            out = state["out"]
            if isinstance(out, dict) and isinstance(out.get("days"), dict):
                self._out = out
            inputs = state.get("inputs")
            if isinstance(inputs, dict):
                self._inputs = {d: r for d, r in inputs.items()
                                if isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # no state yet, or an unreadable one: every day is hashed (and its files compared)

    def _entry(self, day: str, inputs: str) -> Path:
        listed = self._listed.get(day) or _listed_hash(())
        return self.dir / f"{day}.{inputs[:24]}.{listed}.radar"  # not .json: Pelican would read it as a day

    def _key_file(self, day: str, key: str) -> Path:
        return self.dir / f"{day}.{key[:24]}.in"

    def _input_of(self, day: str, key: str) -> str | None:
        """The input key of the day file whose file key is `key`, if known (STATE, else a worker's
        .in file), without reading the day file."""
        rec = self._inputs.get(day)
        if rec is not None and rec[0] == key:
            return rec[1]
        try:
            data = json.loads(self._key_file(day, key).read_text(encoding="utf-8"))
            found = data["in"]
            if data["key"] != key or not isinstance(found, str) or not found:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self._inputs[day] = [key, found]
        return found

    def _read(self, day: str, inputs: str) -> DayIndex | None:
        try:
            data = json.loads(self._entry(day, inputs).read_text(encoding="utf-8"))
            meta = data["meta"]
            if not isinstance(meta, list):
                raise TypeError("meta")
            return DayIndex(str(data["date"]), int(data["papers"]), str(data["idx"]),
                            str(data["authors"]), tuple(str(m) for m in meta), str(data["ids"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self, path: Path, text: str) -> None:
        """Write one cache file atomically (the folder is made; a failure is a warning)."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as e:
            logger.warning("radar: could not cache %s: %s", path.name, e)

    def _store(self, day: str, inputs: str, value: DayIndex) -> None:
        """Store the day's files for this input key; drop the day's older entries."""
        entry = self._entry(day, inputs)
        had = day in self._with_entry()
        self._with_entry().add(day)
        if had and self.dir.is_dir():  # a day without an entry has none to drop (a cold build: no listing)
            for old in self.dir.glob(f"{day}.*.radar"):
                if old != entry:
                    old.unlink(missing_ok=True)
        self._write(entry, _dumps({"date": value.date, "papers": value.papers, "idx": value.idx,
                                   "authors": value.authors, "meta": list(value.meta), "ids": value.ids}))

    def _with_entry(self) -> set[str]:
        """The days that have an entry (for some input key; _store keeps one a day)."""
        if self._entry_days is None:
            try:
                names = os.listdir(self.dir)
            except OSError:
                names = []
            self._entry_days = {name.split(".", 1)[0] for name in names if name.endswith(".radar")}
            self._key_days = {name.split(".", 1)[0] for name in names if name.endswith(".in")}
        return self._entry_days

    def _known_inputs(self, day: str, raw: bytes) -> tuple[str | None, bool]:
        """(the input key of these day file bytes from the plain JSON (raw_input_key: no Digest),
        whether the day has an entry for it). The key is None for a day without any entry (a new
        day, a cold build: not read here, parsed at once) or bytes not shaped as a day file; a
        caller that finds no entry parses the file (store.parse names what is wrong in a broken
        one) and may take this key as the parsed day's input_key (the same value: not computed
        twice)."""
        if day not in self._with_entry():
            return None, False
        data = json_or_none(raw)
        if data is None:
            return None, False
        inputs = raw_input_key(data)
        return inputs, inputs is not None and self._entry(day, inputs).is_file()

    def key_of(self, path: Path) -> str:
        """The day file's content key (daycache.prefill's store protocol; filekeys.FileKeys)."""
        return self.files.key_of(path)

    def has(self, day: str, key: str) -> bool:
        """Whether the day file with this file key has a known input key and an entry for it
        (and the ids its page lists)."""
        inputs = self._input_of(day, key)
        return inputs is not None and self._entry(day, inputs).is_file()

    def put(self, day: str, key: str, value: Any) -> None:
        """Record what `fill`'s make found for the day file with this file key: (its input key, its
        DayIndex, or None when the entry for that input key was already there)."""
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)
                and (value[1] is None or isinstance(value[1], DayIndex))):
            raise TypeError(f"radar cache: (input key, DayIndex or None) expected, not {type(value).__name__}")
        inputs, index = value
        if index is not None:
            self._store(day, inputs, index)
        name = self._key_file(day, key)
        self._with_entry()
        if day in self._key_days and self.dir.is_dir():  # else no .in file to drop (a cold build: no listing)
            for old in self.dir.glob(f"{day}.*.in"):
                if old != name:
                    old.unlink(missing_ok=True)
        self._write(name, _dumps({"key": key, "in": inputs, "built": index is not None}))
        self._key_days.add(day)
        self._inputs[day] = [key, inputs]

    def _carried(self, day: str, key: str) -> bool:
        """Whether the day file with this key is one a later update only wrote related or version
        links into (core/relinks.py recorded the step from a version with an entry): the radar reads
        neither, so that version's input key stands for this one, kept without reading the file."""
        for old, _ids in relinks.earlier(self.data_dir, day, key):
            inputs = self._input_of(day, old)
            if inputs is not None and self._entry(day, inputs).is_file():
                self.put(day, key, (inputs, None))
                return True
        return False

    def fill(self, days: Sequence[tuple[Path, Sequence[str]]], processes: int) -> int:
        """Key the days whose file key has no entry in parallel (one process per CPU, as the
        build cache does: _known_inputs, else store.parse) and compute those whose input key has
        none either; returns how many were computed. `get` then finds them."""
        listed = {path.stem: list(ids) for path, ids in days}
        for day, ids in listed.items():
            self._listed[day] = _listed_hash(ids)
        missing = [path for path, _ in days if not self.has(path.stem, self.key_of(path))]
        self._with_entry()  # listed once, before the workers fork
        missing = [path for path in missing if not self._carried(path.stem, self.key_of(path))]

        def make(path: Path, raw: bytes) -> tuple[str, DayIndex | None]:
            known, entry = self._known_inputs(path.stem, raw)
            if known is not None and entry:
                return known, None  # only what the radar does not read changed
            digest = parse(path, raw)
            inputs = known if known is not None else input_key(digest)  # the same key (test_radar_rawkey)
            if known is None and self._entry(path.stem, inputs).is_file():
                return inputs, None  # only what the radar does not read changed
            return inputs, build_day(digest, listed[path.stem])

        if not prefill(self, missing, make, processes, what="parsed for the radar"):
            return 0
        made = 0
        for path in missing:  # what the workers found (their .in files), kept for `get`: read once
            key = self.key_of(path)
            try:
                data = json.loads(self._key_file(path.stem, key).read_text(encoding="utf-8"))
                if data.get("key") != key:
                    continue
                made += bool(data.get("built"))
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(data.get("in"), str) and data["in"]:
                self._inputs[path.stem] = [key, data["in"]]
                self._key_days.add(path.stem)
        self.built += made
        return made

    def get(self, path: Path, listed: Sequence[str]) -> DayIndex:
        """The day's files, from the cache or computed (and cached)."""
        day, key = path.stem, self.key_of(path)
        self._listed[day] = _listed_hash(listed)
        inputs = self._input_of(day, key)
        if inputs is not None:
            index = self._read(day, inputs)
            if index is not None:
                return index
        raw = path.read_bytes()
        key = file_key(raw)
        known, entry = self._known_inputs(day, raw)
        if known is not None and entry:
            index = self._read(day, known)
            if index is not None:
                self._inputs[day] = [key, known]
                return index
        digest = parse(path, raw)
        inputs = known if known is not None else input_key(digest)  # the same key (test_radar_rawkey)
        self._inputs[day] = [key, inputs]
        index = self._read(day, inputs)
        if index is None:
            index = build_day(digest, listed)
            self.built += 1
            self._store(day, inputs, index)
        return index

    def _recorded(self, path: Path, listed: Sequence[str], out: Path) -> tuple[list[Any], str] | None:
        """(the output record of the day, the day file's key) when `out` still holds the day's
        index as the last build wrote it there for this listing (same size and mtime), else None."""
        rec = self._out["days"].get(path.stem) if self._out.get("dir") == str(out) else None
        if not isinstance(rec, list) or len(rec) != 6:
            return None
        try:
            st = (out / day_files(path.stem)["idx"]).stat()
            key = self.key_of(path)
        except OSError:
            return None
        if [rec[1], *rec[2:4]] != [_listed_hash(listed), st.st_size, st.st_mtime_ns]:
            return None
        return rec, key

    def unchanged(self, path: Path, listed: Sequence[str], out: Path) -> int | None:
        """The day's paper count if `out` holds the day's files as the last build wrote them
        from this day file and listing (nothing to read or write), else None."""
        found = self._recorded(path, listed, out)
        if found is None or found[0][0] != found[1]:
            return None
        return int(found[0][4])

    def same_inputs(self, path: Path, listed: Sequence[str], out: Path) -> bool:
        """Whether `out` holds the day's files as the last build wrote them from the same input key
        (as `get` just found it) and listing, though the day file changed: nothing to write."""
        found = self._recorded(path, listed, out)
        if found is None:
            return False
        rec, key = found
        if self._input_of(path.stem, key) is None:  # a worker's .in file, if `fill` parsed the day
            return False
        inputs = self._inputs[path.stem]
        return inputs[0] == key and rec[5] == inputs[1]

    def wrote(self, path: Path, listed: Sequence[str], out: Path, papers: int) -> None:
        """Record that `out` now holds the day's files (see `unchanged`, `same_inputs`)."""
        if self._out.get("dir") != str(out):
            self._out = {"dir": str(out), "days": {}}
        try:
            st = (out / day_files(path.stem)["idx"]).stat()
            key = self.key_of(path)
            inputs = self._inputs.get(path.stem)
            self._out["days"][path.stem] = [key, _listed_hash(listed), st.st_size, st.st_mtime_ns, papers,
                                            inputs[1] if inputs is not None and inputs[0] == key else ""]
        except OSError:
            self._out["days"].pop(path.stem, None)

    def save_state(self, days: Iterable[str]) -> None:
        """Write STATE (atomically), keeping only these days' records, and the day files' keys."""
        keep = set(days)
        self._out["days"] = {d: r for d, r in self._out["days"].items() if d in keep}
        self._inputs = {d: r for d, r in self._inputs.items() if d in keep}
        self.files.save()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / f".{STATE}.{os.getpid()}.tmp"
            tmp.write_text(_dumps({"out": self._out, "inputs": self._inputs}), encoding="utf-8")
            tmp.replace(self.dir / STATE)
        except OSError as e:
            logger.warning("radar: could not save %s: %s", self.dir / STATE, e)

    def prune(self) -> None:
        """Remove the entries of other fingerprints (an older radar.py)."""
        if self.root.is_dir():
            for other in self.root.iterdir():
                if other != self.dir and other.is_dir():
                    shutil.rmtree(other, ignore_errors=True)


class EarlyFill:
    """The days a build will write, computed while the build goes on: RadarGenerator starts it
    once the articles are read (generate_context) and waits for it before writing (generate_output),
    so that the forked processes (DayFiles.fill) use the core the build's one process leaves idle
    while the other generators render their pages. It only fills the cache: write_days then finds
    every day there (and computes inline whatever it could not: a broken day fails there, named)."""

    def __init__(self, data_dir: Path, todo: Sequence[tuple[Path, Sequence[str], str]], out: Path,
                 processes: int) -> None:
        self.cache = DayFiles(data_dir)
        self.cache.files.keys([path for path, _, _ in todo])  # every day's key at once (one git call at most)
        self.out = out
        # DayFiles.unchanged of each day (nothing else writes the radar's output meanwhile)
        self.unchanged = {path: self.cache.unchanged(path, listed, out) for path, listed, _ in todo}
        changed = [(path, listed) for path, listed, _ in todo if self.unchanged[path] is None]
        self._thread: threading.Thread | None = None
        if processes > 1 and len(changed) > 1:  # a daily build (one new day) is computed in write_days
            self._thread = threading.Thread(target=self._fill, args=(changed, processes),
                                            name="radar-early-fill", daemon=True)
            self._thread.start()

    def _fill(self, changed: list[tuple[Path, Sequence[str]]], processes: int) -> None:
        try:
            self.cache.fill(changed, processes)
        except Exception as e:  # write_days computes the day again inline and says what is wrong
            logger.debug("radar: early fill stopped (%s: %s)", type(e).__name__, e)

    def wait(self) -> DayFiles:
        """The cache, once the early fill is done."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return self.cache


def write_days(data_dir: Path, todo: Sequence[tuple[Path, Sequence[str], str]], out: Path,
               processes: int, early: EarlyFill | None = None) -> tuple[int, int]:
    """Write the radar files of these days (day file, ids its page lists, page URL) and days.json
    into `out`, removing the files of days no longer there; returns (days unchanged in `out`,
    days computed). An unchanged day costs two stats (DayFiles.unchanged); the days missing
    from the cache are computed in `processes` forked processes first (or were, by `early`)."""
    out.mkdir(parents=True, exist_ok=True)
    present = set(os.listdir(out))  # a file not there is written at once (write_if_changed reads it first)
    cache = early.wait() if early is not None else DayFiles(data_dir)
    known = early.unchanged if early is not None and early.out == out else {}
    if early is None:  # else EarlyFill did
        cache.files.keys([path for path, _, _ in todo])  # every day's key at once (one git call at most)
    days: list[tuple[str, int, str]] = []
    written: set[str] = set()
    changed = []
    for path, listed, url in todo:
        n = known[path] if path in known else cache.unchanged(path, listed, out)
        if n is None:
            changed.append((path, listed, url))
            continue
        written.update(file_names(path.stem, n))
        days.append((path.stem, n, url))
    cache.fill([(path, listed) for path, listed, _ in changed], processes)  # a cold build: in parallel
    for path, listed, url in changed:
        if cache.same_inputs(path, listed, out):  # parsed by `fill`: only what the radar does not read changed
            n = int(cache._out["days"][path.stem][4])
            written.update(file_names(path.stem, n))
            cache.wrote(path, listed, out, n)
            days.append((path.stem, n, url))
            continue
        try:
            index = cache.get(path, listed)
        except (OSError, StoreError) as e:
            raise StoreError(f"{path}: cannot be indexed for the radar: {e}") from e
        names = file_names(index.date, index.papers)
        if not cache.same_inputs(path, listed, out):  # else only what the radar does not read changed
            for name, text in zip(names, (index.idx, index.ids, index.authors, *index.meta), strict=True):
                if name in present:
                    write_if_changed(out / name, text)
                else:
                    (out / name).write_bytes(text.encode("utf-8"))
        written.update(names)
        cache.wrote(path, listed, out, index.papers)
        days.append((index.date, index.papers, url))
    cache.save_state(path.stem for path, _, _ in todo)
    cache.prune()
    for stale in out.iterdir():  # a day's files from an older format or a removed day
        if _OUR_FILE.fullmatch(stale.name) and stale.name not in written:
            stale.unlink(missing_ok=True)
    write_if_changed(out / "days.json", manifest(days))
    return len(todo) - len(changed), cache.built


class RadarGenerator(Generator):  # type: ignore[misc]
    """Writes radar/<day>.idx.json, .au.json and .mK.json, radar/days.json and the radar page."""

    _early: EarlyFill | None = None
    _todo: list[tuple[Path, Sequence[str], str]] | None = None

    def generate_context(self) -> None:
        """Add the radar page's URL to the context, and start computing the days whose files
        are not in the cache (EarlyFill: they are written in generate_output)."""
        self.context["radar_url"] = f"{RADAR_DIR}/"
        self._todo = self._days()
        self._early = EarlyFill(digest_settings(self.settings).data_dir, self._todo,
                                Path(self.output_path) / RADAR_DIR, workers())

    def _days(self) -> list[tuple[Path, Sequence[str], str]]:
        """Every stored day the articles generator read: (day file, ids its page lists, page URL)."""
        ds = digest_settings(self.settings)
        pages = {str(getattr(a, "slug", "")): a for a in self.context.get("articles", [])
                 if getattr(a, "day", None) is not None}
        todo: list[tuple[Path, Sequence[str], str]] = []
        for path in iter_days(ds.data_dir):
            article = pages.get(path.stem)
            if article is None:  # not a day the articles generator read (broken days stop the build)
                continue
            view = article.day
            todo.append((path, [v.paper.id for v in (*view.listed, *view.updated)], str(article.url)))
        return todo

    def generate_output(self, writer: Any) -> None:
        """Index every stored day (from the day files: the articles keep only the listed papers)."""
        ds = digest_settings(self.settings)
        todo = self._todo if self._todo is not None else self._days()
        early, self._early, self._todo = self._early, None, None
        unchanged, computed = write_days(ds.data_dir, todo, Path(self.output_path) / RADAR_DIR, workers(), early)
        writer.write_file(f"{RADAR_DIR}/index.html", self.get_template("radar"), self.context,
                          page_name="radar", relative_urls=self.settings.get("RELATIVE_URLS", False))
        logger.info("radar: indexed %d days (%d unchanged in output/, %d computed, the others from the cache)",
                    len(todo), unchanged, computed)


def get_generators(pelican: Any) -> type[Generator]:
    """Add the radar generator (plugin.py connects this to get_generators)."""
    return RadarGenerator
