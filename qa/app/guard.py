"""What the chat's web server lets through, in front of Gradio's own routes (an ASGI middleware).

- **Same origin only.** A request that carries an ``Origin`` other than the server's own (a page
  from another site, another port, a sandboxed frame's ``null``) is refused, whatever its method:
  a page elsewhere can neither change the index nor read from it, logged in or not. Gradio
  itself echoes any origin back with credentials allowed when the host is not ``localhost``.
  ``QA_ORIGINS`` (comma-separated) adds origins that may, e.g. a reverse proxy's public one.
- **Known hosts on loopback.** Bound to a loopback address, only ``localhost``/loopback names are
  answered in ``Host``: a DNS-rebinding page cannot pass for the server's own origin.
- **Logins.** With logins set, someone not logged in gets only the login page and what it is
  built from (scripts, styles, fonts) - no API, no files, no API description in the page.
  Gradio's ``auth`` leaves several of its routes open (``/openapi.json``, ``/gradio_api/runs``,
  ``/gradio_api/heartbeat/*``, ``/gradio_api/app_id``...); this closes every route not listed.
- **Read-only.** Uploads to Gradio's file cache are refused (no component takes a file).
- **Failed logins slow a guesser down.** After ``FAILED_LOGINS`` failed logins (the login form or
  HTTP Basic) from one address within ``FAILED_WINDOW`` seconds, that address's further login
  attempts are refused (429) until ``FAILED_WINDOW`` seconds pass without another; each failure is
  logged with the address. Behind a reverse proxy every client has the proxy's address: the
  lockout then holds for all, which is the safe way to be wrong.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from .. import config

log = logging.getLogger("qa.app")
FAILED_LOGINS = 10  # failed logins from one address, within FAILED_WINDOW seconds, before a pause
FAILED_WINDOW = 60.0

# Not logged in: the login page and the framework files it is built from, nothing else.
_ANONYMOUS_GET = re.compile(r"/(?:|favicon\.ico|theme\.css|robots\.txt|manifest\.json|logout"
                            r"|gradio_api/theme\.css|gradio_api/startup-events"
                            r"|(?:assets|static|svelte)/[^?]*)")
_ANONYMOUS_POST = re.compile(r"/login/?")
_CALL = re.compile(r"/gradio_api/(?:call(?:/v2)?|run)/(?P<name>[^/]+)(?:/.*)?")  # an event by name
_API_INFO = re.compile(rb"window\.gradio_api_info\s*=\s*\{.*?\};\s*</script>", re.S)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def extra_origins() -> frozenset[str]:
    return frozenset(o.strip().rstrip("/").lower()
                     for o in config.origins())


class Guard:
    """``Guard(app, logins=..., read_only=..., hosts=...)`` in front of the Gradio app."""

    def __init__(self, app, *, logins: bool = False, read_only: bool = False,
                 hosts: frozenset[str] | None = None, origins: frozenset[str] = frozenset(),
                 check=None, endpoints: frozenset[str] | None = None):
        self.app = app
        self.endpoints = endpoints  # the app's event names; None: not checked
        self.logins = logins
        self.check = check  # (user, password) -> bool: HTTP Basic for the JSON API (qa/app/api.py)
        self.read_only = read_only
        self.hosts = hosts  # None: any Host (a non-loopback bind)
        self.origins = origins
        self.failures = Failures()

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        origin = headers.get("origin")
        method = scope.get("method", "GET")
        path = scope["path"]
        if self.hosts is not None and _hostname(host) not in self.hosts:
            return await _refuse(scope, send, 403, f"unknown host {host[:80]!r}")
        if origin is not None and not self._same_origin(origin, host):
            return await _refuse(scope, send, 403, "requests from another origin are refused")
        if headers.get("sec-fetch-site") == "cross-site":
            return await _refuse(scope, send, 403, "requests from another site are refused")
        if self.read_only and path.rstrip("/").endswith("/gradio_api/upload"):
            return await _refuse(scope, send, 403, "read-only: nothing can be uploaded")
        if self.logins and not _logged_in(scope, headers):
            client = (scope.get("client") or ("?", 0))[0]
            basic = path.startswith("/api/") and "authorization" in headers
            logging_in = basic or method == "POST" and _ANONYMOUS_POST.fullmatch(path)
            if logging_in and self.failures.paused(client):
                return await _refuse(scope, send, 429, "too many failed logins from this address; "
                                     f"try again in {FAILED_WINDOW:.0f} seconds")
            if basic:
                if await self._basic(headers):
                    return await self.app(scope, receive, send)
                self.failures.failed(client)
            anonymous = (_ANONYMOUS_GET if method in ("GET", "HEAD") else _ANONYMOUS_POST)
            if scope["type"] != "http" or not anonymous.fullmatch(path):
                return await _refuse(scope, send, 401, "log in first")
            if path == "/":  # the login page, without the API description Gradio puts in it
                return await self.app(scope, receive, _without_api_info(send))
            if logging_in:  # the form: Gradio answers 200 to a login, 400 to a wrong one
                return await self.app(scope, receive, self.failures.watching(client, send))
        named = _CALL.fullmatch(path)
        if named and self.endpoints is not None and named.group("name") not in self.endpoints:
            # Gradio answers a name it does not know with a 500 and a traceback in the log
            return await _refuse(scope, send, 404, "no such endpoint")
        return await self.app(scope, receive, send)

    async def _basic(self, headers: dict[str, str]) -> bool:
        """HTTP Basic credentials of a login (checked off the event loop: scrypt is slow)."""
        import base64
        import binascii

        from anyio import to_thread

        kind, _, value = headers.get("authorization", "").partition(" ")
        if self.check is None or kind.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return bool(sep) and await to_thread.run_sync(self.check, user, password)

    def _same_origin(self, origin: str, host: str) -> bool:
        origin = origin.strip().rstrip("/").lower()
        if origin in self.origins:
            return True
        try:
            parts = urlsplit(origin)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (sandboxed frames, files), other schemes
        default = {"http": 80, "https": 443}[parts.scheme]
        want = _host_port(host)
        got = (parts.hostname, port or default)
        return want == got or (want[1] is None and want[0] == got[0] and got[1] == default)


def _hostname(host: str) -> str:
    return _host_port(host)[0]


def _host_port(host: str) -> tuple[str, int | None]:
    try:
        parts = urlsplit("//" + host.strip().lower())
        return (parts.hostname or "", parts.port)
    except ValueError:
        return ("", None)


class Failures:
    """Failed logins by client address, the last FAILED_WINDOW seconds of them."""

    def __init__(self):
        self.limit, self.window = FAILED_LOGINS, FAILED_WINDOW  # as set when the server starts
        self._times: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> list[float]:
        times = [t for t in self._times.get(client, []) if now - t < self.window]
        if times:
            self._times[client] = times
        else:
            self._times.pop(client, None)
        return times

    def paused(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) >= self.limit

    def failed(self, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            times = self._recent(client, now) + [now]
            self._times[client] = times[-self.limit:]
            if len(self._times) > 10_000:  # many addresses: forget the oldest
                oldest = min(self._times, key=lambda c: self._times[c][-1])
                self._times.pop(oldest)
        log.warning("failed login from %s (%d in the last %.0f s)", client[:60], len(times),
                    self.window)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._times.pop(client, None)

    def watching(self, client: str, send):
        """``send``, noting whether the login form's answer was a login or a failure."""
        async def wrapped(message):
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    self.succeeded(client)
                elif 400 <= message["status"] < 500:
                    self.failed(client)
            return await send(message)

        return wrapped


def _logged_in(scope, headers: dict[str, str]) -> bool:
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if tokens is None or cookie_id is None:
        return False
    cookies = SimpleCookie()
    try:
        cookies.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header: not logged in  # noqa: BLE001
        return False
    for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
        morsel = cookies.get(name)
        if morsel is not None and morsel.value in tokens:
            return True
    return False


async def _refuse(scope, send, status: int, why: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": why})
        return
    body = json.dumps({"detail": why}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _without_api_info(send):
    start: dict = {}
    chunks: list[bytes] = []

    async def wrapped(message):
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            return await send(message)
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = _API_INFO.sub(b"window.gradio_api_info = {};</script>", b"".join(chunks))
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped
