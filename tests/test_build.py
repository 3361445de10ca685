"""Tiny-site build test: a day fetched from the recorded feed, built by Pelican, checked as HTML."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from arxiv_digest.cli.commands import main
from arxiv_server import ArxivServer
from conftest import CATS, build_site
from lxml import etree, html

THU = "2024-11-28T10:17:00+00:00"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def day_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site whose content is the 2024-11-28 feed, fetched over HTTP by the real CLI."""
    from conftest import ROOT

    site = tmp_path_factory.mktemp("site")
    for name in ("pelicanconf.py", "digest.yaml"):
        shutil.copy(ROOT / name, site / name)
    shutil.copytree(ROOT / "theme", site / "theme")
    (site / "content").mkdir()
    server = ArxivServer()
    base = server.start()
    server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    mp = pytest.MonkeyPatch()
    mp.setenv("ARXIV_DIGEST_RSS_URL", f"{base}/rss")
    try:
        assert main(["-s", str(site / "pelicanconf.py"), "update", "--now", THU]) == 0
    finally:
        mp.undo()
        server.stop()
    return site


@pytest.fixture(scope="module")
def built(day_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(day_site, tmp_path_factory.mktemp("out"))


def page(built: Path) -> html.HtmlElement:
    return html.fromstring((built / "2024/11/28/index.html").read_bytes())


def test_day_page_exists_at_its_date(built: Path) -> None:
    assert (built / "2024/11/28/index.html").is_file()
    assert (built / "index.html").is_file()


def test_every_toc_link_resolves_to_a_paper(built: Path) -> None:
    doc = page(built)
    links = doc.cssselect("nav.toc a[href^='#']")
    assert len(links) > 10  # the papers about a topic
    ids = {el.get("id") for el in doc.cssselect("article.paper")}
    targets = [a.get("href")[1:] for a in links]
    assert set(targets) == ids  # every link resolves and every paper is in the TOC
    assert len(targets) == len(set(targets))
    assert all(re.fullmatch(r"\d{4}\.\d{4,5}", t) for t in targets)


def test_paper_markup_contract(built: Path) -> None:
    doc = page(built)
    papers = doc.cssselect("article.paper")
    for p in papers:
        assert p.get("data-announce") in {"new", "cross", "replace", "replace-cross"}
        tags = p.get("data-tags").split()
        assert tags and set(tags) <= {"pruning", "quantization", "kv-cache", "sparsity"}
        for cls in ("title", "authors", "abstract"):
            assert p.cssselect(f".{cls}"), (p.get("id"), cls)
        # the topics of data-tags are exactly the topics bolded in that paper
        bolded = {s.get("data-tag") for s in p.cssselect("strong.kw")}
        assert bolded == set(tags)
    # default listing: only tagged papers, replacements shown apart and marked
    assert {p.get("data-announce") for p in papers} >= {"new", "replace"}
    updated = doc.cssselect("section.updated article.paper")
    assert updated and all(p.get("data-announce").startswith("replace") for p in updated)


def test_keywords_are_bolded_as_whole_words(built: Path) -> None:
    text = (built / "2024/11/28/index.html").read_text()
    bolded = re.findall(r'<strong class="kw" data-tag="([\w-]+)">([^<]+)</strong>', text)
    assert len(bolded) > 50
    assert not re.search(r'\w<strong class="kw"', text)
    assert not re.search(r'<strong class="kw" data-tag="[\w-]+">[^<]+</strong>\w', text)
    words = {w for _, w in bolded}
    assert {"Sparse", "sparse", "pruning", "quantized", "KV cache"} <= words


def test_counts_in_the_header(built: Path) -> None:
    doc = page(built)
    counts = doc.cssselect(".counts")[0].text_content()
    assert "513" in counts  # announced in the categories
    listed = len(doc.cssselect("article.paper"))
    assert str(listed) in counts


def test_feed_has_an_entry_per_paper_of_the_day(built: Path) -> None:
    feed = etree.parse(str(built / "feeds/all.atom.xml")).getroot()
    entries = feed.findall(f"{ATOM}entry")
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    listed = [a.get("id") for a in page(built).cssselect("article.paper")]
    assert links == [f"https://digest.example.org/papers/{pid}/" for pid in listed]
    entry = entries[0]
    assert entry.find(f"{ATOM}id").text.startswith("tag:digest.example.org,2024-11-28:/papers/")
    assert "strong" in (entry.find(f"{ATOM}content").text or "")  # keywords bold in the abstract
    rss = etree.parse(str(built / "feeds/all.rss.xml")).getroot()
    assert rss.find("channel/item/link").text == links[0]


def test_two_builds_are_byte_identical(day_site: Path, built: Path, tmp_path: Path) -> None:
    again = build_site(day_site, tmp_path / "again")

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file()}

    first, second = files(built), files(again)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_untrusted_text_is_escaped(day_site: Path, tmp_path: Path) -> None:
    site = tmp_path / "evil"
    shutil.copytree(day_site, site)
    path = site / "content/digests/2024/2024-11-28.json"
    day = json.loads(path.read_text())
    evil = dict(day["papers"][0], id="2411.00001", announce_type="new",
                title='<img src=x onerror="alert(1)"> Sparse </p><script>alert(2)</script>',
                authors=["<b>Eve</b>", 'Mallory "&" Co'],
                abstract="We propose sparse attention for LLMs: we prune </div></article> weights "
                         "& more <!-- x -->")
    day["papers"].insert(0, evil)
    path.write_text(json.dumps(day))
    out = build_site(site, tmp_path / "out")
    text = (out / "2024/11/28/index.html").read_text()
    assert "<img src=x" not in text and "<script>alert(2)" not in text and "<b>Eve</b>" not in text
    assert "&lt;img src=x onerror=" in text and "&lt;b&gt;Eve&lt;/b&gt;" in text
    doc = html.fromstring(text)
    card = doc.get_element_by_id("2411.00001")
    assert "</div></article>" in card.cssselect(".abstract")[0].text_content()
    assert card.cssselect(".title strong.kw")[0].text == "Sparse"


