"""Benchmark: a single-slot local server (llama.cpp-like), adaptive concurrency vs starting at 8.

The recorded day's 49 listed papers are summarized through litellm against tests/llm_server.py
with one slot (calls queue) and a fixed generation time per call, with a timeout that fits about
four queued calls: the situation of issue 10 (8 calls in flight on a one-slot server, 60 s timeout,
24 of 49 timed out), scaled down. It prints, for concurrency_start 2 (the default) and 8: wall
time, calls, timeouts the server saw as disconnects (it stops generating them), summaries stored,
and the concurrency the run settled at.

    .venv/bin/python bench/bench_local_llm.py [--latency 0.25] [--timeout 1.0]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "tests")]

from arxiv_digest.core import store  # noqa: E402
from arxiv_digest.core.settings import load_settings  # noqa: E402
from arxiv_digest.summarize import make_summarizer  # noqa: E402
from arxiv_digest.summarize.llm import import_litellm  # noqa: E402
from llm_server import LLMServer  # noqa: E402

REAL_DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"


def one(tmp: Path, start: int, latency: float, timeout: float) -> str:
    """Summarize the day once with concurrency_start=start; one line of figures."""
    server = LLMServer(latency=latency, slots=1)
    api_base = server.start()
    try:
        config = tmp / f"digest-{start}.yaml"
        topics = (ROOT / "digest.yaml").read_text(encoding="utf-8").split("\nllm:")[0]
        config.write_text(
            topics + "\nllm:\n  model: openai/local\n"
            f"  api_base: {api_base}\n  concurrency: 8\n  concurrency_start: {start}\n"
            f"  timeout: {timeout}\n  retries: 0\n  daily_budget_usd: null\n  briefing: false\n",
            encoding="utf-8")
        settings = load_settings({"PATH": str(tmp / f"content-{start}"),
                                  "ARXIV_DIGEST_CONFIG": str(config)}, env={})
        day = store.load(REAL_DAY)
        day = replace(day, extra={}).with_papers(
            tuple(replace(p, summaries={}) for p in day.papers))
        summarizer = make_summarizer(settings)
        started = time.monotonic()
        out = summarizer.summarize(day)
        took = time.monotonic() - started
        shown = summarizer.listed(day)  # type: ignore[attr-defined]
        done = sum(1 for p in out.papers if p.id in shown and "failure" not in (p.summary or {}))
        limiter = summarizer.runner.limiter  # type: ignore[attr-defined]
        return (f"start {start}: {took:6.1f} s, {len(server.calls)} calls, "
                f"{len(server.disconnects)} timed out (server saw the disconnect and stopped), "
                f"{done}/{len(shown)} summaries stored, concurrency peaked at {limiter.peak}, "
                f"ended at {int(limiter.limit)} after {limiter.shrinks} halvings")
    finally:
        server.stop()


def main() -> None:
    """Run both and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.25, help="seconds of generation per call")
    ap.add_argument("--timeout", type=float, default=1.0, help="llm.timeout in seconds")
    args = ap.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    import_litellm()
    print(f"one-slot server, {args.latency:g} s per call, timeout {args.timeout:g} s")
    with tempfile.TemporaryDirectory() as tmp:
        for start in (2, 8):
            print(one(Path(tmp), start, args.latency, args.timeout))


if __name__ == "__main__":
    main()
