"""Sorting more rows than memory holds: sorted runs spilled to Arrow IPC files, then a streaming k-way merge.

Rows are buffered up to `buffer_rows`; a full buffer is sorted and spilled as one run, in record
batches of `batch_rows`. If nothing was spilled the buffer is sorted in memory (the fast path).
Otherwise the merge keeps one batch per run in memory: each step emits, from every run, the rows
up to the smallest last key among the runs' current batches, which empties at least one batch,
so memory stays at about `fan_in * batch_rows` rows. More runs than `fan_in` are first merged in
groups into longer runs. The sort keys must give a total order (end them with a unique column),
so the result is the same whichever path was taken.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from itertools import count
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

SortKeys = list[tuple[str, Literal["ascending", "descending"]]]

_SPILL_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


class ExternalSorter:
    """Accumulate Arrow tables, then hand them back as sorted tables in order, in bounded memory."""

    def __init__(
        self,
        sort_keys: Sequence[str],
        *,
        scratch: Callable[[], Path],
        buffer_rows: int,
        batch_rows: int,
        fan_in: int,
    ) -> None:
        if buffer_rows < 1 or batch_rows < 1 or fan_in < 2:
            raise ValueError("buffer_rows and batch_rows must be positive and fan_in at least 2")
        self._keys = tuple(sort_keys)
        self._order: SortKeys = [(key, "ascending") for key in self._keys]
        self._scratch = scratch
        self._buffer_rows = buffer_rows
        self._batch_rows = batch_rows
        self._fan_in = fan_in
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._runs: list[Path] = []
        self._names = count()
        self.spilled_runs = 0

    def add(self, table: pa.Table) -> None:
        """Take in rows; spills a sorted run whenever the buffer is full."""
        while len(table):
            room = self._buffer_rows - self._buffered
            self._buffer.append(table.slice(0, room))
            self._buffered += min(room, len(table))
            table = table.slice(room)
            if self._buffered >= self._buffer_rows:
                self._spill()

    def sorted_tables(self) -> Iterator[pa.Table]:
        """Every row added, as sorted tables in order; call once, after the last `add`."""
        if not self._runs:
            yield from self._sorted_buffer()
            return
        if self._buffered:
            self._spill()
        runs = self._runs
        while len(runs) > self._fan_in:
            group, runs = runs[: self._fan_in], runs[self._fan_in :]
            runs.append(self._write_run(_merge(group, self._keys, self._order)))
            for path in group:
                path.unlink()
        yield from _merge(runs, self._keys, self._order)

    def _sorted_buffer(self) -> Iterator[pa.Table]:
        """The buffer in order, a batch at a time, without ever copying the whole buffer."""
        if not self._buffered:
            return
        table = pa.concat_tables(self._buffer)
        self._buffer, self._buffered = [], 0
        order = pc.sort_indices(table, sort_keys=self._order).to_numpy().astype(np.int64)
        yield from _gather(table.to_batches(), order, self._batch_rows)

    def _spill(self) -> None:
        self._runs.append(self._write_run(self._sorted_buffer()))
        self.spilled_runs += 1

    def _write_run(self, tables: Iterator[pa.Table]) -> Path:
        path = self._scratch() / f"run-{next(self._names):06d}.arrow"
        writer = None
        with pa.OSFile(str(path), "wb") as sink:
            for table in tables:
                if writer is None:
                    writer = pa.ipc.new_file(sink, table.schema, options=_SPILL_OPTIONS)
                writer.write_table(table, max_chunksize=self._batch_rows)
            if writer is not None:
                writer.close()
        return path


class _Run:
    """A cursor over one sorted run: its current record batch, the batch's keys, and a position in it."""

    def __init__(self, path: Path, keys: Sequence[str]) -> None:
        self._file = pa.OSFile(str(path), "rb")
        self._reader = pa.ipc.open_file(self._file)
        self._keys = keys
        self._next_batch = 0
        self.table: pa.Table | None = None
        self.rows: list[tuple[Any, ...]] = []
        self.position = 0
        self._load()

    def _load(self) -> None:
        self.table, self.rows, self.position = None, [], 0
        while self._next_batch < self._reader.num_record_batches:
            batch = self._reader.get_batch(self._next_batch)
            self._next_batch += 1
            if batch.num_rows:
                self.table = pa.Table.from_batches([batch])
                self.rows = list(zip(*(batch.column(key).to_pylist() for key in self._keys), strict=True))
                return

    def take_through(self, bound: tuple[Any, ...]) -> pa.Table | None:
        """The rows of the current batch up to `bound` inclusive; loads the next batch once this one is used up."""
        assert self.table is not None
        end = bisect.bisect_right(self.rows, bound, lo=self.position)
        piece = self.table.slice(self.position, end - self.position) if end > self.position else None
        self.position = end
        if end == len(self.rows):
            self._load()
        return piece

    def close(self) -> None:
        """Release the run's file."""
        self._file.close()


def _gather(batches: list[pa.RecordBatch], order: NDArray[np.int64], batch_rows: int) -> Iterator[pa.Table]:
    """Rows of the batches (as one table) at positions `order`, `batch_rows` at a time.

    `take` on chunked data concatenates every chunk first, which would double the buffer in memory;
    this takes from each batch on its own and puts the pieces back in order.
    """
    starts = np.cumsum([0] + [len(batch) for batch in batches])
    for first in range(0, len(order), batch_rows):
        wanted = order[first : first + batch_rows]
        source = np.searchsorted(starts, wanted, side="right") - 1
        grouped = np.argsort(source, kind="stable")
        pieces = []
        for index in np.unique(source).tolist():
            local = wanted[grouped][source[grouped] == index] - starts[index]
            pieces.append(pa.Table.from_batches([batches[index].take(local)]))
        gathered = pa.concat_tables(pieces).combine_chunks()
        yield gathered.take(np.argsort(grouped))


def _merge(paths: Sequence[Path], keys: Sequence[str], order: SortKeys) -> Iterator[pa.Table]:
    runs = [_Run(path, keys) for path in paths]
    try:
        active = [run for run in runs if run.table is not None]
        while active:
            bound = min(run.rows[-1] for run in active)
            step = pa.concat_tables([piece for run in active if (piece := run.take_through(bound)) is not None])
            if step.column(0).num_chunks > 1:
                step = step.combine_chunks()
                step = step.take(pc.sort_indices(step, sort_keys=order))
            yield step
            del step  # hold nothing of this step while the runs move on
            active = [run for run in active if run.table is not None]
    finally:
        for run in runs:
            run.close()
