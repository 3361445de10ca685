"""A second interface language: the zh-CN catalog, a zh-CN build, its feeds, search and browser view.

The interface is translated through Pelican's conventions (DEFAULT_LANG, jinja2.ext.i18n, gettext
catalogs in theme/translations/); these tests build the tiny archive (with the real 2024-11-28 day)
in Chinese and check what a reader gets, and that the catalog covers every string the templates
and the plugin mark for translation.
"""

# Chinese text uses full-width punctuation (comma, colon, question mark): the language, not a look-alike.
# ruff: noqa: RUF001

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.core.errors import ConfigError
from arxiv_digest.core.i18n import install, lang_tag, locale_name, translations
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from conftest import ROOT, build_site
from jinja2 import Environment
from llm_server import default_answer
from lxml import etree, html
from sitedata import index_search, make_site, summarize_days

CATALOG = ROOT / "theme" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
POT = ROOT / "theme" / "translations" / "messages.pot"
ZH_PAPER = "2411.90002"  # its stored model summary is in Chinese (below)
ZH_TLDR = "通过令牌合并对视觉Transformer进行结构化剪枝，每层只保留少量令牌。"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def extracted() -> dict[str | tuple[str, ...], set[str]]:
    """Every msgid marked in the templates and the plugin (as `make translations` extracts them)."""
    method_map = [("plugins/arxiv_digest/**.py", "python"), ("theme/templates/**.html", "jinja2")]
    options = {"theme/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    out: dict[str | tuple[str, ...], set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options, keywords=keywords):
        out.setdefault(message, set()).add(filename)
    return out


def test_every_marked_string_is_in_the_catalog_and_translated() -> None:
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    marked = extracted()
    assert len(marked) > 150
    missing, untranslated, bad = [], [], []
    for msgid, files in marked.items():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        if message is None:
            missing.append((key, sorted(files)))
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s.strip() for s in strings):
            untranslated.append(key)
        source = set(PLACEHOLDER.findall(" ".join(msgid if isinstance(msgid, tuple) else (msgid,))))
        if any(set(PLACEHOLDER.findall(s)) - source for s in strings):
            bad.append(key)  # a msgstr naming a variable the msgid does not pass
    assert missing == [], "run `make translations` and translate the new strings"
    assert untranslated == []
    assert bad == []
    assert list(catalog.check()) == []  # Babel's own python-format checks
    # the catalog holds nothing the code no longer marks, and messages.pot is current
    marked_ids = {m[0] if isinstance(m, tuple) else m for m in marked}
    assert {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog if m.id} == marked_ids
    with POT.open("rb") as f:
        assert {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(f) if m.id} == marked_ids


def test_language_names_and_a_missing_or_broken_catalog(tmp_path: Path) -> None:
    assert [lang_tag(x) for x in ("zh_CN", "zh-cn", "en", None)] == ["zh-CN", "zh-CN", "en", "en"]
    assert locale_name("zh-cn") == "zh_CN"
    assert translations(ROOT / "theme", "en").gettext("Search") == "Search"
    with pytest.raises(ConfigError, match=r"DEFAULT_LANG 'fr': no catalog at .*fr/LC_MESSAGES/messages.po"):
        translations(tmp_path, "fr")
    broken = tmp_path / "translations" / "de" / "LC_MESSAGES" / "messages.po"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b'msgid "Search"\nmsgstr "Suche\n\xff\xfe garbage "unterminated')
    with pytest.raises(ConfigError, match="cannot read the gettext catalog"):
        translations(tmp_path, "de")


def test_translated_strings_escape_what_they_are_given() -> None:
    """Hostile values (a topic name with markup) stay text inside a translated string."""
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    install(env, ROOT / "theme", "zh-CN")
    out = env.from_string('<b aria-label="{{ _("Why %(topic)s?", topic=t) }}">'
                          '{{ ngettext("%(num)s paper", "%(num)s papers", n) }}</b>').render(
        t='"><script>alert(1)</script>', n=1504)
    assert out == ('<b aria-label="为什么是 &#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;？">'
                   "1504 篇论文</b>")
    # English: the msgids themselves, plural forms by count
    env_en = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    install(env_en, ROOT / "theme", "en")
    tpl = env_en.from_string('{{ ngettext("%(num)s paper", "%(num)s papers", n) }} {{ d|ldate }}')
    import datetime as dt
    assert tpl.render(n=1, d=dt.date(2024, 11, 28)) == "1 paper Thursday, 28 November 2024"
    assert tpl.render(n=2, d=dt.date(2024, 11, 28)) == "2 papers Thursday, 28 November 2024"


