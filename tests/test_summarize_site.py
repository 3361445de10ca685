"""Summaries as the reader and the maintainer see them: the CLI, the built site, the ledger page.

`python -m arxiv_digest update` runs as a real subprocess against the local arXiv server and the
local OpenAI-compatible server, so its real logs can be searched for the API key; the site is
built in a subprocess that proves the build never imports litellm.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from arxiv_digest.core.settings import load_settings
from arxiv_digest.core.store import iter_days, load, save
from arxiv_digest.summarize import make_summarizer
from conftest import CATS, ROOT
from llm_server import Fault
from lxml import html
from sitedata import make_site

THU = "2024-11-28T10:17:00+00:00"
MODEL = "openai/gpt-4o-mini"


def build_in_subprocess(site: Path, output: Path) -> str:
    """Build the site in a fresh interpreter; returns what it printed about litellm."""
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'plugins')!r}, {str(ROOT / 'tests')!r}]\n"
        "from pathlib import Path\n"
        "from conftest import build_site\n"
        f"build_site(Path({str(site)!r}), Path({str(output)!r}))\n"
        "print('litellm imported' if 'litellm' in sys.modules else 'litellm not imported')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def summarize_with_llm(site: Path, api_base: str) -> None:
    """Summarize every stored day through litellm and the local server (what `update` does)."""
    settings = load_settings({"PATH": str(site / "content"),
                              "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml")},
                             env={"ARXIV_DIGEST_LLM_MODEL": MODEL,
                                  "ARXIV_DIGEST_LLM_API_BASE": api_base})
    summarizer = make_summarizer(settings)
    for path in iter_days(settings.data_dir):
        save(settings.data_dir, summarizer.summarize(load(path)))


def test_built_site_shows_summaries_briefing_costs_and_ledger_without_importing_litellm(
        tmp_path, llm_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")
    site = make_site(tmp_path / "site")
    summarize_with_llm(site, llm_server.api_base)
    days = {p.stem: load(p) for p in iter_days(site / "content" / "digests")}
    assert len(days) == 6 and llm_server.count() > 0

    out = build_in_subprocess(site, tmp_path / "output")
    assert "litellm not imported" in out

    doc = html.parse(str(tmp_path / "output" / "2024" / "11" / "28" / "index.html")).getroot()
    card = doc.get_element_by_id("2411.18077")
    summary = card.find_class("summary")[0]
    assert summary.get("data-backend") == "litellm"
    assert summary.find_class("summary-label")[0].text_content() == f"Summary · {MODEL}"
    assert summary.find_class("tldr")[0].text_content().startswith("Summary of 2411.18077:")
    assert card.find(".//details").get("open") is None  # the abstract is folded under it
    briefing = doc.find_class("briefing")[0]
    assert [p.get("data-topic") for p in briefing.iter("p") if p.get("data-topic")] == [
        "pruning", "quantization", "kv-cache", "sparsity"]
    assert f"({MODEL})" in briefing.text_content()
    rows = [[c.text_content() for c in row] for row in doc.find_class("ledger")[0].iterfind(".//tbody/tr")]
    # the shipped day was summarized offline first: its extractive row stays, at no cost
    assert [r[0] for r in rows] == ["extractive", MODEL]
    assert rows[0][1:] == ["0", "0", "0", "0"]
    cells = rows[1]
    usage = days["2024-11-28"].extra["ledger"]["models"][MODEL]
    assert cells[1:4] == [f"{usage[k]:,}" for k in ("prompt_tokens", "completion_tokens",
                                                     "total_tokens")]
    assert float(cells[4]) == pytest.approx(usage["cost_usd"], rel=1e-3)

    ledger = html.parse(str(tmp_path / "output" / "ledger" / "index.html")).getroot()
    months = ledger.find_class("month")
    assert [m.get("id") for m in months] == ["l-2024-12", "l-2024-11"]
    day_rows = {tr.find("th").text_content(): [td.text_content() for td in tr.findall("td")]
                for m in months for tr in m.find(".//tbody").findall("tr")}
    assert sorted(day_rows) == sorted(days)
    for iso, digest in days.items():
        u = digest.extra["ledger"]["models"][MODEL]
        assert day_rows[iso][0] == f"{u['calls']:,}"
        link = next(a for a in ledger.iter("a") if a.text_content() == iso)
        assert link.get("href") == f"https://digest.example.org/{iso[:4]}/{iso[5:7]}/{iso[8:]}/"
    total = ledger.find_class("totals")[0].find(".//tfoot/tr")
    calls = sum(d.extra["ledger"]["models"][MODEL]["calls"] for d in days.values())
    assert total.findall("td")[0].text_content() == f"{calls:,}" == f"{llm_server.count():,}"
    november = ledger.get_element_by_id("l-2024-11").find(".//tfoot/tr").findall("td")
    nov_calls = sum(d.extra["ledger"]["models"][MODEL]["calls"]
                    for iso, d in days.items() if iso.startswith("2024-11"))
    assert november[0].text_content() == f"{nov_calls:,}"


def run_cli(site: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m arxiv_digest -v -s pelicanconf.py update ...` in the site folder."""
    return subprocess.run(
        [sys.executable, "-m", "arxiv_digest", "-v", "-s", "pelicanconf.py", "update", *args],
        cwd=site, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_update_cli_never_writes_or_logs_the_api_key_and_reruns_make_no_calls(
        site_dir, tmp_path, arxiv_server, llm_server):
    key = "sk-test-" + secrets.token_hex(16)
    arxiv_server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    base = arxiv_server.base_url  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARXIV_DIGEST_", "OPENAI_"))}
    env.update({
        "PYTHONPATH": str(ROOT / "plugins"), "OPENAI_API_KEY": key,
        "ARXIV_DIGEST_RSS_URL": f"{base}/rss", "ARXIV_DIGEST_API_URL": f"{base}/api/query",
        "ARXIV_DIGEST_LLM_MODEL": MODEL, "ARXIV_DIGEST_LLM_API_BASE": llm_server.api_base,
    })
    # failed papers are asked again on the next run (no backoff), to test the retry here
    config = site_dir / "digest.yaml"
    raw = yaml.safe_load(config.read_text())
    raw["llm"] = {**(raw.get("llm") or {}), "failed_retry_hours": 0}
    config.write_text(yaml.safe_dump(raw))
    # a provider that echoes the Authorization header in an error and in an answer
    llm_server.always["2411.17713"] = Fault(status=400, echo_auth=True)
    llm_server.fault("2411.17796", Fault(echo_auth=True))
    first = run_cli(site_dir, env, "--now", THU)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "2024-11-28: 513 papers stored" in first.stdout
    assert f"Bearer {key}" in {c.authorization for c in llm_server.calls}  # sent, from the env
    calls = llm_server.count()
    assert calls >= 17  # the papers about a topic

    day = json.loads((site_dir / "content/digests/2024/2024-11-28.json").read_text())
    by_id = {p["id"]: p for p in day["papers"]}
    failure = by_id["2411.17713"]["summaries"]["en"]["failure"]
    assert failure["kind"] == "bad_request" and failure["status"] == 400
    assert "message" not in failure  # the provider's text is never stored
    # an answer that echoes the key names something the abstract does not: refused, not stored
    assert by_id["2411.17796"]["summaries"]["en"]["failure"]["kind"] == "ungrounded"

    # the second run re-fetches and merges the day: only the failed paper is called again
    del llm_server.always["2411.17713"]
    second = run_cli(site_dir, env, "--now", THU)
    assert second.returncode == 0, second.stderr[-3000:]
    assert sorted(c.key for c in llm_server.calls[calls:] if c.kind == "summary") == [
        "2411.17713", "2411.17796"]
    calls = llm_server.count()
    third = run_cli(site_dir, env, "--now", THU)
    assert third.returncode == 0 and llm_server.count() == calls  # ZERO calls
    assert "summaries (openai/gpt-4o-mini): 17 kept, 0 new" in third.stderr

    build_in_subprocess(site_dir, site_dir / "output")
    for folder in ("content", "output"):
        for path in (site_dir / folder).rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path
    for run in (first, second, third):
        assert key not in run.stdout and key not in run.stderr
        assert "DEBUG" in run.stderr  # -v really logged at debug level


def test_offline_update_never_imports_litellm(site_dir, arxiv_server):
    arxiv_server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    base = arxiv_server.base_url  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    env.update({"PYTHONPATH": str(ROOT / "plugins"), "ARXIV_DIGEST_RSS_URL": f"{base}/rss"})
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "arxiv_digest", "-s", "pelicanconf.py",
         "update", "--now", THU], cwd=site_dir, env=env, capture_output=True, text=True,
        timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "arxiv_digest.summarize.day" in imported
    assert not {m for m in imported if m.split(".")[0] == "litellm"}
    day = json.loads((site_dir / "content/digests/2024/2024-11-28.json").read_text())
    assert {p["summaries"]["en"]["backend"] for p in day["papers"] if p["tags"]} == {"extractive"}

