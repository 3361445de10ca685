"""The offline rules behind enrich/claims.py: numbers read with their units and the words around them.

Every rule returns values with their offsets in the abstract. A number is kept only when its unit
and the words next to it say what it measures ("2.5x faster", "reduces latency by 30%", "4-bit
weights", "2:4 sparsity"); a bare number, a resolution (256x256), a k-fold or an absolute figure
("30 tokens/s") is not a claim. TeX is read as written: "$2.5\\times$", "27\\%", "$50$ times".
"""

from __future__ import annotations

import re
from typing import Any

Item = dict[str, Any]

# -- numbers and units -------------------------------------------------------------------------

_N = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NUM = rf"\$?{_N}\$?"
_DASH = r"\s*(?:-|\u2013|\u2014|~|to)\s*"
_QUAL = (r"(?:(?:about|approximately|around|roughly|nearly|almost|over|more than|at least|"
         r"less than|under|below|as low as|as much as|just|only|an average of|on average|"
         r"averaging|average)\s+)")
_UPTO = r"(?:up\s+to\s+)"
_TIMES = (r"(?:\s*\$?\\times\$?(?!\s*\$?\d)|\s*\u00d7(?!\s*\d)|[xX](?![\w\d])|\s*-?\s*fold\b|"
          r"\s+times\b)")
_PCT = r"(?:\s*\\?%\$?|\s+percent\b|\s*\$\\%\$)"
_WORDNUM = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "twice": 2, "twenty": 20, "hundred": 100}
_MAGNITUDE = {"an": 10, "one": 10, "two": 100, "three": 1000, "four": 10000}

TIMES_RX = re.compile(
    rf"(?<![\w.])(?P<lo>{_NUM})(?:(?:{_TIMES})?{_DASH}(?P<hi>{_NUM}))?(?P<unit>{_TIMES})", re.I)
WORD_TIMES_RX = re.compile(
    r"\b(?:(?P<w>two|three|four|five|six|seven|eight|nine|ten|twenty)\s+times\b"
    r"|(?P<m>an|one|two|three|four)\s+orders?\s+of\s+magnitude\b)", re.I)
PCT_RX = re.compile(
    rf"(?<![\w.])(?P<sign>[-\u2212+])?(?P<lo>{_NUM})(?:{_PCT})?(?:{_DASH}(?P<hi>{_NUM}))?"
    rf"(?P<unit>{_PCT})", re.I)
_PREFIX = re.compile(rf"(?P<q>{_QUAL})?(?P<up>{_UPTO})?(?P<q2>{_QUAL})?$", re.I)


def _num(text: str) -> float:
    v = float(text.strip("$").replace(",", ""))
    return int(v) if v.is_integer() else v


def _prefix(text: str, a: int, start: int) -> tuple[int, str | None, bool]:
    """(where the value's text starts, its qualifier, "up to") from the words before a number."""
    m = _PREFIX.search(text, max(start, a - 40), a)
    if m is None or m.start() == m.end():
        return a, None, False
    q = m.group("q") or m.group("q2")
    return m.start(), " ".join(q.lower().split()) if q else None, bool(m.group("up"))


# -- what a number measures: the words after it, else the words before it ---------------------

_SPEED = (r"speed-?ups?|faster|quicker|accelerat(?!or)\w*|throughput|latency|latencies|"
          r"speed|inference time|runtime|run-time|wall-?clock|walltime|response time|TTFT|TPOT|"
          r"time[- ]to[- ]first[- ]token|decoding time|execution time|training time|"
          r"processing time|computation time|generation time|performance improvements?")
_MEMORY = (r"memory|VRAM|KV[- ]cache (?:size|footprint|memory|compression)|"
           r"(?:cache|storage) (?:size|footprint)|footprint")
_SIZE = (r"smaller|compression(?: ratio)?|model size|fewer parameters|less parameters|"
         r"parameters|parameter count|compress\w*")
_OTHER = (r"FLOPs?|MACs?|energy|power|data|samples?|tokens?|sequences?|bandwidth|communication|"
          r"costs?|accuracy|perplexity|BLEU|F1|mAP|scores?|error|rates?|"
          r"efficiency|context|length|steps|iterations|epochs|calls|queries|edges|nodes|"
          r"operations|bits?|images|frames|compute|computation|distance|resolution|area|"
          r"larger|more|fewer|bigger|higher accuracy|better accuracy")
