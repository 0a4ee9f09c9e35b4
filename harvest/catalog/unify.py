"""The unified scene catalog: every provider's offers of a day together, grouped by acquisition.

The same Pléiades strip sold by OneAtlas, Sentinel Hub and Arlula has one `acquisition_id`; each
offer stays a row of its own (with its provider's price), sorted so an acquisition's offers sit
together.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from harvest.catalog.schema import SCENE_SCHEMA


@dataclass(frozen=True)
class UnifiedSummary:
    """What one unified day holds."""

    offers: int
    acquisitions: int
    multi_provider_acquisitions: int
    offers_by_provider: dict[str, int]


def unify(tables: list[pa.Table]) -> tuple[pa.Table, UnifiedSummary]:
    """All providers' scenes of a day, offers of one acquisition next to each other."""
    parts = [t.select(SCENE_SCHEMA.names).cast(SCENE_SCHEMA) for t in tables if len(t)]
    table = pa.concat_tables(parts) if parts else SCENE_SCHEMA.empty_table()
    table = table.sort_by([("acquisition_id", "ascending"), ("provider", "ascending"), ("scene_id", "ascending")])
    per_acquisition = table.group_by("acquisition_id").aggregate([("provider", "count_distinct")])
    multi = len(per_acquisition.filter(pc.greater(per_acquisition.column("provider_count_distinct"), pa.scalar(1))))
    counts = table.group_by("provider").aggregate([("scene_id", "count")]).to_pydict()
    summary = UnifiedSummary(
        offers=len(table),
        acquisitions=len(per_acquisition),
        multi_provider_acquisitions=multi,
        offers_by_provider=dict(zip(counts["provider"], counts["scene_id_count"], strict=True)),
    )
    return table, summary
