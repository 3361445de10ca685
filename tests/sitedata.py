"""A small multi-day archive for the site tests: the real 2024-11-28 day plus made-up days around it.

The made-up days cover what a single day cannot: previous/next links, a month boundary, a weekday
with no stored day, the 25 December holiday, a paper whose title and abstract carry math, and a
topic with more papers than one page holds.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REAL_DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"
CATEGORIES = ["cs.AI", "cs.CL", "cs.CV", "cs.LG"]

MATH_ID = "2411.90001"
MATH_TITLE = r"Sparse attention in $O(n \log n)$ time with $\mathcal{L}_{sparse}$ regularization"
MATH_ABSTRACT = (
    r"We prune weights $W \in \mathbb{R}^{d \times d}$ so that $a<b$ and $c>d$ hold, "
    r"then quantize the rest: $$\sum_{i=1}^{n} w_i^2 \le \epsilon$$ "
    r"A formula is no markup: $x</p><script>alert(1)</script>$ stays text."
)
# Days stored in the test archive (2024-11-26 is an announcement day left out on purpose).
SYNTHETIC_DAYS = ("2024-11-25", "2024-11-27", "2024-12-02", "2024-12-24", "2024-12-26")
ALL_DAYS = ("2024-11-25", "2024-11-27", "2024-11-28", "2024-12-02", "2024-12-24", "2024-12-26")


def paper(pid: str, title: str, abstract: str, *, announce: str = "new",
          authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
          categories: tuple[str, ...] = ("cs.LG",)) -> dict[str, Any]:
    """One stored paper record."""
    return {
        "id": pid, "version": 2 if announce.startswith("replace") else 1, "title": title,
        "authors": list(authors), "abstract": abstract, "categories": list(categories),
        "primary_category": categories[0], "announce_type": announce, "comment": None,
        "doi": None, "journal_ref": None, "tags": {}, "related": [], "summary": None,
    }


def day(date: str, papers: list[dict[str, Any]]) -> dict[str, Any]:
    """One stored day record."""
    counts: dict[str, int] = {}
    for p in papers:
        counts[p["announce_type"]] = counts.get(p["announce_type"], 0) + 1
    return {"schema_version": 1, "date": date, "categories": CATEGORIES, "source": "api",
            "announced": counts, "papers": papers}


def synthetic_days() -> dict[str, dict[str, Any]]:
    """The made-up days, keyed by ISO date."""
    sparse = [  # more than a topic page holds; 2411.80010 is the robotics paper
        paper(f"2411.8{n:04d}", f"Sparse mixture routing study {n}",
              f"We study sparse routing in transformer experiment {n} and report accuracy.")
        for n in range(1, 31) if n != 10
    ]
    return {
        "2024-11-25": day("2024-11-25", [
            *sparse,
            paper("2411.80010", "Unrelated work on robotics", "Nothing about our topics here."),
        ]),
        "2024-11-27": day("2024-11-27", [
            paper(MATH_ID, MATH_TITLE, MATH_ABSTRACT),
            paper("2411.90002", "Pruning vision transformers by token merging",
                  "Structured pruning of ViTs with $k$ tokens kept per layer."),
            paper("2310.00003", "An updated paper on quantized inference",
                  "We quantize LLM activations to int4.", announce="replace"),
        ]),
        "2024-12-02": day("2024-12-02", [
            paper("2412.00001", "Compressing the KV cache of long-context models",
                  "We compress the KV cache by 4x with no loss."),
            paper("2412.00002", "Sparse autoencoders for interpretability",
                  "Sparse dictionaries recover features."),
        ]),
        "2024-12-24": day("2024-12-24", [
            paper("2412.20001", "Low-bit training at scale", "We train in fp8 throughout."),
        ]),
        "2024-12-26": day("2024-12-26", [
            paper("2412.30001", "Key-value caching for speculative decoding",
                  "A key-value cache shared across drafts; sparse verification."),
            paper("2412.30002", "Post-training quantization of diffusion models",
                  "We quantize diffusion models to 4 bits."),
        ]),
    }


def make_site(site: Path, days: dict[str, dict[str, Any]] | None = None, *,
              real: bool = True) -> Path:
    """A site skeleton (settings, theme, digest.yaml) at `site` with the given days stored."""
    site.mkdir(parents=True, exist_ok=True)
    for name in ("pelicanconf.py", "publishconf.py", "digest.yaml"):
        shutil.copy(ROOT / name, site / name)
    if (site / "theme").exists():
        shutil.rmtree(site / "theme")
    shutil.copytree(ROOT / "theme", site / "theme")
    data = site / "content" / "digests"
    data.mkdir(parents=True, exist_ok=True)
    if real:
        (data / "2024").mkdir(exist_ok=True)
        shutil.copy(REAL_DAY, data / "2024" / REAL_DAY.name)
    for iso, record in (synthetic_days() if days is None else days).items():
        (data / iso[:4]).mkdir(exist_ok=True)
        (data / iso[:4] / f"{iso}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return site


def real_day_with(n_papers: int) -> dict[str, Any]:
    """The real 2024-11-28 day cut to its first n papers (for the page-weight check)."""
    data = json.loads(REAL_DAY.read_text(encoding="utf-8"))
    out = copy.deepcopy(data)
    out["papers"] = data["papers"][:n_papers]
    return out


def summarize_days(site: Path, *, list_all: bool = False) -> None:
    """Summarize every stored day of the site with the offline extractive backend (the real stage)."""
    from arxiv_digest.core.settings import load_settings
    from arxiv_digest.core.store import iter_days, load, save
    from arxiv_digest.summarize import make_summarizer

    settings = load_settings({"PATH": str(site / "content"), "ARXIV_DIGEST_LIST_ALL": list_all,
                              "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml")}, env={})
    summarizer = make_summarizer(settings)
    for path in iter_days(settings.data_dir):
        save(settings.data_dir, summarizer.summarize(load(path)))


def index_search(output: Path, cache: Path | None = None) -> None:
    """Build the search index as `make html` does (SEARCH_INDEX in the Makefile,
    scripts/search_index.py with its defaults: listing records, Pagefind bundles by period),
    keeping the bundles in `cache` (default: a new temp dir, so a cold index)."""
    import tempfile

    cache = cache or Path(tempfile.mkdtemp(prefix="search-cache-"))
    subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "scripts" / "search_index.py"),
                    "--site", str(output), "--cache", str(cache)], check=True, timeout=300,
                   stdout=subprocess.DEVNULL)
