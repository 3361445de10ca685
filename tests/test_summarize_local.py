"""A weak local model behind an OpenAI-compatible server: schema output, grounding, honest failure
accounting, backoff, adaptive concurrency and the token budget (real litellm over real HTTP).

The server is tests/llm_server.py; faults stand in for what a 135M-parameter model does: its own
keys, JSON cut off at max_tokens, invented venues and institutions, the prompt copied back,
citations of papers that are not listed, and a single slot that makes every queued call slow.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import replace
from typing import Any

import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.cli.status import summary_counts
from arxiv_digest.core import store
from arxiv_digest.core.errors import ConfigError
from arxiv_digest.core.settings import DigestSettings, load_settings
from arxiv_digest.summarize import make_summarizer
from conftest import pelican_settings
from llm_server import Fault, LLMServer
from test_summarize import (
    LISTED,
    MODEL,
    REAL_DAY,
    T0,
    listed,
    page,
    run,
    seed_day,
    settings_for,
    write_config,
)


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")


def ids() -> list[str]:
    return [p.id for p in listed(store.load(REAL_DAY))]


def summary(**fields: Any) -> str:
    base = {"tldr": "It does a thing.", "method": "It works.", "technique": None,
            "bits_or_sparsity": None, "speedup": None, "memory": None, "models": None,
            "hardware": None}
    return json.dumps({**base, **fields})


def small_day(settings: DigestSettings, n: int) -> list[str]:
    """The recorded day cut to its first n listed papers (and nothing else), stored."""
    seed_day(settings)
    day = store.load_day(settings.data_dir, "2024-11-28")
    assert day is not None
    keep = [p for p in day.papers if p.tags][:n]
    store.save(settings.data_dir, day.with_papers(tuple(keep)))
    return [p.id for p in keep]


# --- structured output -------------------------------------------------------------------------

def test_json_schema_is_sent_to_a_local_server_and_checked(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    seed_day(settings)
    day = run(settings)
    assert {c.response_format for c in llm_server.calls} == {"json_schema"}
    s = next(c for c in llm_server.calls if c.kind == "summary").body["response_format"]
    schema = s["json_schema"]["schema"]
    assert s["json_schema"]["strict"] is True and schema["additionalProperties"] is False
    assert set(schema["required"]) == {"tldr", "method", "technique", "bits_or_sparsity",
                                       "speedup", "memory", "models", "hardware", "claims", "topics"}
    offered = schema["properties"]["topics"]["items"]["properties"]["topic"]["enum"]
    assert offered and set(offered) <= {"pruning", "quantization", "kv-cache", "sparsity"}
    b = next(c for c in llm_server.calls if c.kind == "briefing")
    cite = b.body["response_format"]["json_schema"]["schema"]["properties"]["sentences"]
    topic = b.key
    expected = sorted(p.id for p in listed(day) if topic in p.tags and not p.is_replacement)
    assert sorted(cite["items"]["properties"]["cites"]["items"]["enum"]) == expected
    assert all("fields" in p.summary for p in listed(day))


def test_a_server_that_rejects_json_schema_falls_back_to_json_object(tmp_path, llm_server,
                                                                      caplog):
    llm_server.reject_formats = {"json_schema"}
    settings = settings_for(tmp_path, llm_server, concurrency=1, concurrency_start=1)
    seed_day(settings)
    day = run(settings)
    formats = [c.response_format for c in llm_server.calls]
    assert formats[0] == "json_schema" and set(formats[1:]) == {"json_object"}
    assert formats.count("json_schema") == 1  # learnt once for the whole run
    assert all("fields" in p.summary for p in listed(day))
    assert "rejected response_format json_schema" in caplog.text


def test_a_server_that_takes_no_response_format_gets_plain_requests(tmp_path, llm_server):
    llm_server.reject_formats = {"json_schema", "json_object"}
    settings = settings_for(tmp_path, llm_server, concurrency=1, concurrency_start=1,
                            briefing=False)
    small_day(settings, 3)
    day = run(settings)
    assert [c.response_format for c in llm_server.calls] == [
        "json_schema", "json_object", None, None, None]
    assert all("fields" in p.summary for p in day.papers)  # still validated, still stored


def test_response_format_setting_is_validated(tmp_path, llm_server):
    with pytest.raises(ConfigError, match=r"digest\.yaml: llm\.response_format: expected one of "
                                          r"auto, json_schema, json_object, none, got 'xml'"):
        settings_for(tmp_path, llm_server, response_format="xml")
    with pytest.raises(ConfigError, match=r"llm\.concurrency_start: expected an integer from 1 "
                                          r"to llm\.concurrency \(4\), got 8"):
        settings_for(tmp_path, llm_server, concurrency=4, concurrency_start=8)
    with pytest.raises(ConfigError, match=r"llm\.daily_budget_tokens: expected an integer"):
        settings_for(tmp_path, llm_server, daily_budget_tokens="lots")


# --- a weak model's replies --------------------------------------------------------------------

def test_weak_model_replies_are_refused_and_counted_failed(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    seed_day(settings)
    own_keys, truncated, venue, institution, copied, placeholder = ids()[:6]
    llm_server.fault(own_keys, Fault(content=json.dumps(
        {"title": "A paper", "description": "It is about things."})))
    llm_server.fault(truncated, Fault(content='{"tldr": "This paper introduces a new',
                                      finish_reason="length"))
    llm_server.fault(venue, Fault(content=summary(
        tldr="This paper was presented at the 2023 International Conference on Machine Learning.")))
    llm_server.fault(institution, Fault(content=summary(
        tldr="A team at the University of California, Berkeley proposes a method.")))
    llm_server.fault(copied, Fault(content=summary(
        tldr="one sentence in English on what the paper contributes.")))
    llm_server.fault(placeholder, Fault(content=summary(method="<the paragraph>")))
    day = run(settings)
    kinds = {pid: day.paper(pid).summary["failure"]["kind"]
             for pid in (own_keys, truncated, venue, institution, copied, placeholder)}
    assert kinds == {own_keys: "invalid", truncated: "truncated", venue: "ungrounded",
                     institution: "ungrounded", copied: "prompt_copy",
                     placeholder: "prompt_copy"}
    counts = summary_counts(day, settings)
    assert (counts.done, counts.failed) == (LISTED - 6, 6)
    text = json.dumps([day.paper(pid).summary for pid in kinds])
    assert "Berkeley" not in text and "International Conference" not in text


def test_failed_upgrade_keeps_the_extractive_summary_labelled_and_counts_as_failed(
        tmp_path, llm_server, site_dir, capsys):
    offline = settings_for(tmp_path, llm_server, model="extractive")
    seed_day(offline)
    run(offline)
    llm_server.always["*"] = Fault(content=json.dumps({"title": "x", "description": "y"}))
    day = run(settings_for(tmp_path, llm_server))
    for p in listed(day):
        assert p.summary["backend"] == "extractive" and "fields" in p.summary
        assert p.summary["failure"]["kind"] == "invalid"
        assert set(p.summary["failure"]) <= {"kind", "status", "attempts", "runs", "at", "key"}
    assert summary_counts(day, offline).failed == LISTED
    assert summary_counts(day, offline).done == 0
    doc = page(offline, day)
    first = doc.get_element_by_id(listed(day)[0].id).find_class("summary")[0]
    label = first.find_class("summary-label")[0].text_content()
    assert "extractive" in label and "fallback: the model's summary failed" in label
    assert first.find_class("tldr")[0].text_content()  # the extractive text is still shown
    briefing = doc.find_class("briefing")[0].text_content()
    assert briefing.count("fallback: the model's briefing was not used") == 4


def test_summarize_command_reports_failures_and_exits_6(site_dir, llm_server, capsys):
    write_config(site_dir, llm_server.api_base, retries=0)
    settings = load_settings({"PATH": str(site_dir / "content"),
                              "ARXIV_DIGEST_CONFIG": str(site_dir / "digest.yaml")})
    seed_day(settings)
    conf = str(site_dir / "pelicanconf.py")
    llm_server.always["*"] = Fault(content='{"tldr": "cut off', finish_reason="length")
    n = len(make_summarizer(settings).listed(store.load_day(settings.data_dir, "2024-11-28")))
    assert main(["-s", conf, "summarize", "--date", "2024-11-28"]) == 6
    out = capsys.readouterr()
    assert out.out.strip() == f"2024-11-28: summaries 0 done, 0 pending, {n} failed"
    assert f"{n} summaries failed" in out.err
    calls = llm_server.count("summary")
    assert calls == n
    # status says the same
    assert main(["-s", conf, "status", "--now", "2024-11-28T20:00:00+00:00"]) == 0
    assert f"0 done, 0 pending, {n} failed" in capsys.readouterr().out
    # run again at once: every failed paper backs off, no call, still exit 6
    assert main(["-s", conf, "summarize", "--date", "2024-11-28"]) == 6
    assert llm_server.count("summary") == calls
    day = store.load_day(settings.data_dir, "2024-11-28")
    assert {p.summary["failure"]["kind"] for p in day.papers if p.summary} == {"truncated"}
    assert {p.summary["failure"]["runs"] for p in day.papers if p.summary} == {1}


# --- the briefing --------------------------------------------------------------------------------

def briefing_reply(*sentences: tuple[str, list[str]]) -> str:
    return json.dumps({"sentences": [{"text": t, "cites": c} for t, c in sentences]})


def test_briefing_is_grounded_and_cites_papers_as_links(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    seed_day(settings)
    day0 = store.load(REAL_DAY)
    by_topic: dict[str, list[Any]] = {}
    for p in listed(day0):
        if not p.is_replacement:
            for t in p.tags:
                by_topic.setdefault(t, []).append(p)
    good_topic, venue_topic, copy_topic, unknown_topic = sorted(by_topic)[:4]
    a, b = by_topic[good_topic][0], by_topic[good_topic][-1]
    word = next(w for w in a.title.split() if w[:1].isupper() and len(w) > 3)
    llm_server.fault(f"briefing:{good_topic}", Fault(content=briefing_reply(
        (f"One paper studies {word.lower()} [{a.id}].", []),
        ("Another one proposes a method.", [b.id]))))
    v = by_topic[venue_topic][0]
    llm_server.fault(f"briefing:{venue_topic}", Fault(content=briefing_reply(
        ("It was presented at the 2023 International Conference on Machine Learning.", [v.id]))))
    llm_server.fault(f"briefing:{copy_topic}", Fault(content=json.dumps(
        {"sentences": [{"text": "<the paragraph>", "cites": [by_topic[copy_topic][0].id]}]})))
    llm_server.fault(f"briefing:{unknown_topic}", Fault(content=briefing_reply(
        ("These papers propose methods.", ["2411.99999"]))))
    day = run(settings)
    topics = day.extra["briefings"]["en"]["topics"]
    assert topics[good_topic]["sentences"] == [
        {"text": f"One paper studies {word.lower()}.", "cites": [a.id]},
        {"text": "Another one proposes a method.", "cites": [b.id]}]
    assert topics[venue_topic]["failure"]["kind"] == "ungrounded"
    assert topics[copy_topic]["failure"]["kind"] == "prompt_copy"
    assert topics[unknown_topic]["failure"]["kind"] == "uncited"
    for t in (venue_topic, copy_topic, unknown_topic):
        assert topics[t]["fallback"] == "extractive"
        assert "International Conference" not in topics[t]["text"]
        assert "<the paragraph>" not in topics[t]["text"]
    doc = page(settings, day)
    para = doc.find_class("briefing")[0].xpath(f'.//p[@data-topic="{good_topic}"]')[0]
    links = [x.get("href") for x in para.find_class("cite")]
    assert links == [f"#{a.id}", f"#{b.id}"]
    for href in links:
        assert doc.get_element_by_id(href[1:]).get("class") == "paper"
    for t in (venue_topic, copy_topic, unknown_topic):
        p = doc.find_class("briefing")[0].xpath(f'.//p[@data-topic="{t}"]')[0]
        assert "(extractive)" in p.text_content() and "fallback" in p.text_content()
        assert not p.find_class("cite")


def test_a_briefing_without_citations_is_refused(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    seed_day(settings)
    llm_server.always["*"] = Fault()  # summaries as usual
    for topic in ("kv-cache", "pruning", "quantization", "sparsity"):
        llm_server.fault(f"briefing:{topic}", Fault(content=json.dumps(
            {"briefing": "These papers are about efficient models."})))  # v1's shape, no ids
    day = run(settings)
    kinds = {t: r.get("failure", {}).get("kind") for t, r in day.extra["briefings"]["en"]["topics"].items()}
    assert set(kinds.values()) == {"invalid"}


# --- local servers: slots, timeouts, adaptive concurrency --------------------------------------

def test_concurrency_grows_while_latency_holds(tmp_path, llm_server):
    llm_server.latency = 0.05
    settings = settings_for(tmp_path, llm_server, concurrency=6, briefing=False)
    seed_day(settings)
    summarizer = make_summarizer(settings, clock=lambda: T0)
    day = summarizer.summarize(store.load_day(settings.data_dir, "2024-11-28"))
    limiter = summarizer.runner.limiter
    assert limiter.peak == 6 and limiter.shrinks == 0
    assert llm_server.max_in_flight <= 6
    assert first_calls_in_flight(llm_server) <= 2  # it started low
    assert all("fields" in p.summary for p in listed(day))


def first_calls_in_flight(server: LLMServer) -> int:
    """How many of the first calls overlapped the very first one."""
    first = server.calls[0].at
    return sum(1 for c in server.calls if c.at - first < 0.02)


def test_single_slot_server_timeouts_shrink_retry_once_and_close_the_connection(
        tmp_path):
    server = LLMServer(latency=0.25, slots=1)  # like llama.cpp with one slot: calls queue
    server.start()
    try:
        settings = settings_for(tmp_path, server, concurrency=8, concurrency_start=4,
                                timeout=0.6, retries=0, briefing=False)
        pids = small_day(settings, 12)
        summarizer = make_summarizer(settings, clock=lambda: T0)
        started = time.monotonic()
        day = summarizer.summarize(store.load_day(settings.data_dir, "2024-11-28"))
        took = time.monotonic() - started
        limiter = summarizer.runner.limiter
        # 4 queued calls on one slot take 1 s: the later ones time out and the limit halves
        assert limiter.shrinks >= 1 and limiter.lowest <= 2
        # each timed-out call was abandoned: the server saw the client hang up, stopped
        # generating it, and the call was asked once more (with 1.2 s) and answered
        assert server.disconnects
        assert not set(server.disconnects) & set(server.finished[:1])
        for pid in set(server.disconnects):
            assert server.count("summary", pid) >= 2
        done = [p for p in day.papers if "fields" in p.summary]
        assert len(done) >= len(pids) - 2, [p.summary.get("failure") for p in day.papers]
        assert took < 30
    finally:
        server.stop()


# --- backoff -----------------------------------------------------------------------------------

def test_failed_papers_back_off_until_time_passes_or_inputs_change(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server, retries=0, failed_retry_hours=10,
                            failed_max_runs=3, briefing=False)
    seed_day(settings)
    bad, worse = ids()[:2]
    llm_server.always[bad] = Fault(status=500)
    llm_server.always[worse] = Fault(content=summary(tldr="Presented at NeurIPS."))
    run(settings)
    assert llm_server.count("summary") == LISTED

    def calls_at(hours: float, **kw: Any) -> list[str]:
        before = llm_server.count()
        run(kw.pop("settings", settings), hours=hours, **kw)
        return sorted(c.key for c in llm_server.calls[before:])

    assert calls_at(1) == []  # backing off: no call at all
    assert calls_at(9.9) == []
    assert calls_at(10.5) == sorted([bad, worse])  # runs=2 now: next after 20 h more
    assert calls_at(25) == []
    assert calls_at(31) == sorted([bad, worse])  # runs=3: given up until the inputs change
    day = store.load_day(settings.data_dir, "2024-11-28")
    assert day.paper(bad).summary["failure"]["runs"] == 3
    assert calls_at(1000) == []
    # --resummarize asks again regardless
    assert calls_at(1000, resummarize=True) == sorted([bad, worse])
    # a new version of the paper (another abstract) is asked again at once
    day = store.load_day(settings.data_dir, "2024-11-28")
    p = day.paper(bad)
    store.save(settings.data_dir, day.with_papers(tuple(
        replace(x, version=x.version + 1, abstract=x.abstract + " Revised.") if x.id == bad else x
        for x in day.papers)))
    assert calls_at(1001) == [bad]
    assert p.summary["failure"]["at"] == (T0 + dt.timedelta(hours=1000)).isoformat()
    # and a new prompt version asks again too
    prompt = tmp_path / "summary.v9.md"
    from conftest import ROOT
    prompt.write_text((ROOT / "plugins/arxiv_digest/prompts/summary.v2.md").read_text())
    other = settings_for(tmp_path, llm_server, retries=0, failed_retry_hours=10, briefing=False,
                         prompts={"summary": str(prompt)})
    assert calls_at(1002, settings=other) == sorted([bad, worse])


# --- budget ------------------------------------------------------------------------------------

def test_token_budget_caps_a_day(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server, daily_budget_usd=None,
                            daily_budget_tokens=15_000, max_tokens=200, briefing=False)
    seed_day(settings)
    day = run(settings)
    ledger = day.extra["ledger"]["models"][MODEL]
    assert ledger["prompt_tokens"] + ledger["completion_tokens"] <= 15_000
    made = llm_server.count()
    assert 5 <= made < LISTED
    pending = [p for p in listed(day) if "failure" in p.summary]
    assert {p.summary["failure"]["kind"] for p in pending} == {"budget"}
    assert len(pending) == LISTED - made
    before = llm_server.count()
    run(settings, hours=1)  # the same day: no room left, no call (and budget does not back off)
    assert llm_server.count() == before


# --- real volume -------------------------------------------------------------------------------

def test_real_volume_every_paper_of_the_day_through_the_local_server(tmp_path, llm_server):
    config = write_config(tmp_path, llm_server.api_base, concurrency=16, concurrency_start=2)
    settings = load_settings(pelican_settings(tmp_path, ARXIV_DIGEST_CONFIG=str(config),
                                              ARXIV_DIGEST_LIST_ALL=True))
    seed_day(settings)
    started = time.monotonic()
    summarizer = make_summarizer(settings, clock=lambda: T0)
    day = summarizer.summarize(store.load_day(settings.data_dir, "2024-11-28"))
    took = time.monotonic() - started
    store.save(settings.data_dir, day)
    assert len(day.papers) == 513 and llm_server.count("summary") == 513
    assert all("fields" in p.summary and "failure" not in p.summary for p in day.papers)
    briefs = day.extra["briefings"]["en"]["topics"]
    assert all("sentences" in b for b in briefs.values())
    assert 2 < summarizer.runner.limiter.peak <= 16  # grew while latency held
    print(f"\n513 summaries + {len(briefs)} briefings through litellm in {took:.1f} s")
    again = make_summarizer(settings, clock=lambda: T0 + dt.timedelta(hours=1))
    before = llm_server.count()
    assert again.summarize(day) == day
    assert llm_server.count() == before

