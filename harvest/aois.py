"""Areas of interest: a GeoJSON FeatureCollection of polygons with `id`, `name` and settings.

Loading validates every AOI and reports each bad one by id with the fix, so one broken AOI never
takes the others down with it.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

DEFAULT_AOIS_PATH = Path(__file__).resolve().parent.parent / "data" / "aois.geojson"


@dataclass(frozen=True)
class Aoi:
    """One area of interest."""

    id: str
    name: str
    geometry: BaseGeometry
    settings: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.geometry.bounds

    @property
    def centroid(self) -> tuple[float, float]:
        point = self.geometry.centroid
        return point.x, point.y

    def geojson(self) -> dict[str, Any]:
        return shapely.geometry.mapping(self.geometry)


@dataclass(frozen=True)
class AoiProblem:
    """Why one AOI was refused."""

    aoi_id: str
    message: str

    def __str__(self) -> str:
        return f"AOI {self.aoi_id}: {self.message}"


class AoiFileError(ValueError):
    """The AOI file as a whole cannot be used."""


@dataclass(frozen=True)
class AoiSet:
    """The AOIs that loaded, and the problems of those that did not."""

    source: Path
    aois: tuple[Aoi, ...]
    problems: tuple[AoiProblem, ...]

    def by_id(self) -> dict[str, Aoi]:
        return {aoi.id: aoi for aoi in self.aois}


def aois_path() -> Path:
    """HARVEST_AOIS, or the bundled data/aois.geojson."""
    configured = os.environ.get("HARVEST_AOIS")
    return Path(configured) if configured else DEFAULT_AOIS_PATH


def _crosses_antimeridian(geometry: BaseGeometry) -> bool:
    minx, _, maxx, _ = geometry.bounds
    if minx < -180 or maxx > 180:
        return True
    # a ring drawn across ±180 with folded longitudes jumps by more than 180 degrees
    for polygon in getattr(geometry, "geoms", [geometry]):
        xs = [x for x, _ in polygon.exterior.coords]
        if any(abs(b - a) > 180 for a, b in itertools.pairwise(xs)):
            return True
    return False


def _check_feature(index: int, feature: Any, seen: set[str]) -> Aoi | AoiProblem:
    label = f"#{index + 1}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return AoiProblem(label, "is not a GeoJSON Feature; each entry of `features` needs type Feature")
    props = feature.get("properties") or {}
    aoi_id = props.get("id")
    if not isinstance(aoi_id, str) or not aoi_id.strip():
        return AoiProblem(label, "has no `id` property; give it a short unique string id such as 'toulouse'")
    if aoi_id in seen:
        return AoiProblem(aoi_id, "the id is used twice; AOI ids must be unique, rename one of them")
    seen.add(aoi_id)
    try:
        geometry = shape(feature.get("geometry") or {})
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return AoiProblem(aoi_id, f"its geometry is not valid GeoJSON ({exc}); give a Polygon or MultiPolygon")
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return AoiProblem(aoi_id, f"is a {geometry.geom_type}; AOIs must be Polygons or MultiPolygons")
    if geometry.is_empty or geometry.area == 0:
        return AoiProblem(aoi_id, "has an empty or zero-area geometry; draw a polygon with at least three corners")
    _, miny, _, maxy = geometry.bounds
    if miny < -90 or maxy > 90:
        return AoiProblem(aoi_id, "has latitudes outside [-90, 90]; coordinates are [longitude, latitude]")
    if _crosses_antimeridian(geometry):
        return AoiProblem(
            aoi_id,
            "crosses the antimeridian as one ring; split it at 180° into a MultiPolygon "
            "with longitudes inside [-180, 180] (RFC 7946 §3.1.9)",
        )
    if not geometry.is_valid:
        return AoiProblem(
            aoi_id, f"is not a valid polygon ({explain_validity(geometry)}); fix the ring so it does not cross itself"
        )
    settings = {k: v for k, v in props.items() if k not in ("id", "name")}
    return Aoi(id=aoi_id, name=str(props.get("name") or aoi_id), geometry=geometry, settings=settings)


def load_aois(path: Path | None = None) -> AoiSet:
    """Read and validate an AOI file; raises AoiFileError only when nothing can be read at all."""
    source = path or aois_path()
    try:
        document = json.loads(Path(source).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AoiFileError(f"AOI file {source} does not exist; set HARVEST_AOIS to a GeoJSON file") from exc
    except json.JSONDecodeError as exc:
        raise AoiFileError(f"AOI file {source} is not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise AoiFileError(f"AOI file {source} must be a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise AoiFileError(f"AOI file {source} has no `features` list")
    aois: list[Aoi] = []
    problems: list[AoiProblem] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        result = _check_feature(index, feature, seen)
        (aois if isinstance(result, Aoi) else problems).append(result)  # type: ignore[arg-type]
    return AoiSet(source=Path(source), aois=tuple(aois), problems=tuple(problems))