def test_list_all_and_hidden_replacements(day_site: Path, tmp_path: Path) -> None:
    out = build_site(day_site, tmp_path / "all", ARXIV_DIGEST_LIST_ALL=True,
                     ARXIV_DIGEST_REPLACEMENTS="hide")
    doc = page(out)
    papers = doc.cssselect("article.paper")
    assert len(papers) == 513 - 183  # every new and cross-listed paper, no replacements
    assert not [p for p in papers if p.get("data-announce").startswith("replace")]
    assert [p for p in papers if p.get("data-tags") == ""]


def test_near_duplicates_link_to_the_earlier_day(day_site: Path, tmp_path: Path) -> None:
    """A re-submission under a new id links to the first one's day page and anchor."""
    site = tmp_path / "dup"
    shutil.copytree(day_site, site)
    path = site / "content/digests/2024/2024-11-28.json"
    day = json.loads(path.read_text())
    first = next(p for p in day["papers"] if p["tags"] and p["announce_type"] == "new")
    earlier = dict(day, date="2024-11-27", papers=[dict(first, id="2411.00002")],
                   announced={"new": 1})
    (site / "content/digests/2024/2024-11-27.json").write_text(json.dumps(earlier))
    first["related"] = [{"date": "2024-11-27", "id": "2411.00002"}]
    path.write_text(json.dumps(day))
    out = build_site(site, tmp_path / "out")
    card = page(out).get_element_by_id(first["id"])
    link = card.cssselect(".related a")[0]
    assert link.get("href") == "https://digest.example.org/2024/11/27/#2411.00002"
    target = html.fromstring((out / "2024/11/27/index.html").read_bytes())
    assert target.get_element_by_id("2411.00002") is not None


# --- Day file keys (filekeys.py): a day file is read only when its stat changed ------------------

def _day_files(day_site: Path, folder: Path, n: int) -> list[Path]:
    """n real-size day files (the recorded 2024-11-28 day, ~500 papers, under other dates)."""
    raw = (day_site / "content/digests/2024/2024-11-28.json").read_bytes()
    paths = []
    for i in range(n):
        path = folder / "2024" / f"2024-01-{i + 1:02d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw + b" " * i)  # other bytes, other keys
        paths.append(path)
    return paths


LATER = 10**12  # a clock 1,000 s ahead: every file is old enough to be recorded (not racy)


