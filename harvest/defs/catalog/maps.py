"""The coverage maps: for every AOI, the scenes of the last days over it, as an HTML map and a PNG."""

from datetime import date, timedelta
from pathlib import Path
from typing import cast

import dagster as dg
import pyarrow as pa

from harvest.aois import AoiFileError
from harvest.catalog.coverage import COLOR_BY, REQUIRED_COLUMNS, ColorBy, CoverageMap, render_coverage
from harvest.catalog.damage import DamagedFileError
from harvest.catalog.query import CatalogQuery
from harvest.catalog.reader import read_catalog
from harvest.catalog.schema import SCENE_SCHEMA
from harvest.catalog.store import UNIFIED
from harvest.defs.catalog.assets import SCENE_CATALOG
from harvest.defs.resources import HarvestResource
from harvest.harvesting.days import days_between

COVERAGE_MAPS = "coverage_maps"
MAPS_FOLDER = "maps"  # under the data directory: maps/<aoi id>.html and .png
_COLUMNS = (*REQUIRED_COLUMNS, "aoi_ids", "geometry")

# Any new scene_catalog partition redraws the maps. Plain eager() would wait for every daily
# partition since CATALOG_START to exist (an unpartitioned asset depends on all of them), so the
# missing-upstream guard is dropped.
MAPS_AUTOMATION = (
    dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing()).with_label("eager_allow_missing")
)


class CoverageMapsConfig(dg.Config):
    """Which scenes the maps show, and how they are coloured."""

    days: int = 30  # acquisition days in the window, which ends today (UTC)
    color_by: str = "acquired"  # or "cloud_cover"


@dg.asset(
    name=COVERAGE_MAPS,
    deps=[SCENE_CATALOG],
    group_name="catalog",
    kinds={"html", "png"},
    automation_condition=MAPS_AUTOMATION,
)
def coverage_maps(
    context: dg.AssetExecutionContext, config: CoverageMapsConfig, harvest: HarvestResource
) -> dg.MaterializeResult:
    """Per-AOI coverage maps (HTML and PNG) of the scenes acquired in the last `days` days."""
    if config.days < 1:
        raise dg.Failure(f"days={config.days}: the window must hold at least one day; set days to 1 or more")
    if config.color_by not in COLOR_BY:
        raise dg.Failure(f"color_by={config.color_by!r} is not one of {', '.join(COLOR_BY)}")
    color_by = cast(ColorBy, config.color_by)
    today = harvest.now().date()
    window = (today - timedelta(days=config.days - 1), today)
    try:
        aoi_set = harvest.aoi_set()
    except AoiFileError as exc:
        raise dg.Failure(str(exc)) from exc
    for problem in aoi_set.problems:
        context.log.warning(str(problem))
    try:
        scenes = _window_scenes(harvest, days_between(*window))
    except DamagedFileError as exc:
        raise dg.Failure(str(exc)) from exc
    directory = harvest.root() / MAPS_FOLDER
    maps: list[CoverageMap] = []
    for aoi in aoi_set.aois:
        own = CatalogQuery.build(aoi_ids=aoi.id).refine(scenes)
        maps.append(render_coverage(aoi, own, directory, color_by=color_by, window=window))
        context.log.info(f"{aoi.id}: {maps[-1].scenes} scene(s) -> {maps[-1].html}")
    metadata: dict[str, dg.RawMetadataValue] = {
        "window": f"{window[0].isoformat()} to {window[1].isoformat()}",
        "scenes": len(scenes),
        "directory": dg.MetadataValue.path(str(directory)),
        "maps": dg.MetadataValue.md(_markdown(maps)),
    }
    metadata.update({f"map/{item.aoi_id}": dg.MetadataValue.path(str(item.html)) for item in maps})
    return dg.MaterializeResult(metadata=metadata)


def _window_scenes(harvest: HarvestResource, days: list[date]) -> pa.Table:
    """The unified catalog's scenes acquired on these days, only the columns the maps use."""
    store = harvest.store()
    files = [path for path in (store.path(UNIFIED, day) for day in days) if path.exists()]
    if not files:
        return pa.schema([SCENE_SCHEMA.field(name) for name in _COLUMNS]).empty_table()
    return read_catalog(files, columns=_COLUMNS, as_geodataframe=False)


def _markdown(maps: list[CoverageMap]) -> str:
    rows = ["| AOI | scenes | newest acquisition | map |", "|---|---:|---|---|"]
    for item in maps:
        newest = item.newest.strftime("%Y-%m-%d %H:%M UTC") if item.newest else "-"
        links = f"[html]({_uri(item.html)}) · [png]({_uri(item.png)})"
        rows.append(f"| {item.aoi_id} | {item.scenes:,} | {newest} | {links} |")
    return "\n".join(rows)


def _uri(path: Path) -> str:
    return path.resolve().as_uri()
