"""register(): connects the plugin's module-level signal handlers to Pelican."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

from pelican import signals

from ..core.errors import BrokenDaysError, StoreError
from ..core.i18n import install_on_generator
from ..core.settings import RESOLVED_KEY, load_settings
from ..core.store import load
from ..summarize.ledger import get_generators as ledger_generator
from . import autoescape_pelican, finalize_articles, get_generators
from .atlas import get_generators as atlas_generator
from .radar import get_generators as radar_generator
from .render import DigestReader
from .templatecache import enable as keep_compiled_templates
from .writer import finish as finish_writer
from .writer import get_writer


def validate_settings(pelican: Any) -> None:
    """Validate ARXIV_DIGEST_* and the YAML config once, when Pelican initialises."""
    pelican.settings[RESOLVED_KEY] = load_settings(pelican.settings)


def add_reader(readers: Any) -> None:
    """Read content/digests/**/*.json day files as articles."""
    readers.reader_classes["json"] = DigestReader


def broken_days(generator: Any) -> list[str]:
    """'path: what is wrong' for each day file the articles generator could not read."""
    out = []
    for rel, content in sorted(generator.context.get("generated_content", {}).items()):
        if content is not None or not rel.endswith(tuple(f".{e}" for e in DigestReader.file_extensions)):
            continue
        path = Path(generator.path) / rel
        try:
            load(path)
        except StoreError as e:
            out.append(str(e))
        else:  # read fine now: the error was in rendering it, and Pelican logged it above
            out.append(f"{path}: could not be rendered (see the error logged above)")
    return out


def fail_on_broken_days(generator: Any) -> None:
    """Stop the build when a day file is invalid: never publish a site that silently lacks a day.

    Pelican logs "Could not process" for a file its reader raised on and goes on without it; this
    handler (article_generator_finalized, before anything is written) turns that into a failed
    build naming every such file and what is wrong, so `pelican` and `make html` exit non-zero.
    """
    broken = broken_days(generator)
    if broken:
        raise BrokenDaysError(
            f"{len(broken)} day file(s) could not be read; the site was not built "
            "(fix or remove them; `python -m arxiv_digest status` lists them):"
            + "".join(f"{os.linesep}  {b}" for b in broken)
        )


def freeze_heap(generator: Any) -> None:
    """Once every day is read (article_generator_finalized, last): move the heap the articles
    built into the GC's permanent generation (gc.freeze). Those objects live until the build
    ends, and the cyclic GC would otherwise walk them again at each full collection that the
    writing stage's allocations set off (about 1 CPU s of a 1,000-day build that renders nothing).
    Thawed at `finalized` (unfreeze_heap), so an autoreloading `pelican -r` frees them."""
    del generator
    gc.freeze()


def unfreeze_heap(pelican: Any) -> None:
    """At the end of a build: hand the frozen objects back to the GC (see freeze_heap)."""
    del pelican
    gc.unfreeze()


def register() -> None:
    """Connect the handlers."""
    signals.initialized.connect(validate_settings)
    signals.initialized.connect(autoescape_pelican)
    signals.initialized.connect(keep_compiled_templates)  # after validate_settings
    signals.generator_init.connect(install_on_generator)
    signals.readers_init.connect(add_reader)
    signals.article_generator_finalized.connect(fail_on_broken_days)
    signals.article_generator_finalized.connect(finalize_articles)
    signals.article_generator_finalized.connect(freeze_heap)  # after the handlers above
    signals.get_generators.connect(get_generators)
    signals.get_generators.connect(ledger_generator)
    signals.get_generators.connect(radar_generator)
    signals.get_generators.connect(atlas_generator)
    signals.get_writer.connect(get_writer)
    signals.finalized.connect(finish_writer)
    signals.finalized.connect(unfreeze_heap)
