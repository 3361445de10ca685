"""Precision and recall of the topic decision on the hand-labelled set (tests/data/topics).

Columns, per topic and micro-averaged over the four topics ("about" is the positive class):
  old     the word match shipped before issue 9: any term match tags the paper;
  new     the offline decision (enrich.topics, digest.yaml's rules): only "about" tags it;
  +model  the decision after a model's verdicts, read from --verdicts FILE (JSON lines of
          {"id", "topic", "about": true/false}); with --oracle the labels themselves are used as
          the verdicts, which measures the ceiling a perfect model could reach on top of the terms
          (it can only re-decide topics a term matched).
  +server the same, with the verdicts a model gives through the real summarize stage: summary.v3
          over litellm and HTTP to the local test server (tests/llm_server.py) on 127.0.0.1, which
          answers `echo` (it agrees with the keyword rules: a plumbing check, the column equals
          "new") or `oracle` (it answers from the labels: the ceiling through the real path). Only
          listed papers are summarized, so a model can raise precision here, not recall.
Also prints the time to decide the shipped 513-paper day.

Run: .venv/bin/python bench/bench_topics.py [--errors] [--verdicts FILE | --oracle |
     --server echo|oracle]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from arxiv_digest.core.models import Paper  # noqa: E402
from arxiv_digest.core.settings import load_settings, parse_topics  # noqa: E402
from arxiv_digest.enrich.tagging import Tagger  # noqa: E402
from arxiv_digest.enrich.topics import apply_verdict  # noqa: E402

LABELS = ROOT / "tests/data/topics/labels.jsonl"
DAY = ROOT / "content/digests/2024/2024-11-28.json"
# The topics as shipped before issue 9: every match of a term tagged the paper.
OLD_TOPICS = {
    "pruning": {"terms": ["prun*"]},
    "quantization": {"terms": ["quantiz*", "low-bit", "int4", "int8", "fp8", "fp4", "binarized",
                               "ternary weight*"]},
    "kv-cache": {"terms": ["KV cache*", "key-value cache*", "KV-caching",
                           {"term": "KV", "case_sensitive": True}]},
    "sparsity": {"terms": ["spars*"], "exclude": ["sparse reward*", "sparse-view*", "sparse view*"]},
}

Predict = Callable[[Mapping[str, object]], set[str]]


def load_labels(path: Path = LABELS) -> list[dict[str, object]]:
    """The labelled papers."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def paper_of(row: Mapping[str, object]) -> Paper:
    """A Paper for a labelled row (only the text matters to the decision)."""
    return Paper(id=str(row["id"]), version=1, title=str(row["title"]), authors=(),
                 abstract=str(row["abstract"]), categories=tuple(row.get("categories") or ()),  # type: ignore[arg-type]
                 primary_category="", announce_type="new")


def scores(rows: Iterable[Mapping[str, object]], predict: Predict, topics: list[str]
           ) -> dict[str, tuple[int, int, int]]:
    """topic -> (true positives, false positives, false negatives), plus "micro"."""
    out = {t: [0, 0, 0] for t in topics}
    for row in rows:
        labels = row["labels"]
        assert isinstance(labels, Mapping)
        got = predict(row)
        for t in topics:
            gold = labels.get(t) == "about"
            hit = t in got
            out[t][0] += gold and hit
            out[t][1] += hit and not gold
            out[t][2] += gold and not hit
    micro = [sum(v[i] for v in out.values()) for i in range(3)]
    res = {t: (v[0], v[1], v[2]) for t, v in out.items()}
    res["micro"] = (micro[0], micro[1], micro[2])
    return res


def pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    """(precision, recall); 1.0 when there is nothing to count."""
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r


def predictors(verdicts: Mapping[tuple[str, str], bool] | None
               ) -> dict[str, Predict]:
    """The columns: old word match, new decision, and (with verdicts) the decision after them."""
    settings = load_settings({"ARXIV_DIGEST_CONFIG": str(ROOT / "digest.yaml")})
    old = Tagger(parse_topics(OLD_TOPICS, "bench"))
    new = Tagger(settings.topics)
    out: dict[str, Predict] = {
        "old": lambda r: {s.topic for text in (str(r["title"]), str(r["abstract"]))
                          for s in old.spans(text)},
        "new": lambda r: set(new.about(paper_of(r))),
    }
    if verdicts is not None:
        def with_model(r: Mapping[str, object]) -> set[str]:
            paper = new.tag_paper(paper_of(r))
            for topic in settings.topics:
                v = verdicts.get((str(r["id"]), topic.name))
                if v is not None:
                    paper = apply_verdict(paper, topic, v, by="bench")
            return set(new.about(paper))
        out["+model"] = with_model
    return out


