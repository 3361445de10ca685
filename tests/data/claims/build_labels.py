"""Write labels.jsonl from the hand labels in hand_labels.py, computing and checking every span.

Run from the repo root:  .venv/bin/python tests/data/claims/build_labels.py

A label names each value by the exact text it comes from (`F(value, text, after=ANCHOR, nth=N)`):
the span is the Nth occurrence of `text` at or after the first occurrence of ANCHOR. The script
fails if a text or anchor is missing, so spans can't drift. Labels are decided by reading the
abstract; this script only turns them into offsets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from hand_labels import LABELS  # noqa: E402
from select_abstracts import papers  # noqa: E402

FIELDS = {"precision_bits", "sparsity", "speedup", "memory_reduction", "size_reduction",
          "accuracy_change", "model", "model_size", "hardware", "baseline"}
TECHNIQUES = {"pruning", "quantization", "kv-cache", "sparsity", "other", None}
METRICS = {"throughput", "latency", "TTFT", "training", "unspecified"}


def locate(abstract: str, text: str, after: str | None, nth: int) -> int:
    start = 0
    if after is not None:
        start = abstract.find(after)
        if start < 0:
            raise ValueError(f"anchor {after!r} not in abstract")
    pos = abstract.find(text, start)
    for _ in range(nth):
        if pos < 0:
            break
        pos = abstract.find(text, pos + 1)
    if pos < 0:
        raise ValueError(f"text {text!r} (after={after!r}, nth={nth}) not in abstract")
    return pos


def main() -> None:
    by_id = {}
    for src, p in papers():
        by_id.setdefault(p.id, (src, p))
    out, seen = [], set()
    for lab in LABELS:
        pid = lab["id"]
        assert pid not in seen, f"duplicate label {pid}"
        seen.add(pid)
        src, p = by_id[pid]
        abstract = p.abstract
        assert abstract == " ".join(abstract.split())
        claims = []
        for c in lab["claims"]:
            assert c["technique"] in TECHNIQUES, c
            fields = {}
            for name, f in c["fields"].items():
                assert name in FIELDS, name
                try:
                    s = locate(abstract, f["text"], f.get("after"), f.get("nth", 0))
                except ValueError as e:
                    raise SystemExit(f"{pid} {name}: {e}") from None
                e = s + len(f["text"])
                if name == "speedup":
                    assert f["value"]["metric"] in METRICS, (pid, f)
                fields[name] = {"value": f["value"], "span": [s, e], "text": abstract[s:e]}
            assert fields, f"{pid}: a claim with no fields"
            claims.append({"technique": c["technique"], "subkind": c["subkind"], "fields": fields})
        out.append({"id": pid, "source": src, "title": p.title, "abstract": abstract,
                    "claims": claims, "note": lab.get("note", "")})
    with open(HERE / "labels.jsonl", "w", encoding="utf-8") as fh:
        for row in out:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    n_claims = sum(len(r["claims"]) for r in out)
    print(f"{len(out)} abstracts, {sum(1 for r in out if r['claims'])} with claims, {n_claims} claims")


if __name__ == "__main__":
    main()
