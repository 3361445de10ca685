"""The `llm:` section of digest.yaml: defaults, environment overrides and validation (LLMSettings).

Secrets are never read from the config: litellm takes them from the provider's usual environment
variables (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...). A key that looks like a secret is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from .prompts import load_prompt

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
ENV_MODEL = "ARXIV_DIGEST_LLM_MODEL"
ENV_API_BASE = "ARXIV_DIGEST_LLM_API_BASE"
EXTRACTIVE = "extractive"  # `model: extractive` (or no model) selects the offline backend

DEFAULT_PROMPTS = {"summary": "summary.v4", "score": "score.v1", "briefing": "briefing.v2"}
RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "none")
_SECRET_KEY = re.compile(r"(?:^|_)(?:api_?key|key|secret|password|token)$", re.I)


@dataclass(frozen=True)
class ScoringSettings:
    """Optional relevance/novelty scoring against the reader's interests (needs an LLM)."""

    enabled: bool = False
    interests: str = ""
    sort: bool = False  # order the day page by relevance


@dataclass(frozen=True)
class LLMSettings:
    """Validated LLM settings; `model` None means the offline extractive backend."""

    model: str | None = None
    api_base: str | None = None
    temperature: float = 0.0
    max_tokens: int = 700
    concurrency: int = 8  # the most calls in flight; the run starts lower and adapts
    concurrency_start: int = 2  # calls in flight at first (grows while latency holds)
    timeout: float = 60.0  # seconds per call (litellm's own default is 6000)
    timeout_retry_factor: float = 2.0  # a timed-out call is retried once with this x timeout
    retries: int = 3  # per call, on rate limits (429), 5xx and connection errors
    retry_backoff: float = 2.0  # seconds before the first retry; doubles each time
    daily_budget_usd: float | None = 1.0  # per announcement day; None: no cap
    daily_budget_tokens: int | None = None  # prompt + completion tokens per day; None: no cap
    response_format: str = "auto"  # auto | json_schema | json_object | none
    failed_retry_hours: float = 20.0  # a failed paper is asked again after this (doubling)
    failed_max_runs: int = 3  # then not again until the model, prompt or abstract changes
    language: str = "English"  # the language's name in the prompts (see prompt_language)
    lang: str = "en"  # the edition's language tag (DEFAULT_LANG): summaries are stored under it
    briefing: bool = True
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    prompts: Mapping[str, Path] = field(
        default_factory=lambda: {k: PROMPTS_DIR / f"{v}.md" for k, v in DEFAULT_PROMPTS.items()}
    )
    source: str = "digest.yaml"  # the config file, for messages

    @property
    def backend(self) -> str:
        """'litellm' when a model is configured, else 'extractive'."""
        return "litellm" if self.model else EXTRACTIVE


_KNOWN = {
    "model", "api_base", "temperature", "max_tokens", "concurrency", "concurrency_start",
    "timeout", "timeout_retry_factor", "retries", "retry_backoff", "daily_budget_usd",
    "daily_budget_tokens", "response_format", "failed_retry_hours", "failed_max_runs",
    "language", "briefing", "scoring", "prompts",
}


def _fail(source: str, key: str, what: str, got: Any) -> ConfigError:
    return ConfigError(f"{source}: {key}: expected {what}, got {got!r}")


def _number(raw: Mapping[str, Any], source: str, key: str, default: float, lo: float,
            hi: float, integer: bool = False) -> Any:
    value = raw.get(key, default)
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not lo <= value <= hi:
        what = f"{'an integer' if integer else 'a number'} from {lo:g} to {hi:g}"
        raise _fail(source, f"llm.{key}", what, value)
    return value


def _text(raw: Mapping[str, Any], source: str, key: str, default: str | None) -> str | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, f"llm.{key}", "a non-empty string", value)
    return value.strip()


