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

import base64
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Environment variables whose values must never be stored or logged.
_SECRET_NAME = re.compile(r"(?:API_?KEY|TOKEN|SECRET|PASSWORD|_KEY)$", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}")
_TOKENISH = re.compile(r"[A-Za-z0-9_+/=-]{32,}")  # long enough to be a key, in whatever encoding
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_+/=-]")
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


def secret_forms(secret: str) -> tuple[str, ...]:
    """Ways a provider may echo a key: as is, in hex, and base64 at each of its 3 alignments.

    A base64 form is the part of the encoding that depends on the key alone (what comes before
    and after it in the encoded text changes the edges), in the standard and URL-safe alphabets.
    """
    raw = secret.encode()
    forms = {secret, raw.hex()}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        core = encoded[4 if offset else 0: len(encoded) - 4]
        forms.update({core, core.replace("+", "-").replace("/", "_")})
    return tuple(sorted(f for f in forms if len(f) >= 8))


def _window(length: int) -> int:
    return max(8, min(16, length * 2 // 3))


@lru_cache(maxsize=16)
def _secret_pattern(secrets: tuple[str, ...]) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
    """Every window of every form of every secret, case-insensitive, matched at each position;
    with anchors (aligned half-windows, lower case): a text containing none cannot match."""
    windows: set[str] = set()
    anchors: set[str] = set()
    for secret in secrets:
        w = _window(len(secret))
        for form in secret_forms(secret):
            if len(form) <= w:
                windows.add(form)
                anchors.add(form.lower())
                continue
            windows.update(form[i:i + w] for i in range(len(form) - w + 1))
            half = w // 2
            anchors.update(form[k:k + half].lower() for k in range(0, len(form) - half + 1, half))
    if not windows:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(windows, key=len, reverse=True))
    return re.compile(f"(?=({alternatives}))", re.IGNORECASE), tuple(sorted(anchors))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """text with every trace of a secret replaced by [redacted], as far as one can tell.

    Caught: the secret as is, in any letter case, cut short or partly quoted (any run of
    two-thirds of it, 8 to 16 characters), in hex, in base64; and any bearer token. A match is
    widened to the whole token around it (the rest of a base64 run, say).
    """
    compiled = _secret_pattern(tuple(secrets))
    if compiled is not None:
        pattern, anchors = compiled
        low = text.lower()
        if any(a in low for a in anchors):
            spans: list[list[int]] = []
            for m in pattern.finditer(text):
                start, end = m.start(), m.start() + len(m.group(1))
                while start and _TOKEN_CHAR.match(text[start - 1]):
                    start -= 1
                while end < len(text) and _TOKEN_CHAR.match(text[end]):
                    end += 1
                if spans and start <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], end)
                else:
                    spans.append([start, end])
            for start, end in reversed(spans):
                text = text[:start] + REDACTED + text[end:]
    return _BEARER.sub(r"\1" + REDACTED, text)


def scrub(text: str, secrets: Iterable[str], limit: int = 500) -> str:
    """A provider's error text made fit for a debug log: redacted (redact_text), and any long
    token-like run (a key in some unknown encoding) replaced too; cut to `limit` characters."""
    text = _TOKENISH.sub(lambda m: REDACTED if _looks_random(m.group(0)) else m.group(0),
                         redact_text(text, secrets))
    return text if len(text) <= limit else text[:limit] + "..."


def _looks_random(token: str) -> bool:
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """value with every secret (redact_text) replaced by [redacted], recursively."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact_text(value, secrets)
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
