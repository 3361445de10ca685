"""What changed between versions, and links both ways between days (enrich.versions, enrich.backlinks).

Unit tests of the word diff and the figures; then the real path: an earlier day stored by a
backfill through the local arXiv API server (the real records of the 2024-11-28 feed's
replacements, as the v1 each one replaced: a sentence shorter, a figure different, a title word
fewer, no journal reference), then `update` of the real 2024-11-28 feed (183 replacements among
513 papers). The replacements record what changed; the earlier day's file learns about the later
one; a tiny site built from both shows the diffs, the badges and links both ways; a browser checks
the "has code" filter and the diffs.
"""

from __future__ import annotations

import datetime as dt
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
from arxiv_digest.cli.commands import main
from arxiv_digest.core.models import Paper
from arxiv_digest.enrich import dayindex, versions
from arxiv_digest.enrich.versions import figure_changes, figures, word_diff
from arxiv_server import FIXTURES, ArxivServer, api_day_from_rss, api_pages
from conftest import CATS, ROOT, build_site
from lxml import html

RSS_DAY = "rss_all-archives_2024-11-28.xml"
EARLIER, LATER = "2024-11-21", "2024-11-28"
DUP_ID = "2411.09999"  # an earlier paper under another id whose title a new paper repeats
HOSTILE = '<img src=x onerror=alert(1)> & "quoted"'


# --- units -------------------------------------------------------------------------------------

def test_word_diff_segments_and_elision() -> None:
    assert word_diff("a b c", "a  b\nc") is None  # whitespace only: no change
    assert word_diff("the cat sat", "the dog sat") == [["=", "the"], ["-", "cat"], ["+", "dog"], ["=", "sat"]]
    old = " ".join(f"w{i}" for i in range(100))
    new = old.replace("w50", "W50") + " added."
    diff = word_diff(old, new, 3)
    assert diff == [["…", ""], ["=", "w47 w48 w49"], ["-", "w50"], ["+", "W50"], ["=", "w51 w52 w53"],
                    ["…", ""], ["=", "w97 w98 w99"], ["+", "added."]]
    # a hostile size is not compared word by word (bounded time and output)
    huge = " ".join(["x"] * 50_000)
    assert [op for op, _ in word_diff(huge, huge + " y", 8) or []] == ["-", "+"]


def test_figures_and_their_changes() -> None:
    text = (r"a 2.3$\times$ speedup, 45.2% accuracy (+3.1 points), 4-bit weights, a 7B model, "
            r"12 GB, 30 ms; 3x faster; 13.77\%")
    assert [f for _, f in figures(text)] == [
        "2.3\u00d7", "45.2%", "+3.1 points", "4-bit", "7B", "12 GB", "30 ms", "3\u00d7", "13.77%"]
    assert figure_changes("accuracy 45.2% and 2.3x speedup on 7B",
                          "accuracy 47.0% and 2.3x speedup on 7B and 13B, 4-bit") == [
        ["45.2%", "47.0%"], [None, "13B"], [None, "4-bit"]]
    assert figure_changes("1% 2%", "2% 1%") == []  # the same figures in another order


def paper(pid: str = "2411.00001", version: int = 1, **kw: Any) -> Paper:
    base: dict[str, Any] = {"title": "A title", "authors": ("A",), "abstract": "An abstract.",
                            "categories": ("cs.LG",), "primary_category": "cs.LG",
                            "announce_type": "new" if version == 1 else "replace"}
    base.update(kw)
    return Paper(id=pid, version=version, **base)


