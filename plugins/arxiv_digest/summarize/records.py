"""Stored summary records: cache keys, the keep-or-call decision, failures, secret redaction.

A record (Paper.summary, a briefing entry, a paper's "score") carries `content_key` (a hash of
what was summarized: the id with its version and the abstract, or a topic's papers) and
`cache_key` (a hash of the content key with the backend, model, prompt version and language).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

# Environment variables whose values must never be stored or logged.
_SECRET_NAME = re.compile(r"(?:API_?KEY|TOKEN|SECRET|PASSWORD|_KEY)$", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}")
REDACTED = "[redacted]"


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


def decide(record: Any, content_key: str, key: str, backend: str, resummarize: bool) -> str:
    """'keep' the stored record, or 'call' to produce it again (and why, after a colon)."""
    if not isinstance(record, Mapping) or "cache_key" not in record:
        return "call:missing"
    failed = "failure" in record
    if record.get("cache_key") == key:
        return "call:retry" if failed else "keep"
    if record.get("content_key") != content_key:
        return "call:new-content"
    if failed:
        return "call:retry"
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


def failure(kind: str, message: str, previous: Any, attempts: int, key: str) -> dict[str, Any]:
    """A failure entry; `runs` counts consecutive failed runs for the same cache key."""
    runs = 1
    if isinstance(previous, Mapping) and previous.get("cache_key") == key:
        old = previous.get("failure")
        if isinstance(old, Mapping):
            runs = int(old.get("runs", 1)) + 1
    return {"kind": kind, "message": message[:300], "attempts": attempts, "runs": runs}


def usage_dict(prompt: int, completion: int) -> dict[str, int]:
    """The stored token counts."""
    return {"prompt": prompt, "completion": completion, "total": prompt + completion}
