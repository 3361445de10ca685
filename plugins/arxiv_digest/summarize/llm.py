"""The litellm backend: async calls with bounded concurrency, timeouts, retries and a budget.

This is the only module that imports litellm, and only inside LiteLLMRunner.run (it takes seconds
to import and would fetch a price list from the internet unless LITELLM_LOCAL_MODEL_COST_MAP is
set first). API keys come from the provider's environment variables, read by litellm itself.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Sequence
from typing import Any

from .config import LLMSettings
from .jobs import Job, Outcome, Usage
from .prompts import VARIABLES, Prompt, load_prompt
from .schema import ReplyError, parse_reply, validate_briefing, validate_scores, validate_summary

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is cut to this
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


def failure_kind(exc: BaseException, litellm: Any) -> tuple[str, bool]:
    """The failure kind of an exception, and whether retrying it within the run may help."""
    chain = _chain(exc)
    if isinstance(exc, (asyncio.TimeoutError, litellm.Timeout)) or any(
            _named(e, "APITimeoutError") for e in chain):
        return "timeout", False
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


class Budget:
    """Spending cap for one day: a call starts only if its worst-case cost still fits."""

    def __init__(self, limit: float | None, spent: float) -> None:
        self.limit = limit
        self.spent = spent
        self.reserved = 0.0
        self.in_flight = 0  # calls holding a reservation (counted: float sums never reach 0)
        self.exhausted = False
        self._cond = asyncio.Condition()

    async def reserve(self, estimate: float) -> bool:
        """Hold room for a call; False once the budget is reached (no further calls)."""
        if self.limit is None:
            return True
        async with self._cond:
            while not self.exhausted:
                if self.spent + self.reserved + estimate <= self.limit:
                    self.reserved += estimate
                    self.in_flight += 1
                    return True
                if not self.in_flight:
                    self.exhausted = True
                    break
                await self._cond.wait()  # calls in flight may cost less than reserved
            return False

    async def settle(self, estimate: float, actual: float) -> None:
        """Replace a call's reservation with what it cost."""
        if self.limit is None:
            self.spent += actual
            return
        async with self._cond:
            self.in_flight -= 1
            self.reserved = max(0.0, self.reserved - estimate) if self.in_flight else 0.0
            self.spent += actual
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
        self._litellm: Any = None
        self._auth_failed = ""
        self._rates: tuple[float, float] | None = None  # USD per prompt, completion token

    def prompt_version(self, kind: str) -> str:
        """The prompt file's version, e.g. summary.v1."""
        return self.prompts[kind].version

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
        allowed = VARIABLES[job.kind]
        return self.prompts[job.kind].messages(**{k: v for k, v in values.items() if k in allowed})

    def run(self, jobs: Sequence[Job], spent_usd: float) -> dict[tuple[str, str], Outcome]:
        """Run the jobs concurrently; every job gets an outcome."""
        if not jobs:
            return {}
        if self._litellm is None:
            self._litellm = import_litellm()
        return asyncio.run(self._run_all(jobs, spent_usd))

    async def _run_all(self, jobs: Sequence[Job], spent_usd: float) -> dict[tuple[str, str], Outcome]:
        budget = Budget(self.llm.daily_budget_usd, spent_usd)
        gate = asyncio.Semaphore(self.llm.concurrency)

        async def one(job: Job) -> tuple[tuple[str, str], Outcome]:
            async with gate:
                return (job.kind, job.key), await self._job(job, budget)

        results = dict(await asyncio.gather(*(one(j) for j in jobs)))
        for o in results.values():
            self.usage.add(o)
        return results

    def estimate_usd(self, messages: list[dict[str, str]]) -> float:
        """Worst-case cost of a call: the prompt (at 3 characters a token) plus max_tokens."""
        chars = sum(len(m["content"]) for m in messages)
        return self.price(math.ceil(chars / 3) + 16, self.llm.max_tokens)

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

    async def _job(self, job: Job, budget: Budget) -> Outcome:
        out = Outcome()
        if self._auth_failed:
            out.failure_kind, out.failure_message = "auth", f"not called: {self._auth_failed}"
            return out
        messages = self.messages(job)
        estimate = self.estimate_usd(messages)
        if not await budget.reserve(estimate):
            out.failure_kind = "budget"
            out.failure_message = (f"not called: the daily budget of "
                                   f"${self.llm.daily_budget_usd:g} is reached")
            return out
        try:
            await self._call(job, messages, out)
        finally:
            await budget.settle(estimate, out.cost_usd)
        return out

    async def _call(self, job: Job, messages: list[dict[str, str]], out: Outcome) -> None:
        litellm = self._litellm
        llm = self.llm
        kwargs: dict[str, Any] = {
            "model": llm.model, "messages": messages, "temperature": llm.temperature,
            "max_tokens": llm.max_tokens, "timeout": llm.timeout, "num_retries": 0,
            "max_retries": 0, "response_format": {"type": "json_object"}, "drop_params": True,
        }
        if llm.api_base:
            kwargs["api_base"] = llm.api_base
        for attempt in range(1, llm.retries + 2):
            out.attempts = attempt
            try:
                response = await asyncio.wait_for(litellm.acompletion(**kwargs),
                                                  timeout=llm.timeout + 5.0)
            except Exception as e:  # classified below; never lets one paper stop the day
                kind, retryable = failure_kind(e, litellm)
                out.failure_kind, out.failure_message = kind, f"{type(e).__name__}: {e}"
                if kind == "auth":
                    self._auth_failed = f"authentication failed ({type(e).__name__})"
                if not retryable or attempt > llm.retries:
                    logger.debug("%s %s: %s after %d attempt(s)", job.kind, job.key, kind, attempt)
                    return
                wait = retry_after(e)
                wait = llm.retry_backoff * 2 ** (attempt - 1) if wait is None else wait
                logger.debug("%s %s: %s, retrying in %.1f s", job.kind, job.key, kind, wait)
                await asyncio.sleep(wait)
                continue
            self._accept(job, response, out)
            return

    def _accept(self, job: Job, response: Any, out: Outcome) -> None:
        usage = getattr(response, "usage", None)
        out.responses += 1
        out.prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        out.completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        out.cost_usd = self.cost_of(response, out.prompt_tokens, out.completion_tokens)
        out.failure_kind, out.failure_message = None, ""
        try:
            content = response.choices[0].message.content
            data = parse_reply(content)
            if job.kind == "summary":
                source = f"{job.inputs['title']}\n{job.inputs['abstract']}"
                out.data, out.dropped = validate_summary(data, source)
            elif job.kind == "score":
                out.data = validate_scores(data)
            else:
                out.data = validate_briefing(data)
        except ReplyError as e:
            out.failure_kind, out.failure_message = e.kind, str(e)
        except (AttributeError, IndexError, TypeError) as e:
            out.failure_kind, out.failure_message = "malformed", f"unexpected response: {e}"
