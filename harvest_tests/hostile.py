"""A hostile HTTP server on loopback: each test says, byte by byte, how the server misbehaves.

    def endless(request: Request, reply: Reply) -> None:
        reply.start(200, {"content-type": "application/json"})   # no Content-Length: ends when closed
        while reply.write(b"x" * 65_536):                         # False once the client hung up
            pass

    with hostile_server(endless) as server:
        ...  # point a client at server.url; server.requests lists what it was sent (headers included)

Every connection gets its own thread and one request (`Connection: close`), so a handler may block,
trickle or never end without holding up the others; the server stops when the `with` ends.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Request:
    """What the client sent: method, path, query, headers (lower-case names) and body."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    host: str = ""  # the Host header, as sent

    def json(self) -> object:
        import json

        return json.loads(self.body or b"null")


@dataclass
class Reply:
    """The raw connection to the client, with helpers for a status line and headers."""

    connection: socket.socket
    started: bool = False
    closed: bool = False
    sent: int = 0  # body bytes written

    def start(self, status: int, headers: Mapping[str, str] | None = None, *, reason: str = "X") -> None:
        """Send the status line and headers (with `Connection: close`); the body follows with `write`."""
        lines = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self._send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.started = True

    def write(self, data: bytes) -> bool:
        """Send body bytes; False (and nothing sent) once the client has gone."""
        if self.closed:
            return False
        if not self._send(data):
            return False
        self.sent += len(data)
        return True

    def send(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        """A whole, well-formed response."""
        self.start(status, {"Content-Length": str(len(body)), **(headers or {})})
        self.write(body)

    def json(self, status: int, document: object, headers: Mapping[str, str] | None = None) -> None:
        import json

        self.send(status, json.dumps(document).encode(), {"Content-Type": "application/json", **(headers or {})})

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.connection.close()

    def _send(self, data: bytes) -> bool:
        try:
            self.connection.sendall(data)
        except OSError:
            self.closed = True
            return False
        return True


Handler = Callable[[Request, Reply], None]


@dataclass
class HostileServer:
    """A running server: its base URL, the requests it received, and the handler it answers with."""

    url: str
    handler: Handler
    requests: list[Request] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def _read_request(connection: socket.socket) -> Request | None:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = connection.recv(65_536)
        if not chunk:
            return None
        buffer += chunk
        if len(buffer) > MAX_HEAD:
            return None
    head, _, body = buffer.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = connection.recv(65_536)
        if not chunk:
            break
        body += chunk
    parts = urlsplit(target)
    return Request(method, parts.path, parse_qs(parts.query), headers, body[:length], headers.get("host", ""))


@contextlib.contextmanager
def hostile_server(handler: Handler) -> Iterator[HostileServer]:
    """Serve `handler` on 127.0.0.1 (a free port) until the block ends."""
    state: dict[str, HostileServer] = {}

    class _Connection(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            server = state["server"]
            connection: socket.socket = self.request
            reply = Reply(connection)
            try:
                request = _read_request(connection)
                if request is None:
                    return
                server.requests.append(request)
                server.handler(request, reply)
            except Exception as exc:  # recorded for the test; the client sees a dropped connection
                server.errors.append(exc)
            finally:
                reply.close()

    class _Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with _Server(("127.0.0.1", 0), _Connection) as tcp:
        host, port = tcp.server_address[:2]
        state["server"] = HostileServer(f"http://{host!s}:{port}", handler)
        thread = threading.Thread(target=tcp.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield state["server"]
        finally:
            tcp.shutdown()
            thread.join(timeout=10)
