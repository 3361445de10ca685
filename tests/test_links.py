"""Code links (enrich.links): found in real abstracts and comments, normalized, classified, safe.

Unit tests on the forms arXiv text really uses, a real-volume pass over the 1,504-item RSS day
and the recorded API answers, hostile input (javascript:, markup, 10,000-character URLs, look-alike
hosts), and the component path: `update` over the local arXiv server stores them in the day file.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.core.models import Link
from arxiv_digest.enrich.links import MAX_LINKS, badges, find_links, has_artefacts, safe_url
from arxiv_digest.update.fetch import parse_rss
from arxiv_server import FIXTURES, ArxivServer, paged_feed
from conftest import CATS

RSS_DAY = "rss_all-archives_2024-11-28.xml"


def kinds(text: str) -> list[tuple[str, str]]:
    return [(link.kind, link.url) for link in find_links(text)]


@pytest.mark.parametrize(("text", "expected"), [
    # real sentences from the 2024-11-28 feed and the recorded API answers
    ("We made our code available in: https://github.com/mandiehyewon/goodviews_ecg.git",
     [("code", "https://github.com/mandiehyewon/goodviews_ecg")]),
    (r"code is open-sourced at \href{https://github.com/Kanyooo/EEG-DCNet}{here}.",
     [("code", "https://github.com/Kanyooo/EEG-DCNet")]),
    ("The project page is: https://wanquanf.github.io/I2VControl .",
     [("project", "https://wanquanf.github.io/I2VControl")]),
    (r"by $13.77\%$. Code is available at github.com/sftekin/h3fusion.",
     [("code", "https://github.com/sftekin/h3fusion")]),
    (r"The MapEval library\footnote{\texttt{https://github.com/JokerJohn/Cloud\_Map\_Evaluation}} will",
     [("code", "https://github.com/JokerJohn/Cloud_Map_Evaluation")]),
    (r"exploration: \href{https://github.com/MaeChd/SurrogateVarStabe}{https://github.com/MaeChd/SurrogateVarStabe}.",
     [("code", "https://github.com/MaeChd/SurrogateVarStabe")]),
    ("This article introduces ACSP-FL (https://github.com/AllanMSouza/ACSP-FL), a solution",
     [("code", "https://github.com/AllanMSouza/ACSP-FL")]),
    ("The TemplateGSM dataset is publicly available at https://huggingface.co/datasets/math-ai/TemplateGSM. "
     "The code is available at https://github.com/iiis-ai/TemplateMath.",
     [("dataset", "https://huggingface.co/datasets/math-ai/TemplateGSM"),
      ("code", "https://github.com/iiis-ai/TemplateMath")]),
    ("quantized checkpoints used in this work at https://huggingface.co/Xu-Ouyang.",
     [("model", "https://huggingface.co/Xu-Ouyang")]),
    (r"Project website: \url{https://www.lamda.nju.edu.cn/shaojj/KDD25_ABIL/}.",
     [("project", "https://www.lamda.nju.edu.cn/shaojj/KDD25_ABIL")]),
    ("make our code and datasets available at https://anonymous.4open.science/r/FoundTS-C2B0.",
     [("code", "https://anonymous.4open.science/r/FoundTS-C2B0")]),
    (r"and interactive demos: \url{cat-4d.github.io}.", [("project", "https://cat-4d.github.io/")]),
    # not artefacts: a DOI of the published version, a conference page, a webcast, a bare website
    ("In Proceedings of ESEC/FSE'17. https://doi.org/10.1145/3106237.3106277, ESEC/FSE, 2017", []),
    ("Quality Characteristics of Software Systems - https://icst2021.icmc.usp.br/details/x", []),
    (r"and webcast at \url{https://shorturl.at/2ZSI7} -- in Portuguese", []),
    ("The website is accessible at www.metaphorshare.com.", []),
    ("See https://huggingface.co/papers/2411.17700 for the discussion.", []),
])
def test_real_forms(text: str, expected: list[tuple[str, str]]) -> None:
    assert kinds(text) == expected


def test_spaces_that_line_wrapping_put_inside_links() -> None:
    assert kinds("Code: https://github. com/owner/repo.") == [("code", "https://github.com/owner/repo")]
    assert kinds("Code: https:// github.com/owner/repo") == [("code", "https://github.com/owner/repo")]
    assert kinds("Code at github.com/ owner/repo and more") == [("code", "https://github.com/owner/repo")]
    assert kinds("Models at https://huggingface. co/spaces/a/demo") == [
        ("space", "https://huggingface.co/spaces/a/demo")]
    # an ordinary sentence break is left alone
    assert kinds("We release it. Company results follow.") == []


def test_duplicates_and_order() -> None:
    text = ("Code: https://github.com/A/B, mirror http://www.github.com/a/b/ and github.com/a/b.git; "
            "demo https://huggingface.co/spaces/A/B.")
    assert kinds(text) == [("code", "https://github.com/A/B"), ("space", "https://huggingface.co/spaces/A/B")]
    many = " ".join(f"https://github.com/o/r{i}" for i in range(50))
    assert len(find_links(many)) == MAX_LINKS


def test_balanced_parentheses_stay_and_trailing_punctuation_goes() -> None:
    assert kinds("Project page: https://x.github.io/a_(b)).") == [("project", "https://x.github.io/a_(b)")]
    assert kinds("(code: https://github.com/o/r);") == [("code", "https://github.com/o/r")]


@pytest.mark.parametrize("text", [
    "Project page: javascript:alert(1)//github.com",
    "Code: javascript://github.com/%0Aalert(1)",
    "Project page: data:text/html,<script>alert(1)</script>",
    'Code: https://github.com/a/b"onmouseover="alert(1)',
    "Code: https://github.com/a/b<script>alert(1)</script>",
    "Project page: https://evil.example\u200b.com/x",
    "Code: https://g\u0456thub.com/owner/repo",  # Cyrillic i
    "Project page: https://\u0440roject.example/x",  # Cyrillic r
    "Code: https://github.com@evil.example/owner/repo",
    "Project page: https://user:pw@evil.example/x",
    "Project page: https://evil.example:8080/x",
    "Code: https://github.com.evil.example/owner/repo",
])
def test_hostile_links_are_dropped_or_made_harmless(text: str) -> None:
    for link in find_links(text):
        assert safe_url(link.url) == link.url
        assert link.url.startswith("https://")
        assert not any(c in link.url for c in "<>\"' \u200b")
        host = link.url.split("/")[2]
        assert host.isascii() and "@" not in host and ":" not in host
        assert badges([link])[0].where.startswith(host)  # the badge shows the real host
    if "\u0456" in text or "\u0440" in text or "\u200b" in text:
        assert find_links(text) == ()  # a look-alike host is never kept
    if "github.com.evil" in text:  # not shown as GitHub: its own host, as a code link the text names
        assert [link.url for link in find_links(text)] == ["https://github.com.evil.example/owner/repo"]


def test_hostile_sizes_stay_fast() -> None:
    huge = "Code: https://github.com/o/" + "a" * 10_000
    started = time.perf_counter()
    assert find_links(huge) == ()  # over MAX_URL: dropped, not cut into another link
    assert find_links("Project page: https://" + "a." * 5_000 + "com/x") == ()
    assert find_links("github. " * 20_000) == ()
    assert find_links(("x" * 5_000 + ". com/ ") * 20) == ()
    assert find_links("\\href{" * 20_000) == ()
    assert time.perf_counter() - started < 5  # linear: a hostile abstract is no denial of service


def test_safe_url_at_render() -> None:
    stored = [Link("code", "javascript:alert(1)"), Link("code", "https://github.com/a/b"),
              Link("code", "HTTPS://github.com/a/b\"><script>"), Link("weird", "https://github.com/c/d"),
              Link("project", "https://x.github.io/" + "a" * 400), Link("model", "ftp://h.co/x")]
    assert [(b.kind, b.href, b.label, b.where) for b in badges(stored)] == [
        ("code", "https://github.com/a/b", "code", "github.com/a/b")]
    assert has_artefacts([Link("code", "https://github.com/a/b")])
    assert not has_artefacts([Link("project", "https://a.github.io/")])


def test_real_volume_rss_day_and_api_recordings() -> None:
    """Every item of the 1,504-item feed and every recorded API entry: counts by kind, checked by eye
    (the list is in this test's docstring-free report when run with -s)."""
    day = parse_rss((FIXTURES / RSS_DAY).read_bytes(), RSS_DAY)
    assert len(day.records) == 1504
    started = time.perf_counter()
    found = {r.arxiv_id: find_links(r.abstract, r.comment) for r in day.records}
    elapsed = time.perf_counter() - started
    with_links = {k: v for k, v in found.items() if v}
    by_kind = Counter(link.kind for links in with_links.values() for link in links)
    print(f"\n{len(with_links)} of 1504 papers link an artefact: {dict(by_kind)} in {elapsed:.2f} s")
    assert len(with_links) == 88
    assert by_kind == {"code": 59, "project": 27, "dataset": 2, "model": 2}
    every = [link for links in with_links.values() for link in links]
    assert all(safe_url(link.url) == link.url for link in every)
    github = [link for link in every if "github.com" in link.url]
    assert all(link.kind == "code" and link.url.count("/") in (3, 4) for link in github)
    # a look at the raw text: every github.com/owner/repo it names is found
    raw = (FIXTURES / RSS_DAY).read_text()
    import re
    named = {m.lower().rstrip(".").removesuffix(".git") for m in re.findall(
        r"github\.com/[\w.-]+/[\w-]+(?:\.git)?", raw.replace("\\_", "_"))}
    assert named <= {link.url.lower().removeprefix("https://") for link in github}
    # the API recordings' comments (arxiv.py, laya-reader, brevio-ai)
    api = [link for f in sorted(FIXTURES.glob("api2026_*.xml")) for link in
           find_links(*re.findall(r"<(?:summary|arxiv:comment)[^>]*>(.*?)</", f.read_text(), re.S))]
    assert {link.url for link in api} >= {
        "https://github.com/ydecastro/super-resolution-testing", "https://opendatalab.github.io/REST",
        "https://github.com/petekirby/contrastive-av", "https://github.com/PKU-YuanGroup/TIDE"}
    assert not [link for link in api if "icst20" in link.url]  # a workshop's page is no artefact


# --- component: update stores the links -------------------------------------------------------

@pytest.fixture
def site(site_dir: Path, arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.05\nARXIV_DIGEST_RETRIES = 1\n")
    base = arxiv_server.base_url  # type: ignore[attr-defined]
    monkeypatch.setenv("ARXIV_DIGEST_RSS_URL", f"{base}/rss")
    monkeypatch.setenv("ARXIV_DIGEST_API_URL", f"{base}/api/query")
    monkeypatch.chdir(site_dir)
    return site_dir


def test_update_stores_links_from_abstracts_and_comments(site, arxiv_server, capsys):
    arxiv_server.route(f"/rss/{CATS}", RSS_DAY)
    assert main(["-s", str(site / "pelicanconf.py"), "update", "--now", "2024-11-28T10:17:00+00:00"]) == 0
    day = json.loads((site / "content/digests/2024/2024-11-28.json").read_text())
    linked = {p["id"]: p["links"] for p in day["papers"] if p["links"]}
    assert all("links" in p for p in day["papers"])
    assert len(linked) >= 30
    assert {"kind": "code", "url": "https://github.com/IDEA-Research/ChatRex"} in [
        x for links in linked.values() for x in links]
    # a backfill through the API: links in the comments field (real recorded answers)
    arxiv_server.route("/api/query", paged_feed("api2026_query_cat-cs.LG_OR_cat-cs.AI_start0_max20.xml"))
    code = main(["-s", str(site / "pelicanconf.py"), "update", "--date", "2026-04-29",
                 "--now", "2026-04-30T12:00:00+00:00"])
    capsys.readouterr()
    assert code == 0
    day = json.loads((site / "content/digests/2026/2026-04-29.json").read_text())
    comments = {p["id"]: p for p in day["papers"] if p["comment"] and "github.com" in p["comment"]}
    assert comments
    for p in comments.values():
        assert any("github.com" in x["url"] for x in p["links"])
    assert {"kind": "code", "url": "https://github.com/PKU-YuanGroup/TIDE"} in [
        x for p in comments.values() for x in p["links"]]
    # status counts the coverage per day
    assert main(["-s", str(site / "pelicanconf.py"), "status"]) in (0, 5)
    out = capsys.readouterr().out
    assert "code links" in out and "2024-11-28 " in out


LINK_PAYLOADS = (
    'Code: https://github.com/ok/repo"><script>alert(1)</script>',
    "Project page: javascript:alert(1)//x.github.io",
    "Code: https://g\u0456thub.com/lookalike/repo",
    "Code: https://github.com/long/" + "a" * 10_000,
    "Project page: https://evil.example/<svg onload=alert(1)>",
    "Models: https://huggingface.co/org/model'onmouseover='alert(1)",
    r"Code: \href{javascript:alert(1)}{https://github.com/tex/repo}",
)


def test_hostile_links_through_update_and_build(site, arxiv_server, capsys, tmp_path):
    """Link payloads appended to real abstracts go through fetch, update, store and the build: only
    safe http(s) links are stored, and the pages show no markup or script link from them."""
    from xml.sax.saxutils import escape

    from conftest import build_site
    from lxml import html

    raw = (FIXTURES / RSS_DAY).read_text(encoding="utf-8")
    parts = raw.split("</description>")
    for i in range(1, len(parts) - 1, 9):  # one item in nine, every payload in turn
        parts[i - 1] += " " + escape(LINK_PAYLOADS[(i // 9) % len(LINK_PAYLOADS)])
    feed = tmp_path / "hostile.xml"
    feed.write_text("</description>".join(parts), encoding="utf-8")
    arxiv_server.route(f"/rss/{CATS}", feed)
    assert main(["-s", str(site / "pelicanconf.py"), "update", "--now", "2024-11-28T10:17:00+00:00"]) == 0
    day = json.loads((site / "content/digests/2024/2024-11-28.json").read_text())
    stored = [x["url"] for p in day["papers"] for x in p["links"]]
    assert "https://github.com/ok/repo" in stored and "https://huggingface.co/org/model" in stored
    # \href's target is javascript: its shown text (a GitHub URL) is a decoy, not the link
    assert "https://github.com/tex/repo" not in stored
    assert all(safe_url(u) == u for u in stored)
    assert not [u for u in stored if "lookalike" in u or "long/" in u]
    # the text called https://evil.example/ a project page: kept as written, cut before the markup
    assert [u for u in stored if "evil" in u] == ["https://evil.example/"] * stored.count("https://evil.example/")
    out = build_site(site, tmp_path / "out")
    for path in [out / "2024/11/28/index.html", *out.glob("topics/*/index.html")]:
        doc = html.fromstring(path.read_bytes())
        assert not doc.cssselect("main script, main svg, [onmouseover], [onload]"), path
        hrefs = [a.get("href") for a in doc.cssselect("a.artefact")]
        assert all(h.startswith("https://") and safe_url(h) == h for h in hrefs), path
    capsys.readouterr()
