"""Pages linked from search results that need no credentials: thumbnails and license texts."""

from __future__ import annotations

import numpy as np
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from harvest.sandbox.arlula.catalog import thumbnail_codec
from harvest.sandbox.arlula.errors import error
from harvest.sandbox.arlula.suppliers import SUPPLIERS
from harvest.sandbox.core import sandbox_of
from harvest.sandbox.images import preview_jpeg

THUMBNAIL_WIDTH = 256


async def thumbnail(request: Request) -> Response:
    """`GET /api/archive/thumbnail?id=`: a small JPEG of the scene."""
    sandbox = sandbox_of(request)
    key = thumbnail_codec(sandbox).decode(request.query_params.get("id", ""))
    world = sandbox.world
    row = None if key is None else world.row_of_key(key)
    if row is None or not bool(world.arlula.contains(np.array([row]))[0]):
        return error(404, "thumbnail not found")
    jpeg = preview_jpeg(int(world.acq.key[row]), float(world.acq.cloud[row]), THUMBNAIL_WIDTH)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400"})


async def eula(request: Request) -> Response:
    """`GET /eula/{supplier}[/{license}]`: the license text whose URL is the order's `eula`."""
    supplier = SUPPLIERS.get(request.path_params["supplier"])
    slug = request.path_params.get("license", "")
    license_ = None if supplier is None else next((lic for lic in supplier.licenses if lic.slug == slug), None)
    if supplier is None or license_ is None:
        return error(404, "no such license")
    return PlainTextResponse(
        f"{license_.name} end-user license agreement for imagery from supplier '{supplier.key}'.\n"
        "Harvest sandbox: a stand-in text, not a real license.\n"
    )


def routes() -> list[Route]:
    """The public routes, relative to the API mount."""
    return [
        Route("/api/archive/thumbnail", thumbnail, methods=["GET"]),
        Route("/eula/{supplier}", eula, methods=["GET"]),
        Route("/eula/{supplier}/{license}", eula, methods=["GET"]),
    ]
