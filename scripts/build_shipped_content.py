"""Rebuild content/digests from the recorded arXiv feeds in ../shared/fixtures/arxiv.

It serves each recorded feed from a local HTTP server on 127.0.0.1 and runs the real
`python -m arxiv_digest update` against it, exactly as the daily run does against arXiv.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from arxiv_server import ArxivServer  # noqa: E402

# (recorded feed, the clock the run pretends, categories requested)
DAYS = [
    ("rss_all-archives_2024-11-28.xml", "2024-11-28T10:17:00+00:00"),
]


def main() -> int:
    server = ArxivServer()
    base = server.start()
    cats = "cs.AI+cs.CL+cs.CV+cs.LG"
    try:
        for fixture, now in DAYS:
            server.route(f"/rss/{cats}", fixture)
            env = {**os.environ, "ARXIV_DIGEST_RSS_URL": f"{base}/rss"}
            cmd = [sys.executable, "-m", "arxiv_digest", "-s", str(ROOT / "pelicanconf.py"),
                   "update", "--now", now]
            rc = subprocess.call(cmd, cwd=ROOT, env=env)
            if rc:
                return rc
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
