"""Arlula, as two hosts: the API (https://api.arlula.com) and the storage its downloads redirect to.

Both the current API (archive search and orders, 2024-07 shapes, docs/providers.md#arlula) and the
2020-12 endpoints of seed 004 are served, over the same persistent orders.
"""

from __future__ import annotations

import numpy as np
from starlette.routing import Route

from harvest.providers.sandbox_endpoints import ARLULA_PREFIX
from harvest.sandbox.arlula import downloads, listing, ordering, public, search, webhooks
from harvest.sandbox.arlula.auth import api_test
from harvest.sandbox.arlula.errors import fault_error
from harvest.sandbox.arlula.scenes import scene_ids
from harvest.sandbox.core import ProviderMount, Sandbox

__all__ = ["mounts", "truth_ids"]


def truth_ids(sandbox: Sandbox, world_rows: np.ndarray) -> list[str]:
    """The `sceneID` an Arlula search result carries for each world row."""
    return scene_ids(sandbox.world, np.asarray(world_rows, dtype=np.int64))


def mounts(sandbox: Sandbox) -> list[ProviderMount]:
    """The Arlula hosts (storage first: it sits under the API's prefix) and the webhook deliverer."""
    sandbox.background.append(webhooks.deliverer(sandbox))
    api_routes = [
        Route("/api/test", api_test, methods=["GET"]),
        *search.routes(),
        *public.routes(),
        *listing.routes(),
        *ordering.routes(),
        *downloads.routes(),
    ]
    return [
        ProviderMount(
            downloads.STORAGE_PREFIX, "arlula.storage", downloads.storage_routes(), downloads.fault_storage_error
        ),
        ProviderMount(ARLULA_PREFIX, "arlula", api_routes, fault_error),
    ]
