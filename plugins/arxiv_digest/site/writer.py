"""A Pelican writer that renders a page only when what its template reads has changed.

A daily build adds one day to an archive of hundreds: its day page, its papers' pages and the
pages that list it change, the thousands of other pages do not. Pelican renders and writes every
page on every build. This writer (connected through Pelican's `get_writer` signal) first computes
a digest of each page's inputs:

  the site       the build fingerprint (daycache.fingerprint: this plugin's code, the theme's
                 templates and translations, digest.yaml, every setting, the library versions)
  the template   its name and the source of every template it extends, includes or imports
  the values     every variable those templates name (jinja2.meta), as the page's context holds
                 it: strings, numbers, dates, containers and dataclasses by value; a day's views
                 and article by the key of the build-cache entry they came from (its day file's
                 hash and the fingerprint); Pelican's articles by their content, metadata, URLs
                 and resolved {filename} links

and skips rendering and writing when the digest equals the one recorded for that output file at
the previous build and the file is still the one written then (same size and mtime). Anything
it cannot digest (an unknown type, a template included by a computed name, a filter that reads
the whole context) means "changed": the page is rendered, as Pelican would. So a skipped page
keeps bytes that a render would reproduce, and an incremental build stays byte-identical to a
cold one (tests/test_build_cache.py).

The record lives beside the build cache (content/digests/.cache/pages/, one file per output
folder), is written at the end of a successful build, and is disposable like the rest of .cache.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import itertools
import json
import logging
import operator
import os
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePath
from typing import Any, ClassVar

from jinja2 import meta
from jinja2.utils import _PassArg
from markupsafe import Markup
from pelican import signals
from pelican.contents import Content
from pelican.paginator import Page, Paginator
from pelican.urlwrappers import URLWrapper
from pelican.utils import get_relative_path, path_to_url, sanitised_join
from pelican.writers import FileOverwriteFailedError, Writer

from ..core import store
from ..core.i18n import catalog_hash
from .daycache import fingerprint
from .render import digest_settings

logger = logging.getLogger(__name__)

FORMAT = 1  # bump when a digest's meaning changes
PAGES_DIR = ".cache/pages"  # under the data folder (content/digests)
CACHE_KEY = "cache_key"  # metadata/attribute: what a reader's output is a pure function of
# settings no page depends on (as for the build cache), and this module's own state
_IGNORED_ATTRIBUTES = frozenset(("settings", "_context", "_content", "metadata", "_summary"))


class Unknown(Exception):
    """A value this module cannot digest: the page that reads it is rendered."""


def _h(*parts: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.digest()


_CONSTANTS = {v: _h(b"v", repr(v).encode()) for v in (None, True, False)}
_MISSING = object()  # a variable the context lacks
# intra-site links whose target Pelican formats from the settings alone ({tag}name -> TAG_URL):
# what they resolve to is a function of their text, SITEURL and the settings (the fingerprint)
_BY_SETTINGS = frozenset(("tag", "category", "author", "index"))


def _name(obj: Any) -> bytes:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}".encode()


class Digester:
    """Digests of template inputs, each value digested once per build (by identity)."""

    def __init__(self, link_spans: dict[str, list[list[int]]] | None = None,
                 link_kinds: dict[str, list[str]] | None = None) -> None:
        self._memo: dict[int, tuple[Any, bytes]] = {}  # id -> (the object, kept alive; digest)
        # cache_key -> [start, end] of each intra-site link in the content (kept across builds)
        self.link_spans: dict[str, list[list[int]]] = link_spans if link_spans is not None else {}
        self.used_spans: dict[str, list[list[int]]] = {}
        # cache_key -> the kinds of its links ({tag}, {filename}...; kept across builds)
        self.link_kinds: dict[str, list[str]] = link_kinds if link_kinds is not None else {}
        self.used_kinds: dict[str, list[str]] = {}
        self._resolved: dict[tuple[str, str, str], bytes] = {}

    def of(self, value: Any) -> bytes:
        """The digest of a value; raises Unknown for what it cannot tell apart."""
        if value is None or value is True or value is False:
            return _CONSTANTS[value]
        memo = self._memo.get(id(value))  # every page reads the same settings strings
        if memo is not None and memo[0] is value:
            return memo[1]
        t = type(value)
        if t is str:
            digest = _h(b"s", value.encode("utf-8", "surrogatepass"))
        elif t is int or t is float:
            digest = _h(b"v", repr(value).encode())
        elif t is Markup:
            digest = _h(b"m", str(value).encode("utf-8", "surrogatepass"))
        else:
            digest = self._compute(value)
        self._memo[id(value)] = (value, digest)
        return digest

    def _compute(self, value: Any) -> bytes:
        if isinstance(value, str):  # another str subclass: its type matters (escaping)
            return _h(b"S", _name(value), value.encode("utf-8", "surrogatepass"))
        if isinstance(value, (bytes, bytearray)):
            return _h(b"b", bytes(value))
        if isinstance(value, enum.Enum):
            return _h(b"e", _name(value), repr(value.value).encode())
        if isinstance(value, (dt.datetime, dt.date, dt.time)):
            tz = getattr(value, "tzinfo", None)
            return _h(b"d", _name(value), value.isoformat().encode(), str(tz).encode())
        if isinstance(value, dt.tzinfo):
            return _h(b"z", _name(value), str(value).encode())
        if isinstance(value, PurePath):
            return _h(b"p", _name(value), str(value).encode())
        key = getattr(value, CACHE_KEY, None)
        if isinstance(key, str) and key and dataclasses.is_dataclass(value):
            return _h(b"k", _name(value), key.encode())  # a build-cache entry's frozen view
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return _h(b"D", _name(value), *(self.of(getattr(value, f.name))
                                             for f in dataclasses.fields(value)))
        if isinstance(value, (list, tuple)):
            return _h(b"l", _name(value), *(self.of(v) for v in value))
        if isinstance(value, Mapping):
            return _h(b"M", _name(value), *(self.of(k) + self.of(v) for k, v in value.items()))
        if isinstance(value, (set, frozenset)):
            return _h(b"t", _name(value), *sorted(self.of(v) for v in value))
        if isinstance(value, Content):
            return self.content(value)
        if isinstance(value, URLWrapper):  # a tag, category or author: its name (slug, URL: settings)
            return _h(b"u", _name(value), self.of(value.name))
        if isinstance(value, Page):
            return _h(b"P", self.of(value.name), self.of(value.number), self.of(value.object_list),
                      self.of(value.paginator), self.of(value.base_url))
        if isinstance(value, Paginator):
            return _h(b"G", self.of(value.name), self.of(value.url), self.of(value.object_list),
                      self.of(value.per_page), self.of(value.orphans))
        return self.callable(value)

    def callable(self, value: Any) -> bytes:
        """A function by name (its code is in the fingerprint), a bound method with its object."""
        if isinstance(value, types.MethodType):
            return _h(b"B", self.of(value.__self__), self.callable(value.__func__))
        if isinstance(value, functools.partial):
            return _h(b"F", self.callable(value.func), self.of(value.args), self.of(value.keywords))
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)):
            defaults = getattr(value, "__defaults__", None) or ()
            if getattr(value, "__closure__", None) or any(
                    isinstance(d, (list, dict, set)) for d in defaults):
                raise Unknown(f"a closure or mutable default: {value!r}")
            return _h(b"f", f"{value.__module__}.{value.__qualname__}".encode())
        raise Unknown(f"a {type(value).__module__}.{type(value).__qualname__}")

    def ref(self, content: Content) -> bytes:
        """Another content a page links to (previous/next day): what it is, not whom it links."""
        return _h(b"r", _name(content), self.of(content.source_path), self._own(content))

    def content(self, content: Content) -> bytes:
        """A Pelican article or page: content (links resolved), metadata, URLs, attributes."""
        parts = [_name(content), self._own(content)]
        for attr, value in sorted(vars(content).items()):
            if attr in _IGNORED_ATTRIBUTES or attr in content.metadata or attr.startswith("_memo"):
                continue
            if isinstance(value, Content):
                parts.append(attr.encode() + self.ref(value))
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Content) for v in value):
                parts.append(attr.encode() + b"".join(self.ref(v) for v in value))
            else:
                parts.append(attr.encode() + self.of(value))
        return _h(b"C", *parts)

    def _own(self, content: Content) -> bytes:
        """Content and metadata: by the reader's cache key when it gives one (then only the
        intra-site links, resolved now, and the fields Pelican formats come from elsewhere)."""
        memo = self._memo.get(-id(content))
        if memo is not None and memo[0] is content:
            return memo[1]
        siteurl = content.get_siteurl()
        key = content.metadata.get(CACHE_KEY)
        parts = [self.of(siteurl)]
        if isinstance(key, str) and key:  # URLs too come from the metadata and the settings
            parts += [b"k" + key.encode(), self._links(content, key, siteurl)]
            fields = content.settings.get("FORMATTED_FIELDS", ())
            parts += [self.of(content.metadata.get(f)) for f in fields]
            if hasattr(content, "override_url") or hasattr(content, "override_save_as"):
                parts += [self.of(content.url), self.of(content.save_as)]
        else:
            parts += [self.of(content.url), self.of(content.save_as), self.of(content.content),
                      self.of(dict(content.metadata))]
        digest = _h(*parts)
        self._memo[-id(content)] = (content, digest)
        return digest

    def _links(self, content: Content, key: str, siteurl: str) -> bytes:
        """The content's intra-site links as they resolve in this build ({filename}, {tag}...)."""
        spans = self.link_spans.get(key)
        kinds = self.link_kinds.get(key)
        if not (isinstance(spans, list) and isinstance(kinds, list)
                and all(isinstance(k, str) for k in kinds)):  # found once per cache entry, then kept
            regex = content._get_intrasite_link_regex()
            found = list(regex.finditer(content._content or ""))
            spans = [[m.start(), m.end()] for m in found]
            kinds = sorted({str(m.group("what")) for m in found})
        self.used_spans[key] = spans
        self.used_kinds[key] = kinds
        if set(kinds) <= _BY_SETTINGS:  # no link names another content: resolved alike always
            return _h(b"Ls", siteurl.encode("utf-8", "surrogatepass"))
        regex = content._get_intrasite_link_regex()
        text = content._content or ""
        out = []
        where = os.path.dirname(content.source_path or "")
        for start, end in spans:
            m = regex.match(text, start, end)
            if m is None or m.end() != end:  # not the content the spans were found in
                raise Unknown(f"{content.source_path}: links moved")
            # a link resolves alike from every content in the same folder (relative paths)
            memo_key = (where, siteurl, m.group(0))
            resolved = None if m.group("what") == "attach" else self._resolved.get(memo_key)
            if resolved is None:  # ({attach} moves the file next to this content: never shared)
                resolved = content._link_replacer(siteurl, m).encode("utf-8", "surrogatepass")
                self._resolved[memo_key] = resolved
            out.append(resolved)
        return _h(b"L", *out)


