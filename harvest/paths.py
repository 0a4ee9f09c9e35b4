"""Where harvest keeps its files: one data directory, `HARVEST_DATA_DIR` (default ./data).

Imports nothing heavy: the CLI, the ledger and the Dagster resource all ask here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DATA_DIR_VARIABLE = "HARVEST_DATA_DIR"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """HARVEST_DATA_DIR, or ./data."""
    env = os.environ if env is None else env
    return Path(env.get(DATA_DIR_VARIABLE, "").strip() or "data")
