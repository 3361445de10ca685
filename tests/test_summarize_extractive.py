"""The offline extractive backend on real recorded abstracts, and the `llm:` config section.

No server and no key: `update` with no model configured writes extractive summaries, labelled
"extractive", deterministic, and made only of sentences and figures found in the abstract.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from arxiv_digest.cli.commands import main
from arxiv_digest.core import store
from arxiv_digest.core.errors import ConfigError
from arxiv_digest.core.settings import DigestSettings, load_settings
from arxiv_digest.site.render import day_view, render_day
from arxiv_digest.summarize import make_summarizer
from arxiv_digest.summarize.extractive import sentences, summarize_abstract
from arxiv_digest.summarize.schema import ReplyError, parse_reply, validate_scores
from conftest import ROOT, pelican_settings
from lxml import html

REAL_DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"


def flat(text: str) -> str:
    return " ".join(text.split())


def offline_settings(tmp_path: Path, **llm: object) -> DigestSettings:
    raw = yaml.safe_load((ROOT / "digest.yaml").read_text())
    raw["llm"] = {**raw.get("llm", {}), **llm}
    config = tmp_path / "digest.yaml"
    config.write_text(yaml.safe_dump(raw))
    return load_settings(pelican_settings(tmp_path, ARXIV_DIGEST_CONFIG=str(config)), env={})


def recorded_day() -> store.Digest:
    day = store.load(REAL_DAY)
    return replace(day, extra={}).with_papers(tuple(replace(p, summaries={}) for p in day.papers))


def test_extractive_picks_sentences_and_figures_from_the_abstract():
    day = recorded_day()
    papers = [p for p in day.papers if p.tags]
    assert len(papers) == 17  # the papers about a topic (tests/test_topics.py)
    for p in papers:
        f = summarize_abstract(p.title, p.abstract, list(p.tags))
        abstract = flat(p.abstract)
        assert f["tldr"] in sentences(p.abstract) or f["tldr"].endswith("…")
        assert f["headline"] is None or (f["headline"] in abstract and re.search(r"\d", f["headline"]))
        assert f["headline"] != f["tldr"]
        for key in ("speedup", "memory"):
            assert f[key] is None or f[key] in abstract  # found, never made up
        for part in (f["bits_or_sparsity"] or "").split(", "):
            assert part in abstract
        for name in (f["models"] or []) + (f["hardware"] or []):
            assert name in f"{p.title} {abstract}"
        assert f == summarize_abstract(p.title, p.abstract, list(p.tags))  # deterministic


@pytest.mark.parametrize(("pid", "expect"), [
    ("2411.18077", {"tldr": "To tackle the challenge, we introduce MiniKV, a KV cache optimization",
                    "headline": "MiniKV effectively achieves 86% KV cache compression ratio",
                    "bits_or_sparsity": "2-bit", "technique": "kv-cache"}),
    ("2411.18424", {"tldr": "To respond, we introduce FastSwitch", "speedup": "1.4-11.2x"}),
    ("2411.18055", {"speedup": "up to 300x faster", "bits_or_sparsity": "2 bits",
                    "headline": "an average 28.67% energy reduction"}),
    ("2411.17713", {"tldr": "This paper presents Llama Guard 3-1B-INT4", "bits_or_sparsity": "INT4",
                    "memory": "7 times smaller", "technique": "quantization"}),
    ("2411.17796", {"tldr": "We present a neural network pruning technique", "technique": "pruning",
                    "models": ["Mistral", "DeiT"]}),
    ("2406.12315", {"tldr": "To fill this gap, we present the first comprehensive benchmark"}),
])
def test_extractive_on_known_papers(pid, expect):
    p = store.load(REAL_DAY).paper(pid)
    f = summarize_abstract(p.title, p.abstract, list(p.tags))
    for key, value in expect.items():
        if isinstance(value, str) and key in ("tldr", "headline"):
            assert value in f[key], (key, f[key])
        else:
            assert f[key] == value, (key, f[key])


def test_sentence_splitter_keeps_abbreviations_and_decimals():
    text = ("We compare with Smith et al. on 2.5x speed-ups, e.g. on GPUs. Results improve by 3.1%. "
            "The area is not understood.To fill this gap, we present X.")
    assert sentences(text) == [
        "We compare with Smith et al. on 2.5x speed-ups, e.g. on GPUs.",
        "Results improve by 3.1%.",
        "The area is not understood.",
        "To fill this gap, we present X.",
    ]


def test_offline_update_stores_extractive_summaries_briefing_and_a_zero_ledger(tmp_path):
    settings = offline_settings(tmp_path)
    assert settings.llm.backend == "extractive"
    day = make_summarizer(settings).summarize(recorded_day())
    path = store.save(settings.data_dir, day)
    listed = [p for p in day.papers if p.tags]
    assert {p.summary["backend"] for p in listed} == {"extractive"}
    assert all(p.summary["cost_usd"] == 0 and p.summary["prompt_version"] == "extractive.v1"
               for p in listed)
    assert day.extra["ledger"] == {"models": {"extractive": {
        "calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "cost_usd": 0.0}}}
    pruning = day.extra["briefings"]["en"]["topics"]["pruning"]
    assert pruning["backend"] == "extractive"
    assert pruning["text"].startswith(f"{pruning['papers']} new papers on pruning: ")
    # re-running changes nothing, byte for byte
    first = path.read_bytes()
    again = make_summarizer(settings).summarize(store.load(path))
    store.save(settings.data_dir, again)
    assert path.read_bytes() == first

    doc = html.fromstring(render_day(day_view(day, settings), str(ROOT / "theme")))
    card = doc.get_element_by_id("2411.18077")
    summary = card.find_class("summary")[0]
    assert summary.get("data-backend") == "extractive"
    assert summary.find_class("summary-label")[0].text_content() == "Summary · extractive"
    assert "we introduce MiniKV" in summary.find_class("tldr")[0].text_content()
    facts = dict(zip([dt.text_content() for dt in summary.iter("dt")],
                     [dd.text_content() for dd in summary.iter("dd")], strict=True))
    assert facts["Bits / sparsity"] == "2-bit" and facts["Technique"] == "kv-cache"
    briefing = doc.find_class("briefing")[0]
    assert "new papers on pruning:" in briefing.text_content() and "(extractive)" in briefing.text_content()
    ledger = doc.find_class("ledger")[0]  # offline summaries cost nothing: said, not tabled
    assert not list(ledger.iter("table")) and ledger.find_class("offline")


def test_never_summarized_day_shows_summary_pending(tmp_path):
    settings = offline_settings(tmp_path)
    doc = html.fromstring(render_day(day_view(recorded_day(), settings), str(ROOT / "theme")))
    labels = {s.text_content().strip() for s in doc.find_class("summary")}
    assert labels == {"summary pending"}
    assert not doc.find_class("briefing") and not doc.find_class("ledger")


def test_scoring_without_a_model_is_skipped_with_a_warning(tmp_path, caplog):
    settings = offline_settings(tmp_path, scoring={"enabled": True, "interests": "KV caches"})
    day = make_summarizer(settings).summarize(recorded_day())
    assert "scoring is enabled but no llm.model is set" in caplog.text
    assert all("score" not in p.summary for p in day.papers if p.tags)


# --- the llm section of digest.yaml ---------------------------------------------------------


@pytest.mark.parametrize(("llm", "message"), [
    ({"concurrency": 0}, r"digest\.yaml: llm\.concurrency: expected an integer from 1 to 64, got 0"),
    ({"timeout": "soon"}, r"digest\.yaml: llm\.timeout: expected a number from 0\.1 to 600, got 'soon'"),
    ({"daily_budget_usd": -1}, r"digest\.yaml: llm\.daily_budget_usd: expected a number from 0"),
    ({"modle": "x"}, r"digest\.yaml: llm\.modle: expected one of the keys api_base, briefing,"),
    ({"api_key": "sk-x"}, r"digest\.yaml: llm\.api_key: secrets are never read from the config "
                          r"file; set the provider's environment variable instead"),
    ({"api_base": "localhost:8080"}, r"digest\.yaml: llm\.api_base: expected an http\(s\) URL"),
    ({"scoring": {"enabled": True}}, r"digest\.yaml: llm\.scoring\.interests: expected a "
                                     r"description of the reader's interests"),
    ({"prompts": {"summary": "summary.v9"}}, r"digest\.yaml: llm\.prompts\.summary: expected a "
                                             r"prompt file that exists"),
    ({"briefing": "yes"}, r"digest\.yaml: llm\.briefing: expected true or false, got 'yes'"),
])
def test_llm_config_errors_name_the_file_the_key_and_what_was_expected(tmp_path, llm, message):
    with pytest.raises(ConfigError, match=message):
        offline_settings(tmp_path, **llm)


def test_environment_overrides_model_and_api_base(tmp_path):
    config = tmp_path / "digest.yaml"
    config.write_text("llm:\n  model: openai/gpt-4o-mini\n")
    base = pelican_settings(tmp_path, ARXIV_DIGEST_CONFIG=str(config))
    env = {"ARXIV_DIGEST_LLM_MODEL": "ollama/llama3.1",
           "ARXIV_DIGEST_LLM_API_BASE": "http://127.0.0.1:11434/"}
    llm = load_settings(base, env=env).llm
    assert (llm.model, llm.api_base, llm.backend) == ("ollama/llama3.1", "http://127.0.0.1:11434",
                                                      "litellm")
    assert load_settings(base, env={"ARXIV_DIGEST_LLM_MODEL": "extractive"}).llm.backend == "extractive"
    assert load_settings(base, env={}).llm.model == "openai/gpt-4o-mini"


def test_cli_reports_a_bad_llm_setting_with_exit_2(site_dir, capsys):
    config = site_dir / "digest.yaml"
    config.write_text(config.read_text().replace("concurrency: 8", "concurrency: many"))
    code = main(["-s", str(site_dir / "pelicanconf.py"), "update"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{config}: llm.concurrency: expected an integer from 1 to 64, got 'many'" in err


def test_reply_parsing_and_score_validation():
    assert parse_reply('```json\n{"tldr": "x"}\n```') == {"tldr": "x"}
    for bad in ("", "[1, 2]", "{tldr: x}", "Here you go: {}"):
        with pytest.raises(ReplyError) as e:
            parse_reply(bad)
        assert e.value.kind == "malformed"
    assert validate_scores({"relevance": "7", "novelty": 3.0, "comment": " fine\n line "}) == {
        "relevance": 7, "novelty": 3, "comment": "fine line"}
    for bad in ({"relevance": 0, "novelty": 3, "comment": "c"},
                {"relevance": 11, "novelty": 3, "comment": "c"},
                {"relevance": True, "novelty": 3, "comment": "c"},
                {"relevance": 5, "novelty": 3}):
        with pytest.raises(ReplyError) as e:
            validate_scores(bad)
        assert e.value.kind == "invalid"
