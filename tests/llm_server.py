"""A local OpenAI-compatible chat-completions server on 127.0.0.1 for the summarize tests.

It answers POST /v1/chat/completions with deterministic JSON derived from the request (the paper's
id, title and abstract, or the briefing's topic), so litellm runs its real HTTP path against it.
Faults can be queued per key (a paper id, a briefing topic, "score:<id>" for one kind of call
only, or "*" for any call): an HTTP status
with headers (429 + Retry-After, 500, 401), a delay, malformed or schema-breaking content, or an
error body that echoes the Authorization header (a provider that leaks the key). Every call is
recorded so tests can count them.

Like a local llama.cpp/vLLM server it can also: serve a limited number of `slots` (other requests
queue), notice a client that hangs up while its reply is still being generated (recorded in
`disconnects`; generation stops), reject response_format types it does not support
(`reject_formats`, a 400 naming response_format), and report the response_format each call sent
(`Call.response_format`).

A summary.v3 prompt offers candidate topics; the default answer echoes each with a verdict that
agrees with the keyword rules' finding (echo_verdicts), so listings do not change unless a test
answers otherwise (a Fault with content, or its own `answer`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ID = re.compile(r"^arXiv id: (\S+)$", re.M)
_TITLE = re.compile(r"^Title: (.*)$", re.M)
_TOPIC = re.compile(r"^Topic: (.*)$", re.M)
_SPEEDUP = re.compile(r"\d+(?:\.\d+)?\s?(?:\u00d7|x)(?=[\s,.;)])")
_LISTED = re.compile(r"^- arXiv id: (\S+)", re.M)
# summary.v3's offered topics: "- name: definition [keyword rules: about: title; ...]"
_OFFERED = re.compile(r"^- ([^:\n]+): .*?(?:\[keyword rules: ([^\]\n]*)\])?\s*$", re.M)


def offered_topics(user: str) -> list[tuple[str, str]]:
    """(topic, the keyword rules' finding) of each topic a summary.v3 prompt offers."""
    _, found, block = user.partition("\nOffered topics")
    return _OFFERED.findall(block.partition("\n")[2]) if found else []


def echo_verdicts(user: str) -> list[dict[str, Any]]:
    """The default verdicts: one per offered topic, agreeing with the keyword rules."""
    out = []
    for topic, rules in offered_topics(user):
        about = rules.startswith("about")
        said = "about it" if about else "that it is only mentioned"
        out.append({"topic": topic, "why": f"the keyword rules say {said}; the test server agrees",
                    "about": about})
    return out


HOLD_MAX = 240.0  # the longest a Fault.until holds an answer (a test that never sets it still ends)


@dataclass
class Fault:
    """One answer instead of the deterministic one."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    until: threading.Event | None = None  # also hold the answer until this is set (a race made certain)
    content: str | None = None  # the assistant message text (e.g. malformed JSON)
    echo_auth: bool = False  # put the request's Authorization header in the answer
    finish_reason: str = "stop"  # "length": the reply ran into max_tokens (weak local models)


@dataclass
class Call:
    """One request the server received."""

    kind: str  # "summary", "score" or "briefing"
    key: str  # paper id or briefing topic
    model: str
    authorization: str
    body: dict[str, Any]
    at: float

    @property
    def response_format(self) -> str | None:
        """The response_format type the call asked for ('json_schema', 'json_object'), if any."""
        rf = self.body.get("response_format")
        return str(rf.get("type")) if isinstance(rf, dict) else None


def _kind(system: str) -> str:
    """The kind of call, from the task line of the system prompt."""
    if "Task: score" in system:
        return "score"
    if "Task: brief" in system:
        return "briefing"
    return "summary"


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def default_answer(kind: str, key: str, user: str) -> dict[str, Any]:
    """The deterministic JSON the server answers for a call of this kind and key."""
    if kind == "score":
        h = _digest(key)
        return {"relevance": 1 + h % 10, "novelty": 1 + (h // 10) % 10,
                "comment": f"Scored {key} against the reader's interests."}
    if kind == "briefing":
        ids = _LISTED.findall(user)
        return {"sentences": [{"text": f"Briefing on {key}: {len(ids)} papers, summarized by "
                                       "the test server.", "cites": ids}]}
    title = (_TITLE.search(user) or [None, ""])[1]
    low = user.lower()
    technique = next((t for w, t in (("prun", "pruning"), ("quantiz", "quantization"),
                                     ("kv cache", "kv-cache"), ("spars", "sparsity"))
                      if w in low), None)
    speed = _SPEEDUP.search(user)
    verdicts = {"topics": echo_verdicts(user)} if "\nOffered topics" in user else {}
    return {
        **verdicts,
        "tldr": f"Summary of {key}: {title}.",
        "method": f"The method of {key}, in one sentence.",
        "technique": technique,
        "bits_or_sparsity": None,
        "speedup": speed.group(0) if (technique and speed) else None,
        "memory": None,
        "models": None,
        "hardware": None,
    }


class LLMServer:
    """Serves /v1/chat/completions; start() returns the api_base (http://127.0.0.1:PORT/v1)."""

    def __init__(self, latency: float = 0.0, slots: int | None = None) -> None:
        self.latency = latency
        self.slots = slots  # requests generated at once (the others queue, first come first
        self._free = slots or 0  # served, like llama.cpp's slots); None: unlimited
        self._queue: deque[object] = deque()
        self._slot_cond = threading.Condition()
        self.reject_formats: set[str] = set()  # response_format types answered with a 400
        self.disconnects: list[str] = []  # keys of calls whose client hung up before the reply
        self.finished: list[str] = []  # keys of calls generated to the end (answered or not)
        self.calls: list[Call] = []
        self.faults: dict[str, deque[Fault]] = {}
        self.always: dict[str, Fault] = {}  # a fault every call with this key gets
        self.usage: tuple[int, int] | None = None  # fixed (prompt, completion) tokens per call
        self.answer: Callable[[str, str, str], dict[str, Any]] = default_answer
        self.in_flight = 0
        self.max_in_flight = 0  # the most calls the server was answering at once
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.api_base = ""

    def fault(self, key: str, *faults: Fault) -> None:
        """Queue faults for key: each call takes the next one until none is left."""
        with self._lock:
            self.faults.setdefault(key, deque()).extend(faults)

    def count(self, kind: str | None = None, key: str | None = None) -> int:
        """How many calls of this kind (and key) arrived."""
        return sum(1 for c in self.calls
                   if (kind is None or c.kind == kind) and (key is None or c.key == key))

    def _take_fault(self, kind: str, key: str) -> Fault:
        with self._lock:
            for k in (f"{kind}:{key}", key, "*"):
                queue = self.faults.get(k)
                if queue:
                    return queue.popleft()
            return (self.always.get(f"{kind}:{key}") or self.always.get(key)
                    or self.always.get("*") or Fault())

    def _respond(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"{}")
        messages = body.get("messages") or []
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        user = next((m["content"] for m in messages if m.get("role") == "user"), "")
        kind = _kind(system)
        m = (_TOPIC if kind == "briefing" else _ID).search(user)
        key = m.group(1).strip() if m else "?"
        auth = handler.headers.get("Authorization", "")
        with self._lock:
            self.calls.append(Call(kind, key, str(body.get("model")), auth, body, time.monotonic()))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._answer(handler, kind, key, user, messages, body, auth)
        finally:
            with self._lock:
                self.in_flight -= 1

    @staticmethod
    def _hung_up(handler: BaseHTTPRequestHandler) -> bool:
        """True once the client has closed its end of the connection."""
        sock = handler.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _take_slot(self, handler: BaseHTTPRequestHandler) -> bool:
        """Wait in line for a free slot; False if the client hung up while waiting."""
        ticket = object()
        with self._slot_cond:
            self._queue.append(ticket)
        while True:
            with self._slot_cond:
                if self._queue[0] is ticket and self._free > 0:
                    self._queue.popleft()
                    self._free -= 1
                    self._slot_cond.notify_all()
                    return True
                self._slot_cond.wait(0.02)
            if self._hung_up(handler):
                with self._slot_cond:
                    self._queue.remove(ticket)
                    self._slot_cond.notify_all()
                return False

    def _generate(self, handler: BaseHTTPRequestHandler, delay: float,
                  until: threading.Event | None = None) -> bool:
        """Wait for a slot, then 'generate' for delay seconds (and until `until` is set, at most
        HOLD_MAX s); False if the client hung up."""
        if self.slots is not None and not self._take_slot(handler):
            return False
        try:
            end = time.monotonic() + delay
            held = time.monotonic() + HOLD_MAX
            while time.monotonic() < end or (until is not None and not until.is_set() and time.monotonic() < held):
                if self._hung_up(handler):
                    return False
                left = end - time.monotonic()
                time.sleep(min(0.02, left) if left > 0 else 0.02)
            return True
        finally:
            if self.slots is not None:
                with self._slot_cond:
                    self._free += 1
                    self._slot_cond.notify_all()

    def _answer(self, handler: BaseHTTPRequestHandler, kind: str, key: str, user: str,
                messages: list[dict[str, Any]], body: dict[str, Any], auth: str) -> None:
        rf = body.get("response_format")
        if isinstance(rf, dict) and rf.get("type") in self.reject_formats:
            payload = {"error": {"message": f"response_format type {rf.get('type')!r} is not "
                                            "supported by this server", "type": "invalid_request",
                                 "code": 400}}
            self._send(handler, 400, payload, {})
            return
        fault = self._take_fault(kind, key)
        delay = self.latency + fault.delay
        if (delay or fault.until or self.slots is not None) and not self._generate(handler, delay, fault.until):
            with self._lock:
                self.disconnects.append(key)
            return
        with self._lock:
            self.finished.append(key)
        if fault.status != 200:
            message = f"injected {fault.status}"
            if fault.echo_auth:
                message += f" for Authorization: {auth}"
            payload = {"error": {"message": message, "type": "injected", "code": fault.status}}
            self._send(handler, fault.status, payload, fault.headers)
            return
        if fault.content is not None:
            content = fault.content
        else:
            answer = self.answer(kind, key, user)
            if fault.echo_auth:
                answer["tldr"] = f"Echoing {auth}."
            content = json.dumps(answer)
        prompt_chars = sum(len(str(m.get("content", ""))) for m in messages)
        p, c = self.usage or (math.ceil(prompt_chars / 4), math.ceil(len(content) / 4))
        payload = {
            "id": f"chatcmpl-{len(self.calls)}",
            "object": "chat.completion",
            "created": 1732800000,
            "model": str(body.get("model")),
            "choices": [{"index": 0, "finish_reason": fault.finish_reason,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
        }
        self._send(handler, 200, payload, fault.headers)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any],
              headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(data)  # a client that timed out and hung up is part of the test

    def start(self) -> str:
        """Listen on 127.0.0.1 (a free port) in a daemon thread; return the api_base."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (~40 ms)

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/_stats"):  # for a server in another process
                    server._send(self, 200, {"calls": len(server.calls),
                                             "max_in_flight": server.max_in_flight}, {})
                else:
                    self.send_error(404, f"no route for {self.path}")

            def do_POST(self) -> None:
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self.send_error(404, f"no route for {self.path}")
                    return
                server._respond(self)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that timed out and hung up is part of the test

        self._httpd = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        host, port = self._httpd.server_address[:2]
        self.api_base = f"http://{host}:{port}/v1"
        return self.api_base

    def stop(self) -> None:
        """Stop serving."""
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()


if __name__ == "__main__":  # python tests/llm_server.py [latency]: prints the api_base, serves
    import sys

    srv = LLMServer(latency=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    print(srv.start(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
