"""The efficiency atlas (issue 14): every listed paper's claims in one comparable table.

Pages (ATLAS_DIR): atlas/ for every topic and atlas/<topic>/ per topic, each a plain HTML table
(no JavaScript needed; theme/static/js/atlas.js adds sorting, filters and older years) of the
newest year, a static SVG chart per topic (speed-up over time, a point per claim, shaped by its
bits), and downloads: atlas/claims.csv and atlas/claims.json (everything), atlas/<year>.json (one
year, what the page fetches when asked for an older year), atlas/<topic>/claims.csv.

Rows come from the claims `update` stored (enrich/claims.py), for the papers a day page lists
(each value links to the paper on its day, which must exist), checked again against the abstract
(a value whose span is not the abstract's text is not shown). A day's rows are a pure function of
its day file (`day_rows`), so the build cache can keep them with the day.

Every string reaches HTML through the autoescaping templates (atlas.html) or, in the SVG, through
markupsafe.escape; the CSV neutralises spreadsheet formulas (a text cell starting with = + - @,
tab or CR gets a leading apostrophe) and its numeric columns hold only numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from pelican.generators import Generator

from ..core.store import write_if_changed
from ..enrich.claims import grounded
from .archive import day_articles
from .writer import SkipWriter

logger = logging.getLogger(__name__)

ATLAS_DIR = "atlas"
PAGE_ROWS = 1000  # rows in a page's HTML table (the newest year's, newest first)
# (column, type) in the CSV, the JSON and the table; "num" columns hold numbers or nothing
COLUMNS: tuple[tuple[str, str], ...] = (
    ("date", "date"), ("id", "text"), ("title", "text"), ("topics", "text"),
    ("technique", "text"), ("subkind", "text"),
    ("speedup", "num"), ("speedup_percent", "num"), ("speedup_metric", "text"),
    ("speedup_text", "text"),
    ("memory_reduction_percent", "num"), ("memory_reduction_factor", "num"), ("memory_text", "text"),
    ("size_reduction_percent", "num"), ("size_reduction_factor", "num"), ("size_text", "text"),
    ("bits", "num"), ("precision", "text"), ("sparsity_percent", "num"), ("sparsity", "text"),
    ("accuracy_change", "num"), ("accuracy_text", "text"),
    ("model", "text"), ("model_size", "text"), ("hardware", "text"), ("baseline", "text"),
    ("by", "text"), ("url", "text"),
)
NUMERIC = frozenset(name for name, kind in COLUMNS if kind == "num")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _n(v: Any) -> float | None:
    """A finite number, or None (bools and strings are no numbers)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def _bits(value: Any) -> tuple[float | None, str]:
    """(the smallest bit width stated, a label): "W4A8", "INT4", "4-bit KV"."""
    if isinstance(value, str):
        digits = "".join(c for c in value if c.isdigit())
        return (float(digits) if digits else None), value
    if isinstance(value, Mapping):
        parts = {k: _n(value.get(k)) for k in ("weights", "activations", "kv", "bits")}
        widths = [v for v in parts.values() if v is not None]
        if parts["weights"] is not None and parts["activations"] is not None:
            label = f"W{parts['weights']:g}A{parts['activations']:g}"
        else:
            label = ", ".join(f"{v:g}-bit" + ("" if k == "bits" else f" {k.upper() if k == 'kv' else k}")
                              for k, v in parts.items() if v is not None)
        return (min(widths) if widths else None), label
    return None, ""


def _name(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if isinstance(v, (str, int, float)))
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


@dataclass(frozen=True)
class AtlasRow:
    """One claim of one listed paper, flat: cells (COLUMNS) plus where each value came from."""

    cells: Mapping[str, Any]
    sentence: str  # the abstract's sentence that states the claim's first value
    day_url: str  # the paper on its day page (…/#id), relative to SITEURL
    paper_url: str  # its page, absolute or relative to SITEURL ("" when none)
    topics: tuple[str, ...]

    def get(self, key: str) -> Any:
        """A cell (templates: row.get('speedup'))."""
        return self.cells.get(key)


def _sentence(abstract: str, a: int) -> str:
    start = max(abstract.rfind(". ", 0, a) + 2, 0) if abstract.rfind(". ", 0, a) >= 0 else 0
    end = abstract.find(". ", a)
    return abstract[start:end + 1 if end >= 0 else len(abstract)]


