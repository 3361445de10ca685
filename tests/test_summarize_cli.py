"""`python -m arxiv_digest summarize`: retry pending summaries of stored days, no arXiv request."""

from __future__ import annotations

from pathlib import Path

from arxiv_digest.cli.commands import main
from arxiv_digest.core.settings import load_settings
from llm_server import Fault
from test_summarize import LISTED, listed, seed_day, write_config


def test_summarize_retries_failed_summaries_of_stored_days(site_dir: Path, llm_server, capsys,
                                                            monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")
    # failed summaries are asked again on the next run (no backoff here; see test_backoff_*)
    write_config(site_dir, llm_server.api_base, retries=0, failed_retry_hours=0)
    settings = load_settings({"PATH": str(site_dir / "content"),
                              "ARXIV_DIGEST_CONFIG": str(site_dir / "digest.yaml")})
    seed_day(settings)
    conf = str(site_dir / "pelicanconf.py")
    from arxiv_digest.core import store

    broken = listed(store.load_day(settings.data_dir, "2024-11-28"))[0].id
    llm_server.always[broken] = Fault(status=500)

    # --now is the summarizer's clock too: the failure is stamped with it
    assert main(["-s", conf, "summarize", "--date", "2024-11-28",
                 "--now", "2024-11-28T12:00:00+00:00"]) == 6  # stored, 1 failed
    assert capsys.readouterr().out.strip() == (
        f"2024-11-28: summaries {LISTED - 1} done, 0 pending, 1 failed")

    del llm_server.always[broken]
    calls = llm_server.count("summary")
    assert main(["-s", conf, "summarize", "--now", "2024-11-29T12:00:00+00:00"]) == 0
    assert capsys.readouterr().out.strip() == f"2024-11-28: summaries {LISTED} done, 0 pending, 0 failed"
    assert llm_server.count("summary") - calls == 1  # only the failed one is called again
    day = store.load_day(settings.data_dir, "2024-11-28")
    assert "failure" not in day.paper(broken).summary

    assert main(["-s", conf, "summarize", "--now", "2024-11-29T12:00:00+00:00"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["-s", conf, "summarize", "--now", "2024-12-09T12:00:00+00:00", "--days", "3"]) == 0


def test_summarize_a_day_that_is_not_stored(site_dir: Path, capsys) -> None:
    assert main(["-s", str(site_dir / "pelicanconf.py"), "summarize", "--date", "2024-11-29"]) == 5
    assert "2024-11-29 is not stored" in capsys.readouterr().err
