"""The litellm backend: async calls with adaptive concurrency, timeouts, retries and a budget.

This is the only module that imports litellm, and only inside LiteLLMRunner.run (it takes seconds
to import and would fetch a price list from the internet unless LITELLM_LOCAL_MODEL_COST_MAP is
set first). API keys come from the provider's environment variables, read by litellm itself.

- Replies are asked for with the reply's JSON schema (response_format json_schema) where the
  provider supports it (litellm.supports_response_schema, or any self-hosted api_base: llama.cpp,
  vLLM, Ollama and LM Studio constrain decoding to it); a 400 that names response_format falls back
  to json_object, then to none, for the rest of the run. Every reply is validated either way.
- Concurrency starts at llm.concurrency_start and, while latency stays within 1.5x the best seen,
  grows by one per fast call until the first timeout (slow start), then by one per window of
  calls; it halves on a timeout and never exceeds llm.concurrency (AIMD).
- A timed-out call is abandoned (its HTTP connection is closed, so a local server stops
  generating) and retried once with timeout x timeout_retry_factor.
- Every request that reached the provider is a call in the ledger: answered, refused with an HTTP
  error, or abandoned after its timeout. An abandoned call still cost the server its prompt (and a
  paid API may bill it): it is counted with its prompt tokens estimated (from the characters per
  token the provider reported for this run's answered calls, else 3 characters a token) and 0
  completion tokens (unknown: generation was cut off), and the ledger records how many calls
  timed out and how many of its prompt tokens are estimates. A call that never left (no API key,
  refused connection, budget) is not a call.
- No API key (litellm reports a missing key as a 500 "Missing credentials", or an
  AuthenticationError) is `auth`, like a 401/403: not retried, no further call this run, and one
  error line naming the environment variable to set (litellm.validate_environment).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..enrich.claims import MODEL as MODEL_LABEL
from ..enrich.claims import claim_fields
from .config import LLMSettings
from .grounding import Grounding
from .jobs import Job, Outcome, Usage
from .ledger import plausible_cost, plausible_tokens
from .prompts import VARIABLES, Prompt, load_prompt
from .records import scrub, secret_values
from .schema import (
    ReplyError,
    json_schema,
    parse_reply,
    validate_briefing,
    validate_claims,
    validate_scores,
    validate_summary,
    validate_verdicts,
)

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is cut to this
LATENCY_TOLERANCE = 1.5  # concurrency grows while a call takes at most this x the best seen
FORMATS = ("json_schema", "json_object", "none")  # each falls back to the next on a 400
_QUIET = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "openai", "httpx", "httpcore")


def import_litellm() -> Any:
    """Import litellm offline and quietly (its debug logs may carry request details)."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # the bundled price list, no download
    os.environ.setdefault("LITELLM_MODE", "PRODUCTION")  # do not load a .env file
    started = time.monotonic()
    import litellm

    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on errors
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logger.debug("imported litellm in %.1f s", time.monotonic() - started)
    return litellm


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 12:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


def _named(exc: BaseException, name: str) -> bool:
    return any(c.__name__ == name for c in type(exc).__mro__)


# what litellm and the OpenAI client say when no key was given (litellm wraps it in a 500)
_NO_KEY = re.compile(r"missing credentials|api_key client option must be set|"
                     r"no api[ _-]?key|api[ _-]?key (?:is )?(?:missing|required|not (?:set|provided|found))",
                     re.I)


def missing_key(exc: BaseException) -> bool:
    """The call failed before it was sent because no API key was found."""
    return any(_NO_KEY.search(str(e)) for e in _chain(exc))


