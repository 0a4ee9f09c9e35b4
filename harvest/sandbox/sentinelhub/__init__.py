"""Sentinel Hub (services.sentinel-hub.com): OAuth2, Third-Party Data Import of Airbus data, and the STAC catalog."""

from __future__ import annotations

import numpy as np

from harvest.providers.sandbox_endpoints import SENTINELHUB_PREFIX
from harvest.sandbox.core import ProviderMount, Sandbox
from harvest.sandbox.sentinelhub import archives, auth, catalog, deliveries, orders, quotas, search
from harvest.sandbox.sentinelhub.errors import fault_error
from harvest.sandbox.sentinelhub.s2_names import s2_names


def mounts(sandbox: Sandbox) -> list[ProviderMount]:
    """Token endpoints, TPDI and the catalog, each its own fault group; Retry-After in milliseconds."""
    del sandbox
    tpdi = [*search.routes(), *orders.routes(), *deliveries.routes(), *archives.routes(), *quotas.routes()]
    return [
        ProviderMount(auth.KEYCLOAK_PREFIX, "sentinelhub.auth", auth.keycloak_routes(), fault_error, True),
        ProviderMount(auth.LEGACY_PREFIX, "sentinelhub.auth", auth.legacy_routes(), fault_error, True),
        ProviderMount(f"{SENTINELHUB_PREFIX}/api/v1/dataimport", "sentinelhub.tpdi", tpdi, fault_error, True),
        ProviderMount(
            f"{SENTINELHUB_PREFIX}/api/v1/catalog", "sentinelhub.catalog", catalog.routes(), fault_error, True
        ),
    ]


def import_truth_ids(sandbox: Sandbox, world_rows: np.ndarray) -> list[str]:
    """The product id a TPDI search result carries for each world row (the OneAtlas item id)."""
    return sandbox.world.item_ids.encode_many(sandbox.world.acq.key[world_rows])


def catalog_truth_ids(sandbox: Sandbox, world_rows: np.ndarray) -> list[str]:
    """The STAC item id of each world row of the Sentinel-2 catalog."""
    return s2_names(sandbox.world, world_rows).ids
