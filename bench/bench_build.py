"""Benchmark `make html`'s Pelican build as the archive grows (the pagefind step excluded).

Builds sites of 1, 20 and 60 announcement days (copies of the real 2024-11-28 day under other
dates) in temp dirs, side by side, and prints the time per day: the build should stay linear.
Run: .venv/bin/python bench/bench_build.py
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
DAY = ROOT / "content/digests/2024/2024-11-28.json"


def make_site(base: Path, n_days: int) -> Path:
    from arxiv_digest.schedule import announcement_days

    for name in ("pelicanconf.py", "digest.yaml"):
        shutil.copy(ROOT / name, base / name)
    shutil.copytree(ROOT / "theme", base / "theme")
    record = json.loads(DAY.read_text())
    days = announcement_days(dt.date(2024, 9, 2), dt.date(2024, 12, 31))[-n_days:]
    for d in days:
        path = base / "content/digests" / str(d.year) / f"{d.isoformat()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(record, date=d.isoformat())))
    return base


def build(site: Path) -> float:
    from pelican import Pelican
    from pelican.settings import read_settings

    settings = read_settings(str(site / "pelicanconf.py"), override={
        "PATH": str(site / "content"), "OUTPUT_PATH": str(site / "output"),
        "THEME": str(site / "theme"), "PLUGIN_PATHS": [str(ROOT / "plugins")],
        "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml"), "SITEURL": "https://example.org"})
    started = time.perf_counter()
    Pelican(settings).run()
    return time.perf_counter() - started


def main() -> None:
    logging.disable(logging.WARNING)
    results = []
    for n in (1, 20, 60):
        with tempfile.TemporaryDirectory() as tmp:
            site = make_site(Path(tmp), n)
            seconds = build(site)
            pages = sum(1 for _ in (site / "output").rglob("*.html"))
            results.append((n, seconds))
            print(f"{n:3d} days ({n * 513:6,} papers, {pages:4d} pages): {seconds:6.2f} s"
                  f"  = {seconds / n * 1000:7.1f} ms per day")
    base = results[0][1]
    for n, s in results[1:]:
        print(f"{n} days take {s / base:.1f}x the time of 1 day ({n}x the data)")


if __name__ == "__main__":
    main()
