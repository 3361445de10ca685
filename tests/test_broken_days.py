"""A broken day file stops the build (never a site published without that day) and `status` names it.

Each hostile file sits in a tiny site next to a valid day: invalid JSON, an empty file, `[]`, an
unknown schema_version, a field of the wrong type, a `date` that disagrees with the file name.
The real `pelican` command (what `make html` runs) must exit non-zero naming each file and what is
wrong; `python -m arxiv_digest status` must list each one, without a traceback, and exit 5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from arxiv_digest.cli.commands import main
from arxiv_digest.core.errors import BrokenDaysError, StoreError
from conftest import ROOT, build_site

REAL_DAY = ROOT / "content" / "digests" / "2024" / "2024-11-28.json"
GOOD = "2024-11-28"


def good_day(papers: int = 40) -> dict[str, Any]:
    """The shipped (real) day, cut to its first papers: a valid day file."""
    data: dict[str, Any] = json.loads(REAL_DAY.read_text(encoding="utf-8"))
    data["papers"] = data["papers"][:papers]
    return data


def with_date(day: str) -> dict[str, Any]:
    data = good_day(5)
    data["date"] = day
    return data


def changed(day: str, change: Callable[[dict[str, Any]], None]) -> str:
    data = with_date(day)
    change(data)
    return json.dumps(data, indent=2)


# file date -> (its text, what the error must say)
BROKEN: dict[str, tuple[str, str]] = {
    "2024-11-29": ('{"schema_version": 1, "date": "2024-11-29",', "not valid JSON (line 1)"),
    "2024-12-02": ("", "the file is empty"),
    "2024-12-03": ("[]", "expected a JSON object, got list []"),
    "2024-12-04": (changed("2024-12-04", lambda d: d.update(schema_version=3)),
                   "schema_version 3 is not supported"),
    "2024-12-05": (changed("2024-12-05", lambda d: d["papers"][1].update(title=5)),
                   "papers[1] (2411.17703).title: expected a string, got int 5"),
    "2024-12-06": (json.dumps(with_date("2024-12-09")),
                   "date '2024-12-09' disagrees with the file name (expected '2024-12-06')"),
}


@pytest.fixture
def site(site_dir: Path) -> Path:
    """A tiny site with one valid day."""
    day = site_dir / "content" / "digests" / "2024" / f"{GOOD}.json"
    day.parent.mkdir(parents=True, exist_ok=True)
    day.write_text(json.dumps(good_day(), indent=2), encoding="utf-8")
    return site_dir


def put(site: Path, day: str, text: str) -> Path:
    path = site / "content" / "digests" / day[:4] / f"{day}.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_valid_tiny_site_builds(site: Path, tmp_path: Path) -> None:
    out = build_site(site, tmp_path / "out")
    assert (out / "2024" / "11" / "28" / "index.html").is_file()


@pytest.mark.parametrize("day", sorted(BROKEN))
def test_each_broken_day_fails_the_build_naming_file_and_reason(site: Path, tmp_path: Path,
                                                                day: str) -> None:
    text, reason = BROKEN[day]
    path = put(site, day, text)
    with pytest.raises(BrokenDaysError) as info:
        build_site(site, tmp_path / "out")
    message = str(info.value)
    assert f"{path}: " in message and reason in message, message
    assert "1 day file(s) could not be read; the site was not built" in message
    assert not (tmp_path / "out" / "2024" / "11" / "28" / "index.html").exists()  # nothing published
    assert isinstance(info.value, StoreError) and info.value.exitcode == 5


def test_the_pelican_command_exits_non_zero_naming_every_broken_file(site: Path, tmp_path: Path) -> None:
    paths = {day: put(site, day, text) for day, (text, _) in BROKEN.items()}
    with open(site / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(f"\nPLUGIN_PATHS = [{str(ROOT / 'plugins')!r}]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    env["COLUMNS"] = "400"  # one log record per line
    out = tmp_path / "out"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "pelican"), "content", "-o", str(out), "-s", "pelicanconf.py"],
        cwd=site, env=env, capture_output=True, text=True, timeout=120, check=False)
    log = " ".join((done.stdout + done.stderr).split())  # rich may still wrap long paths
    assert done.returncode == 5, log[-3000:]
    assert f"BrokenDaysError: {len(BROKEN)} day file(s) could not be read" in log
    for day, (_, reason) in BROKEN.items():
        assert str(paths[day]) in log and reason in log, (day, log[-3000:])
    assert not (out / "2024" / "11" / "28" / "index.html").exists()


def test_status_lists_every_broken_file_without_a_traceback(site: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    paths = {day: put(site, day, text) for day, (text, _) in BROKEN.items()}
    monkeypatch.chdir(site)
    monkeypatch.setenv("COLUMNS", "400")
    code = main(["-s", "pelicanconf.py", "status", "--now", "2024-12-10T12:00:00+00:00"])
    out, err = capsys.readouterr()
    assert code == StoreError.exit_code
    assert "Traceback" not in out + err
    for day, (_, reason) in BROKEN.items():
        assert f"unreadable: {paths[day]}: " in out and reason in out, (day, out)
    assert f"stored days: 1 ({GOOD} .. {GOOD})" in out


def test_summarize_reports_a_broken_day_and_leaves_it(site: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-modify-write of a broken day stops (exit 5) and leaves the file as it is."""
    text, reason = BROKEN["2024-12-03"]
    path = put(site, "2024-12-03", text)
    monkeypatch.chdir(site)
    code = main(["-s", "pelicanconf.py", "summarize", "--date", "2024-12-03"])
    err = capsys.readouterr().err
    assert code == 5 and reason in err and str(path) in err
    assert path.read_text(encoding="utf-8") == text
