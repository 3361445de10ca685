"""What a backend is asked to do (Job) and what it answers (Outcome); the Runner protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

KINDS = ("summary", "score", "briefing")


@dataclass(frozen=True)
class Job:
    """One summary, score or briefing to produce; key is the paper id or the topic."""

    kind: str
    key: str
    # summary/score: id, title, abstract, tags (the topics it is about) and, for a summary,
    # candidates (topic -> definition and the keyword rules' evidence); briefing: topic, papers
    inputs: Mapping[str, Any]


@dataclass
class Outcome:
    """The validated data of a job, or why it failed; with what it cost."""

    data: dict[str, Any] | None = None
    dropped: list[str] = field(default_factory=list)
    # a summary's topic verdicts: candidate topic -> {"about": bool, "why": str} (checked)
    verdicts: dict[str, dict[str, Any]] | None = None
    failure_kind: str | None = None
    failure_message: str = ""  # for the log only: never stored (it may be the provider's text)
    status: int | None = None  # the HTTP status of the last failed attempt, if any
    attempts: int = 0  # calls made (retries included)
    responses: int = 0  # calls answered (and billed)
    requests: int = 0  # calls that reached the provider: answered, HTTP errors, timed out
    timed_out: int = 0  # of those, abandoned after their timeout (no answer, maybe billed)
    # prompt and completion tokens: what the provider reported, plus the estimated prompt tokens
    # of timed-out calls (estimated_prompt_tokens of them; their completion tokens are unknown: 0)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_prompt_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def ok(self) -> bool:
        """True when data was produced."""
        return self.data is not None and self.failure_kind is None


@dataclass
class Usage:
    """What a run spent: requests made (answered, refused, timed out), tokens and dollars (one
    model); timed_out and estimated_prompt_tokens say how much of it is estimated."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    timed_out: int = 0
    estimated_prompt_tokens: int = 0

    def add(self, o: Outcome) -> None:
        """Count one job's outcome."""
        self.calls += o.requests
        self.prompt_tokens += o.prompt_tokens
        self.completion_tokens += o.completion_tokens
        self.cost_usd += o.cost_usd
        self.timed_out += o.timed_out
        self.estimated_prompt_tokens += o.estimated_prompt_tokens


class Runner(Protocol):
    """A backend: produces outcomes for jobs, keyed by (kind, key)."""

    backend: str
    model: str | None

    def prompt_version(self, kind: str) -> str:
        """The version that goes into the cache key for this kind of job."""
        ...

    def asks_verdicts(self, job: Job) -> bool:
        """Whether a summary job also asks which of its candidate topics the paper is about."""
        ...

    def run(self, jobs: Sequence[Job], spent_usd: float,
            spent_tokens: int = 0) -> dict[tuple[str, str], Outcome]:
        """Produce every job's outcome; never raises for one job's failure."""
        ...

    @property
    def usage(self) -> Usage:
        """What this runner spent since it was made."""
        ...
