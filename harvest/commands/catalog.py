"""`harvest catalog`: look up scenes in the GeoParquet catalog from the command line."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from harvest import registry
from harvest.aois import AoiFileError, aois_path, load_aois
from harvest.catalog.column_values import integers, strings
from harvest.catalog.damage import DamagedFileError
from harvest.catalog.query import CatalogQuery
from harvest.catalog.reader import iter_catalog_batches
from harvest.catalog.schema import SCENE_SCHEMA
from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.timestamps import format_rfc3339_nano, format_seconds

FORMATS = ("table", "csv", "geojson")
# every column but the footprint and the AOI list, in schema order; timestamps as RFC 3339
SCALAR_COLUMNS = tuple(f.name for f in SCENE_SCHEMA if f.name not in ("geometry", "aoi_ids"))
_TIMESTAMP_COLUMNS = frozenset(f.name for f in SCENE_SCHEMA if pa.types.is_timestamp(f.type))
_TABLE_HEADER = ("provider", "scene_id", "acquired", "cloud%", "gsd_m", "price", "aois")
_RIGHT_ALIGNED = frozenset({"cloud%", "gsd_m", "price"})


@click.group()
def catalog() -> None:
    """The scene catalog: GeoParquet files under $HARVEST_DATA_DIR/catalog."""


@catalog.command("query")
@click.option(
    "--provider", type=click.Choice(registry.IDS), help="Only this provider's files [default: the unified catalog]."
)
@click.option("--aoi", "aoi_id", metavar="ID", help="Only scenes harvested for this AOI (ids from $HARVEST_AOIS).")
@click.option("--bbox", metavar="MINX,MINY,MAXX,MAXY", help="Only footprints meeting this box (EPSG:4326 degrees).")
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Acquired on or after this UTC day (YYYY-MM-DD).",
)
@click.option(
    "--end",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Acquired on or before this UTC day, included.",
)
@click.option(
    "--max-cloud", type=click.FloatRange(0, 100), help="Cloud cover at most this percent (unknown: left out)."
)
@click.option(
    "--format",
    "output",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="A table, CSV (footprint as WKT) or a GeoJSON FeatureCollection.",
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many scenes, earliest acquisition days first.")
def query(
    provider: str | None,
    aoi_id: str | None,
    bbox: str | None,
    start: datetime | None,
    end: datetime | None,
    max_cloud: float | None,
    output: str,
    limit: int | None,
) -> None:
    """Print the scenes matching every filter given, as a table, CSV or a GeoJSON FeatureCollection."""
    first_day, last_day = (start.date() if start else None), (end.date() if end else None)
    if first_day and last_day and first_day > last_day:
        raise click.BadParameter(f"{first_day} is after --end {last_day}; swap them", param_hint="--start")
    box = _parse_bbox(bbox) if bbox is not None else None
    if aoi_id is not None:
        aoi_bounds = _aoi_bounds(aoi_id)
        box = box or aoi_bounds  # prunes row groups: a scene harvested for an AOI meets its bounds
    try:
        checked = CatalogQuery.build(
            bbox=box,
            start=_midnight(first_day),
            end=_midnight(last_day + timedelta(days=1)) if last_day else None,
            providers=provider,
            max_cloud=max_cloud,
            aoi_ids=aoi_id,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    files = _catalog_files(_store(), provider, first_day, last_day)
    table = _read(files, checked, limit)
    if not len(table):
        click.echo("0 scenes", err=True)
        return
    more = limit is not None and len(table) == limit
    count = f"{len(table):,} scene{'s' if len(table) != 1 else ''}" + (f" (--limit {limit} reached)" if more else "")
    if output == "table":
        click.echo(_as_table(table))
        click.echo(count)
    else:
        click.echo(_as_csv(table) if output == "csv" else _as_geojson(table), nl=output == "geojson")
        click.echo(count, err=True)


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(value) for value in values):
        raise click.BadParameter(
            f"{text!r} is not 4 comma-separated numbers; give minx,miny,maxx,maxy in degrees, "
            "e.g. 1.35,43.55,1.54,43.69",
            param_hint="--bbox",
        )
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise click.BadParameter(
            f"{text!r} is outside EPSG:4326; longitudes go from -180 to 180 and latitudes from -90 to 90",
            param_hint="--bbox",
        )
    if minx > maxx or miny > maxy:
        axis = "minx > maxx" if minx > maxx else "miny > maxy"
        raise click.BadParameter(
            f"{text!r} has {axis}; give minx,miny,maxx,maxy with each minimum below its maximum "
            "(for an area across the antimeridian, use --aoi or one query per side)",
            param_hint="--bbox",
        )
    return minx, miny, maxx, maxy


def _aoi_bounds(aoi_id: str) -> tuple[float, float, float, float]:
    try:
        aoi_set = load_aois(aois_path())
    except AoiFileError as exc:
        raise click.ClickException(str(exc)) from exc
    aois = aoi_set.by_id()
    if aoi_id not in aois:
        known = ", ".join(sorted(aois)) or "(none)"
        raise click.BadParameter(
            f"unknown AOI {aoi_id!r}; the AOIs in {aoi_set.source} are: {known}", param_hint="--aoi"
        )
    return aois[aoi_id].bounds


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


def _store() -> CatalogStore:
    store = CatalogStore.default()
    if not store.root.parent.is_dir():
        raise click.ClickException(
            f"data directory {store.root.parent} does not exist; set HARVEST_DATA_DIR to harvest's data directory "
            "(the one holding catalog/)"
        )
    return store


def _catalog_files(store: CatalogStore, provider: str | None, first: date | None, last: date | None) -> list[Path]:
    """The day files to scan: the provider's, else the unified catalog's, else every provider's; by day.

    Stray files are left out with a warning; a damaged day in [first, last] stops the query, naming the file.
    """
    if provider is not None:
        listings = [store.listing(provider)]
    else:
        unified = store.listing(UNIFIED)
        has_unified = bool(unified.days) or any(skipped.day for skipped in unified.skipped)
        listings = [unified] if has_unified else [store.listing(name) for name in registry.IDS]
    files: list[Path] = []
    for listing in listings:
        for skipped in listing.skipped:
            if skipped.day is not None and _day_in(skipped.day, first, last):
                raise click.ClickException(str(skipped.error()))
            click.echo(f"warning: {skipped}", err=True)
        files.extend(path for day, path in listing.days.items() if _day_in(day, first, last))
    return sorted(files, key=lambda path: (path.name, str(path)))


def _day_in(day: date, first: date | None, last: date | None) -> bool:
    """Whether a day file can hold acquisitions in [first, last]."""
    return (first is None or day >= first) and (last is None or day <= last)


def _read(files: Sequence[Path], query: CatalogQuery, limit: int | None) -> pa.Table:
    try:
        batches = _batches(files, query, limit) if files else []
    except DamagedFileError as exc:
        raise click.ClickException(str(exc)) from exc
    table = pa.Table.from_batches(batches, schema=SCENE_SCHEMA)
    table = table if limit is None else table.slice(0, limit)
    return table.sort_by([("acquired", "ascending"), ("provider", "ascending"), ("scene_id", "ascending")])


def _batches(files: Sequence[Path], query: CatalogQuery, limit: int | None) -> list[pa.RecordBatch]:
    """The matching batches of these files, stopping once `limit` rows are in."""
    batches: list[pa.RecordBatch] = []
    rows = 0
    for batch in iter_catalog_batches(files, query):
        batches.append(batch)
        rows += batch.num_rows
        if limit is not None and rows >= limit:
            break
    return batches


def _texts(table: pa.Table, name: str) -> list[str]:
    """A scalar column as text: RFC 3339 for times, '' for nulls, lower-case booleans."""
    column = table.column(name)
    if name in _TIMESTAMP_COLUMNS:
        nanos = pc.cast(column, pa.int64()).to_pylist()
        return ["" if ns is None else format_rfc3339_nano(ns) for ns in nanos]
    values = column.to_pylist()
    if pa.types.is_boolean(column.type):
        return ["" if value is None else str(value).lower() for value in values]
    return ["" if value is None else str(value) for value in values]


def _as_table(table: pa.Table) -> str:
    acquired = integers(pc.cast(table.column("acquired"), pa.int64()))
    prices = zip(
        table.column("price_amount").to_pylist(),
        table.column("price_currency").to_pylist(),
        table.column("price_unit").to_pylist(),
        strict=True,
    )
    columns: tuple[list[str], ...] = (
        strings(table.column("provider")),
        strings(table.column("scene_id")),
        [format_seconds(ns) for ns in acquired],
        ["-" if c is None else f"{c:.1f}" for c in table.column("cloud_cover").to_pylist()],
        ["-" if g is None else f"{g:.2f}" for g in table.column("gsd_m").to_pylist()],
        ["-" if a is None else f"{a:,.2f} {c or '?'}/{u or 'scene'}" for a, c, u in prices],
        [",".join(ids or []) for ids in table.column("aoi_ids").to_pylist()],
    )
    widths = [
        max(len(header), *(len(value) for value in values))
        for header, values in zip(_TABLE_HEADER, columns, strict=True)
    ]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if header in _RIGHT_ALIGNED else cell.ljust(width)
            for header, cell, width in zip(_TABLE_HEADER, cells, widths, strict=True)
        )
        return "  ".join(padded).rstrip()

    rows = [line(_TABLE_HEADER), line(["-" * width for width in widths])]
    rows.extend(line(cells) for cells in zip(*columns, strict=True))
    return "\n".join(rows)


def _wkt(table: pa.Table) -> list[str]:
    geometries = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    wkt: list[str] = shapely.to_wkt(geometries, rounding_precision=-1).tolist()
    return wkt


def _as_csv(table: pa.Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*SCALAR_COLUMNS, "aoi_ids", "geometry"])
    aoi_ids = [";".join(ids or []) for ids in table.column("aoi_ids").to_pylist()]
    columns = [_texts(table, name) for name in SCALAR_COLUMNS]
    writer.writerows(zip(*columns, aoi_ids, _wkt(table), strict=True))
    return buffer.getvalue()


def _as_geojson(table: pa.Table) -> str:
    """An RFC 7946 FeatureCollection; footprints cut at ±180° stay MultiPolygons, as the standard asks."""
    geometries = shapely.to_geojson(shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False)))
    properties = {name: table.column(name).to_pylist() for name in SCALAR_COLUMNS if name not in _TIMESTAMP_COLUMNS}
    properties.update({name: [value or None for value in _texts(table, name)] for name in _TIMESTAMP_COLUMNS})
    properties["aoi_ids"] = table.column("aoi_ids").to_pylist()
    order = [*SCALAR_COLUMNS, "aoi_ids"]
    features = []
    for row, geometry in enumerate(geometries.tolist()):
        props = {name: properties[name][row] for name in order}
        ident = orjson.dumps(f"{props['provider']}/{props['scene_id']}")
        features.append(
            b'{"type":"Feature","id":%s,"geometry":%s,"properties":%s}'
            % (ident, geometry.encode(), orjson.dumps(props))
        )
    return (b'{"type":"FeatureCollection","features":[' + b",".join(features) + b"]}").decode()
