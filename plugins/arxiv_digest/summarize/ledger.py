"""The cost ledger: per-day token and cost accounting (Digest.extra["ledger"]) and the /ledger/ page.

`update` adds what each run spent to the day's ledger, per model. The build only reads: the
LedgerGenerator writes ledger/index.html with totals per day, per month and overall. Nothing here
imports litellm.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pelican.generators import Generator

from ..core.models import Digest

logger = logging.getLogger(__name__)

LEDGER_URL = "ledger/"
LEDGER_SAVE_AS = "ledger/index.html"
TEMPLATE = "ledger"
COUNTS = ("calls", "prompt_tokens", "completion_tokens", "total_tokens")


@dataclass(frozen=True)
class Row:
    """One line of a ledger table: a model, a day or a month, and its totals."""

    label: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    url: str | None = None

    def plus(self, other: Row, label: str | None = None) -> Row:
        """The sum of two rows."""
        return Row(
            label=label or self.label,
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 10),
            url=self.url,
        )

    @property
    def offline(self) -> bool:
        """No call, no token, no cost: what offline (extractive) summaries record."""
        return (self.calls == 0 and self.prompt_tokens == 0 and self.completion_tokens == 0
                and self.total_tokens == 0 and self.cost_usd == 0)

    @property
    def cost(self) -> str:
        """The cost in USD as shown (no "$": a pair of them would start math on the page)."""
        return format_usd(self.cost_usd)


def format_usd(value: float) -> str:
    """0.0123 (four decimals; six below a cent; 0 for nothing)."""
    if value == 0:
        return "0"
    return f"{value:.6f}" if value < 0.01 else f"{value:.4f}"


def plausible_tokens(reported: Any, ceiling: int) -> tuple[int, str | None]:
    """A token count a provider reported, within [0, ceiling]; with what was wrong, if anything.

    Providers have reported negative counts and counts in the billions; stored as they are they
    put -$4,800 or $6,000,000 in the ledger. A count that is not a number, or is negative, is 0;
    one above the ceiling (what the call could possibly have used) is the ceiling.
    """
    if isinstance(reported, bool) or not isinstance(reported, (int, float)) or reported != reported:
        return (0, f"not a number ({reported!r})") if reported is not None else (0, None)
    if reported < 0:
        return 0, f"negative ({reported:g})"
    if reported > ceiling:
        return ceiling, f"{reported:g} is more than the call could use ({ceiling:,})"
    return int(reported), None


def plausible_cost(cost: float, ceiling: float) -> tuple[float, str | None]:
    """A call's cost within [0, ceiling] (the price of its token ceilings; 0: unpriced, no cap)."""
    if cost != cost or cost < 0:
        return 0.0, f"cost ${cost:g} is negative or not a number"
    if ceiling > 0 and cost > ceiling * 1.01:
        return ceiling, f"cost ${cost:,.4f} is more than the call could cost (${ceiling:,.4f})"
    return cost, None


def add_usage(ledger: Any, model: str, calls: int, prompt: int, completion: int,
              cost: float, *, timed_out: int = 0,
              estimated_prompt_tokens: int = 0, language: str | None = None) -> dict[str, Any]:
    """The day's ledger with one run's usage for one model added (a negative amount adds 0).

    calls: requests the provider received (answered, refused, or abandoned after the timeout);
    timed_out: how many of them were abandoned; estimated_prompt_tokens: the part of prompt
    tokens (and of the cost) that is an estimate, for calls that got no answer to report usage
    (their completion tokens are unknown and counted as 0). The two are stored only once nonzero.
    language: the language the run wrote (a tag, "zh-CN"); the model's row also keeps its usage
    per language under "languages", so the ledger shows what each edition cost.
    """
    if min(calls, prompt, completion, cost, timed_out, estimated_prompt_tokens) < 0:
        logger.warning("ledger %s: a negative amount (calls %s, tokens %s+%s, $%s) is counted as 0",
                       model, calls, prompt, completion, cost)
        calls, prompt, completion, cost = (max(0, calls), max(0, prompt), max(0, completion),
                                           max(0.0, cost))
        timed_out, estimated_prompt_tokens = max(0, timed_out), max(0, estimated_prompt_tokens)
    models = dict(ledger.get("models", {})) if isinstance(ledger, Mapping) else {}
    old = models.get(model) or {}
    row: dict[str, Any] = {
        "calls": int(old.get("calls", 0)) + calls,
        "prompt_tokens": int(old.get("prompt_tokens", 0)) + prompt,
        "completion_tokens": int(old.get("completion_tokens", 0)) + completion,
        "total_tokens": int(old.get("total_tokens", 0)) + prompt + completion,
        "cost_usd": round(float(old.get("cost_usd", 0.0)) + cost, 10),
    }
    for key, amount in (("timed_out", timed_out),
                        ("estimated_prompt_tokens", estimated_prompt_tokens)):
        value = int(old.get(key, 0)) + amount
        if value:
            row[key] = value
    languages = dict(old.get("languages") or {}) if isinstance(old.get("languages"), Mapping) else {}
    if language is not None:
        was: Mapping[str, Any] = languages.get(language) or {}
        was = was if isinstance(was, Mapping) else {}
        languages[language] = {
            "calls": int(was.get("calls", 0)) + calls,
            "prompt_tokens": int(was.get("prompt_tokens", 0)) + prompt,
            "completion_tokens": int(was.get("completion_tokens", 0)) + completion,
            "cost_usd": round(float(was.get("cost_usd", 0.0)) + cost, 10),
        }
    if languages:
        row["languages"] = dict(sorted(languages.items()))
    models[model] = row
    return {"models": dict(sorted(models.items()))}


