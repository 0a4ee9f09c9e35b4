"""Airbus OneAtlas, as five hosts: authentication, search, data.api, order.api and image access."""

from __future__ import annotations

from harvest.sandbox.app import ProviderMount, Sandbox
from harvest.sandbox.oneatlas import auth, search
from harvest.sandbox.oneatlas.errors import fault_api_error, fault_order_api_error


def mounts(sandbox: Sandbox) -> list[ProviderMount]:
    del sandbox
    return [
        ProviderMount("/oneatlas/auth", "oneatlas.auth", auth.routes(), fault_api_error),
        ProviderMount("/oneatlas/search", "oneatlas.search", search.routes(), fault_api_error),
    ]