_AFTER_CAT = re.compile(
    rf"\b(?P<speed>(?:lower |reduced |less |higher |better |improved )?(?:{_SPEED}))\b"
    rf"|\b(?P<memory>(?:less |lower |reduced |smaller )?(?:{_MEMORY}))\b"
    rf"|\b(?P<size>{_SIZE})\b"
    rf"|\b(?P<other>{_OTHER})\b", re.I)
_BEFORE_CAT = re.compile(
    rf"\b(?:(?P<speed>{_SPEED}|speed(?:s|ing)? up|improv\w+ (?:the )?(?:inference )?speed|"
    rf"improv\w+ (?:the )?performance by)"
    rf"|(?P<memory>{_MEMORY})|(?P<size>{_SIZE}|model size)|(?P<other>{_OTHER}))\b", re.I)
_CLAUSE_END = re.compile(r"[,;:()]|\s(?:and|while|but|whereas|with|which|respectively|for|on|at|"
                         r"in|across|compared|than|over)\s", re.I)
_COMPARATIVE = re.compile(r"^\s*(?:more|less|fewer|larger|higher|lower|smaller|bigger|better)\s+"
                          rf"(?!(?:[\w-]+\s+){{0,2}}(?:{_SPEED}|{_MEMORY}|parameters)\b)", re.I)
_ABSOLUTE = re.compile(r"^\s*(?:ms|s|sec|seconds?|minutes?|hours?|tokens?\s*(?:/|per)\s*s\w*|"
                       r"fps|images?/s|GB|MB|KB|TB|W|watts?|J|mJ)\b", re.I)
_METRIC = (
    ("TTFT", re.compile(r"\bTTFT\b|time[- ]to[- ]first[- ]token", re.I)),
    ("throughput", re.compile(r"\bthroughput|\btokens?/s|\brates?\b", re.I)),
    ("latency", re.compile(r"\blatenc|\bTPOT\b|runtime|run-time|inference time|response time|"
                           r"wall-?clock|walltime|execution time|processing time|decoding time", re.I)),
    ("training", re.compile(r"\btraining|\biterations\b", re.I)),
)
_COORD = re.compile(r"^\s*(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+|/)$", re.I)


def _clause_after(text: str, pos: int, end: int, limit: int = 50) -> str:
    piece = text[pos:min(end, pos + limit)]
    m = _CLAUSE_END.search(piece)
    return piece[:m.start()] if m else piece


def _clause_before(text: str, pos: int, start: int, limit: int = 90) -> str:
    piece = text[max(start, pos - limit):pos]
    cut = max((m.end() for m in re.finditer(r"[;:()]|, (?:and|while|but|whereas) |\. ", piece)),
              default=0)
    return piece[cut:]


def _category(text: str, vstart: int, vend: int, start: int, end: int,
              after_ok: bool = True) -> tuple[str | None, str]:
    """(speed|memory|size|other|None, the words that decided) for a value at [vstart, vend)."""
    if after_ok:
        after = _clause_after(text, vend, end)
        m = _AFTER_CAT.search(after)
        if m and m.start() <= 24:
            kind = next(k for k in ("speed", "memory", "size", "other") if m.group(k))
            return kind, after[:m.end()]
    before = _clause_before(text, vstart, start)
    last = None
    for found in _BEFORE_CAT.finditer(before):
        last = found
    if last is not None and len(before) - last.end() <= 40:
        kind = next(k for k in ("speed", "memory", "size", "other") if last.group(k))
        return kind, before[last.start():]
    return None, ""


def _metric(words: str) -> str:
    return next((name for name, rx in _METRIC if rx.search(words)), "unspecified")


def _respectively(text: str, a: int, b: int, end: int) -> bool:
    """A value in a list paired with another list by "respectively" ("87% and 79% reduction in
    parameters and FLOPs, respectively"): the words after it name several things."""
    return bool(re.search(r"\brespectively\b", text[b:end])) and bool(
        re.match(rf"\s*(?:,|and|or)\s*(?:and\s+)?(?:{_QUAL})?\$?\d", text[b:b + 30], re.I)
        or re.search(r"\d\S*\s*(?:,|and)\s*(?:and\s+)?$", text[max(0, a - 20):a]))


# -- speed-ups, memory and size factors --------------------------------------------------------

_RESOLUTION = re.compile(r"\d\s*(?:[xX\u00d7*]|\\times)\s*\$?\d")


def _factor_items(text: str, start: int, end: int, out: dict[str, list[Item]]) -> None:
    if _DIGIT.search(text, start, end):
        _digit_factors(text, start, end, out)
    _word_factors(text, start, end, out)