def test_changes_record() -> None:
    old = paper(abstract="We reach 45% with 7B.", journal_ref=None, comment="Under review")
    new = paper(version=2, title="A new title", abstract="We reach 47% with 7B. Accepted.",
                journal_ref="CVPR 2025", comment=None)
    c = versions.changes(old, new, EARLIER)
    assert c["since"] == {"date": EARLIER, "version": 1}
    assert c["title"] == [["=", "A"], ["+", "new"], ["=", "title"]]
    assert c["abstract"] == [["=", "We reach"], ["-", "45%"], ["+", "47%"], ["=", "with 7B."],
                             ["+", "Accepted."]]
    assert c["figures"] == [["45%", "47%"]]
    # a new journal ref is a note; a comment the new source does not carry (RSS) says nothing
    assert c["notes"] == [{"field": "journal_ref", "old": None, "new": "CVPR 2025"}]
    assert versions.valid_changes(c)
    assert not versions.valid_changes({"since": {"date": 1}})
    assert not versions.valid_changes({**c, "title": [["<script>", "x"]]})


def test_stored_fields_old_files_and_hostile_values() -> None:
    from arxiv_digest.core.errors import StoreError
    from arxiv_digest.core.models import VersionRef

    old_form = paper().to_dict()
    for key in ("links", "versions", "changes"):
        del old_form[key]  # a day file stored before code links and version diffs
    p = Paper.from_dict(old_form)
    assert (p.links, p.versions, p.changes) == ((), (), None)
    assert Paper.from_dict(p.to_dict()) == p
    with pytest.raises(StoreError, match=r"\.versions: expected"):
        Paper.from_dict({**old_form, "versions": [{"date": EARLIER, "version": "2"}]})
    with pytest.raises(StoreError, match=r"\.links: expected"):
        Paper.from_dict({**old_form, "links": ["https://github.com/a/b"]})
    # the page shows only well-formed values: a bad change record or a date that is no date is dropped
    bad = paper(version=2, changes={"since": {"date": "../../etc", "version": 1}, "title": None,
                                    "abstract": None, "notes": [], "figures": []},
                versions=(VersionRef("../../etc/passwd", 1), VersionRef(EARLIER, 1)))
    assert versions.page_changes(bad) is None
    assert versions.version_links(bad, "/digests") == (
        (f"{{filename}}/digests/2024/{EARLIER}.json#2411.00001", "v1 \u00b7 Thu 21 Nov 2024"),)


# --- the real path: backfill an earlier day, update the feed's day ------------------------------

def _v1(entry: bytes, i: int) -> bytes:
    """The v1 a real replacement replaced: one edit of a kind authors make, chosen by position."""
    text = entry.decode()
    text = re.sub(r"(arxiv\.org/(?:abs|pdf)/[\d.]+)v\d+", r"\1v1", text)
    text = re.sub(r"\s*<arxiv:journal_ref>.*?</arxiv:journal_ref>", "", text)
    summary = re.search(r"<summary>(.*?)</summary>", text, re.S)
    assert summary
    abstract = summary.group(1)
    if i % 3 == 0:  # v2 added its last sentence
        cut = abstract.rstrip(". ").rfind(". ")
        if cut > 0:
            abstract = abstract[: cut + 1]
    elif i % 3 == 1:  # v2 changed a figure
        abstract = re.sub(r"(?<![\w.])(\d+)(\.\d+)?(?=\s?(?:%|\\%|x\b))",
                          lambda m: str(int(m.group(1)) + 1) + (m.group(2) or ""), abstract, count=1)
    if i % 5 == 0:  # v2 added a title word
        text = re.sub(r"<title>(.*?) (\S+)</title>", r"<title>\1</title>", text, count=1)
    text = text.replace(summary.group(0), f"<summary>{abstract}</summary>")
    return text.encode()


def _dup(entry: bytes) -> bytes:
    """An earlier paper under another id with the same title (a re-submission's first id)."""
    text = re.sub(r"arxiv\.org/(abs|pdf)/[\d.]+v\d+", rf"arxiv.org/\1/{DUP_ID}v1", entry.decode())
    return text.encode()


