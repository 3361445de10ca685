"""Links to code, models, data and project pages in a paper's abstract and comments, decided at update.

arXiv text writes links in many ways: plain (`https://github.com/a/b.`), bare
(`github.com/a/b`), in TeX (`\\url{…}`, `\\href{…}{…}`, `\\footnote{\\texttt{…}}`, `Cloud\\_Map`),
and broken by the listing's line wrapping (`https://github. com/a/b`, `https:// github.com/a/b`).
`find_links` undoes those, keeps only what points at an artefact, and classifies it:

    code      github.com/OWNER[/REPO], gitlab.com/…, bitbucket.org/…, codeberg.org/…,
              anonymous.4open.science/r/… (the anonymous repositories of double-blind reviews)
    model     huggingface.co/OWNER/NAME (or hf.co), huggingface.co/OWNER, …/collections/…
    dataset   huggingface.co/datasets/OWNER/NAME
    space     huggingface.co/spaces/OWNER/NAME (a demo)
    project   OWNER.github.io/…, OWNER.gitlab.io/…

A link to any other host is kept only when the words before it in its sentence say what it is:
a "project page", "project website", "homepage" or "webpage" (project); "code", "implementation",
"software", "library" or "package" (code); "models", "weights" or "checkpoints" (model); "data",
"dataset" or "benchmark" (dataset), tried in that order, and the sentence then points at the
link ("… available at", "Code:", "(", "… is"). A link nothing describes (a DOI of the
published version, a conference site, a webcast) is not an artefact and is dropped.

Every URL kept is http(s), at most MAX_URL characters, with an ASCII host name (so a look-alike
host such as github.com spelled with a Cyrillic i, U+0456, is never shown as GitHub, nor kept), no user
name or password, no port, and none of the characters that could leave an HTML attribute; anything
else is dropped. `safe_url` is the same test: the build applies it again to what it reads from the
day file, so a hand-edited day file cannot put a `javascript:` link on a page. Links are deduplicated
(host case, `www.`, `http` vs `https`, a trailing `/` or `.git` make no difference) and kept in the
order the text gives them, at most MAX_LINKS per paper.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from ..core.models import Link, Paper

logger = logging.getLogger(__name__)

KINDS = ("code", "model", "dataset", "space", "project")
# what the "has code" filter and the coverage count: released artefacts, not a project page alone
ARTEFACT_KINDS = frozenset({"code", "model", "dataset", "space"})
LABELS = {"code": "code", "model": "model", "dataset": "dataset", "space": "demo",
          "project": "project page"}
MAX_URL = 300  # characters; real artefact links are under 120
MAX_LINKS = 10  # per paper
MAX_TEXT = 100_000  # characters of a field scanned (a hostile abstract is cut, not scanned whole)

CODE_HOSTS = {"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"}
HF_HOSTS = {"huggingface.co", "hf.co"}
PAGE_SUFFIXES = (".github.io", ".gitlab.io")
# huggingface.co/<first segment> that is not an owner: the site's own pages
HF_RESERVED = {"papers", "docs", "blog", "learn", "pricing", "models", "login", "join", "settings",
               "posts", "tasks", "search", "api", "chat", "enterprise", "welcome", "new",
               "organizations", "terms-of-service", "privacy"}
GITHUB_RESERVED = {"features", "about", "pricing", "login", "join", "topics", "marketplace",
                   "sponsors", "explore", "settings", "notifications", "search"}

# \href{URL}{TEXT}: the URL; the text shown is often the same link written otherwise
_TEX_HREF = re.compile(r"\\href\s*\{([^{}]*)\}\s*\{(?:[^{}]|\{[^{}]*\})*\}")
# TeX around or inside links: \url{X}, \texttt{X}, \footnote{X}, escaped _ % # & ~ $
_TEX_CMD = re.compile(r"\\(?:url|href|texttt|footnote|nolinkurl|path|emph|textit|textbf)\s*\{")
_TEX_ESCAPE = re.compile(r"\\([_%#&~$])(?:\{\})?")
# line-wrapping spaces inside a link: "https:// x", "github. com", "github.com/ owner/repo"
_SPACE_AFTER_SCHEME = re.compile(r"\b(https?://)\s+(?=[A-Za-z0-9])", re.IGNORECASE)
_SPACE_IN_HOST = re.compile(
    r"(?<![\w.])((?:https?://)?(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+)\.\s(?=(?:com|io|co|org)(?:[/)\]}]|$))",
    re.IGNORECASE)
_SPACE_AFTER_HOST = re.compile(
    r"(?<![\w.])((?:https?://)?(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co))/\s(?=[\w.-]+/)",
    re.IGNORECASE)
_TLD_AFTER_SPACE = re.compile(r"\.\s(?:com|io|co|org)")
_SPACED_HOSTS = ("github.com", "gitlab.com", "huggingface.co")
_BARE_HINTS = ("github", "gitlab", "huggingface", "hf.co", "bitbucket", "codeberg")
# a candidate: a URL with a scheme, or a bare artefact host (github.com/…, x.github.io, …)
_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
_BARE = re.compile(
    r"(?<![\w@/.:-])(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|hf\.co|bitbucket\.org|"
    r"codeberg\.org|[A-Za-z0-9-]+\.git(?:hub|lab)\.io)(?:/[^\s<>\"'`{}|\\^]*)?",
    re.IGNORECASE)
_TRAILING = ".,;:!?'\"*"
# what the sentence before a link on any other host says it is (the first that matches wins)
_CONTEXT_KINDS = (
    ("project", re.compile(r"\b(?:project|demo)\s+(?:page|website|site|webpage)\b|\bhome\s?page\b"
                           r"|\bweb\s?page\b", re.IGNORECASE)),
    ("code", re.compile(r"\b(?:code|codes|implementation|software|library|toolkit|package)\b",
                        re.IGNORECASE)),
    ("model", re.compile(r"\b(?:models?|weights|checkpoints?)\b", re.IGNORECASE)),
    ("dataset", re.compile(r"\b(?:data\s?sets?|data|benchmarks?|corpus|corpora)\b", re.IGNORECASE)),
)
# ... and then points at the link: "available at", "released on", "Code:", "(", "is", "here"
_POINTER = re.compile(r"(?:\b(?:at|on|from|in|via|is|here|see|under)|[:(\[])\s*$", re.IGNORECASE)
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
# characters a kept URL may contain: RFC 3986 unreserved, reserved and '%' (nothing to escape
# out of an attribute, no space, no quote, no angle bracket, no backslash)
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+$")


def where(url: str) -> str:
    """The URL without its scheme and trailing slash, for the badge's text."""
    return re.sub(r"^https?://", "", url).rstrip("/")


