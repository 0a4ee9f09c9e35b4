"""Where the built-in sandbox plays each provider, and the demo credentials it accepts.

The clients own this table: `harvest sandbox serve` mounts each provider under these path prefixes
of its base URL and accepts these published demo credentials, so settings without credentials
point here, and the simulator imports the table from the clients (never the other way round).
"""

from __future__ import annotations

DEFAULT_SANDBOX_URL = "http://127.0.0.1:8765"
SANDBOX_URL_VARIABLE = "HARVEST_SANDBOX_URL"

# path prefixes under the sandbox's base URL, one per provider host
ONEATLAS_PREFIXES = {
    "auth": "/oneatlas/auth",
    "search": "/oneatlas/search",
    "data": "/oneatlas/data",
    "order": "/oneatlas/order",
    "access": "/oneatlas/access",
}
ARLULA_PREFIX = "/arlula"
SENTINELHUB_PREFIX = "/sentinelhub"

# the demo credentials the sandbox accepts (anything else gets the provider's own authentication error)
ONEATLAS_API_KEY = "sandbox-oneatlas-key"
ARLULA_API_KEY = "sandbox-arlula-key"
ARLULA_API_SECRET = "sandbox-arlula-secret"  # noqa: S105 - the sandbox's published demo secret
SENTINELHUB_CLIENT_ID = "sandbox-sh-client"
SENTINELHUB_CLIENT_SECRET = "sandbox-sh-secret"  # noqa: S105 - the sandbox's published demo secret


def client_environment(base_url: str) -> dict[str, str]:
    """The environment variables that point harvest's clients (or any client) at a sandbox at `base_url`."""
    base = base_url.rstrip("/")
    return {
        "ONEATLAS_API_KEY": ONEATLAS_API_KEY,
        **{f"ONEATLAS_{host.upper()}_URL": base + prefix for host, prefix in ONEATLAS_PREFIXES.items()},
        "ARLULA_API_KEY": ARLULA_API_KEY,
        "ARLULA_API_SECRET": ARLULA_API_SECRET,
        "ARLULA_URL": base + ARLULA_PREFIX,
        "SENTINELHUB_CLIENT_ID": SENTINELHUB_CLIENT_ID,
        "SENTINELHUB_CLIENT_SECRET": SENTINELHUB_CLIENT_SECRET,
        "SENTINELHUB_URL": base + SENTINELHUB_PREFIX,
        "SENTINELHUB_AUTH_URL": base + SENTINELHUB_PREFIX,
    }
