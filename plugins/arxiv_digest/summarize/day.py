"""DaySummarizer: decide what to (re)summarize, run a backend, store records, briefing and ledger.

Everything is per language: a run writes the summaries and briefing of one language (the
edition's DEFAULT_LANG, `llm.lang`) under that language's key in the day file, and reads only
that language's records to decide what to call (an offline, extractive record of another
language stands in: it is in the abstract's language whatever the edition). So a second edition
costs exactly its own language's calls, and never touches the first one's summaries.

Results are matched to papers by id, never by position. Stored records whose cache key still
holds are kept, so re-running a day makes no calls. A failure is stored on its paper and never
blocks the day: a paper with no summary shows "summary pending"; one whose extractive summary the
model failed to replace keeps it, marked with the failure, and the page labels it a fallback. Either
way it counts as failed (status, the CLI) and backs off (records.Backoff) before it is asked again.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..core.models import Digest, Paper
from .extractive import briefing_text, extractive_items
from .jobs import Job, Outcome, Runner, Usage
from .ledger import add_usage, model_rows, spent_usd, total
from .records import (
    Backoff,
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
    from ..core.settings import DigestSettings

logger = logging.getLogger(__name__)

EXTRACTIVE_LEDGER_ROW = "extractive"


def succeeded(record: Any) -> bool:
    """A stored record with a result (not a failure)."""
    return isinstance(record, Mapping) and "cache_key" in record and "failure" not in record


def has_fields(record: Any) -> bool:
    """A stored summary with fields: a success, or an extractive fallback marked with a failure."""
    return (isinstance(record, Mapping) and "cache_key" in record
            and isinstance(record.get("fields"), Mapping))


def summary_fields(paper: Paper, lang: str = "en") -> Mapping[str, Any] | None:
    """The paper's summary fields in one language (a fallback's included), if it has any."""
    s = paper.summary_in(lang)
    return s.get("fields") if has_fields(s) and isinstance(s, Mapping) else None


def briefing_of(digest: Digest, lang: str) -> Mapping[str, Any] | None:
    """The day's stored briefing in one language ({"topics": {...}}), if any."""
    from ..core.models import lookup_lang

    stored = digest.extra.get("briefings")
    found = lookup_lang(stored, lang) if isinstance(stored, Mapping) else None
    return found if isinstance(found, Mapping) else None


def spent_tokens(digest: Digest) -> int:
    """The tokens summarizing this day has used so far (all models)."""
    return total(model_rows(digest.extra.get("ledger"))).total_tokens


def utc_now() -> dt.datetime:
    """The current time, in UTC."""
    return dt.datetime.now(dt.UTC)


