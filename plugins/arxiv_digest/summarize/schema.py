"""Parse and validate LLM replies: summary fields, scores, briefings (untrusted text, checked).

A reply that is not one JSON object is `malformed`; one that breaks the schema is `invalid`.
The JSON schemas sent to providers that constrain decoding are built here too (json_schema).

Grounding (grounding.py): a summary whose tldr or method states a number, name or venue the title
and abstract do not, or copies the prompt, is refused (`ungrounded`, `prompt_copy`). A figure
field (speedup, memory, bits_or_sparsity) is kept only if it is short (FIGURE_LIMIT characters,
FIGURE_WORDS words) and states a figure (a number with its unit, an N:M pattern or a format such as W4A8 or INT4)
that the abstract states, every number in it included; a name (models, hardware) only if it is
short (NAME_LIMIT), is not the title, and is found in the abstract (it is stored as the abstract
spells it). Anything else is dropped to null and listed in `dropped`. A briefing sentence must
cite listed papers (`uncited` otherwise) and be grounded in their text.

The limits are sent as maxLength/maxItems in the JSON schema too (json_schema), so an engine that
constrains decoding to the schema closes a string at its limit instead of running to max_tokens.

Efficiency claims (summary.v4's "claims", validate_claims): each claim's values use the rules'
field vocabulary (enrich/claims.FIELDS). A figure (speedup, memory_reduction, size_reduction,
precision_bits, sparsity, accuracy_change) is kept only as it is kept in a figure field (short,
grounded_figure) and a name (model, hardware, baseline) only as name_in finds it; then the value
must be a phrase of the abstract as written (its exact span is stored), and enrich/claims.parse_value
must read a value of that field from it. Whatever fails is dropped and listed in `dropped`; a claim
left with no figure is dropped whole; a broken claims list never refuses the summary.

Topic verdicts (summary.v3's "topics"): only offered topics count, `about` must be yes or no, and a
reason that is not grounded in the title, abstract and definition is dropped (validate_verdicts);
a broken verdict never refuses the summary: the keyword rules' decision stands for that topic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..enrich import claims as claims_mod
from .grounding import Grounding

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
# figures that carry their unit in their shape: N:M sparsity, weight/activation formats
_SHAPED = re.compile(r"(?<![\w.:])\d+:\d+(?![\w:])|\bW\d+A\d+(?:KV\d+)?\b|"
                     r"\b(?:INT|FP|NF|MXFP|MXINT|E\dM)\d+\b", re.I)

# Limits, in characters (after whitespace is collapsed) and items; the JSON schema says the same.
TLDR_LIMIT = 400
METHOD_LIMIT = 700
FIGURE_LIMIT = 60  # a figure field: "2.5x faster decoding", not a sentence
FIGURE_WORDS = 8  # ... in at most this many words
NAME_LIMIT = 40  # a model or hardware name: "LLaMA-2-7B", "NVIDIA A100"
NAMES_MAX = 8  # names per list
TECHNIQUE_LIMIT = 40
COMMENT_LIMIT = 240
# a briefing (the prompt asks for two to four short sentences, 100 words in all): its worst case
# under the schema, 5 x 240 characters and their citations, fits in the default max_tokens (700)
SENTENCE_LIMIT = 240  # a briefing sentence
SENTENCES_MAX = 5
WHY_LIMIT = 300  # characters of a verdict's reason
CLAIMS_MAX = 6  # claims per reply (an abstract states a handful; the rules keep up to 24)


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


def _names(value: Any, key: str) -> tuple[list[str] | None, bool]:
    """The names of a list field (None: none), and whether any item was dropped as unusable
    (too long, not a string); a list of more than NAMES_MAX x 2 names is invalid."""
    if value is None or value == [] or (isinstance(value, str) and value.strip().lower() in _NULLISH):
        return None, False
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or len(items) > NAMES_MAX * 2:
        raise ReplyError("invalid", f"{key} must be a list of at most {NAMES_MAX} names")
    out: list[str] = []
    lost = len(items) > NAMES_MAX
    for item in items[:NAMES_MAX]:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            lost = True
            continue
        name = " ".join(str(item).split())
        if name.lower() in _NULLISH:
            continue
        if len(name) > NAME_LIMIT:
            lost = True
        elif name not in out:
            out.append(name)
    return out or None, lost


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


def grounded_figure(value: str, abstract: str) -> bool:
    """value states a figure (a number with its unit, an N:M pattern, a format like W4A8) and
    everything it states is in the abstract: a sentence with no figure is not a figure field."""
    _, pairs = _figures(value)
    shaped = {_squash(m.group(0)) for m in _SHAPED.finditer(value)}
    if not pairs and not shaped:
        return False
    flat_shapes = {_squash(m.group(0)) for m in _SHAPED.finditer(abstract)}
    return grounded_number(value, abstract) and shaped <= flat_shapes


def _squashed_index(text: str) -> tuple[str, list[int]]:
    """text squashed (_squash) and, for each character kept, its position in text."""
    kept = [(c, i) for i, c in enumerate(text.lower()) if c.isascii() and c.isalnum()]
    return "".join(c for c, _ in kept), [i for _, i in kept]


def name_in(name: str, abstract: str, title: str = "") -> str | None:
    """The abstract's own spelling of a short name (NAME_LIMIT), found there as one phrase
    (ignoring case and punctuation); None if it is not there, too long, or the title."""
    flat = _squash(name)
    if not flat or len(name) > NAME_LIMIT or (title and flat == _squash(title)):
        return None
    squashed, where = _squashed_index(abstract)
    at = squashed.find(flat)
    if at < 0:
        return None
    start, end = where[at], where[at + len(flat) - 1] + 1
    found = abstract[start:end]
    for opening, closing in ("()", "[]"):  # "LLaMA-2 (7B" -> "LLaMA-2 (7B)"
        if found.count(opening) > found.count(closing) and abstract[end:end + 1] == closing:
            found += closing
            end += 1
    return found


def grounded_name(name: str, abstract: str) -> bool:
    """The name appears in the abstract as one phrase, ignoring case and punctuation."""
    return name_in(name, abstract) is not None


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _text(limit: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit}


def json_schema(kind: str, ids: Sequence[str] = (),
                topics: Sequence[str] | None = None, claims: bool = False) -> dict[str, Any]:
    """The JSON schema of a reply (for response_format json_schema); ids: a briefing's papers;
    topics: a summary's candidate topics, when its prompt asks for verdicts (None: it does not);
    claims: whether a summary's prompt asks for efficiency claims (summary.v4)."""
    if kind == "summary":
        props: dict[str, Any] = {
            "tldr": _text(TLDR_LIMIT), "method": _text(METHOD_LIMIT),
            "technique": _nullable({"type": "string", "enum": list(TECHNIQUES)}),
            **{k: _nullable(_text(FIGURE_LIMIT)) for k in EFFICIENCY_TEXT},
            **{k: _nullable({"type": "array", "items": _text(NAME_LIMIT), "maxItems": NAMES_MAX})
               for k in EFFICIENCY_LISTS},
        }
        if claims:  # before the verdicts, as the prompt lists them
            props["claims"] = {"type": "array", "maxItems": CLAIMS_MAX, "items": {
                "type": "object", "additionalProperties": False,
                "required": list(claims_mod.FIELDS),
                "properties": {f: _nullable(_text(NAME_LIMIT if f in claims_mod.CONTEXT
                                                  else FIGURE_LIMIT))
                               for f in claims_mod.FIELDS}}}
        if topics is not None:
            name: dict[str, Any] = {"type": "string"}
            if topics:
                name["enum"] = list(topics)  # the model cannot name a topic no term matched
            verdicts: dict[str, Any] = {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["topic", "why", "about"],
                "properties": {"topic": name, "why": _text(WHY_LIMIT),
                               "about": {"type": "boolean"}}}}
            verdicts["maxItems"] = len(topics)  # none offered: an empty list, as the prompt says
            props["topics"] = verdicts
    elif kind == "score":
        props = {"relevance": {"type": "integer"}, "novelty": {"type": "integer"},
                 "comment": _text(COMMENT_LIMIT)}
    else:
        cite: dict[str, Any] = {"type": "string"}
        cites: dict[str, Any] = {"type": "array", "items": cite}
        if ids:
            cite["enum"] = list(ids)
            cites["maxItems"] = len(ids)
        props = {"sentences": {"type": "array", "maxItems": SENTENCES_MAX, "items": {
            "type": "object", "additionalProperties": False, "required": ["text", "cites"],
            "properties": {"text": _text(SENTENCE_LIMIT), "cites": cites}}}}
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