def server_verdicts(rows: list[dict[str, object]], mode: str) -> dict[tuple[str, str], bool]:
    """Verdicts from the summarize stage run against the local test server (see --server)."""
    import os
    import tempfile

    import yaml

    sys.path.insert(0, str(ROOT / "tests"))
    from arxiv_digest.core.models import Digest
    from arxiv_digest.summarize import make_summarizer
    from llm_server import LLMServer, default_answer, offered_topics

    labels = {str(r["id"]): r["labels"] for r in rows}

    def answer(kind: str, key: str, user: str) -> dict[str, object]:
        reply = default_answer(kind, key, user)
        if kind == "summary" and mode == "oracle":
            gold = labels.get(key)
            reply["topics"] = [{"topic": t, "why": "the label says so",
                                "about": isinstance(gold, Mapping) and gold.get(t) == "about"}
                               for t, _ in offered_topics(user)]
        return reply

    server = LLMServer()
    server.answer = answer
    api_base = server.start()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-local-test-server")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            raw = yaml.safe_load((ROOT / "digest.yaml").read_text(encoding="utf-8"))
            raw["llm"] = {**raw["llm"], "model": "openai/bench", "api_base": api_base,
                          "briefing": False, "daily_budget_usd": None, "concurrency": 8}
            config = Path(tmp) / "digest.yaml"
            config.write_text(yaml.safe_dump(raw), encoding="utf-8")
            (Path(tmp) / "content").mkdir()
            settings = load_settings({"PATH": str(Path(tmp) / "content"),
                                      "ARXIV_DIGEST_CONFIG": str(config)})
            papers = tuple(paper_of(r) for r in rows)
            day = Digest("2024-11-28", ("cs.LG",), "rss", papers, {"new": len(papers)})
            started = time.perf_counter()
            done = make_summarizer(settings).summarize(day)
            took = time.perf_counter() - started
    finally:
        server.stop()
    out = {}
    for p in done.papers:
        for topic, v in ((p.summary or {}).get("verdicts") or {}).items():
            out[(p.id, topic)] = bool(v["about"])
    print(f"local test server ({mode}): {server.count('summary')} summary calls over HTTP, "
          f"{len(out)} verdicts, {took:.1f} s")
    return out


def main() -> None:
    """Print the table (and, with --errors, every disagreement with the labels)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--errors", action="store_true", help="list the papers the new decision gets wrong")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--verdicts", type=Path, help="JSON lines {id, topic, about} from a model")
    g.add_argument("--oracle", action="store_true", help="use the labels as the model's verdicts")
    g.add_argument("--server", choices=("echo", "oracle"),
                   help="verdicts from summary.v3 through litellm to the local test server")
    args = ap.parse_args()
    rows = load_labels()
    topics = list(OLD_TOPICS)
    verdicts: dict[tuple[str, str], bool] | None = None
    if args.oracle:
        verdicts = {(str(r["id"]), t): v == "about" for r in rows
                    for t, v in r["labels"].items()}  # type: ignore[union-attr]
    elif args.server:
        verdicts = server_verdicts(rows, args.server)
    elif args.verdicts:
        verdicts = {}
        for line in args.verdicts.read_text(encoding="utf-8").splitlines():
            if line.strip():
                v = json.loads(line)
                verdicts[(str(v["id"]), str(v["topic"]))] = bool(v["about"])
    cols = predictors(verdicts)
    table = {name: scores(rows, fn, topics) for name, fn in cols.items()}
    print(f"{len(rows)} labelled papers; positives: "
          + ", ".join(f"{t} {table['old'][t][0] + table['old'][t][2]}" for t in topics))
    print(f"{'topic':14}" + "".join(f"{name + ' P':>10}{name + ' R':>10}" for name in cols))
    for t in (*topics, "micro"):
        cells = ""
        for name in cols:
            p, r = pr(*table[name][t])
            cells += f"{p:10.2f}{r:10.2f}"
        print(f"{t:14}{cells}")
    if args.errors:
        new = cols["new"]
        for r in rows:
            got = new(r)
            labels = r["labels"]
            assert isinstance(labels, Mapping)
            for t in topics:
                gold = labels[t] == "about"
                if gold != (t in got):
                    kind = "FN" if gold else "FP"
                    print(f"\n{kind} {t} {r['id']} [{labels[t]}] {r['title']}\n   note: {r.get('note')}")
    settings = load_settings({"ARXIV_DIGEST_CONFIG": str(ROOT / "digest.yaml")})
    tagger = Tagger(settings.topics)
    day = json.loads(DAY.read_text(encoding="utf-8"))
    papers = [replace(paper_of(p), id=p["id"]) for p in day["papers"]]
    t0 = time.perf_counter()
    for p in papers:
        tagger.tag_paper(p)
    print(f"\ndecided {len(papers)} papers of {DAY.name} in {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()
