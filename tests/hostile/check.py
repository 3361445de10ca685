"""What counts as injected markup in a built page, a feed entry, a search fragment or an export."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from lxml import html

# Attributes whose value a browser follows or loads as a URL.
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
             "cite", "srcdoc", "srcset", "ping", "manifest", "codebase", "content"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
FORBIDDEN = {"base", "iframe", "frame", "frameset", "object", "embed", "applet", "img"}
# The theme's own external scripts (KaTeX is added at run time, never in the built HTML).
OWN_SCRIPTS = ("/theme/js/site.js", "/theme/js/atlas.js", "/theme/js/radar.js")
# Raw text that only a payload that escaped escaping can produce.
RAW = ("<script>alert", "<img src=x", "<svg onload", "<base href", "<meta http-equiv=\"refresh\"",
       "<iframe src=\"javascript", "<details open ontoggle", "<a href=\"javascript", "<a href=\"data:",
       "<img/src")
_CTRL = re.compile(r"[\x00-\x20]+")


def theme_inline_scripts(theme: Path) -> set[str]:
    """The inline scripts the theme's templates carry (the only inline scripts a page may have)."""
    out = set()
    for t in (theme / "templates").glob("*.html"):
        out.update(s.strip() for s in re.findall(r"<script>(.*?)</script>", t.read_text(), re.S))
    return out


def raw_problems(text: str) -> list[str]:
    """Payload markup present verbatim in the source text (before any parsing)."""
    return [f"raw {r!r}" for r in RAW if r in text]


def element_problems(root: html.HtmlElement, inline_ok: Iterable[str] = ()) -> list[str]:
    """on* attributes, javascript:/data: URLs, injected scripts and forbidden elements."""
    inline_ok = set(inline_ok)
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower().rpartition("}")[2]
        for name, value in el.attrib.items():
            n = name.lower().rpartition("}")[2]
            if n.startswith("on"):
                out.append(f"<{tag} {n}=...>")
            v = _CTRL.sub("", value).lower()
            # a <meta name="citation_title" content="..."> holds text; only a refresh or a *url
            # meta holds a URL in content
            text_meta = tag == "meta" and n == "content" and not el.get("http-equiv") and "url" not in (
                (el.get("name") or "") + (el.get("property") or "")).lower()
            if (n in URL_ATTRS or n.endswith("href")) and not text_meta and (
                    v.startswith(BAD_SCHEMES) or "url=javascript:" in v):
                out.append(f"<{tag} {n}={value[:60]!r}>")
        if tag in FORBIDDEN:
            out.append(f"<{tag}>")
        if tag == "meta" and el.get("http-equiv"):
            out.append(f"<meta http-equiv={el.get('http-equiv')!r}>")
        if tag == "script":
            src = el.get("src")
            if src is not None:
                if not src.endswith(OWN_SCRIPTS):
                    out.append(f"<script src={src!r}>")
            elif (el.text or "").strip() not in inline_ok:
                out.append(f"<script>{(el.text or '')[:60]}")
    return out


def fragment_problems(text: str, inline_ok: Iterable[str] = ()) -> list[str]:
    """Problems of an HTML fragment (a feed entry's content), parsed the way a reader would."""
    root = html.fragment_fromstring(text, create_parent="div") if text.strip() else html.Element("div")
    return raw_problems(text) + element_problems(root, inline_ok)


def cbor_strings(data: bytes) -> list[str]:
    """Every text string in a CBOR document (Pagefind's index files): maps, arrays, ints, bytes."""
    out: list[str] = []

    def item(i: int) -> int:
        head = data[i]
        major, info = head >> 5, head & 31
        i += 1
        if info < 24:
            n = info
        elif info in (24, 25, 26, 27):
            size = 1 << (info - 24)
            n = int.from_bytes(data[i:i + size], "big")
            i += size
        else:
            raise ValueError(f"unsupported CBOR item {head:#x} at {i - 1}")
        if major in (0, 1, 7):  # integers, simple values
            return i
        if major in (2, 3):  # bytes, text
            if major == 3:
                out.append(data[i:i + n].decode("utf-8"))
            return i + n
        if major == 4:
            for _ in range(n):
                i = item(i)
            return i
        if major == 5:
            for _ in range(2 * n):
                i = item(i)
            return i
        return item(i)  # major 6: a tag, then its item

    pos = 0
    while pos < len(data):
        pos = item(pos)
    return out