class DaySummarizer:
    """Adds summaries, scores (optional), the briefing and the ledger to one day."""

    def __init__(self, settings: DigestSettings, runner: Runner,
                 clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.settings = settings
        self.llm = settings.llm
        self.runner = runner
        self.name = runner.backend
        self.clock = clock
        self.lang = settings.llm.lang  # the language written, and the key it is stored under
        self.now = clock()
        self.backoff = Backoff(self.now, self.llm.failed_retry_hours, self.llm.failed_max_runs)
        from ..enrich.tagging import tagger_for  # here: tagging imports settings, which imports us

        self.tagger = tagger_for(settings)
        self.topic_defs = {t.name: t for t in settings.topics}

    def listed(self, digest: Digest) -> dict[str, tuple[str, ...]]:
        """The papers the day page lists, by id, with the topics they are about (tagging.listing)."""
        from ..enrich.tagging import listing

        out = {}
        for p in digest.papers:
            decided = listing(p, self.settings, self.tagger)
            if decided.listed:
                out[p.id] = decided.about
        return out

    def candidates(self, paper: Paper) -> list[dict[str, str]]:
        """The topics a term matched (about or mentions), offered to the model with their
        definitions and the keyword rules' finding; a model cannot add any other."""
        from ..enrich.tagging import why

        return [{"topic": name, "definition": self.topic_defs[name].definition,
                 "rules": why(d)}
                for name, d in self.tagger.decide(paper.title, paper.abstract).items()]

    def with_verdicts(self, paper: Paper) -> Paper:
        """The paper decided with the current config, and the verdicts of its summary record
        applied where they still hold (same text and definition; enrich.topics.apply_verdict).

        A re-fetch stores fresh offline decisions, so the record is what keeps a model's verdict.
        """
        from ..enrich.topics import apply_verdict

        paper = self.tagger.tag_paper(paper)
        # a topic is one decision for every edition: the first language (by tag) whose record
        # holds a valid verdict on it gives it, so a second language never re-lists the first's day
        found: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
        for lang in sorted(paper.summaries):
            rec = paper.summaries[lang]
            verdicts = rec.get("verdicts") if succeeded(rec) else None
            if isinstance(verdicts, Mapping):
                for name, v in verdicts.items():
                    if isinstance(v, Mapping) and str(name) not in found and self._holds(paper, name, v):
                        found[str(name)] = (rec, v)
        for name, (rec, v) in found.items():
            topic = self.topic_defs[name]
            paper = apply_verdict(paper, topic, v["about"], by=str(rec.get("model") or "model"),
                                  why=str(v.get("why") or ""))
        return paper

    def _holds(self, paper: Paper, name: Any, v: Mapping[str, Any]) -> bool:
        """Whether a stored verdict still holds: its topic is configured, and neither its
        definition nor the paper's text changed since."""
        from ..enrich.topics import verdict_key

        topic = self.topic_defs.get(str(name))
        return (topic is not None and isinstance(v.get("about"), bool)
                and v.get("key") == verdict_key(topic, paper.title, paper.abstract))

    def stale_verdicts(self, paper: Paper, offered: list[dict[str, str]]) -> bool:
        """Whether an offered topic has no verdict in the record that holds for it any more."""
        from ..enrich.topics import verdict_key

        rec = paper.summary_in(self.lang, offline=False)
        verdicts = rec.get("verdicts") if isinstance(rec, Mapping) else None
        verdicts = verdicts if isinstance(verdicts, Mapping) else {}
        for c in offered:
            v = verdicts.get(c["topic"])
            if not isinstance(v, Mapping) or v.get("key") != verdict_key(
                    self.topic_defs[c["topic"]], paper.title, paper.abstract):
                return True
        return False

    def keyed(self, paper: Paper, verdicts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """The verdicts to store in the summary record, each with the key it holds for."""
        from ..enrich.topics import verdict_key

        return {name: {"about": v["about"], "why": v.get("why") or "",
                       "key": verdict_key(self.topic_defs[name], paper.title, paper.abstract)}
                for name, v in sorted(verdicts.items()) if name in self.topic_defs}

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
        fail = failure(o.failure_kind or "error", old, o.attempts, rec["cache_key"], self.now,
                       o.status)
        same_text = isinstance(old, Mapping) and old.get("content_key") == content_key
        if same_text and succeeded(old) and old.get("backend") == self.runner.backend:
            logger.warning("%s %s: %s; the stored %s one is kept", kind, rec["content_key"][:8],
                           o.failure_kind, old.get("prompt_version"))
            return old  # a failed re-summary keeps the model's summary of the same text
        if same_text and kind == "summary" and has_fields(old):
            # a failed upgrade: the extractive summary stays, marked failed (shown as a fallback)
            return {**{k: v for k, v in old.items() if k != "failure"}, "failure": fail}
        rec["failure"] = fail
        return rec

    def summarize(self, digest: Digest, *, resummarize: bool = False) -> Digest:
        """Return the day with summaries (and scores, briefing, ledger) added where possible."""
        started = time.monotonic()
        self.now = self.clock()
        self.backoff = replace(self.backoff, now=self.now)
        before = replace(self.runner.usage)
        secrets = secret_values()
        scoring = self.llm.scoring.enabled and self.runner.backend != "extractive"
        if self.llm.scoring.enabled and not scoring:
            logger.warning("%s: llm.scoring is enabled but no llm.model is set: scores skipped",
                           self.llm.source)
        jobs: list[Job] = []
        plan: dict[tuple[str, str], tuple[str, str]] = {}  # (kind, id) -> (content key, verdict)
        kept = held = 0
        # decided with the current config; a model's stored verdicts applied (tagging.listing)
        digest = digest.with_papers(tuple(self.with_verdicts(p) for p in digest.papers))
        shown = self.listed(digest)
        model = self.runner.backend != "extractive"
        for p in digest.papers:
            if p.id not in shown:
                continue  # a paper that only mentions a topic is not summarized: no call for it
            # with a model, every topic a term matched (about or mentions) is offered for a verdict
            offered = self.candidates(p) if model else []
            ck = paper_content_key(p.versioned_id, p.abstract)
            inputs = {"id": p.id, "title": p.title, "abstract": p.abstract, "tags": shown[p.id],
                      "candidates": offered}
            mine = p.summary_in(self.lang)  # this language's, or an offline one standing in
            wanted = [("summary", mine)]
            if scoring:
                wanted.append(("score", mine.get("score") if isinstance(mine, Mapping) else None))
            for kind, old in wanted:
                verdict = decide(old, ck, self._keys(kind, ck), self.runner.backend, resummarize,
                                 self.backoff)
                if (verdict == "keep" and kind == "summary" and resummarize and offered
                        and self.runner.asks_verdicts(Job(kind, p.id, inputs))
                        and self.stale_verdicts(p, offered)):
                    verdict = "call:verdicts"  # a definition changed since the model judged
                if verdict == "keep":
                    kept += kind == "summary"
                    continue
                if verdict.startswith("keep:"):
                    held += kind == "summary"
                    logger.debug("%s %s: %s after an earlier failure", kind, p.id, verdict)
                    continue
                jobs.append(Job(kind, p.id, inputs))
                plan[(kind, p.id)] = (ck, verdict)
        outcomes = self._run(jobs, spent_usd(digest), spent_tokens(digest))

        papers = []
        for p in digest.papers:
            mine = p.summary_in(self.lang)
            rec: Any = mine
            if ("summary", p.id) in plan:
                ck, verdict = plan[("summary", p.id)]
                o = outcomes[("summary", p.id)]
                rec = self._record("summary", rec, ck, verdict, o)
                if o.ok and o.verdicts is not None and isinstance(rec, dict) and "failure" not in rec:
                    rec["verdicts"] = self.keyed(p, o.verdicts)
                old_score = mine.get("score") if isinstance(mine, Mapping) else None
                if old_score is not None and rec is not mine:
                    rec = {**rec, "score": old_score}
            if ("score", p.id) in plan:
                ck, verdict = plan[("score", p.id)]
                old_score = rec.get("score") if isinstance(rec, Mapping) else None
                score = self._record("score", old_score, ck, verdict, outcomes[("score", p.id)])
                rec = {**(rec or {}), "score": score}
            if rec is not mine:  # stored under this language only: the others' stay as they are
                p = self.with_verdicts(replace(
                    p, summaries={**p.summaries, self.lang: redact(rec, secrets)}))
            papers.append(p)
        digest = digest.with_papers(tuple(papers))
        shown = self.listed(digest)  # the model's verdicts may list or unlist papers

        extra = dict(digest.extra)
        briefed = (0, 0)
        if self.llm.briefing:
            spent = spent_usd(digest) + self.runner.usage.cost_usd - before.cost_usd
            used = spent_tokens(digest) + sum(
                getattr(self.runner.usage, f) - getattr(before, f)
                for f in ("prompt_tokens", "completion_tokens"))
            briefing, briefed = self._briefing(digest, shown, resummarize, spent, used)
            stored = extra.get("briefings")
            stored = dict(stored) if isinstance(stored, Mapping) else {}
            if briefing is not None:
                stored[self.lang] = redact(briefing, secrets)
            extra["briefings"] = stored
        elif isinstance(extra.get("briefings"), Mapping):
            extra["briefings"] = {k: v for k, v in extra["briefings"].items() if k != self.lang}
        run = Usage(**{f: getattr(self.runner.usage, f) - getattr(before, f)
                       for f in ("calls", "prompt_tokens", "completion_tokens", "cost_usd",
                                 "timed_out", "estimated_prompt_tokens")})
        row = self.runner.model or EXTRACTIVE_LEDGER_ROW
        if run.calls or (self.runner.backend == "extractive" and outcomes):
            extra["ledger"] = add_usage(extra.get("ledger"), row, run.calls, run.prompt_tokens,
                                        run.completion_tokens, run.cost_usd,
                                        timed_out=run.timed_out,
                                        estimated_prompt_tokens=run.estimated_prompt_tokens,
                                        # what each language cost (offline runs cost nothing)
                                        language=None if row == EXTRACTIVE_LEDGER_ROW else self.lang)
        pending = sum(1 for p in digest.papers
                      if p.id in shown and not succeeded(p.summary_in(self.lang)))
        fallback = sum(1 for p in digest.papers if p.id in shown
                       and not succeeded(p.summary_in(self.lang))
                       and has_fields(p.summary_in(self.lang)))
        self._log(digest, outcomes, plan, (kept, held, pending, fallback), briefed, run,
                  time.monotonic() - started)
        return replace(digest, extra=extra)

    def _briefing(self, digest: Digest, listed: Mapping[str, tuple[str, ...]], resummarize: bool,
                  spent: float, used: int) -> tuple[dict[str, Any] | None, tuple[int, int]]:
        """One paragraph per topic: kept while its papers and settings are unchanged."""
        stored = briefing_of(digest, self.lang)
        old_topics = stored.get("topics") if isinstance(stored, Mapping) else None
        old_topics = dict(old_topics) if isinstance(old_topics, Mapping) else {}
        # a topic this language has no paragraph for yet: an offline one of another language
        # stands in (in the abstracts' language, labelled so), as summary_in does for papers
        borrowed = self._offline_briefings(digest, old_topics)
        old_topics.update(borrowed)
        shown = [p for p in digest.papers if p.id in listed and not p.is_replacement]
        out: dict[str, Any] = {}
        jobs: list[Job] = []
        plan: dict[str, tuple[str, str, int, list[dict[str, Any]]]] = {}
        for topic in self.settings.topics:
            items = []
            for p in shown:
                if topic.name in listed[p.id]:
                    fields = summary_fields(p, self.lang)
                    items.append({"id": p.id, "vid": p.versioned_id, "title": p.title,
                                  "abstract": p.abstract,
                                  "tldr": fields.get("tldr") if fields else None,
                                  "fields": dict(fields) if fields else None})
            if not items:
                continue
            ck = digest_of("briefing", topic.name, [(i["vid"], i["tldr"] or i["title"])
                                                    for i in items])
            old = old_topics.get(topic.name)
            verdict = decide(old, ck, self._keys("briefing", ck), self.runner.backend, resummarize,
                             self.backoff)
            if verdict.startswith("keep"):
                out[topic.name] = old
                continue
            jobs.append(Job("briefing", topic.name, {"topic": topic.name, "papers": items}))
            plan[topic.name] = (ck, verdict, len(items), items)
        outcomes = self._run(jobs, spent, used)
        for name, (ck, verdict, n, items) in plan.items():
            o = outcomes[("briefing", name)]
            rec = self._record("briefing", old_topics.get(name), ck, verdict, o)
            if isinstance(rec, dict) and "failure" in rec:
                # labelled extractive: only what the offline backend reads from the abstracts,
                # never a model's figure fields
                rec["text"] = briefing_text(name, extractive_items(items))
                rec["fallback"] = "extractive"
                rec.pop("sentences", None)
            if isinstance(rec, dict) and rec is not old_topics.get(name):
                rec["papers"] = n
            out[name] = rec
        if not plan and out and all(borrowed.get(k) is v for k, v in out.items()):
            return None, (len(out), 0)  # nothing of this language's own: nothing stored for it
        return {"topics": out}, (len(out), len(plan))

    def _offline_briefings(self, digest: Digest,
                           own: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        """topic -> an extractive paragraph another language stored, for topics `own` lacks."""
        stored = digest.extra.get("briefings")
        out: dict[str, Mapping[str, Any]] = {}
        if not isinstance(stored, Mapping):
            return out
        for lang in sorted(stored):
            topics = stored[lang].get("topics") if isinstance(stored[lang], Mapping) else None
            for name, rec in (topics.items() if isinstance(topics, Mapping) else ()):
                if (name not in own and name not in out and isinstance(rec, Mapping)
                        and rec.get("backend") == "extractive" and "failure" not in rec):
                    out[name] = rec
        return out

    def _run(self, jobs: list[Job], spent: float, used: int) -> dict[tuple[str, str], Outcome]:
        """The backend's outcomes; if the backend itself breaks, every job fails (the day is kept)."""
        if not jobs:
            return {}
        try:
            return self.runner.run(jobs, spent, used)
        except Exception as e:  # e.g. litellm missing or broken: never lose the day over it
            logger.error("%s backend failed: %s: %s; the day is stored without new summaries",
                         self.runner.backend, type(e).__name__, e)
            logger.debug("traceback", exc_info=True)
            return {(j.kind, j.key): Outcome(failure_kind="error",
                                             failure_message=f"{type(e).__name__}: {e}")
                    for j in jobs}

    def _log(self, digest: Digest, outcomes: Mapping[tuple[str, str], Outcome],
             plan: Mapping[tuple[str, str], Any], counts: tuple[int, int, int, int],
             briefed: tuple[int, int], run: Usage, took: float) -> None:
        kept, held, pending, fallback = counts
        made = [k for k in plan if k[0] == "summary" and outcomes[k].ok]
        failed = Counter(o.failure_kind for k, o in outcomes.items()
                         if k[0] == "summary" and not o.ok)
        scored = sum(1 for k, o in outcomes.items() if k[0] == "score" and o.ok)
        refused = Counter(o.failure_kind for k, o in outcomes.items()
                          if k[0] == "briefing" and not o.ok)
        logger.info(
            "%s: %s summaries (%s): %d kept, %d new, %d failed, %d held back after earlier "
            "failures; %d without a model summary (%d show the extractive fallback); %d scored; "
            "briefing %d topics (%d new, %d refused); %d calls, %d+%d tokens, $%.4f in %.1f s",
            digest.date, self.lang, self.runner.model or "extractive", kept, len(made), sum(failed.values()),
            held, pending, fallback, scored, briefed[0], briefed[1], sum(refused.values()),
            run.calls, run.prompt_tokens, run.completion_tokens, run.cost_usd, took,
        )
        if failed:
            logger.warning(
                "%s: %d summaries failed (%s); they count as failed in `status`, the page shows "
                "'summary pending' or the labelled extractive fallback, and they are asked again "
                "after %g h (doubling; at most %d runs) or when the model, prompt or abstract "
                "changes", digest.date, sum(failed.values()),
                ", ".join(f"{k} {n}" for k, n in sorted(failed.items(), key=str)),
                self.llm.failed_retry_hours, self.llm.failed_max_runs,
            )
        if refused:
            logger.warning("%s: %d briefings refused (%s); the extractive briefing is shown",
                           digest.date, sum(refused.values()),
                           ", ".join(f"{k} {n}" for k, n in sorted(refused.items(), key=str)))