def _source_hash(env: Any, name: str) -> tuple[str, str]:
    source, filename, _ = env.loader.get_source(env, name)
    h = hashlib.blake2b(f"{name}\0{filename}\0".encode() + source.encode("utf-8"), digest_size=16)
    return source, h.hexdigest()


def template_names(template: Any, known: Any = None) -> tuple[dict[str, str], list[str]] | None:
    """(template name -> hash of its source, variable names) of a template and every template it
    pulls in; None when one is pulled in by a computed name. `known`: this result from an earlier
    build, reused when every source hashes the same (parsing the templates costs more than
    rendering a few pages)."""
    env = template.environment
    if (isinstance(known, list) and len(known) == 2 and isinstance(known[0], dict)
            and isinstance(known[1], list) and known[0]):
        try:
            if all(_source_hash(env, n)[1] == h for n, h in known[0].items()):
                return {str(k): str(v) for k, v in known[0].items()}, [str(n) for n in known[1]]
        except Exception:  # a template gone: analysed again below
            pass
    names: set[str] = set()
    sources: dict[str, str] = {}
    pending = [template.name]
    while pending:
        name = pending.pop()
        if name in sources:
            continue
        source, sources[name] = _source_hash(env, name)
        ast = env.parse(source)
        names |= meta.find_undeclared_variables(ast)
        for ref in meta.find_referenced_templates(ast):
            if ref is None:
                return None
            pending.append(ref)
    return sources, sorted(names)


