"""Running the sandbox: in the foreground for `harvest sandbox serve`, or in a thread for tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn
import uvloop

from harvest.providers.sandbox_endpoints import client_environment
from harvest.sandbox.app import build_app
from harvest.sandbox.config import SandboxConfig
from harvest.sandbox.core import Sandbox

log = logging.getLogger("harvest.sandbox")


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn(sandbox: Sandbox, *, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(
        build_app(sandbox),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        loop="uvloop",
        http="httptools",
    )
    return uvicorn.Server(config)


def prepare(config: SandboxConfig, host: str, port: int) -> tuple[Sandbox, socket.socket]:
    """Create the sandbox and bind its socket (port 0 picks a free one)."""
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    sandbox = Sandbox.create(config)
    shown_host = f"[{host}]" if ":" in host else host
    sandbox.base_url = (config.public_url or f"http://{shown_host}:{bound_port}").rstrip("/")
    return sandbox, sock


async def _serve(server: uvicorn.Server, sandbox: Sandbox, sock: socket.socket) -> None:
    tasks = [asyncio.create_task(_tick(sandbox))]
    try:
        await server.serve(sockets=[sock])
    finally:
        for task in tasks:
            task.cancel()


async def _tick(sandbox: Sandbox) -> None:
    """Background duties (webhooks on completed orders) every half second of wall time."""
    while True:
        await asyncio.sleep(0.5)
        for hook in sandbox.background:
            try:
                await hook()
            except Exception:  # keep ticking: one failed webhook must not stop the others
                log.exception("sandbox background hook failed")


def serve_forever(
    config: SandboxConfig,
    host: str,
    port: int,
    *,
    on_ready: Callable[[Sandbox], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Run in the foreground until interrupted."""
    sandbox, sock = prepare(config, host, port)
    if on_ready is not None:
        on_ready(sandbox)
    server = _uvicorn(sandbox, log_level=log_level)
    try:
        uvloop.run(_serve(server, sandbox, sock))
    finally:
        sandbox.remember_clock()
        sandbox.state.close()


@dataclass
class RunningSandbox:
    """A sandbox serving from a background thread."""

    sandbox: Sandbox
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.sandbox.base_url

    def env(self) -> dict[str, str]:
        return client_environment(self.url)


@contextlib.contextmanager
def running(config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningSandbox]:
    """Serve a sandbox in a thread for the duration of a `with` block."""
    sandbox, sock = prepare(config, host, port)
    server = _uvicorn(sandbox, log_level="error")

    def run() -> None:
        uvloop.run(_serve(server, sandbox, sock))

    thread = threading.Thread(target=run, name="harvest-sandbox", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the sandbox server failed to start")
        threading.Event().wait(0.01)
    try:
        yield RunningSandbox(sandbox, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sandbox.remember_clock()
        sandbox.state.close()
