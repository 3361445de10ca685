"""Precision and recall of the efficiency claims (issue 14), per field, on the hand-labelled set.

Scored on tests/data/claims/labels.jsonl (155 real abstracts, README beside it). A value counts as
one (field, span) of an abstract: a predicted value is right when a labelled value of the same field
overlaps its span and agrees on what it says (the factor or percentage, the bits, the name); the
context fields a claim repeats are counted once. So precision is "of the values the atlas would
show, how many are right", and recall "of the labelled values, how many it shows".

Columns:
- rules: enrich/claims.py's offline rules (what `update` stores with no model);
- rules+model: the same, merged (enrich/claims.merge: the rules win) with the claims a real model
  gave through the summary call (prompt summary.v4, the real LiteLLMRunner, litellm's HTTP path,
  each reply checked by summarize/schema.validate_claims). The model is SmolLM2-135M-Instruct in
  llama.cpp behind tests/llm_engine/server.mjs on 127.0.0.1 (tests/real_model.py: the engine the
  real-model tests use), constrained to the reply's JSON schema. Its replies are saved to
  --replies (default .cache/bench_claims_replies.json) and reused by --cached, so the table can be
  printed again without the engine; --model-only adds the model's claims alone as a third column.

Run: .venv/bin/python bench/bench_claims.py [--model] [--cached] [--errors FIELD [--column NAME]]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "plugins")]

from arxiv_digest.core.models import Paper  # noqa: E402
from arxiv_digest.enrich import claims as claims_mod  # noqa: E402  (after the path)
from arxiv_digest.summarize.schema import validate_claims  # noqa: E402

REPLIES = ROOT / ".cache" / "bench_claims_replies.json"

LABELS = ROOT / "tests" / "data" / "claims" / "labels.jsonl"
FIELDS = claims_mod.FIELDS
Value = tuple[str, str, tuple[int, int], Any]  # (paper id, field, span, value)


def load_rows(path: Path = LABELS) -> list[dict[str, Any]]:
    """The labelled abstracts."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def paper_of(row: Mapping[str, Any]) -> Paper:
    """A Paper as the pipeline stores it (title and abstract as labelled; no topics)."""
    return Paper(id=row["id"], version=1, title=row["title"], authors=("A. Author",),
                 abstract=row["abstract"], categories=("cs.LG",), primary_category="cs.LG",
                 announce_type="new")


def values(pid: str, records: Iterable[Mapping[str, Any]]) -> list[Value]:
    """Each (field, span) once."""
    seen: dict[tuple[str, tuple[int, int]], Value] = {}
    for c in records:
        for f, item in c["fields"].items():
            span = (int(item["span"][0]), int(item["span"][1]))
            seen.setdefault((f, span), (pid, f, span, item["value"]))
    return list(seen.values())


def _fold(x: Any) -> Any:
    if isinstance(x, str):
        return " ".join(x.casefold().replace("-", " ").split())
    if isinstance(x, list):
        return {_fold(v) for v in x}
    return x


def _device(name: str) -> str:
    return name.removesuffix("s").removesuffix(" gpu").removesuffix(" gpus")


_NUMBER_KEYS = ("factor", "percent_reduction", "percent_speedup", "remaining_percent", "percent",
                "absolute", "delta", "retained", "weights", "activations", "kv", "bits")


def _numbers(v: Any) -> dict[str, Any]:
    if not isinstance(v, Mapping):
        return {"_": _fold(v)}
    out = {k: v[k] for k in _NUMBER_KEYS if v.get(k) is not None}
    if "from" in v and "to" in v:
        out = {"from": v["from"], "to": v["to"]}
    return out


def agree(field: str, pred: Any, gold: Any) -> bool:
    """Whether a predicted value says what the labelled one says."""
    if field in ("model", "hardware", "baseline"):
        p, g = _fold(pred), _fold(gold)
        if isinstance(g, set) and not isinstance(p, set):
            return p in g
        if isinstance(g, str) and isinstance(p, str) and field in ("hardware", "baseline"):
            # "FPGAs" is "FPGA"; "NVIDIA 4090 GPU" is "NVIDIA 4090" (the labels keep the word
            # "GPU" where the abstract's phrase needs it: "A100 GPU")
            return _device(p) == _device(g)
        return bool(p == g)
    if field == "model_size":
        return bool(_fold(pred) == _fold(gold))
    p, g = _numbers(pred), _numbers(gold)
    if field == "speedup":
        return bool(p) and p == g
    if field == "accuracy_change" and "delta" in p and "delta" in g:
        return abs(float(p["delta"])) == abs(float(g["delta"])) and (
            float(p["delta"]) * float(g["delta"]) > 0)
    return bool(p) and p == g


