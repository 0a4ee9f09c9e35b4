"""Which database the ledger lives in: HARVEST_DATABASE_URL, else $HARVEST_DATA_DIR/ledger.sqlite."""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from harvest.ordering.ledger.errors import LedgerUrlError
from harvest.paths import data_dir

URL_VARIABLE = "HARVEST_DATABASE_URL"
FILENAME = "ledger.sqlite"
EXAMPLES = "sqlite:///path/to/ledger.sqlite or postgresql://user:password@host:5432/database"


def url_from_env(env: Mapping[str, str] | None = None) -> str:
    """HARVEST_DATABASE_URL, or a SQLite file `ledger.sqlite` under HARVEST_DATA_DIR (default ./data)."""
    env = os.environ if env is None else env
    configured = env.get(URL_VARIABLE, "").strip()
    if configured:
        return configured
    return f"sqlite:///{(data_dir(env) / FILENAME).absolute()}"


def database_url(url: str) -> URL:
    """A URL SQLAlchemy can open: `postgresql://` gets the psycopg 3 driver; anything else is refused."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # never echo the text: it may hold a password
        raise LedgerUrlError(f"the ledger's database URL cannot be parsed; write it as {EXAMPLES}") from None
    shown = display(parsed)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        raise LedgerUrlError(
            f"database URL {shown}: the ledger uses the psycopg 3 driver; write postgresql://… "
            f"instead of {parsed.drivername}://…"
        )
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
            raise LedgerUrlError(
                f"database URL {shown}: the ledger needs a SQLite file that outlives the process; "
                "write sqlite:///path/to/ledger.sqlite"
            )
        return parsed
    raise LedgerUrlError(f"database URL {shown}: the ledger runs on SQLite or PostgreSQL; write it as {EXAMPLES}")


def display(url: URL) -> str:
    """The URL with its password masked."""
    return url.render_as_string(hide_password=True)