def safe_url(url: Any) -> str | None:
    """The URL if it is an absolute http(s) URL that is safe to put in an href, else None."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL or not _URL_CHARS.match(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if (parts.scheme not in ("http", "https") or port is not None or "@" in parts.netloc
            or not _HOST.match(host) or parts.netloc.lower() != host):
        return None
    return url


def _untex(text: str) -> str:
    """TeX around links taken off: \\url{X} -> ' X ', \\_ -> _, braces -> spaces."""
    text = _TEX_HREF.sub(r" \1 ", text)
    text = _TEX_CMD.sub(" ", text)
    text = _TEX_ESCAPE.sub(r"\1", text)
    return text.replace("{", " ").replace("}", " ")


def _unwrap(text: str, low: str) -> str:
    """Join links that line wrapping broke with a space (`low`: the text in lower case, to skip
    the patterns that cannot match: most abstracts hold no link at all)."""
    if ":// " in low or "://\n" in low:
        text = _SPACE_AFTER_SCHEME.sub(r"\1", text)
    if _TLD_AFTER_SPACE.search(low):
        text = _SPACE_IN_HOST.sub(r"\1.", text)
    if "/ " in low and any(h in low for h in _SPACED_HOSTS):
        text = _SPACE_AFTER_HOST.sub(r"\1/", text)
    return text


def _trim(url: str) -> str:
    """Trailing punctuation off (a ')' only when unbalanced, as in '(https://x/y)')."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in ")]" and url.count("(" if last == ")" else "[")
                                 < url.count(last)):
            url = url[:-1]
        else:
            break
    return url


