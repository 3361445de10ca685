"""The summarize stage: Summarizer protocol, make_summarizer, and the two backends.

`update` calls `make_summarizer(settings).summarize(digest)` after tagging and before storing.
With no model configured the offline extractive backend runs; with `llm.model` (or
ARXIV_DIGEST_LLM_MODEL) litellm does. litellm is imported only by summarize.llm, and only when a
call is about to be made: building the site never imports it.

    config.py      the `llm:` section of digest.yaml (LLMSettings)
    prompts.py     versioned prompt files
    schema.py      parsing and validating replies; the JSON schemas sent to providers
    grounding.py   is a model's sentence grounded in its sources (numbers, names, venues, copies)
    extractive.py  the offline backend
    llm.py         the litellm backend (async, budgeted, retried)
    records.py     cache keys, keep-or-call, failures, redaction
    day.py         DaySummarizer: one day's summaries, scores, briefing, ledger
    view.py        what the day page shows of it
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ..core.models import Digest
from ..enrich.claims import apply_model
from .day import DaySummarizer, utc_now
from .extractive import ExtractiveRunner

if TYPE_CHECKING:
    from ..core.settings import DigestSettings


class Summarizer(Protocol):
    """Adds summaries (and their ledger) to a day; must never raise for one paper's failure."""

    name: str

    def summarize(self, digest: Digest, *, resummarize: bool = False) -> Digest:
        """Return the day with summaries added where possible."""
        ...


class WithClaims(DaySummarizer):
    """DaySummarizer, then each paper's stored model claims (summary.v4) merged into its rules
    claims (enrich.claims.apply_model): the day file `update` and `summarize` store holds them."""

    def summarize(self, digest: Digest, *, resummarize: bool = False) -> Digest:
        """The day summarized, with the model's claims merged."""
        return apply_model(super().summarize(digest, resummarize=resummarize))


def make_summarizer(settings: DigestSettings,
                    clock: Callable[[], dt.datetime] = utc_now) -> Summarizer:
    """The summarizer the configuration asks for: litellm with a model, else extractive.

    clock: the current time (UTC), which decides when failed summaries are asked again.
    """
    if settings.llm.model:
        from .llm import LiteLLMRunner  # litellm itself is imported later, at the first call

        return WithClaims(settings, LiteLLMRunner(settings.llm), clock)
    return WithClaims(settings, ExtractiveRunner(), clock)


__all__ = ["DaySummarizer", "Summarizer", "WithClaims", "make_summarizer"]