def resolve_prompt(ref: Any, source: str, key: str, base_dir: Path) -> Path:
    """A prompt name ('summary.v1', in the plugin's prompts/) or a path to a .md file."""
    if not isinstance(ref, str) or not ref.strip():
        raise _fail(source, key, "a prompt name such as 'summary.v1' or a path to a .md file", ref)
    ref = ref.strip()
    path = Path(ref) if ref.endswith(".md") else PROMPTS_DIR / f"{ref}.md"
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise _fail(source, key, f"a prompt file that exists ({path} does not)", ref)
    return path


def prompt_language(raw: Any, source: str, lang: str) -> str:
    """The name the prompts give the language of the edition `lang` (a BCP 47 tag).

    `llm.language` is either a mapping of edition language to name ({en: English, zh-CN:
    Simplified Chinese}; an edition it does not list gets CLDR's English name of its language)
    or one name. One name is used where it names the edition's language ("Simplified Chinese"
    for zh-CN, "English" for en); for another edition CLDR's name is used instead, so one
    digest.yaml serves every edition and each edition's summaries are in its own language.
    """
    from ..core.i18n import language_name
    from ..core.models import lookup_lang

    if isinstance(raw, Mapping):
        bad = [k for k, v in raw.items() if not isinstance(k, str) or not isinstance(v, str)
               or not v.strip()]
        if bad:
            raise _fail(source, f"llm.language.{bad[0]}", "a language's name (a string)",
                        raw[bad[0]])
        named = lookup_lang({lang_tag_of(k): v for k, v in raw.items()}, lang)
        return " ".join(named.split()) if named else language_name(lang)
    if raw is None:
        return language_name(lang)
    if not isinstance(raw, str) or not raw.strip():
        raise _fail(source, "llm.language", "a language's name, or a mapping of edition language "
                    "(DEFAULT_LANG) to name", raw)
    name = " ".join(raw.split())
    own = language_name(lang.split("-")[0]).lower()
    return name if own in name.lower() else language_name(lang)


def lang_tag_of(text: str) -> str:
    """'zh_CN' / 'zh-cn' -> 'zh-CN' (as DEFAULT_LANG is written)."""
    from ..core.i18n import lang_tag

    return lang_tag(text)


