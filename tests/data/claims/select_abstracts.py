"""Select the abstracts of the claims test set (issue 14). Deterministic; run from the repo root:

    .venv/bin/python tests/data/claims/select_abstracts.py > /tmp/candidates.jsonl

RSS fixtures are read with the pipeline's own parser (fetch.parse_rss, normalize.to_paper); the
API/OAI/JSON fixtures by their abstract element, whitespace-collapsed the same way. So `abstract` is
exactly the stored text. The script only proposes candidates: every label in labels.jsonl was
decided by reading the abstract (README.md beside this file).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from plugins.arxiv_digest.update.fetch import parse_rss
from plugins.arxiv_digest.update.normalize import split_id, to_paper

FIX = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "arxiv"
if not FIX.is_dir():
    FIX = Path("/work/shared/fixtures/arxiv")
SOURCES = [
    "rss_all-archives_2024-11-28.xml",
    "rss_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed4items.xml",
    "rss_cs.AI_2026-04-27_trimmed3items_reserialized.xml",
    "rss_cs.CL_2026-04-27_trimmed3items_reserialized.xml",
    "rss_cs.LG_2026-04-27_trimmed3items_reserialized.xml",
]
SEED = 14
N_NEGATIVES = 30  # drawn; about 20 kept after reading (some turn out to hold a claim)

ML_CATS = {"cs.LG", "cs.AI", "cs.CL", "cs.CV", "stat.ML", "cs.NE"}
ML_WORDS = re.compile(
    r"neural network|deep learning|machine learning|language model|\bLLMs?\b|transformer|"
    r"(?<!-)diffusion model|reinforcement learning|\bDNNs?\b|\bCNNs?\b",
    re.I,
)
NUMBER = re.compile(r"\d")
# Outside ML, only explicit speed-up / bit-width / memory statements (hard cases from other fields).
STRONG = re.compile(
    r"\d(?:[\d.,]*\d)?\s*(?:\u00d7|x|X|times|-fold)\s*(?:faster|speed|acceler|less memory|smaller|reduction|"
    r"fewer|lower|higher throughput)|speed-?ups? of|faster than|\bW\d+A\d+|\b\d+-bit\b|"
    r"memory (?:by|usage|footprint|consumption)[^.]{0,40}\d",
    re.I,
)
# A number with an efficiency unit or context (loose on purpose: reading decides).
EFFICIENCY = re.compile(
    r"""
      \d(?:[\d.,]*\d)?\s*(?:\u00d7|x|X|times|-fold|fold)(?![A-Za-z])
    | \b\d+(?:\.\d+)?\s*%[^.;]{0,90}?(?:speed|faster|latency|throughput|memory|FLOP|compress|spars|prun|
        quantiz|param|energy|TTFT|cost|overhead|inference|runtime|training\ time|storage|footprint|
        bandwidth|KV|cache|time|fewer|less|smaller|lower|reduc|saving|GPU)
    | (?:speed|faster|latency|throughput|memory|FLOP|compress|spars|prun|quantiz|param|energy|TTFT|cost|
        overhead|runtime|storage|footprint|bandwidth|KV|cache|reduc|saving)[^.;]{0,90}?\d+(?:\.\d+)?\s*%
    | \b\d+(?:\.\d+)?-?\s?bits?\b | \bW\d+A\d+ | \b(?:INT|FP|NF|MXFP|BF)\d+\b | \bbfloat16\b
    | \b\d+\s*:\s*\d+\s*(?:structured|sparsity|sparse|pattern)
    | \b\d+(?:\.\d+)?\s*(?:GB|MB|KB|TB|GiB|MiB|ms|µs|fps|FPS|tokens?/s|TOPS|GOPS|W|mW|mJ)\b
    | \b\d+(?:\.\d+)?[BMK]\b(?!-)|-\d+(?:\.\d+)?[BbMm]\b
    | \b(?:A100|H100|H800|A800|V100|A6000|RTX|Jetson|FPGAs?|TPUs?|edge\ devices?|mobile\ devices?|Raspberry)\b
    | \b(?:speed-?ups?|faster)\b[^.]{0,40}?\d
    | \b\d+(?:\.\d+)?\s?[mb]\s+param
    | \b(?:orders?\ of\ magnitude|(?:two|three|four|five|six|seven|eight|nine|ten)[-\ ](?:times|fold)|twice|
        half|halv\w+|doubl\w+|one[-\ ]third)\b[^.;]{0,60}?(?:faster|speed|latency|throughput|memory|
        param|run\ ?time|training|inference|cost|smaller|fewer)
    | \b(?:faster|speed|latency|throughput|memory|param|run\ ?time|training|inference|smaller|fewer)
        [^.;]{0,60}?\b(?:orders?\ of\ magnitude|(?:two|three|four|five|six|seven|eight|nine|ten)[-\ ]
        (?:times|fold)|twice|half|halv\w+|doubl\w+|one[-\ ]third)\b
    """,
    re.X,
)


OTHER_SOURCES = [
    "api2026_query_cat-cs.LG_OR_cat-cs.AI_start0_max20.xml",
    "api2026_query_cat-cs.CL_start0_max3.xml",
    "api2025legacy_query_cat-cs.RO_AND_neural_start0_max2.xml",
    "hf_daily_papers_2024-10-25_first2records.json",
    "rss_stat_2024-03-26.xml",
    "oai_ListRecords_arXivRaw_from2016-10-20_page1_reindented.xml",
    "kaggle_arxiv-metadata-oai-snapshot_head200.jsonl",
]


@dataclass(frozen=True)
class Abstract:
    """The few fields the labels need, as the pipeline stores them (whitespace collapsed)."""

    id: str
    title: str
    abstract: str
    categories: tuple[str, ...]


def _flat(text: str | None) -> str:
    return " ".join((text or "").split())


def _atom(name: str):
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = etree.fromstring((FIX / name).read_bytes())
    for e in root.iterfind("a:entry", ns):
        pid = split_id(e.findtext("a:id", namespaces=ns) or "")[0]
        cats = tuple(c.get("term") for c in e.iterfind("a:category", ns))
        yield Abstract(pid, _flat(e.findtext("a:title", namespaces=ns)),
                       _flat(e.findtext("a:summary", namespaces=ns)), cats)


def _oai(name: str):
    ns = {"r": "http://arxiv.org/OAI/arXivRaw/"}
    root = etree.fromstring((FIX / name).read_bytes())
    for raw in root.iter("{http://arxiv.org/OAI/arXivRaw/}arXivRaw"):
        yield Abstract(raw.findtext("r:id", namespaces=ns), _flat(raw.findtext("r:title", namespaces=ns)),
                       _flat(raw.findtext("r:abstract", namespaces=ns)),
                       tuple((raw.findtext("r:categories", namespaces=ns) or "").split()))


def _kaggle(name: str):
    for line in (FIX / name).read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        yield Abstract(d["id"], _flat(d["title"]), _flat(d["abstract"]), tuple(d["categories"].split()))


def _hf(name: str):
    for d in json.loads((FIX / name).read_text(encoding="utf-8")):
        p = d["paper"]
        yield Abstract(p["id"], _flat(p["title"]), _flat(p["summary"]), ())


def papers():
    """(fixture name, Abstract) for every item of every source, RSS first (the pipeline's parser)."""
    for name in SOURCES:
        day = parse_rss((FIX / name).read_bytes(), name)
        for rec in day.records:
            p = to_paper(rec)
            yield name, Abstract(p.id, p.title, p.abstract, p.categories)
    for name in OTHER_SOURCES:
        if name.startswith("rss_"):
            day = parse_rss((FIX / name).read_bytes(), name)
            for rec in day.records:
                p = to_paper(rec)
                yield name, Abstract(p.id, p.title, p.abstract, p.categories)
        elif name.startswith("api"):
            yield from ((name, a) for a in _atom(name))
        elif name.startswith("oai_"):
            yield from ((name, a) for a in _oai(name))
        elif name.startswith("kaggle_"):
            yield from ((name, a) for a in _kaggle(name))
        else:
            yield from ((name, a) for a in _hf(name))


def is_ml(p) -> bool:
    return bool(ML_CATS & set(p.categories)) or bool(ML_WORDS.search(p.abstract))


def main() -> None:
    seen: set[str] = set()
    positives, others, outside = [], [], []
    for src, p in papers():
        if p.id in seen:
            continue
        seen.add(p.id)
        if not is_ml(p):
            if NUMBER.search(p.abstract) and STRONG.search(p.abstract):
                outside.append({"id": p.id, "source": src, "title": p.title, "abstract": p.abstract,
                                "categories": list(p.categories),
                                "hits": [m.group(0) for m in STRONG.finditer(p.abstract)]})
            continue
        assert p.abstract == " ".join(p.abstract.split())
        hits = [m.group(0) for m in EFFICIENCY.finditer(p.abstract)]
        if not hits and not NUMBER.search(p.abstract):
            continue  # a negative must have a number that is not an efficiency claim
        row = {"id": p.id, "source": src, "title": p.title, "abstract": p.abstract,
               "categories": list(p.categories), "hits": hits}
        (positives if hits else others).append(row)
    # A seeded hash order, not random.sample: a pick does not change when a source is added.
    def order(row: dict) -> str:
        return hashlib.sha256(f"{SEED}:{row['id']}".encode()).hexdigest()

    negatives = sorted(others, key=order)[:N_NEGATIVES]
    for row in positives:
        print(json.dumps({**row, "bucket": "efficiency-candidate"}, ensure_ascii=False))
    for row in negatives:
        print(json.dumps({**row, "bucket": "negative-candidate"}, ensure_ascii=False))
    for row in outside:
        print(json.dumps({**row, "bucket": "outside-ml-candidate"}, ensure_ascii=False))
    print(f"ML abstracts considered: {len(positives) + len(others)}; efficiency candidates: {len(positives)};"
          f" negatives drawn: {len(negatives)} of {len(others)}; outside ML: {len(outside)}", file=sys.stderr)


if __name__ == "__main__":
    main()
