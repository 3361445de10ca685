"""The litellm backend end to end: real litellm, real HTTP, a local OpenAI-compatible server.

Each test summarizes the recorded 2024-11-28 day (17 papers about a topic) through
`make_summarizer(settings).summarize(...)`, stores it with the real store, and reads it back, the
way `update` does. The server (tests/llm_server.py) answers deterministic JSON and injects 429,
500, slow replies, malformed and schema-breaking output.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from arxiv_digest.core import store
from arxiv_digest.core.models import Digest
from arxiv_digest.core.settings import DigestSettings, load_settings
from arxiv_digest.site.render import day_view, render_day
from arxiv_digest.summarize import make_summarizer
from conftest import ROOT, pelican_settings
from llm_server import Fault, LLMServer
from lxml import html

REAL_DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"
MODEL = "openai/gpt-4o-mini"
LISTED = 17  # papers about a topic on the recorded day (tests/test_topics.py)
TOPICS = 4


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")


def write_config(tmp_path: Path, api_base: str, **llm: Any) -> Path:
    """A digest.yaml with the project's topics and an llm section pointing at the server."""
    raw = yaml.safe_load((ROOT / "digest.yaml").read_text())
    raw["llm"] = {"model": MODEL, "api_base": api_base, "retry_backoff": 0.01, "timeout": 5,
                  "concurrency": 8, **llm}
    path = tmp_path / "digest.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def settings_for(tmp_path: Path, server: LLMServer, **llm: Any) -> DigestSettings:
    config = write_config(tmp_path, server.api_base, **llm)
    return load_settings(pelican_settings(tmp_path, ARXIV_DIGEST_CONFIG=str(config)))


def seed_day(settings: DigestSettings) -> Path:
    """The recorded day, as fetched (no summaries), stored under the test's content/."""
    digest = store.load(REAL_DAY)
    digest = replace(digest, extra={}).with_papers(
        tuple(replace(p, summaries={}) for p in digest.papers))
    return store.save(settings.data_dir, digest)


T0 = dt.datetime(2024, 11, 28, 6, 0, tzinfo=dt.UTC)


def run(settings: DigestSettings, resummarize: bool = False, hours: float = 0.0) -> Digest:
    """One summarize pass over the stored day, stored again (what `update` does), `hours` after
    the first run (the clock decides when failed summaries are asked again)."""
    digest = store.load_day(settings.data_dir, "2024-11-28")
    assert digest is not None
    summarizer = make_summarizer(settings, clock=lambda: T0 + dt.timedelta(hours=hours))
    digest = summarizer.summarize(digest, resummarize=resummarize)
    store.save(settings.data_dir, digest)
    again = store.load_day(settings.data_dir, "2024-11-28")
    assert again is not None
    return again


def listed(digest: Digest) -> list[Any]:
    return [p for p in digest.papers if p.tags]


def page(settings: DigestSettings, digest: Digest) -> Any:
    """The day's HTML as the site renders it, parsed."""
    return html.fromstring(render_day(day_view(digest, settings), str(ROOT / "theme")))


