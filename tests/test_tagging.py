"""Unit tests: word-aware topic matching and highlighting (pure functions, no I/O)."""

from __future__ import annotations

from pathlib import Path

import pytest
from arxiv_digest.core.errors import ConfigError
from arxiv_digest.core.settings import Term, Topic, load_settings, parse_topics
from arxiv_digest.enrich.tagging import Tagger
from arxiv_digest.site.render import highlight

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_settings({"ARXIV_DIGEST_CONFIG": str(ROOT / "digest.yaml")}).topics)


def words(tagger: Tagger, text: str) -> list[tuple[str, str]]:
    return [(text[s.start:s.end], s.topic) for s in tagger.spans(text)]


def test_sentence_start_capitals_match(tagger: Tagger) -> None:
    text = "Sparse attention helps. Pruning too. Quantization as well."
    assert words(tagger, text) == [
        ("Sparse", "sparsity"), ("Pruning", "pruning"), ("Quantization", "quantization"),
    ]


def test_inflected_word_is_bolded_whole(tagger: Tagger) -> None:
    text = "weights are quantized and pruned"
    assert highlight(text, tagger.spans(text)) == (
        'weights are <strong class="kw" data-tag="quantization">quantized</strong> and '
        '<strong class="kw" data-tag="pruning">pruned</strong>'
    )


def test_no_match_inside_a_longer_word() -> None:
    t = Tagger([Topic("quantization", (Term("quantize"),))])
    assert words(t, "we quantized it; we quantize it; requantize") == [("quantize", "quantization")]


def test_case_sensitive_kv(tagger: Tagger) -> None:
    assert words(tagger, "KV reuse on a KVM host, kv") == [("KV", "kv-cache")]


def test_multi_word_terms_with_hyphens_or_spaces(tagger: Tagger) -> None:
    text = "a key-value cache, key value caches and the KV-cache"
    assert [w for w, _ in words(tagger, text)] == ["key-value cache", "key value caches", "KV-cache"]


def test_exclude_terms_cancel_overlapping_matches() -> None:
    t = Tagger([Topic("sparsity", (Term("spars*"),), exclude=(Term("sparse reward*"),))])
    assert words(t, "sparse rewards in RL") == []
    assert words(t, "sparse rewards and sparse experts") == [("sparse", "sparsity")]


def test_words_of_a_mention_are_still_bolded(tagger: Tagger) -> None:
    # "sparse rewards" is not about model sparsity, but the word is still shown
    assert words(tagger, "sparse rewards in RL") == [("sparse", "sparsity")]
    assert tagger.tag("Exploration under sparse rewards", "Agents learn from sparse rewards.") == {}


def test_math_is_never_highlighted(tagger: Tagger) -> None:
    text = r"We prune $W_{\text{sparse}}$ and $$\text{quantized}$$ weights"
    spans = tagger.spans(text)
    assert [text[s.start:s.end] for s in spans] == ["prune"]
    html = highlight(text, spans)
    assert r"$W_{\text{sparse}}$" in html and r"$$\text{quantized}$$" in html


def test_highlight_escapes_untrusted_text(tagger: Tagger) -> None:
    text = '<script>alert("sparse")</script> & sparse'
    html = str(highlight(text, tagger.spans(text)))
    assert "<script>" not in html
    assert html.startswith("&lt;script&gt;alert(&#34;")
    assert html.endswith('&amp; <strong class="kw" data-tag="sparsity">sparse</strong>')


def test_tag_collects_matched_words_of_the_topics_the_text_is_about(tagger: Tagger) -> None:
    title, abstract = "Sparse and Quantized LLMs", "We prune, quantize and use a KV cache."
    assert tagger.tag(title, abstract) == {
        "pruning": ("prune",),  # one match is enough: the paper is about sparsity (related)
        "quantization": ("Quantized", "quantize"),
        "sparsity": ("Sparse",),
    }
    decided = tagger.decide(title, abstract)
    assert decided["pruning"].reasons == ("about sparsity, 1 occurrence",)
    assert decided["kv-cache"].tier == "mentions"  # once, in passing
    assert decided["kv-cache"].terms == ("KV cache",)


def test_topic_config_errors_name_file_key_and_expectation() -> None:
    with pytest.raises(ConfigError, match=r"t\.yaml: topics\.pruning\.terms: expected a non-empty list"):
        parse_topics({"pruning": {"terms": []}}, "t.yaml")
    with pytest.raises(ConfigError, match=r"topics\.kv\.terms\[1\]: expected a string or a mapping"):
        parse_topics({"kv": ["KV cache", 3]}, "t.yaml")
    with pytest.raises(ConfigError, match=r"topics\.kv\.terms\[0\]\.case_sensitive: expected true or false"):
        parse_topics({"kv": [{"term": "KV", "case_sensitive": "yes"}]}, "t.yaml")
    with pytest.raises(ConfigError, match=r"t\.yaml: topics\.KV Cache: expected a lower-case name"):
        parse_topics({"KV Cache": ["kv"]}, "t.yaml")