def claim_row(claim: Mapping[str, Any], paper: Any, date: str, topics: Sequence[str],
              day_url: str, paper_url: str) -> AtlasRow | None:
    """A stored claim as a row, or None when none of its values is grounded in the abstract."""
    record = grounded(claim, paper.abstract)
    if record is None:
        return None
    f = record["fields"]
    cells: dict[str, Any] = {k: None for k, _ in COLUMNS}
    cells.update(date=date, id=paper.id, title=paper.title, topics=" ".join(topics),
                 technique=record["technique"], subkind=record["subkind"], by=record["by"],
                 url=day_url)
    if "speedup" in f:
        v = f["speedup"]["value"] if isinstance(f["speedup"]["value"], Mapping) else {}
        cells["speedup"] = _n(v.get("factor"))
        cells["speedup_percent"] = _n(v.get("percent_reduction") if v.get("percent_reduction")
                                      is not None else v.get("percent_speedup"))
        cells["speedup_metric"] = v.get("metric") if isinstance(v.get("metric"), str) else None
        cells["speedup_text"] = f["speedup"]["text"]
    for field, key in (("memory_reduction", "memory"), ("size_reduction", "size")):
        if field in f:
            v = f[field]["value"] if isinstance(f[field]["value"], Mapping) else {}
            cells[f"{field}_percent"] = _n(v.get("percent"))
            cells[f"{field}_factor"] = _n(v.get("factor"))
            cells[f"{key}_text"] = f[field]["text"]
    if "precision_bits" in f:
        cells["bits"], label = _bits(f["precision_bits"]["value"])
        cells["precision"] = label or f["precision_bits"]["text"]
    if "sparsity" in f:
        v = f["sparsity"]["value"]
        cells["sparsity_percent"] = _n(v.get("percent")) if isinstance(v, Mapping) else None
        cells["sparsity"] = f["sparsity"]["text"]
    if "accuracy_change" in f:
        v = f["accuracy_change"]["value"] if isinstance(f["accuracy_change"]["value"], Mapping) else {}
        cells["accuracy_change"] = _n(v.get("delta"))
        cells["accuracy_text"] = f["accuracy_change"]["text"]
    for field in ("model", "model_size", "hardware", "baseline"):
        if field in f:
            cells[field] = _name(f[field]["value"]) or f[field]["text"]
    first = min(item["span"][0] for item in f.values())
    return AtlasRow(cells, _sentence(paper.abstract, first), day_url, paper_url, tuple(topics))


def day_rows(article: Any, paper_url: Any = None) -> list[AtlasRow]:
    """Every claim of the papers one day page lists, in page order (pure: the day alone)."""
    view = article.day
    date = view.date.isoformat()
    out = []
    url = article.url  # Pelican formats it anew on every read
    for v in (*view.listed, *view.updated):
        page = paper_url(v.paper.id) if paper_url is not None else ""
        for claim in v.paper.claims:
            row = claim_row(claim, v.paper, date, v.tags, f"{url}#{v.paper.id}", page)
            if row is not None:
                out.append(row)
    return out


def csv_cell(name: str, value: Any) -> str:
    """A CSV cell: numbers as numbers, text with spreadsheet formulas neutralised."""
    if value is None:
        return ""
    if name in NUMERIC:
        n = _n(value)
        return "" if n is None else (f"{n:.0f}" if n.is_integer() else repr(n))
    text = " ".join(str(value).split())
    return "'" + text if text.startswith(_FORMULA) else text


