"""Coverage maps of one AOI: its scenes' footprints as an interactive HTML map (folium) and a static PNG (matplotlib).

    render_coverage(aoi, scenes, Path("data/maps"), window=(date(2026, 10, 3), date(2026, 11, 1)))

Footprints are coloured by acquisition time or by cloud cover. Both maps draw in longitudes that run
on continuously around the AOI: a footprint cut at ±180° (stored as a MultiPolygon, RFC 7946 §3.1.9)
has its far part moved by 360° and joined to the near one again, so it draws as one shape beside
the AOI instead of two slivers at the opposite ends of the world.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, cast, get_args

import branca.element
import folium
import matplotlib as mpl
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import Colormap, Normalize, to_hex
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from harvest.aois import Aoi, id_problem
from harvest.catalog.atomic import atomic_output
from harvest.catalog.bounds import ExtentAccumulator
from harvest.catalog.polygons import Geometries, multipolygons_by_owner
from harvest.timestamps import format_seconds, ns_to_date, to_datetime

ColorBy = Literal["acquired", "cloud_cover"]
COLOR_BY: tuple[str, ...] = get_args(ColorBy)
REQUIRED_COLUMNS = ("provider", "scene_id", "acquired", "cloud_cover", "price_amount", "price_currency", "price_unit")

UNKNOWN_COLOUR = "#9e9e9e"  # scenes without a cloud cover estimate
AOI_COLOUR = "#111111"
_COLORMAPS: dict[str, str] = {"acquired": "viridis", "cloud_cover": "RdYlGn_r"}
_SECONDS_PER_DAY = 86_400.0
_COORDINATE_DIGITS = 6  # about 0.1 m: plenty for a map, and a third of the HTML of full precision
_PNG_DPI = 100


@dataclass(frozen=True)
class CoverageMap:
    """What `render_coverage` wrote for one AOI."""

    aoi_id: str
    html: Path
    png: Path
    scenes: int
    newest: datetime | None  # the latest acquisition drawn (UTC), None without scenes
    title: str


@dataclass(frozen=True)
class _Scale:
    """How scene values map to colours, and how to label them."""

    color_by: str
    vmin: float
    vmax: float

    @property
    def caption(self) -> str:
        return "acquired (UTC)" if self.color_by == "acquired" else "cloud cover (%)"

    def colormap(self) -> Colormap:
        return mpl.colormaps[_COLORMAPS[self.color_by]]

    def norm(self) -> Normalize:
        return Normalize(self.vmin, self.vmax)

    def colours(self, values: NDArray[np.float64]) -> list[str]:
        """A hex colour per value; NaN (unknown) is grey."""
        rgba = self.colormap()(self.norm()(np.nan_to_num(values)))
        hexes = [to_hex(colour) for colour in rgba]
        return [UNKNOWN_COLOUR if unknown else colour for colour, unknown in zip(hexes, np.isnan(values), strict=True)]

    def label(self, value: float) -> str:
        if self.color_by == "acquired":
            return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d")
        return f"{value:.0f}%"


@dataclass(frozen=True)
class _Layer:
    """The scenes to draw: footprints in the AOI's longitude frame, colour values and popup texts."""

    aoi: BaseGeometry  # the AOI in the same frame
    footprints: Geometries
    values: NDArray[np.float64]  # NaN where unknown
    scale: _Scale
    popups: dict[str, list[str]]
    name: str  # the AOI's
    summary: str  # date range and scene count
    newest: datetime | None

    @property
    def title(self) -> str:
        return f"{self.name}: {self.summary}"

    @property
    def count(self) -> int:
        return len(self.footprints)

    def bounds(self) -> tuple[float, float, float, float]:
        """West, south, east, north of the AOI and every footprint."""
        boxes = shapely.bounds(np.concatenate([np.array([self.aoi], dtype=object), self.footprints]))
        return (
            float(np.nanmin(boxes[:, 0])),
            float(np.nanmin(boxes[:, 1])),
            float(np.nanmax(boxes[:, 2])),
            float(np.nanmax(boxes[:, 3])),
        )


