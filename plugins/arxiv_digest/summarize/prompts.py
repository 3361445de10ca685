"""Versioned prompt files (prompts/<kind>.vN.md): load, check and render them into chat messages.

A prompt file has an optional leading HTML comment, then a `## system` and a `## user` section.
Placeholders are `$name` (string.Template); values are inserted verbatim, never re-expanded, so an
abstract with `$` or braces in it is safe. The version is the file name without `.md`.
A summary prompt that uses `$topics` (summary.v3) is given the paper's candidate topics with their
definitions and asked which of them the paper is about. One that uses `$claim_fields` (summary.v4)
is given the efficiency claim fields (enrich/claims.FIELDS) and asked for the abstract's claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from ..core.errors import ConfigError

VARIABLES = {
    "summary": {"language", "id", "title", "abstract", "topics", "claim_fields"},
    "score": {"interests", "id", "title", "abstract"},
    "briefing": {"language", "topic", "count", "papers"},
}
_SECTION = re.compile(r"^## (system|user)\s*$", re.M)
_COMMENT = re.compile(r"\A\s*<!--.*?-->", re.S)


@dataclass(frozen=True)
class Prompt:
    """One prompt file: its version and its two message templates."""

    version: str
    system: Template
    user: Template

    def uses(self, name: str) -> bool:
        """Whether the prompt has the placeholder $name (e.g. a summary prompt asking for verdicts)."""
        return any(m.group("named") == name or m.group("braced") == name
                   for t in (self.system, self.user) for m in t.pattern.finditer(t.template))

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The chat messages with the values filled in."""
        return [
            {"role": "system", "content": self.system.substitute(values).strip()},
            {"role": "user", "content": self.user.substitute(values).strip()},
        ]


@lru_cache(maxsize=32)
def _load(path: Path, mtime: float) -> Prompt:
    del mtime  # part of the cache key only: an edited file is read again
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the prompt file: {e.strerror}") from e
    text = _COMMENT.sub("", text, count=1)
    parts = _SECTION.split(text)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    if set(sections) != {"system", "user"} or parts[0].strip():
        raise ConfigError(
            f"{path}: expected a '## system' and a '## user' section (after an optional comment)"
        )
    return Prompt(path.name.removesuffix(".md"), Template(sections["system"]),
                  Template(sections["user"]))


def load_prompt(path: Path, kind: str) -> Prompt:
    """Load and check a prompt file: only the placeholders of its kind are allowed."""
    prompt = _load(path, path.stat().st_mtime if path.exists() else 0.0)
    allowed = VARIABLES[kind]
    for tmpl in (prompt.system, prompt.user):
        used = {m.group("named") or m.group("braced")
                for m in tmpl.pattern.finditer(tmpl.template)
                if m.group("named") or m.group("braced")}
        if used - allowed or not tmpl.is_valid():
            raise ConfigError(
                f"{path}: unknown placeholder(s) {sorted(used - allowed)}; a {kind} prompt may use "
                + ", ".join(f"${v}" for v in sorted(allowed))
            )
    return prompt
