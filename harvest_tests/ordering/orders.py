"""Order requests and quotes for ledger tests."""

from __future__ import annotations

from decimal import Decimal

from harvest.ordering.model import OrderRequest, Quote, Unit

SQUARE = {"type": "Polygon", "coordinates": [[[10.0, 50.0], [10.1, 50.0], [10.1, 50.1], [10.0, 50.1], [10.0, 50.0]]]}
AUTO = "auto: under 500 EUR threshold"
ALICE = "person: alice via cli"


def request(scene: str = "scene-1", aoi: str = "aoi-a", provider: str = "oneatlas", **options: object) -> OrderRequest:
    """A request for `scene` over `aoi`."""
    return OrderRequest.build(provider, scene, aoi, SQUARE, options or {"product": "PS"})


def quote(order: OrderRequest, amount: str = "120.50", unit: Unit = Unit.EUR) -> Quote:
    """A quote for `order`."""
    return Quote(order.key, Decimal(amount), unit, area_km2=25.0, reference=None, raw={"price": amount})
