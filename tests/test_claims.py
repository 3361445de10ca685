"""Claims extraction (enrich/claims.py): units, ranges, "up to", % versus x, bits, sparsity, context.

Written strings cover what the recorded days lack (W4A8, W4A16, 2:4, 50% sparsity, LLaMA-2-7B,
H100, "compared to FlashAttention"); the labelled set's precision is checked as a floor; the real
1,504-item RSS day runs through the extractor; every stored value is a span of its abstract.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.core.models import Paper
from arxiv_digest.enrich import claims
from arxiv_digest.update import fetch, normalize
from conftest import ROOT

FIXTURE = ROOT.parent / "shared" / "fixtures" / "arxiv" / "rss_all-archives_2024-11-28.xml"


def paper(abstract: str, title: str = "A paper") -> Paper:
    return Paper("2401.00001", 1, title, ("A. Author",), abstract, ("cs.LG",), "cs.LG", "new")


def fields(abstract: str) -> list[dict[str, Any]]:
    """field -> (text, value) of each claim."""
    out = []
    for c in claims.extract(paper(abstract)):
        for item in c["fields"].values():
            a, b = item["span"]
            assert abstract[a:b] == item["text"]  # every value is a span of the abstract
        out.append({f: (v["text"], v["value"]) for f, v in c["fields"].items()})
    return out


def one(abstract: str, field: str) -> tuple[str, Any]:
    found = [c[field] for c in fields(abstract) if field in c]
    assert len(found) == 1, (field, fields(abstract))
    return found[0]


@pytest.mark.parametrize(("text", "span", "factor", "rng", "upto"), [
    ("Our kernel achieves a 2.5x speedup on long prompts.", "2.5x", 2.5, None, False),
    ("It is up to 3.1\u00d7 faster than dense decoding.", "up to 3.1\u00d7", 3.1, None, True),
    ("It gives speedups of 1.4\u201311.2\u00d7 across models.", "1.4\u201311.2\u00d7", 11.2, [1.4, 11.2], False),
    ("It gives speedups of 1.4-11.2x across models.", "1.4-11.2x", 11.2, [1.4, 11.2], False),
    ("Decoding is $2.5\\times$ faster.", "$2.5\\times$", 2.5, None, False),
    ("Inference runs $50$ times faster.", "$50$ times", 50, None, False),
    ("It is 1.7 to 2.25$\\times$ faster than the baseline.", "1.7 to 2.25$\\times$", 2.25, [1.7, 2.25], False),
    ("The system is four times faster.", "four times", 4, None, False),
])
def test_speedup_factors_ranges_and_up_to(text: str, span: str, factor: float, rng: Any, upto: bool) -> None:
    got_text, value = one(text, "speedup")
    assert got_text == span
    assert value["factor"] == factor and value["range"] == rng and value["upto"] is upto


def test_percentages_are_not_factors() -> None:
    _, v = one("Our scheduler reduces latency by up to 65% on real traces.", "speedup")
    assert v == {"factor": None, "metric": "latency", "upto": True, "range": None,
                 "percent_reduction": 65}
    _, v = one("It achieves a 20% speedup on SpecBench.", "speedup")
    assert v["percent_speedup"] == 20 and v["factor"] is None
    text, v = one("The method reduces memory usage by around 50% during inference.", "memory_reduction")
    assert text == "around 50%" and v == {"percent": 50, "qualifier": "around"}
    text, v = one("Training is 3x faster and uses 4x less memory.", "memory_reduction")
    assert v == {"factor": 4} and text == "4x"
    # a latency reduction in % is a speed-up; the metric comes from the words only
    assert one("TTFT is cut by 40% on average.", "speedup")[1]["metric"] == "TTFT"
    # a percentage with nothing saying what it measures is no claim
    assert fields("We reach 85.3% accuracy on ImageNet and 40% on the hard split.") == []


@pytest.mark.parametrize(("text", "span", "value"), [
    ("We quantize to W4A8 and get 2x higher throughput.", "W4A8", {"weights": 4, "activations": 8}),
    ("W4A16 kernels give a 3.2x speedup.", "W4A16", {"weights": 4, "activations": 16}),
    ("INT4 weights give a 3x speedup over FP16.", "INT4", "INT4"),
    ("With 4-bit weights, decoding is 2.1x faster.", "4-bit", {"weights": 4}),
    ("A 2-bit KV cache cuts memory by 80%.", "2-bit", {"kv": 2}),
    ("NF4 storage saves 70% of GPU memory.", "NF4", "NF4"),
    ("Serving in FP8 is 1.5x faster.", "FP8", "FP8"),
])
def test_bits_and_formats(text: str, span: str, value: Any) -> None:
    assert one(text, "precision_bits") == (span, value)


def test_a_format_named_alone_or_as_the_baseline_is_no_precision_claim() -> None:
    assert fields("FP8 is supported in NVIDIA H100 Tensor Cores.") == []
    c = fields("Our INT8 kernels are 2x faster than FP16.")[0]
    assert c["precision_bits"] == ("INT8", "INT8") and c["baseline"] == ("FP16", "FP16")


def test_sparsity_percent_and_n_m() -> None:
    got = fields("We prune LLaMA-2-7B to 2:4 sparsity and 50% unstructured sparsity, "
                 "a 1.6x speedup on an A100 GPU.")
    sparsity = [c["sparsity"] for c in got if "sparsity" in c]
    assert ("2:4", "2:4") in sparsity
    assert ("50%", {"percent": 50}) in sparsity
    assert all(c.get("model") == ("LLaMA-2-7B", "LLaMA-2-7B") for c in got)
    assert all(c.get("model_size") == ("7B", "7B") for c in got)
    assert all(c.get("hardware") == ("A100 GPU", "A100 GPU") for c in got)
    assert fields("The ratio is 3:4 in our data set.") == []


def test_model_hardware_and_baseline() -> None:
    c = fields("On NVIDIA H100 GPUs, LLaMA-2-7B decodes 2.3x faster compared to FlashAttention.")[0]
    assert c["hardware"][0] == "NVIDIA H100 GPUs"
    assert c["model"][0] == "LLaMA-2-7B" and c["model_size"][0] == "7B"
    assert c["baseline"][0] == "FlashAttention"
    # a device compared against is the baseline, not the hardware
    c = fields("Our accelerator is 12x faster than the A100 GPU.")[0]
    assert c.get("baseline") == ("A100 GPU", "A100 GPU") and "hardware" not in c
    # a generic comparison names no baseline
    assert "baseline" not in fields("It is 2x faster than state-of-the-art baselines.")[0]
    # a model named without an efficiency number is not recorded
    assert fields("We fine-tune Qwen2.5-7B-Instruct for reasoning and reach 71% on GSM8K.") == []


def test_numbers_that_look_like_claims_but_are_not() -> None:
    for text in ("Images are resized to 256x256 and 1x1 convolutions are used.",
                 "We use 5-fold cross-validation and 10-fold splits.",
                 "It generates 30 tokens per second and a TTFT of 2.5 seconds.",
                 "The dataset has 40K frames at 4K resolution on a 7nm node.",
                 "This needs 40 times less data than prior work."):
        assert fields(text) == [], text


def test_accuracy_change_only_beside_a_saving() -> None:
    got = fields("It is 2x faster with only a 0.32% drop in test accuracy.")
    assert got[0]["accuracy_change"] == ("0.32%", {"delta": -0.32, "unit": "%", "metric": "accuracy"})
    assert fields("It loses 3% accuracy on the hard split.") == []


def test_hostile_abstract_values_are_plain_spans() -> None:
    text = "We are <b>2.5x</b> faster than <script>alert(1)</script>vLLM and save 30% memory."
    got = fields(text)
    assert got and all("<" not in t for c in got for t, _ in c.values())


def test_grounded_drops_values_whose_span_is_not_the_abstract() -> None:
    abstract = "Decoding is 2.5x faster than vLLM."
    record = {"by": "model:x", "technique": "other", "subkind": None, "fields": {
        "speedup": {"value": {"factor": 2.5}, "span": [12, 16], "text": "2.5x"},
        "baseline": {"value": "vLLM", "span": [0, 4], "text": "vLLM"},  # wrong place
        "hardware": {"value": "H100", "span": [40, 44], "text": "H100"}}}  # not in the text
    kept = claims.grounded(record, abstract)
    assert kept is not None and set(kept["fields"]) == {"speedup"}
    record["fields"] = {"baseline": record["fields"]["baseline"]}
    assert claims.grounded(record, abstract) is None


def test_precision_floor_on_the_labelled_set() -> None:
    """bench/bench_claims.py's figures, as a floor: no field under 0.95 precision."""
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_claims

    result = bench_claims.run(bench_claims.load_rows(), bench_claims.rules_claims)
    for field, r in result.items():
        if r["tp"] + r["fp"]:
            assert r["tp"] / (r["tp"] + r["fp"]) >= 0.95, (field, r["wrong"])
    assert sum(r["tp"] for r in result.values()) >= 60


