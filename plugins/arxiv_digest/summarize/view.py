"""What the day template shows of a stored summary, briefing and ledger (read-only, no litellm).

Every string here is untrusted LLM or abstract text: the template escapes it (autoescape).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..core.i18n import N_
from ..core.models import Digest, lookup_lang
from .ledger import Row, format_usd, model_rows, total

PENDING = N_("summary pending")
EXTRACTIVE = N_("extractive")  # the label of an offline summary: it is in the abstract's language
# Why the model's text is not shown, in words (failure kinds; never the provider's own text).
# Every text is a msgid of the theme's catalogs: the templates translate it (the `why` filter, i18n.py).
WHY = {
    "ungrounded": N_("it stated something its sources do not"),
    "prompt_copy": N_("it copied the prompt"),
    "uncited": N_("it did not cite the listed papers"), "invalid": N_("it broke the reply format"),
    "malformed": N_("the reply was not JSON"), "truncated": N_("the reply was cut off"),
    "timeout": N_("the model timed out"), "budget": N_("the daily budget was reached"),
    "rate_limit": N_("the provider's rate limit"), "server_error": N_("a server error"),
    "connection": N_("the server was unreachable"), "auth": N_("the API key was refused"),
    "bad_request": N_("the provider refused the request"),
}
FAILED = N_("it failed")
SUMMARY_FALLBACK = N_("fallback: the model's summary failed (%(why)s)")
BRIEFING_FALLBACK = N_("fallback: the model's briefing was not used (%(why)s)")


def why(kind: Any) -> str:
    """A failure kind in words."""
    return WHY.get(str(kind), FAILED)
DETAILS = (("technique", N_("Technique")), ("bits_or_sparsity", N_("Bits / sparsity")),
           ("speedup", N_("Speed-up")), ("memory", N_("Memory")), ("models", N_("Models")),
           ("hardware", N_("Hardware")))


@dataclass(frozen=True)
class ScoreView:
    """Relevance and novelty (1-10) with a one-line comment."""

    relevance: int
    novelty: int
    comment: str


@dataclass(frozen=True)
class SummaryView:
    """One paper's summary as shown: done (with its backend label) or pending."""

    state: str  # "done" or "pending"
    backend: str  # "litellm", "extractive" or "" (never summarized)
    label: str  # the model, "extractive", or "summary pending"
    tldr: str | None = None
    method: str | None = None
    headline: str | None = None
    details: tuple[tuple[str, str], ...] = ()
    scores: ScoreView | None = None
    reason: str | None = None  # why it is pending (failure kind), if known
    fallback: str | None = None  # shown instead of the model's summary, which failed: why, in words

    @property
    def pending(self) -> bool:
        """True when there is no summary to show yet."""
        return self.state == "pending"


@dataclass(frozen=True)
class BriefingView:
    """One topic's paragraph: sentences, each with the ids of the papers it cites (linked)."""

    topic: str
    text: str
    label: str  # the model, or "extractive"
    papers: int
    sentences: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fallback: str | None = None  # the model's briefing failed or was refused: why, in words
    reason: str | None = None  # the failure kind behind the fallback (the templates translate it)


@dataclass(frozen=True)
class LedgerView:
    """The day's cost table: one row per model and the total."""

    rows: tuple[Row, ...]
    total: Row


def _text(value: Any) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def score_view(record: Any) -> ScoreView | None:
    """The scores of a stored score record, if it holds valid ones."""
    if not isinstance(record, Mapping) or "failure" in record:
        return None
    r, n = record.get("relevance"), record.get("novelty")
    if not (isinstance(r, int) and isinstance(n, int)):
        return None
    return ScoreView(r, n, _text(record.get("comment")) or "")


