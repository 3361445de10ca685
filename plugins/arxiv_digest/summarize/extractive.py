"""The offline extractive backend: pick sentences and figures from the abstract, deterministically.

tldr is the sentence that states the contribution; headline is the sentence with the headline
numbers (speed-up, memory, accuracy). The efficiency fields are phrases found in the text, never
made up. The briefing fallback lists a topic's papers and their figures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..enrich.sentences import sentences
from .jobs import Job, Outcome, Usage
from .schema import TECHNIQUES

VERSION = "extractive.v1"

_CONTRIB = (
    (re.compile(r"\b(?:we|this (?:paper|work|study|letter|article))\s+"
                r"(?:first\s+|also\s+|further\s+)?(?:propose|introduce|present)s?\b", re.I), 6),
    (re.compile(r"\b(?:is|are) (?:proposed|introduced|presented)\b", re.I), 5),
    (re.compile(r"\b(?:in this (?:paper|work|study|letter)|here, we)\b", re.I), 2),
    (re.compile(r"\bwe\s+(?:develop|design|describe|formulate|derive|study|investigate|show|"
                r"demonstrate|find|reveal)\b", re.I), 2),
    (re.compile(r"\b(?:our|the proposed) (?:method|approach|framework|technique|algorithm)\b",
                re.I), 1),
    (re.compile(r"\bnovel\b", re.I), 1),
)
_NUM = r"\d+(?:\.\d+)?"
_TIMES = rf"{_NUM}(?:\s?[-\u2013~]\s?{_NUM})?\s?(?:\u00d7|x|X|\$\\times\$|\\times|-fold|\s?times)"
_FIGURES = (
    (re.compile(rf"{_TIMES}"), 3),
    (re.compile(rf"{_NUM}\s?(?:%|\\%|percent)"), 2),
    (re.compile(rf"\b{_NUM}\s?-?\s?bits?\b|\bW\d+A\d+|\b(?:INT|FP)\d+\b", re.I), 2),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:GB|MB|ms|tokens/s)\b"), 2),
)
_FIGURE_WORDS = re.compile(
    r"\b(?:speed-?ups?|faster|throughput|latency|memory|accuracy|perplexity|compression|"
    r"reduc\w*|outperform\w*|improv\w*|up to)\b", re.I)
_SPEED_CTX = re.compile(r"speed|faster|throughput|latenc|accelerat|inference|decod", re.I)
_MEMORY_CTX = re.compile(r"memory|footprint|cache size|storage|model size|smaller", re.I)
_SPEEDUP = re.compile(rf"(?:up to\s+)?{_TIMES}(?:\s+(?:speed-?ups?|faster|acceleration|"
                      r"higher throughput|lower latency))?", re.I)
_MEMORY = re.compile(rf"(?:up to\s+)?(?:{_TIMES}|{_NUM}\s?(?:%|\\%)|{_NUM}\s?(?:GB|MB))"
                     r"(?:\s+(?:smaller|less memory|lower memory|memory reduction|reduction))?", re.I)
_BITS = re.compile(
    rf"\b{_NUM}\s?-?\s?bits?\b(?:\s+(?:weights?|activations?|KV cache))?|\bW\d+A\d+(?:KV\d+)?\b|"
    rf"\b(?:INT|FP)\d+\b|\b{_NUM}\s?%\s+(?:(?:unstructured|structured)\s+)?sparsity\b|"
    r"\b\d+:\d+\s+(?:structured\s+|semi-structured\s+)?sparsity\b", re.I)
_MODELS = re.compile(
    r"\b(?:LLaMA|Llama|LLAMA)[- ]?\d?(?:\.\d)?(?:[- ]\d+B)?\b|\bOPT-\d+(?:\.\d+)?B\b|"
    r"\bMi[sx]tral(?:[- ]\d+x?\d*B)?\b|\bQwen\d?(?:\.\d)?(?:-\d+B)?\b|\bPhi-\d(?:\.\d)?\b|"
    r"\bGemma[- ]?\d?\b|\bGPT-\d(?:\.\d)?o?\b|\bBERT\b|\bRoBERTa\b|\bViT(?:-[BSLHG](?:/\d+)?)?\b|"
    r"\bDeiT\b|\bResNet-?\d+\b|\bVicuna\b|\bFalcon\b|\bDeepSeek(?:-[A-Z0-9][\w.]*)?\b|\bT5\b|"
    r"\bBLOOM\b|\bPythia\b|\bSwin\b|\bCLIP\b|\bLLaVA\b|\bStable Diffusion\b|\bDiT\b|"
    r"\bMamba\b|\bWhisper\b|\bSAM\b")
_HARDWARE = re.compile(
    r"\b(?:A100|H100|H200|V100|A6000|L40S?|RTX ?\d{4}|TPU(?:v\d)?|FPGAs?|Jetson[\w ]*?|"
    r"Snapdragon|Apple M\d|GPUs?|CPUs?|NPUs?|edge devices?|mobile devices?|smartphones?)\b")


def _best(scored: Sequence[tuple[int, int, str]]) -> str | None:
    # highest score first, then the earliest sentence
    return min(scored, key=lambda t: (-t[0], t[1]))[2] if scored else None


def contribution(sents: Sequence[str]) -> str | None:
    """The sentence that states what the paper contributes."""
    scored = [(sum(w for rx, w in _CONTRIB if rx.search(s)), i, s) for i, s in enumerate(sents)]
    hit = [t for t in scored if t[0] > 0]
    return _best(hit) or (sents[0] if sents else None)


def headline(sents: Sequence[str], exclude: str | None) -> str | None:
    """The sentence with the headline numbers (speed-up, memory, accuracy), if any."""
    scored = []
    for i, s in enumerate(sents):
        figures = sum(w * len(rx.findall(s)) for rx, w in _FIGURES)
        if figures and s != exclude:
            scored.append((figures + len(_FIGURE_WORDS.findall(s)), i, s))
    return _best(scored)


def _in_context(rx: re.Pattern[str], ctx: re.Pattern[str], text: str) -> str | None:
    for m in rx.finditer(text):
        window = text[max(0, m.start() - 60): m.end() + 60]
        if ctx.search(window):
            return m.group(0).strip()
    return None


def _unique(rx: re.Pattern[str], text: str, limit: int) -> list[str] | None:
    out: list[str] = []
    for m in rx.finditer(text):
        word = m.group(0).strip()
        if word not in out:
            out.append(word)
    return out[:limit] or None


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def summarize_abstract(title: str, abstract: str, tags: Sequence[str]) -> dict[str, Any]:
    """The extractive summary fields of one paper."""
    sents = sentences(abstract)
    tldr = contribution(sents) or title
    figures = headline(sents, tldr)
    text = " ".join(sents)
    technique = next((t for t in tags if t in TECHNIQUES), None)
    bits = _unique(_BITS, text, 3)
    return {
        "tldr": _clip(tldr, 400),
        "method": None,
        "headline": _clip(figures, 500) if figures else None,
        "technique": technique,
        "bits_or_sparsity": ", ".join(bits) if bits else None,
        "speedup": _in_context(_SPEEDUP, _SPEED_CTX, text),
        "memory": _in_context(_MEMORY, _MEMORY_CTX, text),
        "models": _unique(_MODELS, f"{title} {text}", 8),
        "hardware": _unique(_HARDWARE, text, 6),
    }


def short_title(title: str, limit: int = 70) -> str:
    """A title cut at a word boundary for a one-line list."""
    return _clip(" ".join(title.split()), limit)


def briefing_text(topic: str, papers: Sequence[tuple[str, dict[str, Any] | None]]) -> str:
    """Deterministic fallback briefing: '7 new papers on pruning: A; B; C; and 4 more. Figures: ...'."""
    n = len(papers)
    names = [short_title(t) for t, _ in papers[:3]]
    more = f"; and {n - 3} more" if n > 3 else ""
    text = f"{n} new paper{'s' if n != 1 else ''} on {topic}: {'; '.join(names)}{more}."
    figures = []
    for title, fields in papers:
        if not fields:
            continue
        found = [str(fields[k]) for k in ("speedup", "memory", "bits_or_sparsity") if fields.get(k)]
        if found:
            figures.append(f"{', '.join(found)} ({short_title(title, 40)})")
        if len(figures) == 3:
            break
    if figures:
        text += " Figures reported: " + "; ".join(figures) + "."
    return text


def extractive_items(papers: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(title, extractive fields) of a briefing's papers, read from their abstracts: the
    extractive briefing never quotes a model's fields (a kept model summary's included)."""
    return [(str(p["title"]), summarize_abstract(str(p["title"]), str(p.get("abstract") or ""), ()))
            for p in papers]