def test_day_file_keys_are_read_only_when_the_stat_changed(day_site: Path, tmp_path: Path) -> None:
    """The second run reads no file whose size, mtime, ctime and inode are recorded; an appended
    file, a same-size rewrite and a replaced file are read again; a deleted one leaves the record."""
    from arxiv_digest.core.filekeys import FileKeys, file_key

    data = tmp_path / "digests"
    paths = _day_files(day_site, data, 30)
    clock = lambda: time.time_ns() + LATER  # noqa: E731
    first = FileKeys(data, git=False, clock=clock)
    keys = first.keys(paths)
    assert first.hashed == 30 and keys == {p: file_key(p.read_bytes()) for p in paths}
    first.save()
    again = FileKeys(data, git=False, clock=clock)
    assert again.keys(paths) == keys and again.hashed == 0
    time.sleep(0.05)  # past the kernel's coarse timestamp tick
    with paths[0].open("ab") as f:
        f.write(b"\n")
    raw = paths[1].read_bytes()
    paths[1].write_bytes(raw.replace(b'"2024-11-28"', b'"2024-11-29"', 1))  # same size, new bytes
    paths[2].write_bytes(b"{}")
    paths[2].unlink()
    paths[2].write_bytes(paths[3].read_bytes())  # another inode, the bytes of another day
    paths[4].unlink()
    third = FileKeys(data, git=False, clock=clock)
    now = third.keys(paths)
    assert third.hashed == 3 and paths[4] not in now
    assert now == {p: file_key(p.read_bytes()) for p in paths if p.exists()}
    assert now[paths[1]] != keys[paths[1]] and now[paths[2]] == keys[paths[3]]
    third.save()
    record = json.loads((data / ".cache/build/files.keys").read_text())
    assert sorted(record["files"]) == sorted(
        p.relative_to(data).as_posix() for p in paths if p.exists())


def test_a_run_that_keys_some_days_keeps_the_others_recorded(day_site: Path, tmp_path: Path) -> None:
    """update keys only its lookback: the record it saves still vouches for the other days."""
    from arxiv_digest.core.filekeys import FileKeys

    data = tmp_path / "digests"
    paths = _day_files(day_site, data, 10)
    clock = lambda: time.time_ns() + LATER  # noqa: E731
    build = FileKeys(data, git=False, clock=clock)
    build.keys(paths)
    build.save()
    update = FileKeys(data, git=False, clock=clock)
    update.keys(paths[-3:])
    paths[0].unlink()
    update.save()
    again = FileKeys(data, git=False, clock=clock)
    assert len(again.keys(paths)) == 9 and again.hashed == 0


def test_a_racily_clean_file_is_never_trusted(day_site: Path, tmp_path: Path) -> None:
    """A file modified within RACY_NS of the moment it was hashed is not recorded (git's racy
    rule), so a rewrite within the filesystem's timestamp resolution cannot go unseen."""
    from arxiv_digest.core.filekeys import FileKeys

    data = tmp_path / "digests"
    paths = _day_files(day_site, data, 3)
    keys = FileKeys(data, git=False)  # the real clock: these files were written just now
    keys.keys(paths)
    keys.save()
    again = FileKeys(data, git=False)
    again.keys(paths)
    assert again.hashed == 3


@pytest.mark.parametrize("record", [b"not json", b"[]", b'{"format": 1, "files": []}',
                                    b'{"format": 1, "files": {"2024/2024-01-01.json": [1, 2]}}',
                                    b'{"format": 1, "files": {"2024/2024-01-01.json": '
                                    b'["1", 2, 3, 4, "' + b"a" * 40 + b'"]}}',
                                    b'{"format": 99, "files": {}}', b"[" * 100_000, b"\xff\xfe"])
def test_a_broken_key_record_is_ignored(day_site: Path, tmp_path: Path, record: bytes) -> None:
    from arxiv_digest.core.filekeys import FileKeys, file_key

    data = tmp_path / "digests"
    paths = _day_files(day_site, data, 2)
    (data / ".cache/build").mkdir(parents=True)
    (data / ".cache/build/files.keys").write_bytes(record)
    keys = FileKeys(data, git=False, clock=lambda: time.time_ns() + LATER)
    assert keys.keys(paths) == {p: file_key(p.read_bytes()) for p in paths} and keys.hashed == 2
    keys.save()  # and replaced by a good one
    assert FileKeys(data, git=False, clock=lambda: time.time_ns() + LATER).keys(paths)


