"""The sandbox's persistent state: orders, quotas, balances and deliveries in one SQLite file.

Everything else (the catalog, order progress) is derived from the seed and the clock, so this file
is all a restarted sandbox needs to carry on where it stopped.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (collection, id)
);
CREATE INDEX IF NOT EXISTS documents_by_time ON documents (collection, created_ns);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


class SandboxState:
    """A small document store: collections of JSON documents keyed by id, plus counters."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self.revision = 0  # bumps on every write: derived caches key on it

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, collection: str, doc_id: str, body: dict[str, Any], created_ns: int) -> None:
        """Insert or replace a document."""
        with self._lock:
            self._db.execute(
                "INSERT INTO documents (collection, id, created_ns, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body",
                (collection, doc_id, created_ns, orjson.dumps(body)),
            )
            self.revision += 1

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM documents WHERE collection = ? AND id = ?", (collection, doc_id)
            ).fetchone()
        return None if row is None else orjson.loads(row[0])

    def delete(self, collection: str, doc_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM documents WHERE collection = ? AND id = ?", (collection, doc_id))
            self.revision += 1
            return cursor.rowcount > 0

    def all(self, collection: str) -> list[dict[str, Any]]:
        """Every document of a collection, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM documents WHERE collection = ? ORDER BY created_ns, rowid", (collection,)
            ).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def iter_all(self, collection: str) -> Iterator[dict[str, Any]]:
        yield from self.all(collection)

    def count(self, collection: str) -> int:
        with self._lock:
            return int(
                self._db.execute("SELECT COUNT(*) FROM documents WHERE collection = ?", (collection,)).fetchone()[0]
            )

    def next_counter(self, name: str, start: int = 1) -> int:
        """A persistent sequence (e.g. for SAL order numbers)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (name, start),
            )
            return int(self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def get_meta(self, key: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, orjson.dumps(value)),
            )