def summary_view(record: Any, scoring: bool = False, about: Sequence[str] | None = None,
                 topics: Sequence[str] = ()) -> SummaryView:
    """A paper's stored summary record as the template shows it.

    about / topics: the topics the paper is listed under (tagging.listing) / every configured
    topic. A technique naming a configured topic the paper is not about is not shown: the page
    never labels a paper with a topic it does not list it under.
    """
    scores = score_view(record.get("score")) if scoring and isinstance(record, Mapping) else None
    if not isinstance(record, Mapping):
        return SummaryView("pending", "", PENDING)
    backend = str(record.get("backend") or "")
    fields = record.get("fields")
    failed = record.get("failure")
    reason = failed.get("kind") if isinstance(failed, Mapping) else None
    if not isinstance(fields, Mapping) or not _text(fields.get("tldr")) or (
            failed is not None and backend != "extractive"):
        return SummaryView("pending", backend, PENDING, scores=scores,
                           reason=str(reason) if reason else None)
    details = []
    for key, name in DETAILS:
        value = fields.get(key)
        if key == "technique" and about is not None and value in topics and value not in about:
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value if str(v).strip())
        text = _text(value) if isinstance(value, str) else None
        if text:
            details.append((name, text))
    label = EXTRACTIVE if backend == "extractive" else str(record.get("model") or backend)
    fallback = None
    if failed is not None:  # the model's summary failed: the extractive one stands in for it
        fallback = SUMMARY_FALLBACK % {"why": why(reason)}
    return SummaryView("done", backend, label, _text(fields.get("tldr")),
                       _text(fields.get("method")), _text(fields.get("headline")),
                       tuple(details), scores, str(reason) if reason else None, fallback)


def briefing_views(digest: Digest, topics: Sequence[str], lang: str = "en") -> tuple[BriefingView, ...]:
    """The day's briefing paragraphs in one language, in the configured topic order; a language
    with no briefing yet shows an offline (extractive) one of another language, labelled so."""
    stored = _briefing_in(digest, lang)
    entries = stored.get("topics") if isinstance(stored, Mapping) else None
    if not isinstance(entries, Mapping):
        return ()
    ids = {p.id for p in digest.papers}
    out = []
    for topic in topics:
        rec = entries.get(topic)
        if not isinstance(rec, Mapping) or not _text(rec.get("text")):
            continue
        failed = rec.get("failure")
        extractive = rec.get("backend") == "extractive" or failed is not None
        label = EXTRACTIVE if extractive else str(rec.get("model") or "")
        papers = rec.get("papers")
        text = _text(rec.get("text")) or ""
        sentences = _sentences(rec.get("sentences"), ids) if failed is None else ()
        fallback = None
        if isinstance(failed, Mapping):
            fallback = BRIEFING_FALLBACK % {"why": why(failed.get("kind"))}
        out.append(BriefingView(topic, text, label, papers if isinstance(papers, int) else 0,
                                sentences or ((text, ()),), fallback,
                                str(failed.get("kind")) if isinstance(failed, Mapping) else None))
    return tuple(out)


def _briefing_in(digest: Digest, lang: str) -> Mapping[str, Any] | None:
    """The stored briefing of a language, else an extractive one of another language."""
    stored = digest.extra.get("briefings")
    if not isinstance(stored, Mapping):
        return None
    found = lookup_lang(stored, lang)
    if isinstance(found, Mapping):
        return found
    for key in sorted(stored):
        entries = stored[key].get("topics") if isinstance(stored[key], Mapping) else None
        if isinstance(entries, Mapping) and entries and all(
                isinstance(r, Mapping) and r.get("backend") == "extractive" for r in entries.values()):
            return dict(stored[key])
    return None


def _sentences(raw: Any, ids: set[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A model briefing's sentences with the cited ids that are papers of the day."""
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if isinstance(item, Mapping) and _text(item.get("text")):
            cites = item.get("cites")
            cited = tuple(str(c) for c in cites if str(c) in ids) if isinstance(cites, list) else ()
            out.append((_text(item.get("text")) or "", cited))
    return tuple(out)


def day_ledger(digest: Digest) -> LedgerView | None:
    """The day's cost table, if anything was summarized."""
    rows = model_rows(digest.extra.get("ledger"))
    return LedgerView(rows, total(rows)) if rows else None


V = TypeVar("V")


def sort_by_score(views: Iterable[V], summary_of: Any = lambda v: v.summary) -> tuple[V, ...]:
    """Highest relevance (then novelty) first; unscored papers keep their order at the end."""
    indexed = list(enumerate(views))

    def key(item: tuple[int, V]) -> tuple[int, int, int]:
        s = summary_of(item[1])
        sc = s.scores if isinstance(s, SummaryView) else None
        return (-sc.relevance, -sc.novelty, item[0]) if sc else (1, 0, item[0])

    return tuple(v for _, v in sorted(indexed, key=key))


__all__ = ["PENDING", "BriefingView", "LedgerView", "ScoreView", "SummaryView", "briefing_views",
           "day_ledger", "format_usd", "sort_by_score", "summary_view"]