def _classify(url: str, context: str) -> tuple[str, str] | None:
    """(kind, normalized URL) for an artefact link, None for anything else."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    known = host[4:] if host.startswith("www.") else host
    if known in CODE_HOSTS or known in HF_HOSTS:
        host = known
    segments = [s for s in parts.path.split("/") if s]
    path = "/" + "/".join(segments) if segments else ""
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    if host in CODE_HOSTS:
        if not segments or segments[0].lower() in GITHUB_RESERVED:
            return None
        if len(segments) >= 2 and segments[1].endswith(".git"):
            segments[1] = segments[1][:-4]
            path = "/" + "/".join(segments)
        return "code", f"https://{host}{path}{query}{fragment}"
    if host == "anonymous.4open.science":
        return ("code", f"https://{host}{path}") if segments else None
    if host in HF_HOSTS:
        if not segments or segments[0].lower() in HF_RESERVED:
            return None
        kind = {"datasets": "dataset", "spaces": "space"}.get(segments[0].lower(), "model")
        if kind != "model" and len(segments) < 2:
            return None
        return kind, f"https://huggingface.co{path}"
    if host.endswith(PAGE_SUFFIXES):
        return "project", f"https://{host}{path or '/'}{query}{fragment}"
    if not _POINTER.search(context):
        return None
    for kind, words in _CONTEXT_KINDS:
        if words.search(context):
            return kind, f"{parts.scheme.lower()}://{host}{path or '/'}{query}{fragment}"
    return None


def _key(url: str) -> str:
    """What makes two links the same: case of the host and of GitHub-like paths, a trailing '/'."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    if host in CODE_HOSTS or host in HF_HOSTS or host.endswith(PAGE_SUFFIXES):
        path = path.lower()
    return f"{host}{path}?{parts.query}"


def find_links(*texts: str | None) -> tuple[Link, ...]:
    """The artefact links in these texts (abstract, comments), classified, deduplicated, in order."""
    out: dict[str, Link] = {}
    for raw in texts:
        if not raw:
            continue
        text = raw[:MAX_TEXT]
        low = text.lower()
        if "http" not in low and not any(h in low for h in _BARE_HINTS):
            continue  # no link to find (most abstracts): none of the patterns below can match
        text = _unwrap(_untex(text), low)
        found: list[tuple[int, str]] = [(m.start(), m.group()) for m in _URL.finditer(text)]
        taken = [(m.start(), m.end()) for m in _URL.finditer(text)]
        if any(h in low for h in _BARE_HINTS):
            for m in _BARE.finditer(text):
                if not any(a <= m.start() < b for a, b in taken):
                    found.append((m.start(), "https://" + m.group()))
        for start, candidate in sorted(found):
            url = _trim(candidate)
            if len(url) > MAX_URL or safe_url(url) is None:
                continue
            context = text[max(0, start - 60):start]
            context = re.split(r"(?<=[.!?])\s", context)[-1]  # the sentence the link is in
            classified = _classify(url, context)
            if classified is None:
                continue
            kind, normal = classified
            if safe_url(normal) is None:
                continue
            out.setdefault(_key(normal), Link(kind, normal))
            if len(out) >= MAX_LINKS:
                return tuple(out.values())
    return tuple(out.values())


def has_artefacts(links: Iterable[Link]) -> bool:
    """Whether any link is code, a model, a data set or a demo (what 'has code' filters on)."""
    return any(link.kind in ARTEFACT_KINDS for link in links)


def link_papers(papers: tuple[Paper, ...]) -> tuple[Paper, ...]:
    """Each paper with the artefact links of its abstract and comment (pure, no I/O)."""
    out = tuple(replace(p, links=find_links(p.abstract, p.comment)) for p in papers)
    found = Counter(link.kind for p in out for link in p.links)
    logger.info("code links: %d of %d papers (%s)", sum(1 for p in out if p.links), len(out),
                ", ".join(f"{k} {found[k]}" for k in KINDS if found[k]) or "none")
    return out


class Badge(NamedTuple):
    """A link as the page shows it: kind, href (checked again: http(s) only), label, where."""

    kind: str
    href: str
    label: str
    where: str


def badges(links: Iterable[Link]) -> tuple[Badge, ...]:
    """The badges of a paper's stored links; a link that is not a safe http(s) URL is left out."""
    out = []
    for link in links:
        href = safe_url(link.url)
        if href is not None and link.kind in KINDS:
            out.append(Badge(link.kind, href, LABELS[link.kind], where(href)))
    return tuple(out)
