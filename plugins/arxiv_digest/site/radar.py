"""The radar's index: per day, a compact term index of every stored paper, for ranking in the browser.

The reader's profile (keywords, authors, arXiv ids, an uploaded library) never leaves the browser;
theme/static/js/radar.js ranks the papers against it. For that the build writes, per announcement
day, two small JSON files under radar/ (RADAR_DIR):

  YYYY-MM-DD.idx.json    the ranking index: for the day's top terms, sorted by hash, the term's
                         hash (delta-coded), its document frequency in the day, and its postings
                         (paper number, quantized term weight), all as one array of integers
  YYYY-MM-DD.meta.json   what a result shows: ids, versions, titles, authors, announce types,
                         and which papers the day page lists

and radar/days.json, the list of days with their file names (newest first) and the tokenizer's
parameters (stop words, hash bits), so the browser tokenizes the profile exactly as the build did.

Every stored paper of a day is indexed, not only the listed ones: a reader's niche is narrower
than the topics and often outside them. To fit 30 days in about 100 KB gzipped, a paper keeps its
TOP_TERMS best terms by BM25 weight (title words count double), terms are 24-bit FNV-1a hashes
(no vocabulary is shipped), and a weight is one of 4 levels.

Each day's files are a pure function of the day file and these parameters (no clock, no other
day, no dict order), so a rebuild is byte-identical and a day's output can be cached on its hash.
The archive-wide term statistics are the per-day document frequencies: the browser sums them over
the days it ranks (idf over the period).
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pelican.generators import Generator

from ..errors import StoreError
from ..models import Digest
from ..render import digest_settings
from ..store import iter_days, load

logger = logging.getLogger(__name__)

FORMAT = 1
RADAR_DIR = "radar"
HASH_BITS = 22
TOP_TERMS = 6  # terms kept per paper (see bench/bench_radar.py for the size/quality trade-off)
DF_FLOOR = 3  # selection treats a term used by fewer papers of the day as if this many used it
TITLE_WEIGHT = 2  # a title word counts as this many abstract words
K1, B = 1.2, 0.75  # BM25

# English function words and the boilerplate of abstracts: they say nothing about a topic.
STOPWORDS: tuple[str, ...] = tuple(sorted(set("""
a about above across after again against all almost along also although always am among an and
another any are around as at be because been before being below between both but by can cannot
could did do does doing done down during each either else enough even ever every few for from
further had has have having he her here hers him his how however i if in into is it its itself
just less like made make makes many may me might more most much must my neither no nor not now of
off often on once one only onto or other others our ours out over own per rather same several
she should since so some such than that the their theirs them themselves then there these they
this those though through thus to too toward towards under until up upon us use used uses using
very via was we well were what when where whether which while who whom whose why will with
within without would yet you your
paper propose proposed proposes present presents introduce introduces approach approaches method
methods result results show shows shown demonstrate demonstrates based novel new existing work
works study studies task tasks problem problems performance experiment experiments experimental
outperform outperforms state art achieve achieves achieved significant significantly effective
effectively furthermore moreover recent recently various different however first second two three
code available https http github com www org
""".split())))

_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_WORD = re.compile(r"[a-z0-9]+")


def _fold(text: str) -> str:
    """Lower case, accents removed (NFKD without combining marks), math dropped."""
    text = _MATH.sub(" ", text)
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def stem(word: str) -> str:
    """Harman's S-stemmer: plurals to singular (queries -> query, caches -> cache, bias stays)."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


def terms(text: str, stop: frozenset[str] = frozenset(STOPWORDS)) -> list[str]:
    """The terms of a text: stemmed words (no stop word, no bare number, two letters or more) and
    the pairs of adjacent such words ("kv cache"). radar.js `terms` is the same function."""
    out: list[str] = []
    prev = ""
    for raw in _WORD.findall(_fold(text)):
        if len(raw) < 2 or raw in stop or raw.isdigit():
            prev = ""
            continue
        word = stem(raw)
        out.append(word)
        if prev:
            out.append(f"{prev} {word}")
        prev = word
    return out


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
    meta: str


def _paper_tf(title: str, abstract: str) -> tuple[Counter[str], set[str]]:
    tf: Counter[str] = Counter()
    in_title = set(terms(title))
    for t in terms(title):
        tf[t] += TITLE_WEIGHT
    for t in terms(abstract):
        tf[t] += 1
    return tf, in_title


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def varints(numbers: Iterable[int]) -> str:
    """Non-negative integers as base64url digits, 5 bits each, low bits first; a digit >= 32 says
    more follow (radar.js `unvarints`)."""
    out = []
    for v in numbers:
        if v < 0:
            raise ValueError(f"varints: negative value {v}")
        while v >= 32:
            out.append(B64[32 | (v & 31)])
            v >>= 5
        out.append(B64[v])
    return "".join(out)


