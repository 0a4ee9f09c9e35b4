"""OneAtlas image access host: quicklooks, thumbnails, WMTS capabilities and activity monitor."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.sandbox.core import sandbox_of
from harvest.sandbox.http import json_response
from harvest.sandbox.images import preview_jpeg
from harvest.sandbox.oneatlas.auth import refuse_unauthenticated
from harvest.sandbox.oneatlas.errors import api_error
from harvest.sandbox.oneatlas.lookup import public_item
from harvest.sandbox.oneatlas.search import renderer


async def _preview(request: Request, default_width: int) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    item = public_item(sandbox, request.path_params["item_id"], sandbox.now_ns())
    if item is None:
        return api_error(404, "Item not found in catalog", request=request)
    try:
        width = int(request.query_params.get("width", default_width))
    except ValueError:
        return api_error(400, "width must be an integer", request=request)
    return Response(preview_jpeg(item.key, item.cloud, width), media_type="image/jpeg")


async def quicklook(request: Request) -> Response:
    return await _preview(request, 512)


async def thumbnail(request: Request) -> Response:
    return await _preview(request, 128)


async def wmts(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    item = public_item(sandbox, request.path_params["item_id"], sandbox.now_ns())
    if item is None:
        return api_error(404, "Item not found in catalog", request=request)
    if item.is_album:
        return api_error(404, "No WMTS for ALBUM items", request=request)
    minx, miny, maxx, maxy = item.footprint(sandbox).bounds
    template = sandbox.link(
        f"/oneatlas/access/api/v1/items/{item.item_id}/wmts/tiles/1.0.0/default/{{Style}}/{{TileMatrixSet}}/"
        "{TileMatrix}/{TileCol}/{TileRow}.png"
    )
    xml = (
        '<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" '
        'version="1.0.0"><Contents><Layer><ows:Title>IDP On The Fly Ortho Imagery (Geographic)</ows:Title>'
        "<ows:Identifier>default</ows:Identifier>"
        f'<ows:WGS84BoundingBox crs="urn:ogc:def:crs:OGC:2:84"><ows:LowerCorner>{minx} {miny}</ows:LowerCorner>'
        f"<ows:UpperCorner>{maxx} {maxy}</ows:UpperCorner></ows:WGS84BoundingBox>"
        '<Style isDefault="true"><ows:Identifier>rgb</ows:Identifier></Style><Format>image/png</Format>'
        "<TileMatrixSetLink><TileMatrixSet>4326</TileMatrixSet></TileMatrixSetLink>"
        f'<ResourceURL format="image/png" resourceType="tile" template="{template}"/></Layer></Contents></Capabilities>'
    )
    return Response(xml, media_type="application/xml")


async def metadata(request: Request) -> Response:
    """The item's metadata document: its geometry and properties, as search shows them."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    item = public_item(sandbox, request.path_params["item_id"], sandbox.now_ns())
    if item is None:
        return api_error(404, "Item not found in catalog", request=request)
    feature = orjson.loads(renderer(sandbox).render(item.facts, [item.item_id])[0])
    return json_response({"id": item.item_id, "geometry": feature["geometry"], "properties": feature["properties"]})


async def activity(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    activity_id = request.path_params["activity_id"]
    return json_response(
        {
            "id": activity_id,
            "type": "ingestion",
            "status": "SUCCEEDED",
            "progress": 100,
            "priority": 5,
            "lastStageName": "ALL_ITEMS_DELIVERED_TO_WORKSPACE",
            "message": "",
        }
    )


def routes() -> list[Route]:
    return [
        Route("/api/v1/items/{item_id}/quicklook", quicklook, methods=["GET"]),
        Route("/api/v1/items/{item_id}/thumbnail", thumbnail, methods=["GET"]),
        Route("/api/v1/items/{item_id}/wmts", wmts, methods=["GET"]),
        Route("/api/v1/items/{item_id}/metadata", metadata, methods=["GET"]),
        Route("/api/v1/activities/{activity_id}", activity, methods=["GET"]),
    ]