def _digit_factors(text: str, start: int, end: int, out: dict[str, list[Item]]) -> None:
    prev: tuple[int, str, str] | None = None  # (end, kind, words) of the last value read
    for m in TIMES_RX.finditer(text, start, end):
        a, q, up = _prefix(text, m.start(), start)
        b = m.end()
        around = text[max(start, m.start() - 2):min(end, b + 3)]
        if _RESOLUTION.search(around) or re.match(r"\s*(?:cross|CV)", text[b:b + 8], re.I):
            continue
        if "fold" in m.group("unit").lower() and not re.match(
                r"\s*(?:speed|faster|increase|reduc|improv|accelerat|higher|lower|less|fewer|"
                r"smaller)", text[b:b + 20], re.I):
            continue
        if _ABSOLUTE.match(text[b:b + 12]) or _COMPARATIVE.match(text[b:b + 40]):
            continue
        kind: str | None
        if prev is not None and _COORD.match(text[prev[0]:a]):
            kind, words = prev[1] or None, prev[2]  # "3.2x, 2.4x, and 2.8x": one statement
        else:
            kind, words = _category(text, a, b, start, end,
                                    after_ok=not _respectively(text, a, b, end))
        prev = (b, kind or "", words)
        if kind is None:
            continue
        lo, hi = _num(m.group("lo")), _num(m.group("hi")) if m.group("hi") else None
        factor = hi if hi is not None else lo
        if factor <= 1 or (hi is not None and hi <= lo):
            continue
        value: dict[str, Any]
        if kind == "speed":
            value = {"factor": factor, "metric": _metric(words), "upto": up,
                     "range": [lo, hi] if hi is not None else None}
            field = "speedup"
        elif kind in ("memory", "size"):
            value = {"factor": factor}
            if up:
                value["upto"] = True
            if hi is not None:
                value["range"] = [lo, hi]
            field = "memory_reduction" if kind == "memory" else "size_reduction"
        else:
            continue
        if q:
            value["qualifier"] = q
        out.setdefault(field, []).append({"value": value, "span": [a, b], "text": text[a:b]})


def _word_factors(text: str, start: int, end: int, out: dict[str, list[Item]]) -> None:
    if not re.search(r"times|magnitude", text[start:end], re.I):
        return
    for m in WORD_TIMES_RX.finditer(text, start, end):
        if not m.group("w"):
            continue  # "orders of magnitude": too loose a figure for a comparison table
        a, _q, up = _prefix(text, m.start(), start)
        b = m.end()
        if not re.match(r"\s+(?:faster|quicker|speed-?ups?|higher throughput|lower latency)\b",
                        text[b:b + 24], re.I):
            continue
        _kind, words = _category(text, a, b, start, end)
        val = {"factor": _WORDNUM[m.group("w").lower()], "metric": _metric(words), "upto": up,
               "range": None, "as_written": f"{m.group('w').lower()} times"}
        out.setdefault("speedup", []).append({"value": val, "span": [a, b], "text": text[a:b]})


# -- percentages: speed-ups as reductions of time, memory, size, accuracy changes --------------

_REDUCE = (r"(?:reduc\w*|lower\w*|cut\w*|decreas\w*|shorten\w*|sav\w*|shrink\w*|trim\w*|"
           r"compress\w*|slash\w*)")
_RAISE = r"(?:improv\w*|increas\w*|boost\w*|rais\w*|enhanc\w*|accelerat\w*|speed\w* up)"
_TIME_NOUN = (r"(?:latency|latencies|runtime|run-time|inference time|response time|TTFT|TPOT|"
              r"time[- ]to[- ]first[- ]token|execution time|processing time|wall-?clock(?: time)?|"
              r"walltime|decoding time|training time|computation time|end-to-end time)")
_MEM_NOUN = (r"(?:(?:GPU |peak |activation |KV[- ]cache )?memory(?: usage| consumption| footprint| "
             r"cost| requirements?| overhead)?|KV[- ]cache(?: size| memory| footprint)?|VRAM|"
             r"memory footprint)")
_SIZE_NOUN = r"(?:model size|parameters|parameter count|the number of parameters|model parameters)"
_ACC_NOUN = r"(?:accuracy|performance|top-1(?: accuracy)?|mAP|F1|BLEU)"
_BY = r"(?:\s+(?:[\w-]+\s+){0,4}?by\s+)"
_RED_OF = (rf"\b(?:(?:reduction|decrease|cut|drop)\s+(?:of|by)|sav(?:es|ing|e|ed))\s+"
           rf"(?:{_UPTO})?(?:{_QUAL})?$")
