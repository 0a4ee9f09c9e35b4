"""One row per scene: merging rows of the same (provider, scene_id) found for several AOIs or twice."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from harvest.catalog.column_values import strings
from harvest.catalog.schema import SCENE_SCHEMA


def merge_scene_rows(tables: Sequence[pa.Table | pa.RecordBatch]) -> pa.Table:
    """Concatenate, then keep one row per (provider, scene_id): the newest `updated` (later rows win
    ties), with `aoi_ids` the sorted union over every row of that scene."""
    parts = [pa.Table.from_batches([t]) if isinstance(t, pa.RecordBatch) else t for t in tables if len(t)]
    if not parts:
        return SCENE_SCHEMA.empty_table()
    table = pa.concat_tables(parts).combine_chunks()
    providers = strings(table.column("provider"))
    scenes = strings(table.column("scene_id"))
    updated = pc.cast(table.column("updated"), pa.int64()).to_pylist()
    aoi_lists = table.column("aoi_ids").to_pylist()
    chosen: dict[tuple[str, str], int] = {}
    aois: dict[tuple[str, str], set[str]] = {}
    for row, key in enumerate(zip(providers, scenes, strict=True)):
        aois.setdefault(key, set()).update(aoi_lists[row] or ())
        best = chosen.get(key)
        if best is None or (updated[row] or -1) >= (updated[best] or -1):
            chosen[key] = row
    if len(chosen) == len(table) and all(sorted(aoi_lists[r] or ()) == sorted(aois[k]) for k, r in chosen.items()):
        return table
    rows = sorted(chosen.values())
    merged = table.take(pa.array(rows, type=pa.int64()))
    union = [sorted(aois[(providers[r], scenes[r])]) for r in rows]
    index = merged.schema.get_field_index("aoi_ids")
    return merged.set_column(index, merged.schema.field(index), pa.array(union, type=pa.list_(pa.string())))