class ExtractiveRunner:
    """The offline backend as a Runner: no calls, no tokens, no cost; scoring is not offered."""

    backend = "extractive"
    model: str | None = None

    def __init__(self) -> None:
        self.usage = Usage()

    def prompt_version(self, kind: str) -> str:
        """The algorithm's version (there is no prompt)."""
        del kind
        return VERSION

    def asks_verdicts(self, job: Job) -> bool:
        """Never: only a model judges which topics a paper is about."""
        del job
        return False

    def run(self, jobs: Sequence[Job], spent_usd: float,
            spent_tokens: int = 0) -> dict[tuple[str, str], Outcome]:
        """Summarize and brief locally; score jobs fail (they need an LLM)."""
        del spent_usd, spent_tokens
        out: dict[tuple[str, str], Outcome] = {}
        for job in jobs:
            i = job.inputs
            if job.kind == "summary":
                data = summarize_abstract(str(i["title"]), str(i["abstract"]), list(i["tags"]))
                out[(job.kind, job.key)] = Outcome(data=data)
            elif job.kind == "briefing":
                text = briefing_text(str(i["topic"]), extractive_items(i["papers"]))
                out[(job.kind, job.key)] = Outcome(data={"text": text})
            else:
                out[(job.kind, job.key)] = Outcome(
                    failure_kind="unsupported", failure_message="scoring needs an LLM model")
        return out