_PCT_BEFORE = (
    ("speed_reduction", re.compile(rf"\b{_REDUCE}\s+(?:the\s+|its\s+|their\s+)?(?:[\w-]+\s+){{0,3}}?"
                                   rf"{_TIME_NOUN}{_BY}(?:{_UPTO})?(?:{_QUAL})?$"
                                   rf"|\b{_TIME_NOUN}\s+(?:is|are|was|were)\s+(?:\w+\s+)?{_REDUCE}\s+by\s+"
                                   rf"(?:{_UPTO})?(?:{_QUAL})?$", re.I)),
    ("speed_up", re.compile(rf"\b(?:{_RAISE}|speeds?\s+up|accelerates?)\s+(?:the\s+)?(?:[\w-]+\s+){{0,3}}?"
                            rf"(?:throughput|speed|inference|decoding|training){_BY}"
                            rf"(?:{_UPTO})?(?:{_QUAL})?$", re.I)),
    ("memory", re.compile(rf"\b{_REDUCE}\s+(?:the\s+|its\s+)?(?:[\w-]+\s+){{0,2}}?{_MEM_NOUN}{_BY}"
                          rf"(?:{_UPTO})?(?:{_QUAL})?$", re.I)),
    ("size", re.compile(rf"\b{_REDUCE}\s+(?:the\s+)?(?:[\w-]+\s+){{0,2}}?{_SIZE_NOUN}{_BY}"
                        rf"(?:{_UPTO})?(?:{_QUAL})?$", re.I)),
    ("accuracy", re.compile(rf"\b{_ACC_NOUN}\s+(?:drops?|loss|losses|degradation|decrease)\s+"
                            rf"(?:\w+\s+)?(?:of|by|under|below|within|kept under)?\s*(?:{_UPTO})?(?:{_QUAL})?$"
                            r"|\b(?:degrad\w+|drop\w*|hurt\w*|los\w+)\s+(?:the\s+|its\s+)?"
                            rf"(?:[\w-]+\s+){{0,2}}{_ACC_NOUN}\s+(?:by\s+)?(?:{_QUAL})?$", re.I)),
    ("gain", re.compile(rf"\b(?:improv\w*|increas\w*|boost\w*)\s+(?:the\s+|its\s+)?(?:[\w-]+\s+){{0,2}}?"
                        rf"{_ACC_NOUN}\s+by\s+(?:{_UPTO})?(?:{_QUAL})?$", re.I)),
    ("retained", re.compile(r"\b(?:retain\w*|preserv\w*|recover\w*|maintain\w*|keep\w*)\s+"
                            rf"(?:{_QUAL})?$", re.I)),
)
_PCT_AFTER = (
    ("speed_up", re.compile(r"^\s*(?:[\w-]+\s+)?(?:speed-?ups?|faster|acceleration)\b"
                            r"|^\s*(?:higher throughput|throughput (?:improvement|gain|increase))\b", re.I)),
    ("speed_reduction", re.compile(rf"^\s*(?:lower|less|reduction in|reduced|shorter|decrease in)\s+"
                                   rf"(?:[\w-]+\s+){{0,2}}?{_TIME_NOUN}\b"
                                   rf"|^\s*{_TIME_NOUN}\s+reduction\b", re.I)),
    ("memory", re.compile(rf"^\s*(?:(?:less|lower|reduction in|reduced|smaller|savings? (?:in|of))\s+"
                          rf"(?:[\w-]+\s+)?{_MEM_NOUN}|{_MEM_NOUN}\s+(?:reduction|savings?|compression)"
                          rf"(?: ratio)?)\b", re.I)),
    ("size", re.compile(r"^\s*(?:fewer|less)\s+(?:model\s+)?parameters\b|^\s*(?:smaller\s+model|"
                        r"reduction in (?:model size|parameters))\b", re.I)),
    ("accuracy", re.compile(rf"^\s*(?:top-1\s+)?{_ACC_NOUN}\s+(?:drop|loss|degradation|decrease)\b"
                            rf"|^\s*(?:drop|loss|degradation|decrease)\s+in\s+(?:[\w-]+\s+)?{_ACC_NOUN}\b",
                            re.I)),
    ("retained", re.compile(r"^\s*of\s+(?:the\s+|its\s+|their\s+)?(?:[\w-]+\s+){0,3}?"
                            rf"{_ACC_NOUN}\b", re.I)),
)
_NOUN_AFTER = (("speed_reduction", re.compile(rf"^\s*(?:of\s+|in\s+)?(?:the\s+)?{_TIME_NOUN}\b", re.I)),
               ("memory", re.compile(rf"^\s*(?:of\s+|in\s+)?(?:the\s+)?{_MEM_NOUN}\b", re.I)))
