"""Stored summary records: cache keys, the keep-or-call decision, failures, secret redaction.

A record (Paper.summary, a briefing entry, a paper's "score") carries `content_key` (a hash of
what was summarized: the id with its version and the abstract, or a topic's papers) and
`cache_key` (a hash of the content key with the backend, model, prompt version and language).

A failed call is stored as `failure`: its kind, the attempts of the last run, `runs` (consecutive
failed runs for the same inputs), `at` (the last attempt, UTC) and `key` (the cache key it tried),
never the provider's text. A failure backs off: the same inputs are not asked again before
`failed_retry_hours` x 2^(runs-1) have passed, nor at all after `failed_max_runs` runs, until the
model, prompt or abstract changes (or `--resummarize`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Environment variables whose values must never be stored or logged.
_SECRET_NAME = re.compile(r"(?:API_?KEY|TOKEN|SECRET|PASSWORD|_KEY)$", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}")
REDACTED = "[redacted]"
# Failures that cost no generation (nothing was answered): asked again on every run.
NO_BACKOFF = frozenset({"budget", "auth", "connection", "rate_limit", "error"})


@dataclass(frozen=True)
class Backoff:
    """When a failed record may be asked again: after hours x 2^(runs-1), at most max_runs runs."""

    now: dt.datetime
    hours: float = 20.0
    max_runs: int = 3


def digest_of(*parts: Any) -> str:
    """A stable hex hash of JSON-able parts."""
    raw = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def paper_content_key(versioned_id: str, abstract: str) -> str:
    """What a paper summary is of: the id with its version and the abstract."""
    return digest_of("paper", versioned_id, abstract)


def cache_key(content_key: str, backend: str, model: str | None, prompt_version: str,
              *extra: str) -> str:
    """The content key together with everything that produced the record."""
    return digest_of(content_key, backend, model, prompt_version, *extra)


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        at = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def failed_key(record: Mapping[str, Any]) -> str | None:
    """The cache key the record's failure tried (older records: the record's own key)."""
    fail = record.get("failure")
    if not isinstance(fail, Mapping):
        return None
    return str(fail.get("key") or record.get("cache_key") or "")


def backing_off(fail: Mapping[str, Any], backoff: Backoff) -> str | None:
    """'backoff' or 'gave-up' while a failure of the same inputs must not be asked again."""
    if str(fail.get("kind")) in NO_BACKOFF:
        return None
    runs = fail.get("runs", 1)
    runs = runs if isinstance(runs, int) and runs > 0 else 1
    if runs >= backoff.max_runs:
        return "gave-up"
    at = _parse_time(fail.get("at"))
    if at is not None and backoff.now < at + dt.timedelta(hours=backoff.hours * 2 ** (runs - 1)):
        return "backoff"
    return None


def decide(record: Any, content_key: str, key: str, backend: str, resummarize: bool,
           backoff: Backoff | None = None) -> str:
    """'keep' the stored record, or 'call' to produce it again (and why, after a colon).

    A failure of the same inputs is kept while it backs off ('keep:backoff', 'keep:gave-up').
    """
    if not isinstance(record, Mapping) or "cache_key" not in record:
        return "call:missing"
    failed = failed_key(record)
    if failed is not None:
        fail = record["failure"]
        if failed == key and backoff is not None and not resummarize:
            held = backing_off(fail, backoff)
            if held:
                return f"keep:{held}"
        if record.get("content_key") != content_key:
            return "call:new-content"
        return "call:retry"
    if record.get("cache_key") == key:
        return "keep"
    if record.get("content_key") != content_key:
        return "call:new-content"
    if record.get("backend") == "extractive" and backend != "extractive":
        return "call:upgrade"
    if record.get("backend") != "extractive" and backend == "extractive":
        return "keep"  # an offline run never throws away a paid summary of the same text
    return "call:resummarize" if resummarize else "keep"


def secret_values(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Values of the environment's API keys and tokens (long enough to be real secrets)."""
    env = os.environ if env is None else env
    return tuple(sorted({v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= 8},
                        key=len, reverse=True))


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """value with every secret and bearer token replaced by [redacted], recursively."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        for s in secrets:
            value = value.replace(s, REDACTED)
        return _BEARER.sub(r"\1" + REDACTED, value)
    if isinstance(value, Mapping):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    return value


def failure(kind: str, previous: Any, attempts: int, key: str, at: dt.datetime,
            status: int | None = None) -> dict[str, Any]:
    """A failure entry (no provider text); `runs` counts consecutive failed runs for this key."""
    runs = 1
    if isinstance(previous, Mapping) and failed_key(previous) == key:
        old = previous["failure"]
        n = old.get("runs", 1)
        runs = (n if isinstance(n, int) and n > 0 else 1) + 1
    out: dict[str, Any] = {"kind": kind, "attempts": attempts, "runs": runs, "key": key,
                           "at": at.astimezone(dt.UTC).replace(microsecond=0).isoformat()}
    if status is not None:
        out["status"] = status
    return out


def usage_dict(prompt: int, completion: int) -> dict[str, int]:
    """The stored token counts."""
    return {"prompt": prompt, "completion": completion, "total": prompt + completion}
