"""ARXIV_DIGEST_TOPIC_PAGE_SIZE is the one setting that paginates topic pages.

pelicanconf.py used to set PAGINATED_TEMPLATES["topic"] = 25, which Pelican's writer read first,
so changing ARXIV_DIGEST_TOPIC_PAGE_SIZE did nothing. Now the plugin hands the setting to the
writer, and a different PAGINATED_TEMPLATES["topic"] is refused as a conflicting second source.
"""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from arxiv_digest.errors import ConfigError
from arxiv_digest.settings import load_settings
from conftest import ROOT, build_site
from lxml import html
from sitedata import make_site

DAY = "2024/11/28"  # the shipped day: arXiv's real listing of 513 papers
SIZE = 7
# a broad topic beside the shipped ones, so that one topic runs to many pages of real papers
TOPIC = ("  models:\n    definition: Papers that train, apply or study learned models.\n"
         "    terms: [model*, learning, neural network*, LLM*, transformer*]\n")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = make_site(tmp_path_factory.mktemp("site"), days={})
    cfg = site / "digest.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("\nllm:", "\n" + TOPIC + "llm:", 1),
                   encoding="utf-8")
    return build_site(site, tmp_path_factory.mktemp("out"), ARXIV_DIGEST_LIST_ALL=True,
                      ARXIV_DIGEST_TOPIC_PAGE_SIZE=SIZE)


def doc(path: Path) -> html.HtmlElement:
    return html.fromstring(path.read_bytes())


def test_the_setting_paginates_every_topic_of_a_real_day(out: Path) -> None:
    day = doc(out / DAY / "index.html")
    tagged: dict[str, list[str]] = {}
    for art in day.cssselect("article.paper"):
        for t in art.get("data-tags").split():
            tagged.setdefault(t, []).append(art.get("id"))
    assert len(tagged["models"]) > 20 * SIZE, len(tagged["models"])
    checked = 0
    for topic, ids in tagged.items():
        seen: list[str] = []
        rel, pages = f"topics/{topic}/", 0
        while rel:
            pages += 1
            page = doc(out / rel / "index.html")
            cards = page.cssselect("h3.title a")
            assert 0 < len(cards) <= SIZE, (topic, pages)
            seen += [urlsplit(a.get("href")).fragment for a in cards]
            nxt = page.cssselect("nav.pager a[rel=next]")
            rel = urlsplit(nxt[0].get("href")).path.lstrip("/") if nxt else ""
        assert pages == math.ceil(len(ids) / SIZE), topic
        assert sorted(seen) == sorted(ids), topic  # every paper once, none lost between pages
        checked += pages > 1
    assert checked  # at least one topic needed several pages


def test_shipped_settings_have_one_source_of_truth() -> None:
    import runpy
    conf = runpy.run_path(str(ROOT / "pelicanconf.py"))
    assert "topic" not in conf["PAGINATED_TEMPLATES"]
    assert load_settings(conf, env={}).topic_page_size == conf["ARXIV_DIGEST_TOPIC_PAGE_SIZE"]


@pytest.mark.parametrize("value", [25, 10, None, "10", 0, -1, True, 10.0])
def test_a_conflicting_paginated_templates_entry_is_refused(tmp_path: Path, value: object) -> None:
    """A PAGINATED_TEMPLATES['topic'] other than the setting (hostile types included) names both
    keys; the same value (as the plugin itself writes it) is accepted."""
    base = {"PATH": str(tmp_path), "ARXIV_DIGEST_CONFIG": str(tmp_path / "none.yaml"),
            "ARXIV_DIGEST_TOPIC_PAGE_SIZE": 10}
    settings = {**base, "PAGINATED_TEMPLATES": {"index": None, "topic": value}}
    if value == 10 and type(value) is int:
        assert load_settings(settings, env={}).topic_page_size == 10
        return
    with pytest.raises(ConfigError) as e:
        load_settings(settings, env={})
    assert str(e.value) == (
        "pelican settings: PAGINATED_TEMPLATES['topic']: expected no 'topic' entry (topic pages "
        f"are paginated by ARXIV_DIGEST_TOPIC_PAGE_SIZE, 10), got {value!r}")
