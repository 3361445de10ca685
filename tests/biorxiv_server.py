"""bioRxiv/medRxiv API answers from the recorded records in ../shared/fixtures/biorxiv.

`serve_interval` routes `/details/{server}/{from}/{to}/{cursor}` on an ArxivServer (tests/arxiv_server.py)
to answers built from real records: the records are served as the whole interval (`total` is how
many there are), cut into pages of the given sizes (each page's `count` is its size, as the API
reports it), filtered by `?category=` as the API does for a known category, and written compactly
with `\\/`-escaped slashes, as the API sends them. The values are the recorded ones; nothing is made up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from arxiv_server import ArxivServer

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "biorxiv"
if not FIXTURES.is_dir():
    FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "biorxiv"

INTERVAL = {
    "biorxiv": "api_details_biorxiv_2020-01-01_2022-12-31_cursor0_first50of100_reindented.json",
    "medrxiv": "api_details_medrxiv_2020-01-01_2022-12-31_cursor0_first50of100_reindented.json",
}
BY_DOI = {
    "biorxiv": "api_details_biorxiv_by-doi_7records_wrapped_reindented.json",
    "medrxiv": "api_details_medrxiv_by-doi_5records_wrapped_reindented.json",
}


def interval_page(server: str) -> dict[str, Any]:
    """The recorded first page of an interval (trimmed to 50 of its 100 records)."""
    data: dict[str, Any] = json.loads((FIXTURES / INTERVAL[server]).read_text(encoding="utf-8"))
    return data


def interval_records(server: str) -> list[dict[str, Any]]:
    """The 50 recorded records of the interval page, in server order."""
    return list(interval_page(server)["collection"])


def by_doi_records(server: str) -> list[dict[str, Any]]:
    """Every version row of the recorded DOI lookups (the API's `collection` of each)."""
    wrapped = json.loads((FIXTURES / BY_DOI[server]).read_text(encoding="utf-8"))
    return [rec for item in wrapped for rec in item["raw_response"]["collection"]]


def compact(data: Any) -> bytes:
    """JSON as the API writes it: compact, '/' escaped as '\\/'."""
    return json.dumps(data, separators=(",", ":")).replace("/", "\\/").encode()


def _pages(n: int, sizes: Sequence[int]) -> list[tuple[int, int]]:
    out, cursor, k = [], 0, 0
    while cursor < n:
        size = sizes[k % len(sizes)]
        out.append((cursor, min(size, n - cursor)))
        cursor += size
        k += 1
    return out


def serve_interval(
    http: ArxivServer, server: str, start: str, end: str, records: list[dict[str, Any]],
    sizes: Sequence[int] = (100,), *, total: int | None = None, filter_category: bool = True,
) -> Callable[[int, str | None], str]:
    """Route the interval's cursors; returns path(cursor) for faults and request counts."""

    def path(cursor: int, category: str | None = None) -> str:
        return f"/details/{server}/{start}/{end}/{cursor}"

    def answer_for(cursor: int) -> Callable[[dict[str, list[str]]], bytes]:
        def answer(query: dict[str, list[str]]) -> bytes:
            cat = (query.get("category") or [None])[0]
            recs = records
            if cat and filter_category:
                want = cat.replace("_", " ").lower()
                recs = [r for r in records if r["category"] == want]
            if not recs:
                return compact({"messages": [{"status": "no posts found"}], "collection": []})
            pages = dict(_pages(len(recs), sizes))
            count = pages.get(cursor, 0)
            page = recs[cursor: cursor + count]
            msg = {"status": "ok", "category": cat or "all", "interval": f"{start}:{end}",
                   "funder": "all", "cursor": cursor, "count": count,
                   "count_new_papers": str(sum(1 for r in recs if r["version"] == "1")),
                   "total": str(len(recs) if total is None else total)}
            return compact({"messages": [msg], "collection": page})
        return answer

    for cursor in range(0, max(len(records), total or 0) + max(sizes) + 1):
        http.route(path(cursor), answer_for(cursor))
    return path
