"""The command line a maintainer uses: --help, `status`, exit codes, and the README's commands."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.cli.status import ledger_cost, summary_state
from arxiv_digest.core.errors import (
    BusyError,
    ConfigError,
    DigestError,
    FetchError,
    NoAnnouncementError,
    StoreError,
    SummaryError,
)
from arxiv_digest.summarize.ledger import add_usage
from arxiv_server import ArxivServer, paged_feed
from sitecopy import ROOT, env, project_copy, run

API = "/api/query"
FEED = "api2026_query_cat-cs.LG_OR_cat-cs.AI_start0_max20.xml"
NOW = "2026-11-10T12:00:00+00:00"  # a Tuesday


def test_help_lists_the_commands_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for command in ("update", "backfill", "status", "export-md"):
        assert re.search(rf"^\s+{command}\s+\S", out, re.M), command
    assert "Exit codes: 0 done" in out and "nothing to publish" in out and "130 interrupted" in out
    for command in ("update", "backfill", "status", "export-md"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "usage: python -m arxiv_digest" in capsys.readouterr().out


def test_a_broken_settings_file_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "pelicanconf.py"
    conf.write_text("THEME = 'no-such-theme'\n")
    assert main(["-s", str(conf), "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {conf}: not usable as Pelican settings:")
    assert "Traceback" not in err
    assert main(["-s", str(tmp_path / "missing.py"), "status"]) == 2
    assert "settings file not found" in capsys.readouterr().err


# --- status ---------------------------------------------------------------------------------


@pytest.fixture
def site(site_dir: Path, arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> Path:
    """Three stored days with a gap: Mon 2 and Wed 4 November 2026, and Mon 2 December."""
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.01\n")
    monkeypatch.setenv("ARXIV_DIGEST_API_URL", f"{arxiv_server.base_url}{API}")  # type: ignore[attr-defined]
    monkeypatch.chdir(site_dir)
    arxiv_server.route(API, paged_feed(FEED))
    for day in ("2026-11-02", "2026-11-04"):
        assert main(["-s", "pelicanconf.py", "update", "--date", day, "--now", NOW]) == 0
    capsys.readouterr()
    return site_dir


def edit_day(site: Path, day: str, change) -> None:  # type: ignore[no-untyped-def]
    path = site / "content" / "digests" / day[:4] / f"{day}.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def status(site: Path, capsys: pytest.CaptureFixture[str], now: str = NOW) -> tuple[int, str]:
    code = main(["-s", "pelicanconf.py", "status", "--now", now])
    out, err = capsys.readouterr()
    return code, out + err


def test_status_days_gaps_pending_and_spend(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def spend(data: dict) -> None:  # type: ignore[type-arg]
        # what the summarize stage records: a ledger per model, a failure on a listed paper
        ledger = add_usage(None, "openai/gpt-4o-mini", 12, 9000, 2400, 0.0123)
        data["ledger"] = add_usage(ledger, "ollama/llama3", 3, 100, 50, 0.0)
        tagged = next(p for p in data["papers"] if p["tags"])
        tagged["summaries"] = {"en": {"cache_key": "k", "failure": {"kind": "rate_limit", "attempts": 3, "runs": 1}}}

    edit_day(site, "2026-11-04", spend)
    code, out = status(site, capsys)
    assert code == 0
    assert "stored days: 2 (2026-11-02 .. 2026-11-04), 40 papers" in out
    assert "latest announcement day: 2026-11-10 (not stored yet: run `make update`)" in out
    # announcement days from the first stored day to today that are missing
    assert ("gaps: 5 announcement day(s) not stored since the first stored day: "
            "2026-11-03, 2026-11-05..2026-11-10") in out
    assert "fill them: make backfill FROM=2026-11-03 TO=2026-11-10" in out
    assert "set ARXIV_DIGEST_START_DATE" in out  # how to count from a later day instead
    assert re.search(r"summaries: \d+ done, 0 pending, 1 failed", out)
    assert "2026-11 │    2 │     40 │" in out and "$0.0123" in out


def flat(result: tuple[int, str]) -> tuple[int, str]:
    """The status output with rich's line wrapping undone."""
    return result[0], " ".join(result[1].split())