def _chinese_model_summary(site: Path) -> None:
    """A stored model summary written in Chinese for the zh-CN edition (as `summarize -s
    zhconf.py` stores it), beside the paper's English (extractive) one."""
    path = site / "content" / "digests" / "2024" / "2024-11-27.json"
    day = json.loads(path.read_text(encoding="utf-8"))
    for p in day["papers"]:
        if p["id"] == ZH_PAPER:
            s = json.loads(json.dumps(p["summaries"]["en"]))
            s.update(backend="litellm", model="test-model", prompt_version="summary.v3",
                     language="Chinese (Simplified, China)")
            s["fields"]["tldr"] = ZH_TLDR
            p["summaries"]["zh-CN"] = s
    path.write_text(json.dumps(day, indent=2, ensure_ascii=False), encoding="utf-8")


EDITIONS = (("en", "English", ""), ("zh-CN", "中文", "/zh"))


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny archive plus the real 2024-11-28 day, built like `make html` and `make html-zh`:
    the English edition at the root, the Chinese one in zh/, each linking to the other."""
    site = make_site(tmp_path_factory.mktemp("zh-site"))
    summarize_days(site)
    _chinese_model_summary(site)
    out = tmp_path_factory.mktemp("editions")
    build_site(site, out, SITEURL="", FEED_DOMAIN="https://digest.example.org", EDITIONS=EDITIONS)
    build_site(site, out / "zh", DEFAULT_LANG="zh-CN", SITEURL="/zh", EDITIONS=EDITIONS,
               FEED_DOMAIN="https://digest.example.org/zh", DELETE_OUTPUT_DIRECTORY=False)
    index_search(out / "zh")
    index_search(out)
    return out


@pytest.fixture(scope="module")
def zh_out(editions: Path) -> Path:
    return editions / "zh"


def page(out: Path, rel: str) -> html.HtmlElement:
    return html.fromstring((out / rel / "index.html").read_bytes())


def text(el: html.HtmlElement) -> str:
    return " ".join(el.text_content().split())


def test_every_page_is_zh_cn_with_the_chinese_interface(zh_out: Path) -> None:
    pages = ["", "2024/11/28", "2024/11/27", "archives", "topics", "topics/sparsity", "search",
             f"papers/{ZH_PAPER}"]
    for rel in pages:
        doc = page(zh_out, rel)
        assert doc.get("lang") == "zh-CN", rel
        nav = [text(a) for a in doc.cssselect(".site-nav a")]
        assert nav[:3] == ["最新", "归档", "主题"], rel
        assert doc.cssselect(".search-form button")[0].text == "搜索"
        assert doc.cssselect("#site-q")[0].get("placeholder") == "搜索全部论文"
        for script in doc.cssselect("script"):  # the JS strings' JSON holds the English keys
            script.drop_tree()
        body = text(doc)
        for english in ("Skip to content", "Search the archive", "Subscribe:", "Latest day"):
            assert english not in body, (rel, english)
    day = page(zh_out, "2024/11/28")
    assert text(day.cssselect("h1")[0]) == "arXiv 每日摘要：2024年11月28日 星期四"
    assert day.cssselect("title")[0].text.startswith("arXiv 每日摘要：2024年11月28日 星期四")
    counts = text(day.cssselect(".day-header .counts")[0])
    assert re.search(r"公布 \d+ 篇论文 · 列出 \d+ 篇", counts), counts
    assert text(day.cssselect(".filter button")[0]).startswith("全部")
    assert text(day.cssselect(".day-nav .all")[0]) == "所有日期"
    nav = text(day.cssselect(".day-nav a[rel=prev]")[0])
    assert re.fullmatch(r"← 11月27日 周三 2024", nav), nav
    # the offline summary is in the abstract's language and says so
    labels = {text(e) for e in day.cssselect(".paper .summary-label")}
    assert labels == {"总结 · 英文原文摘录"}
    # a model summary written in Chinese shows as it is, under its model's name
    card = page(zh_out, "2024/11/27").cssselect(f"article[id='{ZH_PAPER}']")[0]
    assert text(card.cssselect(".summary-label")[0]) == "总结 · test-model"
    assert text(card.cssselect(".tldr")[0]) == ZH_TLDR
    # a paper page's listings name their kind in Chinese (new / cross / replace)
    listed = [text(li) for li in page(zh_out, f"papers/{ZH_PAPER}").cssselect(".listings li, section li")
              if re.search(r": v\d+, ", text(li))]
    kinds = r": v\d+, (新提交|交叉列出|更新版本|更新版本（交叉列出）)$"
    assert listed and all(re.search(kinds, t) for t in listed), listed
    archive = page(zh_out, "archives")
    assert "2024年11月" in [text(h).split(" ")[0] for h in archive.cssselect(".month h2")]
    assert text(archive.cssselect(".calendar thead abbr")[0]) == "周一"
    assert text(page(zh_out, "radar").cssselect("h1")[0]) == "你的雷达"
    assert text(page(zh_out, "ledger").cssselect("h1")[0]) == "费用账本"
    assert text(page(zh_out, "atlas").cssselect("h1")[0]) == "效率图谱"
    topics = page(zh_out, "topics")
    assert re.fullmatch(r"\d+ 篇论文 分布在 \d+ 天，最近一次 \d{4}-\d\d-\d\d",
                        text(topics.cssselect(".topic-list li p")[0]))


def test_the_scripts_get_the_catalog_s_words(editions: Path) -> None:
    """Every page of the Chinese edition hands its scripts the translations of their strings
    (i18n.JS_STRINGS) as JSON; the English edition needs none (the msgids are its words)."""
    from arxiv_digest.core.i18n import JS_STRINGS

    for rel in ("", "2024/11/28", "atlas", "radar", "topics/sparsity"):
        script = page(editions / "zh", rel).cssselect("script#i18n-strings")
        assert len(script) == 1 and script[0].get("type") == "application/json", rel
        strings = json.loads(script[0].text)
        assert set(strings) == set(JS_STRINGS), rel
        assert strings["Copied"] == "已复制" and strings["with code"] == "有代码"
        assert not page(editions, rel).cssselect("script#i18n-strings"), rel
    for name in ("site.js", "atlas.js", "radar.js"):  # no English left in what they show
        js = (ROOT / "theme" / "static" / "js" / name).read_text(encoding="utf-8")
        for msgid in JS_STRINGS:
            if "%(" not in msgid and len(msgid) > 3 and f'"{msgid}"' in js:
                assert f't("{msgid}"' in js, (name, msgid)


def test_feeds_carry_the_language(zh_out: Path) -> None:
    atom = etree.parse(str(zh_out / "feeds" / "all.atom.xml")).getroot()
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    rss = etree.parse(str(zh_out / "feeds" / "all.rss.xml")).getroot()
    assert rss.findtext("channel/language") == "zh-CN"
    entry = atom.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content")
    assert entry is not None and "公布于 " in (entry.text or "")
    topic = etree.parse(str(zh_out / "feeds" / "topics" / "sparsity.atom.xml")).getroot()
    assert topic.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    # every feed of both editions names its edition's language
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    for out, lang in ((zh_out, "zh-CN"), (zh_out.parent, "en")):
        feeds = sorted((out / "feeds").rglob("*.xml"))
        assert len(feeds) >= 4
        for path in feeds:
            root = etree.parse(str(path)).getroot()
            got = root.get(xml_lang) if path.name.endswith(".atom.xml") else root.findtext("channel/language")
            assert got == lang, path


def test_the_search_index_is_chinese(zh_out: Path) -> None:
    meta = json.loads(next(zh_out.glob("pagefind/*/pagefind-entry.json")).read_text(encoding="utf-8"))
    assert list(meta["languages"]) == ["zh-cn"]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_editions_link_to_the_same_page_in_the_other_language(editions: Path) -> None:
    for rel in ("", "2024/11/28", "topics/sparsity", "archives", f"papers/{ZH_PAPER}"):
        en, zh = page(editions, rel), page(editions / "zh", rel)
        assert en.get("lang") == "en" and zh.get("lang") == "zh-CN"
        target = f"/{rel}/" if rel else "/"
        assert [(a.get("href"), a.get("hreflang"), text(a)) for a in en.cssselect(".editions a")] == [
            ("/zh" + target, "zh-CN", "中文")]
        assert [(a.get("href"), a.get("hreflang"), text(a)) for a in zh.cssselect(".editions a")] == [
            (target, "en", "English")]
        assert text(en.cssselect(".editions [aria-current]")[0]) == "English"
        assert en.cssselect("link[rel=alternate][hreflang=zh-CN]")[0].get("href") == "/zh" + target
    # the English edition is the English interface; the Chinese one links its own pages under /zh
    en_day = page(editions, "2024/11/28")
    assert text(en_day.cssselect("h1")[0]) == "arXiv digest for Thursday, 28 November 2024"
    assert page(editions / "zh", "2024/11/28").cssselect(".day-nav .all")[0].get("href") == "/zh/archives/"


@pytest.fixture(scope="module")
def zh_url(editions: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(editions)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_browser_chinese_interface_and_search_for_a_chinese_word(zh_url: str) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extras")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        context = browser.new_context()
        foreign: list[str] = []
        errors: list[str] = []

        def route(r: Any) -> None:
            if r.request.url.startswith(zh_url + "/"):
                r.continue_()
            else:
                foreign.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        p = context.new_page()
        p.on("pageerror", lambda e: errors.append(str(e)))
        p.goto(zh_url + "/zh/2024/11/28/", wait_until="load")
        assert p.locator("html").get_attribute("lang") == "zh-CN"
        assert p.locator(".site-nav a").all_inner_texts()[:3] == ["最新", "归档", "主题"]
        assert p.locator(".expand-all").inner_text() == "展开全部摘要"
        # the scripts' own words are the catalog's (base.html's #i18n-strings, site.js's t())
        p.locator(".expand-all").click()
        assert p.locator(".expand-all").inner_text() == "收起全部摘要"
        p.locator(".filter button[data-topic]:not([data-topic=''])").first.click()
        status = p.locator(".filter-status").inner_text()
        assert re.fullmatch(r"显示 \d+ 篇中的 \d+ 篇：\S+.*。", status), status
        p.locator(".expand-all").click()
        assert p.locator(".expand-all").inner_text() == "展开全部摘要"
        # a word of the Chinese summary, through the header's search form
        p.locator("#site-q").fill("剪枝")
        p.locator(".search-form button").click()
        p.wait_for_url("**/search/?q=*")
        results = p.locator(".pagefind-ui__results")
        results.locator("a").first.wait_for(timeout=15000)
        hrefs = results.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert f"/zh/papers/{ZH_PAPER}/" in hrefs
        assert p.locator("h1").inner_text() == "搜索归档"
        # the language link leads to the same page in English, and back
        p.goto(zh_url + "/zh/2024/11/28/", wait_until="load")
        p.locator(".editions a[hreflang=en]").click()
        p.wait_for_url(zh_url + "/2024/11/28/")
        assert p.locator("html").get_attribute("lang") == "en"
        assert p.locator(".expand-all").inner_text() == "Expand all abstracts"
        p.locator(".editions a[hreflang=zh-CN]").click()
        p.wait_for_url(zh_url + "/zh/2024/11/28/")
        assert p.locator("h1").inner_text() == "arXiv 每日摘要：2024年11月28日 星期四"
        context.close()
        browser.close()
        assert foreign == [] and errors == []


def _zh_answer(kind: str, key: str, user: str) -> dict[str, Any]:
    """The test server's answer in Chinese (the ids it cites kept): what `language: Chinese` gets."""
    out = default_answer(kind, key, user)
    if kind == "briefing":
        for s in out["sentences"]:
            s["text"] = f"{key} 的中文简报：{len(s['cites'])} 篇论文。"
    elif kind == "summary":
        out.update(tldr=f"{key} 的中文总结：一种新的高效方法。", method="方法用一句话说明。")
    return out


