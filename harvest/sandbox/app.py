"""The sandbox as one ASGI application: every provider under its path prefix, plus a control API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harvest.aois import load_aois
from harvest.sandbox.clock import ClockSpec, SandboxClock
from harvest.sandbox.config import SandboxConfig
from harvest.sandbox.faults import FaultPlan, parse_faults
from harvest.sandbox.http import InjectedDisconnect
from harvest.sandbox.state import SandboxState
from harvest.sandbox.tokens import TokenAuthority
from harvest.sandbox.world.world import World, WorldConfig

log = logging.getLogger("harvest.sandbox")

ErrorResponder = Callable[[int, str, dict[str, str]], Response]


@dataclass
class ProviderMount:
    """One provider host played under a path prefix."""

    prefix: str  # e.g. "/oneatlas/search"
    group: str  # fault scope, e.g. "oneatlas.search"
    routes: Sequence[BaseRoute]
    error: ErrorResponder  # the provider's own error body, for injected 429/5xx
    retry_after_ms: bool = False  # Sentinel Hub documents Retry-After in milliseconds


@dataclass
class Sandbox:
    """The running simulation: clock, world, persistent state, faults and tokens."""

    config: SandboxConfig
    clock: SandboxClock
    world: World
    state: SandboxState
    faults: FaultPlan
    tokens: TokenAuthority
    base_url: str = ""
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _caches: dict[str, object] = field(default_factory=dict)

    @classmethod
    def create(cls, config: SandboxConfig) -> Sandbox:
        spec = ClockSpec.parse(config.clock)
        state = SandboxState(Path(config.state_dir) / "sandbox.sqlite3")
        clock = SandboxClock(spec)
        resumed = state.get_meta("frozen_clock")
        if spec.frozen and isinstance(resumed, dict) and resumed.get("spec") == config.clock:
            clock.set_ns(max(clock.now_ns(), int(resumed["now_ns"])))
        aois = load_aois(config.aois_path)
        world = World(
            WorldConfig(
                seed=config.seed,
                density=config.density,
                aois=aois.aois,
                visibility_delay_s=config.visibility_delay_s,
            ),
            clock.now_ns(),
        )
        return cls(
            config=config,
            clock=clock,
            world=world,
            state=state,
            faults=FaultPlan(config.seed, parse_faults(config.faults)),
            tokens=TokenAuthority(config.seed),
        )

    def now_ns(self) -> int:
        now = self.clock.now_ns()
        if self.world.ensure_covers(now):
            self._caches.clear()  # engines and views built on the old world are stale
        return now

    def link(self, path: str) -> str:
        """An absolute URL back into this sandbox."""
        return f"{self.base_url}{path}"

    def remember_clock(self) -> None:
        if self.clock.frozen:
            self.state.set_meta("frozen_clock", {"spec": self.config.clock, "now_ns": self.clock.now_ns()})

    def cache(self, name: str, factory: Callable[[], object]) -> object:
        if name not in self._caches:
            self._caches[name] = factory()
        return self._caches[name]


class FaultMiddleware:
    """Applies the injected faults of the provider a request is addressed to."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox, mounts: list[ProviderMount]) -> None:
        self.app = app
        self.sandbox = sandbox
        self.mounts = sorted(mounts, key=lambda m: len(m.prefix), reverse=True)

    def _mount_for(self, path: str) -> ProviderMount | None:
        for mount in self.mounts:
            if path == mount.prefix or path.startswith(mount.prefix + "/"):
                return mount
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mount = self._mount_for(scope["path"])
        if mount is None:
            await self.app(scope, receive, send)
            return
        plan = self.sandbox.faults
        slow = plan.decide(("slow",), mount.group)
        if slow is not None:
            await asyncio.sleep(slow.param or 0.0)
        fault = plan.decide(("429", "500", "502", "503", "5xx"), mount.group)
        if fault is not None:
            await self._reply_fault(mount, fault.kind, fault.param, scope, receive, send)
            return
        reset = plan.decide(("reset",), mount.group)
        if reset is None:
            await self.app(scope, receive, send)
            return

        async def cut_send(message: Message) -> None:
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
                raise InjectedDisconnect
            await send(message)

        await self.app(scope, receive, cut_send)

    async def _reply_fault(
        self, mount: ProviderMount, kind: str, param: float | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        status = int(kind)
        headers: dict[str, str] = {}
        if status == 429:
            seconds = param if param is not None else 1.0
            headers["Retry-After"] = str(int(seconds * 1000)) if mount.retry_after_ms else str(max(1, round(seconds)))
            message = "Too many requests"
        else:
            message = {500: "Internal server error", 502: "Bad gateway", 503: "Service temporarily unavailable"}[status]
        response = mount.error(status, message, headers)
        await response(scope, receive, send)


class _QuietInjectedDisconnects(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, InjectedDisconnect):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


def build_app(sandbox: Sandbox) -> Starlette:
    """The ASGI app serving every provider of `sandbox`."""
    # imported here: the provider packages import this module for Sandbox and ProviderMount
    from harvest.sandbox import control
    from harvest.sandbox.arlula import mounts as arlula_mounts
    from harvest.sandbox.oneatlas import mounts as oneatlas_mounts
    from harvest.sandbox.sentinelhub import mounts as sentinelhub_mounts

    mounts = [*oneatlas_mounts(sandbox), *arlula_mounts(sandbox), *sentinelhub_mounts(sandbox)]
    # longest prefix first, so a nested host (e.g. /arlula/storage) is not swallowed by its parent
    mounts.sort(key=lambda m: len(m.prefix), reverse=True)
    routes: list[BaseRoute] = [Mount(m.prefix, routes=list(m.routes)) for m in mounts]
    routes.append(Mount("/_sandbox", routes=control.routes(sandbox)))
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    logging.getLogger("uvicorn.error").addFilter(_QuietInjectedDisconnects())
    app.add_middleware(FaultMiddleware, sandbox=sandbox, mounts=mounts)
    return app


def sandbox_of(request: Request) -> Sandbox:
    return request.app.state.sandbox
