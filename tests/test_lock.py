"""Two runs on the same day at once: a lock across read, merge, summarize and write; nothing lost.

Real processes race here. `python -m arxiv_digest update` runs twice, as two subprocesses, against
one local arXiv server serving two different feeds for the same day (the real 1,504-item feed of
28 November 2024, split into two overlapping halves). The first run is made slow inside its
read-modify-write (its LLM calls are held until the second run says it waits for the day), and the
second starts only once the first is in there: without the lock the second would read nothing, write its half, and the
first would then overwrite it with its own half (the last writer wins). With it, the second waits
and merges into what the first stored: the day holds both halves.

A kill -9 in the middle of a write leaves a temp file and no lock behind: the next write of the
day removes the file, and git ignores both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import filelock
import pytest
from arxiv_digest.core import store
from arxiv_digest.core.errors import BusyError
from arxiv_digest.update.fetch import parse_rss
from arxiv_digest.update.normalize import normalize
from arxiv_server import FIXTURES, ArxivServer
from conftest import CATS, ROOT
from llm_server import Fault, LLMServer

THU = "2024-11-28T10:17:00+00:00"  # 05:17 ET on the day of the recorded feed
DAY = "2024-11-28"
FEED = FIXTURES / "rss_all-archives_2024-11-28.xml"
CATEGORIES = ("cs.AI", "cs.CL", "cs.CV", "cs.LG")
MODEL = "openai/gpt-4o-mini"
WAITING = "another run is updating this day"  # what the second run logs while the first holds the day

_ITEM = re.compile(rb"<item>.*?</item>", re.DOTALL)


def half_feed(which: str) -> bytes:
    """The real feed with its first (A) or last (B) 1,000 of 1,504 items: 496 in both."""
    raw = FEED.read_bytes()
    items = _ITEM.findall(raw)
    assert len(items) == 1504
    kept = items[:1000] if which == "A" else items[-1000:]
    head, tail = raw[: raw.index(b"<item>")], raw[raw.rindex(b"</item>") + len(b"</item>"):]
    return head + b"\n".join(kept) + tail


def ids_of(body: bytes) -> set[str]:
    return {p.id for p in normalize(parse_rss(body, "feed").records, CATEGORIES)}


@pytest.fixture
def site(site_dir: Path, arxiv_server: ArxivServer) -> Path:
    """A site whose two feeds (A and B, the same day) are served at /rssA and /rssB."""
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.01\nARXIV_DIGEST_LOCK_TIMEOUT = 120\n")
    for which in ("A", "B"):
        body = half_feed(which)
        arxiv_server.route(f"/rss{which}/{CATS}", lambda _q, body=body: body)
    return site_dir


def environ(arxiv_server: ArxivServer, feed: str, llm: LLMServer | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARXIV_DIGEST_", "OPENAI_"))}
    env.update({"PYTHONPATH": str(ROOT / "plugins"),
                "ARXIV_DIGEST_RSS_URL": f"{arxiv_server.base_url}/rss{feed}"})  # type: ignore[attr-defined]
    if llm is not None:
        env.update({"ARXIV_DIGEST_LLM_MODEL": MODEL, "ARXIV_DIGEST_LLM_API_BASE": llm.api_base,
                    "OPENAI_API_KEY": "sk-test-lock-0000000000"})
    return env


def start(site: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "arxiv_digest", "-s", "pelicanconf.py", *args],
                            cwd=site, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def wait_for(cond, what: str, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Watched:
    """A run whose stderr is read as it comes, so a test can wait for a line of it."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc, self.lines = proc, []  # type: list[str]
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def finish(self) -> tuple[int, str, str]:
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.wait(timeout=300)
        self._reader.join(timeout=30)
        return self.proc.returncode, out, "".join(self.lines)


def held_until_waiting(llm_server: LLMServer) -> threading.Event:
    """The first run's LLM calls are answered only once the event is set: the test sets it when the
    second run says it waits for the day (no timing window: a loaded machine cannot lose the race)."""
    release = threading.Event()
    llm_server.fault("*", Fault(until=release))
    return release