def render_coverage(
    aoi: Aoi,
    scenes: pa.Table,
    directory: Path,
    *,
    color_by: ColorBy = "acquired",
    window: tuple[date, date] | None = None,
) -> CoverageMap:
    """Write `<directory>/<aoi id>.html` and `.png` for these scenes (SCENE_SCHEMA columns), each atomically.

    The id must be a safe file name (ValueError otherwise), so the maps land in `directory` and nowhere else.
    """
    unsafe = id_problem(aoi.id)
    if unsafe is not None:
        raise ValueError(f"no map drawn for AOI {aoi.id!r}: {unsafe}")
    layer = _layer(aoi, scenes, color_by, window)
    directory.mkdir(parents=True, exist_ok=True)
    html_path, png_path = directory / f"{aoi.id}.html", directory / f"{aoi.id}.png"
    _write_html(layer, html_path)
    _write_png(layer, png_path)
    return CoverageMap(aoi.id, html_path, png_path, layer.count, layer.newest, layer.title)


def reference_longitude(geometry: BaseGeometry) -> float:
    """The middle longitude of a geometry, in [-180, 180); right for one split at ±180° into a MultiPolygon."""
    extent = ExtentAccumulator()
    extent.add(shapely.bounds(shapely.get_parts(geometry)))
    box = extent.bbox()
    if box is None:
        raise ValueError("an empty geometry has no longitude")
    west, _, east, _ = box
    middle = west + ((east - west) % 360.0) / 2
    return float((middle + 180.0) % 360.0 - 180.0)


def unwrap_around(geometries: Geometries, longitude: float) -> Geometries:
    """Each geometry's parts moved by a multiple of 360° to lie nearest `longitude`, parts that now touch joined."""
    parts, owner = shapely.get_parts(geometries, return_index=True)
    if not len(parts):
        return geometries.copy()
    boxes = shapely.bounds(parts)
    shift = 360.0 * np.round((longitude - (boxes[:, 0] + boxes[:, 2]) / 2) / 360.0)
    if not shift.any():
        return geometries.copy()
    per_coordinate = np.repeat(shift, shapely.get_num_coordinates(parts))
    offsets = np.column_stack([per_coordinate, np.zeros_like(per_coordinate)])
    moved_parts = shapely.transform(parts, lambda xy: xy + offsets)
    moved = np.flatnonzero(np.bincount(owner, weights=np.abs(shift), minlength=len(geometries)) > 0)
    out = geometries.copy()
    rebuilt = multipolygons_by_owner(moved_parts, owner, len(geometries))
    out[moved] = shapely.make_valid(rebuilt[moved], method="structure", keep_collapsed=False)
    return out


def _layer(aoi: Aoi, scenes: pa.Table, color_by: str, window: tuple[date, date] | None) -> _Layer:
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by={color_by!r} is not one of {', '.join(COLOR_BY)}")
    missing = [name for name in (*REQUIRED_COLUMNS, "geometry") if name not in scenes.column_names]
    if missing:
        raise ValueError(f"the scene table lacks column(s) {', '.join(missing)}; pass SCENE_SCHEMA tables")
    longitude = reference_longitude(aoi.geometry)
    footprints = shapely.from_wkb(scenes.column("geometry").to_numpy(zero_copy_only=False))
    footprints = unwrap_around(np.asarray(footprints, dtype=object), longitude)
    aoi_shape = unwrap_around(np.array([aoi.geometry], dtype=object), longitude)[0]
    acquired_ns = pc.cast(scenes.column("acquired"), pa.int64()).to_numpy(zero_copy_only=False)
    acquired_s = acquired_ns / 1e9
    cloud = pc.cast(scenes.column("cloud_cover"), pa.float64()).to_numpy(zero_copy_only=False)  # null: NaN
    values = acquired_s if color_by == "acquired" else cloud
    newest = to_datetime(int(acquired_ns.max())) if len(scenes) else None
    return _Layer(
        aoi=aoi_shape,
        footprints=footprints,
        values=np.asarray(values, dtype=np.float64),
        scale=_scale(color_by, acquired_s, window),
        popups=_popups(scenes, acquired_ns, cloud),
        name=aoi.name,
        summary=_summary(acquired_ns, window),
        newest=newest,
    )


