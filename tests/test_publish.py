"""`make publish`, `make publish-html` and `make github`, run for real in a copy of the project.

The copy talks to the local arXiv stand-in; `make github` pushes to a local bare repository that
stands in for GitHub, and the test reads the gh-pages branch back from it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from arxiv_server import ArxivServer, Fault, paged_feed
from sitecopy import env, git, init_repo, project_copy, run

API = "/api/query"
FEED = "api2026_query_cat-cs.LG_OR_cat-cs.AI_start0_max20.xml"  # 20 real entries
SITEURL = "https://digest.example.org"
pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return project_copy(tmp_path / "site")


def make_env(site: Path, server: ArxivServer) -> dict[str, str]:
    base = server.base_url  # type: ignore[attr-defined]
    return env(site, ARXIV_DIGEST_API_URL=f"{base}{API}", SITEURL=SITEURL)


def test_help_lists_the_quickstart_targets_and_ours(site: Path) -> None:
    done = run(["make", "help"], site, env(site))
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert {"help", "html", "clean", "regenerate", "serve", "devserver", "publish", "github",
            "update", "backfill", "test", "lint", "status", "publish-html"} <= listed


def test_make_github_publishes_one_commit_and_keeps_no_history(
    site: Path, tmp_path: Path, arxiv_server: ArxivServer
) -> None:
    arxiv_server.route(API, paged_feed(FEED))
    remote = tmp_path / "remote.git"
    init_repo(site, remote)
    environ = make_env(site, arxiv_server)

    first = run(["make", "github", "DATE=2026-11-02"], site, environ)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2026-11-02: 20 papers stored" in first.stdout
    files = set(git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines())
    assert {".nojekyll", "index.html", "2026/11/02/index.html", "feeds/all.atom.xml"} <= files
    assert not any(f.startswith(("content/", "plugins/", "Makefile")) for f in files)
    feed = git(remote, "show", "gh-pages:feeds/all.atom.xml")
    assert f"{SITEURL}/2026/11/02/" in feed  # publishconf.py: absolute URLs from SITEURL

    second = run(["make", "github", "DATE=2026-11-03"], site, environ)
    assert second.returncode == 0, second.stdout + second.stderr
    files = set(git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines())
    assert {"2026/11/02/index.html", "2026/11/03/index.html"} <= files
    # the branch is one parentless commit, however often it is published
    assert git(remote, "rev-list", "--count", "gh-pages") == "1"
    assert git(remote, "log", "--format=%P", "-1", "gh-pages") == ""
    assert git(remote, "log", "--format=%s", "-1", "gh-pages") == "Generate Pelican site"
    # main on the remote is untouched: the site is not committed to it
    assert git(remote, "rev-list", "--count", "main") == "1"


def test_make_publish_builds_nothing_when_the_update_fails(
    site: Path, arxiv_server: ArxivServer
) -> None:
    arxiv_server.route(API, paged_feed(FEED))
    arxiv_server.fault(API, *[Fault(status=503)] * 10)
    done = run(["make", "publish", "DATE=2026-11-02"], site, make_env(site, arxiv_server))
    assert done.returncode != 0
    assert "HTTP 503 after retries" in done.stderr
    assert not (site / "output").exists()
    assert not list((site / "content" / "digests").rglob("*.json"))


def test_make_publish_html_builds_the_stored_days_without_fetching(
    site: Path, arxiv_server: ArxivServer
) -> None:
    arxiv_server.route(API, paged_feed(FEED))
    environ = make_env(site, arxiv_server)
    assert run(["make", "update", "DATE=2026-11-02"], site, environ).returncode == 0
    before = len(arxiv_server.requests)
    done = run(["make", "publish-html"], site, environ)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(arxiv_server.requests) == before
    page = (site / "output" / "2026" / "11" / "02" / "index.html").read_text(encoding="utf-8")
    assert SITEURL in page
    assert (site / "output" / "feeds" / "all.atom.xml").exists()