def _feed_items() -> list[tuple[str, str, list[str], str]]:
    """(id, announce type, categories, title) of the feed's items, in order."""
    root = html.etree.parse(str(FIXTURES / RSS_DAY)).getroot()
    out = []
    for item in root.find("channel").findall("item"):
        m = re.match(r"arXiv:(\S+?)v\d+\s+Announce Type:\s*(\S+)", item.findtext("description") or "")
        assert m
        out.append((m.group(1), m.group(2), [c.text for c in item.findall("category")],
                    item.findtext("title") or ""))
    return out


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An earlier day (backfilled) and the real feed's day (updated) in one site; both day files."""
    site = tmp_path_factory.mktemp("versions-site")
    for name in ("pelicanconf.py", "publishconf.py", "digest.yaml"):
        shutil.copy(ROOT / name, site / name)
    shutil.copytree(ROOT / "theme", site / "theme")
    (site / "content" / "digests").mkdir(parents=True)
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.05\nARXIV_DIGEST_RETRIES = 1\n")
    start = dt.datetime(2024, 11, 19, 19, tzinfo=dt.UTC)
    entries = api_day_from_rss(RSS_DAY, start, start + dt.timedelta(days=1))
    wanted = set(CATS.split("+"))
    items = _feed_items()
    replaced = [i for i, (_, kind, cats, _) in enumerate(items) if kind == "replace" and wanted & set(cats)]
    new_with_topic = next(i for i, (_, kind, cats, title) in enumerate(items)
                          if kind == "new" and "cs.LG" in cats and re.search(r"(?i)quantiz", title))
    earlier = [_v1(entries[i], n) for n, i in enumerate(replaced)] + [_dup(entries[new_with_topic])]
    server = ArxivServer()
    base = server.start()
    server.route("/api/query", api_pages(earlier))
    server.route(f"/rss/{CATS}", RSS_DAY)
    conf = str(site / "pelicanconf.py")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARXIV_DIGEST_RSS_URL", f"{base}/rss")
        mp.setenv("ARXIV_DIGEST_API_URL", f"{base}/api/query")
        mp.chdir(site)
        assert main(["-s", conf, "update", "--date", EARLIER, "--now", "2024-11-22T12:00:00+00:00"]) == 0
        earlier_before = (site / f"content/digests/2024/{EARLIER}.json").read_bytes()
        assert main(["-s", conf, "update", "--now", "2024-11-28T10:17:00+00:00"]) == 0
        earlier_after = (site / f"content/digests/2024/{EARLIER}.json").read_bytes()
        # a second run of the same day changes neither file (the links back are already there)
        later_first = (site / f"content/digests/2024/{LATER}.json").read_bytes()
        assert main(["-s", conf, "update", "--now", "2024-11-28T10:17:00+00:00"]) == 0
        assert (site / f"content/digests/2024/{EARLIER}.json").read_bytes() == earlier_after
        assert (site / f"content/digests/2024/{LATER}.json").read_bytes() == later_first
    server.stop()
    yield {
        "site": site,
        "replaced": [items[i][0] for i in replaced],
        "dup_of": items[new_with_topic][0],
        "earlier_before": json.loads(earlier_before),
        "earlier": json.loads(earlier_after),
        "later": json.loads(later_first),
    }


