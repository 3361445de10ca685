"""The radar's build side (site/radar.py) and its agreement with the browser's code (radar.js in node).

The index is a pure function of each day file: rebuilt, it is byte-identical. Python's tokenizer
and hash (which index the papers) and radar.js's (which read the profile and the titles) agree on
every title and abstract of the real 513-paper day and on awkward text. The real day's index fits
the budget (100 KB gzipped for the 22 announcement days 30 days can hold). The library parsers
read the real BibTeX library and small RIS and CSL-JSON exports.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.models import Digest
from arxiv_digest.site import radar
from arxiv_digest.store import load
from conftest import ROOT, build_site
from sitedata import make_site

DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"
BIB = ROOT / "tests" / "data" / "radar" / "kvcache_thesis_references.bib"
NODE = shutil.which("node")
RUNNER = ROOT / "tests" / "radar_node.js"
BUDGET_30_DAYS = 100_000  # bytes gzipped for the index of the last 30 days
MAX_DAYS_IN_30 = 22  # announcement days in 30 calendar days, at most

needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def node(job: dict[str, Any]) -> Any:
    proc = subprocess.run([str(NODE), str(RUNNER)], input=json.dumps(job), capture_output=True,
                          text=True, check=True, timeout=120)
    return json.loads(proc.stdout)


def day() -> Digest:
    return load(DAY)


def test_day_index_is_deterministic_and_within_budget() -> None:
    d = day()
    a, b = radar.build_day(d, ["2411.18077"]), radar.build_day(load(DAY), ["2411.18077"])
    assert (a.idx, a.meta) == (b.idx, b.meta)
    assert a.papers == 513
    meta = json.loads(a.meta)
    assert meta["id"][meta["listed"][0]] == "2411.18077" and len(meta["listed"]) == 1
    assert len(meta["title"]) == len(meta["au"]) == 513
    per_day = len(gzip.compress(a.idx.encode("utf-8"), 6))
    assert per_day * MAX_DAYS_IN_30 <= BUDGET_30_DAYS, per_day
    # the order of the papers in the day, not of a dict or a set, decides the bytes
    shuffled = d.with_papers(tuple(sorted(d.papers, key=lambda p: p.id)))
    assert radar.build_day(shuffled).idx == radar.build_day(shuffled).idx


def test_empty_and_hostile_days() -> None:
    d = day()
    empty = radar.build_day(d.with_papers(()))
    assert json.loads(empty.idx)["t"] == "" and json.loads(empty.meta)["id"] == []
    p = d.papers[0]
    from dataclasses import replace
    evil = replace(p, title='<script>alert(1)</script> "KV" cache $x^2$ \u202e',
                   authors=("<img src=x onerror=alert(1)>",), abstract="\x00\ud7ff" + "quantization " * 50_000)
    x = radar.build_day(d.with_papers((evil,)))
    meta = json.loads(x.meta)
    assert meta["title"] == [evil.title] and meta["au"] == [list(evil.authors)]  # data, escaped by JSON
    with pytest.raises(ValueError):
        radar.varints([-1])


@needs_node
def test_python_and_browser_tokenize_and_hash_alike() -> None:
    d = day()
    texts = [t for p in d.papers for t in (p.title, p.abstract)]
    texts += ["Queries, caches and biases: KV-cache quantization (4-bit) for LLMs",
              "Łukasz Kaiser, José, naïve café", "$\\mathcal{O}(n^2)$ attention \\(x\\) and $$y$$ stays out",
              "\ufb01ne-tuning \uff46\uff55\uff4c\uff4c width \uff21\uff22\uff23", "a b c 12 345 x1 ab", "", "   ",
              "sparse-sparse spars sparses buses gas ies aies eies oes does", "\u202e reversed \u200b zero width"]
    got = node({"mode": "terms", "stopwords": list(radar.STOPWORDS), "bits": radar.HASH_BITS, "texts": texts})
    for text, (terms, hashes) in zip(texts, got, strict=True):
        assert terms == radar.terms(text), text
        assert hashes == [radar.term_hash(t) for t in terms], text


@needs_node
def test_varints_decode_in_the_browser() -> None:
    rng = random.Random(5)
    values = [0, 1, 31, 32, 1023, 1024, 2**22 - 1, 2**22, 2**31] + [rng.randrange(2**23) for _ in range(500)]
    idx = {"v": 1, "date": "2024-11-28", "n": 1, "bits": 22, "t": radar.varints(values)}
    script = ("const r=require(process.argv[1]);let s='';process.stdin.on('data',c=>s+=c);"
              "process.stdin.on('end',()=>process.stdout.write(JSON.stringify(r.unvarints(JSON.parse(s).t))));")
    proc = subprocess.run([str(NODE), "-e", script, str(ROOT / "theme" / "static" / "js" / "radar.js")],
                          input=json.dumps(idx), capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(proc.stdout) == values


@needs_node
def test_library_parsers() -> None:
    x = radar.build_day(day())
    manifest = json.loads(radar.manifest([("2024-11-28", x.papers, "2024/11/28/")]))
    job = {"mode": "rank", "manifest": manifest, "days": [{"idx": json.loads(x.idx), "meta": json.loads(x.meta)}]}
    bib = node({**job, "library": {"name": BIB.name, "text": BIB.read_text(encoding="utf-8")}, "limit": 5})
    assert bib["items"] == 79
    assert bib["results"][0]["id"] == "2411.17691"  # the library cites it (note = {arXiv:2411.17691})
    ris = ("TY  - JOUR\nTI  - KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache\nAU  - Liu, Zirui\n"
           "AB  - KV cache quantization for LLM inference.\nUR  - https://arxiv.org/abs/2402.02750\nER  - \n")
    got = node({**job, "library": {"name": "lib.ris", "text": ris}, "limit": 3})
    assert got["items"] == 1 and got["results"][0]["id"] == "2411.18077"
    csl = json.dumps([{"title": "KV cache compression for long-context LLM inference",
                       "author": [{"family": "Li", "given": "Yuhong"}], "URL": "https://arxiv.org/abs/2404.14469"},
                      {"no": "title"}, 5])
    got = node({**job, "library": {"name": "zotero.json", "text": csl}, "limit": 3})
    assert got["items"] == 1 and got["results"][0]["id"] in ("2411.18077", "2411.15785", "2411.18424")
    # names: TeX accents decoded, "Last, First" turned round, "others" dropped
    script = ("const r=require(process.argv[1]);let s='';process.stdin.on('data',c=>s+=c);process.stdin.on('end',()=>"
              "process.stdout.write(JSON.stringify(r.parseBibtex(s))));")
    proc = subprocess.run([str(NODE), "-e", script, str(ROOT / "theme" / "static" / "js" / "radar.js")],
                          input=BIB.read_text(encoding="utf-8"), capture_output=True, text=True, check=True, timeout=60)
    items = {i["t"]: i for i in json.loads(proc.stdout)}
    assert "Łukasz Kaiser" in items["Attention is all you need"]["a"]
    smooth = "SmoothQuant: Accurate and Efficient Post-Training Quantization for Large Language Models"
    assert items[smooth]["a"][2] == "Michaël Seznec"
    assert "others" not in items["The Llama 3 Herd of Models"]["a"]
    assert items["Low-Bit Quantization Favors Undertrained LLMs"]["x"] == "2411.17691"


def test_build_writes_the_radar_byte_identical(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", days={})
    first = build_site(site, tmp_path / "out1", SITEURL="", FEED_DOMAIN="")
    second = build_site(site, tmp_path / "out2", SITEURL="", FEED_DOMAIN="")
    names = sorted(p.name for p in (first / "radar").iterdir())
    assert names == ["2024-11-28.idx.json", "2024-11-28.meta.json", "days.json", "index.html"]
    for name in names:
        assert (first / "radar" / name).read_bytes() == (second / "radar" / name).read_bytes(), name
    manifest = json.loads((first / "radar" / "days.json").read_text(encoding="utf-8"))
    assert manifest["days"] == [{"date": "2024-11-28", "idx": "2024-11-28.idx.json", "meta": "2024-11-28.meta.json",
                                 "n": 513, "url": "2024/11/28/"}]
    meta = json.loads((first / "radar" / "2024-11-28.meta.json").read_text(encoding="utf-8"))
    assert meta["listed"], "the papers the day page lists are marked (their results link to the page)"
    page = (first / "2024" / "11" / "28" / "index.html").read_text(encoding="utf-8")
    assert 'href="/radar/?day=2024-11-28"' in page and "radar.js" not in page
    assert "radar.js" in (first / "radar" / "index.html").read_text(encoding="utf-8")


def test_day_files_are_cached_on_the_day_file_and_the_listing(tmp_path: Path) -> None:
    data = tmp_path / "digests"
    (data / "2024").mkdir(parents=True)
    path = data / "2024" / DAY.name
    shutil.copy(DAY, path)
    cache = radar.DayFiles(data)
    first = cache.get(path, ["2411.18077"])
    entries = list(cache.dir.glob("2024-11-28.*.radar"))
    assert len(entries) == 1
    assert radar.DayFiles(data).get(path, ["2411.18077"]) == first  # read back, not rebuilt
    entries[0].write_text('{"date": "2024-11-28", "papers": 1, "idx": "x", "meta": "y"}', encoding="utf-8")
    assert radar.DayFiles(data).get(path, ["2411.18077"]).idx == "x"  # proof it came from the cache
    other = radar.DayFiles(data).get(path, ["2411.18077", "2411.15785"])  # the listing changed
    assert other.idx == first.idx and other.meta != first.meta
    assert len(list(cache.dir.glob("2024-11-28.*.radar"))) == 1  # the stale entry is replaced
    (cache.root / ("0" * 16)).mkdir()
    cache.prune()
    assert [p.name for p in cache.root.iterdir()] == [cache.dir.name]
