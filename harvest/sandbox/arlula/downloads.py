"""Downloads: the API's 302 to a presigned storage URL, and the storage host that serves the bytes.

`/api/resource/{id}/data` (and the seed's `/api/order/resource/get`) answer 302 with
`Content-Disposition: attachment; filename="NAME"` on the redirect itself (the Python SDK reads it
from `response.history[0]`), or 410 Gone once the data has expired. The storage URL carries its
own signed, time-limited token, like an S3 presigned URL: it needs no credentials, and by default
ignores an `Authorization` header (browsers and same-host redirects send one; see the
`arlula_storage_refuses_auth` knob).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from typing import Any
from xml.sax.saxutils import escape

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.sandbox.arlula.auth import authenticated
from harvest.sandbox.arlula.errors import error
from harvest.sandbox.arlula.files import resource_md5, resource_path
from harvest.sandbox.arlula.orders import Progress, dataset_progress, find_resource
from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import file_response
from harvest.timestamps import NS_PER_S

STORAGE_PREFIX = "/arlula/storage"
_S3_CODES = {
    400: "InvalidArgument",
    403: "AccessDenied",
    404: "NoSuchKey",
    410: "NoSuchKey",
    429: "SlowDown",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
}


def storage_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An S3-style XML error, as object stores answer."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{_S3_CODES.get(status, 'InternalError')}</Code>"
        f"<Message>{escape(message)}</Message><RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


def fault_storage_error(status: int, message: str, headers: dict[str, str]) -> Response:
    """The storage host's body for injected 429/5xx faults."""
    return storage_error(status, message, headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class StorageSigner:
    """Signs storage URLs for one sandbox seed: resource id and expiry, HMAC-protected."""

    def __init__(self, seed: int) -> None:
        self._key = hashlib.sha256(f"harvest-sandbox-arlula-storage:{seed}".encode()).digest()

    def _signature(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:18])

    def sign(self, resource_id: str, expires_ns: int) -> str:
        """A token granting access to one resource until `expires_ns`."""
        payload = _b64(orjson.dumps({"r": resource_id, "x": expires_ns}))
        return f"{payload}.{self._signature(payload)}"

    def verify(self, token: str) -> tuple[str, int] | None:
        """(resource id, expiry) of a token this sandbox signed, else None."""
        payload, _, signature = token.partition(".")
        if not hmac.compare_digest(self._signature(payload), signature):
            return None
        try:
            claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return str(claims["r"]), int(claims["x"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            return None


def _signer(sandbox: Sandbox) -> StorageSigner:
    return sandbox.cache("arlula.storage", lambda: StorageSigner(sandbox.config.seed))


def _disposition(name: str) -> str:
    return f'attachment; filename="{name}"'


def _expired(progress: Progress, now_ns: int) -> bool:
    return progress.expiration_ns is not None and now_ns >= progress.expiration_ns


def _redirect(sandbox: Sandbox, text: str) -> Response:
    try:
        resource_id = str(uuid.UUID(text))
    except ValueError:
        return error(400, f"malformed resource id {text!r}")
    now = sandbox.now_ns()
    found = find_resource(sandbox, resource_id)
    progress = None if found is None else dataset_progress(found[0], now)
    if found is None or progress is None or not progress.complete:
        return error(404, f"resource {resource_id} not found")
    if _expired(progress, now):
        return error(410, "the storage for this order has expired; its resources are no longer available")
    resource: dict[str, Any] = found[1]
    expires = now + int(sandbox.config.arlula_link_lifetime_s * NS_PER_S)
    token = _signer(sandbox).sign(resource_id, expires)
    location = sandbox.link(f"{STORAGE_PREFIX}/{token}/{resource['name']}")
    return Response(
        status_code=302, headers={"Location": location, "Content-Disposition": _disposition(resource["name"])}
    )


@authenticated
async def resource_data(request: Request) -> Response:
    """`GET /api/resource/{id}/data`: 302 to the file, 410 after expiration."""
    return _redirect(sandbox_of(request), request.path_params["resource_id"])


@authenticated
async def legacy_resource_get(request: Request) -> Response:
    """`GET /api/order/resource/get?id=` (2020-12): the same redirect, 410 after expiration."""
    return _redirect(sandbox_of(request), request.query_params.get("id", ""))


async def storage_object(request: Request) -> Response:
    """`GET|HEAD /arlula/storage/{token}/{name}`: the bytes, with Content-Length and Range support."""
    sandbox = sandbox_of(request)
    if sandbox.config.arlula_storage_refuses_auth and "authorization" in request.headers:
        return storage_error(
            400,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
            "parameter or the Authorization header should be specified",
        )
    verified = _signer(sandbox).verify(request.path_params["token"])
    if verified is None:
        return storage_error(403, "The request signature we calculated does not match the signature you provided")
    resource_id, expires_ns = verified
    now = sandbox.now_ns()
    if now >= expires_ns:
        return storage_error(403, "Request has expired")
    found = find_resource(sandbox, resource_id)
    if found is None or found[1]["name"] != request.path_params["name"]:
        return storage_error(404, "The specified key does not exist.")
    dataset, resource = found
    progress = dataset_progress(dataset, now)
    if _expired(progress, now):
        return storage_error(410, "The storage for this order has expired")
    fault = sandbox.faults.decide(("truncate", "corrupt"), "arlula.storage") if request.method == "GET" else None
    return file_response(
        request,
        resource_path(sandbox, resource),
        media_type=resource["format"],
        headers={"ETag": f'"{resource_md5(sandbox, resource)}"', "Content-Disposition": _disposition(resource["name"])},
        fault=None if fault is None else fault.kind,
    )


def routes() -> list[Route]:
    """The download routes of the API mount."""
    return [
        Route("/api/resource/{resource_id}/data", resource_data, methods=["GET"]),
        Route("/api/order/resource/get", legacy_resource_get, methods=["GET"]),
    ]


def storage_routes() -> list[Route]:
    """The routes of the storage mount (GET also answers HEAD)."""
    return [Route("/{token}/{name}", storage_object, methods=["GET"])]
