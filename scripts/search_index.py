"""The site's search index: one Pagefind bundle per period (year), re-indexed only when it changed.

    python scripts/search_index.py --site output --cache content/digests/.cache/search

`make html` (and `html-zh`, `publish-html`) runs it after Pelican. Each page Pagefind would index
(one with `data-pagefind-body`) belongs to the year of the `date:YYYY-MM-DD` in its
`data-pagefind-sort` or `data-pagefind-meta` attribute ("undated" without one). For each year the
script hashes that year's pages (path and bytes); a year whose hash is the one it indexed last
time keeps its bundle, byte for byte, so a new day re-indexes only the current year. A changed year
is indexed by Pagefind's own binary (`--site` over a folder of hard links to just that year's
pages, so the result URLs are the site's) into a fresh folder that replaces the old one whole.

The bundles live in the cache folder (CACHE/<year>/, with CACHE/state.json), which survives a
publish build that empties output/ and which the daily workflow keeps (content/digests/.cache),
and are published as output/pagefind/<year>/ (hard links) with:

  output/pagefind/periods.json   the years, newest first (the search page merges them in order)
  output/pagefind/pagefind-ui.js, pagefind-ui.css   Pagefind's UI, once

Everything else under output/pagefind/ and CACHE/ (an earlier layout's single index, a year that
no longer has pages, a half-written folder from a killed run) is removed: no stale search files.
A folder inside the site that holds another edition's index (its own pagefind/periods.json, as
output/zh/) is that edition's and is skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

logger = logging.getLogger("search_index")

FORMAT = 1  # bump when what goes into a bundle changes (every period is then re-indexed)
BUNDLE = "pagefind"  # the bundle folder in the site, as Pagefind names it
PERIODS = "periods.json"
STATE = "state.json"
UNDATED = "undated"
UI_FILES = ("pagefind-ui.js", "pagefind-ui.css")
# Pagefind's other UIs and the highlighter: the site uses the default UI, published once at the
# bundle folder's root, so the period bundles drop these copies.
UNUSED = frozenset(("pagefind-ui.js", "pagefind-ui.css", "pagefind-component-ui.js",
                    "pagefind-component-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
                    "pagefind-highlight.js"))
# Attributes inside a tag (text on a page is escaped: it holds no "<" and no quote that could pass
# for one): data-pagefind-body, and the date Pagefind sorts or shows a page by,
# data-pagefind-sort="date:2024-11-28" (or data-pagefind-meta). The plain test goes first: it is
# a fast search, and most pages (day and topic pages) fail it.
BODY_TEXT = b"data-pagefind-body"
BODY = re.compile(rb"<[a-zA-Z][^<>]*\sdata-pagefind-body[\s=/>]")
DATE = re.compile(rb"""<[a-zA-Z][^<>]*\sdata-pagefind-(?:sort|meta)=["'][^"'<>]*?\bdate:\s*(\d{4})-\d\d""")


class SearchIndexError(Exception):
    """The search index could not be built (Pagefind failed, or a folder could not be written)."""


@dataclass(frozen=True)
class Page:
    """One indexed page: its path in the site, its bytes' hash and its period."""

    rel: str
    sha: str
    period: str


def pagefind_version() -> str:
    """The installed Pagefind's version (part of every period's hash)."""
    try:
        return version("pagefind")
    except PackageNotFoundError:
        return "unknown"


def html_files(site: Path) -> Iterator[Path]:
    """Every .html file of the site, sorted; not the bundle folder, not another edition's site."""
    for top, dirs, files in os.walk(site):
        here = Path(top)
        dirs[:] = sorted(d for d in dirs if not (here == site and d == BUNDLE)
                         and not (here / d / BUNDLE / PERIODS).is_file())
        for name in sorted(files):
            if name.endswith(".html"):
                yield here / name


def scan(site: Path) -> list[Page]:
    """The pages Pagefind would index, with their hashes and periods.

    As Pagefind does: only pages with data-pagefind-body when any page has one, else every page.
    """
    bodies: list[Page] = []
    others: list[tuple[Path, str]] = []
    for path in html_files(site):
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if BODY_TEXT in data and BODY.search(data):
            bodies.append(Page(path.relative_to(site).as_posix(), sha, period_of(data)))
        elif not bodies:
            others.append((path, sha))
    if bodies:
        return bodies
    return [Page(path.relative_to(site).as_posix(), sha, period_of(path.read_bytes())) for path, sha in others]


def period_of(data: bytes) -> str:
    """The year of a page's date (data-pagefind-sort/meta "date:YYYY-MM-DD"), else "undated"."""
    m = DATE.search(data)
    return m.group(1).decode() if m else UNDATED


def period_hashes(pages: list[Page]) -> dict[str, tuple[str, list[Page]]]:
    """period -> (hash of its pages, the Pagefind version and FORMAT; its pages)."""
    groups: dict[str, list[Page]] = {}
    for p in pages:
        groups.setdefault(p.period, []).append(p)
    out = {}
    for period, group in groups.items():
        h = hashlib.sha256(f"{FORMAT}\0{pagefind_version()}\0{period}\n".encode())
        for p in group:
            h.update(f"{p.rel}\0{p.sha}\n".encode())
        out[period] = (h.hexdigest(), group)
    return out


def newest_first(periods: list[str]) -> list[str]:
    """Years newest first, "undated" last."""
    return sorted(periods, key=lambda p: (p == UNDATED, [-ord(c) for c in p]))


def tree_digest(folder: Path) -> str:
    """A digest of a folder's file names and sizes (Pagefind names its files by their content)."""
    h = hashlib.sha256()
    if not folder.is_dir():
        return ""
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(top) / name
            h.update(f"{path.relative_to(folder).as_posix()}\0{path.stat().st_size}\n".encode())
    return h.hexdigest()


def link_tree(src: Path, dst: Path) -> None:
    """dst as a copy of src made of hard links (a plain copy across file systems)."""
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
    shutil.copytree(src, dst, copy_function=link)


def read_state(cache: Path) -> dict[str, dict[str, str]]:
    """period -> {"pages": hash, "bundle": tree digest} from the last run ({} if none or unreadable)."""
    try:
        state = json.loads((cache / STATE).read_text(encoding="utf-8"))
        periods = state["periods"]
        if state.get("format") != FORMAT or not isinstance(periods, dict):
            return {}
        return {str(k): {"pages": str(v["pages"]), "bundle": str(v["bundle"])} for k, v in periods.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_json(path: Path, data: object) -> None:
    """Write JSON atomically (a temp file beside it, then renamed)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def index_period(cache: Path, site: Path, period: str, pages: list[Page], quiet: bool) -> None:
    """Index one period's pages with Pagefind into CACHE/<period>/ (replacing it whole)."""
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=f".staging-{period}-"))
    fresh = cache / f".new-{period}"
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        for p in pages:
            dst = staging / p.rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(site / p.rel, dst)
            except OSError:
                shutil.copy2(site / p.rel, dst)
        cmd = [sys.executable, "-m", "pagefind", "--site", str(staging), "--output-path", str(fresh)]
        if quiet:
            cmd.append("--silent")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        if proc.returncode:
            tail = proc.stdout.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise SearchIndexError(f"pagefind failed on the {period} pages (exit {proc.returncode}): {tail[0]}")
        if not (fresh / "pagefind-entry.json").is_file():
            raise SearchIndexError(f"pagefind wrote no pagefind-entry.json for the {period} pages into {fresh}")
        for name in UI_FILES:  # the UI, kept once beside the bundles
            shutil.copy2(fresh / name, cache / name)
        for name in UNUSED:
            (fresh / name).unlink(missing_ok=True)
        old = cache / f".old-{period}"
        shutil.rmtree(old, ignore_errors=True)
        if (cache / period).exists():
            os.replace(cache / period, old)
        os.replace(fresh, cache / period)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(fresh, ignore_errors=True)


