"""The daily GitHub Actions workflow: actionlint, its shape, and its decisions run for real.

.github/scripts/daily.sh holds the workflow's decisions (publish or not, neutral or red, what the
job summary says, the bot's commit). Here it runs in a copy of the project against the local
arXiv stand-in, with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as files, and a local bare remote.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from arxiv_server import ArxivServer, Fault, paged_feed
from sitecopy import ROOT, VENV, env, git, init_repo, project_copy, run

WORKFLOW = ROOT / ".github" / "workflows" / "daily.yml"
SCRIPT = ".github/scripts/daily.sh"
API = "/api/query"
FEED = "api2026_query_cat-cs.LG_OR_cat-cs.AI_start0_max20.xml"
EMPTY = "api2026_idlist_0808.05394.xml"  # a real API answer with no entries (totalResults 0)
MONDAY, SATURDAY = "2026-11-02", "2026-11-07"


def tool(name: str) -> str:
    found = shutil.which(name, path=str(VENV / "bin")) or shutil.which(name)
    assert found, f"{name} is not installed (pip install -e '.[test]')"
    return found


def test_workflow_passes_actionlint_with_shellcheck() -> None:
    # -shellcheck makes actionlint check every `run:` script (it silently skips them without it)
    args = [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), str(WORKFLOW)]
    done = run(args, ROOT, env(ROOT))
    assert done.returncode == 0, done.stdout + done.stderr


def test_daily_script_passes_shellcheck() -> None:
    done = run([tool("shellcheck"), SCRIPT], ROOT, env(ROOT))
    assert done.returncode == 0, done.stdout


def load() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def uses(job: dict[str, Any]) -> dict[str, str]:
    return dict(s["uses"].split("@", 1) for s in job["steps"] if "uses" in s)


def test_schedule_dispatch_and_jobs() -> None:
    wf = load()
    crons = [c["cron"] for c in wf["on"]["schedule"]]
    assert len(crons) == 2  # the first run and the catch-up run
    for cron in crons:
        minute, _hour, dom, month, dow = cron.split()
        assert minute not in ("0", "00", "30") and dom == month == "*" and dow == "1-5"
    assert int(crons[0].split()[1]) >= 5 and int(crons[1].split()[1]) > int(crons[0].split()[1])
    assert wf["on"]["workflow_dispatch"]["inputs"]["date"]["type"] == "string"
    assert wf["permissions"] == {"contents": "read"}

    update, deploy = wf["jobs"]["update"], wf["jobs"]["deploy"]
    assert uses(update) == {
        "actions/checkout": "v7", "actions/setup-python": "v7",
        "actions/configure-pages": "v6", "actions/upload-pages-artifact": "v5",
        "actions/cache": "v5",  # the near-duplicate title index (enrich/near_duplicates.py)
    }
    python = next(s for s in update["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["cache"] == "pip"
    runs = [s.get("run", "") for s in update["steps"]]
    assert "make install" in runs and "make publish-html" in runs
    assert f"bash {SCRIPT} update" in runs and f"bash {SCRIPT} commit" in runs
    step = next(s for s in update["steps"] if s.get("id") == "update")
    assert step["env"]["OPENAI_API_KEY"] == "${{ secrets.OPENAI_API_KEY }}"
    assert update["permissions"] == {"contents": "write"}

    assert deploy["needs"] == "update"
    assert deploy["if"] == "needs.update.outputs.publish == 'true'"
    assert uses(deploy) == {"actions/deploy-pages": "v5"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert wf["jobs"]["keepalive"]["permissions"] == {"actions": "write"}


# --- the decisions, run for real ----------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path, arxiv_server: ArxivServer) -> Path:
    return project_copy(tmp_path / "site")


def daily(site: Path, server: ArxivServer, step: str, **extra: str) -> tuple[int, dict[str, str], str, str]:
    """Run daily.sh STEP; returns (exit code, GITHUB_OUTPUT as a dict, summary, output)."""
    out, summary = site.parent / "github_output", site.parent / "summary.md"
    out.write_text("")
    summary.write_text("")
    base = server.base_url  # type: ignore[attr-defined]
    environ = env(site, ARXIV_DIGEST_API_URL=f"{base}{API}", GITHUB_OUTPUT=str(out),
                  GITHUB_STEP_SUMMARY=str(summary), **extra)
    done = run(["bash", SCRIPT, step], site, environ)
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return done.returncode, outputs, summary.read_text(), done.stdout + done.stderr


def test_a_stored_day_is_published(site: Path, arxiv_server: ArxivServer) -> None:
    arxiv_server.route(API, paged_feed(FEED))
    code, outputs, summary, _ = daily(site, arxiv_server, "update", RUN_KIND="manual", DATE=MONDAY)
    assert code == 0
    assert outputs == {"publish": "true", "day": MONDAY}
    assert f"Stored: {MONDAY}: 20 papers stored" in summary
    assert (site / "content" / "digests" / "2026" / f"{MONDAY}.json").exists()


def test_no_announcement_is_green_and_publishes_nothing(site: Path, arxiv_server: ArxivServer) -> None:
    code, outputs, summary, _ = daily(site, arxiv_server, "update", RUN_KIND="first", DATE=SATURDAY)
    assert code == 0 and outputs == {"publish": "false"}
    assert "Nothing to publish" in summary and "weekends" in summary
    assert arxiv_server.requests == []


@pytest.mark.parametrize("kind, expected", [("first", 0), ("catch-up", 4), ("manual", 4)])
def test_a_missing_listing_waits_for_the_catch_up_run(
    site: Path, arxiv_server: ArxivServer, kind: str, expected: int
) -> None:
    """Exit 4 (no listing yet): neutral on the first run, red on the catch-up or a manual run."""
    arxiv_server.route(API, EMPTY)
    code, outputs, summary, log = daily(site, arxiv_server, "update", RUN_KIND=kind, DATE=MONDAY)
    assert code == expected, log
    assert outputs == {"publish": "false"}
    assert "the arXiv API has no submissions" in summary
    if kind == "first":
        assert "catch-up run later today tries again" in summary
        assert "::notice title=No listing yet::" in log
    else:
        assert "**Failed** (exit 4)" in summary and "live site stays as it was" in summary
        assert "::error title=Update failed (exit 4)::" in log
    assert not list((site / "content" / "digests").rglob("*.json"))


def test_a_fetch_failure_is_red_even_on_the_first_run(site: Path, arxiv_server: ArxivServer) -> None:
    arxiv_server.route(API, paged_feed(FEED))
    arxiv_server.fault(API, *[Fault(status=503)] * 10)
    code, outputs, summary, _ = daily(site, arxiv_server, "update", RUN_KIND="first", DATE=MONDAY)
    assert code == 3
    assert outputs == {"publish": "false"}
    assert "**Failed** (exit 3)" in summary and "HTTP 503 after retries" in summary


def test_commit_pushes_the_day_as_the_bot(site: Path, tmp_path: Path, arxiv_server: ArxivServer) -> None:
    arxiv_server.route(API, paged_feed(FEED))
    remote = tmp_path / "remote.git"
    init_repo(site, remote)
    code, outputs, _, _ = daily(site, arxiv_server, "update", RUN_KIND="manual", DATE=MONDAY)
    assert code == 0
    code, _, _, log = daily(site, arxiv_server, "commit", RUN_KIND="schedule", DAY=outputs["day"])
    assert code == 0, log
    assert git(remote, "rev-list", "--count", "main") == "2"
    author = git(remote, "log", "-1", "--format=%an <%ae>", "main")
    assert author == "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    assert git(remote, "log", "-1", "--format=%s", "main") == f"digest: {MONDAY} (schedule run)"
    changed = git(remote, "show", "--name-only", "--format=", "main").splitlines()
    assert changed == [f"content/digests/2026/{MONDAY}.json"]
    stored = json.loads(git(remote, "show", f"main:content/digests/2026/{MONDAY}.json"))
    assert stored["date"] == MONDAY and len(stored["papers"]) == 20

    code, _, _, log = daily(site, arxiv_server, "commit", RUN_KIND="schedule", DAY=MONDAY)
    assert code == 0 and "nothing to commit" in log
    assert git(remote, "rev-list", "--count", "main") == "2"
