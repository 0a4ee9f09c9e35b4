"""Zip archives of a delivery: request, follow WAITING -> PREPARING -> DONE, download.

See docs/providers.md#sentinel-hub-deliveries.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import file_response, json_response
from harvest.sandbox.sentinelhub import bundle
from harvest.sandbox.sentinelhub.deliveries import Located, locate, not_ready
from harvest.sandbox.sentinelhub.errors import boom
from harvest.sandbox.sentinelhub.ledger import ARCHIVES, ArchiveRecord
from harvest.sandbox.sentinelhub.lifecycle import archive_status
from harvest.timestamps import NS_PER_S, format_seconds

FORMAT = "zip"


def _status(sandbox: Sandbox, located: Located, archive: ArchiveRecord, now_ns: int) -> dict[str, Any]:
    stage_ns = int(sandbox.config.tpdi_archive_stage_s * NS_PER_S)
    status = archive_status(archive["requestedNs"], now_ns, stage_ns)
    size = bundle.archive_path(sandbox, located.delivery).stat().st_size if status == "DONE" else None
    return {
        "deliveryId": archive["deliveryId"],
        "format": archive["format"],
        "requested": format_seconds(archive["requestedNs"]),
        "status": status,
        "size": size,
    }


def _prepare(sandbox: Sandbox, request: Request) -> Located | Response:
    """The delivery, once the format is zip and its files are there."""
    if request.query_params.get("format", FORMAT) != FORMAT:
        return boom(400, "format: only zip is supported")
    located = locate(sandbox, request)
    if isinstance(located, Response):
        return located
    if not located.progress.files_ready:
        return not_ready(located)
    return located


def _archive(sandbox: Sandbox, located: Located) -> ArchiveRecord | None:
    return cast(ArchiveRecord | None, sandbox.state.get(ARCHIVES, located.delivery["id"]))


async def create_archive(request: Request) -> Response:
    """POST .../archive/create?format=zip: starts preparing (or reports the archive already asked for)."""
    sandbox = sandbox_of(request)
    located = _prepare(sandbox, request)
    if isinstance(located, Response):
        return located
    now = sandbox.now_ns()
    archive = _archive(sandbox, located)
    if archive is None:
        archive = ArchiveRecord(
            deliveryId=located.delivery["id"], orderId=located.order["id"], format=FORMAT, requestedNs=now
        )
        sandbox.state.put(ARCHIVES, archive["deliveryId"], cast(dict[str, Any], archive), now)
    return json_response(_status(sandbox, located, archive, now))


async def archive_status_of(request: Request) -> Response:
    """GET .../archive/status?format=zip."""
    sandbox = sandbox_of(request)
    located = _prepare(sandbox, request)
    if isinstance(located, Response):
        return located
    archive = _archive(sandbox, located)
    if archive is None:
        return boom(404, f"No archive was requested for delivery {located.delivery['id']}")
    return json_response(_status(sandbox, located, archive, sandbox.now_ns()))


async def download_archive(request: Request) -> Response:
    """GET or HEAD .../archive?format=zip: only once the archive is DONE; Range supported."""
    sandbox = sandbox_of(request)
    located = _prepare(sandbox, request)
    if isinstance(located, Response):
        return located
    archive = _archive(sandbox, located)
    if archive is None:
        return boom(404, f"No archive was requested for delivery {located.delivery['id']}")
    status = _status(sandbox, located, archive, sandbox.now_ns())["status"]
    if status != "DONE":
        return boom(409, f"The archive of delivery {located.delivery['id']} is {status}, not DONE")
    fault = None if request.method == "HEAD" else sandbox.faults.decide(("truncate", "corrupt"), "sentinelhub.tpdi")
    return file_response(
        request,
        bundle.archive_path(sandbox, located.delivery),
        media_type="application/zip",
        fault=fault.kind if fault is not None else None,
    )


def routes() -> list[BaseRoute]:
    """Archive routes, relative to /api/v1/dataimport."""
    base = "/orders/{order_id}/deliveries/{delivery_id}/archive"
    return [
        Route(base + "/create", create_archive, methods=["POST"]),
        Route(base + "/status", archive_status_of, methods=["GET"]),
        Route(base, download_archive, methods=["GET", "HEAD"]),
    ]
