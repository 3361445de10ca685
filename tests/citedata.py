"""A real-volume archive for the paper page, search, citation and feed tests.

The shipped day (2024-11-28: 513 papers from the recorded feed) plus four days generated from its
real text through the project's store: each generated paper joins the first half of one real
title to the second half of another (so every title is unique), takes a third paper's abstract
and a fourth one's authors, and gets its own id. 2024-11-29 also re-announces two of the real
day's listed papers as new versions, and lists an old-style id (hep-th/9901001). Summaries are the
offline extractive ones (the real summarize stage). Built once per test run, per SITEURL.
"""

from __future__ import annotations

import json
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from conftest import build_site
from sitedata import REAL_DAY, index_search, make_site, summarize_days

GENERATED = ("2024-11-25", "2024-11-26", "2024-11-27", "2024-11-29")
OLD_STYLE_ID = "hep-th/9901001"


def _half(title: str, first: bool) -> str:
    words = title.split()
    cut = max(1, len(words) // 2)
    return " ".join(words[:cut] if first else words[cut:])


def generated_days() -> dict[str, dict[str, Any]]:
    """The generated days, as stored records (from the real day's text)."""
    real = json.loads(REAL_DAY.read_text(encoding="utf-8"))
    papers = real["papers"]
    n = len(papers)
    days: dict[str, dict[str, Any]] = {}
    for k, iso in enumerate(GENERATED, start=1):
        out = []
        for i, p in enumerate(papers):
            a, b, c, d = (papers[(i + k * s) % n] for s in (0, 7, 13, 29))
            out.append(dict(
                p, id=f"2411.{k + 4}{i:04d}", version=1, announce_type="new",
                title=f"{_half(a['title'], True)} {_half(b['title'], False)} ({iso[5:]})",
                abstract=c["abstract"], authors=d["authors"], summary=None, related=[],
            ))
        days[iso] = {**real, "date": iso, "papers": out, "source": "api",
                     "briefing": None, "ledger": None}
        days[iso] = {k2: v for k2, v in days[iso].items() if v is not None}
    last = days["2024-11-29"]
    # two real listed papers come back as new versions; an old-style id on a topic
    for p in papers:
        if "quantiz" in p["title"].lower() or "pruning" in p["title"].lower():
            last["papers"].append(dict(p, version=2, announce_type="replace", summary=None))
            if sum(q["announce_type"] == "replace" for q in last["papers"]) == 2:
                break
    replaced = [q for q in last["papers"] if q["announce_type"] == "replace"]
    last["papers"].append(dict(replaced[0], id=OLD_STYLE_ID, version=3, announce_type="new",
                               title=f"{replaced[0]['title']} (old-style id)",
                               summary=None, related=[]))
    return days


@lru_cache(maxsize=4)
def real_archive(siteurl: str = "", feed_domain: str = "http://127.0.0.1:8000",
                 search: bool = True) -> Path:
    """The archive built like `make html` (Pelican, then Pagefind) into a temp dir; its output."""
    from arxiv_digest.core.models import Digest
    from arxiv_digest.core.store import save

    root = Path(tempfile.mkdtemp(prefix="cite-archive-"))
    site = make_site(root / "site", days={})
    data = site / "content" / "digests"
    for record in generated_days().values():
        save(data, Digest.from_dict(record))
    summarize_days(site)
    out = build_site(site, root / "out", SITEURL=siteurl, FEED_DOMAIN=feed_domain)
    if search:
        index_search(out)
    return out
