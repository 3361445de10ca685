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

from ..core.models import Digest, Paper
from .claim_rules import PCT_RX, TIMES_RX, WORD_TIMES_RX, extract_fields
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
        by = item.get("by")
        if isinstance(by, str) and by.startswith(MODEL) and len(by) <= BY_LIMIT:
            kept[name]["by"] = by  # a model's value added to a rules claim
    if not any(f in kept for f in PRIMARY):
        return None
    technique = record.get("technique")
    subkind = record.get("subkind")
    by = record.get("by")
    return {"by": by if isinstance(by, str) and by and len(by) <= BY_LIMIT else RULES,
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


# -- a model's claims (summary.v4): values parsed from their span, merged under the rules --------

# what the summary prompt ($claim_fields) asks for in each field: the rules' field vocabulary.
# This text is part of what summary.v4 asks: changing it changes the prompt without changing its
# version (the cache key), so change it together with a new prompt file (summary.v5).
# The examples are figures and names a weak model copies as they are (SmolLM2-135M wrote "2.5x"
# and "A100" into every field): such a copy is stored only where the abstract states it, at its
# span, and parses as that field.
FIELD_HELP = {
    "speedup": "the speed-up factor or time saving, with its unit (\"2.5x\", \"30%\")",
    "memory_reduction": "the memory saving (\"4x\", \"75%\")",
    "size_reduction": "the model size or parameter reduction (\"3.9x\", \"50%\")",
    "precision_bits": "the bit width or number format (\"4-bit\", \"W4A8\", \"INT8\")",
    "sparsity": "the sparsity (\"50%\", \"2:4\")",
    "accuracy_change": "the accuracy change or loss (\"0.5%\", \"-1.2%\")",
    "model": "the model it was measured on (\"LLaMA-2-7B\")",
    "model_size": "that model's size (\"7B\")",
    "hardware": "the hardware it ran on (\"A100\")",
    "baseline": "what it is compared against (\"FP16\", \"vLLM\")",
}


def claim_fields() -> str:
    """The $claim_fields of a summary prompt: one line per field, in FIELDS order."""
    return "\n".join(f'  - "{f}": {FIELD_HELP[f]}' for f in FIELDS)


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s?(B|M|billion|million)(?:\s+param\w*)?$", re.I)
_WA_TEXT = re.compile(r"\bW(\d{1,2})A(\d{1,2})(?:KV(\d{1,2}))?\b")
_FORMAT_TEXT = re.compile(r"\b(?:U?INT|FP|BF|NF|MXFP|MXINT)\d{1,2}\b|\bbfloat16\b|\bfloat16\b")
_BITS_TEXT = re.compile(r"(?<![\w.])(\d{1,2})\s?-?\s?bits?\b", re.I)
_NM_TEXT = re.compile(r"^([1-9]|1[0-6]):(4|8|16|32)$")
_LESS = re.compile(r"\b(?:reduc\w*|lower\w*|less|cut\w*|decreas\w*|shorter|shorten\w*|sav\w*)\b",
                   re.I)
_WORSE = re.compile(r"\b(?:drops?|dropp\w*|loss|losses|los\w+|degrad\w*|decreas\w*|lower|"
                    r"reduc\w*|worse)\b", re.I)
_BETTER = re.compile(r"\b(?:gains?|improv\w*|increas\w*|higher|boost\w*|better)\b", re.I)
_METRICS = (("TTFT", re.compile(r"\bTTFT\b|time[- ]to[- ]first[- ]token", re.I)),
            ("throughput", re.compile(r"\bthroughput|\btokens?/s", re.I)),
            ("latency", re.compile(r"\blatenc|\bruntime|\binference time|\bresponse time|"
                                   r"\bwall-?clock|\bdecoding time", re.I)),
            ("training", re.compile(r"\btraining\b", re.I)))


def _number(text: str) -> float:
    v = float(text.strip("$").replace(",", ""))
    return int(v) if v.is_integer() else v


def _near(abstract: str, a: int, b: int, before: int = 40, after: int = 40) -> str:
    """The words around a span, within its sentence."""
    start = max(abstract.rfind(". ", 0, a) + 2, a - before, 0)
    end = abstract.find(". ", b)
    return abstract[start:min(b + after, end if end >= 0 else len(abstract))]


def parse_value(field: str, abstract: str, a: int, b: int) -> Any:
    """The value a span of the abstract states for a field (the shapes the rules write), or None
    when the span states no such value (a bare number, a speed-up without x or %, a sign-less
    accuracy change): a model's field name alone never makes a number a claim."""
    text = abstract[a:b]
    around = _near(abstract, a, b)
    if field in ("model", "hardware", "baseline"):
        return text if any(c.isalpha() for c in text) else None
    if field == "model_size":
        m = _SIZE.match(text.strip())
        if not m:
            return None
        unit = m.group(2).upper()[0]
        return f"{m.group(1)}{unit}"
    if field == "precision_bits":
        if m := _WA_TEXT.search(text):
            wa: dict[str, Any] = {"weights": int(m.group(1)), "activations": int(m.group(2))}
            if m.group(3):
                wa["kv"] = int(m.group(3))
            return wa
        if m := _FORMAT_TEXT.search(text):
            return {"bfloat16": "BF16", "float16": "FP16"}.get(m.group(0).lower(), m.group(0).upper())
        if (m := _BITS_TEXT.search(text)) and 1 <= int(m.group(1)) <= 32:
            after = abstract[a + m.end():a + m.end() + 30].lower()
            tensor = ("kv" if re.match(r"\s*(?:kv|key[- ]value|cache)", after) else
                      "weights" if re.match(r"\s*weight", after) else
                      "activations" if re.match(r"\s*activation", after) else "bits")
            return {tensor: int(m.group(1))}
        return None
    if field == "sparsity":
        if _NM_TEXT.match(text.strip()):
            return text.strip()
        m = PCT_RX.search(text)
        pct = _number(m.group("hi") or m.group("lo")) if m else None
        return {"percent": pct} if pct is not None and 0 < pct < 100 else None
    upto = "up to" in abstract[max(0, a - 8):b].lower()
    times = TIMES_RX.search(text)
    pct_m = PCT_RX.search(text)
    if field == "speedup":
        metric = next((name for name, rx in _METRICS if rx.search(around)), "unspecified")
        if times:
            lo = _number(times.group("lo"))
            hi = _number(times.group("hi")) if times.group("hi") else None
            factor = hi if hi is not None else lo
            if factor <= 1 or (hi is not None and hi <= lo):
                return None
            return {"factor": factor, "metric": metric, "upto": upto,
                    "range": [lo, hi] if hi is not None else None}
        if (w := WORD_TIMES_RX.search(text)) and w.group("w"):
            words = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                     "eight": 8, "nine": 9, "ten": 10, "twenty": 20}
            return {"factor": words[w.group("w").lower()], "metric": metric, "upto": upto,
                    "range": None, "as_written": f"{w.group('w').lower()} times"}
        if pct_m:
            pct = _number(pct_m.group("hi") or pct_m.group("lo"))
            if not 0 < pct <= 100:
                return None
            key = "percent_reduction" if _LESS.search(around) else "percent_speedup"
            return {"factor": None, "metric": metric, "upto": upto, "range": None, key: pct}
        return None
    if field in ("memory_reduction", "size_reduction"):
        if times:
            factor = _number(times.group("hi") or times.group("lo"))
            return {"factor": factor, **({"upto": True} if upto else {})} if factor > 1 else None
        if pct_m:
            pct = _number(pct_m.group("hi") or pct_m.group("lo"))
            return {"percent": pct, **({"upto": True} if upto else {})} if 0 < pct <= 100 else None
        return None
    if field == "accuracy_change":
        m = pct_m or re.search(r"(?<![\w.])([-\u2212+])?(\d+(?:\.\d+)?)\s*(?:points?|pp)\b", text)
        if m is None:
            return None
        sign = m.group(1) if not pct_m else pct_m.group("sign")
        num = _number(m.group(2) if not pct_m else (pct_m.group("hi") or pct_m.group("lo")))
        if sign in ("-", "\u2212") or (sign is None and _WORSE.search(around) and not _BETTER.search(around)):
            delta = -num
        elif sign == "+" or (sign is None and _BETTER.search(around) and not _WORSE.search(around)):
            delta = num
        else:
            return None  # a change whose direction the abstract does not make plain
        if not 0 < num <= 100:
            return None
        return {"delta": delta, "unit": "%" if pct_m else "points", "metric": "accuracy"}
    return None