def test_the_real_rss_day_in_reasonable_time() -> None:
    """All 1,504 items of the recorded 20-archive feed: claims for each, every value a span."""
    day = fetch.parse_rss(FIXTURE.read_bytes(), "http://127.0.0.1/rss")
    papers = tuple(normalize.to_paper(r) for r in day.records)
    assert len(papers) == 1504
    started = time.perf_counter()
    out = claims.extract_papers(papers)
    took = time.perf_counter() - started
    assert took < 20, took  # about 1 s on one core; the bound only catches a runaway regex
    found = [(p, c) for p in out for c in p.claims]
    assert len(found) >= 30
    for p, c in found:
        assert json.loads(json.dumps(c)) == c
        for item in c["fields"].values():
            a, b = item["span"]
            assert p.abstract[a:b] == item["text"]


def test_claims_survive_the_day_file(tmp_path: Path) -> None:
    from arxiv_digest.core.models import Digest
    from arxiv_digest.core.store import load, save

    p = claims.extract_papers((paper("Our kernel is 2.5x faster on an H100 GPU."),))[0]
    d = Digest("2024-11-28", ("cs.LG",), "rss", (p,), {"new": 1})
    path = save(tmp_path, d)
    assert load(path).papers[0].claims == p.claims


# --- the model path (summary.v4): validated against the abstract, merged under the rules ----------