def failure_kind(exc: BaseException, litellm: Any) -> tuple[str, bool]:
    """The failure kind of an exception, and whether retrying it within the run may help."""
    chain = _chain(exc)
    if isinstance(exc, (asyncio.TimeoutError, litellm.Timeout)) or any(
            _named(e, "APITimeoutError") for e in chain):
        return "timeout", False
    if missing_key(exc):  # litellm reports it as a 500 InternalServerError
        return "auth", False
    if any(_named(e, "APIConnectionError") or isinstance(e, ConnectionError) for e in chain):
        return "connection", True  # litellm reports a refused connection as a 500
    status = getattr(exc, "status_code", None)
    try:
        status = int(status) if status is not None else None
    except (TypeError, ValueError):
        status = None
    if status == 429 or isinstance(exc, litellm.RateLimitError):
        return "rate_limit", True
    if status in (401, 403) or isinstance(exc, (litellm.AuthenticationError,
                                                litellm.PermissionDeniedError)):
        return "auth", False
    if status is not None and status >= 500:
        return "server_error", True
    if status is not None and status >= 400:
        return "bad_request", False
    return "error", False


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception carries, if any."""
    status = getattr(exc, "status_code", None)
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def rejects_format(exc: BaseException) -> bool:
    """A 400 (or 422) that complains about response_format: the provider cannot do it."""
    if status_of(exc) not in (400, 422):
        return False
    text = str(exc).lower()
    return "response_format" in text or "json_schema" in text or "response format" in text


def retry_after(exc: BaseException) -> float | None:
    """The server's Retry-After, in seconds, if it sent one."""
    for attr in ("litellm_response_headers", "headers"):
        headers = getattr(exc, attr, None)
        value = headers.get("retry-after") if headers is not None else None
        if value is not None:
            try:
                return min(max(float(value), 0.0), MAX_RETRY_AFTER)
            except (TypeError, ValueError):
                return None
    return None


def offered_topics(candidates: Sequence[Mapping[str, Any]]) -> str:
    """The $topics of a summary prompt: '- name: definition [keyword rules: about: title]'."""
    lines = [f"- {c['topic']}: {' '.join(str(c.get('definition') or '').split()) or 'papers about ' + str(c['topic'])}"
             + (f" [keyword rules: {c['rules']}]" if c.get("rules") else "")
             for c in candidates]
    return "\n".join(lines) or "none"


class NotCalled(Exception):
    """A call given up before it was sent (the provider refused the key to another call)."""


class Budget:
    """Spending cap for one day, in dollars and/or tokens: a call starts only if its worst case
    (its prompt plus max_tokens) still fits under both."""

    def __init__(self, limit: float | None, spent: float, limit_tokens: int | None = None,
                 spent_tokens: int = 0) -> None:
        self.limit = limit
        self.spent = spent
        self.limit_tokens = limit_tokens
        self.spent_tokens = spent_tokens
        self.reserved = 0.0
        self.reserved_tokens = 0
        self.in_flight = 0  # calls holding a reservation (counted: float sums never reach 0)
        self.exhausted = ""  # which cap was reached: "usd" or "tokens"
        self._cond = asyncio.Condition()

    @property
    def capped(self) -> bool:
        """Whether any cap is set."""
        return self.limit is not None or self.limit_tokens is not None

    def _fits(self, estimate: float, tokens: int) -> str:
        if self.limit is not None and self.spent + self.reserved + estimate > self.limit:
            return "usd"
        if (self.limit_tokens is not None
                and self.spent_tokens + self.reserved_tokens + tokens > self.limit_tokens):
            return "tokens"
        return ""

    async def reserve(self, estimate: float, tokens: int = 0) -> bool:
        """Hold room for a call; False once the budget is reached (no further calls)."""
        if not self.capped:
            return True
        async with self._cond:
            while not self.exhausted:
                over = self._fits(estimate, tokens)
                if not over:
                    self.reserved += estimate
                    self.reserved_tokens += tokens
                    self.in_flight += 1
                    return True
                if not self.in_flight:
                    self.exhausted = over
                    break
                await self._cond.wait()  # calls in flight may cost less than reserved
            return False

    async def settle(self, estimate: float, actual: float, tokens: int = 0,
                     actual_tokens: int = 0) -> None:
        """Replace a call's reservation with what it cost."""
        if not self.capped:
            self.spent += actual
            self.spent_tokens += actual_tokens
            return
        async with self._cond:
            self.in_flight -= 1
            self.reserved = max(0.0, self.reserved - estimate) if self.in_flight else 0.0
            self.reserved_tokens = max(0, self.reserved_tokens - tokens) if self.in_flight else 0
            self.spent += actual
            self.spent_tokens += actual_tokens
            self._cond.notify_all()


