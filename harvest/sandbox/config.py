"""Everything a sandbox is started with."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SandboxConfig:
    """Knobs of the simulated providers; the defaults are what `harvest sandbox serve` uses."""

    seed: int = 0
    density: float = 1.0
    state_dir: Path = field(default_factory=lambda: Path("data") / "sandbox")
    aois_path: Path | None = None
    faults: str = ""
    clock: str = "real"
    public_url: str | None = None  # base URL written into links; defaults to http://host:port
    visibility_delay_s: float = 5.0
    token_lifetime_s: float = 3600.0  # OneAtlas and Sentinel Hub `expires_in`
    range_end_semantics: str = "iso"  # "iso": `b[` excludes b; "as_documented": `b[` includes b
    # delivered products (every provider)
    product_size_bytes: int = 2 * 1024 * 1024
    download_bandwidth_bytes_per_s: float | None = None  # pace each delivered-file body to this; None: unthrottled
    # --- OneAtlas ---
    oneatlas_delivery_s: float = 120.0  # order placed -> delivered
    oneatlas_balance_credits: int = 250_000  # data.api contract balance
    oneatlas_credit_eur: float = 50_000.0  # order.api contract creditRemaining
    # --- Arlula ---
    arlula_stage_s: float = 60.0  # time spent in each of pending, processing, post-processing
    arlula_expiry_days: float = 30.0  # completed data stays downloadable this long
    arlula_link_lifetime_s: float = 3600.0  # presigned storage URLs from /api/resource/{id}/data
    arlula_storage_refuses_auth: bool = False  # True: storage answers 400 to any Authorization header
    # --- Sentinel Hub ---
    tpdi_stage_s: float = 60.0  # time spent in each delivery status
    tpdi_quota_sqkm: float = 5_000.0  # per collection
    tpdi_search_max_count: int = 50
    # an order is billed at least this area (undocumented, so a knob: docs/providers.md#sentinel-hub-tpdi-orders)
    tpdi_min_order_sqkm: float = 0.25
    tpdi_failure_rate: float = 0.0  # share of deliveries that fail (DELIVERY_FAILED, NON_INGESTIBLE, IMPORT_FAILED)
    tpdi_archive_stage_s: float = 10.0  # time a zip archive spends in WAITING, then in PREPARING


BANDWIDTH_HELP = (
    "Pace every delivered-file body to this many bytes per second, per response: a number with an optional "
    "unit B, kB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024), e.g. 100MB or 1GB "
    "[default: unthrottled]."
)
_BANDWIDTH_UNITS = {"": 1, "B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9,
                    "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}  # fmt: skip
_BANDWIDTH = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)(?:/s)?\s*$")


def parse_bandwidth(text: str) -> float:
    """Bytes per second from a --download-bandwidth value such as `100MB`, `1GB` or `250000` (see BANDWIDTH_HELP)."""
    match = _BANDWIDTH.match(text)
    unit = match.group(2) if match else ""
    if match is None or unit not in _BANDWIDTH_UNITS:
        units = ", ".join(u for u in _BANDWIDTH_UNITS if u)
        raise ValueError(f"{text!r} is not a bandwidth: give bytes per second as a number with an optional unit "
                         f"({units}), e.g. 100MB")  # fmt: skip
    rate = float(match.group(1)) * _BANDWIDTH_UNITS[unit]
    if rate <= 0:
        raise ValueError(f"{text!r} is not a bandwidth: it must be more than 0 bytes per second, e.g. 100MB")
    return rate
