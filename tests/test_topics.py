"""The topic decision (enrich.topics): about vs mentions, measured on hand-labelled real papers,
its context rules, the evidence stored in day files, model verdicts, real volume, hostile text."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from arxiv_digest.core.errors import ConfigError
from arxiv_digest.core.models import Digest, Paper
from arxiv_digest.core.settings import DigestSettings, Term, Topic, load_settings, parse_topics
from arxiv_digest.enrich.tagging import Tagger
from arxiv_digest.enrich.topics import (
    ABOUT,
    MENTIONS,
    TopicDecider,
    apply_verdict,
    decisions_of,
    definitions,
    verdict_key,
)
from arxiv_digest.site.render import day_view
from arxiv_digest.update.fetch import parse_rss
from arxiv_digest.update.normalize import normalize
from arxiv_digest.update.pipeline import tag_papers

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests/data/topics/labels.jsonl"
FEED = ROOT.parent / "shared/fixtures/arxiv/rss_all-archives_2024-11-28.xml"
DAY = ROOT / "content/digests/2024/2024-11-28.json"
TOPICS = ("pruning", "quantization", "kv-cache", "sparsity")


@pytest.fixture(scope="module")
def settings() -> DigestSettings:
    return load_settings({"ARXIV_DIGEST_CONFIG": str(ROOT / "digest.yaml")})


@pytest.fixture(scope="module")
def tagger(settings: DigestSettings) -> Tagger:
    return Tagger(settings.topics)


def paper(title: str, abstract: str, pid: str = "2411.00001", **kw: object) -> Paper:
    return Paper(id=pid, version=1, title=title, authors=("A",), abstract=abstract,
                 categories=("cs.LG",), primary_category="cs.LG", announce_type="new", **kw)  # type: ignore[arg-type]


def tiers(tagger: TopicDecider, title: str, abstract: str = "") -> dict[str, str]:
    return {n: d.tier for n, d in tagger.decide(title, abstract).items()}


# --- measured on the labelled set -------------------------------------------------------------

def test_offline_precision_and_recall_on_the_labelled_set(tagger: Tagger) -> None:
    """445 real papers labelled by hand (tests/data/topics/README.md); "about" is the positive."""
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) == 445
    tp = fp = fn = 0
    per_topic = {t: [0, 0, 0] for t in TOPICS}
    for r in rows:
        got = set(tagger.about(paper(r["title"], r["abstract"], r["id"])))
        for t in TOPICS:
            gold = r["labels"][t] == ABOUT
            cell = per_topic[t]
            cell[0] += gold and t in got
            cell[1] += t in got and not gold
            cell[2] += gold and t not in got
    tp, fp, fn = (sum(c[i] for c in per_topic.values()) for i in range(3))
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    detail = {t: tuple(c) for t, c in per_topic.items()}
    assert precision >= 0.90, f"micro precision {precision:.2f} (tp, fp, fn per topic: {detail})"
    assert recall >= 0.95, f"micro recall {recall:.2f} (tp, fp, fn per topic: {detail})"


# --- the rules --------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "abstract", "reason"), [
    ("Exploration with sparse rewards", "Agents face sparse rewards in long tasks.", "sparse rewards"),
    ("Sparse-view 3D reconstruction", "We reconstruct scenes from sparse views.", "sparse views"),
    ("Learning from sparse and noisy observations", "We study data sparsity.", "sparse data"),
    ("Completing sparse LiDAR point clouds", "Sparse point clouds are densified.", "sparse 3D inputs"),
    ("Sparse autoencoders find features", "We train sparse autoencoders on LLM activations.",
     "sparse autoencoders"),
])
def test_sparse_in_another_sense_is_a_mention(tagger: Tagger, title: str, abstract: str,
                                              reason: str) -> None:
    d = tagger.decide(title, abstract)["sparsity"]
    assert d.tier == MENTIONS
    assert any(r.startswith(f"excluded: {reason}") for r in d.reasons), d.reasons


def test_sparse_computation_is_about_sparsity(tagger: Tagger) -> None:
    assert tiers(tagger, "Block-sparse attention for fast LLM decoding")["sparsity"] == ABOUT
    assert tiers(tagger, "On the training of transformers",
                 "We propose N:M sparsity for transformer weights.")["sparsity"] == ABOUT
    # a general adjective without any sense around it does not count
    d = tagger.decide("Sparse preconditioning for predictive control", "A neural solver.")
    assert d["sparsity"].tier == MENTIONS
    assert d["sparsity"].reasons == ("no sparsity context around sparse",)


def test_mixture_of_experts_counts_only_when_framed_as_sparse_computation(tagger: Tagger) -> None:
    framed = "We study mixture-of-experts LLMs with few activated parameters per token."
    assert tiers(tagger, "Mixture-of-Experts at scale", framed)["sparsity"] == ABOUT
    plain = "We fuse aligned LLMs into a mixture-of-experts for helpfulness."
    d = tagger.decide("Mixture-of-Experts fusion", plain)["sparsity"]
    assert d.tier == MENTIONS and "not framed as sparsity" in d.reasons[0]


def test_quantization_senses(tagger: Tagger) -> None:
    llm = "We propose 4-bit post-training quantization of LLM weights and activations."
    assert tiers(tagger, "Low-bit LLM inference", llm)["quantization"] == ABOUT
    vq = "We introduce a tokenizer whose vector quantization uses a large codebook for transformers."
    assert tiers(tagger, "Factorized visual tokenization", vq)["quantization"] == MENTIONS
    physics = "We study the canonical quantization of the field and the quantized Hall conductance."
    d = tagger.decide("Quantization of gauge fields", physics)["quantization"]
    assert d.reasons == ("excluded: physics quantization x3",)
    d = tagger.decide("An 8-bit microcontroller", "We design an 8-bit microcontroller.")["quantization"]
    assert d.tier == MENTIONS and d.reasons[0] == "no model context"
    # unambiguous precision terms carry their own sense
    assert tiers(tagger, "Llama-1B-INT4: a compact guard", "Runs at 30 tokens per second.") == {
        "quantization": ABOUT}


def test_pruning_senses(tagger: Tagger) -> None:
    assert tiers(tagger, "Structured pruning of LLM channels",
                 "We prune attention heads of a transformer.")["pruning"] == ABOUT
    search = "We prune the search tree of a planner with learned heuristics for LLM agents."
    d = tagger.decide("Faster planning", search)["pruning"]
    assert d.tier == MENTIONS and d.reasons == ("excluded: search pruning",)
    data = "Dataset pruning selects training examples for a neural network."
    assert tiers(tagger, "Data pruning for robust training", data)["pruning"] == MENTIONS


def test_kv_cache(tagger: Tagger) -> None:
    assert tiers(tagger, "Evicting KV cache entries in LLM decoding")["kv-cache"] == ABOUT
    d = tagger.decide("A fast KV store", "Our KV store serves LLM embeddings with low latency.")
    assert d["kv-cache"].tier == MENTIONS


def test_position_and_count(tagger: Tagger) -> None:
    ctx = "A transformer model. "
    once = ctx + "Results hold. Weight pruning is a common baseline we compare with."
    assert tagger.decide("A study of attention", once)["pruning"].reasons == (
        "1 occurrence, not in the title or contribution sentence",)
    contribution = ctx + "In this paper, we propose a weight pruning method for transformers."
    assert tagger.decide("A study", contribution)["pruning"].reasons == ("contribution sentence",)
    thrice = ctx + "Weight pruning helps. Channel pruning too. Head pruning as well."
    assert tagger.decide("A study", thrice)["pruning"].reasons == ("3 occurrences",)
    first = "Weight pruning shrinks transformer models. Results hold. Head pruning too."
    assert tagger.decide("A study", first)["pruning"].reasons == ("first sentence, 2 occurrences",)


def test_context_stops_at_the_clause_and_a_tie_excludes() -> None:
    topic = Topic("sparsity", (Term("spars*", needs_context=True),), confirm=(Term("attention"),),
                  not_about=(("sparse rewards", (Term("reward*"),)),), window=3)
    t = TopicDecider([topic])
    # "attention" is in the next sentence: no context, so no count
    assert t.decide("Sparse. Attention", "")["sparsity"].reasons[0].startswith("no sparsity context")
    # equally near on both sides: the other sense wins
    assert t.decide("reward sparse attention", "")["sparsity"].reasons == (
        "excluded: sparse rewards",)
    assert t.decide("sparse attention for reward models", "")["sparsity"].tier == ABOUT


def test_definitions_are_shipped_and_reach_the_prompt(settings: DigestSettings) -> None:
    assert [t.name for t in settings.topics] == list(TOPICS)
    for t in settings.topics:
        assert len(t.definition) > 80 and "Not" in t.definition, t.name
    text = definitions(settings.topics)
    assert text.splitlines()[0].startswith("- pruning: Removing parameters")


@pytest.mark.parametrize(("body", "message"), [
    ({"terms": ["x"], "definition": 3}, r"t\.yaml: topics\.p\.definition: expected a string"),
    ({"terms": ["x"], "not_about": ["a"]}, r"topics\.p\.not_about: expected a mapping of label"),
    ({"terms": ["x"], "not_about": {"a": []}}, r"topics\.p\.not_about\.a: expected a non-empty list"),
    ({"terms": ["x"], "window": 99}, r"topics\.p\.window: expected an integer from 0 to 20"),
    ({"terms": ["x"], "min_occurrences": 0}, r"topics\.p\.min_occurrences: expected an integer"),
    ({"terms": ["x"], "related": ["nope"]}, r"topics\.p\.related: expected names of other topics"),
    ({"terms": [{"term": "x", "needs_context": "y"}]},
     r"topics\.p\.terms\[0\]\.needs_context: expected true or false"),
    ({"terms": [{"term": "x", "requires": "y"}]}, r"topics\.p\.terms\[0\]\.requires: expected a list"),
    ({"terms": ["x"], "confirms": []}, r"topics\.p: expected only the keys 'terms', 'exclude'"),
])
def test_rule_config_errors_name_file_key_and_expectation(body: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_topics({"p": body, "q": ["y"]}, "t.yaml")


# --- stored at update, decided again at build -------------------------------------------------

def test_tag_paper_stores_tiers_and_evidence_and_round_trips(tagger: Tagger) -> None:
    p = tagger.tag_paper(paper("Sparse-view NeRF with 4-bit LLM weights",
                               "We propose 4-bit quantization of LLM weights for sparse views."))
    assert p.tags == {"quantization": ("4-bit", "quantization")}
    assert p.topics["sparsity"]["tier"] == MENTIONS
    assert p.topics["sparsity"]["reasons"] == ["excluded: sparse views x2"]
    assert p.topics["quantization"]["reasons"][:2] == ["title", "contribution sentence"]
    back = Paper.from_dict(json.loads(json.dumps(p.to_dict())))
    assert back == p and decisions_of(back)["sparsity"].tier == MENTIONS


def test_old_day_files_without_decisions_still_load() -> None:
    data = json.loads(DAY.read_text(encoding="utf-8"))
    for p in data["papers"]:
        p.pop("topics", None)
    day = Digest.from_dict(data)
    assert all(p.topics == {} for p in day.papers)


def test_the_build_decides_again_with_the_current_config(settings: DigestSettings) -> None:
    stale = paper("Learning with sparse rewards", "Exploration under sparse rewards in RL.",
                  tags={"sparsity": ("sparse",)})  # tagged by the old word match
    good = paper("Sparse attention for LLMs", "We propose block-sparse attention kernels.",
                 pid="2411.00002")
    day = Digest("2024-11-28", ("cs.LG",), "rss", (stale, good), {"new": 2})
    view = day_view(day, settings)
    assert [v.paper.id for v in view.listed] == ["2411.00002"]
    assert view.listed[0].tags == ("sparsity",) and view.listed[0].mentions == ()
    assert view.listed[0].decisions["sparsity"].explanation.startswith("about: title")
    assert dict(view.topic_counts)["sparsity"] == 1
    # a mention is still bolded in a listed paper
    both = paper("Sparse attention for LLMs", "Unlike sparse rewards, we prune heads of LLMs.",
                 pid="2411.00003")
    v = day_view(replace(day, papers=(both,)), settings).listed[0]
    assert v.mentions == ("pruning",) or "pruning" in v.tags
    assert v.abstract_html.count('class="kw"') == 2


# --- model verdicts ---------------------------------------------------------------------------

def test_a_rejected_topic_becomes_a_mention_and_stays_so_at_build(tagger: Tagger,
                                                                  settings: DigestSettings) -> None:
    sparsity = next(t for t in settings.topics if t.name == "sparsity")
    p = tagger.tag_paper(paper("Sparse attention for LLMs", "We propose sparse attention kernels."))
    assert p.tags.keys() == {"sparsity"}
    rejected = apply_verdict(p, sparsity, False, by="openai/gpt-4o-mini", why="about retrieval")
    assert rejected.tags == {} and rejected.topics["sparsity"]["tier"] == MENTIONS
    verdict = rejected.topics["sparsity"]["verdict"]
    assert verdict == {"about": False, "by": "openai/gpt-4o-mini", "why": "about retrieval",
                       "key": verdict_key(sparsity, p.title, p.abstract)}
    decided = tagger.decide_paper(rejected)  # the build re-decides, then re-applies the verdict
    assert decided["sparsity"].tier == MENTIONS
    assert decided["sparsity"].reasons[0] == "model (openai/gpt-4o-mini): not about, about retrieval"
    # a new version of the abstract voids the verdict
    assert tagger.decide_paper(replace(rejected, abstract=p.abstract + " v2"))["sparsity"].about


def test_a_model_cannot_add_a_topic_but_can_confirm_a_mention(tagger: Tagger,
                                                             settings: DigestSettings) -> None:
    by_name = {t.name: t for t in settings.topics}
    p = tagger.tag_paper(paper("Attention for LLMs", "A transformer. We compare with pruning."))
    assert p.topics["pruning"]["tier"] == MENTIONS
    assert apply_verdict(p, by_name["kv-cache"], True, by="m") is p  # no term matched
    confirmed = apply_verdict(p, by_name["pruning"], True, by="m")
    assert confirmed.tags == {"pruning": ("pruning",)}
    assert tagger.about(confirmed) == ("pruning",)
    # a changed definition voids the verdict too
    other = Tagger([replace(t, definition=t.definition + " More.") for t in settings.topics])
    assert other.about(confirmed) == ()


# --- real volume and hostile text -------------------------------------------------------------

def test_the_real_1504_item_feed_is_decided(tagger: Tagger, settings: DigestSettings) -> None:
    fetched = parse_rss(FEED.read_bytes(), "feed")
    assert len(fetched.records) == 1504
    papers = tag_papers(normalize(fetched.records, []), tagger)
    assert len(papers) > 1400
    decided = [(p, n, d) for p in papers for n, d in decisions_of(p).items()]
    about = [(p, n) for p, n, d in decided if d.about]
    assert 15 <= len(about) < len(decided)  # most matches are only mentions
    assert all((n in p.tags) == d.about and d.reasons and d.terms for p, n, d in decided)
    ours = normalize(fetched.records, settings.categories)
    assert len(ours) == 513 and len(tag_papers(ours, tagger)) == 513


@pytest.mark.parametrize("abstract", [
    "sparse " * 200_000,  # 1.4 MB of one term
    ("we propose <b>sparse</b> <script>alert('x')</script> attention &amp; " * 2000),
    "spa\u200brse atten\u200dtion, \uff53\uff50\uff41\uff52\uff53\uff45, \u202esparse\u202c LLM",
    "$" + "sparse " * 5000,  # an unclosed math dollar
    "key" + "-" * 50_000 + "value cache " + " " * 50_000 + "quantiz",
    "s\u0301parse attention \x00 pruning\ud7ff of LLM weights " * 500,
    "(" * 30_000 + "sparse attention" + ")" * 30_000,
])
def test_hostile_text_is_decided_without_error(tagger: Tagger, abstract: str) -> None:
    p = tagger.tag_paper(paper("Sparse attention " * 300, abstract))
    assert set(p.tags) <= set(p.topics)
    for d in decisions_of(p).values():
        assert d.tier in (ABOUT, MENTIONS) and len(d.terms) < 1000
    assert tagger.spans(abstract) == tagger.spans(abstract)