def parse_llm(raw: Any, source: str, env: Mapping[str, str], lang: str | None = None) -> LLMSettings:
    """Validate the `llm:` mapping (None: defaults) and apply the environment overrides.

    lang: the edition's DEFAULT_LANG; summaries and briefings are written in it and stored under it.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise _fail(source, "llm", "a mapping of LLM settings", raw)
    secret = sorted(k for k in raw if isinstance(k, str) and _SECRET_KEY.search(k))
    if secret:
        raise ConfigError(
            f"{source}: llm.{secret[0]}: secrets are never read from the config file; set the "
            "provider's environment variable instead (e.g. OPENAI_API_KEY)"
        )
    unknown = sorted(str(k) for k in raw if k not in _KNOWN)
    if unknown:
        raise _fail(source, f"llm.{unknown[0]}", f"one of the keys {', '.join(sorted(_KNOWN))}",
                    unknown[0])
    model = env.get(ENV_MODEL) or _text(raw, source, "model", None)
    if model is not None and model.strip().lower() == EXTRACTIVE:
        model = None
    api_base = env.get(ENV_API_BASE) or _text(raw, source, "api_base", None)
    if api_base is not None and not api_base.startswith(("http://", "https://")):
        where = ENV_API_BASE if env.get(ENV_API_BASE) else f"{source}: llm.api_base"
        raise ConfigError(f"{where}: expected an http(s) URL, got {api_base!r}")
    budget = raw.get("daily_budget_usd", 1.0)
    if budget is not None:
        budget = float(_number(raw, source, "daily_budget_usd", 1.0, 0.0, 1e6))
    tokens = raw.get("daily_budget_tokens")
    if tokens is not None:
        tokens = _number(raw, source, "daily_budget_tokens", 0, 1, 10**12, integer=True)
    response_format = raw.get("response_format", "auto")
    if response_format not in RESPONSE_FORMATS:
        raise _fail(source, "llm.response_format", f"one of {', '.join(RESPONSE_FORMATS)}",
                    response_format)
    concurrency = _number(raw, source, "concurrency", 8, 1, 64, integer=True)
    start = _number(raw, source, "concurrency_start", min(2, concurrency), 1, 64, integer=True)
    if start > concurrency:
        raise _fail(source, "llm.concurrency_start",
                    f"an integer from 1 to llm.concurrency ({concurrency})", start)
    briefing = raw.get("briefing", True)
    if not isinstance(briefing, bool):
        raise _fail(source, "llm.briefing", "true or false", briefing)
    base_dir = Path(source).resolve().parent
    prompts_raw = raw.get("prompts") or {}
    if not isinstance(prompts_raw, Mapping):
        raise _fail(source, "llm.prompts", "a mapping of summary/score/briefing to a prompt",
                    prompts_raw)
    bad = sorted(str(k) for k in prompts_raw if k not in DEFAULT_PROMPTS)
    if bad:
        raise _fail(source, f"llm.prompts.{bad[0]}", "one of summary, score, briefing", bad[0])
    prompts = {
        kind: resolve_prompt(prompts_raw.get(kind, name), source, f"llm.prompts.{kind}", base_dir)
        for kind, name in DEFAULT_PROMPTS.items()
    }
    for kind, path in prompts.items():
        load_prompt(path, kind)  # a broken prompt file is a config error, reported now
    return LLMSettings(
        model=model,
        api_base=api_base.rstrip("/") if api_base else None,
        temperature=float(_number(raw, source, "temperature", 0.0, 0.0, 2.0)),
        max_tokens=_number(raw, source, "max_tokens", 700, 64, 32000, integer=True),
        concurrency=concurrency,
        concurrency_start=start,
        timeout=float(_number(raw, source, "timeout", 60.0, 0.1, 600.0)),
        timeout_retry_factor=float(_number(raw, source, "timeout_retry_factor", 2.0, 1.0, 10.0)),
        retries=_number(raw, source, "retries", 3, 0, 10, integer=True),
        retry_backoff=float(_number(raw, source, "retry_backoff", 2.0, 0.0, 120.0)),
        daily_budget_usd=budget,
        daily_budget_tokens=tokens,
        response_format=response_format,
        failed_retry_hours=float(_number(raw, source, "failed_retry_hours", 20.0, 0.0, 24 * 365)),
        failed_max_runs=_number(raw, source, "failed_max_runs", 3, 1, 1000, integer=True),
        language=prompt_language(raw.get("language"), source, lang_tag_of(lang or "en")),
        lang=lang_tag_of(lang or "en"),
        briefing=briefing,
        scoring=_parse_scoring(raw.get("scoring"), source),
        prompts=prompts,
        source=source,
    )


def _parse_scoring(raw: Any, source: str) -> ScoringSettings:
    if raw is None:
        return ScoringSettings()
    if not isinstance(raw, Mapping):
        raise _fail(source, "llm.scoring", "a mapping with enabled, interests and sort", raw)
    unknown = sorted(str(k) for k in raw if k not in ("enabled", "interests", "sort"))
    if unknown:
        raise _fail(source, f"llm.scoring.{unknown[0]}", "one of enabled, interests, sort",
                    unknown[0])
    for key in ("enabled", "sort"):
        if not isinstance(raw.get(key, False), bool):
            raise _fail(source, f"llm.scoring.{key}", "true or false", raw.get(key))
    interests = raw.get("interests") or ""
    if not isinstance(interests, str):
        raise _fail(source, "llm.scoring.interests", "a free-text description (a string)",
                    interests)
    enabled = bool(raw.get("enabled", False))
    if enabled and not interests.strip():
        raise _fail(source, "llm.scoring.interests",
                    "a description of the reader's interests when scoring is enabled", interests)
    return ScoringSettings(enabled=enabled, interests=interests.strip(),
                           sort=bool(raw.get("sort", False)))
