"""A model's topic verdicts end to end: real fetch, real litellm, real HTTP, a real Pelican build.

`update` fetches the recorded 2024-11-28 feed from the local arXiv server and summarizes through
litellm against the local OpenAI-compatible server (tests/llm_server.py), whose summary.v3 answer
judges each offered topic. For one paper about pruning and sparsity the model rejects sparsity,
names a topic it was not offered (a configured one no term matched) and one that does not exist.
Then: sparsity becomes a mention (not listed under it, still bolded, quietly), the invented topics
are ignored, a re-run (which re-fetches, replacing the offline decisions) makes no call and keeps
the verdict, and a changed definition in digest.yaml drops the stale verdict at the next build.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from arxiv_digest.core import store
from arxiv_digest.core.settings import DigestSettings, load_settings
from arxiv_digest.site.render import day_view
from arxiv_digest.summarize.grounding import Grounding
from arxiv_digest.summarize.schema import json_schema, validate_verdicts
from arxiv_digest.update.pipeline import summarize_stored, update_day
from conftest import CATS, build_site
from llm_server import LLMServer, default_answer
from lxml import html

MODEL = "openai/gpt-4o-mini"
THU = dt.datetime(2024, 11, 28, 10, 17, tzinfo=dt.UTC)
TARGET = "2411.18376"  # "Preserving Deep Representations In One-Shot Pruning": pruning + sparsity
LISTED = 17


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")


def judging(kind: str, key: str, user: str) -> dict[str, Any]:
    """The server's default answer, except for TARGET: sparsity rejected, two topics invented."""
    answer = default_answer(kind, key, user)
    if kind == "summary" and key == TARGET:
        answer["topics"] = [
            {"topic": "pruning", "why": "it removes weights of a network in one shot",
             "about": True},
            {"topic": "sparsity", "why": "the sparse weights are only a result of the pruning",
             "about": False},
            {"topic": "quantization", "why": "invented: no term of it matched", "about": True},
            {"topic": "robotics", "why": "invented: not a configured topic", "about": True},
        ]
    return answer


def settings_of(site: Path, arxiv_base: str, api_base: str) -> DigestSettings:
    return load_settings(
        {"PATH": str(site / "content"), "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml"),
         "ARXIV_DIGEST_REQUEST_DELAY": 0.01, "ARXIV_DIGEST_TIMEOUT": 5.0},
        env={"ARXIV_DIGEST_RSS_URL": f"{arxiv_base}/rss", "ARXIV_DIGEST_LLM_MODEL": MODEL,
             "ARXIV_DIGEST_LLM_API_BASE": api_base})


def card(out: Path, pid: str) -> Any:
    doc = html.parse(str(out / "2024/11/28/index.html")).getroot()
    return doc, doc.get_element_by_id(pid)


def test_model_verdicts_from_update_to_build(site_dir: Path, arxiv_server: Any,
                                             llm_server: LLMServer) -> None:
    arxiv_server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    llm_server.answer = judging
    settings = settings_of(site_dir, arxiv_server.base_url, llm_server.api_base)
    update_day(settings, now=THU)

    summaries = [c for c in llm_server.calls if c.kind == "summary"]
    assert len(summaries) == LISTED  # only listed papers are summarized (and judged)
    call = next(c for c in summaries if c.key == TARGET)
    user = call.body["messages"][1]["content"]
    assert "- pruning: Removing parameters" in user and "- sparsity: Sparsity of a model" in user
    assert "- quantization:" not in user  # only the topics a term matched are offered
    schema = call.body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["topics"]["items"]["properties"]["topic"]["enum"] == [
        "pruning", "sparsity"]

    day = store.load_day(settings.data_dir, "2024-11-28")
    assert day is not None
    p = day.paper(TARGET)
    assert p.summary["verdicts"].keys() == {"pruning", "sparsity"}  # the invented ones ignored
    assert p.summary["verdicts"]["sparsity"]["about"] is False
    assert p.topics["sparsity"]["tier"] == "mentions" and p.tags.keys() == {"pruning"}
    assert p.topics["sparsity"]["verdict"]["why"] == "the sparse weights are only a result of the pruning"
    assert "quantization" not in p.topics and "robotics" not in p.topics
    # every other listed paper: the echoing server agreed with the keyword rules
    agreed = [q for q in day.papers if q.summary and q.id != TARGET]
    assert len(agreed) == LISTED - 1
    assert all(v["about"] == (q.topics[t]["tier"] == "about")
               for q in agreed for t, v in q.summary["verdicts"].items())
    view = day_view(day, settings)
    target = next(v for v in view.listed if v.paper.id == TARGET)
    assert target.tags == ("pruning",) and target.mentions == ("sparsity",)
    assert 'class="kw kw-mention" data-mention="sparsity"' in str(target.abstract_html)
    assert TARGET not in {v.paper.id for v in (*view.listed, *view.updated) if "sparsity" in v.tags}
    first = store.day_path(settings.data_dir, "2024-11-28").read_bytes()

    # a re-run re-fetches the day (fresh offline decisions) and makes no call: the verdict holds
    calls = len(llm_server.calls)
    update_day(settings, now=THU)
    assert len(llm_server.calls) == calls
    assert store.day_path(settings.data_dir, "2024-11-28").read_bytes() == first

    out = build_site(site_dir, site_dir / "output")
    _, art = card(out, TARGET)
    assert art.get("data-tags") == "pruning"
    assert [s.text for s in art.cssselect("strong.kw[data-tag]")] and {
        s.get("data-tag") for s in art.cssselect("strong.kw[data-tag]")} == {"pruning"}
    quiet = art.cssselect("strong.kw.kw-mention")
    assert quiet and {s.get("data-mention") for s in quiet} == {"sparsity"}
    assert all(s.get("data-tag") is None for s in quiet)
    why = art.cssselect(".chip .why-text")[0].text_content()
    assert why.startswith("about: model (openai/gpt-4o-mini): about, it removes weights")
    assert "matched “Pruning”, “pruning”" in why
    mentions = art.cssselect("details.mentions")[0]
    assert mentions.cssselect("summary")[0].text_content() == "also mentions: sparsity (sparse)"
    assert "not about, the sparse weights are only a result" in mentions.text_content()
    sparsity = html.parse(str(out / "topics/sparsity/index.html")).getroot()
    assert sparsity.cssselect("p.definition") and "Sparsity of a model" in sparsity.cssselect(
        "p.definition")[0].text_content()
    assert TARGET not in html.tostring(sparsity, encoding="unicode")
    assert TARGET in (out / "topics/pruning/index.html").read_text(encoding="utf-8")

    # a new definition of sparsity: its stale verdict is dropped at the next build (pruning's holds)
    config = site_dir / "digest.yaml"
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["topics"]["sparsity"]["definition"] += " Pruned weights count."
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out = build_site(site_dir, site_dir / "output2")
    _, art = card(out, TARGET)
    assert art.get("data-tags") == "pruning sparsity"
    whys = [w.text_content() for w in art.cssselect(".chip .why-text")]
    assert whys[0].startswith("about: model (") and not whys[1].startswith("about: model (")
    assert TARGET in (out / "topics/sparsity/index.html").read_text(encoding="utf-8")

    # --resummarize asks again only the papers with a stale verdict (sparsity offered to them)
    settings = settings_of(site_dir, arxiv_server.base_url, llm_server.api_base)
    offered = {c.key for c in llm_server.calls if c.kind == "summary"
               and "- sparsity:" in c.body["messages"][1]["content"]}
    calls = len(llm_server.calls)
    summarize_stored(settings, [dt.date(2024, 11, 28)])
    # without --resummarize no summary is asked again; sparsity's briefing, which now lists the
    # paper again, is
    assert [(c.kind, c.key) for c in llm_server.calls[calls:]] == [("briefing", "sparsity")]
    calls = len(llm_server.calls)
    summarize_stored(settings, [dt.date(2024, 11, 28)], resummarize=True)
    again = {c.key for c in llm_server.calls[calls:] if c.kind == "summary"}
    assert again == offered and TARGET in again
    assert {c.kind for c in llm_server.calls[calls:]} <= {"summary", "briefing"}


