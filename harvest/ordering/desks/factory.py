"""Each seller's order desk, configured from the environment (the sandbox without credentials), and `DeskSet`.

The provider registry (`harvest.registry`) names which opener each seller uses.

OneAtlas sells through two APIs (docs/providers.md#airbus-oneatlas) and an account buys through one of them:

- `ONEATLAS_ORDER_FLAVOUR=data` or `=order` chooses explicitly;
- otherwise data.api's `GET /api/v1/me` decides: a contract offering `order.data.product` is a
  Living Library contract, which buys through data.api (credits); any other contract, or none
  (403/404), buys through order.api (EUR).

The sandbox's account has a Living Library contract, so it orders through data.api unless told
otherwise. order.api sends order notifications to `ONEATLAS_NOTIFICATION_EMAIL` (required for a
live account). Arlula orders need its current API (not `ARLULA_API_VERSION=2020-12`). The Sentinel
Hub STAC catalog lists open data and sells nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from harvest.ordering.desks.arlula import ArlulaDesk
from harvest.ordering.desks.base import OrderDesk
from harvest.ordering.desks.oneatlas_data import KIND, DataApiDesk
from harvest.ordering.desks.oneatlas_order import OrderApiDesk
from harvest.ordering.desks.sentinelhub import SentinelHubImportDesk
from harvest.providers.arlula import ArlulaClient
from harvest.providers.errors import ConfigurationError, NotFound, PermissionDenied
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.sentinelhub import SentinelHubClient
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings, SentinelHubSettings

log = logging.getLogger(__name__)

FLAVOURS = ("data", "order")
FLAVOUR_VARIABLE = "ONEATLAS_ORDER_FLAVOUR"
EMAIL_VARIABLE = "ONEATLAS_NOTIFICATION_EMAIL"
SANDBOX_EMAIL = "orders@harvest-sandbox.invalid"


def oneatlas_flavour(client: OneAtlasClient, env: Mapping[str, str]) -> str:
    """The API to order through, "data" or "order": as the environment says, else as the `me` contract says."""
    chosen = env.get(FLAVOUR_VARIABLE, "").strip().lower()
    if chosen:
        if chosen not in FLAVOURS:
            raise ConfigurationError(f"{FLAVOUR_VARIABLE} must be one of {', '.join(FLAVOURS)}, got {chosen!r}")
        return chosen
    try:
        contract = client.me().get("contract") or {}
    except (NotFound, PermissionDenied):  # no data.api account at all
        return "order"
    return "data" if KIND in (contract.get("offers") or []) else "order"


def oneatlas_desk(env: Mapping[str, str], sandbox_url: str | None) -> OrderDesk:
    """OneAtlas's desk: data.api (credits) or order.api (EUR), as the account buys."""
    client = OneAtlasClient(OneAtlasSettings.from_env(env, sandbox_url))
    if oneatlas_flavour(client, env) == "data":
        return DataApiDesk(client)
    email = env.get(EMAIL_VARIABLE, "").strip() or (SANDBOX_EMAIL if client.settings.sandbox else "")
    if not email:
        client.close()
        raise ConfigurationError(f"OneAtlas order.api orders need {EMAIL_VARIABLE}: the address Airbus notifies")
    return OrderApiDesk(client, notification_email=email)


def arlula_desk(env: Mapping[str, str], sandbox_url: str | None) -> OrderDesk:
    """Arlula's desk, on its current API (the 2020-12 API searches only)."""
    settings = ArlulaSettings.from_env(env, sandbox_url)
    if settings.api_version != "current":
        raise ConfigurationError(
            f"Arlula ordering uses the current API (orders, datasets, resources); unset ARLULA_API_VERSION "
            f"(it is {settings.api_version!r})"
        )
    return ArlulaDesk(ArlulaClient(settings))


def sentinelhub_import_desk(env: Mapping[str, str], sandbox_url: str | None) -> OrderDesk:
    """Sentinel Hub's third-party import desk (Airbus products, paid in quota km²)."""
    return SentinelHubImportDesk(SentinelHubClient(SentinelHubSettings.from_env(env, sandbox_url)))


class DeskSet:
    """The desks one run uses, opened on first use (one per provider) and closed together."""

    def __init__(self, opener: Callable[[str], OrderDesk]) -> None:
        self._open = opener
        self._desks: dict[str, OrderDesk] = {}

    def __call__(self, provider: str) -> OrderDesk:
        if provider not in self._desks:
            self._desks[provider] = self._open(provider)
        return self._desks[provider]

    def close(self) -> None:
        for desk in self._desks.values():
            desk.close()
        self._desks.clear()

    def __enter__(self) -> DeskSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
