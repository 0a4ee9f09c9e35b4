"""Upserting scenes into a catalog file by (provider, scene_id), and deleting some, as one atomic rewrite.

For each key the row with the newest `updated` survives: an incoming row beats an existing one of
the same `updated` (and a later incoming row an earlier one), and a null `updated` loses to any
value. Keys in `deletions` are then dropped, whichever side they came from. Duplicate keys already
in the file are resolved the same way, so the result always has one row per key.

Two passes keep memory bounded by the keys, not the rows: the first reads only (provider,
scene_id, updated) of the existing file, a row group at a time, and of the incoming data, and
picks a winner per key; the second streams both again into a CatalogWriter, keeping the winners.
Incoming data given as an iterator is spooled to a scratch file beside the target in between.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Unpack

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from harvest.catalog.atomic import scratch_directory
from harvest.catalog.schema import KEY, SCENE_SCHEMA
from harvest.catalog.validation import conform
from harvest.catalog.writer import CatalogWriter, DataLike, WriterOptions, WriteSummary

_KEY_COLUMNS = [*KEY, "updated"]
_EXISTING, _INCOMING = 0, 1
_SPOOL_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


@dataclass(frozen=True)
class UpsertSummary:
    """What an upsert changed."""

    rows_before: int
    rows_after: int
    inserted: int  # keys new to the file
    replaced: int  # keys whose row an incoming row replaced
    outdated: int  # keys where the file's row was newer than every incoming one, and stayed
    deleted: int  # keys removed from the file
    write: WriteSummary


def upsert_catalog(
    path: str | os.PathLike[str],
    incoming: DataLike | Iterable[DataLike] = (),
    *,
    deletions: Iterable[tuple[str, str]] | pa.Table = (),
    **options: Unpack[WriterOptions],
) -> UpsertSummary:
    """Merge `incoming` scenes into the catalog file at `path` (created if absent), drop `deletions`, atomically."""
    target = Path(path)
    with contextlib.ExitStack() as stack:
        existing = stack.enter_context(pq.ParquetFile(target)) if target.exists() else None
        source = _IncomingSource(incoming, lambda: stack.enter_context(scratch_directory(target)))
        keys = _Keys()
        if existing is not None:
            for group in range(existing.num_row_groups):
                keys.add(existing.read_row_group(group, columns=_KEY_COLUMNS), _EXISTING)
        for table in source.first_pass():
            keys.add(table, _INCOMING)
        verdict = keys.decide(_deletion_table(deletions))

        with CatalogWriter(target, **options) as writer:
            offset = 0
            if existing is not None:
                for group in range(existing.num_row_groups):
                    table = existing.read_row_group(group, columns=SCENE_SCHEMA.names)
                    writer.write(table.filter(pa.array(verdict.keep[offset : offset + len(table)])))
                    offset += len(table)
            for table in source.second_pass():
                writer.write(table.filter(pa.array(verdict.keep[offset : offset + len(table)])))
                offset += len(table)
            written = writer.close()
    return UpsertSummary(
        rows_before=keys.existing_rows,
        rows_after=written.rows,
        inserted=verdict.inserted,
        replaced=verdict.replaced,
        outdated=verdict.outdated,
        deleted=verdict.deleted,
        write=written,
    )


@dataclass(frozen=True)
class _Verdict:
    keep: NDArray[np.bool_]  # per row, existing rows first, then incoming ones, in reading order
    inserted: int
    replaced: int
    outdated: int
    deleted: int


class _Keys:
    """(provider, scene_id, updated) of every row read, with where it came from and its position."""

    def __init__(self) -> None:
        self._pieces: list[pa.Table] = []
        self._rows = 0
        self.existing_rows = 0

    def add(self, table: pa.Table, origin: int) -> None:
        """Record the keys of a table read from the file or from the incoming data."""
        count = len(table)
        updated = pc.fill_null(pc.cast(table.column("updated"), pa.int64()), np.iinfo(np.int64).min)
        self._pieces.append(
            pa.table(
                {
                    "provider": table.column("provider"),
                    "scene_id": table.column("scene_id"),
                    "updated": updated,
                    "origin": pa.array(np.full(count, origin, dtype=np.int8)),
                    "row": pa.array(np.arange(self._rows, self._rows + count, dtype=np.int64)),
                }
            )
        )
        self._rows += count
        if origin == _EXISTING:
            self.existing_rows += count

    def decide(self, deletions: pa.Table) -> _Verdict:
        """Which rows survive: per key the newest `updated`, then incoming, then the later row; deleted keys none."""
        keep = np.zeros(self._rows, dtype=bool)
        if not self._rows:
            return _Verdict(keep, 0, 0, 0, 0)
        table = pa.concat_tables(self._pieces).combine_chunks()
        self._pieces = []
        order = [(name, "ascending") for name in ("provider", "scene_id", "updated", "origin", "row")]
        table = table.take(pc.sort_indices(table, sort_keys=order))
        provider, scene_id = table.column("provider"), table.column("scene_id")
        last = np.ones(len(table), dtype=bool)  # the last row of each key, the winner
        if len(table) > 1:
            same_provider = pc.equal(provider.slice(0, len(table) - 1), provider.slice(1)).to_numpy()
            same_scene = pc.equal(scene_id.slice(0, len(table) - 1), scene_id.slice(1)).to_numpy()
            last[:-1] = ~(same_provider & same_scene)
        ends = np.flatnonzero(last)
        starts = np.concatenate([[0], ends[:-1] + 1])
        origin = table.column("origin").to_numpy()
        had_existing = np.maximum.reduceat((origin == _EXISTING).astype(np.int8), starts) > 0
        had_incoming = np.maximum.reduceat((origin == _INCOMING).astype(np.int8), starts) > 0
        winners = table.take(pa.array(ends))
        deleted = _deleted(winners, deletions)
        incoming_won = origin[ends] == _INCOMING
        keep[winners.column("row").to_numpy()[~deleted]] = True
        return _Verdict(
            keep=keep,
            inserted=int((~had_existing & ~deleted).sum()),
            replaced=int((had_existing & incoming_won & ~deleted).sum()),
            outdated=int((had_existing & had_incoming & ~incoming_won & ~deleted).sum()),
            deleted=int((had_existing & deleted).sum()),
        )


def _deleted(winners: pa.Table, deletions: pa.Table) -> NDArray[np.bool_]:
    flags = np.zeros(len(winners), dtype=bool)
    if not len(deletions):
        return flags
    numbered = winners.select(list(KEY)).append_column("position", pa.array(np.arange(len(winners))))
    matched = numbered.join(deletions, keys=list(KEY), join_type="left semi")
    flags[matched.column("position").to_numpy()] = True
    return flags


def _deletion_table(deletions: Iterable[tuple[str, str]] | pa.Table) -> pa.Table:
    schema = pa.schema([SCENE_SCHEMA.field(name) for name in KEY])
    if isinstance(deletions, pa.Table):
        return deletions.select(list(KEY)).cast(schema)
    pairs = list(deletions)
    providers, scene_ids = [provider for provider, _ in pairs], [scene for _, scene in pairs]
    return pa.table([pa.array(providers, pa.string()), pa.array(scene_ids, pa.string())], schema=schema)


class _IncomingSource:
    """Incoming data, readable twice: kept as is when already in memory, otherwise spooled to a scratch file."""

    def __init__(self, incoming: DataLike | Iterable[DataLike], scratch: Callable[[], Path]) -> None:
        self._in_memory = isinstance(incoming, DataLike)
        self._incoming = incoming
        self._scratch = scratch
        self._spool: Path | None = None
        self._tables: list[pa.Table] = []

    def first_pass(self) -> Iterator[pa.Table]:
        """The incoming tables, conformed to SCENE_SCHEMA (and spooled when they come from an iterator)."""
        if self._in_memory:
            self._tables = [conform(self._incoming)]  # type: ignore[arg-type]
            yield from self._tables
            return
        writer = None
        self._spool = self._scratch() / "incoming.arrow"
        with pa.OSFile(str(self._spool), "wb") as sink:
            for item in self._incoming:  # type: ignore[union-attr]
                table = conform(item)
                if writer is None:
                    writer = pa.ipc.new_file(sink, SCENE_SCHEMA, options=_SPOOL_OPTIONS)
                writer.write_table(table)
                yield table
            if writer is not None:
                writer.close()

    def second_pass(self) -> Iterator[pa.Table]:
        """The same tables again, in the same order."""
        if self._in_memory:
            yield from self._tables
            return
        if self._spool is None or not self._spool.stat().st_size:
            return
        with pa.OSFile(str(self._spool), "rb") as source:
            reader = pa.ipc.open_file(source)
            for index in range(reader.num_record_batches):
                yield pa.Table.from_batches([reader.get_batch(index)])
