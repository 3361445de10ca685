"""Compiled theme templates kept between builds (Jinja's bytecode cache).

Pelican gives every generator its own Jinja environment, built from JINJA_ENVIRONMENT, and each
compiles the templates it renders anew on every build (about 30 of them, 0.3-0.7 s of a daily
build). With a `bytecode_cache` in JINJA_ENVIRONMENT, a template whose source is unchanged is
loaded from its compiled code instead, for every environment and every build after the first.

A compiled template depends on more than its source: on the environment's syntax and options
(delimiters, autoescape, extensions, finalize, async), on the i18n extension's newstyle gettext,
and on how each filter and test is called (Jinja passes a context, eval context or environment
to the functions that ask for one, decided when compiling). All of that, with Jinja's version, is
part of an entry's key: an environment configured otherwise never reads another's code. Jinja
checks the source's checksum and the Python version itself. And Jinja's optimizer folds a filter
applied to a constant (`{{ "x"|tr }}`) into the code, with the filter as it was: so the entries
live in a folder per build fingerprint (daycache.fingerprint: this plugin's code, the theme, the
settings and the edition's catalog), and another language or another version of a filter never
reads them. The daily build, same code and settings, reads them.

The cache lives beside the build cache (content/digests/.cache/jinja/<fingerprint>/), and like it
is disposable; the folders of the most recent fingerprints are kept (two editions build from the
same data folder), older ones removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache
from jinja2.utils import _PassArg

from ..core.i18n import catalog_hash
from .daycache import fingerprint
from .render import digest_settings

logger = logging.getLogger(__name__)

CACHE_DIR = ".cache/jinja"  # under the data folder (content/digests)
KEEP = 4  # fingerprints whose compiled templates are kept (editions, a code change and back)
_OPTIONS = ("block_start_string", "block_end_string", "variable_start_string",
            "variable_end_string", "comment_start_string", "comment_end_string",
            "line_statement_prefix", "line_comment_prefix", "trim_blocks", "lstrip_blocks",
            "newline_sequence", "keep_trailing_newline", "optimized", "is_async",
            "newstyle_gettext")


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def signature(env: Any) -> str:
    """What, besides a template's source, its compiled code depends on in this environment."""
    autoescape = env.autoescape
    parts = [f"jinja2 {jinja2.__version__}", _name(type(env)), _name(env.code_generator_class),
             f"autoescape={autoescape!r}" if isinstance(autoescape, bool) else _name(autoescape),
             f"finalize={_name(env.finalize) if env.finalize else None}:"
             f"{_PassArg.from_obj(env.finalize) if env.finalize else None}"]
    parts += [f"{o}={getattr(env, o, None)!r}" for o in _OPTIONS]
    parts += [f"ext {k}={_name(type(v))}" for k, v in sorted(env.extensions.items())]
    for kind, table in (("filter", env.filters), ("test", env.tests)):
        parts += sorted(f"{kind} {k}={_PassArg.from_obj(f)}" for k, f in table.items())
    return "\n".join(parts)


class TemplateBytecode(FileSystemBytecodeCache):
    """Jinja's file bytecode cache, keyed also by the environment's signature()."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(str(directory), "%s.jinja")
        self.path = directory

    def get_bucket(self, environment: Any, name: str, filename: str | None,
                   source: str) -> Bucket:
        """The bucket of a template in this environment (its code, when kept and still valid)."""
        key = hashlib.sha256(
            f"{name}\0{filename}\0{signature(environment)}".encode("utf-8", "surrogatepass")
        ).hexdigest()[:40]
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        """A kept compiled template, if any; a damaged file is a miss (compiled again)."""
        try:
            super().load_bytecode(bucket)
        except Exception as e:  # unpickling a damaged header raises almost anything: a miss
            logger.debug("%s: a damaged compiled template, compiled again (%s)", bucket.key, e)
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep a compiled template; a cache that cannot be written only costs compiling."""
        try:
            super().dump_bytecode(bucket)
        except OSError as e:
            logger.debug("%s: compiled template not kept (%s)", self.path, e)

    def __repr__(self) -> str:  # stable: settings are fingerprinted (daycache.canonical)
        return f"TemplateBytecode({str(self.path)!r})"


def enable(pelican: Any) -> None:
    """When Pelican initialises (after the settings are validated): a bytecode cache in
    JINJA_ENVIRONMENT, unless one is set already. A folder that cannot be made leaves it off."""
    settings = pelican.settings
    jinja = dict(settings.get("JINJA_ENVIRONMENT") or {})
    if jinja.get("bytecode_cache") is not None:
        return
    ds = digest_settings(settings)  # validated: a ConfigError was raised before
    theme = settings.get("THEME")
    keyed = {**settings, "ARXIV_DIGEST_CATALOG": catalog_hash(theme, settings.get("DEFAULT_LANG"))}
    base = ds.data_dir / CACHE_DIR
    folder = base / fingerprint(keyed, ds.config_file, theme)
    try:
        jinja["bytecode_cache"] = TemplateBytecode(folder)
        os.utime(folder)  # in use: pruned last
        _prune(base, folder)
    except OSError as e:  # a read-only tree: templates are compiled as Pelican does
        logger.warning("%s: compiled templates are not kept (%s)", folder, e)
        return
    settings["JINJA_ENVIRONMENT"] = jinja


def _prune(base: Path, current: Path) -> None:
    """Remove the folders of all but the KEEP most recently used fingerprints."""
    folders = sorted((p for p in base.iterdir() if p.is_dir() and p != current),
                     key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in folders[KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["CACHE_DIR", "TemplateBytecode", "enable", "signature"]