_SIGNED_METRIC = re.compile(rf"^\s*{_ACC_NOUN}\b", re.I)


def _percent_kind(text: str, a: int, b: int, start: int, end: int, signed: bool) -> str | None:
    before = _clause_before(text, a, start)
    after = text[b:min(end, b + 60)]
    if signed and _SIGNED_METRIC.match(after):
        return "accuracy"
    if _respectively(text, a, b, end):
        after = ""  # the words after name several things: only a shared verb before decides
    kind = next((k for k, rx in _PCT_AFTER if rx.search(after)), None)
    if kind is None and re.search(_RED_OF, before, re.I):
        kind = next((k for k, rx in _NOUN_AFTER if rx.search(after)), None)
    if kind is None:
        kind = next((k for k, rx in _PCT_BEFORE if rx.search(before)), None)
    return kind


def _percent_items(text: str, start: int, end: int, out: dict[str, list[Item]]) -> None:
    prev: tuple[int, str | None, str] | None = None
    for m in PCT_RX.finditer(text, start, end):
        a, q, up = _prefix(text, m.start(), start)
        b = m.end()
        if m.start() > start and text[m.start() - 1] == "$" and a == m.start():
            a -= 1  # "$75.7\%$": the math opens before the number
        lo = _num(m.group("lo"))
        hi = _num(m.group("hi")) if m.group("hi") else None
        pct = hi if hi is not None else lo
        signed = m.group("sign") is not None
        kind: str | None
        if prev is not None and _COORD.match(text[prev[0]:a]) and prev[1]:
            kind, words = prev[1], prev[2]
            up = up or "up to" in text[max(start, prev[0] - 40):prev[0]].lower()
        else:
            kind = _percent_kind(text, m.start(), b, start, end, signed)
            words = _clause_before(text, a, start)[-60:] + " " + text[b:b + 40]
        prev = (b, kind, words)
        if kind is None or not 0 < pct <= 100:
            continue
        item_value: dict[str, Any]
        if kind in ("speed_reduction", "speed_up"):
            item_value = {"factor": None, "metric": _metric(words), "upto": up, "range": None}
            item_value["percent_reduction" if kind == "speed_reduction" else "percent_speedup"] = pct
            field = "speedup"
        elif kind in ("memory", "size"):
            item_value = {"percent": pct}
            if up:
                item_value["upto"] = True
            field = "memory_reduction" if kind == "memory" else "size_reduction"
        elif kind in ("accuracy", "gain"):
            sign = "+" if kind == "gain" else m.group("sign")
            item_value = {"delta": pct if sign == "+" else -pct, "unit": "%", "metric": "accuracy"}
            if up:
                item_value["upto"] = True
            field = "accuracy_change"
        else:
            item_value = {"retained": pct, "unit": "%",
                          "metric": "performance" if "perform" in text[b:b + 40].lower() else "accuracy"}
            field = "accuracy_change"
        if q:
            item_value["qualifier"] = q
        out.setdefault(field, []).append({"value": item_value, "span": [a, b], "text": text[a:b]})


# -- bits and formats, sparsity ----------------------------------------------------------------

_WA = re.compile(r"\bW(\d{1,2})A(\d{1,2})(?:KV(\d{1,2}))?\b")
_FORMAT = re.compile(r"\b(?:(?:U?INT|FP|BF|NF|MXFP|MXINT|E\dM)\d{1,2}|bfloat16|float16|"
                     r"half[- ]precision)\b")
_BITS = re.compile(r"(?<![\w.])\$?(\d{1,2}(?:\.\d{1,2})?)\$?\s?-?\s?bits?\b", re.I)
_QUANT_CTX = re.compile(r"quantiz|precision|low-bit|bit-?width|integer|\bbits?\b|weights?|"
                        r"activations?|KV|cache|compress", re.I)
_COMPARE = re.compile(r"(?:compared\s+(?:to|with)|relative\s+to|versus|vs\.?|than|over|against|"
                      r"outperform\w*|surpass\w*|beat\w*)\s+(?:the\s+|an?\s+|its\s+|their\s+)?"
                      r"(?:[\w-]+\s+){0,2}$", re.I)