def _scale(color_by: str, acquired_s: NDArray[np.float64], window: tuple[date, date] | None) -> _Scale:
    if color_by == "cloud_cover":
        return _Scale(color_by, 0.0, 100.0)
    if window is not None:
        first, last = (datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() for d in window)
        return _Scale(color_by, first, last + _SECONDS_PER_DAY)
    if not len(acquired_s):
        return _Scale(color_by, 0.0, _SECONDS_PER_DAY)
    low, high = float(acquired_s.min()), float(acquired_s.max())
    if high - low < _SECONDS_PER_DAY:  # one day or one scene: still a readable scale
        low, high = (low + high) / 2 - _SECONDS_PER_DAY / 2, (low + high) / 2 + _SECONDS_PER_DAY / 2
    return _Scale(color_by, low, high)


def _summary(acquired_ns: NDArray[np.int64], window: tuple[date, date] | None) -> str:
    if window is not None:
        first, last = window
    elif len(acquired_ns):
        first, last = ns_to_date(int(acquired_ns.min())), ns_to_date(int(acquired_ns.max()))
    else:
        return "no scenes"
    count = len(acquired_ns)
    scenes = "no scenes" if count == 0 else f"{count:,} scene{'s' if count != 1 else ''}"
    return f"{first.isoformat()} to {last.isoformat()}, {scenes}"


def _popups(scenes: pa.Table, acquired_ns: NDArray[np.int64], cloud: NDArray[np.float64]) -> dict[str, list[str]]:
    """Popup fields per footprint, HTML-escaped (the popup is set as innerHTML)."""
    amounts = scenes.column("price_amount").to_pylist()
    currencies = scenes.column("price_currency").to_pylist()
    units = scenes.column("price_unit").to_pylist()
    prices = [
        "unknown" if amount is None else " ".join(filter(None, (f"{amount:,.2f}", currency, "per", unit or "scene")))
        for amount, currency, unit in zip(amounts, currencies, units, strict=True)
    ]
    fields: dict[str, Sequence[object]] = {
        "scene": scenes.column("scene_id").to_pylist(),
        "provider": scenes.column("provider").to_pylist(),
        "acquired": [format_seconds(ns) for ns in acquired_ns.tolist()],
        "cloud": ["unknown" if np.isnan(c) else f"{c:.1f}%" for c in cloud],
        "price": prices,
    }
    return {name: [html.escape(str(value)) for value in values] for name, values in fields.items()}


def _rounded(geometries: Geometries) -> Geometries:
    return shapely.transform(geometries, lambda xy: np.round(xy, _COORDINATE_DIGITS))


def _feature_collection(layer: _Layer, colours: Sequence[str]) -> dict[str, object]:
    """The footprints as GeoJSON features whose properties are the popup fields and the colour."""
    geometries = shapely.to_geojson(_rounded(layer.footprints)).tolist()
    features = [
        {
            "type": "Feature",
            "id": str(row),  # scene ids repeat across providers; folium needs a unique key to style by
            "geometry": orjson.loads(geometry),
            "properties": {**{name: values[row] for name, values in layer.popups.items()}, "colour": colours[row]},
        }
        for row, geometry in enumerate(geometries)
    ]
    return {"type": "FeatureCollection", "features": features}


def _footprint_style(feature: dict[str, Any]) -> dict[str, object]:
    colour = feature["properties"]["colour"]
    return {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.3}


def _write_html(layer: _Layer, path: Path) -> None:
    west, south, east, north = layer.bounds()
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles="OpenStreetMap", prefer_canvas=True)
    fmap.fit_bounds([[south, west], [north, east]])
    root = cast("branca.element.Figure", fmap.get_root())  # a Map's root is always its Figure
    if layer.count:
        folium.GeoJson(
            _feature_collection(layer, layer.scale.colours(layer.values)),
            name="scenes",
            style_function=_footprint_style,
            popup=folium.GeoJsonPopup(fields=list(layer.popups), aliases=list(layer.popups)),
        ).add_to(fmap)
        root.html.add_child(folium.Element(_legend_html(layer)))
    folium.GeoJson(  # on top, and not clickable, so the footprints' popups open through it
        shapely.to_geojson(_rounded(np.array([layer.aoi], dtype=object)))[0],
        name="AOI",
        style_function=lambda _: {"color": AOI_COLOUR, "weight": 3, "fill": False},
        interactive=False,
    ).add_to(fmap)
    root.header.add_child(folium.Element(f"<title>{html.escape(layer.title)}</title>"))
    root.html.add_child(folium.Element(_title_html(layer.title)))
    with atomic_output(path) as temporary:
        fmap.save(str(temporary))