def test_first_run_summarizes_listed_papers_and_second_run_makes_zero_calls(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    path = seed_day(settings)
    day = run(settings)
    assert llm_server.count("summary") == LISTED
    assert llm_server.count("briefing") == TOPICS
    assert {c.model for c in llm_server.calls} == {"gpt-4o-mini"}
    for p in listed(day):
        s = p.summary
        assert s["backend"] == "litellm" and s["model"] == MODEL
        assert s["prompt_version"] == "summary.v4"
        assert s["fields"]["tldr"].startswith(f"Summary of {p.id}:")
        assert s["tokens"]["total"] == s["tokens"]["prompt"] + s["tokens"]["completion"] > 0
        assert s["cost_usd"] > 0 and "failure" not in s
    assert all(p.summary is None for p in day.papers if not p.tags)
    ledger = day.extra["ledger"]["models"][MODEL]
    assert ledger["calls"] == LISTED + TOPICS
    assert ledger["cost_usd"] == pytest.approx(
        sum(p.summary["cost_usd"] for p in listed(day))
        + sum(b["cost_usd"] for b in day.extra["briefings"]["en"]["topics"].values()))
    first = path.read_bytes()

    calls = len(llm_server.calls)
    again = run(settings_for(tmp_path, llm_server))
    assert len(llm_server.calls) == calls  # ZERO calls
    assert path.read_bytes() == first  # and the day file is byte-identical
    assert again == day


def test_new_version_is_resummarized_and_prompt_change_needs_resummarize(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    seed_day(settings)
    day = run(settings)
    target = listed(day)[3]
    # arXiv announces v2 of one paper with a changed abstract
    bumped = replace(target, version=target.version + 1,
                     abstract=target.abstract + " We add experiments on OPT-6.7B.")
    store.save(settings.data_dir, day.with_papers(
        tuple(bumped if p.id == target.id else p for p in day.papers)))
    before = llm_server.count("summary")
    day = run(settings)
    assert llm_server.count("summary") - before == 1
    assert [c.key for c in llm_server.calls[-1 - len(target.tags):] if c.kind == "summary"] == [target.id]
    new = day.paper(target.id)
    assert new.summary["cache_key"] != target.summary["cache_key"] and "failure" not in new.summary

    # a new prompt version: nothing happens without --resummarize
    v5 = tmp_path / "summary.v5.md"
    text = (ROOT / "plugins/arxiv_digest/prompts/summary.v4.md").read_text()
    v5.write_text(text.replace("Copy numbers exactly", "Copy every number exactly"))
    settings = settings_for(tmp_path, llm_server, prompts={"summary": str(v5)})
    before = len(llm_server.calls)
    day = run(settings)
    assert len(llm_server.calls) == before
    assert {p.summary["prompt_version"] for p in listed(day)} == {"summary.v4"}
    before = llm_server.count("summary")
    day = run(settings, resummarize=True)
    assert llm_server.count("summary") - before == LISTED
    assert {p.summary["prompt_version"] for p in listed(day)} == {"summary.v5"}
    last = [c for c in llm_server.calls if c.kind == "summary"][-1]
    assert "Copy every number exactly" in last.body["messages"][0]["content"]


def test_budget_stops_calls_and_remaining_papers_show_pending(tmp_path, llm_server):
    llm_server.usage = (1000, 200)  # $0.00027 a call at gpt-4o-mini's list price
    settings = settings_for(tmp_path, llm_server, daily_budget_usd=0.003, concurrency=4)
    seed_day(settings)
    day = run(settings)
    made = llm_server.count()
    assert 5 <= made < LISTED
    spent = day.extra["ledger"]["models"][MODEL]["cost_usd"]
    assert spent <= 0.003
    done = [p for p in listed(day) if "fields" in p.summary]
    pending = [p for p in listed(day) if "failure" in p.summary]
    assert len(done) + len(pending) == LISTED and len(done) == llm_server.count("summary")
    assert {p.summary["failure"]["kind"] for p in pending} == {"budget"}
    assert all(p.summary["failure"]["attempts"] == 0 for p in pending)  # never called
    doc = page(settings, day)
    for p in pending:
        card = doc.get_element_by_id(p.id)
        assert card.find_class("summary")[0].text_content().strip() == "summary pending"
    # the briefing falls back to the deterministic text, and says so
    assert doc.find_class("briefing")[0].text_content().count("(extractive)") >= 1

    # the budget is per day: a second run the same day makes no call
    before = llm_server.count()
    run(settings)
    assert llm_server.count() == before

    # with more budget, only the pending papers are summarized
    settings = settings_for(tmp_path, llm_server, daily_budget_usd=None)
    day = run(settings)
    assert llm_server.count("summary") - len(done) == len(pending)
    assert all("fields" in p.summary for p in listed(day))


def test_failures_are_recorded_pending_and_retried_on_the_next_run(tmp_path, llm_server, caplog):
    settings = settings_for(tmp_path, llm_server, retries=2, timeout=1)
    seed_day(settings)
    ids = [p.id for p in listed(store.load(REAL_DAY))]
    broken, malformed, invalid, slow, limited = ids[:5]
    llm_server.always[broken] = Fault(status=500)
    llm_server.fault(malformed, Fault(content="Sure! Here is the summary: {tldr: oops"))
    llm_server.fault(invalid, Fault(content=json.dumps({"tldr": "", "method": "m"})))
    llm_server.fault(slow, Fault(delay=3.0), Fault(delay=3.0))  # also past the retry's 2 s
    llm_server.fault(limited, Fault(status=429, headers={"Retry-After": "0"}),
                     Fault(status=429, headers={"Retry-After": "0"}))
    with caplog.at_level(logging.INFO, logger="arxiv_digest"):
        day = run(settings)
    kinds = {pid: day.paper(pid).summary.get("failure", {}).get("kind") for pid in ids[:5]}
    assert kinds == {broken: "server_error", malformed: "malformed", invalid: "invalid",
                     slow: "timeout", limited: None}
    assert day.paper(broken).summary["failure"]["attempts"] == 3  # retries=2
    assert llm_server.count("summary", broken) == 3
    assert llm_server.count("summary", limited) == 3  # two 429s, then the answer
    assert day.paper(limited).summary["fields"]["tldr"].startswith("Summary of")
    assert "4 summaries failed" in caplog.text and "asked again after 20 h" in caplog.text
    # the day is stored with everything else
    assert sum("fields" in p.summary for p in listed(day)) == LISTED - 4
    doc = page(settings, day)
    for pid in (broken, malformed, invalid, slow):
        s = doc.get_element_by_id(pid).find_class("summary")[0]
        assert "pending" in s.get("class") and s.text_content().strip() == "summary pending"
    assert "Summary of" in doc.get_element_by_id(limited).find_class("summary")[0].text_content()

    # a run soon after makes no call for them (they back off); 20 h later they are asked again
    del llm_server.always[broken]
    before = llm_server.count("summary")
    day = run(settings, hours=1)
    assert llm_server.count("summary") == before
    day = run(settings, hours=21)
    assert llm_server.count("summary") - before == 4
    assert {c.key for c in llm_server.calls[-10:] if c.kind == "summary"} == {
        broken, malformed, invalid, slow}
    assert all("fields" in p.summary and "failure" not in p.summary for p in listed(day))


def test_a_failure_twice_counts_runs(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server, retries=0)
    seed_day(settings)
    pid = listed(store.load(REAL_DAY))[0].id
    llm_server.always[pid] = Fault(status=503)
    run(settings)
    day = run(settings, hours=25)
    fail = day.paper(pid).summary["failure"]
    assert fail == {"kind": "server_error", "status": 503, "attempts": 1, "runs": 2,
                    "key": day.paper(pid).summary["cache_key"], "at": "2024-11-29T07:00:00+00:00"}
    assert "injected" not in json.dumps(day.paper(pid).summary)  # never the provider's text


def test_unreachable_server_loses_nothing(tmp_path, llm_server):
    llm_server.stop()  # nothing listens on that port any more
    settings = settings_for(tmp_path, llm_server, retries=1)
    seed_day(settings)
    day = run(settings)
    assert len(day.papers) == 513
    assert {p.summary["failure"]["kind"] for p in listed(day)} == {"connection"}
    assert all(p.summary["failure"]["attempts"] == 2 for p in listed(day))
    assert {b["fallback"] for b in day.extra["briefings"]["en"]["topics"].values()} == {"extractive"}
    assert "ledger" not in day.extra  # nothing was billed


def test_authentication_failure_stops_further_calls(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server, concurrency=2)
    seed_day(settings)
    llm_server.always["*"] = Fault(status=401)
    day = run(settings)
    assert llm_server.count() <= 2 + TOPICS  # the calls already in flight, then nothing
    assert {p.summary["failure"]["kind"] for p in listed(day)} == {"auth"}


def test_schema_rejects_invented_numbers_and_bad_technique(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    seed_day(settings)
    papers = listed(store.load(REAL_DAY))
    invented, bad = papers[0], papers[1]
    llm_server.fault(invented.id, Fault(content=json.dumps({
        "tldr": "A sentence.", "method": "How.", "technique": "quantization",
        "bits_or_sparsity": "3-bit", "speedup": "9.87x", "memory": None,
        "models": ["Llama Guard 3-1B", "GPT-9"], "hardware": ["CPU"]})))
    llm_server.fault(bad.id, Fault(content=json.dumps({
        "tldr": "A sentence.", "method": "How.", "technique": "magic"})))
    day = run(settings)
    fields = day.paper(invented.id).summary["fields"]
    assert fields["speedup"] is None and fields["bits_or_sparsity"] is None  # not in the abstract
    assert fields["models"] == ["Llama Guard 3-1B"] and fields["hardware"] == ["CPU"]
    assert set(day.paper(invented.id).summary["dropped"]) == {"speedup", "bits_or_sparsity", "models"}
    assert day.paper(bad.id).summary["failure"]["kind"] == "invalid"


def test_llm_output_is_escaped_on_the_page(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    seed_day(settings)
    pid = listed(store.load(REAL_DAY))[0].id
    other = listed(store.load(REAL_DAY))[1].id
    llm_server.fault(pid, Fault(content=json.dumps({
        "tldr": "It holds when a<b & c>d.", "method": "<img src=x onerror=alert(1)>"})))
    llm_server.fault(other, Fault(content=json.dumps({
        "tldr": "<script>alert(1)</script>", "method": "m"})))
    day = run(settings)
    text = render_day(day_view(day, settings), str(ROOT / "theme"))
    assert "<script>alert(1)" not in text and "<img src=x" not in text
    assert "It holds when a&lt;b &amp; c&gt;d." in text
    # markup in a reply is refused outright (no abstract contains it)
    assert day.paper(other).summary["failure"]["kind"] == "prompt_copy"


def test_scoring_stores_scores_sorts_and_shows_them_in_the_toc(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server, scoring={
        "enabled": True, "sort": True, "interests": "KV-cache compression for long context."})
    seed_day(settings)
    pid = listed(store.load(REAL_DAY))[2].id
    llm_server.fault(f"score:{pid}", Fault(content=json.dumps({"relevance": 42, "novelty": 3, "comment": "x"})))
    day = run(settings)
    assert llm_server.count("score") == LISTED
    assert "KV-cache compression for long context." in next(
        c for c in llm_server.calls if c.kind == "score").body["messages"][0]["content"]
    scored = [p for p in listed(day) if "relevance" in p.summary["score"]]
    assert len(scored) == LISTED - 1
    assert day.paper(pid).summary["score"]["failure"]["kind"] == "invalid"
    assert "fields" in day.paper(pid).summary  # the summary itself is unaffected
    doc = page(settings, day)
    toc = doc.find_class("toc")[0]
    scores = [li.find_class("score") for li in toc.iter("li")]
    shown = [s[0].text_content() for s in scores if s]
    assert len(shown) == LISTED - 1
    for ol in toc.iter("ol"):  # new papers, then updated versions: each sorted by relevance
        relevance = [int(s.text_content().split("/")[0]) for s in ol.find_class("score")]
        assert relevance == sorted(relevance, reverse=True)
    relevance = [int(s.split("/")[0]) for s in shown[:len(relevance)]]
    first = toc.iter("li").__next__().find("a").get("href")[1:]
    assert doc.get_element_by_id(first).get("data-relevance") == str(max(relevance))
    # the next run (a day later) retries only the failed score; the one after makes no call
    before = llm_server.count()
    day = run(settings, hours=24)
    assert [(c.kind, c.key) for c in llm_server.calls[before:]] == [("score", pid)]
    assert day.paper(pid).summary["score"]["relevance"] in range(1, 11)
    before = llm_server.count()
    run(settings)
    assert llm_server.count() == before


def test_calls_run_concurrently_but_bounded(tmp_path, llm_server):
    llm_server.latency = 0.2
    settings = settings_for(tmp_path, llm_server, concurrency=5, briefing=False)
    seed_day(settings)
    run(settings)
    assert llm_server.count() == LISTED
    assert llm_server.max_in_flight == 5


def test_upgrade_from_extractive_and_offline_run_keeps_paid_summaries(tmp_path, llm_server):
    offline = settings_for(tmp_path, llm_server, model="extractive")
    seed_day(offline)
    day = run(offline)
    assert {p.summary["backend"] for p in listed(day)} == {"extractive"}
    assert llm_server.count() == 0
    day = run(settings_for(tmp_path, llm_server))
    assert {p.summary["backend"] for p in listed(day)} == {"litellm"}
    # running offline again (no model configured) never replaces them
    day = run(offline, resummarize=True)
    assert {p.summary["backend"] for p in listed(day)} == {"litellm"}


def test_prompt_file_with_unknown_placeholder_is_a_config_error(tmp_path, llm_server):
    bad = tmp_path / "mine.v1.md"
    shutil.copy(ROOT / "plugins/arxiv_digest/prompts/summary.v1.md", bad)
    bad.write_text(bad.read_text() + "\n$authors\n")
    from arxiv_digest.core.errors import ConfigError
    with pytest.raises(ConfigError, match=r"mine\.v1\.md: unknown placeholder\(s\) \['authors'\]"):
        settings_for(tmp_path, llm_server, prompts={"summary": str(bad)})