class AdaptiveLimit:
    """Calls in flight, adapted AIMD-style: grows while calls are fast, halves on a timeout.

    A call is fast when it took at most LATENCY_TOLERANCE x the best latency seen this run (a
    single-slot server queues the second call, which then takes twice as long: the limit stops
    growing there). Until the first timeout each fast call adds one (slow start: the limit
    doubles per window); after it, one per window of fast calls. Bounded by 1 and `maximum`.
    The first call runs alone: its latency is the baseline (a call queued behind another on a
    one-slot server would make a slow baseline look normal); then `start` calls may run.
    """

    def __init__(self, start: int, maximum: int) -> None:
        self.maximum = maximum
        self.start = float(max(1, min(start, maximum)))
        self.limit = 1.0  # the probe
        self.warm = False
        self.in_flight = 0
        self.best: float | None = None
        self.peak = int(self.limit)  # the highest limit reached, for the log and the tests
        self.lowest = int(self.limit)
        self.shrinks = 0
        self._cooldown = 0  # completions to wait after a decrease before another one
        self._cond = asyncio.Condition()

    async def acquire(self) -> None:
        """Wait for a free slot."""
        async with self._cond:
            while self.in_flight >= int(self.limit):
                await self._cond.wait()
            self.in_flight += 1

    async def release(self, latency: float | None, timed_out: bool) -> None:
        """Free the slot; adapt the limit to how the call went (latency None: no signal)."""
        async with self._cond:
            self.in_flight -= 1
            self._cooldown = max(0, self._cooldown - 1)
            if not self.warm and (timed_out or latency is not None):
                self.warm = True
                self.best = latency
                self.limit = self.start if latency is not None else max(1.0, self.start / 2)
                self.shrinks += timed_out
                self.peak = max(self.peak, int(self.limit))
                self._cond.notify_all()
                return
            if timed_out:
                if not self._cooldown:
                    self.limit = max(1.0, self.limit / 2)
                    self.shrinks += 1
                    self._cooldown = max(1, self.in_flight)  # the calls already in flight
            elif latency is not None:
                self.best = latency if self.best is None else min(self.best, latency)
                if latency <= LATENCY_TOLERANCE * self.best + 0.05 and not self._cooldown:
                    step = 1.0 if not self.shrinks else 1 / int(self.limit)
                    self.limit = min(float(self.maximum), self.limit + step)
            self.peak = max(self.peak, int(self.limit))
            self.lowest = min(self.lowest, int(self.limit))
            self._cond.notify_all()


