"""`orderingID`: an opaque, JWT-like token binding a scene to the area an order of it buys.

The payload names the world key of the scene, the ordered polygon (continuous longitudes, 1e-6°)
and its area, and is HMAC-signed with a key derived from the seed, so the same search always gives
the same id and a forged or edited id is refused (docs/providers.md#arlula-in-the-sandbox).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

import orjson
import shapely
from shapely.geometry import Polygon

_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class OrderingGrant:
    """What an orderingID entitles its holder to order."""

    scene_key: int
    rings: list[list[list[float]]]  # the ordered polygon, continuous longitudes
    area_km2: float  # its area, which prices the order
    whole_scene: bool

    def polygon(self) -> Polygon:
        """The ordered polygon as a shapely geometry."""
        return Polygon(self.rings[0], self.rings[1:])


def rings_of(polygon: Polygon) -> list[list[list[float]]]:
    """A polygon's exterior and interior rings as coordinate lists."""
    return [[list(point[:2]) for point in ring.coords] for ring in (polygon.exterior, *polygon.interiors)]


class OrderingCodec:
    """Signs and verifies orderingIDs for one sandbox seed."""

    def __init__(self, seed: int) -> None:
        self._key = hashlib.sha256(f"harvest-sandbox-arlula-ordering:{seed}".encode()).digest()

    def _sign(self, signed: str) -> str:
        return _b64(hmac.new(self._key, signed.encode(), hashlib.sha256).digest())

    def encode(self, grant: OrderingGrant) -> str:
        """The orderingID of a grant (deterministic)."""
        payload = _b64(
            orjson.dumps(
                {
                    "scn": grant.scene_key,
                    "aoi": grant.rings,
                    "km2": round(grant.area_km2, 6),
                    "whl": grant.whole_scene,
                }
            )
        )
        signed = f"{_HEADER}.{payload}"
        return f"{signed}.{self._sign(signed)}"

    def decode(self, token: object) -> OrderingGrant | None:
        """The grant of a valid orderingID, or None for anything this sandbox did not issue."""
        if not isinstance(token, str) or token.count(".") != 2:
            return None
        header, payload, signature = token.strip().split(".")
        if not hmac.compare_digest(self._sign(f"{header}.{payload}"), signature):
            return None
        try:
            claims = orjson.loads(_unb64(payload))
            grant = OrderingGrant(
                scene_key=int(claims["scn"]),
                rings=claims["aoi"],
                area_km2=float(claims["km2"]),
                whole_scene=bool(claims["whl"]),
            )
            valid = grant.polygon().is_valid
        except (KeyError, TypeError, ValueError, IndexError, binascii.Error, shapely.errors.ShapelyError):
            return None
        return grant if valid else None
