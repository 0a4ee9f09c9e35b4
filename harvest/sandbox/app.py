"""The sandbox as one ASGI application: every provider under its path prefix, plus a control API.

This is the composition root: it imports the provider packages, which import only the core
(`harvest.sandbox.core`), never this module.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harvest.sandbox import control
from harvest.sandbox.arlula import mounts as arlula_mounts
from harvest.sandbox.core import ProviderMount, Sandbox
from harvest.sandbox.http import InjectedDisconnect
from harvest.sandbox.oneatlas import mounts as oneatlas_mounts
from harvest.sandbox.sentinelhub import mounts as sentinelhub_mounts


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
