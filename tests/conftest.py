"""Shared fixtures: no internet, a local arXiv server, settings, and a tiny Pelican site."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from arxiv_server import FIXTURES, ArxivServer
from llm_server import LLMServer

ROOT = Path(__file__).resolve().parents[1]
CATS = "cs.AI+cs.CL+cs.CV+cs.LG"

# Variables that could point a test at a real service; cleared for every test.
_ENV_CLEARED = ("ARXIV_DIGEST_RSS_URL", "ARXIV_DIGEST_API_URL", "ARXIV_DIGEST_LLM_MODEL",
                "ARXIV_DIGEST_LLM_API_BASE", "ARXIV_DIGEST_SETTINGS")


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise OSError(f"tests may not reach the internet (tried {address!r})")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise OSError(f"tests may not reach the internet (tried {address!r})")
    return _real_connect_ex(self, address)


def pytest_configure(config: pytest.Config) -> None:
    """Block every non-loopback connection for the whole run."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    if not FIXTURES.is_dir():
        raise pytest.UsageError(f"recorded fixtures not found at {FIXTURES}")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _ENV_CLEARED:
        monkeypatch.delenv(var, raising=False)
    # Pelican's logger class shows each distinct warning once per process; tests are separate runs
    from pelican.log import LimitFilter

    LimitFilter._raised_messages.clear()


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    """A local OpenAI-compatible server on 127.0.0.1."""
    server = LLMServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def arxiv_server() -> Iterator[ArxivServer]:
    """A local arXiv stand-in on 127.0.0.1 serving recorded responses."""
    server = ArxivServer()
    server.base_url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


def pelican_settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Pelican-like settings for the plugin: content under tmp_path, fast polite delays."""
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    settings: dict[str, Any] = {
        "PATH": str(content),
        "ARXIV_DIGEST_CONFIG": str(ROOT / "digest.yaml"),
        "ARXIV_DIGEST_REQUEST_DELAY": 0.01,
        "ARXIV_DIGEST_RETRIES": 3,
        "ARXIV_DIGEST_TIMEOUT": 5.0,
    }
    settings.update(overrides)
    return settings


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """A copy of the project's site skeleton (settings, theme, digest.yaml) with empty content."""
    for name in ("pelicanconf.py", "publishconf.py", "digest.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "theme", tmp_path / "theme")
    (tmp_path / "content" / "digests").mkdir(parents=True)
    return tmp_path


def build_site(site: Path, output: Path, **overrides: Any) -> Path:
    """Build the site at `site` (pelicanconf.py, theme/, content/) into `output` in-process."""
    from pelican import Pelican
    from pelican.settings import read_settings

    settings = read_settings(
        str(site / "pelicanconf.py"),
        override={
            "PATH": str(site / "content"),
            "OUTPUT_PATH": str(output),
            "THEME": str(site / "theme"),
            "PLUGIN_PATHS": [str(ROOT / "plugins")],
            "ARXIV_DIGEST_CONFIG": str(site / "digest.yaml"),
            "SITEURL": "https://digest.example.org",
            "FEED_DOMAIN": "https://digest.example.org",
            **overrides,
        },
    )
    Pelican(settings).run()
    return output


# -- headless Debian chromium, for the browser tests (Playwright's own browser download is never used)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian chromium."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does this as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extras")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()
