"""Check labels.jsonl on its own: run from the repo root with
    .venv/bin/python tests/data/claims/verify_labels.py

Checks every record's shape, that `abstract` is whitespace-collapsed, that every span gives back its
text (abstract[start:end] == text), the allowed field names and speed-up metrics, and that the
abstracts are exactly the ones select_abstracts.py picks, byte for byte as the pipeline parses them.
Prints the counts the README quotes.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = {"precision_bits", "sparsity", "speedup", "memory_reduction", "size_reduction",
          "accuracy_change", "model", "model_size", "hardware", "baseline"}
TECHNIQUES = {"pruning", "quantization", "kv-cache", "sparsity", "other", None}
METRICS = {"throughput", "latency", "TTFT", "training", "unspecified"}


def main() -> int:
    rows = [json.loads(line) for line in (HERE / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    errors: list[str] = []
    per_field: Counter[str] = Counter()
    per_tech: Counter[str] = Counter()
    ids = set()
    for r in rows:
        pid = r["id"]
        if set(r) != {"id", "source", "title", "abstract", "claims", "note"}:
            errors.append(f"{pid}: keys {sorted(r)}")
        if pid in ids:
            errors.append(f"{pid}: duplicate")
        ids.add(pid)
        a = r["abstract"]
        if a != " ".join(a.split()):
            errors.append(f"{pid}: abstract not whitespace-collapsed")
        for c in r["claims"]:
            if set(c) != {"technique", "subkind", "fields"}:
                errors.append(f"{pid}: claim keys {sorted(c)}")
            if c["technique"] not in TECHNIQUES:
                errors.append(f"{pid}: technique {c['technique']!r}")
            if not c["fields"]:
                errors.append(f"{pid}: claim with no fields")
            per_tech[str(c["technique"])] += 1
            for name, f in c["fields"].items():
                per_field[name] += 1
                if name not in FIELDS:
                    errors.append(f"{pid}: field {name}")
                if set(f) != {"value", "span", "text"}:
                    errors.append(f"{pid}: {name} keys {sorted(f)}")
                s, e = f["span"]
                if not (0 <= s < e <= len(a)) or a[s:e] != f["text"]:
                    errors.append(f"{pid}: {name} span {f['span']} gives {a[s:e]!r}, not {f['text']!r}")
                if f["value"] in (None, "", [], {}):
                    errors.append(f"{pid}: {name} has no value")
                if name == "speedup":
                    v = f["value"]
                    if v.get("metric") not in METRICS or not isinstance(v.get("upto"), bool):
                        errors.append(f"{pid}: speedup value {v}")
                    if v.get("range") is not None and v["factor"] != v["range"][1]:
                        errors.append(f"{pid}: speedup factor is not the top of its range")
    # Same abstracts as the selection, as the pipeline parses them.
    sys.path.insert(0, str(HERE))
    from select_abstracts import papers

    parsed = {}
    for src, p in papers():
        parsed.setdefault(p.id, (src, p))
    for r in rows:
        src, p = parsed.get(r["id"], (None, None))
        if p is None or p.abstract != r["abstract"] or src != r["source"] or p.title != r["title"]:
            errors.append(f"{r['id']}: abstract/source/title differ from the fixture")
    for e in errors:
        print("ERROR", e)
    n_claims = sum(len(r["claims"]) for r in rows)
    print(f"abstracts {len(rows)}, with claims {sum(1 for r in rows if r['claims'])}, "
          f"without {sum(1 for r in rows if not r['claims'])}, claims {n_claims}, "
          f"spans {sum(per_field.values())}")
    print("per field:", dict(sorted(per_field.items())))
    print("per technique:", dict(sorted(per_tech.items())))
    print("per source:", dict(Counter(r["source"] for r in rows)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