def _stored(site: Path) -> dict[str, Any]:
    return json.loads((site / "content" / "digests" / "2024" / "2024-11-28.json").read_text("utf-8"))


def test_a_second_edition_costs_only_its_own_language(tmp_path: Path, llm_server: Any, capsys: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Summaries and briefings are cached per language: `summarize` for the Chinese edition
    (-s zhconf.py, DEFAULT_LANG zh-CN) asks the model exactly what the English edition asked, in
    Chinese, and leaves every English record byte for byte; re-running either edition makes no
    call. The real 513-paper day (the shipped file, with extractive summaries) is the input, through
    the command line and litellm against the local server; each edition then shows its own."""
    from arxiv_digest.cli.commands import main

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")
    monkeypatch.setenv("ARXIV_DIGEST_LLM_MODEL", "openai/test-model")
    monkeypatch.setenv("ARXIV_DIGEST_LLM_API_BASE", llm_server.api_base)
    site = make_site(tmp_path / "site", {})
    shutil.copy(ROOT / "zhconf.py", site / "zhconf.py")
    assert _stored(site)["schema_version"] == 2  # the shipped day (version 1 files: test_normalize_store)
    now = ["--now", "2024-11-28T12:00:00+00:00"]

    def summarize(conf: str) -> int:
        before = len(llm_server.calls)
        assert main(["-s", str(site / conf), "summarize", "--date", "2024-11-28", *now]) == 0
        capsys.readouterr()
        return len(llm_server.calls) - before

    english = summarize("pelicanconf.py")
    en_day = _stored(site)
    assert en_day["schema_version"] == 2
    en_records = {p["id"]: p["summaries"]["en"] for p in en_day["papers"] if p["summaries"]}
    models = {i: r for i, r in en_records.items() if r["backend"] == "litellm"}
    briefed = len(en_day["briefings"]["en"]["topics"])
    assert len(models) >= 15 and briefed >= 3
    assert english == len(models) + briefed  # every listed paper and topic, once
    assert {r["language"] for r in models.values()} == {"English"}
    assert summarize("pelicanconf.py") == 0

    llm_server.answer = _zh_answer
    chinese = summarize("zhconf.py")
    assert chinese == english  # exactly the second language's calls, no more
    asked = llm_server.calls[-chinese:]
    assert all("Chinese" in c.body["messages"][0]["content"] for c in asked)
    assert {c.key for c in asked if c.kind == "summary"} == set(models)
    day = _stored(site)
    # the English edition's records are untouched, byte for byte, and so is its briefing
    assert {p["id"]: p["summaries"]["en"] for p in day["papers"] if p["summaries"]} == en_records
    assert day["briefings"]["en"] == en_day["briefings"]["en"]
    zh = {p["id"]: p["summaries"]["zh-CN"] for p in day["papers"] if "zh-CN" in p["summaries"]}
    assert set(zh) == set(models)
    assert {r["language"] for r in zh.values()} == {"Chinese (Simplified, China)"}
    assert all(r["fields"]["tldr"].endswith("的中文总结：一种新的高效方法。") for r in zh.values())
    # the ledger: one row per model, with what each language cost
    row = day["ledger"]["models"]["openai/test-model"]
    assert row["calls"] == english + chinese
    assert {lang: v["calls"] for lang, v in row["languages"].items()} == {"en": english, "zh-CN": chinese}
    assert summarize("zhconf.py") == 0 and summarize("pelicanconf.py") == 0

    # each edition shows its own language's summaries and briefing
    out = tmp_path / "out"
    build_site(site, out, SITEURL="", EDITIONS=EDITIONS)
    build_site(site, out / "zh", DEFAULT_LANG="zh-CN", SITEURL="/zh", EDITIONS=EDITIONS,
               DELETE_OUTPUT_DIRECTORY=False)
    pid = sorted(models)[0]
    en_card = page(out, "2024/11/28").cssselect(f"article[id='{pid}']")[0]
    zh_card = page(out / "zh", "2024/11/28").cssselect(f"article[id='{pid}']")[0]
    assert text(en_card.cssselect(".tldr")[0]).startswith(f"Summary of {pid}:")
    assert text(zh_card.cssselect(".tldr")[0]) == f"{pid} 的中文总结：一种新的高效方法。"
    assert text(zh_card.cssselect(".summary-label")[0]) == "总结 · openai/test-model"
    zh_brief = [text(p) for p in page(out / "zh", "2024/11/28").cssselect(".briefing p[data-topic]")]
    assert zh_brief and all("的中文简报" in b for b in zh_brief)
    assert not any("的中文" in text(p) for p in page(out, "2024/11/28").cssselect(".briefing p"))


def test_an_edition_without_a_model_shows_the_offline_summary_labelled(tmp_path: Path) -> None:
    """No model: the Chinese edition shows the extractive summaries and briefing the English run
    stored (in the abstract's language, labelled so) instead of 'summary pending'; summarizing
    for it offline stores nothing new (an offline summary is the same in every edition)."""
    from arxiv_digest.core.settings import load_settings
    from arxiv_digest.core.store import dumps, load
    from arxiv_digest.summarize import make_summarizer

    site = make_site(tmp_path / "site", {})
    summarize_days(site)
    path = site / "content" / "digests" / "2024" / "2024-11-28.json"
    before = path.read_bytes()
    settings = load_settings({"PATH": str(site / "content"), "DEFAULT_LANG": "zh-CN",
                              "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml")}, env={})
    assert settings.llm.lang == "zh-CN" and settings.llm.backend == "extractive"
    day = make_summarizer(settings).summarize(load(path))
    assert all(set(p.summaries) <= {"en"} for p in day.papers)
    assert set(day.extra["briefings"]) == {"en"}
    assert dumps(day).encode("utf-8") == before
    build_site(site, tmp_path / "zh", DEFAULT_LANG="zh-CN")
    doc = page(tmp_path / "zh", "2024/11/28")
    assert {text(e) for e in doc.cssselect(".paper .summary-label")} == {"总结 · 英文原文摘录"}
    assert not doc.cssselect(".paper .summary.pending")
    assert doc.cssselect(".briefing p[data-topic]")


def test_a_catalog_edit_reaches_the_cached_day_pages(tmp_path: Path) -> None:
    """The build cache (daycache) keys the rendered days by the catalog too: an edited msgstr
    shows on the next build, and the English build of the same content is not the Chinese one."""
    from sitedata import synthetic_days

    days = synthetic_days()
    site = make_site(tmp_path / "site", {"2024-11-27": days["2024-11-27"]}, real=False)
    summarize_days(site)
    build_site(site, tmp_path / "zh1", DEFAULT_LANG="zh-CN")
    assert "总结 · " in text(page(tmp_path / "zh1", "2024/11/27").cssselect(".summary-label")[0])
    po = site / "theme" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "总结"', 'msgstr "概要"'), encoding="utf-8")
    build_site(site, tmp_path / "zh2", DEFAULT_LANG="zh-CN")
    assert "概要 · " in text(page(tmp_path / "zh2", "2024/11/27").cssselect(".summary-label")[0])
    build_site(site, tmp_path / "en")
    assert "Summary · " in text(page(tmp_path / "en", "2024/11/27").cssselect(".summary-label")[0])


# --- topic reasons: the "why" of a topic chip and of "also mentions" (reasons.py) -------------

REASON_WORDS = re.compile(r"about|mentions|title|contribution|occurrence|sentence|excluded|framed|"
                          r"context|model|matched|around", re.IGNORECASE)


def _zh() -> Any:
    return translations(ROOT / "theme", "zh-CN")


def _real_decisions() -> list[Any]:
    """Every decision of the real 1,504-item feed (all categories) with the shipped digest.yaml."""
    from arxiv_digest.core.settings import load_settings
    from arxiv_digest.enrich.tagging import tagger_for
    from arxiv_digest.update.fetch import parse_rss
    from arxiv_digest.update.normalize import normalize
    from arxiv_server import FIXTURES

    settings = load_settings({"ARXIV_DIGEST_CONFIG": str(ROOT / "digest.yaml")}, env={})
    fetched = parse_rss((FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes(), "feed")
    tagger = tagger_for(settings)
    papers = normalize(fetched.records, [])
    assert len(papers) > 1400
    return [(settings, d) for p in papers for d in tagger.decide(p.title, p.abstract).values()]


def _data_words(settings: Any, d: Any) -> list[str]:
    """What a reason line may keep in English: topic names, not_about labels, matched words."""
    words = [t.name for t in settings.topics] + list(d.terms) + [w.lower() for w in d.terms]
    words += [label for t in settings.topics for label, _ in t.not_about]
    return sorted(set(words), key=len, reverse=True)


def test_every_reason_the_decider_writes_reads_in_chinese() -> None:
    """Over the real feed, every reason of every decision has a shape reasons.py knows: the zh
    line keeps only data (topic names, labels, matched words) in English. A new reason shape in
    enrich/topics.py fails here until it gets its msgid."""
    import gettext

    from arxiv_digest.core.reasons import translate_reason, translate_why
    from arxiv_digest.enrich.decision import Verdict, with_verdict
    from arxiv_digest.enrich.tagging import why

    decided = _real_decisions()
    assert len(decided) > 50
    tr, shapes = _zh(), set()
    for settings, d in decided:
        for reason in d.reasons:
            assert translate_reason(gettext.NullTranslations(), reason) is not None, reason
            shapes.add(re.sub(r"\d+", "N", reason.split(":")[0].split(" ")[0]))
        for decision in (d, with_verdict(d, Verdict(not d.about, "gpt-4o-mini", "it is; see §3"))):
            line = translate_why(tr, why(decision))
            assert line.startswith(("属于该主题：", "仅提及：")), line
            rest = line.replace("gpt-4o-mini", "").replace("it is; see §3", "")
            for word in _data_words(settings, d):
                rest = rest.replace(word, "")
            assert not REASON_WORDS.search(rest), (why(decision), line)
            # English (no catalog): the line as it is, byte for byte
            assert translate_why(gettext.NullTranslations(), why(decision)) == why(decision)
    assert {"title", "contribution", "N", "about", "excluded", "no"} <= shapes, shapes


def test_the_chinese_edition_shows_chinese_reasons_and_the_english_one_is_unchanged(
        editions: Path) -> None:
    from arxiv_digest.core.settings import load_settings
    from arxiv_digest.core.store import load_day
    from arxiv_digest.enrich.tagging import tagger_for, why

    settings = load_settings({"ARXIV_DIGEST_CONFIG": str(ROOT / "digest.yaml")}, env={})
    tagger = tagger_for(settings)
    stored = load_day(ROOT / "content" / "digests", "2024-11-28")
    assert stored is not None
    papers = {p.anchor: p for p in stored.papers}
    zh, en = page(editions / "zh", "2024/11/28"), page(editions, "2024/11/28")
    chips = en.cssselect("article.paper .chip")
    mentions = en.cssselect("details.mentions li")  # on listed papers' cards, and in the list
    # of papers that only mention a topic (li#m-<anchor>)
    assert chips and mentions
    for chip in chips:  # English: why(decision) exactly as before the filter
        anchor = chip.getparent().getparent().get("id")
        topic = text(chip.cssselect("a.tag")[0])
        expected = why(tagger.decide_paper(papers[anchor])[topic])
        assert text(chip.cssselect(".why-text")[0]).startswith(f"{expected} · matched "), anchor
    for li in mentions:
        anchor = next(e.get("id") for e in li.iterancestors() if e.get("id")).removeprefix("m-")
        topic = text(li.cssselect(".topic-name")[0])
        assert text(li).endswith(f"; {why(tagger.decide_paper(papers[anchor])[topic])}"), anchor
    zh_why = [text(e) for e in zh.cssselect("article.paper .why-text")]
    zh_mentions = [text(li) for li in zh.cssselect("details.mentions li")]
    assert len(zh_why) == len(chips) and len(zh_mentions) == len(mentions)
    assert all(w.startswith("属于该主题：") and " · 匹配 “" in w for w in zh_why), zh_why[:3]
    assert all("仅提及：" in m for m in zh_mentions), zh_mentions[:3]
    for line in zh_why + zh_mentions:
        for english in ("about:", "only mentions:", "occurrence", "contribution sentence",
                        "excluded:", "not framed as", "first sentence", "; "):
            assert english not in line, line


def test_hostile_reasons_stay_text_and_data_stays_as_given() -> None:
    """Markup in a model's name, its words or a label is escaped by the template; a "; " inside
    a model's words or a label does not split it; an unknown shape is kept as it is."""
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    install(env, ROOT / "theme", "zh-CN")
    tpl = env.from_string("{{ line|topic_why }}")
    hostile = ("about: model (<img src=x onerror=alert(1)>): about, uses <script>x</script>; "
               "see §3; title; excluded: <b>sparse</b>; views x2; 1 occurrences")
    assert tpl.render(line=hostile) == (
        "属于该主题：模型（&lt;img src=x onerror=alert(1)&gt;）：属于该主题，uses "
        "&lt;script&gt;x&lt;/script&gt;; see §3；标题；已排除：&lt;b&gt;sparse&lt;/b&gt;; views ×2；"
        "出现 1 次")
    assert tpl.render(line="<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert tpl.render(line="only mentions: matched words") == "仅提及：匹配到的词"
    assert tpl.render(line=None) == "" and tpl.render(line="") == ""
    # no reason words left to translate in a line of unknown shapes, however long
    big = "about: " + "; ".join(["x" * 50] * 5000)
    assert tpl.render(line=big) == "属于该主题：" + "; ".join(["x" * 50] * 5000)
    env_en = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    install(env_en, ROOT / "theme", "en")
    assert env_en.from_string("{{ line|topic_why }}").render(line=hostile) == str(
        env_en.from_string("{{ line }}").render(line=hostile))
