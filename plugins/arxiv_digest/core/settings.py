"""Every ARXIV_DIGEST_* default in one place; the YAML config; load and validate once."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..summarize.config import LLMSettings, parse_llm
from .errors import ConfigError

PREFIX = "ARXIV_DIGEST_"
RESOLVED_KEY = "ARXIV_DIGEST"  # where the validated object is kept in Pelican's settings

# Known arXiv announcement holidays (no mailing that day). Extend with ARXIV_DIGEST_HOLIDAYS.
KNOWN_HOLIDAYS = (
    "2024-01-01", "2024-12-25", "2025-01-01", "2025-12-25",
    "2026-01-01", "2026-12-25", "2027-01-01",
)

# Pelican settings (pelicanconf.py) understood by the plugin, with their defaults.
DEFAULTS: dict[str, Any] = {
    "ARXIV_DIGEST_CATEGORIES": ["cs.AI", "cs.CL", "cs.CV", "cs.LG"],
    "ARXIV_DIGEST_RSS_URL": "https://rss.arxiv.org/rss",
    "ARXIV_DIGEST_API_URL": "https://export.arxiv.org/api/query",
    "ARXIV_DIGEST_CONFIG": "digest.yaml",
    "ARXIV_DIGEST_DATA_DIR": "digests",  # relative to Pelican's PATH (content/)
    "ARXIV_DIGEST_LIST_ALL": False,  # False: the day page lists tagged papers only
    "ARXIV_DIGEST_REPLACEMENTS": "separate",  # "separate" (own section) or "hide"
    "ARXIV_DIGEST_TIMEOUT": 30.0,  # seconds, every HTTP request
    "ARXIV_DIGEST_RETRIES": 4,  # on 429/5xx and connection errors
    "ARXIV_DIGEST_REQUEST_DELAY": 3.0,  # arXiv asks for one request every 3 s
    "ARXIV_DIGEST_PAGE_SIZE": 1000,  # API page size (arXiv's maximum is 2000)
    # limits against a slow or hostile server (fetch.py)
    "ARXIV_DIGEST_REQUEST_DEADLINE": 120.0,  # seconds for one request, headers and body (per try)
    "ARXIV_DIGEST_FETCH_DEADLINE": 600.0,  # seconds for all requests of one day: pages, retries, waits
    "ARXIV_DIGEST_MAX_RETRY_AFTER": 300.0,  # a longer Retry-After fails the fetch instead of waiting
    "ARXIV_DIGEST_MAX_REDIRECTS": 5,  # redirects followed per request (each one spaced as a request)
    "ARXIV_DIGEST_MAX_RESPONSE_BYTES": 50_000_000,  # a larger body is refused, read no further
    "ARXIV_DIGEST_HOLIDAYS": [],  # extra ISO dates with no announcement
    "ARXIV_DIGEST_DUPLICATE_THRESHOLD": 92.0,  # rapidfuzz token_sort_ratio for near-duplicates
    "ARXIV_DIGEST_DUPLICATE_LOOKBACK_DAYS": 30,  # earlier stored days searched for re-submissions
    # topic pages and feeds ({slug} is the topic); a feed set to "" or None is not written
    "ARXIV_DIGEST_TOPIC_SAVE_AS": "topics/{slug}/index.html",  # the URL is Pelican's TAG_URL
    "ARXIV_DIGEST_TOPIC_FEED_ATOM": "feeds/topics/{slug}.atom.xml",
    "ARXIV_DIGEST_TOPIC_FEED_RSS": "feeds/topics/{slug}.rss.xml",
    "ARXIV_DIGEST_TOPIC_PAGE_SIZE": 25,  # papers per topic page
    # a page per listed paper ({id}: the version-less arXiv id); "" or None: no paper pages
    "ARXIV_DIGEST_PAPER_URL": "papers/{id}/",
    "ARXIV_DIGEST_PAPER_SAVE_AS": "papers/{id}/index.html",
    # site-wide feeds, one entry per paper of the newest FEED_DAYS days (at most FEED_MAX_ENTRIES)
    "ARXIV_DIGEST_FEED_ATOM": "feeds/all.atom.xml",
    "ARXIV_DIGEST_FEED_RSS": "feeds/all.rss.xml",
    "ARXIV_DIGEST_FEED_DAYS": 5,
    "ARXIV_DIGEST_FEED_MAX_ENTRIES": 250,
    # BibTeX files of a day's and of a topic's papers ({date}: YYYY-MM-DD; {slug}: the topic)
    "ARXIV_DIGEST_DAY_BIB": "bib/{date}.bib",
    "ARXIV_DIGEST_TOPIC_BIB": "bib/topics/{slug}.bib",
    "ARXIV_DIGEST_LOCK_TIMEOUT": 600.0,  # seconds a run waits for another one updating the same day
    # the first announcement day the archive should hold ("YYYY-MM-DD"): `status` counts missing days
    # from here; None: from the first stored day
    "ARXIV_DIGEST_START_DATE": None,
    # the bioRxiv/medRxiv API (the `sources:` section of the YAML config says what to fetch from it)
    "ARXIV_DIGEST_BIORXIV_API_URL": "https://api.biorxiv.org",
}

# Environment variables that override a setting.
ENV_OVERRIDES = {
    "ARXIV_DIGEST_RSS_URL": "ARXIV_DIGEST_RSS_URL",
    "ARXIV_DIGEST_API_URL": "ARXIV_DIGEST_API_URL",
    "ARXIV_DIGEST_BIORXIV_API_URL": "ARXIV_DIGEST_BIORXIV_API_URL",
}

# The subject categories of each preprint server, as the API spells them in a record's `category`
# (lower case). The API quietly returns every record for a category it does not know, so the config
# is checked against these lists. Sources: bioRxiv's subject collections
# (https://www.biorxiv.org/collection) and medRxiv's (https://www.medrxiv.org/collection), in the
# API's short spelling; every category seen in the recorded responses (../shared/fixtures/biorxiv)
# is among them. Extend with care: a category missing here is refused with the list in the message.
SERVER_CATEGORIES: dict[str, frozenset[str]] = {
    "biorxiv": frozenset({
        "animal behavior and cognition", "biochemistry", "bioengineering", "bioinformatics",
        "biophysics", "cancer biology", "cell biology", "clinical trials", "developmental biology",
        "ecology", "epidemiology", "evolutionary biology", "genetics", "genomics", "immunology",
        "microbiology", "molecular biology", "neuroscience", "paleontology", "pathology",
        "pharmacology and toxicology", "physiology", "plant biology",
        "scientific communication and education", "synthetic biology", "systems biology", "zoology",
    }),
    "medrxiv": frozenset({
        "addiction medicine", "allergy and immunology", "anesthesia", "cardiovascular medicine",
        "dentistry and oral medicine", "dermatology", "emergency medicine", "endocrinology",
        "epidemiology", "forensic medicine", "gastroenterology", "genetic and genomic medicine",
        "geriatric medicine", "health economics", "health informatics", "health policy",
        "health systems and quality improvement", "hematology", "hiv aids", "infectious diseases",
        "intensive care and critical care medicine", "medical education", "medical ethics",
        "nephrology", "neurology", "nursing", "nutrition", "obstetrics and gynecology",
        "occupational and environmental health", "oncology", "ophthalmology", "orthopedics",
        "otolaryngology", "pain medicine", "palliative medicine", "pathology", "pediatrics",
        "pharmacology and therapeutics", "primary care research", "psychiatry and clinical psychology",
        "public and global health", "radiology and imaging",
        "rehabilitation medicine and physical therapy", "respiratory medicine", "rheumatology",
        "sexual and reproductive health", "sports medicine", "surgery", "toxicology",
        "transplantation", "urology",
    }),
}
SOURCE_NAMES = ("arxiv", *SERVER_CATEGORIES)


@dataclass(frozen=True)
class Source:
    """One configured source: its name and its categories (arXiv's come from ARXIV_DIGEST_CATEGORIES).

    For bioRxiv and medRxiv, no categories means every category.
    """

    name: str
    categories: tuple[str, ...] = ()


def category_key(name: str) -> str:
    """'Cell_Biology' or ' cell  biology' -> 'cell biology', the API's spelling in records."""
    return " ".join(name.replace("_", " ").lower().split())


def parse_sources(raw: Any, source: str, arxiv_categories: tuple[str, ...]) -> tuple[Source, ...]:
    """Validate the `sources:` section: arxiv (categories from the settings), biorxiv, medrxiv."""
    if raw is None:
        return (Source("arxiv", arxiv_categories),)
    _expect(isinstance(raw, dict) and bool(raw), f"{source}: sources",
            f"a mapping of source names ({', '.join(SOURCE_NAMES)}) to their settings", raw)
    out: list[Source] = []
    for name, body in raw.items():
        where = f"{source}: sources.{name}"
        _expect(name in SOURCE_NAMES, where, f"one of the sources {', '.join(SOURCE_NAMES)}", name)
        _expect(body is None or isinstance(body, dict), where, "a mapping (or nothing)", body)
        body = body or {}
        if name == "arxiv":
            _expect(not body, where,
                    "no keys (arXiv's categories are the setting ARXIV_DIGEST_CATEGORIES)", sorted(body))
            out.append(Source("arxiv", arxiv_categories))
            continue
        unknown = sorted(set(body) - {"categories"})
        _expect(not unknown, where, "only the key 'categories'", unknown)
        cats = body.get("categories")
        if cats is None:
            out.append(Source(name, ()))
            continue
        _expect(isinstance(cats, list) and bool(cats) and all(isinstance(c, str) for c in cats),
                where + ".categories", f"a non-empty list of {name} subject categories", cats)
        keys: list[str] = []
        for c in cats:
            key = category_key(c)
            _expect(key in SERVER_CATEGORIES[name], where + ".categories",
                    f"{name} subject categories, one of: {', '.join(sorted(SERVER_CATEGORIES[name]))}",
                    c)
            if key not in keys:
                keys.append(key)
        out.append(Source(name, tuple(keys)))
    return tuple(out)

# Topics used when the YAML config has none.
DEFAULT_TOPICS: dict[str, dict[str, list[Any]]] = {
    "pruning": {"terms": ["prun*"]},
    "quantization": {
        "terms": ["quantiz*", "low-bit", "int4", "int8", "fp8", "fp4", "binarized", "ternary weight*"],
    },
    "kv-cache": {
        "terms": ["KV cache*", "key-value cache*", "KV-caching", {"term": "KV", "case_sensitive": True}],
    },
    "sparsity": {
        "terms": ["spars*"],
        "exclude": ["sparse reward*", "sparse-view*", "sparse view*"],
    },
}


@dataclass(frozen=True)
class Term:
    """One topic term: words (a trailing * matches the rest of the word), and its case rule.

    needs_context: a match counts for "about" only when the nearest context word confirms the
    topic's sense (for general words such as "sparse"); requires: it counts only when the text
    also has one of these words (mixture-of-experts counts for sparsity when framed as sparse).
    """

    text: str
    case_sensitive: bool = False
    needs_context: bool = False
    requires: tuple[Term, ...] = ()


@dataclass(frozen=True)
class Topic:
    """A named topic: what it means, the terms that find it, and the rules that decide "about".

    A paper whose text matches a term either is *about* the topic or only *mentions* it
    (enrich.topics decides from where the terms stand, how often, and the words around them).
    """

    name: str
    terms: tuple[Term, ...]
    exclude: tuple[Term, ...] = ()  # phrases that cancel the matches they overlap (never bolded)
    definition: str = ""  # what is in, what is out: for readers, the site and the model's prompt
    # words near a match that confirm the topic's sense; the nearest context word decides
    confirm: tuple[Term, ...] = ()
    # label -> words near a match that show another sense ("sparse rewards": reward*)
    not_about: tuple[tuple[str, tuple[Term, ...]], ...] = ()
    # the title or abstract must contain one of these for "about" (e.g. a model context); () = none
    requires: tuple[Term, ...] = ()
    window: int = 3  # content words either side of a match that the context rules read
    min_occurrences: int = 3  # valid matches that make "about" without the title or contribution
    # topics so close to this one that a paper about one of them needs a single counting match
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestSettings:
    """The validated plugin settings, one frozen object per build or CLI run."""

    categories: tuple[str, ...]
    rss_url: str
    api_url: str
    config_file: Path
    data_dir: Path
    list_all: bool
    replacements: str
    timeout: float
    retries: int
    request_delay: float
    page_size: int
    request_deadline: float
    fetch_deadline: float
    max_retry_after: float
    max_redirects: int
    max_response_bytes: int
    holidays: frozenset[dt.date]
    duplicate_threshold: float
    duplicate_lookback_days: int
    topic_save_as: str
    topic_feed_atom: str
    topic_feed_rss: str
    topic_page_size: int
    topics: tuple[Topic, ...]
    llm: LLMSettings = field(default_factory=LLMSettings)  # validated `llm:` (summarize.config)
    config: Mapping[str, Any] = field(default_factory=dict)  # the raw YAML, for later stages
    lock_timeout: float = 600.0  # seconds to wait for another run holding a day's lock
    paper_url: str = "papers/{id}/"  # "" when paper pages are off
    paper_save_as: str = "papers/{id}/index.html"
    feed_atom: str = "feeds/all.atom.xml"  # site-wide feeds ("" when off)
    feed_rss: str = "feeds/all.rss.xml"
    feed_days: int = 5
    feed_max_entries: int = 250
    day_bib: str = "bib/{date}.bib"  # "" when off
    topic_bib: str = "bib/topics/{slug}.bib"
    start_date: dt.date | None = None  # where `status` starts counting missing days (None: first stored)
    sources: tuple[Source, ...] = ()  # the `sources:` section (always holds arxiv when absent)
    biorxiv_api_url: str = "https://api.biorxiv.org"

    def listed_source(self, name: str) -> Source:
        """The source `name` as the `sources:` section configures it (update and backfill
        --source); a ConfigError naming the config file when that section does not list it."""
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError(
            f"{self.config_file}: sources: expected {name} to be listed to fetch it "
            f"(listed: {', '.join(s.name for s in self.sources)})")


def _expect(cond: bool, where: str, what: str, got: Any) -> None:
    if not cond:
        raise ConfigError(f"{where}: expected {what}, got {got!r}")


def _parse_term(raw: Any, where: str) -> Term:
    if isinstance(raw, str):
        _expect(bool(raw.strip()), where, "a non-empty term", raw)
        return Term(raw.strip())
    if isinstance(raw, Mapping):
        keys = ("term", "case_sensitive", "needs_context", "requires")
        unknown = set(raw) - set(keys)
        _expect(not unknown, where, f"only the keys {', '.join(repr(k) for k in keys)}",
                sorted(unknown))
        text = raw.get("term")
        _expect(isinstance(text, str) and bool(text.strip()), f"{where}.term", "a non-empty string", text)
        flags = {}
        for key in ("case_sensitive", "needs_context"):
            flags[key] = raw.get(key, False)
            _expect(isinstance(flags[key], bool), f"{where}.{key}", "true or false", flags[key])
        requires = _parse_terms(raw.get("requires"), f"{where}.requires")
        return Term(str(text).strip(), bool(flags["case_sensitive"]),
                    bool(flags["needs_context"]), requires)
    raise ConfigError(f"{where}: expected a string or a mapping with 'term', got {raw!r}")


TOPIC_KEYS = ("terms", "exclude", "definition", "confirm", "not_about", "requires", "window",
              "min_occurrences", "related")


def _parse_terms(raw: Any, where: str, *, required: bool = False) -> tuple[Term, ...]:
    if raw is None and not required:
        return ()
    what = "a non-empty list" if required else "a list"
    _expect(isinstance(raw, list) and (bool(raw) or not required), where, what, raw)
    return tuple(_parse_term(t, f"{where}[{i}]") for i, t in enumerate(raw))


def _parse_int(raw: Any, where: str, default: int, lo: int, hi: int) -> int:
    if raw is None:
        return default
    _expect(isinstance(raw, int) and not isinstance(raw, bool) and lo <= raw <= hi, where,
            f"an integer from {lo} to {hi}", raw)
    return int(raw)


def parse_topics(raw: Any, source: str) -> tuple[Topic, ...]:
    """Validate the `topics:` mapping of a config file into Topic objects."""
    where = f"{source}: topics"
    _expect(isinstance(raw, Mapping) and bool(raw), where, "a mapping of topic name to terms", raw)
    topics = []
    for name, body in raw.items():
        here = f"{where}.{name}"
        _expect(isinstance(name, str) and name.strip() != "", where, "topic names as strings", name)
        _expect(
            name == name.strip().lower() and " " not in name,
            here, "a lower-case name without spaces (it becomes a URL slug)", name,
        )
        if isinstance(body, list):
            body = {"terms": body}
        _expect(isinstance(body, Mapping), here, "a list of terms or a mapping with 'terms'", body)
        unknown = set(body) - set(TOPIC_KEYS)
        _expect(not unknown, here, f"only the keys {', '.join(repr(k) for k in TOPIC_KEYS)}",
                sorted(unknown))
        definition = body.get("definition") or ""
        _expect(isinstance(definition, str), f"{here}.definition", "a string", definition)
        not_about_raw = body.get("not_about") or {}
        _expect(isinstance(not_about_raw, Mapping), f"{here}.not_about",
                "a mapping of label (what the words show instead) to a list of words", not_about_raw)
        not_about = []
        for label, words in not_about_raw.items():
            _expect(isinstance(label, str) and bool(label.strip()), f"{here}.not_about",
                    "labels as non-empty strings", label)
            not_about.append((label.strip(), _parse_terms(words, f"{here}.not_about.{label}",
                                                         required=True)))
        topics.append(
            Topic(
                name=name,
                terms=_parse_terms(body.get("terms"), f"{here}.terms", required=True),
                exclude=_parse_terms(body.get("exclude") or [], f"{here}.exclude"),
                definition=" ".join(definition.split()),
                confirm=_parse_terms(body.get("confirm"), f"{here}.confirm"),
                not_about=tuple(not_about),
                requires=_parse_terms(body.get("requires"), f"{here}.requires"),
                window=_parse_int(body.get("window"), f"{here}.window", 3, 0, 20),
                min_occurrences=_parse_int(body.get("min_occurrences"), f"{here}.min_occurrences",
                                           3, 1, 100),
                related=_parse_names(body.get("related"), f"{here}.related"),
            )
        )
    names = {t.name for t in topics}
    for t in topics:
        for other in t.related:
            _expect(other in names and other != t.name, f"{where}.{t.name}.related",
                    f"names of other topics ({', '.join(sorted(names - {t.name}))})", other)
    return tuple(topics)


def _parse_names(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    _expect(isinstance(raw, list) and all(isinstance(n, str) for n in raw), where,
            "a list of topic names", raw)
    return tuple(raw)


def read_config_file(path: Path) -> dict[str, Any]:
    """Read the YAML config file; a missing file means defaults, a broken one is a ConfigError."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{at}: {getattr(e, 'problem', e)}") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read: {e.strerror}") from e
    if data is None:
        return {}
    _expect(isinstance(data, dict), str(path), "a mapping at the top level", type(data).__name__)
    known = {"topics", "llm", "sources"}
    unknown = set(data) - known
    _expect(not unknown, str(path), f"only the top-level keys {sorted(known)}", sorted(unknown))
    return dict(data)


def load_settings(
    pelican_settings: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> DigestSettings:
    """Merge defaults, Pelican settings, the environment and the YAML config into one object."""
    env = os.environ if env is None else env
    unknown = sorted(
        k for k in pelican_settings if k.startswith(PREFIX) and k not in DEFAULTS
    )
    if unknown:
        raise ConfigError(
            f"pelican settings: unknown key(s) {', '.join(unknown)}; "
            f"expected one of {', '.join(sorted(DEFAULTS))}"
        )
    s = {k: pelican_settings.get(k, v) for k, v in DEFAULTS.items()}
    for key, var in ENV_OVERRIDES.items():
        if env.get(var):
            s[key] = env[var]

    where = "pelican settings: "
    cats = s["ARXIV_DIGEST_CATEGORIES"]
    _expect(
        isinstance(cats, (list, tuple)) and bool(cats) and all(isinstance(c, str) and c for c in cats),
        where + "ARXIV_DIGEST_CATEGORIES", "a non-empty list of arXiv categories such as 'cs.LG'", cats,
    )
    for key in ("ARXIV_DIGEST_RSS_URL", "ARXIV_DIGEST_API_URL", "ARXIV_DIGEST_BIORXIV_API_URL"):
        url = s[key]
        _expect(
            isinstance(url, str) and url.startswith(("http://", "https://")),
            where + key, "an http(s) URL", url,
        )
    _expect(
        s["ARXIV_DIGEST_REPLACEMENTS"] in ("separate", "hide"),
        where + "ARXIV_DIGEST_REPLACEMENTS", "'separate' or 'hide'", s["ARXIV_DIGEST_REPLACEMENTS"],
    )
    _expect(isinstance(s["ARXIV_DIGEST_LIST_ALL"], bool), where + "ARXIV_DIGEST_LIST_ALL",
            "True or False", s["ARXIV_DIGEST_LIST_ALL"])
    for key, lo in (("ARXIV_DIGEST_TIMEOUT", 0.001), ("ARXIV_DIGEST_REQUEST_DELAY", 0.0),
                    ("ARXIV_DIGEST_DUPLICATE_THRESHOLD", 0.0), ("ARXIV_DIGEST_LOCK_TIMEOUT", 0.0),
                    ("ARXIV_DIGEST_REQUEST_DEADLINE", 0.001), ("ARXIV_DIGEST_FETCH_DEADLINE", 0.001),
                    ("ARXIV_DIGEST_MAX_RETRY_AFTER", 0.0)):
        v = s[key]
        _expect(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= lo,
                where + key, f"a number >= {lo}", v)
    for key, lo in (("ARXIV_DIGEST_RETRIES", 0), ("ARXIV_DIGEST_PAGE_SIZE", 1),
                    ("ARXIV_DIGEST_MAX_REDIRECTS", 0), ("ARXIV_DIGEST_MAX_RESPONSE_BYTES", 1024),
                    ("ARXIV_DIGEST_DUPLICATE_LOOKBACK_DAYS", 0), ("ARXIV_DIGEST_TOPIC_PAGE_SIZE", 1),
                    ("ARXIV_DIGEST_FEED_DAYS", 1), ("ARXIV_DIGEST_FEED_MAX_ENTRIES", 1)):
        v = s[key]
        _expect(isinstance(v, int) and not isinstance(v, bool) and v >= lo,
                where + key, f"an integer >= {lo}", v)
    _expect(s["ARXIV_DIGEST_PAGE_SIZE"] <= 2000, where + "ARXIV_DIGEST_PAGE_SIZE",
            "at most 2000 (arXiv's limit)", s["ARXIV_DIGEST_PAGE_SIZE"])
    # topic pages are paginated by ARXIV_DIGEST_TOPIC_PAGE_SIZE alone (site/topics.py hands it to
    # Pelican's writer as PAGINATED_TEMPLATES["topic"]): a different value there is a second,
    # conflicting source of truth
    paginated = pelican_settings.get("PAGINATED_TEMPLATES")
    if isinstance(paginated, Mapping) and "topic" in paginated:
        topic = paginated["topic"]
        _expect(type(topic) is int and topic == s["ARXIV_DIGEST_TOPIC_PAGE_SIZE"],
                where + "PAGINATED_TEMPLATES['topic']",
                "no 'topic' entry (topic pages are paginated by ARXIV_DIGEST_TOPIC_PAGE_SIZE, "
                f"{s['ARXIV_DIGEST_TOPIC_PAGE_SIZE']})", topic)
    save_as = s["ARXIV_DIGEST_TOPIC_SAVE_AS"]
    _expect(isinstance(save_as, str) and "{slug}" in save_as, where + "ARXIV_DIGEST_TOPIC_SAVE_AS",
            "a path containing {slug}", save_as)
    for key in ("ARXIV_DIGEST_TOPIC_FEED_ATOM", "ARXIV_DIGEST_TOPIC_FEED_RSS"):
        v = s[key]
        _expect(v in (None, "") or (isinstance(v, str) and "{slug}" in v), where + key,
                "a path containing {slug}, or None for no feed", v)
    for key, field_ in (("ARXIV_DIGEST_PAPER_URL", "{id}"), ("ARXIV_DIGEST_PAPER_SAVE_AS", "{id}"),
                        ("ARXIV_DIGEST_FEED_ATOM", ""), ("ARXIV_DIGEST_FEED_RSS", ""),
                        ("ARXIV_DIGEST_DAY_BIB", "{date}"), ("ARXIV_DIGEST_TOPIC_BIB", "{slug}")):
        v = s[key]
        _expect(v in (None, "") or (isinstance(v, str) and field_ in v and not v.startswith("/")),
                where + key, f"a path relative to the site root{' containing ' + field_ if field_ else ''}, "
                "or None for none", v)
    _expect(bool(s["ARXIV_DIGEST_PAPER_URL"]) == bool(s["ARXIV_DIGEST_PAPER_SAVE_AS"]),
            where + "ARXIV_DIGEST_PAPER_SAVE_AS", "set exactly when ARXIV_DIGEST_PAPER_URL is",
            s["ARXIV_DIGEST_PAPER_SAVE_AS"])
    holidays = set()
    for d in (*KNOWN_HOLIDAYS, *s["ARXIV_DIGEST_HOLIDAYS"]):
        try:
            holidays.add(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)))
        except ValueError as e:
            raise ConfigError(
                f"{where}ARXIV_DIGEST_HOLIDAYS: expected ISO dates (YYYY-MM-DD), got {d!r}"
            ) from e

    start = s["ARXIV_DIGEST_START_DATE"]
    start_date: dt.date | None = None
    if isinstance(start, dt.date):
        start_date = start.date() if isinstance(start, dt.datetime) else start
    elif start not in (None, ""):
        try:
            if not isinstance(start, str):
                raise ValueError(f"not a string: {start!r}")
            start_date = dt.date.fromisoformat(start)
        except ValueError as e:
            raise ConfigError(
                f"{where}ARXIV_DIGEST_START_DATE: expected an ISO date (YYYY-MM-DD) or None, got {start!r}"
            ) from e

    content = Path(str(pelican_settings.get("PATH", "content")))
    config_file = Path(str(s["ARXIV_DIGEST_CONFIG"]))
    data_dir = Path(str(s["ARXIV_DIGEST_DATA_DIR"]))
    if not data_dir.is_absolute():
        data_dir = content / data_dir
    raw = read_config_file(config_file)
    topics = parse_topics(raw.get("topics", DEFAULT_TOPICS), str(config_file))
    llm = parse_llm(raw.get("llm"), str(config_file), env, pelican_settings.get("DEFAULT_LANG"))
    sources = parse_sources(raw.get("sources"), str(config_file), tuple(cats))
    return DigestSettings(
        categories=tuple(cats),
        rss_url=str(s["ARXIV_DIGEST_RSS_URL"]).rstrip("/"),
        api_url=str(s["ARXIV_DIGEST_API_URL"]),
        config_file=config_file,
        data_dir=data_dir,
        list_all=s["ARXIV_DIGEST_LIST_ALL"],
        replacements=s["ARXIV_DIGEST_REPLACEMENTS"],
        timeout=float(s["ARXIV_DIGEST_TIMEOUT"]),
        retries=s["ARXIV_DIGEST_RETRIES"],
        request_delay=float(s["ARXIV_DIGEST_REQUEST_DELAY"]),
        page_size=s["ARXIV_DIGEST_PAGE_SIZE"],
        request_deadline=float(s["ARXIV_DIGEST_REQUEST_DEADLINE"]),
        fetch_deadline=float(s["ARXIV_DIGEST_FETCH_DEADLINE"]),
        max_retry_after=float(s["ARXIV_DIGEST_MAX_RETRY_AFTER"]),
        max_redirects=s["ARXIV_DIGEST_MAX_REDIRECTS"],
        max_response_bytes=s["ARXIV_DIGEST_MAX_RESPONSE_BYTES"],
        holidays=frozenset(holidays),
        duplicate_threshold=float(s["ARXIV_DIGEST_DUPLICATE_THRESHOLD"]),
        duplicate_lookback_days=s["ARXIV_DIGEST_DUPLICATE_LOOKBACK_DAYS"],
        topic_save_as=s["ARXIV_DIGEST_TOPIC_SAVE_AS"],
        topic_feed_atom=s["ARXIV_DIGEST_TOPIC_FEED_ATOM"] or "",
        topic_feed_rss=s["ARXIV_DIGEST_TOPIC_FEED_RSS"] or "",
        topic_page_size=s["ARXIV_DIGEST_TOPIC_PAGE_SIZE"],
        topics=topics,
        llm=llm,
        config=raw,
        lock_timeout=float(s["ARXIV_DIGEST_LOCK_TIMEOUT"]),
        paper_url=s["ARXIV_DIGEST_PAPER_URL"] or "",
        paper_save_as=s["ARXIV_DIGEST_PAPER_SAVE_AS"] or "",
        feed_atom=s["ARXIV_DIGEST_FEED_ATOM"] or "",
        feed_rss=s["ARXIV_DIGEST_FEED_RSS"] or "",
        feed_days=s["ARXIV_DIGEST_FEED_DAYS"],
        feed_max_entries=s["ARXIV_DIGEST_FEED_MAX_ENTRIES"],
        day_bib=s["ARXIV_DIGEST_DAY_BIB"] or "",
        topic_bib=s["ARXIV_DIGEST_TOPIC_BIB"] or "",
        start_date=start_date,
        sources=sources,
        biorxiv_api_url=str(s["ARXIV_DIGEST_BIORXIV_API_URL"]).rstrip("/"),
    )
