"""Nothing secret, and nothing a provider said, is committed; no absurd number reaches the ledger.

Day files are committed to a public repository by the daily workflow. A provider that echoes the
API key in its error text (as is, upper-cased, one character short, base64, hex) must leave no
trace of it, nor of its text, in content/: a failure keeps its kind, its HTTP status and its time.
The text goes to the debug log only, redacted. `python -m arxiv_digest -v update` runs as a real
subprocess against the real 1,504-item feed and a local OpenAI-compatible server.

A provider that reports negative or absurd token counts (seen: -$4,800 and $6,000,000 in the
ledger) is refused them: the counts are clamped to what the call could have used, with a warning.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from arxiv_digest.core import store
from arxiv_digest.core.settings import load_settings
from arxiv_digest.summarize import make_summarizer
from arxiv_digest.summarize.ledger import plausible_cost, plausible_tokens
from arxiv_digest.summarize.records import redact_text
from arxiv_server import ArxivServer
from conftest import CATS, ROOT, pelican_settings
from llm_server import Fault, LLMServer

THU = "2024-11-28T10:17:00+00:00"
MODEL = "openai/gpt-4o-mini"
REAL_DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"
MARKER = "PROVIDER-SAYS-7c1f"  # a word only the provider's error text contains


def leaks(key: str) -> list[str]:
    """Transformed copies of the key a careless provider might put in an error."""
    b64 = base64.b64encode
    return [key.upper(), key[:-1], key[1:], key.lower()[2:],
            b64(key.encode()).decode(), b64(f"Bearer {key}".encode()).decode(),
            b64(f"user:{key}".encode()).decode(), base64.urlsafe_b64encode(f"k={key}".encode()).decode(),
            key.encode().hex()]


def traces(key: str) -> list[str]:
    """What must not appear anywhere: every 12-character run of the key and of its encodings."""
    out = set()
    for form in (key, *(base64.b64encode(b"\0" * n + key.encode()).decode()[4:-4] for n in range(3)),
                 key.encode().hex()):
        out.update(form[i:i + 12].lower() for i in range(len(form) - 11))
    return sorted(out)


class LeakyServer(LLMServer):
    """The local server, but every error it sends quotes the caller's key in transformed ways."""

    def __init__(self) -> None:
        super().__init__()
        self.key = ""

    def _send(self, handler: Any, status: int, payload: dict[str, Any],  # type: ignore[override]
              headers: dict[str, str]) -> None:
        error = payload.get("error")
        if status != 200 and isinstance(error, dict):
            error["message"] = (f"{MARKER}: Incorrect API key provided: "
                                + ", ".join(leaks(self.key)) + ". You can find your key at ...")
        LLMServer._send(handler, status, payload, headers)


@pytest.fixture
def leaky() -> Any:
    server = LeakyServer()
    server.start()
    yield server
    server.stop()


def found(text: str, key: str) -> list[str]:
    low = text.lower()
    return [t for t in traces(key) if t in low] + ([MARKER] if MARKER in text else [])