def test_status_counts_gaps_from_the_configured_start_date(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh clone holds an old sample day: a start date bounds the gaps, before or after it."""
    conf = site / "pelicanconf.py"
    base = conf.read_text()
    conf.write_text(base + '\nARXIV_DIGEST_START_DATE = "2026-11-09"\n')
    code, out = flat(status(site, capsys))
    assert code == 0
    # the stored days before the start are still listed, never counted as gaps
    assert "stored days: 2 (2026-11-02 .. 2026-11-04)" in out
    assert "gaps: 2 announcement day(s) not stored since ARXIV_DIGEST_START_DATE 2026-11-09: " \
        "2026-11-09..2026-11-10" in out
    assert "make backfill FROM=2026-11-09 TO=2026-11-10" in out
    assert "set ARXIV_DIGEST_START_DATE" not in out
    # a start date earlier than the first stored day counts the days before it too
    conf.write_text(base + "\nimport datetime\nARXIV_DIGEST_START_DATE = datetime.date(2026, 10, 29)\n")
    code, out = flat(status(site, capsys))
    assert "gaps: 7 announcement day(s) not stored since ARXIV_DIGEST_START_DATE 2026-10-29: " \
        "2026-10-29..2026-10-30, 2026-11-03, 2026-11-05..2026-11-10" in out
    # today as the start date: nothing to backfill but today
    conf.write_text(base + '\nARXIV_DIGEST_START_DATE = "2026-11-10"\n')
    assert "gaps: 1 announcement day(s) not stored since ARXIV_DIGEST_START_DATE 2026-11-10: " \
        "2026-11-10" in flat(status(site, capsys))[1]
    # a start date in the future: no gaps at all
    conf.write_text(base + '\nARXIV_DIGEST_START_DATE = "2027-01-04"\n')
    code, out = flat(status(site, capsys))
    assert code == 0 and "gaps: none" in out and "not stored since" not in out
    # a start date that is not a date is one line naming the key
    for bad in ('"last monday"', "20261109", '"2026-13-01"'):
        conf.write_text(base + f"\nARXIV_DIGEST_START_DATE = {bad}\n")
        code, out = flat(status(site, capsys))
        assert code == 2 and "ARXIV_DIGEST_START_DATE: expected an ISO date (YYYY-MM-DD) or None" in out


def test_status_on_a_fresh_clone_says_how_to_bound_the_gaps(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped sample day (2024-11-28) and a clock two years later, as on a fresh clone."""
    site = project_copy(tmp_path / "site")
    day = site / "content" / "digests" / "2024"
    day.mkdir()
    (day / "2024-11-28.json").write_bytes((ROOT / "content/digests/2024/2024-11-28.json").read_bytes())
    monkeypatch.chdir(site)
    code, out = flat(status(site, capsys, now="2026-11-24T12:00:00+00:00"))
    assert code == 0 and "not stored since the first stored day" in out
    assert 'set ARXIV_DIGEST_START_DATE = "YYYY-MM-DD" in pelicanconf.py' in out
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write('\nARXIV_DIGEST_START_DATE = "2026-11-23"\n')
    code, out = flat(status(site, capsys, now="2026-11-24T12:00:00+00:00"))
    assert code == 0
    assert "gaps: 2 announcement day(s) not stored since ARXIV_DIGEST_START_DATE 2026-11-23: " \
        "2026-11-23..2026-11-24" in out
    assert "2024-11-29" not in out


def test_export_md_of_a_day_that_is_not_stored_exits_5(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As the README's exit-code table says: a day file that cannot be read (here: is not there)."""
    code = main(["-s", "pelicanconf.py", "export-md", "--date", "2026-11-03"])
    err = capsys.readouterr().err
    assert code == StoreError.exit_code == 5
    assert err.startswith("error: ") and "2026-11-03.json: 2026-11-03 is not stored" in err
    assert "update --date 2026-11-03" in err and len(err.strip().splitlines()) == 1


def test_status_reports_an_unreadable_day_and_goes_on(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "content" / "digests" / "2026" / "2026-11-05.json").write_text('{"schema_version": 1,')
    code, out = status(site, capsys)
    assert code == StoreError.exit_code
    assert "unreadable: " in out and "2026-11-05.json: not valid JSON (line 1)" in out
    assert "stored days: 2 (2026-11-02 .. 2026-11-04)" in out


def test_status_of_an_empty_site(site_dir: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(site_dir)
    code, out = status(site_dir, capsys)
    assert code == 0 and "stored days: none yet" in out


def test_ledger_and_summary_shapes_are_read_defensively() -> None:
    per_model = add_usage(add_usage(None, "a", 1, 10, 5, 0.5), "b", 1, 10, 5, 0.25)
    assert ledger_cost(per_model) == 0.75
    assert ledger_cost({"total": {"cost_usd": 2.0}, "models": per_model["models"]}) == 2.0
    assert ledger_cost([{"model": "a", "cost": 0.1}, {"model": "b", "cost": "0.2"}]) == pytest.approx(0.3)
    assert ledger_cost(None) == ledger_cost("junk") == ledger_cost({"cost_usd": True}) == 0.0
    assert summary_state(None) == summary_state({}) == "pending"
    assert summary_state({"cache_key": "k", "failure": {"kind": "budget"}}) == "failed"
    assert summary_state({"status": "pending"}) == "pending"
    assert summary_state({"cache_key": "k", "tldr": "x"}) == "done"


# --- exit codes and the README --------------------------------------------------------------


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_documents_every_exit_code() -> None:
    text = readme()
    table = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", text, re.M))
    for error in (ConfigError, FetchError, NoAnnouncementError, StoreError, DigestError, SummaryError,
                  BusyError):
        assert str(error.exit_code) in table, error.__name__
    assert "nothing to publish" in table["0"]
    assert "130" in table
    assert "failing recipe as its own exit 2" in text  # make hides the CLI's codes: documented


def commands_in_readme() -> tuple[set[str], set[str]]:
    text = readme()
    shell, prose, fence = [], [], None
    for line in text.splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else (line[3:].strip() or "text")
        elif fence in ("sh", "bash", "console"):
            shell.append(line)
        elif fence is None:
            prose.append(line)
    blocks = "\n".join(shell)
    inline = "\n".join(re.findall(r"`([^`\n]+)`", "\n".join(prose)))
    targets = set(re.findall(r"(?:^|\s|`)make ([a-z][a-z-]*)", blocks + "\n" + inline, re.M))
    subs = set(re.findall(r"python -m arxiv_digest (?:-s \S+ )?([a-z][a-z-]*)", blocks + "\n" + inline))
    return targets, subs


def test_readme_commands_are_each_exercised() -> None:
    targets, subs = commands_in_readme()
    assert {"html", "update", "backfill", "publish", "github"} <= targets
    assert {"update", "backfill", "status", "export-md"} <= subs
    tests = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py")}
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    by_ci = set()
    if "make test" in ci:  # on a clean clone `make test` first runs the install rule
        by_ci = {"test"} | ({"install"} if re.search(r"^install: \$\(STAMP\)", makefile, re.M)
                            and re.search(r"^test: \$\(STAMP\)", makefile, re.M) else set())
    for target in sorted(targets):
        call = re.compile(r'\[\s*"make",[^\]]*"' + re.escape(target) + '[" ]')  # ["make", ..., "X"
        ran = any(call.search(t) for t in tests.values())
        assert ran or target in by_ci, f"`make {target}` is in the README but no test runs it"
    for sub in sorted(subs):
        assert any(f'"{sub}"' in t and "main(" in t for t in tests.values()), sub


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_help_shows_the_port() -> None:
    """The targets' help has make's variables filled in, never a literal $(PORT)."""
    out = subprocess.run(["make", "-s", "help", "PORT=8123"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "$(" not in out
    assert re.search(r"^\s+serve\s+serve output/ on http://127\.0\.0\.1:8123\b", out, re.M)


def test_make_serve_and_make_status(tmp_path: Path) -> None:
    """`make serve` serves the built site on 127.0.0.1, a missing page as the site's 404 page;
    `make status` reports on it."""
    site = project_copy(tmp_path / "site")
    environ = env(site)
    done = run(["make", "status"], site, environ)
    assert done.returncode == 0 and "stored days: none yet" in done.stdout
    assert run(["make", "html"], site, environ).returncode == 0
    port = free_port()
    proc = subprocess.Popen(["make", "serve", f"PORT={port}"], cwd=site, env=environ,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200 and b"<html" in r.read().lower()
                    break
            except OSError:
                assert time.monotonic() < deadline, "make serve did not answer"
                time.sleep(0.3)
        # a missing page: status 404 and the theme's 404 page (Pelican's own server sends nothing)
        for path in ("/no/such/page/", "/2099/01/01/", "/theme/css/nothing.css"):
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
            assert missing.value.code == 404
            body = missing.value.read().decode()
            assert "<h1>Page not found</h1>" in body and "/theme/css/site.css" in body
        head = urllib.request.Request(f"http://127.0.0.1:{port}/nothing", method="HEAD")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(head, timeout=5)
        assert missing.value.code == 404
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/archives/", timeout=5) as r:
            assert r.status == 200
        # nothing outside output/ is served: a path climbing out is a missing page
        import http.client

        for raw in ("/../pelicanconf.py", "/%2e%2e/Makefile", "/theme/../../Makefile"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", raw)
            answer = conn.getresponse()
            body = answer.read()
            conn.close()
            assert answer.status == 404 and b"Page not found" in body, raw
    finally:
        import os

        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