def _reads_context(env: Any) -> bool:
    """Whether a filter, test or global of env reads the whole context (not Jinja's own)."""
    for table in (env.filters, env.tests, env.globals):
        for f in table.values():
            if getattr(f, "jinja_pass_arg", None) is _PassArg.context and not str(
                    getattr(f, "__module__", "")).startswith("jinja2"):
                return True
    return False


class _Skipped(str):
    """What a skipped page 'renders' to: nothing is written."""


class _NullFile:
    def __enter__(self) -> _NullFile:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def write(self, text: str) -> int:
        return 0


class _Keyed:
    """A template as the writer hands it to Pelican's write_file: renders unless unchanged."""

    def __init__(self, template: Any, writer: SkipWriter) -> None:
        self._template = template
        self._writer = writer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._template, name)

    def render(self, *args: Any, **kwargs: Any) -> str:
        """The page's HTML, or a _Skipped marker when its file already holds it."""
        if (args and isinstance(args[0], Mapping) and not kwargs
                and self._writer.unchanged(self._template, args[0])):
            return _Skipped()
        self._writer.pending_skip = None
        return str(self._template.render(*args, **kwargs))


class SkipWriter(Writer):  # type: ignore[misc]
    """Pelican's writer, skipping pages whose template inputs are unchanged since the last build."""

    active: ClassVar[SkipWriter | None] = None  # this build's writer (reset on finalized)

    def __init__(self, output_path: str, settings: dict[str, Any] | None = None) -> None:
        super().__init__(output_path, settings=settings)
        self.on = False
        self.record_path: Path | None = None
        self.fingerprint = ""
        self.pages: dict[str, list[Any]] = {}  # this build's record: path -> [digest, size, mtime]
        self.old: dict[str, list[Any]] = {}
        self.previous: dict[str, list[Any]] = {}  # the last build's record, whatever its fingerprint
        self.pending_skip: tuple[str, str] | None = None  # (path, digest) of the page being written
        self.pending_key: tuple[str, str] | None = None
        self.rendered = self.skipped = 0
        self._templates: dict[int, tuple[Any, tuple[bytes, list[str]] | None]] = {}
        self.old_templates: dict[str, Any] = {}  # template name -> template_names() of the last build
        self.templates: dict[str, Any] = {}
        self.digester = Digester()
        # (name, path, digest or None: not digestible) of the page write_file found changed
        self.decided: tuple[str, str, str | None] | None = None
        self._shared_memo: dict[tuple[bytes, int, tuple[str, ...]], tuple[Any, list[Any], bytes]] = {}
        self._splits: dict[tuple[bytes, tuple[str, ...]],
                           tuple[tuple[str, ...], tuple[tuple[str, bytes], ...]]] = {}
        self._out_prefix = sanitised_join(self.output_path, "x")[:-1]  # ".../output/"
        self._start()
        SkipWriter.active = self

    def _start(self) -> None:
        settings = self.settings
        try:
            ds = digest_settings(settings)
        except Exception as e:  # not this plugin's build (no settings): write as Pelican does
            logger.debug("page record off: %s", e)
            return
        theme = settings.get("THEME")
        keyed = {**settings, "ARXIV_DIGEST_CATALOG": catalog_hash(theme, settings.get("DEFAULT_LANG"))}
        self.fingerprint = f"{FORMAT}:" + fingerprint(keyed, ds.config_file, theme)
        out = os.path.realpath(self.output_path)
        name = hashlib.sha256(out.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        self.record_path = ds.data_dir / PAGES_DIR / f"{name}.record"  # not .json: no day file
        self.on = True
        try:
            data = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and isinstance(data.get("pages"), dict):
            self.previous = data["pages"]  # what the last build wrote here: see remove_stale
        if not isinstance(data, dict) or data.get("fingerprint") != self.fingerprint:
            return  # another site, code or config: every page is rendered
        pages, spans, templates = data.get("pages"), data.get("links"), data.get("templates")
        kinds = data.get("link_kinds")
        if isinstance(pages, dict):
            self.old = pages
        if isinstance(templates, dict):
            self.old_templates = templates
        if isinstance(spans, dict) and isinstance(kinds, dict):
            self.digester = Digester(spans, kinds)

    def write_file(self, name: Any, template: Any, context: Any, relative_urls: bool = False,
                   paginated: Any = None, template_name: Any = None, override_output: bool = False,
                   url: Any = None, **kwargs: Any) -> None:
        """Pelican's write_file, through a template that skips unchanged pages. A page Pelican
        would not paginate is decided here, before Pelican builds its context: an unchanged one
        costs a digest of what differs from the last page written from the same context."""
        if self.on and template is not None and not isinstance(template, _Keyed):
            if self._skip_page(name, template, context, relative_urls, paginated, template_name,
                               override_output, kwargs):
                return
            template = _Keyed(template, self)
        super().write_file(name, template, context, relative_urls=relative_urls,
                           paginated=paginated, template_name=template_name,
                           override_output=override_output, url=url, **kwargs)

    def _skip_page(self, name: Any, template: Any, context: Any, relative_urls: bool,
                   paginated: Any, template_name: Any, override: bool,
                   kwargs: dict[str, Any]) -> bool:
        """Whether one page (not paginated) is unchanged: then it is booked as written (Pelican's
        checks, content_written) and not rendered. Otherwise the decision waits for render()."""
        self.decided = None
        if not name or not isinstance(name, str) or not isinstance(context, dict):
            return False
        if paginated is None:  # as Pelican decides whether to paginate (Writer.write_file)
            paginated = {k: v for k, v in kwargs.items() if k in {"articles", "dates"}}
        if paginated and template_name in self.settings["PAGINATED_TEMPLATES"]:
            return False  # several pages: decided one by one in render()
        inputs = self._inputs(template)
        if inputs is None:
            return False
        # what Pelican's _get_localcontext puts over the context
        localsiteurl = context.get("localsiteurl", None)
        overlay: dict[str, Any] = {}
        if relative_urls:
            localsiteurl = overlay["SITEURL"] = path_to_url(get_relative_path(name))
        overlay["localsiteurl"] = localsiteurl
        overlay["output_file"] = name
        overlay.update(kwargs)
        path = sanitised_join(self.output_path, name)
        try:
            shared_names, own = self._split(inputs, overlay)
            shared = self._shared(inputs[0], shared_names, context)
            digest = _h(b"W", inputs[0], shared, *(
                name + self.digester.of(overlay[var]) for var, name in own)).hex()
        except Unknown as e:
            logger.debug("%s: rendered (%s)", name, e)
            self.decided = (name, path, None)
            return False
        self.decided = (name, path, digest)
        st = self._kept(path, digest)
        if st is None:
            return False
        self.decided = None
        localsiteurl = overlay["localsiteurl"]
        if localsiteurl:  # as Pelican's _write_file leaves it for the pages after this one
            context["localsiteurl"] = localsiteurl
        self._book(path, override)
        self._remember_stat(path, digest, st)
        self.skipped += 1
        if signals.content_written.receivers:
            localcontext = dict(context)
            localcontext.update(overlay)
            signals.content_written.send(path, context=localcontext)
        return True

    def _split(self, inputs: tuple[bytes, list[str]], overlay: Mapping[str, Any]
               ) -> tuple[tuple[str, ...], tuple[tuple[str, bytes], ...]]:
        """The template's variables the context gives, and those the call gives (with their
        names encoded), in the template's order; once per template and call signature."""
        key = (inputs[0], tuple(overlay))
        split = self._splits.get(key)
        if split is None:
            split = (tuple(var for var in inputs[1] if var not in overlay),
                     tuple((var, var.encode()) for var in inputs[1] if var in overlay))
            self._splits[key] = split
        return split

    def _shared(self, template_key: bytes, names: tuple[str, ...], context: Mapping[str, Any]
                ) -> bytes:
        """The digest of the variables a page takes from the generator's context (every page of
        a generator shares them): kept while each is the same object as when it was digested."""
        key = (template_key, id(context), names)
        values = list(map(context.get, names, itertools.repeat(_MISSING, len(names))))
        memo = self._shared_memo.get(key)
        if (memo is not None and memo[0] is context and len(memo[1]) == len(values)
                and all(map(operator.is_, values, memo[1]))):
            return memo[2]
        missing = b"\0missing"
        digest = _h(b"shared", *(var.encode() + (missing if v is _MISSING else self.digester.of(v))
                                 for var, v in zip(names, values, strict=True)))
        self._shared_memo[key] = (context, values, digest)
        return digest

    def _kept(self, path: str, digest: str) -> os.stat_result | None:
        """The output file's stat when the record has `digest` for it and the file is the one
        written then (same size and mtime), else None."""
        old = self.old.get(self._rel(path))
        if not (isinstance(old, list) and len(old) == 3 and old[0] == digest):
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        if [st.st_size, st.st_mtime_ns] != old[1:]:
            return None
        return st

    def _rel(self, path: str) -> str:
        """A path under the output folder, relative to it (posix)."""
        if path.startswith(self._out_prefix):
            return path[len(self._out_prefix):]
        return Path(os.path.relpath(path, self.output_path)).as_posix()

    def _inputs(self, template: Any) -> tuple[bytes, list[str]] | None:
        """(hash of the template's sources, the variables it reads), or None: always rendered."""
        known = self._templates.get(id(template))
        if known is None or known[0] is not template:
            name = str(getattr(template, "name", ""))
            inputs: tuple[bytes, list[str]] | None = None
            try:
                found = None if _reads_context(template.environment) else template_names(
                    template, self.old_templates.get(name))
            except Exception as e:  # a template the loader cannot give back: rendered
                logger.debug("%s: not analysed (%s)", name, e)
                found = None
            if found is not None:
                self.templates[name] = [found[0], found[1]]
                sources = json.dumps(found[0], sort_keys=True).encode()
                inputs = (_h(b"T", name.encode(), sources), found[1])
            known = (template, inputs)
            self._templates[id(template)] = known
        return known[1]

    def unchanged(self, template: Any, localcontext: Mapping[str, Any]) -> bool:
        """Whether the page's file holds what rendering it now would give (then it is skipped)."""
        self.pending_skip = self.pending_key = None
        name = localcontext.get("output_file")
        decided, self.decided = self.decided, None
        if decided is not None and decided[0] == name:  # write_file found it changed
            if decided[2] is not None:
                self.pending_key = (decided[1], decided[2])
            return False
        inputs = self._inputs(template)
        if not isinstance(name, str) or inputs is None:
            return False
        path = sanitised_join(self.output_path, name)
        try:
            parts = [inputs[0]]
            missing = b"\0missing"
            for var in inputs[1]:
                parts.append(var.encode() + (self.digester.of(localcontext[var])
                                             if var in localcontext else missing))
        except Unknown as e:
            logger.debug("%s: rendered (%s)", name, e)
            return False
        digest = _h(*parts).hex()
        self.pending_key = (path, digest)
        if self._kept(path, digest) is None:
            return False
        self.pending_skip = (path, digest)
        return True

    def _open_w(self, filename: str, encoding: str, override: bool = False) -> Any:
        skip, key = self.pending_skip, self.pending_key
        self.pending_skip = self.pending_key = None
        if skip is not None and skip[0] == filename:
            self._book(filename, override)
            self._remember(filename, skip[1])
            self.skipped += 1
            return _NullFile()
        f = super()._open_w(filename, encoding, override)
        if key is None or key[0] != filename:
            return f
        return self._recording(f, filename, key[1])

    @contextlib.contextmanager
    def _recording(self, f: Any, filename: str, digest: str) -> Iterator[Any]:
        with f:
            yield f
        self.rendered += 1
        self._remember(filename, digest)

    def _book(self, filename: str, override: bool) -> None:
        """Pelican's checks against writing a file twice (Writer._open_w), for a skipped page."""
        if filename in self._overridden_files:
            if override:
                raise FileOverwriteFailedError(
                    f'Failed to overwrite "{filename}" a second time (was previously overwritten)')
        elif filename in self._written_files and not override:
            raise FileOverwriteFailedError(
                f'Failed to overwrite "{filename}" as Pelican has already written to it '
                "previously (set `override=True` if intended)")
        if override:
            self._overridden_files.add(filename)
        self._written_files.add(filename)

    def write_text(self, name: str, key: str, make: Callable[[], str]) -> bool:
        """Write a generated text file (no template: a .bib) at `name` under the output folder,
        under the page record: when `key` (what make() is a pure function of, besides the build
        fingerprint) and the file are as recorded at the last build, neither make() nor the write
        runs. An empty key, or the record off, writes when the bytes differ. Returns whether
        make() ran."""
        path = sanitised_join(self.output_path, name)
        if not (self.on and key):
            store.write_if_changed(Path(path), make())
            return True
        digest = _h(b"text", key.encode("utf-8", "surrogatepass")).hex()
        old = self.old.get(self._rel(path))
        if isinstance(old, list) and len(old) == 3 and old[0] == digest:
            try:
                st = os.stat(path)
            except OSError:
                st = None
            if st is not None and [st.st_size, st.st_mtime_ns] == old[1:]:
                self._remember(path, digest)
                return False
        store.write_if_changed(Path(path), make())
        self._remember(path, digest)
        return True

    def _remember(self, filename: str, digest: str) -> None:
        try:
            st = os.stat(filename)
        except OSError:
            return
        self._remember_stat(filename, digest, st)

    def _remember_stat(self, filename: str, digest: str, st: os.stat_result) -> None:
        self.pages[self._rel(filename)] = [digest, st.st_size, st.st_mtime_ns]

    def remove_stale(self) -> int:
        """Delete the files the last build wrote through this writer and this one did not (a day
        or topic gone, a page renamed), so a kept output/ holds what a fresh one would: only a file
        still as recorded (same size and mtime) is deleted, never one written since by anything
        else. Folders left empty go too. Returns how many files were deleted."""
        if not self.on:
            return 0
        root = os.path.realpath(self.output_path)
        removed = 0
        for rel, rec in self.previous.items():
            if rel in self.pages or not (isinstance(rel, str) and isinstance(rec, list) and len(rec) == 3):
                continue
            path = os.path.realpath(os.path.join(root, rel))
            if os.path.commonpath([root, path]) != root or path == root:
                continue  # a record naming a path outside the output: never touched
            try:
                st = os.stat(path)
                if [st.st_size, st.st_mtime_ns] != rec[1:]:
                    continue
                os.unlink(path)
            except OSError:
                continue
            removed += 1
            parent = os.path.dirname(path)
            while parent != root and os.path.commonpath([root, parent]) == root:
                try:
                    os.rmdir(parent)  # only when empty
                except OSError:
                    break
                parent = os.path.dirname(parent)
        if removed:
            logger.info("Removed %d stale file(s) the last build wrote into %s", removed, root)
        return removed

    def save(self) -> None:
        """Keep this build's record for the next build (atomically; a failure only warns)."""
        if not self.on or self.record_path is None:
            return
        data = {"format": FORMAT, "fingerprint": self.fingerprint, "pages": self.pages,
                "links": self.digester.used_spans, "link_kinds": self.digester.used_kinds,
                "templates": self.templates}
        try:
            store.replace_file(self.record_path, json.dumps(data, separators=(",", ":")).encode("utf-8"))
        except OSError as e:
            logger.warning("%s: the page record cannot be written (%s); the next build renders "
                           "every page", self.record_path, e)
        logger.info("Pages: %d rendered, %d unchanged since the last build (not rendered)",
                    self.rendered, self.skipped)


def get_writer(pelican: Any) -> type[SkipWriter]:
    """The writer Pelican uses (plugin.py connects this to get_writer)."""
    return SkipWriter


def finish(pelican: Any) -> None:
    """At the end of a build (finalized): keep the page record, forget this build's writer."""
    writer, SkipWriter.active = SkipWriter.active, None
    if writer is not None:
        writer.remove_stale()
        writer.save()


__all__ = ["Digester", "SkipWriter", "Unknown", "finish", "get_writer", "template_names"]

