"""A copy of the project (Makefile, settings, theme, workflow scripts) in a temp dir, for running
`make` and the workflow's scripts exactly as a maintainer or CI does, without touching the repo.

`make` in the copy uses this test run's virtualenv and never reinstalls it: MAKEFLAGS sets VENV
and points STAMP at a file newer than the copied pyproject.toml.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent
BOT = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.org",
}


def project_copy(dest: Path, *, request_delay: float = 0.05) -> Path:
    """Copy what `make` and .github/scripts need; content/digests starts empty."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Makefile", "pelicanconf.py", "publishconf.py", "digest.yaml", "pyproject.toml"):
        shutil.copy(ROOT / name, dest / name)
    os.utime(dest / "pyproject.toml", (0, 0))
    (dest / ".stamp").touch()
    shutil.copytree(ROOT / "theme", dest / "theme")
    shutil.copytree(ROOT / ".github", dest / ".github")
    (dest / "plugins").symlink_to(ROOT / "plugins")
    (dest / "scripts").symlink_to(ROOT / "scripts")  # make serve runs scripts/serve.py
    (dest / "content" / "digests").mkdir(parents=True)
    for extra in ("pages",):
        if (ROOT / "content" / extra).is_dir():
            shutil.copytree(ROOT / "content" / extra, dest / "content" / extra)
    with open(dest / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(f"\nARXIV_DIGEST_REQUEST_DELAY = {request_delay}\nARXIV_DIGEST_RETRIES = 2\n"
                "ARXIV_DIGEST_TIMEOUT = 5.0\n")
    (dest / ".gitignore").write_text("output/\n.stamp\n__pycache__/\n", encoding="utf-8")
    return dest


def env(site: Path, **extra: str) -> dict[str, str]:
    """The environment for `make` and the scripts in the copy."""
    out = {k: v for k, v in os.environ.items() if not k.startswith(("ARXIV_DIGEST_", "MAKE"))}
    out["MAKEFLAGS"] = f"VENV={VENV} STAMP={site / '.stamp'}"
    out["PYTHON"] = sys.executable
    out["PATH"] = f"{VENV / 'bin'}{os.pathsep}{out.get('PATH', '')}"
    out.update(extra)
    return out


def run(args: list[str], site: Path, environ: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command in the copy; output captured as text."""
    return subprocess.run(args, cwd=site, env=environ, capture_output=True, text=True,
                          timeout=timeout, check=False)


def git(cwd: Path, *args: str) -> str:
    """git in cwd; returns stdout (raises on failure)."""
    done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **BOT},
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def init_repo(site: Path, remote: Path) -> None:
    """Make the copy a git repo on main with one commit, and a bare `origin` at remote."""
    git(site.parent, "init", "--quiet", "--bare", "-b", "main", str(remote))
    git(site, "init", "--quiet", "-b", "main")
    git(site, "config", "user.name", "test")
    git(site, "config", "user.email", "test@example.org")
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "site")
    git(site, "remote", "add", "origin", str(remote))
    git(site, "push", "--quiet", "origin", "main")