def test_a_prompt_without_topics_asks_no_verdict(tmp_path: Path, llm_server: LLMServer) -> None:
    from arxiv_digest.summarize import make_summarizer
    from conftest import ROOT, pelican_settings

    raw = yaml.safe_load((ROOT / "digest.yaml").read_text(encoding="utf-8"))
    raw["llm"] = {"model": MODEL, "api_base": llm_server.api_base, "prompts": {"summary": "summary.v2"}}
    (tmp_path / "digest.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    settings = load_settings(pelican_settings(tmp_path, ARXIV_DIGEST_CONFIG=str(tmp_path / "digest.yaml")))
    day = store.load(ROOT / "content/digests/2024/2024-11-28.json")
    day = day.with_papers(tuple(p for p in day.papers if p.id == TARGET))
    done = make_summarizer(settings).summarize(day.with_papers(
        tuple(replace(p, summaries={}) for p in day.papers)))
    call = llm_server.calls[0]
    assert "topics" not in call.body["response_format"]["json_schema"]["schema"]["properties"]
    assert "verdicts" not in done.paper(TARGET).summary
    assert done.paper(TARGET).tags.keys() == {"pruning", "sparsity"}  # the keyword rules stand


def test_verdicts_from_a_hostile_or_confused_model_are_checked() -> None:
    offered = {"sparsity": "Sparsity of a model.", "kv-cache": "The KV cache of inference."}
    source = "Sparse views for NeRF\nWe reconstruct scenes from sparse views."
    grounding = Grounding("Task: summarize.", ["English"])
    got, dropped, ignored = validate_verdicts([
        {"topic": "Sparsity", "about": "no", "why": "the views are sparse, not the model"},
        {"topic": "sparsity", "about": True, "why": "repeated: ignored"},
        {"topic": "kv-cache", "about": "maybe", "why": "not a yes or no"},
        {"topic": "<script>alert(1)</script>", "about": True, "why": "invented"},
        "not an object",
    ], offered, source, grounding)
    assert got == {"sparsity": {"about": False, "why": "the views are sparse, not the model"}}
    assert dropped == [] and len(ignored) == 3
    # a reason naming what the sources do not (a venue, a number) or too long loses its text only
    got, dropped, _ = validate_verdicts(
        {"sparsity": {"about": False, "why": "as shown at ICML 2023"},
         "kv-cache": {"about": True, "why": "x " * 400}}, offered, source, grounding)
    assert got == {"sparsity": {"about": False, "why": ""}, "kv-cache": {"about": True, "why": ""}}
    assert dropped == ["topics.sparsity.why", "topics.kv-cache.why"]
    assert validate_verdicts("all of them", offered, source, grounding) == ({}, ["topics"], [])
    assert validate_verdicts(None, offered, source, grounding) == ({}, [], [])
    # the schema sent to the provider names only the offered topics
    schema = json_schema("summary", topics=["sparsity"])
    assert schema["properties"]["topics"]["items"]["properties"]["topic"]["enum"] == ["sparsity"]
    assert "topics" in schema["required"] and "topics" not in json_schema("summary")["properties"]
    assert json.dumps(schema)  # plain JSON
