"""Sentinel-2 L2A acquisitions as STAC 1.0 items of the Sentinel Hub catalog."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from harvest.sandbox.core import Sandbox
from harvest.sandbox.sentinelhub.s2_names import s2_names
from harvest.sandbox.sentinelhub.utm import to_utm
from harvest.sandbox.world.geometry import wrap_lon
from harvest.sandbox.world.sensors import SENSORS
from harvest.timestamps import format_millis

COLLECTION_ID = "sentinel-2-l2a"
CATALOG_PATH = "/sentinelhub/api/v1/catalog/1.0.0"
PREVIEW_PATH = "/sentinelhub/api/v1/catalog/previews"
STAC_VERSION = "1.0.0"
GEOJSON = "application/geo+json"
EXTENSIONS = (
    "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
    "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
)


def catalog_link(sandbox: Sandbox, path: str = "") -> str:
    """An absolute URL under the catalog root."""
    return sandbox.link(CATALOG_PATH + path)


def _round(values: np.ndarray, digits: int = 10) -> list[float]:
    return [round(float(v), digits) for v in values]


def _projection(epsg: int, corners: np.ndarray) -> tuple[list[float], dict[str, Any]]:
    """proj:bbox and proj:geometry of a footprint in its UTM zone."""
    x, y = to_utm(epsg, corners[:, 0], corners[:, 1])
    ring = [[round(float(a), 3), round(float(b), 3)] for a, b in zip(x, y, strict=True)]
    ring.append(ring[0])
    bbox = [float(np.floor(x.min())), float(np.floor(y.min())), float(np.ceil(x.max())), float(np.ceil(y.max()))]
    geometry = {
        "type": "MultiPolygon",
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}},
        "coordinates": [[ring]],
    }
    return bbox, geometry


def render_items(sandbox: Sandbox, rows: np.ndarray) -> list[dict[str, Any]]:
    """STAC items for world rows of the Sentinel-2 view, links and assets pointing into the sandbox."""
    world = sandbox.world
    acq = world.acq
    names = s2_names(world, rows)
    clouds = cloud_cover(sandbox, np.asarray(rows)).tolist()
    items = []
    for i, row in enumerate(np.asarray(rows).tolist()):
        item_id = names.ids[i]
        corners = acq.corners[row]
        lons, lats = corners[:, 0], corners[:, 1]
        west, east = _round(np.asarray(wrap_lon(np.array([lons.min(), lons.max()]))))
        bbox = [west, round(float(lats.min()), 10), east, round(float(lats.max()), 10)]
        proj_bbox, proj_geometry = _projection(names.epsg[i], corners)
        tile = names.tiles[i]
        acquired = format_millis(int(acq.acquired_ns[row]))
        day = acquired[:10].split("-")
        collection_url = catalog_link(sandbox, f"/collections/{COLLECTION_ID}")
        item_url = catalog_link(sandbox, f"/collections/{COLLECTION_ID}/items/{item_id}")
        items.append(
            {
                "stac_version": STAC_VERSION,
                "stac_extensions": list(EXTENSIONS),
                "type": "Feature",
                "id": item_id,
                "collection": COLLECTION_ID,
                "bbox": bbox,
                "geometry": shapely.geometry.mapping(world.shapes[row]),
                "properties": {
                    "datetime": acquired,
                    "platform": SENSORS[int(acq.sensor[row])].platform,
                    "instruments": ["msi"],
                    "constellation": "sentinel-2",
                    "gsd": 10,
                    "eo:cloud_cover": clouds[i],
                    "proj:epsg": names.epsg[i],
                    "proj:bbox": proj_bbox,
                    "proj:geometry": proj_geometry,
                    "sat:relative_orbit": names.relative_orbits[i],
                },
                "links": [
                    {"href": item_url, "rel": "self", "type": GEOJSON},
                    {"href": catalog_link(sandbox), "rel": "root", "type": "application/json"},
                    {"href": collection_url, "rel": "parent", "type": "application/json"},
                    {"href": collection_url, "rel": "collection", "type": "application/json"},
                ],
                "assets": {
                    "data": {
                        "href": f"s3://sentinel-s2-l2a/tiles/{int(tile[:2])}/{tile[2]}/{tile[3:]}/"
                        f"{int(day[0])}/{int(day[1])}/{int(day[2])}/0",
                        "title": "s3",
                        "type": "inode/directory",
                    },
                    "thumbnail": {
                        "href": sandbox.link(f"{PREVIEW_PATH}/{item_id}.jpg"),
                        "title": "thumbnail",
                        "type": "image/jpeg",
                        "roles": ["thumbnail"],
                    },
                },
            }
        )
    return items


def cloud_cover(sandbox: Sandbox, rows: np.ndarray) -> np.ndarray:
    """eo:cloud_cover exactly as the items show it (so filters and items agree)."""
    cloud: np.ndarray = np.round(sandbox.world.acq.cloud[rows].astype(np.float64), 2)
    return cloud
