"""Unit tests: settings defaults, environment overrides and readable configuration errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from arxiv_digest.core.errors import ConfigError
from arxiv_digest.core.settings import load_settings


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({"PATH": str(tmp_path), "ARXIV_DIGEST_CONFIG": str(tmp_path / "none.yaml")})
    assert s.categories == ("cs.AI", "cs.CL", "cs.CV", "cs.LG")
    assert s.rss_url == "https://rss.arxiv.org/rss"
    assert s.api_url == "https://export.arxiv.org/api/query"
    assert s.data_dir == tmp_path / "digests"
    assert [t.name for t in s.topics] == ["pruning", "quantization", "kv-cache", "sparsity"]


def test_env_overrides_urls(tmp_path: Path) -> None:
    env = {"ARXIV_DIGEST_RSS_URL": "http://127.0.0.1:1/rss/", "ARXIV_DIGEST_API_URL": "http://127.0.0.1:1/api"}
    s = load_settings({"ARXIV_DIGEST_CONFIG": str(tmp_path / "x.yaml")}, env=env)
    assert (s.rss_url, s.api_url) == ("http://127.0.0.1:1/rss", "http://127.0.0.1:1/api")


def test_unknown_setting_is_reported() -> None:
    with pytest.raises(ConfigError, match=r"unknown key.*ARXIV_DIGEST_CATEGORY"):
        load_settings({"ARXIV_DIGEST_CATEGORY": ["cs.LG"]})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ARXIV_DIGEST_CATEGORIES", [], "ARXIV_DIGEST_CATEGORIES: expected a non-empty list"),
        ("ARXIV_DIGEST_RSS_URL", "ftp://x", "ARXIV_DIGEST_RSS_URL: expected an http"),
        ("ARXIV_DIGEST_REPLACEMENTS", "inline", "expected 'separate' or 'hide'"),
        ("ARXIV_DIGEST_PAGE_SIZE", 5000, "at most 2000"),
        ("ARXIV_DIGEST_HOLIDAYS", ["25/12/2025"], "expected ISO dates"),
        ("ARXIV_DIGEST_TOPIC_FEED_ATOM", "feeds/topic.xml", r"TOPIC_FEED_ATOM: expected a path containing \{slug\}"),
        ("ARXIV_DIGEST_TOPIC_PAGE_SIZE", 0, "TOPIC_PAGE_SIZE: expected an integer >= 1"),
    ],
)
def test_bad_settings_name_key_and_expectation(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({key: value, "ARXIV_DIGEST_CONFIG": "/nonexistent.yaml"})


def test_yaml_errors_name_the_file_and_position(tmp_path: Path) -> None:
    bad = tmp_path / "digest.yaml"
    bad.write_text("topics:\n  pruning: [prun*\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{bad}: not valid YAML \(line \d+, column \d+\)"):
        load_settings({"ARXIV_DIGEST_CONFIG": str(bad)})
    bad.write_text("topic:\n  pruning: [prune]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{bad}: expected only the top-level keys"):
        load_settings({"ARXIV_DIGEST_CONFIG": str(bad)})
    bad.write_text("topics:\n  pruning: {terms: [prune], excludes: [x]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{bad}: topics\.pruning: expected only the keys"):
        load_settings({"ARXIV_DIGEST_CONFIG": str(bad)})


def test_a_source_must_be_listed_to_be_fetched_one_message_for_update_and_backfill(
        tmp_path: Path) -> None:
    """update --source and backfill --source ask the settings (DigestSettings.listed_source), so
    both refuse an unlisted server with the same line naming the file, the key and what is listed;
    a hostile name is quoted as given, never matched loosely."""
    import datetime as dt

    from arxiv_digest.update.backfill import backfill_preprints
    from arxiv_digest.update.pipeline import update_preprints

    cfg = tmp_path / "digest.yaml"
    cfg.write_text("sources:\n  arxiv:\n  medrxiv:\n    categories: [epidemiology]\n", encoding="utf-8")
    s = load_settings({"PATH": str(tmp_path), "ARXIV_DIGEST_CONFIG": str(cfg)}, env={})
    assert s.listed_source("medrxiv").categories == ("epidemiology",)
    assert s.listed_source("arxiv").categories == s.categories
    expected = f"{cfg}: sources: expected biorxiv to be listed to fetch it (listed: arxiv, medrxiv)"
    day = dt.date(2024, 11, 28)
    messages = []
    for call in (lambda: s.listed_source("biorxiv"),
                 lambda: update_preprints(s, "biorxiv", day=day),
                 lambda: backfill_preprints(s, "biorxiv", [day])):
        with pytest.raises(ConfigError) as e:
            call()
        messages.append(str(e.value))
    assert messages == [expected] * 3
    for hostile in ("MEDRXIV", " medrxiv", "medrxiv\n", "<script>", ""):
        with pytest.raises(ConfigError, match=r"sources: expected (?s:.*) to be listed"):
            s.listed_source(hostile)
    # no `sources:` section: arXiv only
    bare = load_settings({"PATH": str(tmp_path), "ARXIV_DIGEST_CONFIG": str(tmp_path / "none.yaml")}, env={})
    with pytest.raises(ConfigError, match=r"\(listed: arxiv\)$"):
        bare.listed_source("medrxiv")
