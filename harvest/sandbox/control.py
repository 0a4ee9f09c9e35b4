"""The sandbox's own control API under /_sandbox: clock, faults, ground truth and webhook log."""

from __future__ import annotations

import logging

import orjson
from shapely.geometry import shape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.faults import FaultSpecError, parse_faults
from harvest.sandbox.http import json_response, read_json
from harvest.sandbox.truth import true_scenes
from harvest.timestamps import InvalidTimestamp, parse_ns

log = logging.getLogger("harvest.sandbox")


async def info(request: Request) -> Response:
    sandbox = sandbox_of(request)
    return json_response(
        {
            "seed": sandbox.config.seed,
            "density": sandbox.config.density,
            "clock": sandbox.clock.describe(),
            "faults": sandbox.faults.describe(),
            "scenes": {
                "oneatlas": len(sandbox.world.oneatlas),
                "arlula": len(sandbox.world.arlula),
                "sentinelhub_import": len(sandbox.world.tpdi),
                "sentinelhub_catalog": len(sandbox.world.stac),
            },
        }
    )


async def clock(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if request.method == "POST":
        body = await read_json(request) or {}
        try:
            if "advance_s" in body:
                sandbox.clock.advance(float(body["advance_s"]))
            elif "set" in body:
                sandbox.clock.set_ns(parse_ns(str(body["set"])))
        except (ValueError, InvalidTimestamp) as exc:
            return json_response({"error": str(exc)}, 400)
        sandbox.remember_clock()
        for hook in sandbox.background:
            try:
                await hook()
            except Exception:  # a failing hook must not undo or fail the clock change
                log.exception("sandbox background hook failed after a clock change")
    return json_response(sandbox.clock.describe())


async def faults(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if request.method == "POST":
        body = await read_json(request) or {}
        try:
            sandbox.faults.replace(parse_faults(str(body.get("spec", ""))))
        except FaultSpecError as exc:
            return json_response({"error": str(exc)}, 400)
    return json_response(sandbox.faults.describe())


async def truth(request: Request) -> Response:
    """GET /_sandbox/truth/{provider}?geometry=<GeoJSON>&start=<ISO>&end=<ISO>."""
    sandbox = sandbox_of(request)
    params = request.query_params
    try:
        geometry = shape(orjson.loads(params["geometry"]))
        start = parse_ns(params.get("start", "2018-01-01T00:00:00Z"))
        end = parse_ns(params.get("end", "2100-01-01T00:00:00Z"))
        scenes = true_scenes(sandbox, request.path_params["provider"], geometry, start, end)
    except (KeyError, ValueError, InvalidTimestamp) as exc:
        return json_response({"error": f"{exc}; give geometry (GeoJSON), start and end (ISO)"}, 400)
    return json_response(
        {
            "provider": request.path_params["provider"],
            "count": len(scenes),
            "scenes": [
                {"id": s.scene_id, "acquired_ns": s.acquired_ns, "updated_ns": s.updated_ns} for s in scenes.values()
            ],
        }
    )


def routes(sandbox: Sandbox) -> list[Route]:
    del sandbox
    return [
        Route("/", info, methods=["GET"]),
        Route("/clock", clock, methods=["GET", "POST"]),
        Route("/faults", faults, methods=["GET", "POST"]),
        Route("/truth/{provider}", truth, methods=["GET"]),
    ]
