"""Checking incoming scene data against SCENE_SCHEMA, with errors that name the column and say what to fix."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from harvest.catalog.schema import BBOX_COLUMN, PRICE_UNITS, SCENE_SCHEMA


class CatalogSchemaError(ValueError):
    """Scene data that does not fit SCENE_SCHEMA."""


def conform(data: pa.RecordBatch | pa.Table) -> pa.Table:
    """The data as a table of exactly SCENE_SCHEMA, cast losslessly; a `bbox` column is dropped (writers add it)."""
    names = data.schema.names
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise CatalogSchemaError(f"column {duplicated[0]!r} appears more than once")
    unknown = [name for name in names if name not in SCENE_SCHEMA.names and name != BBOX_COLUMN]
    if unknown:
        raise CatalogSchemaError(
            f"column {unknown[0]!r} is not in the scene schema; put provider-specific fields in `raw` (JSON)"
        )
    missing = [name for name in SCENE_SCHEMA.names if name not in names]
    if missing:
        raise CatalogSchemaError(
            f"column {missing[0]!r} ({SCENE_SCHEMA.field(missing[0]).type}) is missing; "
            "every scene column is required, even when all its values are null"
        )
    columns = [_conform_column(field, data.column(field.name)) for field in SCENE_SCHEMA]
    table = pa.Table.from_arrays(columns, schema=SCENE_SCHEMA)
    _check_price_units(table)
    return table


def _conform_column(
    field: pa.Field[Any], column: pa.Array[Any] | pa.ChunkedArray[Any]
) -> pa.Array[Any] | pa.ChunkedArray[Any]:
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.tz is None:
        raise CatalogSchemaError(
            f"column {field.name!r} holds naive timestamps ({kind}); give them a time zone, UTC for harvest"
        )
    if kind != field.type:
        if not _same_family(kind, field.type):
            raise CatalogSchemaError(f"column {field.name!r} has type {kind}, expected {field.type}")
        try:
            column = column.cast(field.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise CatalogSchemaError(f"column {field.name!r} has type {kind}, expected {field.type}: {exc}") from exc
    if not field.nullable and column.null_count:
        raise CatalogSchemaError(
            f"column {field.name!r} has {column.null_count} null value(s); it is required for every scene"
        )
    return column


def _check_price_units(table: pa.Table) -> None:
    units = table.column("price_unit")
    known = pc.is_in(units, value_set=pa.array(PRICE_UNITS))
    unexpected = pc.and_(pc.is_valid(units), pc.invert(known))
    if pc.any(unexpected).as_py():
        bad = units.filter(unexpected)[0].as_py()
        raise CatalogSchemaError(f"column 'price_unit' has {bad!r}; it must be one of {', '.join(PRICE_UNITS)} or null")


def _same_family(kind: pa.DataType, target: pa.DataType) -> bool:
    """Whether `kind` may be cast to `target` without reinterpreting values (strings are not parsed as numbers)."""
    if pa.types.is_null(kind):
        return True
    if isinstance(target, pa.ListType):
        return isinstance(kind, pa.ListType | pa.LargeListType | pa.ListViewType) and _same_family(
            kind.value_type, target.value_type
        )
    families = (
        (
            pa.types.is_string,
            lambda k: pa.types.is_string(k) or pa.types.is_large_string(k) or pa.types.is_string_view(k),
        ),
        (
            pa.types.is_binary,
            lambda k: pa.types.is_binary(k) or pa.types.is_large_binary(k) or pa.types.is_binary_view(k),
        ),
        (pa.types.is_floating, lambda k: pa.types.is_floating(k) or pa.types.is_integer(k)),
        (pa.types.is_timestamp, pa.types.is_timestamp),
        (pa.types.is_boolean, pa.types.is_boolean),
    )
    return any(is_target(target) and accepts(kind) for is_target, accepts in families)
