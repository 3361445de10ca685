"""Every request made is in the ledger; a missing API key is `auth`; `--now` is the summarizer's
clock (issue 10). Real litellm over real HTTP against tests/llm_server.py, on the recorded day.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path

import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.core import store
from arxiv_digest.core.settings import load_settings
from arxiv_server import ArxivServer
from conftest import CATS
from llm_server import Fault, LLMServer
from test_summarize import LISTED, MODEL, listed, run, seed_day, settings_for, write_config

KEY = "sk-test-not-a-real-key-0000"


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def ids_of(settings) -> list[str]:
    day = store.load_day(settings.data_dir, "2024-11-28")
    assert day is not None
    return [p.id for p in listed(day)]


# --- 1. the ledger counts every request made ---------------------------------------------------

def test_timed_out_calls_are_in_the_ledger_with_estimated_prompt_tokens(tmp_path, llm_server,
                                                                        api_key):
    settings = settings_for(tmp_path, llm_server, timeout=0.5, timeout_retry_factor=1.0,
                            retries=0, briefing=False, concurrency=4)
    seed_day(settings)
    slow = ids_of(settings)[3:6]  # not the first call: answered calls teach chars per token
    for pid in slow:
        llm_server.always[pid] = Fault(delay=1.5)
    day = run(settings)
    row = day.extra["ledger"]["models"][MODEL]
    timed_out = [c for c in llm_server.calls if c.key in slow]
    answered = [c for c in llm_server.calls if c.key not in slow]
    assert len(timed_out) == 2 * len(slow)  # each timed out, was retried once, timed out again
    assert row["calls"] == llm_server.count() == LISTED + len(slow)
    assert row["timed_out"] == len(timed_out)
    # the server counts ceil(characters / 4) prompt tokens; answered calls report it, timed-out
    # ones are estimated at the characters per token of the answered ones (close to it)
    def served(c):
        return math.ceil(sum(len(m["content"]) for m in c.body["messages"]) / 4)
    assert row["prompt_tokens"] == sum(map(served, answered)) + row["estimated_prompt_tokens"]
    assert row["estimated_prompt_tokens"] == pytest.approx(sum(map(served, timed_out)), rel=0.03)
    assert row["total_tokens"] == row["prompt_tokens"] + row["completion_tokens"]
    for pid in slow:  # the paper's own record carries what its failed calls cost
        s = day.paper(pid).summary
        assert s["failure"]["kind"] == "timeout" and s["tokens"]["prompt"] > 0
        assert s["tokens"]["completion"] == 0


def test_http_errors_are_calls_and_a_refused_connection_is_not(tmp_path, llm_server, api_key):
    settings = settings_for(tmp_path, llm_server, retries=1, briefing=False)
    seed_day(settings)
    broken = ids_of(settings)[:2]
    for pid in broken:
        llm_server.always[pid] = Fault(status=500)
    day = run(settings)
    row = day.extra["ledger"]["models"][MODEL]
    assert row["calls"] == llm_server.count() == LISTED + len(broken)  # each 500 retried once
    assert "timed_out" not in row and "estimated_prompt_tokens" not in row  # only once nonzero

    llm_server.stop()  # nothing listens any more: no request reaches a provider
    again = run(settings, resummarize=True)
    assert again.extra["ledger"]["models"][MODEL] == row


# --- 3. a missing API key ----------------------------------------------------------------------

def test_a_missing_api_key_is_auth_with_one_line_naming_the_variable(
        tmp_path, llm_server, monkeypatch, caplog):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = settings_for(tmp_path, llm_server, retries=3, concurrency=4)
    seed_day(settings)
    with caplog.at_level(logging.INFO):
        day = run(settings)
    assert llm_server.count() == 0  # nothing was sent
    assert {p.summary["failure"]["kind"] for p in listed(day)} == {"auth"}
    assert all("status" not in p.summary["failure"] for p in listed(day))  # not an HTTP 500
    assert max(p.summary["failure"]["attempts"] for p in listed(day)) <= 1  # never retried
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{MODEL}: no API key: set OPENAI_API_KEY")
    assert "any value works" in errors[0] and "hosted_vllm/<name>" in errors[0]
    assert "server_error" not in caplog.text and "ledger" not in day.extra

    # with the key set, the next run asks (an auth failure does not back off)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    day = run(settings, hours=0.1)
    assert all("failure" not in p.summary for p in listed(day))
    assert day.extra["ledger"]["models"][MODEL]["calls"] == llm_server.count() > 0


def test_a_refused_key_says_so_without_the_key(tmp_path, llm_server, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    settings = settings_for(tmp_path, llm_server, concurrency=1, concurrency_start=1)
    seed_day(settings)
    llm_server.always["*"] = Fault(status=401, echo_auth=True)
    with caplog.at_level(logging.INFO):
        day = run(settings)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "refused the API key" in errors[0] and "HTTP 401" in errors[0]
    assert KEY not in caplog.text
    assert {p.summary["failure"]["kind"] for p in listed(day)} == {"auth"}
    assert day.extra["ledger"]["models"][MODEL]["calls"] == llm_server.count() == 1


# --- 4. --now reaches the summarizer's clock ---------------------------------------------------

THU = "2024-11-28T10:17:00+00:00"


def test_update_now_stamps_failures_and_backoff_follows_the_command_clock(
        site_dir: Path, arxiv_server: ArxivServer, llm_server: LLMServer, monkeypatch, capsys,
        api_key):
    """The real 1,504-item feed through `update --now`, then `summarize --now` later."""
    arxiv_server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    monkeypatch.setenv("ARXIV_DIGEST_RSS_URL", f"{arxiv_server.base_url}/rss")  # type: ignore[attr-defined]
    monkeypatch.chdir(site_dir)
    write_config(site_dir, llm_server.api_base, retries=0, failed_retry_hours=20, briefing=False)
    settings = load_settings({"PATH": str(site_dir / "content"),
                              "ARXIV_DIGEST_CONFIG": str(site_dir / "digest.yaml")})
    # the first listed paper of the real day fails (server error: it backs off)
    from test_summarize import REAL_DAY

    broken = listed(store.load(REAL_DAY))[0].id
    llm_server.always[broken] = Fault(status=500)
    assert main(["-s", "pelicanconf.py", "update", "--now", THU]) == 0  # stored; 1 failed
    day = store.load_day(settings.data_dir, "2024-11-28")
    assert day is not None and len(day.papers) == 513
    fail = day.paper(broken).summary["failure"]
    assert fail["at"] == THU  # the command's clock, not the wall's
    assert llm_server.count("summary", broken) == 1

    def summarize_at(when: dt.datetime) -> int:
        before = llm_server.count("summary", broken)
        main(["-s", "pelicanconf.py", "summarize", "--date", "2024-11-28", "--now",
              when.isoformat()])
        capsys.readouterr()
        return llm_server.count("summary", broken) - before

    t0 = dt.datetime.fromisoformat(THU)
    assert summarize_at(t0 + dt.timedelta(hours=19)) == 0  # backing off from THU, not from now
    del llm_server.always[broken]
    assert summarize_at(t0 + dt.timedelta(hours=21)) == 1
    day = store.load_day(settings.data_dir, "2024-11-28")
    assert day is not None and "failure" not in day.paper(broken).summary


def test_summarize_now_stamps_the_failure_with_the_command_clock(site_dir: Path, llm_server,
                                                                  capsys, api_key):
    write_config(site_dir, llm_server.api_base, retries=0, briefing=False)
    settings = load_settings({"PATH": str(site_dir / "content"),
                              "ARXIV_DIGEST_CONFIG": str(site_dir / "digest.yaml")})
    seed_day(settings)
    broken = ids_of(settings)[0]
    llm_server.always[broken] = Fault(content="not json", finish_reason="length")
    conf = str(site_dir / "pelicanconf.py")
    when = "2031-01-02T03:04:05+00:00"  # years from the wall clock
    assert main(["-s", conf, "summarize", "--date", "2024-11-28", "--now", when]) == 6
    capsys.readouterr()
    day = store.load_day(settings.data_dir, "2024-11-28")
    assert day is not None
    assert day.paper(broken).summary["failure"]["at"] == when
    # without --now: the real clock (a failure years in the 'future' still backs off from it)
    assert main(["-s", conf, "summarize", "--date", "2024-11-28"]) == 6
    assert llm_server.count("summary", broken) == 1
