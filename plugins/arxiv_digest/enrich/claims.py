"""Efficiency claims: grounded records of what an abstract states (issue 14), made at update.

A claim is one comparable statement of an abstract: a speed-up, a memory or size reduction, the
bits or sparsity it runs at, the accuracy it costs, and the model, hardware and baseline it is
stated for. Each value keeps the exact span of the abstract it came from (`abstract[a:b] == text`);
a value with no span is never stored (`grounded` is that check). Each record says how it was
obtained (`by`):

- "rules": this module's offline rules (claim_rules.py), on every stored paper;
- "model:<name>": read from a model's summary reply (summary.v4's "claims", checked by
  summarize/schema.validate_claims: every value is a phrase found in the abstract as written,
  a figure stated there with its unit, parsed here by `parse_value`);
- "rules+model:<name>": a rules claim the model also stated, to which it added a context value
  (model, size, hardware, baseline) the rules left out; each such value says "by" itself.

Merging (`merge`, `with_model`): the rules win. A model value whose span overlaps a rules value
of another field, or of the same field at another span, is dropped; a model claim whose primary
value is a rules claim's adds only the fields that claim lacks; a model claim with a primary
value no rule read is stored as its own record. The merge is recomputed from the paper's stored
summary record whenever the summarize stage runs (idempotent: `rules_only` undoes it), so a
re-fetch, which stores fresh rules claims, never loses or doubles a model's claims.

Record (the shape of tests/data/claims/labels.jsonl, which tests/data/claims/README.md explains):

    {"by": "rules", "technique": "quantization", "subkind": "PTQ",
     "fields": {"speedup": {"value": {"factor": 2.5, "metric": "latency", "upto": true,
                                      "range": null}, "span": [120, 131], "text": "up to 2.5x"},
                "baseline": {"value": "FP16", "span": [150, 154], "text": "FP16"}}}

The rules (claim_rules.py) prefer a missing value to a wrong one: a number becomes a claim only
when the words next to it say what it measures. Extraction is a pure function of the title and
abstract (and the paper's topics for the technique), so it runs on every stored paper at update
and the build only reads it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..models import Digest, Paper
from .claim_rules import extract_fields
from .sentences import sentence_spans

logger = logging.getLogger(__name__)

FIELDS = ("speedup", "memory_reduction", "size_reduction", "precision_bits", "sparsity",
          "accuracy_change", "model", "model_size", "hardware", "baseline")
PRIMARY = ("speedup", "memory_reduction", "size_reduction", "precision_bits", "sparsity",
           "accuracy_change")
CONTEXT = ("model", "model_size", "hardware", "baseline")
TECHNIQUES = ("pruning", "quantization", "kv-cache", "sparsity", "other")
RULES = "rules"
MODEL = "model:"  # the prefix of a model's label: "model:openai/gpt-4o-mini"
BY_LIMIT = 100  # characters of a `by` label
MAX_CLAIMS = 24  # per paper: an abstract states a handful; more is a runaway reply or rule

_TECHNIQUE_WORDS = (
    ("kv-cache", re.compile(r"\bKV[- ]?cache|\bkey[- ]value cache", re.I)),
    ("quantization", re.compile(r"\bquantiz|\blow[- ]bit\b|\bW\d+A\d+\b", re.I)),
    ("pruning", re.compile(r"\bprun(?:e|ed|es|ing)\b", re.I)),
    ("sparsity", re.compile(r"\bsparsi(?:ty|fy|fied|fication)\b|\b\d+:\d+ sparse", re.I)),
)
_SUBKINDS = (
    ("PTQ", re.compile(r"\bpost[- ]training quantiz\w*|\bPTQ\b", re.I)),
    ("QAT", re.compile(r"\bquantiz\w*[- ]aware training|\bQAT\b", re.I)),
    ("semi-structured", re.compile(r"\bsemi[- ]structured\b|\b\d+:\d+ (?:structured )?sparsi", re.I)),
    ("unstructured", re.compile(r"\bunstructured (?:pruning|sparsity)", re.I)),
    ("structured", re.compile(r"(?<!un)(?<!semi-)\bstructured (?:pruning|sparsity)", re.I)),
    ("kv-eviction", re.compile(r"\b(?:KV|cache|token)\w* evict|\bevict\w* (?:\w+ ){0,2}(?:KV|tokens|cache)", re.I)),
    ("kv-quantization", re.compile(r"\bKV[- ]cache quantiz|\bquantiz\w* (?:the )?KV", re.I)),
    ("speculative-decoding", re.compile(r"\bspeculative decoding\b", re.I)),
    ("distillation", re.compile(r"\bdistill\w*", re.I)),
)


def technique_of(paper: Paper, sentence: str) -> tuple[str, str | None]:
    """(technique, subkind): the topic the sentence's words name, else the paper's first listed
    topic, else "other"; the sub-kind only where the abstract names it."""
    technique = next((t for t, rx in _TECHNIQUE_WORDS if rx.search(sentence)), None)
    if technique is None:
        about = [t for t in TECHNIQUES if t in paper.tags]
        technique = about[0] if about else next(
            (t for t, rx in _TECHNIQUE_WORDS if rx.search(paper.abstract)), "other")
    text = f"{paper.title}\n{paper.abstract}"
    subkind = next((name for name, rx in _SUBKINDS if rx.search(sentence)), None) or next(
        (name for name, rx in _SUBKINDS if rx.search(text)), None)
    return technique, subkind


STRONG = ("speedup", "memory_reduction", "size_reduction", "sparsity")
_OURS = re.compile(r"\b(?:we|our|this (?:paper|work))\b", re.I)
_TENSOR_AFTER = re.compile(r"^(?:\s+[\w-]+){0,2}?\s+(?:KV[- ]cache|key[- ]value|weights?|"
                           r"activations?|quantiz\w*|precision|decoding|integers?|models?)\b", re.I)


def keep_stated(found: dict[str, list[dict[str, Any]]], text: str, start: int, end: int
                ) -> dict[str, list[dict[str, Any]]]:
    """The values a claim can hold: bits and accuracy changes only beside a speed-up, a saving or
    a sparsity (or bits the authors state of their own method: "we ... a 2-bit KV cache"), since
    a format or an accuracy named alone is background, not a result."""
    if any(found.get(f) for f in STRONG) or (found.get("precision_bits")
                                              and found.get("accuracy_change")):
        return found  # a saving, or an accuracy change at stated bits ("under INT8 (-23% mAP)")
    out = {f: v for f, v in found.items() if f not in ("accuracy_change", "precision_bits")}
    if _OURS.search(text, start, end):
        bits = [i for i in found.get("precision_bits", [])
                if _TENSOR_AFTER.match(text[i["span"][1]:min(end, i["span"][1] + 40)])]
        if bits:
            out["precision_bits"] = bits
    return out


def extract(paper: Paper) -> tuple[dict[str, Any], ...]:
    """The rules' claims of one paper: one record per comparable statement, every value with its
    span of the abstract (pure: the same paper gives the same records)."""
    abstract = paper.abstract
    out: list[dict[str, Any]] = []
    for start, end in sentence_spans(abstract):
        found = keep_stated(extract_fields(abstract, start, end), abstract, start, end)
        primary = {f: found[f] for f in PRIMARY if found.get(f)}
        if not primary:
            continue  # a model, device or baseline alone is no claim
        technique, subkind = technique_of(paper, abstract[start:end])
        n = max(len(v) for v in primary.values())
        for i in range(n):
            fields: dict[str, Any] = {}
            for f in FIELDS:
                values = found.get(f) or []
                if f in PRIMARY:
                    if i < len(values):
                        fields[f] = values[i]
                elif values:  # a context value holds for each claim of its sentence
                    fields[f] = values[i] if len(values) == n and n > 1 else values[0]
            out.append({"by": RULES, "technique": technique, "subkind": subkind,
                        "fields": fields})
    return tuple(out[:MAX_CLAIMS])


def grounded(record: Mapping[str, Any], abstract: str) -> dict[str, Any] | None:
    """The record with only the values whose span is text of the abstract; None when no primary
    value is left (a stored record must be checkable against the abstract it came from)."""
    fields = record.get("fields")
    if not isinstance(fields, Mapping):
        return None
    kept: dict[str, Any] = {}
    for name, item in fields.items():
        if name not in FIELDS or not isinstance(item, Mapping):
            continue
        span, text = item.get("span"), item.get("text")
        if not (isinstance(span, Sequence) and len(span) == 2 and isinstance(text, str) and text
                and all(isinstance(x, int) and not isinstance(x, bool) for x in span)):
            continue
        a, b = int(span[0]), int(span[1])
        if not (0 <= a < b <= len(abstract)) or abstract[a:b] != text:
            continue
        value = item.get("value")
        if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float, list, dict)):
            continue
        kept[name] = {"value": value, "span": [a, b], "text": text}
    if not any(f in kept for f in PRIMARY):
        return None
    technique = record.get("technique")
    subkind = record.get("subkind")
    return {"by": str(record.get("by") or RULES),
            "technique": technique if technique in TECHNIQUES else "other",
            "subkind": subkind if isinstance(subkind, str) and len(subkind) <= 40 else None,
            "fields": kept}


def extract_papers(papers: Iterable[Paper]) -> tuple[Paper, ...]:
    """Every paper with its rules' claims (all papers: 1,504 abstracts take under a second)."""
    out = []
    total = 0
    for p in papers:
        claims = extract(p)
        total += len(claims)
        out.append(replace(p, claims=claims) if claims != p.claims else p)
    logger.info("claims: %d records from %d papers", total, sum(1 for p in out if p.claims))
    return tuple(out)


def apply(digest: Digest) -> Digest:
    """The day with every paper's claims made (the update's enrich step; pure)."""
    return digest.with_papers(extract_papers(digest.papers))
