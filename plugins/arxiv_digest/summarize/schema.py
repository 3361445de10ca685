"""Parse and validate LLM replies: summary fields, scores, briefings (untrusted text, checked).

A reply that is not one JSON object is `malformed`; one that breaks the schema is `invalid`.
Numbers and names the abstract does not state are dropped (set to null), never stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

TECHNIQUES = ("pruning", "quantization", "kv-cache", "sparsity", "other")
SUMMARY_KEYS = ("tldr", "method", "technique", "bits_or_sparsity", "speedup", "memory",
                "models", "hardware")
EFFICIENCY_TEXT = ("bits_or_sparsity", "speedup", "memory")
EFFICIENCY_LISTS = ("models", "hardware")
_NULLISH = {"", "null", "none", "n/a", "na", "not stated", "not specified", "unknown", "-"}
_FENCE = re.compile(r"\A```(?:json)?\s*(.*?)\s*```\Z", re.S | re.I)
_FIGURE = re.compile(
    r"(\d+(?:[.,]\d+)?)(?:\s?-?\s?(\$?\\times\$?|\u00d7|x(?![a-z])|times|-?fold|bits?(?![a-z])|%|"
    r"\\%|percent|[gmkt]b(?![a-z])))?", re.I)
_UNITS = {"\u00d7": "x", "times": "x", "\\times": "x", "fold": "x", "-fold": "x", "bits": "bit",
          "\\%": "%", "%": "%", "percent": "%"}
_ALNUM = re.compile(r"[^0-9a-z]+")


class ReplyError(ValueError):
    """A reply was rejected; `kind` is 'malformed' or 'invalid'."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def parse_reply(text: str | None) -> dict[str, Any]:
    """The one JSON object in a reply (a ```json fence around it is tolerated)."""
    if not text or not text.strip():
        raise ReplyError("malformed", "empty reply")
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        data = json.loads(body)
    except json.JSONDecodeError as e:
        raise ReplyError("malformed", f"not JSON ({e.msg} at char {e.pos})") from e
    if not isinstance(data, dict):
        raise ReplyError("malformed", f"expected a JSON object, got {type(data).__name__}")
    return data


def _one_line(value: Any, key: str, limit: int, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in _NULLISH):
        if required:
            raise ReplyError("invalid", f"{key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ReplyError("invalid", f"{key} must be a string, got {type(value).__name__}")
    text = " ".join(str(value).split())
    if len(text) > limit:
        raise ReplyError("invalid", f"{key} is longer than {limit} characters")
    return text


def _names(value: Any, key: str) -> list[str] | None:
    if value is None or value == [] or (isinstance(value, str) and value.strip().lower() in _NULLISH):
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or len(items) > 16:
        raise ReplyError("invalid", f"{key} must be a list of at most 16 names")
    out = []
    for item in items:
        name = _one_line(item, key, 80, required=False)
        if name and name not in out:
            out.append(name)
    return out or None


def _squash(text: str) -> str:
    return _ALNUM.sub("", text.lower())


def _figures(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    nums, pairs = set(), set()
    for m in _FIGURE.finditer(text):
        num = m.group(1).replace(",", ".")
        nums.add(num)
        unit = (m.group(2) or "").lower().lstrip("-\\$")
        if unit:
            pairs.add((num, _UNITS.get(unit.rstrip("$"), unit)))
    return nums, pairs


def grounded_number(value: str, abstract: str) -> bool:
    """Every number in value (with its unit: x, bit, %, GB...) appears so in the abstract."""
    have_nums, have_pairs = _figures(abstract)
    nums, pairs = _figures(value)
    unitless = nums - {n for n, _ in pairs}
    return unitless <= have_nums and pairs <= have_pairs


def grounded_name(name: str, abstract: str) -> bool:
    """The name (or each of its words) appears in the abstract, ignoring case and punctuation."""
    flat = _squash(abstract)
    if _squash(name) and _squash(name) in flat:
        return True
    words = [_squash(w) for w in re.split(r"[\s\-/(),]+", name) if len(_squash(w)) >= 2]
    return bool(words) and all(w in flat for w in words)


def validate_summary(data: Mapping[str, Any], source_text: str) -> tuple[dict[str, Any], list[str]]:
    """Checked summary fields, and the names of fields dropped as not stated in the source."""
    fields: dict[str, Any] = {
        "tldr": _one_line(data.get("tldr"), "tldr", 400, required=True),
        "method": _one_line(data.get("method"), "method", 700, required=True),
    }
    technique = _one_line(data.get("technique"), "technique", 40, required=False)
    if technique is not None:
        technique = technique.lower().replace(" ", "-").replace("_", "-")
        technique = {"kv-caching": "kv-cache", "kvcache": "kv-cache"}.get(technique, technique)
        if technique not in TECHNIQUES:
            raise ReplyError("invalid", f"technique must be one of {', '.join(TECHNIQUES)} or null")
    fields["technique"] = technique
    dropped = []
    for key in EFFICIENCY_TEXT:
        value = _one_line(data.get(key), key, 160, required=False)
        if value is not None and not grounded_number(value, source_text):
            dropped.append(key)
            value = None
        fields[key] = value
    for key in EFFICIENCY_LISTS:
        names = _names(data.get(key), key)
        if names is not None:
            kept = [n for n in names if grounded_name(n, source_text)]
            if len(kept) < len(names):
                dropped.append(key)
            names = kept or None
        fields[key] = names
    return fields, dropped


def _score(value: Any, key: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise ReplyError("invalid", f"{key} must be an integer from 1 to 10, got {value!r}")
    return value


def validate_scores(data: Mapping[str, Any]) -> dict[str, Any]:
    """Checked relevance, novelty (1-10) and a one-line comment."""
    return {
        "relevance": _score(data.get("relevance"), "relevance"),
        "novelty": _score(data.get("novelty"), "novelty"),
        "comment": _one_line(data.get("comment"), "comment", 240, required=True),
    }


def validate_briefing(data: Mapping[str, Any]) -> dict[str, Any]:
    """A checked briefing paragraph."""
    return {"text": _one_line(data.get("briefing"), "briefing", 1200, required=True)}