def stored(site: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    data = json.loads((site / "content/digests/2024" / f"{DAY}.json").read_text(encoding="utf-8"))
    return {p["id"]: p for p in data["papers"]}


def test_two_updates_at_once_merge_instead_of_losing_papers(site: Path, arxiv_server: ArxivServer,
                                                          llm_server: LLMServer) -> None:
    a, b = ids_of(half_feed("A")), ids_of(half_feed("B"))
    assert a - b and b - a and a & b  # each run sees papers the other does not
    release = held_until_waiting(llm_server)  # the first call of run A: it holds the day meanwhile
    first = start(site, environ(arxiv_server, "A", llm_server), "update", "--now", THU)
    wait_for(lambda: llm_server.count() >= 1, "run A to reach its summarize stage")
    second = Watched(start(site, environ(arxiv_server, "B"), "update", "--now", THU))
    wait_for(lambda: second.said(WAITING) or second.proc.poll() is not None, "run B to wait for the day")
    release.set()
    code_a, out_a, err_a = finish(first)
    code_b, out_b, err_b = second.finish()
    assert code_a == 0, err_a[-3000:]
    assert code_b == 0, err_b[-3000:]
    papers = stored(site)
    assert set(papers) == a | b  # nothing lost: the last writer did not win
    assert f"{DAY}: {len(a)} papers stored" in out_a
    assert f"{WAITING}; waiting up to 120 s" in err_b
    assert "merging into what it stored" in err_b
    assert f"{DAY}: {len(a | b)} papers stored" in out_b  # B merged into A's file
    # run A's paid summaries survived run B's (offline) pass over the same papers
    backends = {p["summaries"]["en"]["backend"] for i, p in papers.items() if i in a and p["summaries"]}
    assert backends == {"litellm"}
    assert {p["summaries"]["en"]["backend"] for i, p in papers.items() if i in b - a and p["summaries"]} == {
        "extractive"}


def test_summarize_and_update_at_once_lose_nothing(site: Path, arxiv_server: ArxivServer,
                                                   llm_server: LLMServer) -> None:
    """`summarize` reads, summarizes and writes a stored day: an update meanwhile waits for it."""
    a, b = ids_of(half_feed("A")), ids_of(half_feed("B"))
    seed = start(site, environ(arxiv_server, "A"), "update", "--now", THU)  # offline summaries
    assert finish(seed)[0] == 0
    release = held_until_waiting(llm_server)
    first = start(site, environ(arxiv_server, "A", llm_server), "summarize", "--date", DAY)
    wait_for(lambda: llm_server.count() >= 1, "summarize to call the model")
    second = Watched(start(site, environ(arxiv_server, "B"), "update", "--now", THU))
    wait_for(lambda: second.said(WAITING) or second.proc.poll() is not None, "the update to wait for the day")
    release.set()
    code_a, _, err_a = finish(first)
    code_b, _out_b, err_b = second.finish()
    assert code_a == 0, err_a[-3000:]
    assert code_b == 0, err_b[-3000:]
    papers = stored(site)
    assert set(papers) == a | b
    assert WAITING in err_b
    # the summaries the model wrote while the update waited are in the file
    assert "litellm" in {p["summaries"]["en"]["backend"] for i, p in papers.items() if i in a and p["summaries"]}


def test_a_run_that_waits_too_long_exits_7_and_writes_nothing(site: Path, arxiv_server: ArxivServer) -> None:
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("ARXIV_DIGEST_LOCK_TIMEOUT = 0.5\n")
    data_dir = site / "content" / "digests"
    held = filelock.FileLock(store.lock_path(data_dir, DAY), thread_local=False)
    held.acquire()  # another run (this test process) is updating the day
    try:
        code, _out, err = finish(start(site, environ(arxiv_server, "A"), "update", "--now", THU))
    finally:
        held.release()
    assert code == BusyError.exit_code == 7, err[-3000:]
    line = next(x for x in err.splitlines() if x.startswith("error: "))
    assert "2024-11-28.json: another run is still updating this day after 0.5 s" in line
    assert "nothing was written" in line and "Traceback" not in err
    assert not store.day_path(data_dir, DAY).exists()
    # once the other run is done, the same command goes through
    code, _out, err = finish(start(site, environ(arxiv_server, "A"), "update", "--now", THU))
    assert code == 0, err[-3000:]


KILLED_WRITER = """
import os, sys, time
sys.path.insert(0, {plugins!r})
from pathlib import Path
from arxiv_digest.core import store

real_fsync = os.fsync
def fsync(fd):  # the temp file is written: say so, then hang until killed
    print("writing", flush=True)
    time.sleep(600)
os.fsync = fsync
data_dir = Path({data_dir!r})
with store.day_lock(data_dir, {day!r}, 5):
    store.save(data_dir, store.load(Path({source!r})))
"""


def test_kill_9_mid_write_leaves_debris_that_is_ignored_and_then_removed(
        site: Path, arxiv_server: ArxivServer, tmp_path: Path) -> None:
    data_dir = site / "content" / "digests"
    script = KILLED_WRITER.format(plugins=str(ROOT / "plugins"), data_dir=str(data_dir), day=DAY,
                                  source=str(ROOT / "content/digests/2024/2024-11-28.json"))
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    debris = list((data_dir / "2024").glob(f".{DAY}.json.*.tmp"))
    assert len(debris) == 1 and debris[0].stat().st_size > 1_000_000  # the whole day, never renamed
    assert not store.day_path(data_dir, DAY).exists()

    # git (the daily workflow's `git add content/digests`) ignores the temp file and the lock
    repo = tmp_path / "repo"
    shutil.copytree(site / "content", repo / "content")
    shutil.copy(ROOT / ".gitignore", repo / ".gitignore")
    (repo / "content/digests/2024/2024-11-27.json").write_text("{}\n")  # a day file is not ignored
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "content/digests"], cwd=repo, check=True)
    staged = subprocess.run([*git, "diff", "--cached", "--name-only"], cwd=repo, check=True,
                            capture_output=True, text=True).stdout.split()
    assert staged == ["content/digests/2024/2024-11-27.json"]

    # the kernel dropped the killed run's lock: the next update does not wait, and cleans up
    started = time.monotonic()
    code, _out, err = finish(start(site, environ(arxiv_server, "A"), "update", "--now", THU))
    assert code == 0, err[-3000:]
    assert "another run is updating" not in err
    assert "removed a temp file left by an interrupted write" in err
    assert not list((data_dir / "2024").glob("*.tmp"))
    assert len(store.load(store.day_path(data_dir, DAY)).papers) == len(ids_of(half_feed("A")))
    assert time.monotonic() - started < 60
