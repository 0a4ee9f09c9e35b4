"""Airbus OneAtlas, as five hosts: authentication, search, data.api, order.api and image access."""

from __future__ import annotations

import numpy as np

from harvest.providers.sandbox_endpoints import ONEATLAS_PREFIXES
from harvest.sandbox.core import ProviderMount, Sandbox
from harvest.sandbox.oneatlas import access, auth, data_api, order_api, search
from harvest.sandbox.oneatlas.errors import fault_api_error, fault_order_api_error


def mounts(sandbox: Sandbox) -> list[ProviderMount]:
    """Each OneAtlas host under its own prefix and fault group."""
    del sandbox
    return [
        ProviderMount(ONEATLAS_PREFIXES["auth"], "oneatlas.auth", auth.routes(), fault_api_error),
        ProviderMount(ONEATLAS_PREFIXES["search"], "oneatlas.search", search.routes(), fault_api_error),
        ProviderMount(ONEATLAS_PREFIXES["data"], "oneatlas.data", data_api.routes(), fault_api_error),
        ProviderMount(ONEATLAS_PREFIXES["order"], "oneatlas.order", order_api.routes(), fault_order_api_error),
        ProviderMount(ONEATLAS_PREFIXES["access"], "oneatlas.access", access.routes(), fault_api_error),
    ]


def truth_ids(sandbox: Sandbox, world_rows: np.ndarray) -> list[str]:
    """The catalog item id a search result carries for each world row."""
    return sandbox.world.item_ids.encode_many(sandbox.world.acq.key[world_rows])
