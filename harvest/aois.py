"""Areas of interest: a GeoJSON FeatureCollection of polygons with `id`, `name` and settings.

Loading validates every AOI and reports each bad one by id with the fix, so one broken AOI never
takes the others down with it. An id names the AOI's files (its coverage maps), so it must be a
safe file name: letters, digits, `_`, `.` and `-`, starting with a letter or digit.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from harvest.textfiles import TextFileError, read_text

DEFAULT_AOIS_PATH = Path(__file__).resolve().parent.parent / "data" / "aois.geojson"
MAX_AOI_FILE_BYTES = 64 * 1024 * 1024
MAX_ID_LENGTH = 64
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SHAPE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError, GEOSException)
_POINT_ELSEWHERE = "set HARVEST_AOIS to a GeoJSON file"
_FIX_IT = "fix it, or set HARVEST_AOIS to another GeoJSON file"


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


class NoUsableAoiError(AoiFileError):
    """No AOI of the file can be harvested for a provider (the reasons are in the message)."""


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


def id_problem(aoi_id: str) -> str | None:
    """Why `aoi_id` cannot name an AOI (and its files, such as maps/<id>.png), or None when it can."""
    if len(aoi_id) <= MAX_ID_LENGTH and _SAFE_ID.fullmatch(aoi_id):
        return None
    return (
        f"the id {aoi_id!r} is not a safe name; an id names the AOI's files, so use letters, digits, '_', '.' "
        f"and '-' only, starting with a letter or digit, at most {MAX_ID_LENGTH} characters (e.g. 'toulouse-north')"
    )


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _coordinate_problem(geometry: Any) -> str | None:
    """What is wrong with the numbers of a GeoJSON geometry's `coordinates` (NaN, infinite, not numbers), or None."""
    if not isinstance(geometry, dict) or not isinstance(geometry.get("coordinates"), list):
        return None  # not GeoJSON coordinates at all: shapely's message says so
    pending: list[Any] = [geometry["coordinates"]]
    nan = infinite = False
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
            continue
        if isinstance(item, bool) or not isinstance(item, int | float):
            return f"has a coordinate {_shown(item)} that is not a number; positions are [longitude, latitude] numbers"
        try:
            value = float(item)
        except OverflowError:  # an integer beyond any float
            value = math.inf
        nan = nan or math.isnan(value)
        infinite = infinite or math.isinf(value)
    if nan:
        return "has NaN coordinates; every position must be two numbers, [longitude, latitude] in degrees"
    if infinite:
        return "has infinite coordinates; every position must be two finite numbers, [longitude, latitude] in degrees"
    return None


def _round_the_world(geometry: BaseGeometry) -> str | None:
    """Why an AOI spanning every longitude (a whole-world or world-band polygon) is refused, or None."""
    minx, miny, maxx, maxy = geometry.bounds
    if minx > -180 or maxx < 180 or geometry.area < 0.5 * (maxx - minx) * (maxy - miny):
        return None  # e.g. a MultiPolygon split at ±180°: its parts touch both edges but cover little between
    if maxy - miny >= 90:
        return "covers the whole world; draw the area you need"
    return "goes all the way round the world (every longitude from -180 to 180); draw the area you need"


def _crosses_antimeridian(geometry: BaseGeometry) -> bool:
    minx, _, maxx, _ = geometry.bounds
    if minx < -180 or maxx > 180:
        return True
    # a ring drawn across ±180 with folded longitudes jumps by more than 180 degrees
    for polygon in getattr(geometry, "geoms", [geometry]):
        xs = [position[0] for position in polygon.exterior.coords]
        if any(abs(b - a) > 180 for a, b in itertools.pairwise(xs)):
            return True
    return False