def _spans(record: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    return [(f, int(i["span"][0]), int(i["span"][1])) for f, i in record["fields"].items()]


def _overlaps(a: int, b: int, x: int, y: int) -> bool:
    return a < y and x < b


def rules_only(claims: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rules' records of stored claims: model records dropped, model values taken out of
    merged ones (what `merge` started from)."""
    out = []
    for c in claims:
        by = str(c.get("by") or RULES)
        if by.startswith(MODEL):
            continue
        fields = c.get("fields") if isinstance(c.get("fields"), Mapping) else {}
        assert isinstance(fields, Mapping)
        kept = {f: dict(i) for f, i in fields.items()
                if isinstance(i, Mapping) and not str(i.get("by") or "").startswith(MODEL)}
        out.append({**c, "by": RULES, "fields": kept})
    return out


def merge(rules: Sequence[Mapping[str, Any]], model: Sequence[Mapping[str, Any]]
          ) -> tuple[dict[str, Any], ...]:
    """Rules claims with a model's claims added under them (the rules win: see the module doc).

    Both must be grounded records (`grounded`); the model's carry by "model:<name>".
    """
    out = [{**r, "fields": dict(r["fields"])} for r in rules]
    for m in model:
        by = str(m.get("by") or MODEL)
        taken = [s for r in out for s in _spans(r)]
        # a value that overlaps a value already stored, other than the same field at the same span
        fields = {f: i for f, i in m["fields"].items() if all(
            (f, x, y) == (g, int(i["span"][0]), int(i["span"][1]))
            or not _overlaps(int(i["span"][0]), int(i["span"][1]), x, y)
            for g, x, y in taken)}
        same = next((r for r in out for f in PRIMARY
                     if f in fields and f in r["fields"]
                     and r["fields"][f]["span"] == fields[f]["span"]), None)
        if same is not None:  # the model stated a claim the rules read: add what they left out
            added = {f: {**i, "by": by} for f, i in fields.items()
                     if f not in same["fields"] and f in CONTEXT}
            if added:
                same["fields"].update(added)
                if not str(same.get("by")).startswith(RULES + "+"):
                    same["by"] = f"{RULES}+{by}"[:BY_LIMIT]
            continue
        if not any(f in PRIMARY for f in fields) or any(
                f in PRIMARY and any(int(i["span"][0]) == x and int(i["span"][1]) == y
                                     for _g, x, y in taken) for f, i in fields.items()):
            continue  # nothing new, or a primary value another record holds already
        out.append({**m, "by": by, "fields": {f: dict(i) for f, i in fields.items()}})
    return tuple(out[:MAX_CLAIMS])


def model_records(paper: Paper) -> list[dict[str, Any]]:
    """The model's claims in the paper's stored summary record (summary.v4), grounded again in
    the abstract, each with the technique the claim's sentence names (technique_of)."""
    rec = paper.summary
    if not isinstance(rec, Mapping) or "failure" in rec or "cache_key" not in rec:
        return []
    fields = rec.get("fields")
    raw = fields.get("claims") if isinstance(fields, Mapping) else None
    if not isinstance(raw, list):
        return []
    out = []
    for c in raw[:MAX_CLAIMS]:
        if not isinstance(c, Mapping) or not str(c.get("by") or "").startswith(MODEL):
            continue
        g = grounded(c, paper.abstract)
        if g is None:
            continue
        first = min(i["span"][0] for i in g["fields"].values())
        start, end = next(((a, b) for a, b in sentence_spans(paper.abstract) if a <= first < b),
                          (0, len(paper.abstract)))
        g["technique"], g["subkind"] = technique_of(paper, paper.abstract[start:end])
        out.append(g)
    return out


def with_model(paper: Paper) -> Paper:
    """The paper with its stored model claims merged into its rules claims (the summarize
    stage's last step; idempotent; a paper without a model's claims keeps its rules claims)."""
    model = model_records(paper)
    if not model and all(str(c.get("by")) == RULES for c in paper.claims):
        return paper
    rules = [g for g in (grounded(c, paper.abstract) for c in rules_only(paper.claims))
             if g is not None]
    claims = merge(rules, model)
    return paper if claims == paper.claims else replace(paper, claims=claims)


def apply_model(digest: Digest) -> Digest:
    """The day with every paper's model claims merged into its rules claims (with_model)."""
    papers = tuple(with_model(p) for p in digest.papers)
    added = sum(1 for p in papers for c in p.claims if str(c.get("by")) != RULES)
    if added:
        logger.info("claims: %d records with a model's values", added)
    return digest if all(a is b for a, b in zip(papers, digest.papers, strict=True)) \
        else digest.with_papers(papers)