def to_csv(rows: Iterable[AtlasRow]) -> str:
    """The rows as CSV (RFC 4180 quoting, a header row, typed columns)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([name for name, _ in COLUMNS])
    for r in rows:
        w.writerow([csv_cell(name, r.cells.get(name)) for name, _ in COLUMNS])
    return buf.getvalue()


def to_json(rows: Iterable[AtlasRow], **meta: Any) -> str:
    """The rows as JSON: the column names and types, then one array of cells per row."""
    data = {"v": 1, **meta, "columns": [{"name": n, "type": t} for n, t in COLUMNS],
            "rows": [[r.cells.get(n) for n, _ in COLUMNS] for r in rows]}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False) + "\n"


# -- the chart: speed-up over time, one point per claim, shaped by bits ----------------------------

# drawn at 1:1 on a desktop (CSS max-width 30rem); a phone scales it by about 0.75, which keeps
# the 13-unit labels at about 10 px (a 640-wide chart with 11-unit labels came out at 6 px)
W, H, PAD_L, PAD_B, PAD_T, PAD_R = 480, 240, 50, 36, 14, 14


def chart_svg(rows: Sequence[AtlasRow], title: str) -> Markup:
    """A static SVG: speed-up (x, log scale) by announcement date; filled points state bits,
    hollow ones do not. Colours are currentColor and CSS variables: readable in light and dark."""
    pts = [(dt.date.fromisoformat(r.cells["date"]), float(r.cells["speedup"]), r)
           for r in rows if r.cells.get("speedup")]
    label = escape(title)
    if not pts:
        return Markup(f'<p class="atlas-nochart">No speed-up factor stated yet for {label}.</p>')
    d0 = min(p[0] for p in pts)
    d1 = max(p[0] for p in pts)
    days = max((d1 - d0).days, 1)
    top = max(2.0, max(p[1] for p in pts))
    ymax = math.log10(top) * 1.05
    iw, ih = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def x(d: dt.date) -> float:
        return PAD_L + (iw * (d - d0).days / days if d1 > d0 else iw / 2)

    def y(v: float) -> float:
        return PAD_T + ih - ih * math.log10(max(v, 1.0)) / ymax

    out = [f'<svg class="atlas-chart" viewBox="0 0 {W} {H}" role="img" '
           f'aria-labelledby="chart-t chart-d" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="chart-t">Speed-ups claimed in {label}, by announcement date</title>',
           f'<desc id="chart-d">{len(pts)} claims; vertical axis: speed-up factor (log scale); '
           f'filled points also state a bit width.</desc>',
           f'<g class="axis" stroke="currentColor" stroke-opacity="0.35">'
           f'<line x1="{PAD_L}" y1="{PAD_T + ih}" x2="{W - PAD_R}" y2="{PAD_T + ih}"/>'
           f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{PAD_T + ih}"/></g>']
    tick = 1.0
    while tick <= top * 1.01:
        ty = y(tick)
        out.append(f'<g class="tick"><line x1="{PAD_L - 4}" y1="{ty:.1f}" x2="{W - PAD_R}" y2="{ty:.1f}" '
                   f'stroke="currentColor" stroke-opacity="0.12"/><text x="{PAD_L - 7}" y="{ty + 4:.1f}" '
                   f'text-anchor="end" fill="currentColor" font-size="13">{tick:g}&#215;</text></g>')
        tick *= 10 if top > 30 else 2
    for d, anchor in ((d0, "start"), (d1, "end")) if d1 > d0 else ((d0, "middle"),):
        out.append(f'<text x="{x(d):.1f}" y="{H - 12}" text-anchor="{anchor}" fill="currentColor" '
                   f'font-size="13">{d.isoformat()}</text>')
    for d, v, r in sorted(pts, key=lambda p: (p[0], p[1])):
        tip = escape(f"{r.cells['title']} ({r.cells['id']}, {d.isoformat()}): "
                     f"{r.cells.get('speedup_text') or ''}"
                     + (f", {r.cells['precision']}" if r.cells.get("precision") else ""))
        fill = 'fill="var(--accent)"' if r.cells.get("bits") is not None else 'fill="none"'
        out.append(f'<a href="{escape(r.day_url)}"><circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="4.5" {fill} '
                   f'stroke="var(--accent)" stroke-width="1.5"><title>{tip}</title></circle></a>')
    out.append("</svg>")
    return Markup("".join(out))


# -- the generator ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtlasPage:
    """One atlas page: overall (slug "") or a topic's."""

    name: str
    slug: str
    url: str  # relative to SITEURL
    rows: tuple[AtlasRow, ...]  # newest first: what the table shows
    total: int  # claims of this scope over all years
    years: tuple[tuple[str, int], ...]  # (year, claims) of this scope, newest first
    chart: Markup
    # what the fields above are a pure function of (with the build fingerprint): the scope and
    # the build-cache keys of the days its rows come from; "" when one is unknown (site/writer.py)
    cache_key: str = dc_field(default="", compare=False)

    @property
    def facets(self) -> dict[str, list[str]]:
        """The distinct models, hardware, precisions and techniques: the filters' choices."""
        out: dict[str, list[str]] = {}
        for key in ("model", "hardware", "precision", "technique"):
            out[key] = sorted({str(r.cells[key]) for r in self.rows if r.cells.get(key)},
                              key=str.casefold)
        return out


