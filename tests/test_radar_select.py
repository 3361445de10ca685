"""build_day's fast paths give the bytes the plain definitions give: the term selection
(_select_fast, which scores only the terms a paper uses twice or more, else _select) against
select_terms over a tokenizer of its own (radarindex.terms, radar.js's), and the bit stream's base64
against a digit-by-digit encoding; on the real 513-paper day, the 1,504 records of the recorded
all-archives feed, generated days, tie-heavy days and a hostile day. Also the daily path: a day whose
radar input changed is keyed once, and output files from another build are rewritten."""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.core.models import Digest, Paper
from arxiv_digest.core.store import load, parse
from arxiv_digest.enrich import radarindex
from arxiv_digest.enrich.links import ARTEFACT_KINDS, badges
from arxiv_digest.site import radar
from conftest import ROOT
from test_radar_rawkey import feed_day

DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"


def reference_idx(d: Digest, top: int = radar.TOP_TERMS, min_df: int = radar.MIN_DF) -> str:
    """The day's ranking index by the definitions: each paper's term frequencies from radarindex.terms
    (a title term TITLE_WEIGHT times), select_terms with the day's idf, pack_day."""
    papers = radar.radar_order(d.papers)
    docs = []
    for p in papers:
        tf = Counter(radarindex.terms(p.abstract))
        for t in radarindex.terms(p.title):
            tf[t] += radar.TITLE_WEIGHT
        docs.append(tf)
    n = len(docs)
    df: Counter[str] = Counter()
    for tf in docs:
        df.update(tf.keys())
    lengths = [sum(tf.values()) for tf in docs]
    avg = sum(lengths) / n if n else 1.0
    idf = radarindex.day_idf(df, n)
    posts: dict[int, set[int]] = {}
    for i, tf in enumerate(docs):
        for t in radarindex.select_terms(tf, lengths[i], avg, idf, top, df, min_df):
            posts.setdefault(radarindex.term_hash(t), set()).add(i)
    code = [i for i, p in enumerate(papers) if any(b.kind in ARTEFACT_KINDS for b in badges(p.links))]
    key = radar.numbering_key(p.id for p in papers)
    return json.dumps({"v": radar.FORMAT, "n": n, "key": key,
                       "p": radarindex.pack_day(n, code, {h: sorted(s) for h, s in posts.items()}, top)},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def paths_taken(d: Digest, min_df: int = radar.MIN_DF) -> tuple[int, int]:
    """(papers _select_fast answered, papers it left to _select) on this day."""
    papers = radar.radar_order(d.papers)
    docs = [radarindex._paper_terms(p.title, p.abstract) for p in papers]
    n = len(docs)
    df: Counter[str] = Counter()
    for tf, _, _ in docs:
        df.update(tf.keys())
    avg = sum(length for _, _, length in docs) / n
    idf = {c: radarindex._idf(c, n) for c in set(df.values())}
    tiers = radarindex._Tiers(df, idf, n, min_df)
    k1, b = radarindex.K1, radarindex.B
    fast = [radarindex._select_fast(tf, k1 * (1 - b + b * length / avg), df, idf, tiers, min_df, radar.TOP_TERMS)
            for tf, _, length in docs]
    return sum(x is not None for x in fast), sum(x is None for x in fast)


def real() -> Digest:
    return load(DAY)


def with_ids(papers: list[Paper]) -> tuple[Paper, ...]:
    """The papers under fresh arXiv ids (2411.90000 on), in this order."""
    return tuple(replace(p, id=f"2411.{90000 + i:05d}") for i, p in enumerate(papers))


@pytest.mark.parametrize("min_df", [radar.MIN_DF, 1])
def test_the_real_day_selects_as_defined(min_df: int) -> None:
    d = real()
    for top in (1, 3, radar.TOP_TERMS, 5, 8):
        assert radar.build_day(d, top=top, min_df=min_df).idx == reference_idx(d, top, min_df), top
    fast, slow = paths_taken(d, min_df)
    assert fast > 0.9 * len(d.papers)
    assert slow > 0 or min_df == 1  # both paths run on a real day (min_df 1: every paper has its own words)


def test_the_1504_record_feed_day_selects_as_defined(tmp_path: Path) -> None:
    """All of arXiv's announcements of one day (1,504 records, every archive): real volume."""
    path = tmp_path / "2024-11-28.json"
    raw = json.dumps(feed_day()).encode("utf-8")
    path.write_bytes(raw)
    d = parse(path, raw)
    assert len(d.papers) == 1504
    x = radar.build_day(d, [p.id for p in d.papers[::7]])
    assert x.idx == reference_idx(d) and x.papers == 1504
    assert len(x.meta) == -(-1504 // radar.CHUNK)
    fast, slow = paths_taken(d)
    assert fast and slow


def test_tie_heavy_and_small_days_select_as_defined() -> None:
    """Days where the top weight's ties decide: papers repeating one abstract (every term shared
    alike: no paper has terms of the top weight, _select throughout), papers of a shuffled common
    vocabulary (ties broken by the term's text), days below DF_FLOOR papers, one-word papers."""
    d = real()
    ps = list(radar.radar_order(d.papers))
    rng = random.Random(11)
    vocab = [f"w{i}" for i in range(40)]
    shuffled = [replace(p, title=" ".join(rng.sample(vocab, 3)), abstract=" ".join(rng.sample(vocab, 12)))
                for p in ps[:200]]
    days = {
        "repeated": d.with_papers(with_ids(ps[:30] * 4)),
        "vocabulary": d.with_papers(with_ids(shuffled)),
        "one word": d.with_papers(with_ids([replace(p, title="cache", abstract="cache") for p in ps[:9]])),
        **{f"{k} papers": d.with_papers(tuple(ps[:k])) for k in range(0, 6)},
    }
    for name, day in days.items():
        for min_df in (radar.MIN_DF, 1, 3):
            assert radar.build_day(day, min_df=min_df).idx == reference_idx(day, min_df=min_df), (name, min_df)
    assert paths_taken(days["repeated"]) == (0, 120)
    assert all(paths_taken(days["vocabulary"]))


def test_a_hostile_day_selects_as_defined() -> None:
    """Markup, control and bidi characters, lone surrogates, math, only stop words, non-Latin
    scripts, an abstract of 40,000 words of one term, empty texts, and ids that are not arXiv's."""
    d = real()
    ps = list(radar.radar_order(d.papers))[:40]
    evil = [
        replace(ps[0], title='</script><img src=x onerror=alert(1)> "\u2028 \u202e $x^2$',
                abstract="\x00\ud7ff\ud800" + "kv cache " * 20_000),
        replace(ps[1], id="10.1101/2024.11.25.<b>", title="", abstract=""),
        replace(ps[2], title="the of and", abstract="we propose a novel method that is the best"),
        replace(ps[3], title="Кэш ключей и значений", abstract="Трансформер 注意力机制 κλειδί \u0301\u0301"),
        replace(ps[4], title="$$\\frac{a}{b}$$ \\(x\\) \\[y\\]", abstract="$unclosed math " + "a" * 5_000),
        replace(ps[5], title="1 22 333", abstract="x y z 4444 ü é"),
    ]
    day = d.with_papers((*evil, *ps[6:]))
    for min_df in (radar.MIN_DF, 1):
        x = radar.build_day(day, [ps[6].id], min_df=min_df)
        assert x.idx == reference_idx(day, min_df=min_df)
    meta = json.loads(x.meta[0])
    assert '</script><img src=x onerror=alert(1)> "\u2028 \u202e $x^2$' in meta["title"]  # data, escaped by JSON


def reference_text(bits: str) -> str:
    """The base64url digits of a bit string, six bits at a time (the last padded with zeros)."""
    bits += "0" * (-len(bits) % 6)
    return "".join(radarindex.B64[int(bits[i:i + 6], 2)] for i in range(0, len(bits), 6))


def test_bit_streams_encode_as_defined() -> None:
    """Bits.text (base64 of the stream in whole bytes) is the digit-by-digit encoding, and
    `rices` the Rice codes one by one, on random streams of every length up to 400 bits."""
    rng = random.Random(5)
    for length in range(401):
        bits = "".join(rng.choice("01") for _ in range(length))
        b = radarindex.Bits()
        for i in range(0, length, 7):
            part = bits[i:i + 7]
            b.fixed(int(part, 2), len(part))
        assert b.text() == reference_text(bits), length
    for k in range(0, 12):
        values = [rng.randrange(0, 1 << rng.randrange(1, 16)) for _ in range(50)]
        b = radarindex.Bits()
        b.rices(values, k)
        want = "".join("1" * (v >> k) + "0" + (format(v & ((1 << k) - 1), f"0{k}b") if k else "") for v in values)
        assert b.size() == len(want) and b.text() == reference_text(want), k
    with pytest.raises(ValueError):
        radarindex.Bits().rices([3, -1], 2)
    assert radarindex.Bits().text() == ""


def _write(data_dir: Path, d: Digest) -> Path:
    path = data_dir / d.date[:4] / f"{d.date}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(d.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_changed_day_is_keyed_once_and_stale_output_is_rewritten(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The real day, its radar input changed after a build (a title): the build finds the new
    input key from the plain JSON, parses the file once and computes the day without computing
    input_key again, as a cold build does; output files another build left (other bytes) are
    rewritten, those already right keep their mtime."""
    data_dir, out = tmp_path / "digests", tmp_path / "out" / "radar"
    d = real()
    path = _write(data_dir, d)
    todo = [(path, ["2411.18077"], "2024-11-28/")]
    assert radar.write_days(data_dir, todo, out, 1) == (0, 1)
    papers = radar.radar_order(d.papers)
    papers[3] = replace(papers[3], title=papers[3].title + " revisited")  # in the first display file
    _write(data_dir, d.with_papers(tuple(papers)))
    calls: list[str] = []

    def recording(digest: Digest) -> str:
        calls.append(digest.date)
        return radar.input_key(digest)

    monkeypatch.setattr(radar, "input_key", recording)
    idx = out / "2024-11-28.idx.json"
    (out / "2024-11-28.m3.json").write_text("stale", encoding="utf-8")
    old = os.stat(out / "2024-11-28.m5.json").st_mtime_ns - 10**9
    os.utime(out / "2024-11-28.m5.json", ns=(old, old))
    assert radar.write_days(data_dir, todo, out, 1) == (0, 1)
    assert calls == []  # keyed from the plain JSON, not again from the parsed day
    monkeypatch.undo()
    cold = tmp_path / "cold"
    radar.write_days(data_dir, todo, cold, 1)
    got: dict[str, Any] = {p.name: p.read_bytes() for p in out.iterdir()}
    assert got == {p.name: p.read_bytes() for p in cold.iterdir()}
    assert idx.read_bytes() != b"" and os.stat(out / "2024-11-28.m5.json").st_mtime_ns == old


def test_a_cold_build_computes_the_radar_early_with_the_same_bytes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold Pelican build (the real 513-paper day and the synthetic ones) starts computing the
    radar's days once the articles are read (EarlyFill, in forked processes while the other
    generators write their pages) and writes the same bytes as a build that computes every day
    inline in one process."""
    import shutil

    from conftest import build_site
    from sitedata import make_site

    site = make_site(tmp_path / "site")
    started: list[bool] = []

    class Recording(radar.EarlyFill):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            started.append(self._thread is not None)

    monkeypatch.setattr(radar, "EarlyFill", Recording)
    monkeypatch.setattr(radar, "workers", lambda: 2)  # as on two cores, whatever this machine has
    early = build_site(site, tmp_path / "early", SITEURL="", FEED_DOMAIN="") / "radar"
    assert started == [True]
    shutil.rmtree(site / "content" / "digests" / ".cache")  # cold again
    monkeypatch.setattr(radar, "workers", lambda: 1)  # no process forked: every day inline, at output time
    serial = build_site(site, tmp_path / "serial", SITEURL="", FEED_DOMAIN="") / "radar"
    assert started == [True, False]
    names = sorted(p.name for p in early.iterdir())
    assert len(names) > 20 and names == sorted(p.name for p in serial.iterdir())
    for name in names:
        assert (early / name).read_bytes() == (serial / name).read_bytes(), name