def model_rows(ledger: Any) -> tuple[Row, ...]:
    """One row per model of a day's ledger (empty when there is none)."""
    if not isinstance(ledger, Mapping) or not isinstance(ledger.get("models"), Mapping):
        return ()
    rows = []
    for model, u in sorted(ledger["models"].items()):
        if isinstance(u, Mapping):
            calls, prompt, completion, tokens = (int(u.get(k, 0)) for k in COUNTS)
            rows.append(Row(str(model), calls, prompt, completion, tokens,
                            float(u.get("cost_usd", 0.0))))
    return tuple(rows)


def total(rows: Iterable[Row], label: str = "total", url: str | None = None) -> Row:
    """The sum of rows."""
    out = Row(label, url=url)
    for r in rows:
        out = out.plus(r, label)
    return out


def spent_usd(digest: Digest) -> float:
    """What summarizing this day has cost so far."""
    return total(model_rows(digest.extra.get("ledger"))).cost_usd


@dataclass(frozen=True)
class Month:
    """One month of the site ledger: its days (newest first) and its total."""

    label: str
    days: tuple[Row, ...]
    total: Row


@dataclass(frozen=True)
class SiteLedger:
    """The whole site's spending: months (newest first), models and the grand total."""

    months: tuple[Month, ...]
    models: tuple[Row, ...]
    total: Row


def site_ledger(days: Iterable[tuple[str, str, Any]]) -> SiteLedger:
    """Aggregate (iso date, day url, ledger) triples into months, models and a total."""
    by_month: dict[str, list[Row]] = {}
    per_model: dict[str, Row] = {}
    for iso, url, ledger in sorted(days, key=lambda d: d[0], reverse=True):
        rows = model_rows(ledger)
        if not rows:
            continue
        by_month.setdefault(iso[:7], []).append(total(rows, iso, url))
        for r in rows:
            per_model[r.label] = per_model.get(r.label, Row(r.label)).plus(r)
    months = tuple(Month(m, tuple(rs), total(rs, m)) for m, rs in by_month.items())
    return SiteLedger(months, tuple(per_model[k] for k in sorted(per_model)),
                      total((m.total for m in months), "all days"))


class LedgerGenerator(Generator):  # type: ignore[misc]
    """Writes ledger/index.html from the day articles' ledgers (reads only, at build time)."""

    def generate_context(self) -> None:
        """Expose the page's URL to every template (e.g. for the site navigation)."""
        self.context["ledger_url"] = LEDGER_URL

    def generate_output(self, writer: Any) -> None:
        """Render the theme's ledger.html (skipped, with a warning, if the theme has none)."""
        days = []
        for article in self.context.get("articles", ()):
            digest = getattr(article, "digest", None)
            if isinstance(digest, Digest):
                days.append((digest.date, article.url, digest.extra.get("ledger")))
        try:
            template = self.get_template(TEMPLATE)
        except Exception as e:  # PelicanTemplateNotFound: a theme without the page
            logger.warning("no ledger page: the theme has no %s.html (%s)", TEMPLATE, e)
            return
        writer.write_file(
            LEDGER_SAVE_AS, template, self.context,
            relative_urls=self.settings["RELATIVE_URLS"], url=LEDGER_URL,
            ledger=site_ledger(days), page_name="ledger",
        )


def get_generators(pelican: Any) -> type[LedgerGenerator]:
    """Pelican's get_generators signal: add the ledger page."""
    del pelican
    return LedgerGenerator