def ui_files(cache: Path) -> None:
    """Pagefind's UI files in CACHE/ (copied there by every indexing run; else written once now)."""
    if all((cache / name).is_file() for name in UI_FILES):
        return
    with tempfile.TemporaryDirectory(prefix="pagefind-ui-") as tmp:
        (Path(tmp) / "index.html").write_text('<html lang="en"><body><p>ui</p></body></html>')
        proc = subprocess.run([sys.executable, "-m", "pagefind", "--site", tmp, "--silent"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        if proc.returncode:
            raise SearchIndexError(f"pagefind failed writing its UI files (exit {proc.returncode})")
        for name in UI_FILES:
            shutil.copy2(Path(tmp) / BUNDLE / name, cache / name)


def publish(site: Path, cache: Path, periods: list[str], digests: dict[str, str]) -> None:
    """output/pagefind/: the periods' bundles (hard links), periods.json, the UI; nothing else."""
    out = site / BUNDLE
    out.mkdir(exist_ok=True)
    wanted = set(periods) | {PERIODS, *UI_FILES}
    for entry in sorted(out.iterdir()):
        if entry.name not in wanted:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    for period in periods:
        target = out / period
        if target.is_dir() and tree_digest(target) == digests[period]:
            continue  # the published copy is this bundle already
        tmp = out / f".new-{period}"
        shutil.rmtree(tmp, ignore_errors=True)
        link_tree(cache / period, tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    for name in UI_FILES:
        if not (out / name).is_file() or (out / name).read_bytes() != (cache / name).read_bytes():
            shutil.copy2(cache / name, out / name)
    write_json(out / PERIODS, {"format": FORMAT, "pagefind": pagefind_version(), "periods": periods})


def build(site: Path, cache: Path, quiet: bool = True) -> dict[str, object]:
    """Index what changed, publish every period; what was done (for the log and the tests)."""
    started = time.perf_counter()
    if not site.is_dir():
        raise SearchIndexError(f"no site to index at {site} (build it first: make html)")
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SearchIndexError(f"cannot create the search cache folder {cache}: {e}") from e
    if any(cache.iterdir()) and not (cache / STATE).is_file():
        raise SearchIndexError(f"{cache} is not empty and holds no {STATE}: not a search cache folder "
                               "(give --cache a folder of its own)")
    pages = scan(site)
    groups = period_hashes(pages)
    periods = newest_first(list(groups))
    state = read_state(cache)
    # leftovers of a killed run, and periods that no longer have pages
    for entry in cache.iterdir():
        if entry.is_dir() and (entry.name.startswith(".") or entry.name not in groups):
            shutil.rmtree(entry, ignore_errors=True)
    indexed: list[str] = []
    digests: dict[str, str] = {}
    done: dict[str, dict[str, str]] = {}
    for period in periods:
        page_hash, group = groups[period]
        known = state.get(period)
        digest = tree_digest(cache / period)
        if not (digest and known == {"pages": page_hash, "bundle": digest}):
            t0 = time.perf_counter()
            index_period(cache, site, period, group, quiet)
            digest = tree_digest(cache / period)
            indexed.append(period)
            logger.info("search: indexed %s (%d pages) in %.1f s", period, len(group), time.perf_counter() - t0)
        digests[period] = digest
        done[period] = {"pages": page_hash, "bundle": digest}
        # what is done stays done if a later period fails or the run is killed
        kept = {k: v for k, v in {**state, **done}.items() if k in groups}
        write_json(cache / STATE, {"format": FORMAT, "periods": kept})
    if not groups:
        write_json(cache / STATE, {"format": FORMAT, "periods": {}})
    ui_files(cache)
    publish(site, cache, periods, digests)
    seconds = time.perf_counter() - started
    logger.info("search: %d pages in %d period(s) (%s); re-indexed %s; %.1f s", len(pages), len(periods),
                ", ".join(periods) or "none", ", ".join(indexed) or "none", seconds)
    return {"pages": len(pages), "periods": periods, "indexed": indexed, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    """Command line: index the site's changed periods and publish every period's bundle."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, required=True, help="the built site (output/ or output/zh/)")
    ap.add_argument("--cache", type=Path, required=True,
                    help="where the period bundles are kept between builds (one folder per edition)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also Pagefind's own output")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        build(args.site.resolve(), args.cache.resolve(), quiet=not args.verbose)
    except (SearchIndexError, OSError) as e:
        logger.error("search index: %s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