def _title_html(title: str) -> str:
    return (
        '<div style="position:fixed;top:10px;left:60px;z-index:9999;background:white;padding:4px 10px;'
        f'border-radius:4px;font:14px sans-serif;box-shadow:0 1px 4px #0004">{html.escape(title)}</div>'
    )


def _legend_html(layer: _Layer) -> str:
    scale = layer.scale
    stops = ", ".join(to_hex(scale.colormap()(x)) for x in np.linspace(0, 1, 11))
    unknown = ""
    if np.isnan(layer.values).any():
        swatch = f"display:inline-block;width:12px;height:12px;background:{UNKNOWN_COLOUR}"
        unknown = f'<div><span style="{swatch}"></span> unknown</div>'
    middle = scale.label((scale.vmin + scale.vmax) / 2)
    return (
        '<div style="position:fixed;bottom:24px;right:10px;z-index:9999;background:white;padding:6px 10px;'
        'border-radius:4px;font:12px sans-serif;box-shadow:0 1px 4px #0004">'
        f"<div><b>{scale.caption}</b></div>"
        f'<div style="width:220px;height:12px;background:linear-gradient(to right, {stops})"></div>'
        '<div style="display:flex;justify-content:space-between;width:220px">'
        f"<span>{scale.label(scale.vmin)}</span><span>{middle}</span><span>{scale.label(scale.vmax)}</span></div>"
        f"{unknown}</div>"
    )


def _paths(geometries: Geometries) -> tuple[list[MplPath], NDArray[np.intp]]:
    """One matplotlib path per polygon part (holes included), and the geometry each belongs to."""
    parts, owner = shapely.get_parts(geometries, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
    ring_starts = np.searchsorted(coord_ring, np.arange(len(rings) + 1))
    part_starts = np.searchsorted(ring_part, np.arange(len(parts) + 1))
    codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
    codes[ring_starts[:-1]] = MplPath.MOVETO
    codes[ring_starts[1:] - 1] = MplPath.CLOSEPOLY
    paths = [
        MplPath(xy[ring_starts[first] : ring_starts[last]], codes[ring_starts[first] : ring_starts[last]])
        for first, last in zip(part_starts[:-1].tolist(), part_starts[1:].tolist(), strict=True)
    ]
    return paths, owner


def _write_png(layer: _Layer, path: Path) -> None:
    figure = Figure(figsize=(8, 7), dpi=_PNG_DPI)  # no constrained layout: it would draw every footprint twice
    figure.subplots_adjust(left=0.1, right=0.95, bottom=0.08, top=0.9)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if layer.count:
        paths, owner = _paths(layer.footprints)
        colours = np.array(layer.scale.colours(layer.values), dtype=object)[owner]
        axes.add_collection(PathCollection(paths, facecolors=colours, edgecolors=colours, linewidths=0.6, alpha=0.35))
        mappable = mpl.cm.ScalarMappable(norm=layer.scale.norm(), cmap=layer.scale.colormap())
        colorbar = figure.colorbar(mappable, ax=axes, shrink=0.8, label=layer.scale.caption)
        ticks = np.linspace(layer.scale.vmin, layer.scale.vmax, 5)
        colorbar.set_ticks(ticks.tolist(), labels=[layer.scale.label(t) for t in ticks])
    aoi_paths, _ = _paths(np.array([layer.aoi], dtype=object))
    axes.add_collection(PathCollection(aoi_paths, facecolors="none", edgecolors=AOI_COLOUR, linewidths=1.8))
    west, south, east, north = layer.bounds()
    pad_x, pad_y = max((east - west) * 0.05, 1e-3), max((north - south) * 0.05, 1e-3)
    axes.set_xlim(west - pad_x, east + pad_x)
    axes.set_ylim(south - pad_y, north + pad_y)
    axes.set_aspect(1 / max(np.cos(np.radians((south + north) / 2)), 0.05))
    axes.set_xlabel("longitude (°, continuous across ±180°)")
    axes.set_ylabel("latitude (°)")
    axes.set_title(f"{layer.name}\n{layer.summary}", fontsize=11)
    axes.grid(color="#dddddd", linewidth=0.5)
    with atomic_output(path) as temporary:
        figure.savefig(temporary, format="png")
