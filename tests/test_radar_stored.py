"""The radar's ranking computed at update and stored with the day (enrich/radarindex.stamp, the day
file's radar_index block): a day stored with it builds the same radar files as without it, without
ranking its papers or parsing the file into objects; links written back into the day keep it; a
block that does not hold for what the file holds now (a hand-edited title, another fingerprint, a
forged or damaged block) is not used. Real volume: the real update of the recorded 513-paper day,
the 1,504 records of the all-archives feed, and a Pelican build of the test archive."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.core import store
from arxiv_digest.core.models import Digest, VersionRef
from arxiv_digest.enrich import backlinks, dayindex, radarindex
from arxiv_digest.site import radar
from arxiv_server import ArxivServer
from conftest import CATS
from test_radar_rawkey import feed_day, real

KEY = radarindex.RADAR_KEY
LISTED = ["2411.18077", "2411.17701"]


def _save(data_dir: Path, digest: Digest) -> Path:
    path = store.day_path(data_dir, digest.date)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(store.dumps(digest), encoding="utf-8")
    return path


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def _unstamped(digest: Digest) -> Digest:
    from dataclasses import replace

    return replace(digest, extra={k: v for k, v in digest.extra.items() if k != KEY})


class Spy:
    """Counts the calls of site/radar.py's `ranking` and `parse` (the inline path: processes 1)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ranked: list[int] = []
        self.parsed: list[Path] = []
        ranking, parse = radar.ranking, radar.parse

        def ranking_spy(papers: Any, *args: Any, **kw: Any) -> str:
            self.ranked.append(len(papers))
            return ranking(papers, *args, **kw)

        def parse_spy(path: Path, raw: bytes) -> Digest:
            self.parsed.append(path)
            return parse(path, raw)

        monkeypatch.setattr(radar, "ranking", ranking_spy)
        monkeypatch.setattr(radar, "parse", parse_spy)


def _build(tmp: Path, digest: Digest, processes: int = 1, listed: list[str] = LISTED) -> dict[str, bytes]:
    """The radar files write_days makes of this one day, in a fresh data folder and output."""
    data_dir, out = tmp / "digests", tmp / "out"
    path = _save(data_dir, digest)
    radar.write_days(data_dir, [(path, listed, f"{digest.date}/")], out, processes)
    return _files(out)


