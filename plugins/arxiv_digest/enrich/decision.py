"""The topic decision as data: tier, matched words, evidence, a model's verdict, JSON forms."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..core.models import Paper
from ..core.settings import Topic

ABOUT = "about"
MENTIONS = "mentions"
TIERS = (ABOUT, MENTIONS)


@dataclass(frozen=True)
class Verdict:
    """A model's word on one topic of one paper, valid while the text and definition are unchanged."""

    about: bool
    by: str  # the model (or "human") that said it
    why: str = ""
    key: str = ""  # verdict_key(topic, title, abstract) when it was given

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"about": self.about, "by": self.by, "why": self.why, "key": self.key}

    @classmethod
    def from_dict(cls, data: Any) -> Verdict | None:
        """The verdict stored in a day file, or None when it is missing or malformed."""
        if not isinstance(data, Mapping) or not isinstance(data.get("about"), bool):
            return None
        return cls(bool(data["about"]), str(data.get("by") or ""), str(data.get("why") or ""),
                   str(data.get("key") or ""))


@dataclass(frozen=True)
class TopicDecision:
    """One topic of one paper: its tier, the words that matched, and why."""

    topic: str
    tier: str  # "about" or "mentions"
    terms: tuple[str, ...]  # the distinct matched words, as written, title first
    reasons: tuple[str, ...]  # evidence: "title", "contribution sentence", "excluded: sparse views"
    verdict: Verdict | None = None  # a model's verdict, when one was applied

    @property
    def about(self) -> bool:
        """Whether the paper is about the topic."""
        return self.tier == ABOUT

    @property
    def explanation(self) -> str:
        """One line for a reader: 'about: title, 3 occurrences'."""
        return f"{self.tier}: {'; '.join(self.reasons)}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in a day file under the paper's `topics`."""
        out: dict[str, Any] = {"tier": self.tier, "terms": list(self.terms),
                               "reasons": list(self.reasons)}
        if self.verdict is not None:
            out["verdict"] = self.verdict.to_dict()
        return out


def verdict_key(topic: Topic, title: str, abstract: str) -> str:
    """What a verdict depends on: the paper's text and the topic's definition and name."""
    h = hashlib.sha256("\0".join((topic.name, topic.definition, title, abstract)).encode("utf-8"))
    return h.hexdigest()[:16]


def with_verdict(decision: TopicDecision, verdict: Verdict) -> TopicDecision:
    """The decision with a model's verdict applied (its tier, and why first)."""
    tier = ABOUT if verdict.about else MENTIONS
    said = f"model ({verdict.by}): {'about' if verdict.about else 'not about'}"
    if verdict.why:
        said += f", {verdict.why}"
    return replace(decision, tier=tier, reasons=(said, *decision.reasons), verdict=verdict)


def decisions_of(paper: Paper) -> dict[str, TopicDecision]:
    """The decisions stored in a day file (as made at update), for status and reports."""
    out = {}
    for name, d in (paper.topics or {}).items():
        if isinstance(d, Mapping) and d.get("tier") in TIERS:
            out[name] = TopicDecision(
                name, str(d["tier"]), tuple(str(t) for t in d.get("terms") or ()),
                tuple(str(r) for r in d.get("reasons") or ()), Verdict.from_dict(d.get("verdict")),
            )
    return out