def _grounded(value: str | None, key: str, source: str, grounding: Grounding | None) -> None:
    if value is None or grounding is None:
        return
    found = grounding.check(value, source)
    if found:
        raise ReplyError(found.kind, f"{key}: {found.what} is not in the title or abstract")


def validate_summary(data: Mapping[str, Any], source_text: str,
                     grounding: Grounding | None = None, *, title: str = "",
                     abstract: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Checked summary fields, and the names of fields dropped as not stated in the source.

    source_text: the title and abstract (tldr and method are checked against it); abstract: what
    figure fields and names must be found in (default source_text); title: what a name must not be.
    With grounding, a tldr or method that is not grounded refuses the whole summary.
    """
    abstract = source_text if abstract is None else abstract
    fields: dict[str, Any] = {
        "tldr": _one_line(data.get("tldr"), "tldr", TLDR_LIMIT, required=True),
        "method": _one_line(data.get("method"), "method", METHOD_LIMIT, required=True),
    }
    for key in ("tldr", "method"):
        _grounded(fields[key], key, source_text, grounding)
    technique = _one_line(data.get("technique"), "technique", TECHNIQUE_LIMIT, required=False)
    if technique is not None:
        technique = technique.lower().replace(" ", "-").replace("_", "-")
        technique = {"kv-caching": "kv-cache", "kvcache": "kv-cache"}.get(technique, technique)
        if technique not in TECHNIQUES:
            raise ReplyError("invalid", f"technique must be one of {', '.join(TECHNIQUES)} or null")
    fields["technique"] = technique
    dropped = []
    for key in EFFICIENCY_TEXT:
        raw = data.get(key)
        value = None if isinstance(raw, bool) or not isinstance(raw, (str, int, float)) else (
            " ".join(str(raw).split()))
        if value is not None and (
                value.lower() in _NULLISH or len(value) > FIGURE_LIMIT
                or len(value.split()) > FIGURE_WORDS
                or not grounded_figure(value, abstract)
                or (grounding is not None and grounding.copied(value, source_text))):
            value = None
        if value is None and raw is not None and not (
                isinstance(raw, str) and raw.strip().lower() in _NULLISH):
            dropped.append(key)
        fields[key] = value
    for key in EFFICIENCY_LISTS:
        names, lost = _names(data.get(key), key)
        if names is not None:
            kept: list[str] = []
            for n in names:
                found = name_in(n, abstract, title)
                if found is not None and found not in kept and not (
                        grounding and grounding.copied(n, source_text)):
                    kept.append(found)
            lost = lost or len(kept) < len(names)
            names = kept or None
        if lost:
            dropped.append(key)
        fields[key] = names
    return fields, dropped


def _locate(text: str, abstract: str, near: int | None) -> tuple[int, int] | None:
    """The span of text in the abstract, as written; of several, the one nearest `near`."""
    found: list[int] = []
    at = abstract.find(text)
    while at >= 0 and len(found) < 50:
        found.append(at)
        at = abstract.find(text, at + 1)
    if not found:
        return None
    a = found[0] if near is None else min(found, key=lambda x: abs(x - near))
    return a, a + len(text)


def validate_claims(raw: Any, abstract: str, by: str, grounding: Grounding | None = None, *,
                    title: str = "") -> tuple[list[dict[str, Any]], list[str]]:
    """A reply's efficiency claims as grounded records labelled `by` ("model:<name>"), and the
    values dropped ("claims[i].field", or "claims" for a list of the wrong shape)."""
    if raw is None or raw == []:
        return [], []
    if not isinstance(raw, list):
        return [], ["claims"]
    out: list[dict[str, Any]] = []
    dropped: list[str] = []
    for n, item in enumerate(raw[:CLAIMS_MAX * 2]):
        if not isinstance(item, Mapping) or n >= CLAIMS_MAX:
            dropped.append(f"claims[{n}]")
            continue
        fields: dict[str, Any] = {}
        lost: list[str] = []
        anchor: int | None = None
        for f in (*claims_mod.PRIMARY, *claims_mod.CONTEXT):  # figures first: names sit near
            value = item.get(f)
            if value is None or (isinstance(value, str) and value.strip().lower() in _NULLISH):
                continue
            text = None if isinstance(value, bool) or not isinstance(value, (str, int, float)) \
                else " ".join(str(value).split())
            span = None
            if text is not None and f in claims_mod.PRIMARY:
                if (len(text) <= FIGURE_LIMIT and len(text.split()) <= FIGURE_WORDS
                        and grounded_figure(text, abstract)
                        and not (grounding and grounding.copied(text, abstract))):
                    span = _locate(text, abstract, anchor)
            elif text is not None:
                name = name_in(text, abstract, title) if f != "model_size" else (
                    text if len(text) <= NAME_LIMIT else None)
                if name is not None and not (grounding and grounding.copied(text, abstract)):
                    span = _locate(name, abstract, anchor)
            parsed = claims_mod.parse_value(f, abstract, *span) if span else None
            if span is None or parsed is None:
                lost.append(f"claims[{n}].{f}")
                continue
            fields[f] = {"value": parsed, "span": list(span), "text": abstract[span[0]:span[1]]}
            anchor = span[0] if anchor is None else anchor
        record = claims_mod.grounded({"by": by, "technique": None, "subkind": None,
                                      "fields": fields}, abstract)
        if record is None:
            lost.append(f"claims[{n}]")  # no figure left: the claim goes whole
        else:
            out.append(record)
        dropped += lost
    return out, dropped


_YES = {"true", "yes", "about", "y", "1"}
_NO = {"false", "no", "not about", "mentions", "only mentions", "n", "0"}


def _verdict_items(raw: Any) -> list[tuple[Any, Any, Any]]:
    """(topic, about, why) of each entry: a list of objects, or an object keyed by topic."""
    if isinstance(raw, Mapping):
        return [(k, v.get("about"), v.get("why")) if isinstance(v, Mapping) else (k, v, None)
                for k, v in raw.items()]
    if isinstance(raw, list):
        return [(i.get("topic"), i.get("about"), i.get("why")) for i in raw
                if isinstance(i, Mapping)]
    return []


def _about(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = " ".join(value.lower().split())
        return True if low in _YES else False if low in _NO else None
    return None


def validate_verdicts(raw: Any, candidates: Mapping[str, str], source_text: str,
                      grounding: Grounding | None = None
                      ) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    """Checked topic verdicts: (topic -> {"about", "why"}, dropped, ignored).

    candidates: each topic the paper was offered -> its definition. An entry naming another topic
    is ignored (the model cannot add a topic); so are a repeated topic and an `about` that is not
    a yes or no. A reason (`why`) is one line of at most WHY_LIMIT characters and must be grounded
    in the title, abstract and definitions, or it is dropped (the verdict stays, without it).
    A reply with no usable verdict gives none: the keyword rules' decision stands.
    """
    by_flat = {_squash(name): name for name in candidates}
    out: dict[str, dict[str, Any]] = {}
    dropped: list[str] = []
    ignored: list[str] = []
    if raw is not None and not isinstance(raw, (list, Mapping)):
        return {}, ["topics"], []
    for topic, about_raw, why_raw in _verdict_items(raw):
        label = str(topic)[:40]
        name = topic if isinstance(topic, str) and topic in candidates else (
            by_flat.get(_squash(topic)) if isinstance(topic, str) else None)
        about = _about(about_raw)
        if name is None or name in out or about is None:
            ignored.append(label)
            continue
        why_text: str | None
        try:
            why_text = _one_line(why_raw, "why", WHY_LIMIT, required=False)
        except ReplyError:
            why_text = None
            dropped.append(f"topics.{name}.why")
        if why_text is not None and grounding is not None and grounding.check(
                why_text, f"{source_text}\n{candidates[name]}"):
            why_text = None
            dropped.append(f"topics.{name}.why")
        out[name] = {"about": about, "why": why_text or ""}
    return out, dropped, ignored


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
        "comment": _one_line(data.get("comment"), "comment", COMMENT_LIMIT, required=True),
    }


_INLINE_CITE = re.compile(r"\s*[\[(](?:arXiv:\s*)?([^\[\]()]{6,60})[\])]")
_CITE_ID = re.compile(r"(?:arXiv:\s*)?(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")


def _inline_cites(text: str) -> tuple[str, list[str]]:
    """Text without bracketed arXiv ids, and those ids ("... [2411.17700, 2411.17701].")."""
    found: list[str] = []

    def take(m: re.Match[str]) -> str:
        ids = [c.group(1) for c in _CITE_ID.finditer(m.group(1))]
        if not ids:
            return m.group(0)
        found.extend(ids)
        return ""

    return _INLINE_CITE.sub(take, text).strip(), found


def validate_briefing(data: Mapping[str, Any], papers: Mapping[str, str], grounding: Grounding,
                      count: int) -> dict[str, Any]:
    """Checked briefing sentences, each citing listed papers and grounded in their text.

    papers maps each listed id to the text the briefing may draw on (title, abstract, tldr).
    A sentence without a citation, with an unknown id, or not grounded refuses the briefing.
    """
    raw = data.get("sentences")
    if not isinstance(raw, list) or not raw:
        raise ReplyError("invalid", "sentences must be a non-empty list")
    if len(raw) > SENTENCES_MAX:
        raise ReplyError("invalid", f"sentences: at most {SENTENCES_MAX}")
    sentences = []
    for n, item in enumerate(raw, 1):
        if not isinstance(item, Mapping):
            raise ReplyError("invalid", f"sentence {n} must be an object with text and cites")
        text = _one_line(item.get("text"), f"sentence {n}", SENTENCE_LIMIT, required=True) or ""
        text, inline = _inline_cites(text)
        cites_raw = item.get("cites")
        cites_raw = [cites_raw] if isinstance(cites_raw, str) else cites_raw
        if cites_raw is not None and not isinstance(cites_raw, list):
            raise ReplyError("invalid", f"sentence {n}: cites must be a list of arXiv ids")
        cites: list[str] = []
        for c in [*(cites_raw or []), *inline]:
            m = _CITE_ID.fullmatch(str(c).strip()) if isinstance(c, (str, int, float)) else None
            cid = m.group(1) if m else str(c)
            if cid not in papers:
                raise ReplyError("uncited", f"sentence {n} cites {str(c)[:40]!r}, not a listed paper")
            if cid not in cites:
                cites.append(cid)
        if not cites:
            raise ReplyError("uncited", f"sentence {n} cites no listed paper")
        if not text:
            raise ReplyError("invalid", f"sentence {n} is empty")
        found = grounding.check(text, "\n".join(papers[c] for c in cites), [str(count)])
        if found:
            raise ReplyError(found.kind, f"sentence {n}: {found.what} is not in the cited papers")
        sentences.append({"text": text, "cites": cites})
    joined = " ".join(f"{s['text']} [{', '.join(s['cites'])}]" for s in sentences)
    if len(joined) > 2400:
        raise ReplyError("invalid", "briefing is longer than 2400 characters")
    return {"sentences": sentences, "text": joined}