MODEL_BY = "model:openai/test"
ABSTRACT = ("We quantize LLaMA-2-7B to 4-bit weights and run it on NVIDIA H100 GPUs, achieving up to "
            "2.4x higher throughput compared to FlashAttention. Our kernels also cut memory by 35% "
            "on the A100.")


def test_model_claims_keep_exact_spans_and_drop_what_the_abstract_does_not_say() -> None:
    from arxiv_digest.summarize.schema import validate_claims

    raw = [
        {"speedup": "up to 2.4x", "hardware": "NVIDIA H100 GPUs", "baseline": "FlashAttention",
         "model": "LLaMA-2-7B", "precision_bits": "4-bit", "model_size": None},
        {"memory_reduction": "35%", "hardware": "A100"},
        # ungrounded: numbers the abstract does not state, names it does not name, markup
        {"speedup": "12.5x", "hardware": "TPU v5"},
        {"speedup": "<script>alert(1)</script> 2.4x", "model": "<img src=x onerror=alert(1)>"},
        {"memory_reduction": "35", "accuracy_change": "35%"},  # no unit; no direction
        {"speedup": "2.4x faster than anything, as the instructions say " * 3},
        {"sparsity": {"percent": 50}, "model": ["LLaMA-2-7B"]},  # not strings
        "2.4x", None, 42,
    ]
    found, dropped = validate_claims(raw, ABSTRACT, MODEL_BY, title="A paper")
    assert [sorted(c["fields"]) for c in found] == [
        ["baseline", "hardware", "model", "precision_bits", "speedup"], ["hardware", "memory_reduction"]]
    for c in found:
        assert c["by"] == MODEL_BY
        for item in c["fields"].values():
            a, b = item["span"]
            assert ABSTRACT[a:b] == item["text"]
    first, second = found
    assert first["fields"]["speedup"]["value"] == {"factor": 2.4, "metric": "throughput", "upto": True,
                                                   "range": None}
    assert first["fields"]["precision_bits"]["value"] == {"weights": 4}
    assert second["fields"]["memory_reduction"]["value"] == {"percent": 35}
    assert second["fields"]["hardware"]["span"][0] > ABSTRACT.index("memory")  # the A100 near it
    assert "claims[2]" in dropped and "claims[3]" in dropped and "claims[4].accuracy_change" in dropped
    assert validate_claims({"speedup": "2.4x"}, ABSTRACT, MODEL_BY) == ([], ["claims"])
    assert validate_claims([{"speedup": "2.4x"}] * 40, ABSTRACT, MODEL_BY)[0].__len__() == 6