class AtlasGenerator(Generator):  # type: ignore[misc]
    """Writes the atlas pages, their charts (inline SVG) and the CSV/JSON downloads."""

    def generate_context(self) -> None:
        """The rows of every day, from the day articles (after the ArticlesGenerator), each with
        its day's source: its listed papers' view keys and the day's URL, what its rows are a
        function of."""
        paper_url = self.context.get("paper_url")
        rows: list[AtlasRow] = []
        sources: list[str] = []
        for a in reversed(day_articles(self.context.get("articles", []))):  # newest day first
            day = day_rows(a, paper_url)
            if day:  # the rows: a function of the listed papers' views (keyed on their records
                views = (*a.day.listed, *a.day.updated)  # and the date) and of the day's URL
                keys = [getattr(v, "cache_key", "") for v in views]
                rows += day
                sources += [json.dumps([keys, a.url]) if all(keys) else ""] * len(day)
        self.rows = rows
        self.sources = sources
        self.context["atlas_url"] = f"{ATLAS_DIR}/"

    def _key(self, *scope: str, rows: Iterable[int] | None = None) -> str:
        """What a scope's rows (by index; all when None) are a function of: the scope and the
        sources of the days they come from, in order; "" when a source is unknown."""
        days: list[str] = []
        for i in range(len(self.rows)) if rows is None else rows:
            src = self.sources[i]
            if not src:
                return ""
            if not days or days[-1] != src:
                days.append(src)
        return json.dumps([*scope, *days])

    def _page(self, name: str, slug: str, rows: list[AtlasRow], key: str) -> AtlasPage:
        years: dict[str, int] = {}
        for r in rows:
            years[r.cells["date"][:4]] = years.get(r.cells["date"][:4], 0) + 1
        newest = next(iter(years), "")
        shown = tuple(r for r in rows if r.cells["date"][:4] == newest)[:PAGE_ROWS]
        url = f"{ATLAS_DIR}/{slug}/" if slug else f"{ATLAS_DIR}/"
        return AtlasPage(name, slug, url, shown, len(rows), tuple(years.items()),
                         chart_svg(rows, name or "all topics"),
                         cache_key=json.dumps(["page", url, key]) if key else "")

    def _write(self, writer: Any, path: str, key: str, make: Callable[[], str]) -> None:
        """A download, made and written only when its key or file differs from the last build's
        (SkipWriter.write_text); without the page record, written when its bytes differ."""
        if isinstance(writer, SkipWriter):
            writer.write_text(path, key, make)
        else:
            write_if_changed(Path(self.output_path) / path, make())

    def generate_output(self, writer: Any) -> None:
        """Write atlas/, atlas/<topic>/, the year files and the downloads."""
        template = self.get_template("atlas")
        topics = [(t.name, t.slug) for t in self.context.get("digest_topics", ())]
        in_topic: dict[str, list[int]] = {name: [] for name, _ in topics}
        by_year: dict[str, list[int]] = {}
        for i, r in enumerate(self.rows):
            by_year.setdefault(r.cells["date"][:4], []).append(i)
            for t in dict.fromkeys(r.topics):  # each topic once
                if t in in_topic:
                    in_topic[t].append(i)
        everything = self._key("all")
        pages = [self._page("", "", self.rows, everything)]
        for name, slug in topics:
            pages.append(self._page(name, slug, [self.rows[i] for i in in_topic[name]],
                                    self._key("topic", name, rows=in_topic[name])))
        for year, idx in by_year.items():
            self._write(writer, f"{ATLAS_DIR}/{year}.json", self._key("year.json", year, rows=idx),
                        functools.partial(_json_of, [self.rows[i] for i in idx], year))
        self._write(writer, f"{ATLAS_DIR}/claims.csv", self._key("claims.csv") if everything else "",
                    functools.partial(to_csv, self.rows))
        self._write(writer, f"{ATLAS_DIR}/claims.json", self._key("claims.json") if everything else "",
                    functools.partial(to_json, self.rows))
        for page in pages:
            if page.slug:
                idx = in_topic[page.name]
                self._write(writer, f"{ATLAS_DIR}/{page.slug}/claims.csv",
                            self._key("topic.csv", page.name, rows=idx),
                            functools.partial(to_csv, [self.rows[i] for i in idx]))
            writer.write_file(f"{page.url}index.html", template, self.context, url=page.url,
                              atlas=page, atlas_pages=pages, atlas_columns=COLUMNS,
                              page_name="atlas", relative_urls=self.settings.get("RELATIVE_URLS", False))
        logger.info("atlas: %d claims, %d pages, %d years", len(self.rows), len(pages), len(by_year))


def _json_of(rows: list[AtlasRow], year: str) -> str:
    return to_json(rows, year=year)


def get_generators(pelican: Any) -> type[Generator]:
    """Add the atlas generator (plugin.py connects this to get_generators)."""
    return AtlasGenerator