def test_every_stored_replacement_says_what_changed(two_days: dict[str, Any]) -> None:
    later = {p["id"]: p for p in two_days["later"]["papers"]}
    replaced = two_days["replaced"]
    assert len(replaced) == 183  # the real day's replacements in cs.AI, cs.CL, cs.CV and cs.LG
    changed = [later[i] for i in replaced]
    assert all(p["changes"]["since"] == {"date": EARLIER, "version": 1} for p in changed)
    assert all(p["versions"] == [{"date": EARLIER, "version": 1}] for p in changed)
    added_sentence = [later[i] for n, i in enumerate(replaced) if n % 3 == 0]
    assert sum(1 for p in added_sentence if p["changes"]["abstract"]
               and p["changes"]["abstract"][-1][0] == "+") >= 0.9 * len(added_sentence)
    with_figures = [p for p in changed if p["changes"]["figures"]]
    assert len(with_figures) >= 10
    assert all(old and new for p in with_figures for old, new in p["changes"]["figures"]
               if p["changes"]["title"] is None and replaced.index(p["id"]) % 3 == 1)
    titled = [later[i] for n, i in enumerate(replaced) if n % 5 == 0]
    assert all(p["changes"]["title"] and p["changes"]["title"][-1][0] == "+" for p in titled)
    notes = [p for p in changed if p["changes"]["notes"]]
    assert notes and all(n["field"] == "journal_ref" and n["old"] is None
                         for p in notes for n in p["changes"]["notes"])
    assert all(versions.valid_changes(p["changes"]) for p in changed)
    # the new papers compare with nothing
    assert not [p for p in later.values() if not p["announce_type"].startswith("replace") and p["changes"]]


def test_the_earlier_day_links_forward(two_days: dict[str, Any]) -> None:
    before = {p["id"]: p for p in two_days["earlier_before"]["papers"]}
    after = {p["id"]: p for p in two_days["earlier"]["papers"]}
    later = {p["id"]: p for p in two_days["later"]["papers"]}
    assert all(p["versions"] == [] for p in before.values())
    for pid in two_days["replaced"]:
        assert after[pid]["versions"] == [{"date": LATER, "version": later[pid]["version"]}]
    # the near-identical title: the later paper links back, and now the earlier one links forward
    assert {"date": EARLIER, "id": DUP_ID} in later[two_days["dup_of"]]["related"]
    assert before[DUP_ID]["related"] == []
    assert after[DUP_ID]["related"] == [{"date": LATER, "id": two_days["dup_of"]}]
    # nothing else of the earlier day changed
    strip = ("versions", "related")
    assert [{k: v for k, v in p.items() if k not in strip} for p in before.values()] == [
        {k: v for k, v in p.items() if k not in strip} for p in after.values()]


def test_the_version_index_is_derived_and_hash_checked(two_days: dict[str, Any], tmp_path: Path) -> None:
    data = tmp_path / "digests"
    shutil.copytree(two_days["site"] / "content" / "digests", data)
    path = data / "2024" / f"{EARLIER}.json"
    index = dayindex.index_path(data, EARLIER)
    ids = dayindex.day_versions(data, path)
    assert index.exists() and ids[DUP_ID] == 1 and len(ids) == len(two_days["earlier"]["papers"])
    # a broken index is rebuilt; a touched file with the same bytes keeps it (a new stat only)
    index.write_text("{not json")
    assert dayindex.day_versions(data, path) == ids
    path.touch()
    assert dayindex.day_versions(data, path) == ids
    # changed bytes: rebuilt from the day file
    day = json.loads(path.read_text())
    day["papers"] = day["papers"][:1]
    path.write_text(json.dumps(day))
    assert dayindex.day_versions(data, path) == {day["papers"][0]["id"]: 1}
    # a day file that is gone: its index is pruned at the next lookup
    path.unlink()
    versions.earlier_versions(data, LATER, [paper(version=2)])
    assert not index.exists()


def test_a_broken_earlier_day_is_a_warning_not_a_failed_update(two_days, tmp_path, caplog):
    data = tmp_path / "digests"
    shutil.copytree(two_days["site"] / "content" / "digests", data)
    (data / "2024" / f"{EARLIER}.json").write_text("[]")
    later = json.loads((data / "2024" / f"{LATER}.json").read_text())
    replaced = [Paper.from_dict(p) for p in later["papers"] if p["changes"]][:3]
    assert versions.earlier_versions(data, LATER, replaced) == {}
    assert "not compared with new versions" in caplog.text


# --- the site: diffs, badges, links both ways, escaping -----------------------------------------

