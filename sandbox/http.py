"""A small HTTP/1.1 server base shared by the three sandboxes: routing, bearer auth, faults, concurrency.

Each system supplies a :class:`Vendor` that renders errors in that vendor's own envelope, and registers its
routes on an :class:`App`. :class:`SandboxServer` serves an app on 127.0.0.1 in a background thread (tests
and ``q2c sandbox serve`` alike), with keep-alive so clients reuse connections as they do with real APIs.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from sandbox.clock import SandboxClock
from sandbox.faults import FaultKind, FaultPlan

LOOPBACK = "127.0.0.1"


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Message
    body: bytes
    base_url: str
    params: dict[str, str] = field(default_factory=dict)

    def args(self, name: str) -> list[str]:
        """Every value of a query parameter, in order (repeated and comma-joined forms are left as sent)."""
        return [v for k, v in self.query if k == name]

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.args(name)
        return values[-1] if values else default

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)

    def form(self) -> list[tuple[str, str]]:
        """Form-encoded body pairs (Stripe's POST bodies)."""
        return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True)

    @property
    def correlation_id(self) -> str | None:
        return self.headers.get("X-Correlation-Id") or self.headers.get("X-Request-Id")


def nested_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe-style bracket keys to nested values: ``created[gte]=1`` → {"created": {"gte": "1"}},
    ``expand[0]=a&expand[1]=b`` and ``expand[]=a`` → {"expand": ["a", "b"]}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]  # "" marks an appended item
        if not parts:
            continue
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if part == "" or not part.isdigit():
                    if last:
                        node.append(value)
                        break
                    node.append({})
                    node = node[-1]
                    continue
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = [] if (parts[i + 1].isdigit() or parts[i + 1] == "") else {}
                    node = node[index]
                continue
            if last:
                node[part] = value
            else:
                nxt = parts[i + 1]
                if part not in node or node[part] is None:
                    node[part] = [] if (nxt.isdigit() or nxt == "") else {}
                node = node[part]
    return _lists_from_digit_dicts(root)


def _lists_from_digit_dicts(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _lists_from_digit_dicts(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_lists_from_digit_dicts(v) for v in node if v is not None]
    return node


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
        return cls(status, text.encode("utf-8"), dict(headers or {}))

    @classmethod
    def raw_json(cls, text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """A body already serialised (e.g. straight from the store)."""
        return cls(status, text.encode("utf-8"), dict(headers or {}))

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Response:
        return cls(status, b"", dict(headers or {}), content_type=None)


class Vendor(Protocol):
    """Error rendering in one vendor's own shapes."""

    def unauthorized(self, req: Request) -> Response: ...
    def rate_limited(self, req: Request, retry_after: int) -> Response: ...
    def server_error(self, req: Request) -> Response: ...
    def not_found(self, req: Request) -> Response: ...
    def bad_request(self, req: Request, message: str) -> Response: ...


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    write: bool


class App:
    """One sandbox system: its routes, token, vendor error shapes, faults and clock."""

    def __init__(
        self,
        name: str,
        *,
        token: str,
        vendor: Vendor,
        faults: FaultPlan | None = None,
        clock: SandboxClock | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        self.name = name
        self.token = token
        self.vendor = vendor
        self.faults = faults or FaultPlan("none")
        self.clock = clock or SandboxClock(int(time.time()))
        self.max_concurrency = max_concurrency
        self._routes: list[Route] = []
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self.request_count = 0

    def route(self, method: str, pattern: str, *, write: bool | None = None) -> Callable[[Handler], Handler]:
        """Register a handler. ``{name}`` matches one path segment, ``{name:path}`` the rest of the path."""
        regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", pattern)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        compiled = re.compile(f"^{regex}$")
        is_write = method.upper() != "GET" if write is None else write

        def register(handler: Handler) -> Handler:
            self._routes.append(Route(method.upper(), compiled, handler, is_write))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, whether the path exists under another method)."""
        path_known = False
        for route in self._routes:
            m = route.pattern.match(path)
            if m:
                path_known = True
                if route.method == method:
                    return route, m.groupdict(), True
        return None, {}, path_known

    def authorized(self, req: Request) -> bool:
        header = req.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and value.strip() == self.token

    def fault_key(self, req: Request) -> str:
        digest = hashlib.blake2b(req.body, digest_size=8).hexdigest() if req.body else ""
        return f"{req.method} {req.path}?{sorted(req.query)} {digest}"

    def enter(self) -> bool:
        with self._in_flight_lock:
            self.request_count += 1
            if self.max_concurrency is not None and self._in_flight >= self.max_concurrency:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        with self._in_flight_lock:
            self._in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY, delayed ACKs add ~40 ms a request
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # quiet: the sandbox is for tests and demos

    def _serve(self) -> None:
        app = self.server.app
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"{LOOPBACK}:{self.server.server_port}"
        req = Request(
            method=self.command.upper(),
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            base_url=f"http://{host}",
        )
        if req.path == "/__sandbox/health":
            self._send(Response.json({"system": app.name, "status": "ok", "now": app.clock.now()}))
            return
        if not app.authorized(req):
            self._send(app.vendor.unauthorized(req))
            return
        route, params, path_known = app.match(req.method, req.path)
        if route is None:
            self._send(
                app.vendor.not_found(req) if not path_known else app.vendor.bad_request(req, "method not allowed")
            )
            return
        req.params = params
        fault = app.faults.decide(app.fault_key(req), is_write=route.write)
        if fault is FaultKind.RATE_LIMITED:
            self._send(app.vendor.rate_limited(req, app.faults.profile.retry_after_seconds))
            return
        if fault is FaultKind.SERVER_ERROR:
            self._send(app.vendor.server_error(req))
            return
        if fault is FaultKind.DROP:
            self._drop()
            return
        if fault is FaultKind.SLOW:
            time.sleep(app.faults.profile.slow_seconds)
        if not app.enter():
            self._send(app.vendor.rate_limited(req, app.faults.profile.retry_after_seconds or 1))
            return
        try:
            try:
                response = route.handler(req)
            except Exception as exc:  # an unexpected sandbox bug still answers in the vendor's shape
                self.server.errors.append(f"{req.method} {req.path}: {exc!r}")
                response = app.vendor.server_error(req)
        finally:
            app.leave()
        if fault is FaultKind.LOST_RESPONSE:
            self._drop()  # the write committed; the client never hears of it
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type and response.body:
            self.send_header("Content-Type", response.content_type)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - stdlib naming


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self.errors: list[str] = []
        super().__init__(address, _Handler)


class SandboxServer:
    """Serve an :class:`App` on 127.0.0.1 from a background thread; ``port=0`` picks a free port."""

    def __init__(self, app: App, port: int = 0, host: str = LOOPBACK) -> None:
        if host not in (LOOPBACK, "localhost"):
            raise ValueError("sandbox servers bind 127.0.0.1 only")
        self.app = app
        self._server = _Server((host, port), app)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def errors(self) -> list[str]:
        """Unexpected exceptions raised by handlers (answered as 500s); tests assert this stays empty."""
        return self._server.errors

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.app.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
