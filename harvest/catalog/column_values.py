"""Python lists of Arrow columns that hold no nulls, typed as what they hold (checked, not assumed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeAlias, TypeVar, cast

import pyarrow as pa

Column: TypeAlias = "pa.Array[Any] | pa.ChunkedArray[Any]"
T = TypeVar("T")


def strings(column: Column) -> list[str]:
    """The values of a string column without nulls."""
    return _values(column, pa.types.is_string, "string", str)


def integers(column: Column) -> list[int]:
    """The values of an integer column without nulls (timestamps: cast to int64 first)."""
    return _values(column, pa.types.is_integer, "integer", int)


def datetimes(column: Column) -> list[datetime]:
    """The values of a timestamp column without nulls, as datetimes."""
    return _values(column, pa.types.is_timestamp, "timestamp", datetime)


def _values(column: Column, is_kind: Callable[[pa.DataType], bool], kind: str, _: type[T]) -> list[T]:
    if not is_kind(column.type):
        raise TypeError(f"expected a {kind} column, got {column.type}")
    if column.null_count:
        raise ValueError(f"expected a {kind} column without nulls, got {column.null_count} null(s)")
    return cast("list[T]", column.to_pylist())