def test_provider_errors_echoing_the_key_leave_no_trace_in_content(
        site_dir: Path, arxiv_server: ArxivServer, leaky: LeakyServer) -> None:
    key = "sk-proj-" + secrets.token_urlsafe(36)
    leaky.key = key
    arxiv_server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    # the papers with a topic (those summarized): two in three get an error, cycling statuses
    listed = [p.id for p in store.load(REAL_DAY).papers if p.tags]
    codes = (400, 500, 429, 404, 422)
    statuses = {pid: codes[i % len(codes)] for i, pid in enumerate(listed[: 2 * len(listed) // 3])}
    for pid, status in statuses.items():
        leaky.always[pid] = Fault(status=status, echo_auth=True)
    # the others' summaries quote the key (upper-cased and in base64): redacted before storing
    answer = leaky.answer
    leaky.answer = lambda kind, k, user: (
        {**answer(kind, k, user), "method": f"Uses {key.upper()} and {leaks(key)[4]}."}
        if kind == "summary" else answer(kind, k, user))
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.01\n")
    config = yaml.safe_load((site_dir / "digest.yaml").read_text())
    config.setdefault("llm", {}).update(retries=1, retry_backoff=0.01)
    (site_dir / "digest.yaml").write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARXIV_DIGEST_", "OPENAI_"))}
    env.update({"PYTHONPATH": str(ROOT / "plugins"), "OPENAI_API_KEY": key,
                "ARXIV_DIGEST_RSS_URL": f"{arxiv_server.base_url}/rss",  # type: ignore[attr-defined]
                "ARXIV_DIGEST_LLM_MODEL": MODEL, "ARXIV_DIGEST_LLM_API_BASE": leaky.api_base})
    runs = {}
    for verbose in (False, True):
        done = subprocess.run(
            [sys.executable, "-m", "arxiv_digest", *(["-v"] if verbose else []), "-s", "pelicanconf.py",
             "update", "--now", THU],
            cwd=site_dir, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        runs[verbose] = done.stdout + done.stderr
    assert f"Bearer {key}" in {c.authorization for c in leaky.calls}  # the key was really sent
    called = {c.key for c in leaky.calls if c.kind == "summary"}
    assert len(called & set(statuses)) >= 10 and called - set(statuses)

    day = json.loads((site_dir / "content/digests/2024/2024-11-28.json").read_text())
    kinds = {}
    for p in day["papers"]:
        failure = (p["summaries"].get("en") or {}).get("failure")
        if p["id"] not in statuses or p["id"] not in called:
            continue
        assert failure is not None and failure["status"] == statuses[p["id"]], p["summaries"]
        assert set(failure) <= {"kind", "status", "at", "attempts", "runs", "key"}, failure
        assert dt.datetime.fromisoformat(failure["at"]).tzinfo is not None
        kinds[failure["status"]] = failure["kind"]
    assert kinds[400] == "bad_request" and kinds[500] == "server_error" and kinds[429] == "rate_limit"

    # nothing of the key, nor of the provider's text, anywhere under content/
    for path in (site_dir / "content").rglob("*"):
        if path.is_file():
            assert not found(path.read_text(encoding="utf-8", errors="replace"), key), path
    # the logs: the provider's text only at debug level, and redacted there too
    assert MARKER not in runs[False]
    assert MARKER in runs[True] and "[redacted]" in runs[True]
    for verbose, log in runs.items():
        assert not [t for t in traces(key) if t in log.lower()], verbose


def test_redaction_catches_transformed_keys_and_spares_ordinary_text() -> None:
    key = "sk-ant-api03-" + secrets.token_urlsafe(40)
    for leak in leaks(key):
        text = redact_text(f"error: key {leak} is invalid", (key,))
        assert text == "error: key [redacted] is invalid", leak
    day = REAL_DAY.read_text(encoding="utf-8")
    assert redact_text(day, (key, "ghp_" + secrets.token_hex(18))) == day


def settings_with(tmp_path: Path, server: LLMServer) -> Any:
    raw = yaml.safe_load((ROOT / "digest.yaml").read_text())
    raw["llm"] = {"model": MODEL, "api_base": server.api_base, "retry_backoff": 0.01, "timeout": 5}
    config = tmp_path / "digest.yaml"
    config.write_text(yaml.safe_dump(raw))
    return load_settings(pelican_settings(tmp_path, ARXIV_DIGEST_CONFIG=str(config)))


@pytest.mark.parametrize("usage", [(-1_000_000_000, 200), (300, -5_000_000_000),
                                   (10**12, 10**12), (2**62, 3)],
                         ids=["negative-prompt", "negative-completion", "trillions", "huge-prompt"])
def test_negative_or_absurd_token_counts_never_reach_the_ledger(
        tmp_path: Path, llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, usage: tuple[int, int]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")
    settings = settings_with(tmp_path, llm_server)
    digest = store.load(REAL_DAY)
    digest = replace(digest, extra={}).with_papers(tuple(replace(p, summaries={}) for p in digest.papers))
    llm_server.usage = usage
    digest = make_summarizer(settings).summarize(digest)
    store.save(settings.data_dir, digest)
    row = store.load_day(settings.data_dir, "2024-11-28").extra["ledger"]["models"][MODEL]  # type: ignore[union-attr]
    calls = llm_server.count()
    assert row["calls"] == calls >= 5
    assert row["prompt_tokens"] >= 0 and row["completion_tokens"] >= 0
    # at most a token per byte of what was sent, and max_tokens (700) per reply, plus overheads
    sent = sum(len(json.dumps(c.body["messages"]).encode()) for c in llm_server.calls)
    assert row["prompt_tokens"] <= sent + 200 * calls
    assert row["completion_tokens"] <= (700 + 16) * calls
    # gpt-4o-mini's list price: $0.15 / $0.60 per million tokens; this day costs cents at most
    assert 0 <= row["cost_usd"] < 0.25
    assert caplog.text.count("reported implausible usage") == 1  # once per run, not per call


def test_plausible_counts() -> None:
    assert plausible_tokens(120, 1000) == (120, None)
    assert plausible_tokens(-3, 1000)[0] == 0
    assert plausible_tokens(10**12, 1000)[0] == 1000
    assert plausible_tokens("12", 1000)[0] == 0 and plausible_tokens(float("nan"), 10)[0] == 0
    assert plausible_tokens(None, 1000) == (0, None)  # no usage reported: nothing to warn about
    assert plausible_cost(-4800.0, 0.01)[0] == 0.0
    assert plausible_cost(6_000_000.0, 0.01)[0] == 0.01
    assert plausible_cost(0.5, 0.0) == (0.5, None)  # an unpriced model: no ceiling known