def _tensor(after: str) -> str:
    after = re.sub(r"^(?:\s+(?!weights?|activations?|kv|key)[a-z][\w-]*){0,2}", "", after.lower())
    if re.match(r"\s*(?:kv|key[- ]value|cache)", after):
        return "kv"
    if re.match(r"\s*weights?\b|\s*(?:weight[- ]only)", after):
        return "weights"
    if re.match(r"\s*activations?\b", after):
        return "activations"
    return "bits"


def _bits_items(text: str, start: int, end: int, out: dict[str, list[Item]]) -> None:
    sent = text[start:end]
    for m in _WA.finditer(sent):
        value: dict[str, Any] = {"weights": int(m.group(1)), "activations": int(m.group(2))}
        if m.group(3):
            value["kv"] = int(m.group(3))
        a, b = start + m.start(), start + m.end()
        out.setdefault("precision_bits", []).append({"value": value, "span": [a, b], "text": text[a:b]})
    for m in _FORMAT.finditer(sent):
        a, b = start + m.start(), start + m.end()
        name = m.group(0)
        fmt = {"bfloat16": "BF16", "float16": "FP16"}.get(name.lower(), name.upper())
        if fmt.startswith("HALF"):
            fmt = "FP16"
        if re.search(r"\w's\s+$", text[max(start, a - 12):a]):
            continue  # "the teacher's FP32 precision": another model's format, not the claim's
        if _COMPARE.search(text[max(start, a - 40):a]):
            out.setdefault("baseline", []).append({"value": fmt, "span": [a, b], "text": text[a:b]})
        else:
            out.setdefault("precision_bits", []).append({"value": fmt, "span": [a, b], "text": text[a:b]})
    for m in _BITS.finditer(sent):
        a, b = start + m.start(), start + m.end()
        n = _num(m.group(1))
        window = text[max(start, a - 50):min(end, b + 40)]
        if not 1 <= n <= 32 or not _QUANT_CTX.search(window.replace(m.group(0), " ")):
            continue
        if re.match(r"\s*(?:floating|float|architecture|processor|CPU|OS|system|address)", text[b:b + 14], re.I):
            continue
        bits: dict[str, Any] = {_tensor(text[b:b + 50]): n}
        target = "baseline" if _COMPARE.search(text[max(start, a - 40):a]) else "precision_bits"
        out.setdefault(target, []).append({"value": bits, "span": [a, b], "text": text[a:b]})


_SPARSE_PCT = re.compile(
    rf"(?P<v>(?:{_UPTO})?(?:{_QUAL})?{_NUM}{_PCT})\s+(?:(?:unstructured|structured|weight|activation|"
    rf"attention)\s+)?sparsity\b"
    rf"|\bsparsity\s+(?:ratio\s+|level\s+|rate\s+)?(?:of\s+)(?P<w>(?:{_UPTO})?(?:{_QUAL})?{_NUM}{_PCT})"
    rf"|\bprun\w*\s+(?P<p>(?:{_UPTO})?(?:{_QUAL})?{_NUM}{_PCT})\s+of\s+(?:the\s+|its\s+|their\s+)?"
    r"(?:model\s+|network\s+)?(?P<of>weights|parameters|filters|channels|neurons|heads|"
    r"attention heads|layers|connections)\b", re.I)
_NM = re.compile(r"(?<![\d:.])([1-9]|1[0-6]):(4|8|16|32)(?![\d:])(?=\s*\)?\s*(?:\(|-)?\s*(?:semi-)?"
                 r"(?:structured\s+)?(?:sparsity|sparse|pruning|pattern)|\s+\w+\s+sparsity)", re.I)


_SPARSE_HINT = re.compile(r"sparsi|prun|\d:\d", re.I)


def _sparsity_items(text: str, start: int, end: int, out: dict[str, list[Item]]) -> None:
    sent = text[start:end]
    if not _SPARSE_HINT.search(sent):
        return
    for m in _SPARSE_PCT.finditer(sent):
        g = next(k for k in ("v", "w", "p") if m.group(k))
        a, b = start + m.start(g), start + m.end(g)
        num = re.search(_N, text[a:b])
        if num is None:
            continue
        pct = _num(num.group(0))
        if not 0 < pct < 100:
            continue
        value: dict[str, Any] = {"percent": pct}
        if m.group("of"):
            value["of"] = m.group("of").lower()
        if re.match(r"\s*up\s+to", text[a:b], re.I):
            value["upto"] = True
        out.setdefault("sparsity", []).append({"value": value, "span": [a, b], "text": text[a:b]})
    for m in _NM.finditer(sent):
        if int(m.group(1)) >= int(m.group(2)):
            continue
        a, b = start + m.start(), start + m.end()
        out.setdefault("sparsity", []).append({"value": m.group(0), "span": [a, b], "text": text[a:b]})


