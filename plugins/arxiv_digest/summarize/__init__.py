"""Summarizer protocol and backends; the only module that may import litellm (lazily).

`update` calls `make_summarizer(settings).summarize(digest)` after tagging and before storing.
The default backend does nothing: the LLM and extractive backends arrive with the summaries issue.
"""

from __future__ import annotations

from typing import Protocol

from .models import Digest
from .settings import DigestSettings


class Summarizer(Protocol):
    """Adds summaries (and their ledger) to a day; must never raise for one paper's failure."""

    name: str

    def summarize(self, digest: Digest, *, resummarize: bool = False) -> Digest:
        """Return the day with summaries added where possible."""
        ...


class NoopSummarizer:
    """Leaves the day as it is."""

    name = "none"

    def summarize(self, digest: Digest, *, resummarize: bool = False) -> Digest:
        """Return the day unchanged."""
        del resummarize
        return digest


def make_summarizer(settings: DigestSettings) -> Summarizer:
    """The summarizer the configuration asks for."""
    del settings
    return NoopSummarizer()