@pytest.fixture(scope="module")
def built(two_days: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = two_days["site"]
    later = site / f"content/digests/2024/{LATER}.json"
    day = json.loads(later.read_text())
    target = next(p for p in day["papers"] if p["changes"] and p["changes"]["abstract"] and p["tags"])
    # hostile text in a stored diff, note and link: shown as text, the javascript: link dropped
    target["changes"]["abstract"].append(["+", HOSTILE])
    target["changes"]["notes"].append({"field": "comment", "old": None, "new": HOSTILE})
    target["links"] = [{"kind": "code", "url": "javascript:alert(1)"},
                       {"kind": "code", "url": "https://github.com/owner/repo"}]
    later.write_text(json.dumps(day, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    two_days["hostile_id"] = target["id"]
    return build_site(site, tmp_path_factory.mktemp("versions-out"))


def _page(out: Path, date: str) -> Any:
    return html.fromstring((out / date.replace("-", "/") / "index.html").read_bytes())


def test_replacements_show_their_diff_and_link_back(built: Path, two_days: dict[str, Any]) -> None:
    page = _page(built, LATER)
    cards = page.cssselect("section.papers.updated article.paper")
    assert cards
    assert all(c.cssselect(".changes") for c in cards)  # every listed replacement had a stored v1
    diffs = [c for c in cards if c.cssselect("details.changes")]
    assert diffs
    stored = {p["id"]: p["changes"] for p in json.loads(
        (two_days["site"] / f"content/digests/2024/{LATER}.json").read_text())["papers"]}
    for card in diffs:  # one <ins>/<del> per added/removed run, figure and note
        c = stored[card.get("id")]
        runs = [op for key in ("title", "abstract") for op, _ in c[key] or []]
        assert len(card.cssselect("details.changes ins")) == runs.count("+") + sum(
            1 for _, new in c["figures"] if new) + len(c["notes"])
        assert len(card.cssselect("details.changes del")) == runs.count("-") + sum(
            1 for old, _ in c["figures"] if old) + sum(1 for n in c["notes"] if n["old"])
    assert sum(1 for c in diffs if c.cssselect("details.changes ins")) >= len(diffs) // 2
    card = page.get_element_by_id(two_days["hostile_id"])
    assert not card.cssselect("img") and not card.cssselect("[onerror]")
    assert HOSTILE in card.cssselect("details.changes")[0].text_content()
    assert [a.get("href") for a in card.cssselect(".artefacts a")] == ["https://github.com/owner/repo"]
    assert card.get("data-code") is not None
    link = card.cssselect(".versions a")[0]
    assert link.get("href") == f"https://digest.example.org/2024/11/21/#{two_days['hostile_id']}"
    assert b"javascript:" not in (built / "2024/11/28/index.html").read_bytes()


def test_the_earlier_page_links_forward(built: Path, two_days: dict[str, Any]) -> None:
    page = _page(built, EARLIER)
    forward = [a.get("href") for a in page.cssselect("article.paper .versions a")]
    assert forward and all(h.startswith("https://digest.example.org/2024/11/28/#") for h in forward)
    later = _page(built, LATER)
    for href in forward:  # every forward link lands on a paper of the later page
        assert later.get_element_by_id(href.split("#")[1]) is not None
    dup = page.get_element_by_id(DUP_ID)
    assert [a.get("href") for a in dup.cssselect(".related a")] == [
        f"https://digest.example.org/2024/11/28/#{two_days['dup_of']}"]


def test_badges_and_the_has_code_button(built: Path) -> None:
    page = _page(built, LATER)
    coded = page.cssselect("article.paper[data-code]")
    assert len(coded) >= 2  # the listed papers (with a topic) that link code, and the hostile one
    button = page.cssselect(".filter button.has-code")[0]
    assert int(button.cssselect(".n")[0].text) == len(coded)
    for card in coded:
        assert card.cssselect(".artefacts a.artefact")
    hrefs = [a.get("href") for a in page.cssselect("a.artefact")]
    assert all(h.startswith(("https://", "http://")) for h in hrefs)
    topic = html.fromstring((built / "topics/quantization/index.html").read_bytes())
    assert topic.cssselect("button.has-code")
    assert len(topic.cssselect("article.paper[data-code]")) == int(
        topic.cssselect("button.has-code .n")[0].text)


# --- in a browser -------------------------------------------------------------------------------

class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.browser
def test_has_code_filter_and_diffs_in_a_browser(two_days: dict[str, Any], built: Path,
                                                tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extras")
    out = build_site(two_days["site"], tmp_path / "out", SITEURL="", FEED_DOMAIN="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    foreign: list[str] = []
    errors: list[str] = []
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base + "/")
                          else (foreign.append(r.request.url), r.abort()))
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/2024/11/28/", wait_until="load")
            visible = "() => [...document.querySelectorAll('article.paper')].filter(p => !p.hidden).length"
            total = page.evaluate(visible)
            page.click("button.has-code")
            assert page.get_attribute("button.has-code", "aria-pressed") == "true"
            shown = page.evaluate(visible)
            assert 0 < shown < total
            assert page.evaluate("() => [...document.querySelectorAll('article.paper')]"
                                 ".filter(p => !p.hidden).every(p => p.hasAttribute('data-code'))")
            assert page.evaluate("() => [...document.querySelectorAll('nav.toc li')]"
                                 ".filter(li => !li.hidden).length") == shown
            assert "with code" in page.text_content(".filter-status")
            assert "code=1" in page.url
            # with a topic as well: both filters hold
            page.click(".filter button[data-topic='quantization']")
            both = page.evaluate("() => [...document.querySelectorAll('article.paper')]"
                                 ".filter(p => !p.hidden).every(p => p.hasAttribute('data-code')"
                                 " && p.dataset.tags.split(' ').includes('quantization'))")
            assert both
            page.click(".filter button[data-topic='']")
            page.click("button.has-code")
            assert page.evaluate(visible) == total and "code=1" not in page.url
            # the address keeps it: a reload with ?code=1 shows only papers with code
            page.goto(f"{base}/2024/11/28/?code=1", wait_until="load")
            assert page.evaluate(visible) == shown
            # a link to a paper without code lets go of the filter and shows it
            plain = page.evaluate("() => document.querySelector('article.paper:not([data-code])').id")
            page.evaluate(f"() => {{ location.hash = '{plain}'; }}")
            page.wait_for_function(f"() => !document.getElementById('{plain}').hidden")
            assert page.get_attribute("button.has-code", "aria-pressed") == "false"
            assert page.evaluate(visible) == total
            # a diff unfolds; <ins>/<del> are elements, the hostile text stays text
            hid = two_days["hostile_id"]
            card = f"article[id='{hid}']"
            page.goto(f"{base}/2024/11/28/#{hid}", wait_until="load")
            page.click(f"{card} details.changes summary")
            assert page.is_visible(f"{card} details.changes ins")
            assert page.evaluate(f"() => document.querySelectorAll(\"{card} details.changes img\").length") == 0
            # the version link goes to the earlier day's paper, which links forward again
            page.click(f"{card} .versions a")
            page.wait_for_url(f"**/2024/11/21/#{hid}")
            assert page.is_visible(card)
            page.click(f"{card} .versions a")
            page.wait_for_url(f"**/2024/11/28/#{hid}")
            # the topic page's filter
            page.goto(f"{base}/topics/quantization/", wait_until="load")
            all_papers = page.evaluate(visible)
            page.click("button.has-code")
            assert 0 < page.evaluate(visible) <= all_papers
            assert page.evaluate("() => [...document.querySelectorAll('article.paper')]"
                                 ".filter(p => !p.hidden).every(p => p.hasAttribute('data-code'))")
            context.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert foreign == [] and errors == []


# --- links back spliced into an earlier day by each linked paper's id line (enrich/backlinks.py) --

@pytest.mark.parametrize("twice", [False, True], ids=["in place", "an id line twice"])
def test_link_back_finds_each_paper_by_its_own_id_line(tmp_path: Path, monkeypatch: Any,
                                                        twice: bool) -> None:
    """A real-size earlier day (the 1,504 real records of the recorded feed) whose texts imitate
    the file's layout: a title holding another linked paper's id line, an abstract holding fake
    block braces and the papers' list end, a comment with the id of the paper after it. 300
    papers are linked back (a version each) and 40 more gain a near-identical title: only their
    blocks are written, as bytes, and the file is byte for byte what reading, linking and
    writing the whole day gives. With an id line in the file twice (a hand-made duplicate
    block), the day is rewritten whole instead: same bytes as a whole rewrite, no error."""
    from dataclasses import replace

    from arxiv_digest.core import store
    from arxiv_digest.core.filekeys import file_key
    from arxiv_digest.core.models import Digest, Related, VersionRef
    from arxiv_digest.enrich import backlinks
    from arxiv_digest.update.fetch import parse_rss
    from arxiv_digest.update.normalize import normalize

    day = parse_rss((FIXTURES / "rss_all-archives_2024-11-28.xml").read_bytes(), "feed")
    papers = list(normalize(day.records, []))
    assert len(papers) == 1504
    ids = [p.id for p in papers]
    papers[0] = replace(papers[0], title=f'x\n      "id": "{ids[1]}",\n    }},\n    {{\n')
    papers[2] = replace(papers[2], abstract='ends\n    },\n    {\n  ]\n  "papers": [\n \u2028 é')
    papers[4] = replace(papers[4], comment=f'"id": "{ids[5]}"')
    data = tmp_path / "digests"
    earlier = Digest(date="2024-11-27", categories=("cs.AI",), source="rss",
                     papers=tuple(papers), announced={"new": len(papers)})
    path = store.save(data, earlier)
    if twice:  # the same block twice (one id twice: the file's last one wins when read whole)
        raw = path.read_text(encoding="utf-8")
        start = raw.rindex('\n    {\n', 0, raw.index(f'"id": "{ids[10]}"'))
        end = raw.index("\n    }", start + 1) + len("\n    }")
        path.write_text(raw[:end] + "," + raw[start:end] + raw[end:], encoding="utf-8")
        earlier = store.load(path)
    dayindex.remember(data, path, earlier)
    later = Digest(date="2024-11-28", categories=("cs.AI",), source="rss", papers=(
        *(replace(p, version=p.version + 1, announce_type="replace",
                  versions=(VersionRef("2024-11-27", p.version),)) for p in papers[:300]),
        *(replace(p, id=f"2411.9{k:04d}", related=(Related("2024-11-27", p.id),))
          for k, p in enumerate(papers[-40:]))))
    links = backlinks.wanted(later)["2024-11-27"]
    stored = store.load(path)
    expected = store.dumps(stored.with_papers(tuple(
        backlinks._linked(p, links) for p in stored.papers))).encode("utf-8")
    if not twice:
        def whole(*args: Any) -> int:
            raise AssertionError("the whole file was rewritten")

        monkeypatch.setattr(backlinks, "_rewrite", whole)
    assert backlinks.link_back(data, later, 5) == 1
    after = path.read_bytes()
    assert after == expected
    fresh = dayindex.fresh(data, after, "2024-11-27")
    assert fresh is not None and fresh[0]["key"] == file_key(after)
    got = {p.id: p for p in store.load(path).papers}
    assert got[ids[0]].title == papers[0].title and got[ids[4]].comment == papers[4].comment
    assert [v.date for v in got[ids[1]].versions] == ["2024-11-28"]
    assert got[ids[-1]].related == (Related("2024-11-28", "2411.90039"),)
