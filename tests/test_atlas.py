"""The efficiency atlas: pages, chart, downloads (CSV typed and formula-safe, JSON per year), escaping.

The archive is the real 2024-11-28 day (claims extracted by the real enrich step from its 513
stored abstracts), a day in 2023 with written abstracts for the cases the recordings lack
(W4A8, 2:4 sparsity, LLaMA-2-7B on H100 against FlashAttention) and a hostile day whose abstracts
put markup and spreadsheet formulas right next to the numbers. Built with Pelican into a temp dir.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.core.models import Digest
from arxiv_digest.core.store import save
from arxiv_digest.enrich import claims
from arxiv_digest.site.atlas import COLUMNS, NUMERIC, csv_cell
from conftest import build_site
from hostile import ALERT, PAYLOADS
from hostile.check import element_problems, raw_problems, theme_inline_scripts
from lxml import html
from sitedata import REAL_DAY, day, make_site, paper

WRITTEN = {
    "2023.00001": ("W4A8 quantization of LLaMA-2-7B",
                   "We quantize LLaMA-2-7B to W4A8 and run it on NVIDIA H100 GPUs, achieving up to "
                   "2.4x higher throughput compared to FlashAttention, with less than 1% accuracy drop."),
    "2023.00002": ("Semi-structured pruning",
                   "Our 2:4 sparsity pruning of OPT-13B reaches 50% sparsity and a 1.4\u201311.2\u00d7 "
                   "lower latency than dense inference."),
}
HOSTILE = {
    "2023.10001": (f"Post-training quantization of <script>{ALERT}</script> models",
                   f"We quantize <img src=x onerror={ALERT}> to 4-bit weights, giving a 3.5x speedup over "
                   f"=HYPERLINK(\"http://x\") and 40% less memory on <svg onload={ALERT}> devices."),
    "2023.10002": ("KV cache quantization with formulas in cells",
                   "Our method is 2.0x faster than @SUM(A1:A9) and reduces latency by 30% compared to "
                   "+cmd|' /C calc'!A0 with 8-bit KV cache, at a 2.5x speedup (-23% mAP)."),
}
# a stored record as a model (or a hand edit) could write it: grounded, its text a formula
FORMULA = '=HYPERLINK("http://x")'


def _with_formula_claim(d: Digest) -> Digest:
    papers = []
    for p in d.papers:
        if FORMULA in p.abstract:
            at = p.abstract.index(FORMULA)
            speed = p.abstract.index("3.5x")
            record = {"by": "model:test", "technique": "quantization", "subkind": None, "fields": {
                "speedup": {"value": {"factor": 3.5}, "span": [speed, speed + 4], "text": "3.5x"},
                "baseline": {"value": FORMULA, "span": [at, at + len(FORMULA)], "text": FORMULA}}}
            p = replace(p, claims=(*p.claims, record))
        papers.append(p)
    return d.with_papers(tuple(papers))


def _stored(record: dict[str, Any]) -> Digest:
    return claims.apply(Digest.from_dict(record))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("atlas")
    site = make_site(root / "site", days={}, real=False)
    data = site / "content" / "digests"
    real = json.loads(REAL_DAY.read_text(encoding="utf-8"))
    digests = [_stored(real),
               _stored(day("2023-11-28", [paper(pid, t, a) for pid, (t, a) in WRITTEN.items()])),
               _with_formula_claim(_stored(day("2023-11-29", [paper(pid, t, a)
                                                              for pid, (t, a) in HOSTILE.items()])))]
    for d in digests:
        save(data, d)
    out = build_site(site, root / "out", SITEURL="", FEED_DOMAIN="http://127.0.0.1:8000")
    return {"site": site, "out": out, "digests": digests}


def doc(path: Path) -> Any:
    return html.fromstring(path.read_bytes())


def test_the_enrich_step_stores_grounded_claims(built: dict[str, Any]) -> None:
    real = built["digests"][0]
    with_claims = [p for p in real.papers if p.claims]
    assert len(with_claims) >= 10
    for p in real.papers:
        for c in p.claims:
            assert c["by"] == "rules"
            assert c["technique"] in claims.TECHNIQUES
            for item in c["fields"].values():
                a, b = item["span"]
                assert p.abstract[a:b] == item["text"]
    # the day file round-trips the claims (and an older file without them still loads)
    again = Digest.from_dict(json.loads(json.dumps(real.to_dict())))
    assert [p.claims for p in again.papers] == [p.claims for p in real.papers]
    old = copy.deepcopy(real.to_dict())
    for p in old["papers"]:
        p.pop("claims")
    assert all(p.claims == () for p in Digest.from_dict(old).papers)


def test_the_atlas_lists_every_listed_claim_with_links_that_resolve(built: dict[str, Any]) -> None:
    out = built["out"]
    page = doc(out / "atlas" / "index.html")
    rows = page.cssselect("table.atlas-table tbody tr")
    # the newest year only on the page (2024); 2023 is in 2023.json
    dates = {r.get("data-date") for r in rows}
    assert dates == {"2024-11-28"}
    # one row per claim of each paper the day page lists (about a topic): every value links there
    listed = {a.get("id") for a in doc(out / "2024" / "11" / "28" / "index.html").cssselect("article.paper")}
    expected = sum(len(p.claims) for p in built["digests"][0].papers if p.id in listed)
    assert len(rows) == expected >= 4
    # every claim here was read by the rules: the lede says nothing of a model
    assert "read by a model" not in page.cssselect("p.lede")[0].text_content()
    for a in page.cssselect("table.atlas-table tbody a"):
        href = a.get("href")
        path, _, anchor = href.partition("#")
        if "/papers/" in path:
            continue
        target = out / path.lstrip("/") / "index.html"
        assert target.exists(), href
        assert doc(target).get_element_by_id(anchor) is not None, href
    # a value cell carries its sentence as a tooltip
    assert any(a.get("title") for a in page.cssselect("td.num a"))
    # every topic has its page; the nav links them
    scopes = [a.get("href") for a in page.cssselect("nav.atlas-scopes a")]
    assert "/atlas/" in scopes and "/atlas/quantization/" in scopes
    for s in scopes:
        assert (out / s.lstrip("/") / "index.html").exists()
    # the chart: an inline SVG, a point per speed-up factor of every year, no script
    factors = [r for r in _csv_rows((out / "atlas" / "claims.csv").read_text(encoding="utf-8"))
               if r["speedup"]]
    svg = page.cssselect("svg.atlas-chart")
    assert svg and len(svg[0].cssselect("circle")) == len(factors) >= 4
    assert not svg[0].cssselect("script") and svg[0].cssselect("title")


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_parses_and_its_columns_are_typed(built: dict[str, Any]) -> None:
    out = built["out"]
    text = (out / "atlas" / "claims.csv").read_text(encoding="utf-8")
    rows = _csv_rows(text)
    assert list(rows[0]) == [name for name, _ in COLUMNS]
    assert len(rows) >= 8
    for r in rows:
        dt.date.fromisoformat(r["date"])
        for name in NUMERIC:
            if r[name]:
                float(r[name])  # a number, never text
        for name, kind in COLUMNS:
            if kind == "text":
                assert not r[name].startswith(("=", "+", "-", "@")), (name, r[name])
    by_id = {r["id"]: r for r in rows}
    w4a8 = by_id["2023.00001"]
    assert w4a8["precision"] == "W4A8" and float(w4a8["bits"]) == 4
    assert float(w4a8["speedup"]) == 2.4 and w4a8["hardware"].startswith("NVIDIA H100")
    assert w4a8["model"] == "LLaMA-2-7B" and w4a8["model_size"] == "7B"
    assert w4a8["baseline"] == "FlashAttention"
    # per topic CSV, and the JSON: whole and per year
    topic = _csv_rows((out / "atlas" / "quantization" / "claims.csv").read_text(encoding="utf-8"))
    assert topic and all("quantization" in r["topics"].split() for r in topic)
    whole = json.loads((out / "atlas" / "claims.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in whole["columns"]] == [n for n, _ in COLUMNS]
    assert len(whole["rows"]) == len(rows)
    y2023 = json.loads((out / "atlas" / "2023.json").read_text(encoding="utf-8"))
    assert y2023["year"] == "2023" and all(r[0].startswith("2023") for r in y2023["rows"])
    idx = [c["name"] for c in whole["columns"]]
    for r in whole["rows"]:
        for name in NUMERIC:
            v = r[idx.index(name)]
            assert v is None or (isinstance(v, float) and not isinstance(v, bool))


def test_csv_cells_neutralise_formulas() -> None:
    for bad in ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert csv_cell("baseline", bad).startswith("'")
    assert csv_cell("accuracy_change", -5.6) == "-5.6"  # a number stays a number
    assert csv_cell("speedup", "=1+1") == ""  # text in a numeric column is dropped
    assert csv_cell("speedup", float("nan")) == ""


def test_hostile_claims_are_text_on_every_atlas_page_and_in_the_downloads(built: dict[str, Any]) -> None:
    out, site = built["out"], built["site"]
    hostile = built["digests"][2]
    texts = [item["text"] for p in hostile.papers for c in p.claims for item in c["fields"].values()]
    assert any("=HYPERLINK" in t or "@SUM" in t or "+cmd" in t for t in texts), texts
    inline = theme_inline_scripts(site / "theme")
    for path in sorted((out / "atlas").rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        assert not raw_problems(source) + element_problems(html.fromstring(source), inline), path
    for payload in PAYLOADS:
        for path in (out / "atlas").rglob("*.json"):
            assert payload not in path.read_text(encoding="utf-8") or json.loads(path.read_text())
    rows = _csv_rows((out / "atlas" / "claims.csv").read_text(encoding="utf-8"))
    hostile_rows = [r for r in rows if r["id"].startswith("2023.1")]
    assert hostile_rows
    for r in hostile_rows:
        for name, kind in COLUMNS:
            if kind == "text" and r[name]:
                assert r[name][0] not in "=+-@", (name, r[name])
    assert any(r["baseline"] == "'" + FORMULA for r in hostile_rows), hostile_rows
    assert any(r["accuracy_text"] == "'-23%" and float(r["accuracy_change"]) == -23
               for r in hostile_rows), hostile_rows
    # on the page the formula and the markup are text
    page = (out / "atlas" / "index.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror" not in page or "<img" not in page


def test_a_hostile_model_s_claims_through_the_summarize_stage(tmp_path: Path, llm_server: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """summary.v4 through litellm to the local server, whose replies carry claims with markup,
    formulas and numbers the abstract does not state: only grounded values are stored (labelled
    by the model), and every atlas page, the CSV and the JSON show them as text."""
    import yaml
    from arxiv_digest.core.settings import load_settings
    from arxiv_digest.core.store import load_day
    from arxiv_digest.summarize import make_summarizer
    from conftest import pelican_settings
    from llm_server import default_answer

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")
    hostile_claims = [
        {"speedup": "3.5x", "baseline": '=HYPERLINK("http://x")', "hardware": f"<svg onload={ALERT}>"},
        {"precision_bits": "4-bit", "model": f"<img src=x onerror={ALERT}>"},
        {"speedup": f"<script>{ALERT}</script> 3.5x", "model": "<b>GPT-5</b>"},
        {"memory_reduction": "77%", "speedup": "35.5x", "hardware": "TPU v9"},
        {"accuracy_change": "-23%", "baseline": "@SUM(A1:A9)"},
    ]

    def answer(kind: str, key: str, user: str) -> dict[str, Any]:
        out = default_answer(kind, key, user)
        if kind == "summary":
            out["claims"] = hostile_claims
        return out

    llm_server.answer = answer
    site = make_site(tmp_path / "site", days={}, real=False)
    raw = yaml.safe_load((site / "digest.yaml").read_text(encoding="utf-8"))
    raw["llm"] = {"model": "openai/gpt-4o-mini", "api_base": llm_server.api_base, "timeout": 5,
                  "retry_backoff": 0.01, "prompts": {"summary": "summary.v4"}}
    (site / "digest.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    settings = load_settings(pelican_settings(site, ARXIV_DIGEST_CONFIG=str(site / "digest.yaml")))
    stored = _stored(day("2023-11-29", [paper(pid, t, a) for pid, (t, a) in HOSTILE.items()]))
    save(settings.data_dir, stored)
    save(settings.data_dir, make_summarizer(settings).summarize(stored))
    again = load_day(settings.data_dir, "2023-11-29")
    assert again is not None
    assert llm_server.count("summary") == len(HOSTILE)
    labels = set()
    for p in again.papers:
        assert p.summary is not None and p.summary["prompt_version"] == "summary.v4"
        for c in p.claims:
            labels.add(c["by"])
            for item in c["fields"].values():
                a, b = item["span"]
                assert p.abstract[a:b] == item["text"]
                assert not any(w in item["text"] for w in ("77%", "35.5x", "TPU v9", "GPT-5", "<b>",
                                                           "<script>")), item  # ungrounded
    assert "rules" in labels and any(by.startswith(("model:openai/gpt-4o-mini", "rules+model:openai/gpt-4o-mini"))
                                     for by in labels), labels
    first = again.papers[0]
    added = [(n, i) for c in first.claims for n, i in c["fields"].items() if i.get("by")]
    assert any(n == "hardware" and "onload" in i["text"] for n, i in added), first.claims  # grounded markup
    assert any(n == "baseline" and "HYPERLINK" in i["text"] for n, i in added), first.claims

    out = build_site(site, tmp_path / "out", SITEURL="", FEED_DOMAIN="http://127.0.0.1:8000")
    inline = theme_inline_scripts(site / "theme")
    for path in sorted((out / "atlas").rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        assert not raw_problems(source) + element_problems(html.fromstring(source), inline), path
    page = doc(out / "atlas" / "index.html")
    cells = [td.text_content() for td in page.cssselect("table.atlas-table td")]
    assert any("onload=" in c for c in cells)  # shown as text, never as an element
    assert "Some values were read by a model" in page.cssselect("p.lede")[0].text_content()
    data = json.loads((out / "atlas" / "claims.json").read_text(encoding="utf-8"))
    names = [c["name"] for c in data["columns"]]
    by = [row[names.index("by")] for row in data["rows"]]
    assert any(str(b).startswith(("model:", "rules+model:")) for b in by), by
    rows = _csv_rows((out / "atlas" / "claims.csv").read_text(encoding="utf-8"))
    assert rows and all(not r[n] or r[n][0] not in "=+-@" for r in rows for n, k in COLUMNS if k == "text")
    assert not any("77" in (r["memory_reduction_percent"] or "") for r in rows)


def test_switching_to_summary_v4_bills_nothing_until_resummarize(tmp_path: Path, llm_server: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The claims prompt is a new prompt version: stored summaries of the same text are kept (no
    call, rules-only claims) until `--resummarize`, which asks again and stores the model's claims."""
    import yaml
    from arxiv_digest.core.settings import load_settings
    from arxiv_digest.core.store import load_day
    from arxiv_digest.summarize import make_summarizer
    from conftest import pelican_settings
    from llm_server import default_answer

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")

    def answer(kind: str, key: str, user: str) -> dict[str, Any]:
        out = default_answer(kind, key, user)
        if kind == "summary":
            out["claims"] = [{"speedup": "up to 2.4x", "model": "LLaMA-2-7B", "hardware": "NVIDIA H100 GPUs"}]
        return out

    llm_server.answer = answer
    site = make_site(tmp_path / "site", days={}, real=False)

    def settings_with(prompt: str | None) -> Any:
        raw = yaml.safe_load((site / "digest.yaml").read_text(encoding="utf-8"))
        raw["llm"] = {**(raw.get("llm") or {}), "model": "openai/gpt-4o-mini",
                      "api_base": llm_server.api_base, "timeout": 5, "retry_backoff": 0.01,
                      "briefing": False}
        if prompt:
            raw["llm"]["prompts"] = {**(raw["llm"].get("prompts") or {}), "summary": prompt}
        (site / "digest.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
        return load_settings(pelican_settings(site, ARXIV_DIGEST_CONFIG=str(site / "digest.yaml")))

    def run(settings: Any, resummarize: bool = False) -> Digest:
        d = load_day(settings.data_dir, "2023-11-28")
        assert d is not None
        save(settings.data_dir, make_summarizer(settings).summarize(d, resummarize=resummarize))
        again = load_day(settings.data_dir, "2023-11-28")
        assert again is not None
        return again

    settings = settings_with("summary.v3")
    save(settings.data_dir, _stored(day("2023-11-28", [paper(pid, t, a) for pid, (t, a) in WRITTEN.items()])))
    first = run(settings)
    calls = llm_server.count("summary")
    assert calls >= 1  # the listed papers (about a topic)
    assert all(c["by"] == "rules" for p in first.papers for c in p.claims)
    v4 = settings_with("summary.v4")
    kept = run(v4)
    assert llm_server.count("summary") == calls  # a new prompt version alone re-bills nothing
    assert [p.claims for p in kept.papers] == [p.claims for p in first.papers]
    again = run(v4, resummarize=True)
    assert llm_server.count("summary") == 2 * calls
    assert {p.summary["prompt_version"] for p in again.papers if p.summary} == {"summary.v4"}
    w4a8 = again.paper("2023.00001")
    assert w4a8 is not None and w4a8.summary is not None
    said = w4a8.summary["fields"]["claims"]  # the model's grounded claims, kept in its record
    assert said and all(c["by"] == "model:openai/gpt-4o-mini" for c in said)
    # the rules read every value of that sentence already: the rules win, nothing is added
    assert w4a8.claims == first.paper("2023.00001").claims
    assert run(v4) == again and llm_server.count("summary") == 2 * calls  # cached: no call, same claims


# --- in a real browser (Playwright + Debian chromium, as tests/test_browser.py) -------------------


@pytest.fixture(scope="module")
def served(built: dict[str, Any]) -> Any:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(built["out"])))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_sort_filter_and_older_years_in_chromium(served: str) -> None:
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(__file__).resolve().parents[1] / "test-artifacts"  # atlas-<size>-<scheme>.png
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        ctx = b.new_context(viewport={"width": 1366, "height": 900})
        foreign: list[str] = []
        ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(served) else (
            foreign.append(r.request.url), r.abort()))
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{served}/atlas/", wait_until="load")
        rows = page.locator("table.atlas-table tbody tr")
        n = rows.count()
        assert n >= 4 and page.locator("form.atlas-filters").is_visible()
        # sort by speed-up: descending first, empty cells last
        page.get_by_role("button", name="Speed-up").click()
        vals = page.eval_on_selector_all("table.atlas-table tbody tr td:nth-child(4)",
                                         "tds => tds.map(t => t.getAttribute('data-sort'))")
        nums = [float(v) for v in vals if v]
        assert nums == sorted(nums, reverse=True) and vals[:len(nums)] == [v for v in vals if v]
        assert page.locator("th[aria-sort=descending]").count() == 1
        # older years on request, then filter by technique and date
        page.get_by_role("button", name="Load all years").click()
        page.wait_for_function(f"document.querySelectorAll('table.atlas-table tbody tr').length > {n}")
        total = rows.count()
        page.select_option("select[name=technique]", "quantization")
        visible = page.eval_on_selector_all("table.atlas-table tbody tr:not([hidden])",
                                            "trs => trs.map(t => t.getAttribute('data-technique'))")
        assert visible and set(visible) == {"quantization"}
        page.fill("input[name=from]", "2024-01-01")
        page.dispatch_event("input[name=from]", "change")
        dates = page.eval_on_selector_all("table.atlas-table tbody tr:not([hidden])",
                                          "trs => trs.map(t => t.getAttribute('data-date'))")
        assert all(d >= "2024-01-01" for d in dates)
        assert str(total) in page.locator(".atlas-filters .filter-status").inner_text()
        # hostile rows loaded from JSON are text: no dialog, no element from the payloads
        assert dialogs == [] and page.locator("table.atlas-table img, table.atlas-table svg").count() == 0
        page.select_option("select[name=technique]", "")
        page.fill("input[name=from]", "")
        page.dispatch_event("input[name=from]", "change")
        for scheme in ("light", "dark"):
            for name, size in (("desktop", {"width": 1366, "height": 900}), ("phone", {"width": 390, "height": 844})):
                page.emulate_media(color_scheme=scheme)
                page.set_viewport_size(size)
                page.screenshot(path=str(shots / f"atlas-{name}-{scheme}.png"), full_page=False)
        assert errors == [] and foreign == []
        ctx.close()
        b.close()