# -- models, sizes, hardware, baselines --------------------------------------------------------

_FAMILIES = (  # longest first: the regex takes the first alternative that matches
    r"Segment Anything|Stable Diffusion|EfficientNet|MobileNetV\d|Code ?Llama|Llama Guard|"
    r"XLM-RoBERTa|Chinchilla|DistilBERT|SqueezeNet|Command R|Inception|MobileNet|"
    r"StarCoder|TinyLlama|BLIP-?2?|Baichuan|CaffeNet|ConvNeXt|DeepSeek|DenseNet|InternLM|"
    r"Nemotron|YOLOv\d+|AlexNet|ChatGLM|CodeGen|DeBERTa|Flan-T5|Mistral|Mixtral|ResNeXt|"
    r"RoBERTa|Whisper|wav2vec|ALBERT|Alpaca|BLOOMZ|Claude|Falcon|Gemini|HuBERT|Pythia|"
    r"ResNet|SigLIP|SmolLM|Vicuna|BLOOM|Gemma|Jamba|LLAMA|LLaMA|LLaVA|Llama|Mamba|U-Net|"
    r"XLM-R|BART|BERT|CLIP|DETR|DeiT|FLUX|Grok|OLMo|PaLM|Qwen|RWKV|SDXL|Swin|UNet|YOLO|"
    r"DiT|GLM|GPT|MPT|OPT|Phi|QwQ|SAM|SiT|VGG|ViT|mT5|T5|Yi")
_MODEL = re.compile(
    rf"(?<![\w-])(?:{_FAMILIES})(?:(?:[- ]?(?:\d[\w.]*|v\d[\w.]*))|(?:[-/.][\w.]+))*"
    r"(?:[- ](?:\d+(?:\.\d+)?[BbMm]|[0-9x]+B|Instruct|Chat|Base|XL|Large|Base|Small|Tiny|Mini|Nano))*"
    r"(?![\w])")
_MODEL_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)([BM])(?![\w])|(?<![\w.])(\d+(?:\.\d+)?)\s?(?:billion|million|m)\b"
                   r"(?=\s*(?:-|\s)?(?:and\s+\d+(?:\.\d+)?\s?m\s+)?param)", re.I)
_HARDWARE = re.compile(
    r"(?<![\w-])(?:(?:NVIDIA|Nvidia|AMD|Intel|Google|Apple|Qualcomm|Xilinx|AMD Xilinx)\s+)?"
    r"(?:(?:GeForce\s+)?RTX[\s-]?\d{4}(?:\s?Ti)?|GTX[\s-]?\d{3,4}|A100|A800|H100|H800|H200|B200|"
    r"GH200|V100|P100|T4|L4|L40S?|A10G?|A6000|RTX\s?A\d{4}|MI\d{3}X?|Gaudi\s?\d?|"
    r"Jetson(?:\s(?:AGX|Orin|Nano|Xavier|TX2|NX))+|Raspberry Pi(?:\s\d)?|TPU\s?v?\d\w*|TPUs?|"
    r"Versal\s\w+|Alveo\s\w+|Zynq\s?[\w-]*|M[1-4](?:\s(?:Pro|Max|Ultra))?|Snapdragon\s\d+\w*|"
    r"FPGAs?|\d{4}(?=\s+GPUs?))(?:\s+(?:GPUs?|TPUs?|FPGA))?(?![\w-])")
_GENERIC_HW = re.compile(r"\b(?:edge|mobile|embedded|resource-constrained)\s+(?:devices?|GPUs?|CPUs?|"
                         r"NPUs?|platforms?|hardware)|\b(?:commodity|consumer|single)\s+(?:GPUs?|CPUs?)\b"
                         r"|\bCPUs\b", re.I)
_ON = re.compile(r"(?:\bon|\busing|\bacross|\bwith|\bdeployed\s+on|\brunning\s+on|\bwhen\s+run\s+on)\s+"
                 r"(?:an?\s+|the\s+|single\s+|one\s+|two\s+|four\s+|eight\s+|\d+\s+|commodity\s+)*$", re.I)