class LiteLLMRunner:
    """Runs summary, score and briefing jobs through litellm.acompletion."""

    backend = "litellm"

    def __init__(self, llm: LLMSettings) -> None:
        self.llm = llm
        self.model: str | None = llm.model
        self.prompts: dict[str, Prompt] = {
            kind: load_prompt(path, kind) for kind, path in llm.prompts.items()
        }
        self.usage = Usage()
        self._secrets = secret_values()  # redacted from what the debug log says of a failure
        self._implausible = 0  # calls whose reported usage was clamped
        self._litellm: Any = None
        self._auth_failed = ""
        self._rates: tuple[float, float] | None = None  # USD per prompt, completion token
        self.format: str | None = None  # the response_format in use (decided at the first run)
        self._undercount = 1.0  # actual / estimated prompt tokens, when the estimate was low
        self._seen = [0, 0]  # prompt characters and prompt tokens of the answered calls
        self.limiter: AdaptiveLimit | None = None  # kept across runs: what the server sustained

    def prompt_version(self, kind: str) -> str:
        """The prompt file's version, e.g. summary.v1."""
        return self.prompts[kind].version

    def asks_verdicts(self, job: Job) -> bool:
        """Whether this job's prompt asks which candidate topics the paper is about ($topics)."""
        return job.kind == "summary" and self.prompts["summary"].uses("topics")

    def asks_claims(self, job: Job) -> bool:
        """Whether this job's prompt asks for the abstract's efficiency claims ($claim_fields)."""
        return job.kind == "summary" and self.prompts["summary"].uses("claim_fields")

    def messages(self, job: Job) -> list[dict[str, str]]:
        """The chat messages of a job."""
        i = job.inputs
        values = {"language": self.llm.language, "interests": self.llm.scoring.interests}
        if job.kind == "briefing":
            lines = [f"- arXiv id: {p['id']} | {p['title']}" + (f" | {p['tldr']}" if p["tldr"] else "")
                     for p in i["papers"]]
            values.update(topic=str(i["topic"]), count=str(len(lines)), papers="\n".join(lines))
        else:
            values.update(id=str(i["id"]), title=str(i["title"]), abstract=str(i["abstract"]))
            if job.kind == "summary":
                values["topics"] = offered_topics(i.get("candidates") or ())
                values["claim_fields"] = claim_fields()
        allowed = VARIABLES[job.kind]
        return self.prompts[job.kind].messages(**{k: v for k, v in values.items() if k in allowed})

    def run(self, jobs: Sequence[Job], spent_usd: float,
            spent_tokens: int = 0) -> dict[tuple[str, str], Outcome]:
        """Run the jobs concurrently; every job gets an outcome."""
        if not jobs:
            return {}
        if self._litellm is None:
            self._litellm = import_litellm()
        if self.format is None:
            self.format = self.choose_format()
        return asyncio.run(self._run_all(jobs, spent_usd, spent_tokens))

    def choose_format(self) -> str:
        """The response_format to ask for first: llm.response_format, or for auto, json_schema
        where litellm knows the model supports it or the server is self-hosted (api_base)."""
        if self.llm.response_format != "auto":
            return self.llm.response_format
        try:
            known = bool(self._litellm.supports_response_schema(model=self.model))
        except Exception:  # litellm raises for models missing from its list
            known = False
        return "json_schema" if known or self.llm.api_base else "json_object"

    def response_format(self, job: Job) -> dict[str, Any] | None:
        """The response_format argument for a job under the current format."""
        if self.format == "json_schema":
            ids = [str(p["id"]) for p in job.inputs["papers"]] if job.kind == "briefing" else []
            topics = None
            if self.asks_verdicts(job):
                topics = [str(c["topic"]) for c in job.inputs.get("candidates") or ()]
            return {"type": "json_schema", "json_schema": {
                "name": job.kind, "strict": True,
                "schema": json_schema(job.kind, ids, topics, claims=self.asks_claims(job))}}
        if self.format == "json_object":
            return {"type": "json_object"}
        return None

    async def _run_all(self, jobs: Sequence[Job], spent_usd: float,
                       spent_tokens: int) -> dict[tuple[str, str], Outcome]:
        budget = Budget(self.llm.daily_budget_usd, spent_usd, self.llm.daily_budget_tokens,
                        spent_tokens)
        start = self.llm.concurrency_start
        if self.limiter is not None:  # a later run of this process starts where the last ended
            start = max(start, int(self.limiter.limit))
        self.limiter = gate = AdaptiveLimit(start, self.llm.concurrency)

        async def one(job: Job) -> tuple[tuple[str, str], Outcome]:
            return (job.kind, job.key), await self._job(job, budget, gate)

        results = dict(await asyncio.gather(*(one(j) for j in jobs)))
        for o in results.values():
            self.usage.add(o)
        logger.debug("concurrency: started at %d, peaked at %d, ended at %d, %d shrinks",
                     start, gate.peak, int(gate.limit), gate.shrinks)
        return results

    def estimate_tokens(self, messages: list[dict[str, str]]) -> int:
        """Worst-case prompt tokens of a call: 3 characters a token and the chat overhead, scaled
        up if the provider has counted more than that for an earlier prompt of this run."""
        return math.ceil((sum(len(m["content"]) for m in messages) / 3 + 16) * self._undercount)

    def unanswered_tokens(self, messages: list[dict[str, str]]) -> int:
        """Prompt tokens of a call that got no answer: at the characters per token the provider
        reported for this run's answered calls, or estimate_tokens before the first answer."""
        chars, tokens = self._seen
        if not chars or not tokens:
            return self.estimate_tokens(messages)
        return math.ceil(sum(len(m["content"]) for m in messages) * tokens / chars)

    def auth_message(self, exc: BaseException) -> str:
        """One line for the user: which key is missing or refused, and what to do."""
        try:
            env = self._litellm.validate_environment(model=self.model, api_base=self.llm.api_base)
            keys = [str(k) for k in env.get("missing_keys") or () if str(k).endswith("_KEY")]
        except Exception:  # litellm raises for a provider it does not know
            keys = []
        local = (f" For a local server (llm.api_base {self.llm.api_base}) any value works, or "
                 "name the model hosted_vllm/<name>, which needs no key." if self.llm.api_base else "")
        if missing_key(exc) or keys:
            var = " or ".join(keys) or "the provider's API key variable"
            return (f"{self.model}: no API key: set {var} in the environment (litellm reads it "
                    f"there); no summary was asked for.{local}")
        status = status_of(exc)
        return (f"{self.model}: the provider refused the API key ({type(exc).__name__}"
                f"{f', HTTP {status}' if status else ''}): check the key in the environment; "
                "no further call this run.")

    def estimate_usd(self, messages: list[dict[str, str]]) -> float:
        """Worst-case cost of a call: the prompt (at 3 characters a token) plus max_tokens."""
        return self.price(self.estimate_tokens(messages), self.llm.max_tokens)

    def price(self, prompt_tokens: int, completion_tokens: int) -> float:
        """What litellm's bundled price list says these tokens cost (0 for an unpriced model)."""
        if self._rates is None:
            try:
                p, c = self._litellm.cost_per_token(model=self.model, prompt_tokens=1_000_000,
                                                    completion_tokens=1_000_000)
                self._rates = (float(p) / 1e6, float(c) / 1e6)
            except Exception:  # litellm raises several kinds for a model missing from its list
                self._rates = (0.0, 0.0)
            if self._rates == (0.0, 0.0):
                logger.info("no price known for %s: its calls are recorded at $0 and the daily "
                            "budget cannot limit them", self.model)
        return prompt_tokens * self._rates[0] + completion_tokens * self._rates[1]

    def cost_of(self, response: Any, prompt_tokens: int, completion_tokens: int) -> float:
        """litellm.completion_cost of a response (the price list, if that fails)."""
        hidden = getattr(response, "_hidden_params", None)
        known = hidden.get("response_cost") if isinstance(hidden, dict) else None
        if isinstance(known, (int, float)) and not isinstance(known, bool):
            return float(known)  # litellm already ran completion_cost for this response
        try:
            return float(self._litellm.completion_cost(completion_response=response))
        except Exception:  # unpriced model or an answer without usage
            return self.price(prompt_tokens, completion_tokens)

    async def _job(self, job: Job, budget: Budget, gate: AdaptiveLimit) -> Outcome:
        out = Outcome()
        if self._auth_failed:
            out.failure_kind, out.failure_message = "auth", f"not called: {self._auth_failed}"
            return out
        messages = self.messages(job)
        estimate = self.estimate_usd(messages)
        tokens = self.estimate_tokens(messages) + self.llm.max_tokens
        if not await budget.reserve(estimate, tokens):
            out.failure_kind = "budget"
            cap = (f"{self.llm.daily_budget_tokens:,} tokens" if budget.exhausted == "tokens"
                   else f"${self.llm.daily_budget_usd:g}")
            out.failure_message = f"not called: the daily budget of {cap} is reached"
            return out
        try:
            await self._call(job, messages, out, gate)
        finally:
            await budget.settle(estimate, out.cost_usd, tokens,
                                out.prompt_tokens + out.completion_tokens)
        return out

    async def _attempt(self, job: Job, kwargs: dict[str, Any], gate: AdaptiveLimit) -> Any:
        """One call under the concurrency gate; the gate learns its latency or its timeout.

        The response_format is chosen once the call has its slot, so that a format the server
        rejected (learnt by a call in flight) is not sent again.
        """
        await gate.acquire()
        started = time.monotonic()
        latency: float | None = None
        timed_out = False
        try:
            if self._auth_failed:  # learnt while this call waited for a slot
                raise NotCalled(self._auth_failed)
            kwargs.pop("response_format", None)
            if (response_format := self.response_format(job)) is not None:
                kwargs["response_format"] = response_format
            response = await asyncio.wait_for(self._litellm.acompletion(**kwargs),
                                              timeout=kwargs["timeout"] + 5.0)
            latency = time.monotonic() - started
            return response
        except Exception as e:
            timed_out = failure_kind(e, self._litellm)[0] == "timeout"
            raise
        finally:
            await gate.release(latency, timed_out)

    async def _call(self, job: Job, messages: list[dict[str, str]], out: Outcome,
                    gate: AdaptiveLimit) -> None:
        litellm = self._litellm
        llm = self.llm
        kwargs: dict[str, Any] = {
            "model": llm.model, "messages": messages, "temperature": llm.temperature,
            "max_tokens": llm.max_tokens, "timeout": llm.timeout, "num_retries": 0,
            "max_retries": 0, "drop_params": True,
        }
        if llm.api_base:
            kwargs["api_base"] = llm.api_base
        attempt = timeouts = 0
        while True:
            attempt += 1
            out.attempts = attempt
            try:
                response = await self._attempt(job, kwargs, gate)
            except NotCalled as e:  # another call learnt that the key is refused: stop asking
                out.attempts = attempt - 1
                out.failure_kind, out.failure_message = "auth", f"not called: {e}"
                return
            except Exception as e:  # classified below; never lets one paper stop the day
                kind, retryable = failure_kind(e, litellm)
                out.failure_kind, out.failure_message = kind, f"{type(e).__name__}: {e}"
                out.status = None if kind == "auth" and missing_key(e) else status_of(e)
                self._count_failed(kind, e, messages, out)
                # the provider's text goes to the debug log only, redacted: never to a day file
                logger.debug("%s %s: attempt %d: %s (HTTP %s): %s", job.kind, job.key, attempt,
                             kind, out.status, scrub(out.failure_message, self._secrets))
                rf = kwargs.get("response_format")
                fmt = str(rf.get("type")) if isinstance(rf, dict) else "none"
                if kind == "bad_request" and rejects_format(e) and fmt != "none":
                    if self.format == fmt:  # the first call to learn it switches for everyone
                        self.format = FORMATS[FORMATS.index(fmt) + 1]
                        logger.warning("%s rejected response_format %s (HTTP %s); using %s",
                                       self.model, fmt, out.status, self.format)
                    attempt -= 1  # not the paper's fault: ask again in the format that works
                    continue
                if kind == "auth" and not self._auth_failed:
                    self._auth_failed = f"authentication failed ({type(e).__name__})"
                    logger.error("%s", self.auth_message(e))
                if kind == "timeout" and not timeouts:
                    timeouts += 1  # once, with a longer deadline (the connection was closed)
                    kwargs["timeout"] = llm.timeout * llm.timeout_retry_factor
                    logger.debug("%s %s: timed out after %.0f s; retrying once with %.0f s",
                                 job.kind, job.key, llm.timeout, kwargs["timeout"])
                    continue
                if not retryable or attempt > llm.retries + timeouts:
                    logger.debug("%s %s: %s after %d attempt(s)", job.kind, job.key, kind, attempt)
                    return
                wait = retry_after(e)
                wait = llm.retry_backoff * 2 ** (attempt - 1) if wait is None else wait
                logger.debug("%s %s: %s, retrying in %.1f s", job.kind, job.key, kind, wait)
                await asyncio.sleep(wait)
                continue
            out.status = None
            self._accept(job, messages, response, out)
            return

    def _count_failed(self, kind: str, exc: BaseException, messages: list[dict[str, str]],
                      out: Outcome) -> None:
        """Count a failed attempt that reached the provider: a timed-out call with its prompt
        tokens estimated and 0 completion tokens (the server worked on it until the connection
        was closed, and a paid API may bill it); an HTTP error with no tokens."""
        if kind == "connection" or missing_key(exc):
            return  # never reached the provider
        if kind == "timeout":
            tokens = self.unanswered_tokens(messages)
            cost = self.price(tokens, 0)
            out.requests += 1
            out.timed_out += 1
            out.prompt_tokens += tokens
            out.estimated_prompt_tokens += tokens
            out.cost_usd += cost
            return
        if status_of(exc) is not None:
            out.requests += 1

    def _count_usage(self, job: Job, messages: list[dict[str, str]], response: Any,
                     out: Outcome) -> None:
        """The call's tokens and cost, made plausible: a provider's negative or absurd counts
        never reach the ledger (ledger.plausible_tokens, plausible_cost), and say so."""
        usage = getattr(response, "usage", None)
        try:
            reply = str(response.choices[0].message.content or "")
        except (AttributeError, IndexError, TypeError):
            reply = ""
        # no tokenizer spends more than a token per byte, plus the chat template's few per message
        prompt_max = sum(len(str(m.get("content", "")).encode()) + 16 for m in messages) + 64
        completion_max = max(self.llm.max_tokens, len(reply.encode())) + 16
        prompt, bad_prompt = plausible_tokens(getattr(usage, "prompt_tokens", None), prompt_max)
        completion, bad_completion = plausible_tokens(getattr(usage, "completion_tokens", None),
                                                      completion_max)
        out.prompt_tokens += prompt
        out.completion_tokens += completion
        if prompt and not bad_prompt:
            self._seen[0] += sum(len(str(m.get("content", ""))) for m in messages)
            self._seen[1] += prompt
        cost = (self.price(prompt, completion) if bad_prompt or bad_completion
                else self.cost_of(response, prompt, completion))
        cost, bad_cost = plausible_cost(cost, self.price(prompt_max, completion_max))
        out.cost_usd += cost
        problems = [f"{name}: {why}" for name, why in (("prompt tokens", bad_prompt),
                    ("completion tokens", bad_completion), ("cost", bad_cost)) if why]
        if problems:  # a warning the first time in a run, then debug lines
            log = logger.debug if self._implausible else logger.warning
            self._implausible += 1
            log("%s %s: %s reported implausible usage (%s); counted as %d+%d tokens, $%.6f%s",
                job.kind, job.key, self.model, "; ".join(problems), prompt, completion,
                cost, "" if self._implausible > 1 else " (further calls: debug log)")

    def _accept(self, job: Job, messages: list[dict[str, str]], response: Any,
                out: Outcome) -> None:
        out.responses += 1
        out.requests += 1
        answered = out.prompt_tokens
        self._count_usage(job, messages, response, out)
        estimate = self.estimate_tokens(messages)
        prompt = out.prompt_tokens - answered
        if prompt > estimate:  # learn a tokenizer that counts more than we assumed
            self._undercount *= prompt / estimate
        out.failure_kind, out.failure_message = None, ""
        i = job.inputs
        vocabulary = [self.llm.language, *map(str, i.get("tags") or ()), str(i.get("topic", ""))]
        grounding = Grounding(messages[0]["content"], vocabulary)
        finish = None
        try:
            choice = response.choices[0]
            finish = getattr(choice, "finish_reason", None)
            data = parse_reply(choice.message.content)
            if job.kind == "summary":
                source = f"{i['title']}\n{i['abstract']}"
                out.data, out.dropped = validate_summary(
                    data, source, grounding, title=str(i["title"]), abstract=str(i["abstract"]))
                if self.asks_verdicts(job):
                    offered = {str(c["topic"]): str(c.get("definition") or "")
                               for c in i.get("candidates") or ()}
                    out.verdicts, dropped, ignored = validate_verdicts(
                        data.get("topics"), offered, source, grounding)
                    out.dropped += dropped
                    if ignored:
                        logger.debug("summary %s: verdicts ignored (not offered, repeated or not "
                                     "yes/no): %s", job.key, ", ".join(map(repr, ignored)))
                if self.asks_claims(job):  # stored in the record; merged by enrich.claims
                    found, dropped = validate_claims(
                        data.get("claims"), str(i["abstract"]), f"{MODEL_LABEL}{self.model}",
                        grounding, title=str(i["title"]))
                    out.data["claims"] = found
                    out.dropped += dropped
            elif job.kind == "score":
                out.data = validate_scores(data)
            else:
                papers = {str(p["id"]): "\n".join(str(p.get(k) or "") for k in
                                                  ("title", "abstract", "tldr"))
                          for p in i["papers"]}
                out.data = validate_briefing(data, papers, grounding, len(papers))
        except ReplyError as e:
            kind = "truncated" if e.kind == "malformed" and finish == "length" else e.kind
            out.failure_kind, out.failure_message = kind, str(e)
        except (AttributeError, IndexError, TypeError) as e:
            out.failure_kind, out.failure_message = "malformed", f"unexpected response: {e}"
        if out.failure_kind:
            logger.debug("%s %s refused: %s: %s", job.kind, job.key, out.failure_kind,
                         scrub(out.failure_message, self._secrets))
