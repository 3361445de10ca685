"""DaySummarizer: decide what to (re)summarize, run a backend, store records, briefing and ledger.

Results are matched to papers by id, never by position. Stored records whose cache key still
holds are kept, so re-running a day makes no calls. A failure is stored on its paper (shown as
"summary pending") and retried on the next run; it never blocks the day.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..ledger import add_usage, spent_usd
from ..models import Digest, Paper
from .extractive import briefing_text
from .jobs import Job, Outcome, Runner, Usage
from .records import (
    cache_key,
    decide,
    digest_of,
    failure,
    paper_content_key,
    redact,
    secret_values,
    usage_dict,
)

if TYPE_CHECKING:
    from ..settings import DigestSettings

logger = logging.getLogger(__name__)

EXTRACTIVE_LEDGER_ROW = "extractive"


def succeeded(record: Any) -> bool:
    """A stored record with a result (not a failure)."""
    return isinstance(record, Mapping) and "cache_key" in record and "failure" not in record


def summary_fields(paper: Paper) -> Mapping[str, Any] | None:
    """The paper's summary fields, if it has a successful summary."""
    s = paper.summary
    return s.get("fields") if succeeded(s) and isinstance(s, Mapping) else None


class DaySummarizer:
    """Adds summaries, scores (optional), the briefing and the ledger to one day."""

    def __init__(self, settings: DigestSettings, runner: Runner) -> None:
        self.settings = settings
        self.llm = settings.llm
        self.runner = runner
        self.name = runner.backend
        from ..tagging import Tagger  # here: tagging imports settings, which imports this package

        self.tagger = Tagger(settings.topics)

    def topics(self, paper: Paper) -> tuple[str, ...]:
        """The paper's topics as the page shows them (tagged with the current config)."""
        return tuple(self.tagger.tag(paper.title, paper.abstract))

    def listed(self, digest: Digest) -> dict[str, tuple[str, ...]]:
        """The papers the day page lists, by id, with their topics."""
        from ..tagging import is_listed

        out = {}
        for p in digest.papers:
            topics = self.topics(p)
            if is_listed(p.is_replacement, topics, self.settings):
                out[p.id] = topics
        return out

    def _keys(self, kind: str, content_key: str) -> str:
        r = self.runner
        extra: tuple[str, ...] = ()
        if r.backend != "extractive":
            extra = (self.llm.language,) if kind != "score" else (
                digest_of(self.llm.scoring.interests),)
        return cache_key(content_key, r.backend, r.model, r.prompt_version(kind), *extra)

    def _base(self, kind: str, content_key: str, o: Outcome) -> dict[str, Any]:
        r = self.runner
        rec: dict[str, Any] = {
            "backend": r.backend, "model": r.model, "prompt_version": r.prompt_version(kind),
            "content_key": content_key, "cache_key": self._keys(kind, content_key),
            "tokens": usage_dict(o.prompt_tokens, o.completion_tokens),
            "cost_usd": round(o.cost_usd, 10),
        }
        if r.backend != "extractive" and kind != "score":
            rec["language"] = self.llm.language
        return rec

    def _record(self, kind: str, old: Any, content_key: str, verdict: str,
                o: Outcome) -> Any:
        rec = self._base(kind, content_key, o)
        if o.ok and o.data is not None:
            rec.update({"fields": o.data} if kind == "summary" else o.data)
            if o.dropped:
                rec["dropped"] = o.dropped
            return rec
        if verdict in ("call:resummarize", "call:upgrade") and succeeded(old):
            logger.warning("%s %s: %s (%s); the stored one is kept",
                           kind, rec["content_key"][:8], o.failure_kind, o.failure_message[:120])
            return old  # a failed re-summary keeps the summary of the same text
        rec["failure"] = failure(o.failure_kind or "error", o.failure_message, old, o.attempts,
                                 rec["cache_key"])
        return rec

    def summarize(self, digest: Digest, *, resummarize: bool = False) -> Digest:
        """Return the day with summaries (and scores, briefing, ledger) added where possible."""
        started = time.monotonic()
        before = replace(self.runner.usage)
        secrets = secret_values()
        scoring = self.llm.scoring.enabled and self.runner.backend != "extractive"
        if self.llm.scoring.enabled and not scoring:
            logger.warning("%s: llm.scoring is enabled but no llm.model is set: scores skipped",
                           self.llm.source)
        jobs: list[Job] = []
        plan: dict[tuple[str, str], tuple[str, str]] = {}  # (kind, id) -> (content key, verdict)
        kept = 0
        shown = self.listed(digest)
        for p in digest.papers:
            if p.id not in shown:
                continue
            ck = paper_content_key(p.versioned_id, p.abstract)
            inputs = {"id": p.id, "title": p.title, "abstract": p.abstract, "tags": shown[p.id]}
            wanted = [("summary", p.summary)]
            if scoring:
                wanted.append(("score", p.summary.get("score")
                               if isinstance(p.summary, Mapping) else None))
            for kind, old in wanted:
                verdict = decide(old, ck, self._keys(kind, ck), self.runner.backend, resummarize)
                if verdict == "keep":
                    kept += kind == "summary"
                    continue
                jobs.append(Job(kind, p.id, inputs))
                plan[(kind, p.id)] = (ck, verdict)
        outcomes = self._run(jobs, spent_usd(digest))

        papers = []
        for p in digest.papers:
            rec: Any = p.summary
            if ("summary", p.id) in plan:
                ck, verdict = plan[("summary", p.id)]
                rec = self._record("summary", rec, ck, verdict, outcomes[("summary", p.id)])
                old_score = p.summary.get("score") if isinstance(p.summary, Mapping) else None
                if old_score is not None and rec is not p.summary:
                    rec = {**rec, "score": old_score}
            if ("score", p.id) in plan:
                ck, verdict = plan[("score", p.id)]
                old_score = rec.get("score") if isinstance(rec, Mapping) else None
                score = self._record("score", old_score, ck, verdict, outcomes[("score", p.id)])
                rec = {**(rec or {}), "score": score}
            papers.append(p if rec is p.summary else replace(p, summary=redact(rec, secrets)))
        digest = digest.with_papers(tuple(papers))

        extra = dict(digest.extra)
        briefed = (0, 0)
        if self.llm.briefing:
            spent = spent_usd(digest) + self.runner.usage.cost_usd - before.cost_usd
            briefing, briefed = self._briefing(digest, shown, resummarize, spent)
            extra["briefing"] = redact(briefing, secrets)
        else:
            extra.pop("briefing", None)
        run = Usage(*(getattr(self.runner.usage, f) - getattr(before, f)
                      for f in ("calls", "prompt_tokens", "completion_tokens", "cost_usd")))
        row = self.runner.model or EXTRACTIVE_LEDGER_ROW
        if run.calls or (self.runner.backend == "extractive" and outcomes):
            extra["ledger"] = add_usage(extra.get("ledger"), row, run.calls, run.prompt_tokens,
                                        run.completion_tokens, run.cost_usd)
        pending = sum(1 for p in digest.papers if p.id in shown and not succeeded(p.summary))
        self._log(digest, outcomes, plan, kept, pending, briefed, run, time.monotonic() - started)
        return replace(digest, extra=extra)

    def _briefing(self, digest: Digest, listed: Mapping[str, tuple[str, ...]], resummarize: bool,
                  spent: float) -> tuple[dict[str, Any], tuple[int, int]]:
        """One paragraph per topic: kept while its papers and settings are unchanged."""
        stored = digest.extra.get("briefing")
        old_topics = stored.get("topics") if isinstance(stored, Mapping) else None
        old_topics = old_topics if isinstance(old_topics, Mapping) else {}
        shown = [p for p in digest.papers if p.id in listed and not p.is_replacement]
        out: dict[str, Any] = {}
        jobs: list[Job] = []
        plan: dict[str, tuple[str, str, int, list[dict[str, Any]]]] = {}
        for topic in self.settings.topics:
            items = []
            for p in shown:
                if topic.name in listed[p.id]:
                    fields = summary_fields(p)
                    items.append({"id": p.id, "vid": p.versioned_id, "title": p.title,
                                  "tldr": fields.get("tldr") if fields else None,
                                  "fields": dict(fields) if fields else None})
            if not items:
                continue
            ck = digest_of("briefing", topic.name, [(i["vid"], i["tldr"] or i["title"])
                                                    for i in items])
            old = old_topics.get(topic.name)
            verdict = decide(old, ck, self._keys("briefing", ck), self.runner.backend, resummarize)
            if verdict == "keep":
                out[topic.name] = old
                continue
            jobs.append(Job("briefing", topic.name, {"topic": topic.name, "papers": items}))
            plan[topic.name] = (ck, verdict, len(items), items)
        outcomes = self._run(jobs, spent)
        for name, (ck, verdict, n, items) in plan.items():
            o = outcomes[("briefing", name)]
            rec = self._record("briefing", old_topics.get(name), ck, verdict, o)
            if isinstance(rec, dict) and "failure" in rec:
                rec["text"] = briefing_text(name, [(i["title"], i["fields"]) for i in items])
                rec["fallback"] = "extractive"
            if isinstance(rec, dict) and rec is not old_topics.get(name):
                rec["papers"] = n
            out[name] = rec
        return {"topics": out}, (len(out), len(plan))

    def _run(self, jobs: list[Job], spent: float) -> dict[tuple[str, str], Outcome]:
        """The backend's outcomes; if the backend itself breaks, every job fails (the day is kept)."""
        try:
            return self.runner.run(jobs, spent)
        except Exception as e:  # e.g. litellm missing or broken: never lose the day over it
            logger.error("%s backend failed: %s: %s; the day is stored without new summaries",
                         self.runner.backend, type(e).__name__, e)
            logger.debug("traceback", exc_info=True)
            return {(j.kind, j.key): Outcome(failure_kind="error",
                                             failure_message=f"{type(e).__name__}: {e}")
                    for j in jobs}

    def _log(self, digest: Digest, outcomes: Mapping[tuple[str, str], Outcome],
             plan: Mapping[tuple[str, str], Any], kept: int, pending: int,
             briefed: tuple[int, int], run: Usage, took: float) -> None:
        made = [k for k in plan if k[0] == "summary" and outcomes[k].ok]
        failed = Counter(o.failure_kind for k, o in outcomes.items()
                         if k[0] == "summary" and not o.ok)
        scored = sum(1 for k, o in outcomes.items() if k[0] == "score" and o.ok)
        logger.info(
            "%s: summaries (%s): %d kept, %d new, %d failed, %d pending; %d scored; briefing %d "
            "topics (%d new); %d calls, %d+%d tokens, $%.4f in %.1f s",
            digest.date, self.runner.model or "extractive", kept, len(made), sum(failed.values()),
            pending, scored, briefed[0], briefed[1], run.calls, run.prompt_tokens,
            run.completion_tokens, run.cost_usd, took,
        )
        if failed:
            logger.warning(
                "%s: %d summaries failed (%s); those papers show 'summary pending' and are "
                "retried on the next run", digest.date, sum(failed.values()),
                ", ".join(f"{k} {n}" for k, n in sorted(failed.items(), key=str)),
            )