_CAP = r"(?:[A-Z][\w.+/-]*|[a-z]+[A-Z][\w.+/-]*|\d[\w.+/-]*[A-Za-z][\w.+/-]*)"
_BASELINE = re.compile(
    r"(?:compared\s+(?:to|with)|relative\s+to|versus|vs\.?|faster\s+than|than|over|against)\s+"
    r"(?:the\s+|an?\s+|standard\s+|vanilla\s+|existing\s+|previous\s+|prior\s+|conventional\s+|"
    r"traditional\s+|original\s+)?"
    rf"(?P<name>{_CAP}(?:[ -]{_CAP}){{0,2}}(?:-(?:based|like|style))?"
    r"(?:\s(?:models?|architectures?|implementations?|library|libraries|systems?|kernels?|"
    r"baselines?|methods?|engines?|frameworks?|GPUs?))?(?:\swith(?:out)?\s(?:" + _CAP + r"|[a-z]+ing\b))?)(?![\w-])")
_NOT_NAMES = {"The", "This", "That", "These", "Those", "Our", "We", "It", "Its", "A", "An", "In",
              "On", "All", "Other", "State", "SOTA", "Baseline", "Baselines", "Existing", "Prior",
              "Previous", "Traditional", "Conventional", "Standard", "Full", "Dense", "Original"}


def _context_items(text: str, start: int, end: int, out: dict[str, list[Item]]) -> None:
    sent = text[start:end]
    taken: list[tuple[int, int]] = [(i["span"][0], i["span"][1]) for v in out.values() for i in v]

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    def add(field: str, value: Any, a: int, b: int) -> None:
        if free(a, b) and text[a:b]:
            taken.append((a, b))
            out.setdefault(field, []).append({"value": value, "span": [a, b], "text": text[a:b]})

    for m in _BASELINE.finditer(sent):
        name = m.group("name").rstrip(".,")
        if name.split("-")[0] in _NOT_NAMES or name.split(" ")[0] in _NOT_NAMES or len(name) < 2:
            continue
        if not re.search(r"[A-Z]", name[1:]) and not re.search(r"\d", name) and name.istitle():
            continue  # "Moreover", "Transformers": one capitalised word says too little
        a = start + m.start("name")
        add("baseline", name, a, a + len(name))
    for m in _MODEL.finditer(sent):
        a, b = start + m.start(), start + m.end()
        name = text[a:b].rstrip(".-/")
        b = a + len(name)
        if name in ("SAM", "GLM") and not re.search(r"[-\d]", text[b:b + 2]):
            continue  # a bare acronym that names other things too
        if _COMPARE.search(text[max(start, a - 40):a]):
            add("baseline", name, a, b)
            continue
        add("model", name, a, b)
        size = _MODEL_SIZE.search(name)
        if size and size.group(1):
            sa = a + size.start()
            out.setdefault("model_size", []).append(
                {"value": f"{size.group(1)}{size.group(2).upper()}", "span": [sa, sa + len(size.group(0))],
                 "text": size.group(0)})
    for m in _MODEL_SIZE.finditer(sent):
        if not m.group(3):
            continue
        a, b = start + m.start(), start + m.end()
        unit = "B" if m.group(0).lower().rstrip().endswith("billion") else "M"
        add("model_size", f"{m.group(3)}{unit}", a, b)
    for rx in (_HARDWARE, _GENERIC_HW):
        for m in rx.finditer(sent):
            a, b = start + m.start(), start + m.end()
            name = text[a:b]
            pre = text[max(start, a - 40):a]
            if _COMPARE.search(pre) or re.search(r"(?:than|to|over|against|with)\s+(?:the\s+)?$", pre):
                add("baseline", name, a, b)
            elif _ON.search(pre):
                add("hardware", name, a, b)


_DIGIT = re.compile(r"\d")


def extract_fields(text: str, start: int, end: int) -> dict[str, list[Item]]:
    """field -> values of the sentence text[start:end], in reading order, spans in `text`."""
    out: dict[str, list[Item]] = {}
    if not _DIGIT.search(text, start, end):
        _factor_items(text, start, end, out)  # only "four times faster" has no digit
    else:
        _factor_items(text, start, end, out)
        _percent_items(text, start, end, out)
        _bits_items(text, start, end, out)
        _sparsity_items(text, start, end, out)
    if not out:
        return out  # a model, device or baseline alone is no claim: not even looked for
    _context_items(text, start, end, out)
    for items in out.values():
        items.sort(key=lambda i: i["span"][0])
    # one value per span and field (two rules reading the same words keep the first)
    for field, items in out.items():
        kept: dict[tuple[int, int], Item] = {}
        for i in items:
            kept.setdefault((i["span"][0], i["span"][1]), i)
        out[field] = list(kept.values())
    return out