def test_an_unreadable_day_file_is_left_to_its_reader(tmp_path: Path) -> None:
    from arxiv_digest.core.filekeys import FileKeys

    data = tmp_path / "digests"
    (data / "2024").mkdir(parents=True)
    gone = data / "2024/2024-01-02.json"
    gone.symlink_to(data / "nowhere.json")
    ok = data / "2024/2024-01-01.json"
    ok.write_text("{}")
    keys = FileKeys(data, git=False)
    assert list(keys.keys([gone, ok])) == [ok]
    with pytest.raises(FileNotFoundError):
        keys.key_of(gone)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_index_keys_unmodified_day_files(day_site: Path, tmp_path: Path) -> None:
    """In a fresh checkout (nothing recorded) git's index names the unmodified files' keys: they
    are not read; a modified, untracked or filtered file is read and hashed."""
    from arxiv_digest.core.filekeys import FileKeys, file_key

    repo = tmp_path / "repo"
    data = repo / "content/digests"
    paths = _day_files(day_site, data, 5)

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
                              cwd=repo, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    (repo / ".gitattributes").write_text("*-01-05.json filter=lfs\n")
    git("add", ".")
    git("commit", "-q", "-m", "days")
    paths[1].write_bytes(paths[1].read_bytes() + b"\n")  # modified since the commit
    untracked = data / "2024/2024-01-06.json"
    untracked.write_bytes(paths[0].read_bytes() + b"\n\n")
    keys = FileKeys(data, clock=lambda: time.time_ns() + LATER)
    found = keys.keys([*paths, untracked])
    assert found == {p: file_key(p.read_bytes()) for p in [*paths, untracked]}
    assert found[paths[0]] == git("hash-object", str(paths[0])).strip()
    assert keys.from_git == 3 and keys.hashed == 3  # 01-02 modified, 01-05 filtered, 01-06 new


def test_file_keys_of_a_thousand_days(tmp_path: Path) -> None:
    """A 1,000-day archive: keyed once, then every key from the record, none read."""
    from arxiv_digest.core.filekeys import FileKeys, file_key

    data = tmp_path / "digests"
    paths = []
    for i in range(1000):
        path = data / str(2020 + i // 250) / f"{2020 + i // 250}-01-01.{i}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"day": i}))
        paths.append(path)
    clock = lambda: time.time_ns() + LATER  # noqa: E731
    first = FileKeys(data, git=False, clock=clock)
    keys = first.keys(paths)
    first.save()
    again = FileKeys(data, git=False, clock=clock)
    assert again.keys(paths) == keys == {p: file_key(p.read_bytes()) for p in paths}
    assert again.hashed == 0 and first.hashed == 1000


def test_a_build_reads_no_unchanged_day_and_sees_an_edited_one(
        day_site: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Once the day files are recorded, a build reads none of them for their keys; a same-size
    edit of a title is still seen (the day is rendered again with it)."""
    site = tmp_path / "site"
    shutil.copytree(day_site, site)
    time.sleep(2.1)  # the copies are now older than filekeys.RACY_NS: the build records them
    build_site(site, tmp_path / "first")
    with caplog.at_level(logging.DEBUG, logger="arxiv_digest.site.render"):
        build_site(site, tmp_path / "second")
    assert not [r for r in caplog.records if "hashed" in r.getMessage()]
    path = site / "content/digests/2024/2024-11-28.json"
    day = json.loads(path.read_text())
    first = page(tmp_path / "second").cssselect("article.paper")[0].get("id")
    paper = next(p for p in day["papers"] if p["id"] == first)
    old = paper["title"]
    paper["title"] = ("Z" if old[0] != "Z" else "Y") + old[1:]
    text = json.dumps(day, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert len(text.encode()) == path.stat().st_size  # the same size: only the stat tells
    path.write_text(text)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="arxiv_digest.site.render"):
        out = build_site(site, tmp_path / "third")
    assert [r for r in caplog.records if "1 of 1 day file(s) hashed" in r.getMessage()]
    card = page(out).get_element_by_id(first)
    assert card.cssselect(".title")[0].text_content().strip().startswith(paper["title"][:12])


@pytest.mark.parametrize("entry", [None, b"", b"\x80\x05garbage", b"not a pickle"])
def test_a_cache_read_leaves_the_garbage_collector_as_it_was(tmp_path: Path, entry: bytes | None) -> None:
    """DayCache.get pauses the cyclic GC while it unpickles: found, missing or broken, the GC is
    enabled again after (and stays off if the caller had turned it off)."""
    import gc

    from arxiv_digest.site.daycache import DayCache

    cache = DayCache(tmp_path, "f" * 20)
    key = "a" * 40
    cache.put("2024-11-28", key, ("body", {"x": 1}))
    if entry is not None:
        next(cache.folder.glob("*.pickle")).write_bytes(entry)
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            found = cache.get("2024-11-28", key)
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
        assert found == (("body", {"x": 1}) if entry is None else None)