def select_terms(tf: Counter[str], length: int, avg: float, df: Counter[str], n: int,
                 top: int) -> list[str]:
    """The paper's `top` terms by BM25 weight in the day (idf capped below DF_FLOOR, so that a
    word only this paper uses does not crowd out the words a reader's profile can share)."""
    norm = K1 * (1 - B + B * length / avg) if avg else K1
    scored = []
    for t, f in tf.items():
        d = max(df[t], DF_FLOOR)
        idf = math.log(1 + (n - d + 0.5) / (d + 0.5))
        scored.append((-(f * (K1 + 1) / (f + norm)) * idf, t))
    scored.sort()
    return [t for _, t in scored[:top]]


def build_day(digest: Digest, listed: Iterable[str] = (), top: int = TOP_TERMS) -> DayIndex:
    """The day's index and meta files: a pure function of the day (and the ids the page lists)."""
    papers = list(digest.papers)
    docs = [_paper_tf(p.title, p.abstract) for p in papers]
    n = len(papers)
    df: Counter[str] = Counter()
    for tf, _ in docs:
        df.update(tf.keys())
    lengths = [sum(tf.values()) for tf, _ in docs]
    avg = (sum(lengths) / n) if n else 1.0
    postings: dict[int, dict[int, int]] = {}
    for i, (tf, in_title) in enumerate(docs):
        for t in select_terms(tf, lengths[i], avg, df, n, top):
            flag = 1 if t in in_title else 0
            plist = postings.setdefault(term_hash(t), {})
            plist[i] = max(plist.get(i, 0), flag)  # two terms of a paper on one hash: one posting
    flat: list[int] = []
    last = 0
    for h in sorted(postings):
        plist = postings[h]
        flat += [h - last, len(plist)]
        prev = 0
        for doc in sorted(plist):
            flat.append(((doc - prev) << 1) | plist[doc])
            prev = doc
        last = h
    idx = _dumps({"v": FORMAT, "date": digest.date, "n": n, "bits": HASH_BITS, "t": varints(flat)})
    listed_set = set(listed)
    meta = _dumps({
        "v": FORMAT, "date": digest.date,
        "id": [p.id for p in papers],
        "ver": [p.version for p in papers],
        "title": [p.title for p in papers],
        "au": [list(p.authors) for p in papers],
        "type": [p.announce_type for p in papers],
        "listed": [i for i, p in enumerate(papers) if p.id in listed_set],
    })
    return DayIndex(digest.date, n, idx, meta)


def day_files(day: str) -> dict[str, str]:
    """The two file names of a day, relative to RADAR_DIR."""
    return {"idx": f"{day}.idx.json", "meta": f"{day}.meta.json"}


def manifest(days: Sequence[tuple[str, int, str]]) -> str:
    """radar/days.json: the days (newest first, each with its paper count and page URL) and the
    tokenizer's parameters for radar.js."""
    return _dumps({
        "v": FORMAT,
        "bits": HASH_BITS, "title_weight": TITLE_WEIGHT,
        "stopwords": list(STOPWORDS),
        "days": [{"date": d, "n": n, "url": url, **day_files(d)}
                 for d, n, url in sorted(days, reverse=True)],
    }) + "\n"


class RadarGenerator(Generator):  # type: ignore[misc]
    """Writes radar/<day>.idx.json, radar/<day>.meta.json, radar/days.json and the radar page."""

    def generate_context(self) -> None:
        """Nothing to add to the context but the radar page's URL (the files are written later)."""
        self.context["radar_url"] = f"{RADAR_DIR}/"

    def generate_output(self, writer: Any) -> None:
        """Index every stored day (from the day files: the articles keep only the listed papers)."""
        ds = digest_settings(self.settings)
        out = Path(self.output_path) / RADAR_DIR
        out.mkdir(parents=True, exist_ok=True)
        pages = {a.date.date().isoformat() if hasattr(a.date, "date") else str(a.date): a
                 for a in self.context.get("articles", []) if getattr(a, "day", None) is not None}
        days: list[tuple[str, int, str]] = []
        for path in iter_days(ds.data_dir):
            try:
                digest = load(path)
            except StoreError:  # fail_on_broken_days has stopped the build already; be safe
                continue
            article = pages.get(digest.date)
            listed: list[str] = []
            url = ""
            if article is not None:
                view = article.day
                listed = [v.paper.id for v in (*view.listed, *view.updated)]
                url = article.url
            index = build_day(digest, listed)
            files = day_files(digest.date)
            _write(out / files["idx"], index.idx)
            _write(out / files["meta"], index.meta)
            days.append((digest.date, index.papers, url))
        _write(out / "days.json", manifest(days))
        writer.write_file(f"{RADAR_DIR}/index.html", self.get_template("radar"), self.context,
                          page_name="radar", relative_urls=self.settings.get("RELATIVE_URLS", False))
        logger.info("radar: indexed %d days", len(days))


def _write(path: Path, text: str) -> None:
    """Write only when the bytes differ (keeps mtimes of unchanged days for incremental deploys)."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    path.write_bytes(data)


def get_generators(pelican: Any) -> type[Generator]:
    """Add the radar generator (plugin.py connects this to get_generators)."""
    return RadarGenerator