def _check_feature(index: int, feature: Any, seen: set[str]) -> Aoi | AoiProblem:
    label = f"#{index + 1}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return AoiProblem(label, "is not a GeoJSON Feature; each entry of `features` needs type Feature")
    props = feature.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        return AoiProblem(
            label,
            f"its `properties` is {_json_kind(props)}; it must be an object such as "
            '{"id": "toulouse", "name": "Toulouse"}',
        )
    aoi_id = props.get("id")
    if aoi_id is not None and not isinstance(aoi_id, str):
        shown = _shown(aoi_id)
        return AoiProblem(label, f"its `id` is {shown}, not a string; give it a short unique id such as 'toulouse'")
    if not isinstance(aoi_id, str) or not aoi_id.strip():
        return AoiProblem(label, "has no `id` property; give it a short unique string id such as 'toulouse'")
    unsafe = id_problem(aoi_id)
    if unsafe is not None:
        return AoiProblem(label, unsafe)
    if aoi_id in seen:
        return AoiProblem(aoi_id, "the id is used twice; AOI ids must be unique, rename one of them")
    seen.add(aoi_id)
    raw = feature.get("geometry")
    bad_numbers = _coordinate_problem(raw)
    if bad_numbers is not None:
        return AoiProblem(aoi_id, bad_numbers)
    try:
        geometry = shapely.force_2d(shape(raw or {}))
    except _SHAPE_ERRORS as exc:
        return AoiProblem(aoi_id, f"its geometry is not valid GeoJSON ({exc}); give a Polygon or MultiPolygon")
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return AoiProblem(aoi_id, f"is a {geometry.geom_type}; AOIs must be Polygons or MultiPolygons")
    if geometry.is_empty or geometry.area == 0:
        return AoiProblem(aoi_id, "has an empty or zero-area geometry; draw a polygon with at least three corners")
    minx, miny, maxx, maxy = geometry.bounds
    if miny < -90 or maxy > 90:
        return AoiProblem(aoi_id, "has latitudes outside [-90, 90]; coordinates are [longitude, latitude]")
    if minx < -360 or maxx > 360:
        return AoiProblem(aoi_id, "has longitudes outside [-180, 180]; coordinates are [longitude, latitude]")
    whole = _round_the_world(geometry)
    if whole is not None:
        return AoiProblem(aoi_id, whole)
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


def _json_kind(value: Any) -> str:
    kinds = {list: "a list", str: "a string", bool: "true or false", int: "a number", float: "a number"}
    return kinds.get(type(value), "not an object")


def _read_document(source: Path) -> Any:
    """The AOI file's JSON; AoiFileError says what is wrong with the file and how to fix it."""
    try:
        text = read_text(source, max_bytes=MAX_AOI_FILE_BYTES)
    except TextFileError as exc:
        fix = f"{exc.fix}, or set HARVEST_AOIS to another GeoJSON file" if exc.fix else _POINT_ELSEWHERE
        raise AoiFileError(f"AOI file {source} {exc.reason}; {fix}") from exc
    if not text.strip():
        raise AoiFileError(
            f"AOI file {source} is empty; put a GeoJSON FeatureCollection of your AOIs in it "
            f"(data/aois.geojson is an example), or set HARVEST_AOIS to another file"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise AoiFileError(f"AOI file {source} is not JSON ({exc.msg} at {where}); {_FIX_IT}") from exc
    except RecursionError as exc:
        raise AoiFileError(f"AOI file {source} nests arrays or objects too deeply to be GeoJSON; {_FIX_IT}") from exc


def load_aois(path: Path | None = None) -> AoiSet:
    """Read and validate an AOI file; raises AoiFileError only when nothing can be read at all."""
    source = Path(path or aois_path())
    document = _read_document(source)
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise AoiFileError(f"AOI file {source} must be a GeoJSON FeatureCollection; {_FIX_IT}")
    features = document.get("features")
    if not isinstance(features, list):
        raise AoiFileError(f"AOI file {source} has no `features` list; {_FIX_IT}")
    aois: list[Aoi] = []
    problems: list[AoiProblem] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        result = _check_feature(index, feature, seen)
        if isinstance(result, Aoi):
            aois.append(result)
        else:
            problems.append(result)
    return AoiSet(source=source, aois=tuple(aois), problems=tuple(problems))
