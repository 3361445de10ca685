"""Hostile input for the escaping tests: payloads, and the real recorded feeds with them injected.

Every payload is something a title, an abstract, an author name, a comment, a model's reply or a
topic name could carry on a bad day: a script, event handlers (img onerror, svg onload, details
ontoggle), javascript: and data: links, <base>, <meta refresh>, attribute and feed (CDATA, XML)
break-outs, markup inside $...$ math, a KaTeX \\href, and text that is already entity-escaped (it
must not be unescaped into markup on the way). None of them has a digit or a capital letter, so a
model reply that repeats one is not refused by the grounding checks for that alone.

The feeds are the real recorded ones (rss_all-archives_2024-11-28.xml, and an API response for
backfills) with payloads appended to the fields, so the text enters through the real fetch,
normalize, tagging, summarize and store stages. `hostile_answer` is what a model that repeats
(and adds) markup would say: it plugs into tests/llm_server.py as `LLMServer.answer`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree

ALERT = "alert(document.domain)"
PAYLOADS = (
    f"<script>{ALERT}</script>",
    f"<img src=x onerror={ALERT}>",
    f"<svg onload={ALERT}>",
    f'<a href="javascript:{ALERT}">javascript link</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydChkb2N1bWVudC5kb21haW4pPC9zY3JpcHQ+">data link</a>',
    f'<base href="javascript:{ALERT}//">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{ALERT}">',
    f'"><img src=x onerror={ALERT}>',
    f"'><svg onload={ALERT}>",
    f"$<img src=x onerror={ALERT}>$",
    f"$\\href{{javascript:{ALERT}}}{{click}}$",
    f"]]></description><script>{ALERT}</script>",
    f"&lt;script&gt;{ALERT}&lt;/script&gt;",
    f'<iframe src="javascript:{ALERT}"></iframe>',
    f"<details open ontoggle={ALERT}>",
    f"javascript:{ALERT}",
)
# Topic names (lower case, no spaces: what digest.yaml accepts). Their terms match the payloads.
# Pelican strips tags to make a slug: these become topics/alertdocumentdomain/ and topics/img/.
TOPICS = (f"<script>{ALERT}</script>", f"<img/src=x/onerror={ALERT}>img")
TERMS = ("alert", "domain")  # one word of ALERT for each topic (a word goes to one topic only)
EVERY = 7  # one item in EVERY gets payloads (about 70 of the 513 stored papers)
NS = {"dc": "http://purl.org/dc/elements/1.1/", "atom": "http://www.w3.org/2005/Atom",
      "arxiv": "http://arxiv.org/schemas/atom"}


def payload(i: int) -> str:
    """The i-th payload (cycling)."""
    return PAYLOADS[i % len(PAYLOADS)]


def hostile_rss(src: Path, out: Path) -> Path:
    """The recorded RSS feed with payloads in the title, abstract and authors of every EVERY-th item."""
    tree = etree.parse(str(src))
    for i, item in enumerate(tree.iter("item")):
        if i % EVERY:
            continue
        n = i // EVERY
        title = item.find("title")
        title.text = f"{title.text} {payload(n)}"
        desc = item.find("description")
        desc.text = f"{desc.text.rstrip()} {payload(n + 1)} and {payload(n + 2)}"
        creator = item.find("dc:creator", NS)
        creator.text = f"{creator.text}, {payload(n + 3)}"
    tree.write(str(out), xml_declaration=True, encoding="UTF-8")
    return out


def hostile_api(src: Path, out: Path) -> Path:
    """A recorded API response with payloads in every entry's title, abstract, author, comment."""
    tree = etree.parse(str(src))
    for n, entry in enumerate(tree.iterfind("atom:entry", NS)):
        title = entry.find("atom:title", NS)
        title.text = f"{title.text} {payload(n)}"
        summary = entry.find("atom:summary", NS)
        summary.text = f"{summary.text.rstrip()} {payload(n + 1)} and {payload(n + 2)}"
        author = etree.SubElement(entry, f"{{{NS['atom']}}}author")
        etree.SubElement(author, f"{{{NS['atom']}}}name").text = payload(n + 3)
        comment = entry.find("arxiv:comment", NS)
        if comment is None:
            comment = etree.SubElement(entry, f"{{{NS['arxiv']}}}comment")
        comment.text = f"{comment.text or ''} {payload(n + 4)}".strip()
        ref = entry.find("arxiv:journal_ref", NS)
        if ref is None:
            ref = etree.SubElement(entry, f"{{{NS['arxiv']}}}journal_ref")
        ref.text = payload(n + 5)
    tree.write(str(out), xml_declaration=True, encoding="UTF-8")
    return out


def hostile_config(config: dict[str, Any], api_base: str, model: str) -> dict[str, Any]:
    """digest.yaml with two topics named with markup, a model, scoring and briefing on."""
    topics = dict(config["topics"])
    described = any(isinstance(t, dict) and "definition" in t for t in topics.values())
    for name, term in zip(TOPICS, TERMS, strict=True):
        topics[name] = {"terms": [term]}
        if described:  # the topic schema that has definitions requires one
            topics[name]["definition"] = f"Papers whose text says {term}."
    llm = dict(config.get("llm") or {})
    llm.update({"model": model, "api_base": api_base, "briefing": True, "concurrency": 8,
                "daily_budget_usd": None, "retries": 0})
    llm["scoring"] = {**(llm.get("scoring") or {}), "enabled": True}
    return {**config, "topics": topics, "llm": llm}


_TOPIC_LINE = re.compile(r"^Topic: (.*)$", re.M)


def hostile_answer(kind: str, key: str, user: str) -> dict[str, Any]:
    """A model reply full of markup: payloads it read in the prompt, and some of its own."""
    seen = [p for p in PAYLOADS if p in user]
    own = [payload(len(key) + k) for k in range(4)]
    mine = seen or own
    ids = re.findall(r"^- arXiv id: (\S+)", user, re.M)
    if kind == "score":
        return {"relevance": 7, "novelty": 3, "comment": f"{own[0]} {mine[0]}"}
    if kind == "briefing":
        return {"sentences": [{"text": f"{p} is what the papers say.", "cites": ids[:2]}
                              for p in (mine[:2] + own[:1])]}
    # summary.v3: a verdict on every offered topic (agreeing with the keyword rules) whose reason
    # is markup, and a topic with markup that was never offered (ignored)
    from llm_server import offered_topics

    verdicts = [{"topic": t, "why": f"{mine[0]} is why", "about": rules.startswith("about")}
                for t, rules in offered_topics(user)]
    verdicts.append({"topic": own[1], "why": own[2], "about": True})
    return {
        "topics": verdicts,
        "tldr": f"{mine[0]} is the result",
        "method": f"{mine[-1]} is the method",
        "technique": "pruning",
        "bits_or_sparsity": own[1],
        "speedup": own[2],
        "memory": mine[0],
        "models": [mine[0], own[3]],
        "hardware": [mine[-1]],
    }
