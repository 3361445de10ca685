"""The one sentence splitter (enrich.sentences), used by topic decisions, claims and extractive
summaries: its rules, every real abstract of the 1,504-paper feed, and hostile text."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from arxiv_digest.enrich import claims, sentences, topics
from arxiv_digest.enrich.sentences import sentence_spans
from arxiv_digest.summarize import extractive
from arxiv_digest.update.fetch import parse_rss
from arxiv_digest.update.normalize import normalize
from arxiv_server import FIXTURES

RSS = FIXTURES / "rss_all-archives_2024-11-28.xml"


def split(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_one_splitter_for_topics_claims_and_extractive_summaries() -> None:
    assert topics.sentence_spans is sentence_spans
    assert claims.sentence_spans is sentence_spans
    assert extractive.sentences is sentences.sentences


@pytest.mark.parametrize(("text", "expected"), [
    # abbreviations and decimals stay inside
    ("We compare with Smith et al. on 2.5x speed-ups, e.g. on GPUs. Results improve by 3.1%.",
     ["We compare with Smith et al. on 2.5x speed-ups, e.g. on GPUs.", "Results improve by 3.1%."]),
    ("See Fig. 3 and Eqs. 4-5, i.e. Table 2 (cf. Sec. 4). Then w.r.t. X vs. Y. Done.",
     ["See Fig. 3 and Eqs. 4-5, i.e. Table 2 (cf. Sec. 4).", "Then w.r.t. X vs. Y.", "Done."]),
    ("Work by Dr. Smith and Prof. Lee, No. 5 on the list. Next.",
     ["Work by Dr. Smith and Prof. Lee, No. 5 on the list.", "Next."]),
    # an abbreviation only as a word of its own, and "ms" (milliseconds) ends a sentence
    ("Latency drops to 5 ms. We keep 12 Tables. Then prefig. Ends.",
     ["Latency drops to 5 ms.", "We keep 12 Tables.", "Then prefig.", "Ends."]),
    # run-together sentences, closing quotes and brackets, ! and ?
    ("The area is not understood.To fill this gap, we present X.",
     ["The area is not understood.", "To fill this gap, we present X."]),
    ('Inspired by "Thinking, Fast and Slow." We go (see above.) Why? Because! 4-bit works.',
     ['Inspired by "Thinking, Fast and Slow."', "We go (see above.)", "Why?", "Because!",
      "4-bit works."]),
    # TeX after the point, and a lower-case word after it (not a new sentence)
    ("Speed-ups reach 2.5$\\times$. $\\alpha$ is tuned. It uses e.g. $224\\times224$ inputs. a. b",
     ["Speed-ups reach 2.5$\\times$.", "$\\alpha$ is tuned.",
      "It uses e.g. $224\\times224$ inputs. a. b"]),
    # white space around and between sentences is not part of a sentence
    ("  \n First one.\n\n  Second one.  \n", ["First one.", "Second one."]),
    ("", []),
    ("   \n ", []),
    ("no terminator at all", ["no terminator at all"]),
])
def test_rules(text: str, expected: list[str]) -> None:
    assert split(text) == expected
    assert sentences.sentences(text) == [" ".join(s.split()) for s in expected]


@pytest.fixture(scope="module")
def abstracts() -> list[str]:
    return [p.abstract for p in normalize(parse_rss(RSS.read_bytes(), "rss").records, [])]


def test_every_real_abstract(abstracts: list[str]) -> None:
    """1,504 real abstracts: the spans are ordered, disjoint and cover every non-space character;
    no sentence ends inside a number or on an abbreviation; most abstracts have several sentences."""
    abbrev = re.compile(r"(?<![\w.])(?:e\.g|i\.e|et al|etc|vs|Fig|Eq|cf)\.$", re.I)
    counts = []
    for text in abstracts:
        spans = sentence_spans(text)
        counts.append(len(spans))
        assert all(0 <= s < e <= len(text) for s, e in spans)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
        covered = "".join(text[s:e] for s, e in spans)
        assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text)
        for s, e in spans[:-1]:
            piece = text[s:e]
            assert not abbrev.search(piece), piece[-40:]
            assert not (text[e - 1] == "." and text[e:e + 1].isdigit())  # never "2.|5"
            assert text[e].isspace() or text[e].isupper(), piece[-40:]
    assert len(abstracts) == 1504
    assert sum(counts) / len(counts) > 5  # real abstracts have 5-10 sentences
    assert sum(1 for c in counts if c == 1) < 30


def test_hostile_text_is_split_in_linear_time() -> None:
    """Long runs of points, abbreviations, capitals or no space at all: bounded time, sane spans."""
    cases = [
        "." * 200_000,
        "e.g. " * 40_000,
        "A. " * 60_000,
        "word.Word " * 20_000,
        "x" * 200_000,
        "et al. " * 30_000 + "End.",
        "\u2003. \u00a0Z" * 30_000,
        ("Sparse.? " * 20_000) + "$\\times$. " * 10_000,
    ]
    started = time.perf_counter()
    for text in cases:
        spans = sentence_spans(text)
        assert all(0 <= s < e <= len(text) for s, e in spans)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
        assert len(sentences.sentences(text)) == len(spans)
    assert time.perf_counter() - started < 10  # about 0.5 s; quadratic would take minutes
    assert len(sentence_spans("A. " * 60_000)) == 60_000
    assert len(sentence_spans("e.g. " * 40_000)) == 1
