"""Order desk test helpers: order requests for real sandbox scenes, faults, hasty clients and downloads."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from harvest.aois import load_aois
from harvest.delivery.deliverable import Deliverable
from harvest.harvesting.sources import Window
from harvest.ordering.desks.base import ClientDesk
from harvest.ordering.model import OrderRequest
from harvest.providers.http import ProviderHttp
from harvest.registry import open_source
from harvest.sandbox.server import RunningSandbox

TOULOUSE = load_aois().by_id()["toulouse"]
SEPTEMBER = Window(datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))


def catalog_rows(sandbox: RunningSandbox, provider: str) -> list[dict[str, Any]]:
    """The sandbox's scenes of `provider` over Toulouse in September 2026, as the catalog rows them."""
    source = open_source(provider, sandbox.env())
    try:
        table = source.scenes([TOULOUSE], SEPTEMBER)
    finally:
        source.close()
    return table.select(["scene_id", "constellation", "acquired"]).to_pylist()


def order_request(
    sandbox: RunningSandbox, provider: str, constellation: str | None = None, index: int = 0, **options: Any
) -> OrderRequest:
    """A request for the `index`-th catalog scene of `provider` (of `constellation`, if given) over Toulouse."""
    rows = [r for r in catalog_rows(sandbox, provider) if constellation in (None, r["constellation"])]
    row = rows[index]
    return OrderRequest.build(
        provider,
        row["scene_id"],
        TOULOUSE.id,
        TOULOUSE.geojson(),
        options,
        acquired=row["acquired"].to_pydatetime(),
        constellation=row["constellation"],
    )


def set_faults(sandbox: RunningSandbox, spec: str) -> None:
    """Replace the sandbox's fault rules (e.g. "order_timeout=1:0.5s@arlula")."""
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"spec": spec}, timeout=10).raise_for_status()


def hasty(desk: ClientDesk[Any], read_timeout: float = 0.2, sleep: Callable[[float], None] = time.sleep) -> Any:
    """The same desk, account and token, but giving up on an answer after `read_timeout` (retry pauses: `sleep`)."""
    old = desk.client
    http = ProviderHttp(
        old.http.provider,
        auth=old.http.auth,
        origins=old.http.origins,
        limits=old.http.limits,
        retry=old.http.retry,
        timeout=httpx.Timeout(10.0, read=read_timeout),
        sleep=sleep,
    )
    clone = copy.copy(desk)
    clone.client = type(old)(old.settings, http=http)
    return clone


def download(desk: ClientDesk[Any], deliverable: Deliverable) -> bytes:
    """A deliverable's bytes, with the desk's credentials, following a redirect to presigned storage without them."""
    response = desk.client.http.request(
        "GET", deliverable.url, expected=(200, 302), authenticate=deliverable.authenticated
    )
    if response.status_code == 302:
        response = httpx.get(response.headers["location"], timeout=30)
        response.raise_for_status()
    return response.content
