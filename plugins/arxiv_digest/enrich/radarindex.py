"""The radar's ranking index of one day (what radar.js ranks a profile against), computed at update
and stored with the day.

Each paper of a day gets its TOP_TERMS best terms of its title and abstract (BM25 weight in the
day, a title word counting TITLE_WEIGHT times, idf floored at DF_FLOOR papers; terms that MIN_DF
papers of the day share come first: a word only one paper uses costs as many bytes and rarely
meets a profile) as HASH_BITS-bit FNV-1a hashes (no vocabulary is shipped), and which papers link
code, a model, a data set or a demo; all in one bit stream (`ranking`, pack_day: Rice-coded hash
sets, each hash's papers picked among those still owed a hash), base64url. The papers are numbered
in the radar's order (radar_order: arXiv ids by number, then the others).

That stream is a pure function of what `input_key` hashes of the day (each paper's id, version,
title, abstract, authors, announce type and links) and of this module, and tokenizing and ranking
every paper of a day is most of what the radar costs (~90 ms for 500 papers). So `update`
computes it where it makes the day and stores it in the day file (`stamp`: the RADAR_KEY block,
{"fingerprint": this module's, "input": the input key, "p": the stream}, ~5 KB for 500 papers);
the build (site/radar.py) uses a stored stream only while both still hold (`stored_ranking`) and
computes the day as before otherwise: a day file from before the block, a hand-edited title,
another tokenizer or parameter. A later update writing related or version links back into the day
(enrich/backlinks.py) changes neither, and keeps the block as it is.

The tokenizer (`terms`) and the author keys (`author_key`) are radar.js's too: the browser
tokenizes a profile exactly as this module did.
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import heapq
import itertools
import json
import math
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core.models import Digest, Paper
from . import links as _links
from .links import ARTEFACT_KINDS, badges

FORMAT = 4
HASH_BITS = 17  # fewer: smaller, more collisions (bench/bench_radar.py --bits: 17 ranks as 22 does, 16 loses a bit)
TOP_TERMS = 4  # terms kept per paper, title and abstract together (bench/bench_radar.py: size and quality)
MIN_DF = 2  # a term is kept only if this many papers of the day use it, while the paper has enough such terms
DF_FLOOR = 3  # selection treats a term used by fewer papers of the day as if this many used it
TITLE_WEIGHT = 2  # a title word counts as this many abstract words
K1, B = 1.2, 0.75  # BM25

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


def ranking(papers: Sequence[Paper], top: int = TOP_TERMS, min_df: int = MIN_DF, bits: int = HASH_BITS,
            tally: dict[str, int] | None = None) -> str:
    """The day's ranking stream (pack_day) of these papers, in the radar's order (radar_order):
    each paper's `top` terms, selected by BM25 in the day, and which papers link code. `tally`:
    pack_day's bits by field."""
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
    code = [i for i, p in enumerate(papers)  # as the day page's 'has code' (render.PaperView.has_code)
            if any(b.kind in ARTEFACT_KINDS for b in badges(p.links))]
    return pack_day(n, code, {h: sorted(d) for h, d in posts.items()}, top, bits, tally)


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
    a cache entry or a stored ranking (`stored_ranking`) made from a parsed (valid) day has it."""
    found = raw_rows(data)
    return found[0] if found is not None else None


def raw_rows(data: Any) -> tuple[str, list[dict[str, Any]]] | None:
    """(raw_input_key of the day file's JSON, its papers' dicts in the radar's order), or None
    when the JSON is not shaped as a day file where the radar reads."""
    try:
        if not isinstance(data, dict):
            return None
        date, papers = data["date"], data["papers"]
        if not isinstance(date, str) or not isinstance(papers, list):
            return None
        ordered = sorted(papers, key=_raw_order_key)
        rows = []
        for p in ordered:
            links = p.get("links")
            rows.append([p["id"], p["version"], p["title"], p["abstract"], p["authors"], p["announce_type"],
                         [[x["kind"], x["url"]] for x in links] if links else []])
        text = json.dumps(["radar input", FORMAT, date, rows], separators=(",", ":"))
        return hashlib.sha256(text.encode("ascii")).hexdigest(), ordered
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError):
        return None


RADAR_KEY = "radar_index"  # the day file's key holding the stored ranking (`stamp`)
_STREAM = re.compile(r"[A-Za-z0-9_-]*")  # base64url's digits: what pack_day writes


@functools.cache
def fingerprint() -> str:
    """What a day's ranking depends on besides the day: this module's code and parameters, and
    enrich/links.py's (which links are code: `badges`). A stored ranking of another fingerprint
    is not used (the build computes the day)."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(Path(_links.__file__).read_bytes())
    h.update(_dumps([FORMAT, HASH_BITS, TOP_TERMS, MIN_DF, DF_FLOOR, TITLE_WEIGHT, K1, B, STOPWORDS]).encode())
    return h.hexdigest()[:16]


def stored_ranking(extra: Mapping[str, Any], inputs: str) -> str | None:
    """The day's stored ranking stream when the day file's RADAR_KEY block was made by this code
    (fingerprint) from what the day holds now (`inputs`: its input_key), else None (no block, a
    stale or forged one: the caller computes the day)."""
    block = extra.get(RADAR_KEY)
    if not isinstance(block, Mapping) or block.get("fingerprint") != fingerprint() or block.get("input") != inputs:
        return None
    stream = block.get("p")
    return stream if isinstance(stream, str) and _STREAM.fullmatch(stream) else None


def stamp(digest: Digest) -> Digest:
    """The day with its ranking stored (RADAR_KEY), as `update` stores it; a day whose stored
    ranking still holds is returned as it is (not computed again)."""
    inputs = input_key(digest)
    if stored_ranking(digest.extra, inputs) is not None:
        return digest
    block = {"fingerprint": fingerprint(), "input": inputs, "p": ranking(radar_order(digest.papers))}
    return replace(digest, extra={**digest.extra, RADAR_KEY: block})
