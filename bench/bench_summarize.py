"""Benchmark: summarizing 300 papers through litellm, sequential vs concurrent, same run.

The papers are the first 300 of the recorded 2024-11-28 day (real titles and abstracts). The
server is tests/llm_server.py on 127.0.0.1, in its own process like a real provider, answering
every call after a fixed latency (200 ms by default), so the real litellm HTTP path runs. Both
passes start from an empty cache and go through DaySummarizer exactly as `update` does
(briefing off, so only the 300 summary calls are timed); litellm is imported and warmed up
first so neither pass pays for it.

    .venv/bin/python bench/bench_summarize.py [--papers 300] [--concurrency 16] [--latency 0.2]

Target: concurrent >= 12x faster than sequential.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "tests")]

from arxiv_digest.core import store  # noqa: E402
from arxiv_digest.core.models import Digest  # noqa: E402
from arxiv_digest.core.settings import DigestSettings, load_settings  # noqa: E402
from arxiv_digest.summarize import make_summarizer  # noqa: E402
from arxiv_digest.summarize.llm import import_litellm  # noqa: E402

REAL_DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"
TARGET = 12.0


def settings(tmp: Path, api_base: str, concurrency: int) -> DigestSettings:
    """List every paper; one model; no budget, no briefing."""
    config = tmp / f"digest-{concurrency}.yaml"
    config.write_text(
        "llm:\n  model: openai/gpt-4o-mini\n"
        f"  api_base: {api_base}\n  concurrency: {concurrency}\n"
        "  daily_budget_usd: null\n  briefing: false\n  timeout: 30\n",
        encoding="utf-8",
    )
    return load_settings({"PATH": str(tmp / f"content-{concurrency}"),
                          "ARXIV_DIGEST_CONFIG": str(config), "ARXIV_DIGEST_LIST_ALL": True},
                         env={})


def papers(n: int) -> Digest:
    """The first n recorded papers, without summaries."""
    day = store.load(REAL_DAY)
    chosen = tuple(replace(p, summaries={}) for p in day.papers[:n])
    if len(chosen) < n:
        raise SystemExit(f"the recorded day has only {len(chosen)} papers")
    return replace(day, extra={}, papers=chosen)


class Server:
    """tests/llm_server.py in a child process (so it does not share this interpreter's GIL)."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "llm_server.py"), str(latency)],
            stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.api_base = self.proc.stdout.readline().strip()

    def stats(self) -> dict[str, int]:
        """Calls received so far, and the most in flight at once."""
        with urlopen(f"{self.api_base}/_stats", timeout=10) as r:
            data: dict[str, int] = json.load(r)
        return data

    def stop(self) -> None:
        """End the child process."""
        self.proc.terminate()
        self.proc.wait(timeout=10)


def timed(s: DigestSettings, day: Digest, server: Server) -> tuple[float, int, Digest]:
    """Wall time and calls of one summarize pass."""
    before = server.stats()["calls"]
    started = time.perf_counter()
    out = make_summarizer(s).summarize(day)
    return time.perf_counter() - started, server.stats()["calls"] - before, out


def main() -> int:
    """Run both passes and print the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency", type=float, default=0.2)
    args = ap.parse_args()

    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    server = Server(args.latency)
    api_base = server.api_base
    day = papers(args.papers)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        import_litellm()
        imported = time.perf_counter() - t0
        (tmp / "warm").mkdir()
        timed(settings(tmp / "warm", api_base, 1), replace(day, papers=day.papers[:1]), server)

        seq_t, seq_calls, _ = timed(settings(tmp, api_base, 1), day, server)
        par_t, par_calls, out = timed(settings(tmp, api_base, args.concurrency), day, server)
    in_flight = server.stats()["max_in_flight"]
    server.stop()

    ok = sum(1 for p in out.papers if isinstance(p.summary, dict) and "fields" in p.summary)
    ideal_seq = args.papers * args.latency
    ideal_par = -(-args.papers // args.concurrency) * args.latency
    ratio = seq_t / par_t
    print(f"summarize {args.papers} papers, {args.latency * 1000:.0f} ms per call, "
          f"litellm {version('litellm')} (import {imported:.1f} s, not timed)")
    print(f"{'':14}{'wall s':>9}{'calls':>7}{'ideal s':>9}{'ms/call':>9}")
    print(f"{'sequential':14}{seq_t:9.2f}{seq_calls:7d}{ideal_seq:9.2f}"
          f"{seq_t / seq_calls * 1000:9.1f}")
    print(f"{f'concurrency {args.concurrency}':14}{par_t:9.2f}{par_calls:7d}{ideal_par:9.2f}"
          f"{par_t / par_calls * 1000:9.1f}")
    print(f"speed-up {ratio:.1f}x (target >= {TARGET:g}x; ideal {ideal_seq / max(ideal_par, 1e-9):.1f}x); "
          f"{ok}/{args.papers} summaries stored; server saw at most {in_flight} "
          "calls at once")
    return 0 if ratio >= TARGET and ok == args.papers else 1


if __name__ == "__main__":
    raise SystemExit(main())
