"""register(): connects the plugin's module-level signal handlers to Pelican."""

from __future__ import annotations

from typing import Any

from pelican import signals

from .ledger import get_generators as ledger_generator
from .render import DigestReader
from .settings import RESOLVED_KEY, load_settings
from .site import finalize_articles, get_generators


def validate_settings(pelican: Any) -> None:
    """Validate ARXIV_DIGEST_* and the YAML config once, when Pelican initialises."""
    pelican.settings[RESOLVED_KEY] = load_settings(pelican.settings)


def add_reader(readers: Any) -> None:
    """Read content/digests/**/*.json day files as articles."""
    readers.reader_classes["json"] = DigestReader


def register() -> None:
    """Connect the handlers."""
    signals.initialized.connect(validate_settings)
    signals.readers_init.connect(add_reader)
    signals.article_generator_finalized.connect(finalize_articles)
    signals.get_generators.connect(get_generators)
    signals.get_generators.connect(ledger_generator)
