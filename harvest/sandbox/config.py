"""Everything a sandbox is started with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ONEATLAS_API_KEY = "sandbox-oneatlas-key"
ARLULA_API_KEY = "sandbox-arlula-key"
ARLULA_API_SECRET = "sandbox-arlula-secret"  # noqa: S105 - the sandbox's published demo secret
SENTINELHUB_CLIENT_ID = "sandbox-sh-client"
SENTINELHUB_CLIENT_SECRET = "sandbox-sh-secret"  # noqa: S105 - the sandbox's published demo secret


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
    tpdi_min_order_sqkm: float = 0.25  # an order is billed at least this area (NOTES §3.3: unknown, a knob)
    tpdi_failure_rate: float = 0.0  # share of deliveries that fail (DELIVERY_FAILED, NON_INGESTIBLE, IMPORT_FAILED)
    tpdi_archive_stage_s: float = 10.0  # time a zip archive spends in WAITING, then in PREPARING