def test_rules_win_and_the_merge_is_idempotent() -> None:
    from dataclasses import replace

    from arxiv_digest.summarize.schema import validate_claims

    text = ("We evaluate SmolCache on Mistral-7B. It decodes 2.4x faster than FlashAttention on H100 "
            "GPUs. It keeps the KV cache at 2-bit precision.")
    p = claims.extract_papers((paper(text),))[0]
    rules = [dict(c) for c in p.claims]
    assert [sorted(c["fields"]) for c in rules] == [["baseline", "speedup"]]
    at = text.index("FlashAttention")
    raw = [
        # the rules' speed-up: the model adds the model name (another sentence) the rules left out
        {"speedup": "2.4x", "model": "Mistral-7B", "baseline": "FlashAttention"},
        # the rules read these words as a baseline: a model calling them hardware is overruled
        {"speedup": "2.4x", "hardware": "FlashAttention"},
        # a claim no rule read: stored as the model's own record
        {"precision_bits": "2-bit", "model": "Mistral-7B"},
    ]
    model, _ = validate_claims(raw, text, MODEL_BY)
    summary = {"backend": "litellm", "model": "openai/test", "cache_key": "k", "content_key": "c",
               "fields": {"tldr": "t", "method": "m", "claims": model}}
    stored = replace(p, summaries={"en": summary}) if hasattr(p, "summaries") else replace(p, summary=summary)
    merged = claims.with_model(stored)
    assert claims.with_model(merged).claims == merged.claims  # idempotent
    assert claims.rules_only(merged.claims) == [dict(c, fields=dict(c["fields"])) for c in rules]
    speed = next(c for c in merged.claims if "speedup" in c["fields"])
    assert speed["by"] == f"rules+{MODEL_BY}"
    assert speed["fields"]["model"]["by"] == MODEL_BY and "by" not in speed["fields"]["speedup"]
    for name, item in speed["fields"].items():  # nothing the rules read changed
        if "by" not in item:
            assert next(c for c in rules if "speedup" in c["fields"])["fields"][name] == item
    assert all(item["span"] != [at, at + len("FlashAttention")] or name == "baseline"
               for c in merged.claims for name, item in c["fields"].items())
    own = [c for c in merged.claims if c["by"] == MODEL_BY]
    assert [sorted(c["fields"]) for c in own] == [["model", "precision_bits"]]
    assert own[0]["technique"] == "kv-cache" and own[0]["fields"]["precision_bits"]["value"] == {"bits": 2}
    # a failed or stale record adds nothing; the rules' claims stay
    failed = {**summary, "failure": {"kind": "invalid"}}
    stale = replace(merged, summaries={"en": failed}) if hasattr(p, "summaries") else replace(merged, summary=failed)
    assert claims.with_model(stale).claims == tuple(rules)


def test_model_claims_over_the_real_rss_day() -> None:
    """All 1,504 items: a hostile reply per paper (every number-with-unit of the abstract under
    every field, markup, formulas, numbers it does not state); every stored value is a span,
    nothing ungrounded is stored, the rules' claims are never changed."""
    from dataclasses import replace

    from arxiv_digest.core.models import Digest
    from arxiv_digest.enrich.claim_rules import PCT_RX, TIMES_RX
    from arxiv_digest.summarize.schema import validate_claims

    day = fetch.parse_rss(FIXTURE.read_bytes(), "http://127.0.0.1/rss")
    papers = claims.extract_papers(tuple(normalize.to_paper(r) for r in day.records))
    started = time.perf_counter()
    out = []
    for p in papers:
        figures = [m.group(0) for rx in (TIMES_RX, PCT_RX) for m in rx.finditer(p.abstract)][:4]
        raw: list[dict[str, Any]] = [{f: fig for f in claims.FIELDS} for fig in figures]
        raw += [{"speedup": "<script>alert(1)</script>", "hardware": "=HYPERLINK(\"http://x\")"},
                {"speedup": "987.6x", "memory_reduction": "99.9%", "model": "GPT-9"}]
        found, _ = validate_claims(raw, p.abstract, MODEL_BY, title=p.title)
        summary = {"backend": "litellm", "model": "openai/test", "cache_key": "k", "content_key": "c",
                   "fields": {"tldr": "t", "method": "m", "claims": found}}
        out.append(replace(p, summaries={"en": summary}) if hasattr(p, "summaries")
                   else replace(p, summary=summary))
    merged = claims.apply_model(Digest("2024-11-28", ("cs.LG",), "rss", tuple(out), {"new": len(out)}))
    took = time.perf_counter() - started
    assert took < 30, took  # about 2 s on one core
    added = 0
    for before, after in zip(papers, merged.papers, strict=True):
        assert claims.rules_only(after.claims) == [dict(c, fields=dict(c["fields"])) for c in before.claims]
        for c in after.claims:
            added += c["by"] != "rules"
            for item in c["fields"].values():
                a, b = item["span"]
                assert after.abstract[a:b] == item["text"]
                assert "987.6" not in item["text"] and "GPT-9" not in item["text"]
                assert "<script>" not in item["text"] or "<script>" in after.abstract
    assert added >= 30
    assert claims.apply_model(merged) == merged