def score(gold: list[Value], pred: list[Value]) -> dict[str, dict[str, Any]]:
    """field -> {tp, fp, fn, wrong: [...], missed: [...]}."""
    by_paper: dict[tuple[str, str], list[Value]] = {}
    for g in gold:
        by_paper.setdefault((g[0], g[1]), []).append(g)
    out = {f: {"tp": 0, "fp": 0, "fn": 0, "wrong": [], "missed": []} for f in FIELDS}
    found: set[tuple[str, str, tuple[int, int]]] = set()
    for p in pred:
        hit = None
        for g in by_paper.get((p[0], p[1]), []):
            if p[2][0] < g[2][1] and g[2][0] < p[2][1] and agree(p[1], p[3], g[3]):
                hit = g
                break
        if hit is None:
            out[p[1]]["fp"] += 1
            out[p[1]]["wrong"].append(p)
        else:
            out[p[1]]["tp"] += 1
            found.add(hit[:3])
    for g in gold:
        if g[:3] not in found:
            out[g[1]]["fn"] += 1
            out[g[1]]["missed"].append(g)
    return out


def rules_claims(row: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    """The rules' records of one labelled abstract."""
    return claims_mod.extract(paper_of(row))


def model_replies(rows: list[dict[str, Any]], path: Path, parallel: int = 2,
                  max_tokens: int = 400, chunk: int = 8) -> dict[str, Any]:
    """Ask the real model (summary.v4 through LiteLLMRunner) for every labelled abstract's
    claims; {id: {"claims": validated claims or None, "failure": kind or None, "reply": text}}.
    Saved to path after every `chunk` calls, and resumed from it: a run cut short keeps what it
    got (the table then covers those abstracts only, and says how many)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from arxiv_digest.summarize.config import PROMPTS_DIR, LLMSettings
    from arxiv_digest.summarize.jobs import Job
    from arxiv_digest.summarize.llm import LiteLLMRunner
    from real_model import MODEL_NAME, Engine, install

    out: dict[str, Any] = {"model": f"openai/{MODEL_NAME}", "seconds": 0.0, "max_tokens": max_tokens,
                           "replies": {}}
    if path.is_file():
        out = json.loads(path.read_text(encoding="utf-8"))
    # abstracts with claims and without, interleaved 2:1: a run cut short still measures both
    with_claims = [r for r in rows if r["claims"]]
    without = [r for r in rows if not r["claims"]]
    order: list[dict[str, Any]] = []
    for i, r in enumerate(with_claims):
        order.append(r)
        if i % 2 and i // 2 < len(without):
            order.append(without[i // 2])
    order += [r for r in rows if r not in order]
    todo = [r for r in order if r["id"] not in out["replies"]]
    if not todo:
        return out
    os.environ.setdefault("OPENAI_API_KEY", "sk-local-no-key")  # the local server ignores it
    engine = Engine(install(), parallel=parallel, log=ROOT / ".cache" / "bench_claims_engine.log")
    engine.start()
    try:
        llm = LLMSettings(model=f"openai/{MODEL_NAME}", api_base=engine.api_base,
                          max_tokens=max_tokens, timeout=300, concurrency=parallel,
                          concurrency_start=parallel, daily_budget_usd=None, retries=1,
                          prompts={"summary": PROMPTS_DIR / "summary.v4.md",
                                   "score": PROMPTS_DIR / "score.v1.md",
                                   "briefing": PROMPTS_DIR / "briefing.v2.md"})
        runner = LiteLLMRunner(llm)
        for at in range(0, len(todo), chunk):
            part = todo[at:at + chunk]
            jobs = [Job("summary", r["id"], {"id": r["id"], "title": r["title"],
                                             "abstract": r["abstract"], "tags": (), "candidates": []})
                    for r in part]
            seen = len(engine.requests())
            started = time.perf_counter()
            outcomes = runner.run(jobs, 0.0)
            out["seconds"] += time.perf_counter() - started
            raw_by_id: dict[str, Any] = {}
            for s in engine.requests()[seen:]:  # the raw reply of each call, by its prompt's id
                text = str(s.get("user") or "")
                pid = text.split("arXiv id: ", 1)[1].split("\n", 1)[0].strip() if "arXiv id: " in text else ""
                raw_by_id[pid] = s.get("content")
            for r in part:
                o = outcomes[("summary", r["id"])]
                out["replies"][r["id"]] = {
                    "failure": o.failure_kind, "reply": raw_by_id.get(r["id"]),
                    "claims": (o.data or {}).get("claims") if o.ok else None,
                    "dropped": [d for d in o.dropped if d.startswith("claims")]}
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
            print(f"  {len(out['replies'])}/{len(rows)} abstracts asked, {out['seconds']:.0f} s",
                  file=sys.stderr, flush=True)
    finally:
        engine.stop()
    return out


def reply_claims(row: Mapping[str, Any], reply: Mapping[str, Any], model: str) -> list[dict[str, Any]]:
    """The model's claims of one abstract, validated as the summarize stage does (from the raw
    reply when the summary itself was refused: the claims are checked on their own)."""
    if reply.get("claims") is not None:
        return list(reply["claims"])
    text = reply.get("reply")
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return []
    raw = data.get("claims") if isinstance(data, dict) else None
    return validate_claims(raw, row["abstract"], f"{claims_mod.MODEL}{model}", title=row["title"])[0]


def run(rows: list[dict[str, Any]], predict: Callable[[Mapping[str, Any]], Iterable[Mapping[str, Any]]]
        ) -> dict[str, dict[str, Any]]:
    """Score `predict` over the rows."""
    gold: list[Value] = []
    pred: list[Value] = []
    for row in rows:
        gold += values(row["id"], row["claims"])
        pred += values(row["id"], predict(row))
    return score(gold, pred)


def _freeze(v: Any) -> Any:
    if isinstance(v, Mapping):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


def table(columns: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Per-field precision and recall, one pair of columns per run."""
    head = f"{'field':<17}" + "".join(f"{name + ' P':>16}{'R':>7}{'n':>5}" for name in columns)
    lines = [head, "-" * len(head)]
    totals = {name: Counter() for name in columns}
    for f in FIELDS:
        cells = []
        for name, res in columns.items():
            r = res[f]
            totals[name].update({"tp": r["tp"], "fp": r["fp"], "fn": r["fn"]})
            p = r["tp"] / (r["tp"] + r["fp"]) if r["tp"] + r["fp"] else float("nan")
            rc = r["tp"] / (r["tp"] + r["fn"]) if r["tp"] + r["fn"] else float("nan")
            cells.append(f"{p:>16.2f}{rc:>7.2f}{r['tp'] + r['fp']:>5}")
        lines.append(f"{f:<17}" + "".join(cells))
    cells = []
    for name in columns:
        t = totals[name]
        p = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else float("nan")
        rc = t["tp"] / (t["tp"] + t["fn"]) if t["tp"] + t["fn"] else float("nan")
        cells.append(f"{p:>16.2f}{rc:>7.2f}{t['tp'] + t['fp']:>5}")
    lines.append(f"{'all values':<17}" + "".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table; --errors FIELD lists that field's wrong and missed values."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="store_true", help="ask the real model (minutes) for a rules+model column")
    ap.add_argument("--cached", action="store_true", help="the rules+model column from saved replies")
    ap.add_argument("--replies", type=Path, default=REPLIES, help="where the model's replies are saved")
    ap.add_argument("--parallel", type=int, default=2, help="engine slots")
    ap.add_argument("--limit", type=int, help="only the first N abstracts (a quick look)")
    ap.add_argument("--max-tokens", type=int, default=400,
                    help="per reply (the real-model tests' 400: a 135M model often runs on)")
    ap.add_argument("--errors", metavar="FIELD", help="list wrong and missed values of a field")
    ap.add_argument("--column", default="rules", help="the column --errors lists (default rules)")
    args = ap.parse_args(argv)
    rows = load_rows()[:args.limit]
    gold_n = sum(len(values(r["id"], r["claims"])) for r in rows)
    started = time.perf_counter()
    columns = {"rules": run(rows, rules_claims)}
    took = time.perf_counter() - started
    print(f"{len(rows)} labelled abstracts, {gold_n} labelled values; rules in {took * 1000:.0f} ms")
    if args.model or args.cached:
        saved = (model_replies(rows, args.replies, args.parallel, args.max_tokens) if args.model
                 else json.loads(args.replies.read_text(encoding="utf-8")))
        replies = saved["replies"]
        rows = [r for r in rows if r["id"] in replies]
        fails = Counter(str(r["failure"]) for r in replies.values() if r["failure"])
        refused = ", ".join(f"{k} {n}" for k, n in fails.most_common()) or "none"
        model_of = {r["id"]: reply_claims(r, replies.get(r["id"], {}), saved["model"]) for r in rows}
        print(f"model {saved['model']}: {len(replies)} calls in {saved['seconds']:.0f} s; "
              f"summaries refused: {sum(fails.values())} ({refused}); "
              f"claims returned and grounded: {sum(len(v) for v in model_of.values())} in "
              f"{sum(1 for v in model_of.values() if v)} abstracts; values dropped by validation: "
              f"{sum(len(r['dropped']) for r in replies.values())}")
        if len(rows) < len(load_rows()):  # a run cut short: every column on the same abstracts
            print(f"(the {len(rows)} abstracts the model answered so far, "
                  f"{sum(1 for r in rows if r['claims'])} of them with labelled claims; "
                  "run --model again to go on)")
            columns = {"rules": run(rows, rules_claims)}
        columns["model only"] = run(rows, lambda r: model_of[r["id"]])
        columns["rules+model"] = run(rows, lambda r: claims_mod.merge(
            [g for g in (claims_mod.grounded(c, r["abstract"]) for c in rules_claims(r)) if g],
            model_of[r["id"]]))
    print(table(columns))
    if args.errors:
        res = columns[args.column][args.errors]
        text = {r["id"]: r["abstract"] for r in rows}
        for kind in ("wrong", "missed"):
            print(f"\n{kind}:")
            for pid, _f, span, value in res[kind]:
                a, b = span
                print(f"  {pid} {text[pid][a:b]!r} {json.dumps(value)}   ...{text[pid][max(0, a - 50):b + 40]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