@pytest.fixture
def site(site_dir: Path, arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site whose update talks to the local server (the recorded feed of 2024-11-28)."""
    with open(site_dir / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write("\nARXIV_DIGEST_REQUEST_DELAY = 0.2\nARXIV_DIGEST_RETRIES = 2\nARXIV_DIGEST_TIMEOUT = 2.0\n")
    base = arxiv_server.base_url  # type: ignore[attr-defined]
    monkeypatch.setenv("ARXIV_DIGEST_RSS_URL", f"{base}/rss")
    monkeypatch.setenv("ARXIV_DIGEST_API_URL", f"{base}/api/query")
    monkeypatch.chdir(site_dir)
    arxiv_server.route(f"/rss/{CATS}", "rss_all-archives_2024-11-28.xml")
    return site_dir


@pytest.mark.parametrize("processes", [1, 2])
def test_update_stores_the_ranking_and_the_build_uses_it(site: Path, tmp_path: Path, processes: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The real update of the recorded 513-paper day stores the block (this code's fingerprint, the
    day's input key, the ranking as computed); the build writes the same files from it as from the
    day without it, ranking nothing and parsing nothing (inline) or in the workers (2)."""
    assert main(["-s", str(site / "pelicanconf.py"), "update", "--now", "2024-11-28T10:17:00+00:00"]) == 0
    path = site / "content" / "digests" / "2024" / "2024-11-28.json"
    stored = store.load(path)
    assert len(stored.papers) == 513
    block = stored.extra[KEY]
    assert set(block) == {"fingerprint", "input", "p"}
    assert block["fingerprint"] == radarindex.fingerprint()
    assert block["input"] == radar.input_key(stored)
    assert block["p"] == radarindex.ranking(radar.radar_order(stored.papers))
    # the day file's growth: the block as store.dumps writes it (about 1% of the 1.1 MB day)
    grown = len(store.dumps(stored).encode()) - len(store.dumps(_unstamped(stored)).encode())
    assert 0 < grown < 12_000, grown

    computed = _build(tmp_path / "computed", _unstamped(stored))
    spy = Spy(monkeypatch)
    data_dir, out = site / "content" / "digests", tmp_path / "out"
    assert radar.write_days(data_dir, [(path, LISTED, "2024-11-28/")], out, processes) == (0, 1)
    assert _files(out) == computed
    assert spy.ranked == [] and spy.parsed == []  # from the plain JSON and the stored ranking
    # the page's listing is not part of the block: another listing, other display files, same index
    again = tmp_path / "again"
    radar.write_days(data_dir, [(path, [], "2024-11-28/")], again, processes)
    assert _files(again) != computed
    assert _files(again)["2024-11-28.idx.json"] == computed["2024-11-28.idx.json"]
    assert spy.ranked == []
    monkeypatch.undo()
    assert _files(again) == _build(tmp_path / "unlisted", _unstamped(stored), listed=[])


def test_links_written_back_keep_the_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """enrich/backlinks writes version links into a stored day, spliced in place and by a whole
    rewrite: the block stays as it was, and still holds (the radar reads neither link)."""
    data_dir = tmp_path / "digests"
    day = radarindex.stamp(store.parse(Path("2024-11-28.json"), json.dumps(real()).encode()))
    path = _save(data_dir, day)
    dayindex.remember(data_dir, path, day)  # as update does: what lets backlinks splice in place
    block = json.loads(path.read_text(encoding="utf-8"))[KEY]
    ids = [p.id for p in day.papers[:40]]
    spliced = {pid: (set(), {VersionRef("2024-12-02", 9)}) for pid in ids[:20]}
    assert backlinks._splice(data_dir, path, spliced) == 20
    rewritten = {pid: (set(), {VersionRef("2024-12-03", 9)}) for pid in ids[20:]}
    assert backlinks._rewrite(data_dir, path, rewritten) == 20
    linked = store.load(path)
    assert sum(bool(p.versions) for p in linked.papers) == 40
    assert json.loads(path.read_text(encoding="utf-8"))[KEY] == block
    assert radarindex.stored_ranking(linked.extra, radar.input_key(linked)) == block["p"]
    spy = Spy(monkeypatch)
    out = tmp_path / "out"
    radar.write_days(data_dir, [(path, LISTED, "2024-11-28/")], out, 1)
    assert spy.ranked == [] and spy.parsed == []
    monkeypatch.undo()
    assert _files(out) == _build(tmp_path / "computed", _unstamped(linked))


def test_the_1504_record_day_builds_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 1,504 real records of the all-archives feed as one day, stamped as update stores it."""
    day = store.parse(Path("2024-11-28.json"), json.dumps(feed_day()).encode())
    assert len(day.papers) == 1504
    stamped = radarindex.stamp(day)
    assert radarindex.stamp(stamped) is stamped  # a holding block is not computed again
    computed = _build(tmp_path / "computed", day)
    spy = Spy(monkeypatch)
    assert _build(tmp_path / "stored", stamped) == computed
    assert spy.ranked == [] and spy.parsed == []
    assert len(computed) == 4 + -(-1504 // radar.CHUNK)  # days.json, idx, ids, au, the display files


def _hostile() -> Digest:
    data = real()
    papers = data["papers"][:8]
    papers[0].update(title='</script><img src=x onerror=alert(1)> "\u2028 \u202e $x^2$ kv cache',
                     authors=["<b>x</b>", "{\\L}ukasz, ,", ""], abstract="\x00\ud7ff" + "kv cache pruning " * 2_000)
    papers[1].update(id="10.1101/2024.11.25.b", title="", authors=[], abstract="")
    papers[2].update(id="hep-th/9901001", links=[{"kind": "code", "url": "javascript:alert(1)"}])
    papers[3].update(title="Ünïcödé façade naïve 量子化 \u0301", abstract="Ελληνικά кириллица \\( a \\) $$b$$")
    data["papers"] = papers
    return store.parse(Path("2024-11-28.json"), json.dumps(data).encode())


def test_a_hostile_day_builds_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    day = _hostile()
    computed = _build(tmp_path / "computed", day)
    spy = Spy(monkeypatch)
    assert _build(tmp_path / "stored", radarindex.stamp(day)) == computed
    assert spy.ranked == []


def _retitled(d: Digest) -> Digest:
    from dataclasses import replace

    papers = list(d.papers)
    papers[5] = replace(papers[5], title=papers[5].title + " by hand")
    return d.with_papers(tuple(papers))


def _with_block(**change: Any) -> Any:
    def edit(d: Digest) -> Digest:
        from dataclasses import replace

        return replace(d, extra={**d.extra, KEY: {**d.extra[KEY], **change}})
    return edit


def _block_as(value: Any) -> Any:
    def edit(d: Digest) -> Digest:
        from dataclasses import replace

        return replace(d, extra={**d.extra, KEY: value})
    return edit


@pytest.mark.parametrize("edit", [
    _retitled,  # a title edited by hand after update stored the block: its input key no longer holds
    _with_block(fingerprint="0" * 16),  # another tokenizer, parameter or code
    _with_block(input="f" * 64, p="AAAA"),  # forged: a stream for other content
    _with_block(p='"</script><script>alert(1)</script>'),  # the right key, not a stream pack_day writes
    _with_block(p=5),
    _block_as("x"),
    _block_as(["fingerprint", "input", "p"]),
    _block_as(None),
], ids=["retitled", "fingerprint", "forged", "hostile-stream", "stream-not-str", "str", "list", "null"])
def test_a_block_that_does_not_hold_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Any) -> None:
    """The day is computed as without the block: the same bytes, ranked once."""
    day = radarindex.stamp(store.parse(Path("2024-11-28.json"), json.dumps(real()).encode()))
    changed = edit(day)
    computed = _build(tmp_path / "computed", _unstamped(changed))
    spy = Spy(monkeypatch)
    assert _build(tmp_path / "stored", changed) == computed
    assert spy.ranked == [513]
    assert radarindex.stored_ranking(changed.extra, radar.input_key(changed)) is None


def test_another_fingerprint_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day stored by another version of the ranking code (its fingerprint is not this code's)."""
    day = radarindex.stamp(store.parse(Path("2024-11-28.json"), json.dumps(real()).encode()))
    monkeypatch.setattr(radarindex, "fingerprint", lambda: "a changed tokenizer")
    assert radarindex.stored_ranking(day.extra, radar.input_key(day)) is None
    assert radarindex.stamp(day).extra[KEY]["fingerprint"] == "a changed tokenizer"


def test_a_pelican_build_of_stamped_days_writes_the_same_radar(tmp_path: Path) -> None:
    """The test archive (the real day and the synthetic ones) built by Pelican cold, its days stored
    with and without the block: the same radar files."""
    from conftest import build_site
    from sitedata import make_site

    outs = []
    for stamped in (False, True):
        site = make_site(tmp_path / f"site{int(stamped)}")
        data_dir = site / "content" / "digests"
        for path in store.iter_days(data_dir):
            day = store.load(path)
            path.write_text(store.dumps(radarindex.stamp(day) if stamped else day), encoding="utf-8")
        outs.append(build_site(site, tmp_path / f"out{int(stamped)}", SITEURL="", FEED_DOMAIN="") / "radar")
        assert (KEY in (data_dir / "2024" / "2024-11-28.json").read_text(encoding="utf-8")) == stamped
    names = sorted(p.name for p in outs[0].iterdir())
    assert len(names) > 20 and names == sorted(p.name for p in outs[1].iterdir())
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    shutil.rmtree(tmp_path / "site0")


# --- `restamp`: the stored days of an archive kept from before, stamped in place ----------------


def test_restamp_stores_the_ranking_and_the_decisions_of_kept_days(
        site_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Days stored before the ranking was (the real 513-paper day, the 1,504 real records of the
    feed as a day, a hostile day) get it from `python -m arxiv_digest restamp`, with the topic
    decisions where they no longer held; the build then ranks none of them and writes the bytes it
    computes without the block. A second run writes nothing; a day that is not stored, or broken,
    exits 5 naming the file and leaves the stored days as they were."""
    from arxiv_digest.enrich.tagging import DECIDED_BY

    monkeypatch.chdir(site_dir)
    data_dir = site_dir / "content" / "digests"
    days = {"2024-11-28": real(), "2024-11-27": {**feed_day(), "date": "2024-11-27"}}
    hostile = real()
    hostile["date"] = "2024-11-26"
    hostile["papers"] = hostile["papers"][:6]
    hostile["papers"][0].update(title='</script><img src=x onerror=alert(1)> "\u2028 $x^2$ kv cache',
                                authors=["<b>x</b>", ""], abstract="\x00" + "kv cache pruning " * 500)
    hostile["papers"][1].update(id="hep-th/9901001", links=[{"kind": "code", "url": "javascript:alert(1)"}])
    days["2024-11-26"] = hostile
    for day, data in days.items():
        data.pop(KEY, None)
        data.pop(DECIDED_BY, None)  # decided by another config or code: not trusted
        path = store.day_path(data_dir, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    before = {day: store.load(store.day_path(data_dir, day)) for day in days}
    assert main(["-s", "pelicanconf.py", "restamp"]) == 0
    out = capsys.readouterr().out
    for day in days:
        assert f"{day}: topics decided again and radar ranking stored" in out
    assert "3 stored day(s) written again" in out
    for day, old in before.items():
        path = store.day_path(data_dir, day)
        new = store.load(path)
        assert [p.id for p in new.papers] == [p.id for p in old.papers]
        assert [(p.title, p.abstract, p.authors) for p in new.papers] == [
            (p.title, p.abstract, p.authors) for p in old.papers]
        assert radarindex.stored_ranking(new.extra, radarindex.input_key(new)) is not None
        assert dayindex.fresh(data_dir, path.read_bytes(), day) is not None  # the day index follows
    # nothing left to do: nothing written
    stamped = {day: store.day_path(data_dir, day).read_bytes() for day in days}
    assert main(["-s", "pelicanconf.py", "restamp"]) == 0
    assert "nothing written" in capsys.readouterr().out
    assert {day: store.day_path(data_dir, day).read_bytes() for day in days} == stamped
    # the build takes the stored ranking: the same radar files as computing the day
    digest = store.load(store.day_path(data_dir, "2024-11-28"))
    assert _build(site_dir / "a", digest) == _build(site_dir / "b", _unstamped(digest))
    # a day not stored, a broken day: exit 5, named, nothing else written
    assert main(["-s", "pelicanconf.py", "restamp", "--date", "2024-11-25"]) == 5
    assert "2024-11-25.json: 2024-11-25 is not stored" in capsys.readouterr().err
    broken = store.day_path(data_dir, "2024-11-20")
    broken.write_text('{"date": "2024-11-20", "papers": [', encoding="utf-8")
    assert main(["-s", "pelicanconf.py", "restamp"]) == 5
    assert "2024-11-20.json" in capsys.readouterr().err
    assert {day: store.day_path(data_dir, day).read_bytes() for day in days} == stamped
