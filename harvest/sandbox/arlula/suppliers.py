"""The marketplace's suppliers: minimum orders, fulfilment, bundles, licenses and prices.

What Arlula documents of them: docs/providers.md#arlula-archive-search.

All money is integer US cents. A bundle costs a per-km² rate of its platform for the ordered (MOQ
enlarged) area; a license adds a percentage and an amount; the total is rounded up to a dollar.
"""

from __future__ import annotations

from dataclasses import dataclass

from harvest.sandbox.world.sensors import SENSORS


@dataclass(frozen=True)
class Band:
    """One spectral band, wavelengths in nanometres."""

    name: str
    id: str
    min: float
    max: float

    def json(self) -> dict[str, object]:
        """The search result's `bands[]` entry."""
        return {"name": self.name, "id": self.id, "min": self.min, "max": self.max}


@dataclass(frozen=True)
class Bundle:
    """A product level a scene can be bought at."""

    name: str
    key: str
    band_ids: tuple[str, ...] | None  # None: every band of the platform
    factor: float  # share of the platform's per-km² rate


@dataclass(frozen=True)
class License:
    """A license option and its loadings."""

    name: str
    slug: str  # "" for the supplier's standard EULA
    loading_percent: int
    loading_amount: int  # US cents

    def path(self, supplier: str) -> str:
        """The sandbox path of this license's EULA page (its `href` once made absolute)."""
        return f"/arlula/eula/{supplier}" + (f"/{self.slug}" if self.slug else "")


@dataclass(frozen=True)
class Supplier:
    """One supplier key of the marketplace."""

    key: str
    moq_km2: float  # minimum order quantity of an AOI order
    aoi_orders: bool  # False: only whole scenes are sold (NAOI)
    fulfillment_h: float  # advertised `fulfillmentTime`; 0 is instant
    public: bool  # public data never expires
    bundles: tuple[Bundle, ...]
    licenses: tuple[License, ...]

    def bundle(self, key: str) -> Bundle | None:
        """The bundle with this key, if the supplier sells it."""
        return next((b for b in self.bundles if b.key == key), None)


_COMMERCIAL_BUNDLES = (
    Bundle("Visual (pansharpened true colour)", "visual", ("R", "G", "B"), 1.0),
    Bundle("Analytic (panchromatic and multispectral)", "analytic", None, 1.2),
    Bundle("Panchromatic", "panchromatic", ("PAN",), 0.8),
)
_COMMERCIAL_LICENSES = (
    License("Standard", "", 0, 0),
    License("Multi-organisation", "multi-organisation", 50, 0),
    License("Media and publication", "media", 0, 25_000),
)

SUPPLIERS: dict[str, Supplier] = {
    "airbus": Supplier("airbus", 25.0, True, 24.0, False, _COMMERCIAL_BUNDLES, _COMMERCIAL_LICENSES),
    "siwei": Supplier("siwei", 25.0, True, 48.0, False, _COMMERCIAL_BUNDLES, _COMMERCIAL_LICENSES),
    "21at": Supplier("21at", 25.0, True, 48.0, False, _COMMERCIAL_BUNDLES, _COMMERCIAL_LICENSES),
    "landsat": Supplier(
        "landsat",
        0.0,
        False,
        0.0,
        True,
        (Bundle("Default (all bands)", "default", None, 0.0),),
        (License("Standard", "", 0, 0),),
    ),
}

# per constellation (SENSORS[...].constellation): archive price in US cents per km² of the ordered area
CENTS_PER_KM2: dict[str, int] = {
    "PHR": 1_000,
    "PNEO": 1_700,
    "SPOT": 300,
    "SuperView-1": 900,
    "TripleSat": 600,
    "Landsat": 0,
}

_PAN_MS = ("PAN", "B", "G", "R", "NIR")
_PAN_MS_NAMES = ("Panchromatic", "Blue", "Green", "Red", "Near infrared")


def _pan_ms(*ranges: tuple[float, float]) -> tuple[Band, ...]:
    return tuple(Band(n, i, lo, hi) for n, i, (lo, hi) in zip(_PAN_MS_NAMES, _PAN_MS, ranges, strict=True))


BANDS: dict[str, tuple[Band, ...]] = {
    "PHR": _pan_ms((480, 830), (450, 530), (510, 590), (620, 700), (775, 915)),
    "PNEO": (
        Band("Panchromatic", "PAN", 450, 800),
        Band("Deep blue", "DB", 400, 450),
        Band("Blue", "B", 450, 520),
        Band("Green", "G", 530, 590),
        Band("Red", "R", 620, 690),
        Band("Red edge", "RE", 700, 750),
        Band("Near infrared", "NIR", 770, 880),
    ),
    "SPOT": _pan_ms((450, 745), (450, 520), (530, 590), (625, 695), (760, 890)),
    "SuperView-1": _pan_ms((450, 890), (450, 520), (520, 590), (630, 690), (770, 890)),
    "TripleSat": _pan_ms((450, 650), (440, 510), (510, 590), (600, 670), (760, 910)),
    "Landsat": (
        Band("Coastal aerosol", "B1", 433, 453),
        Band("Blue", "B2", 450, 515),
        Band("Green", "B3", 525, 600),
        Band("Red", "B4", 630, 680),
        Band("Near infrared", "B5", 845, 885),
        Band("Short-wave infrared 1", "B6", 1560, 1660),
        Band("Short-wave infrared 2", "B7", 2100, 2300),
        Band("Panchromatic", "B8", 500, 680),
        Band("Cirrus", "B9", 1360, 1390),
    ),
}


def supplier_of(sensor: int) -> Supplier:
    """The supplier selling a sensor's acquisitions."""
    return SUPPLIERS[SENSORS[sensor].supplier]


def bundle_bands(constellation: str, bundle: Bundle) -> list[str]:
    """Band ids a bundle delivers for a constellation."""
    ids = [band.id for band in BANDS[constellation]]
    return ids if bundle.band_ids is None else [i for i in ids if i in bundle.band_ids]


def bundle_price(constellation: str, bundle: Bundle, area_km2: float) -> int:
    """A bundle's price in US cents for an ordered area."""
    return round(area_km2 * CENTS_PER_KM2[constellation] * bundle.factor)


def total_price(bundle_cents: int, license_: License) -> int:
    """ceil((bundle * (1 + percent/100) + amount) / 100) * 100, in exact integer arithmetic."""
    hundredths = bundle_cents * (100 + license_.loading_percent) + license_.loading_amount * 100
    return -(-hundredths // 10_000) * 100


def seat_license(supplier: Supplier, seats: int) -> License:
    """The license a 2020-12 order for `seats` seats buys: Standard for one, Multi-organisation beyond."""
    if seats > 1:
        multi = next((lic for lic in supplier.licenses if lic.slug == "multi-organisation"), None)
        if multi is not None:
            return multi
    return supplier.licenses[0]


def seat_pricing(supplier: Supplier, bundle_cents: int) -> tuple[int, list[dict[str, int]]]:
    """The 2020-12 `price`: a base for one seat and the `seats[]` ranges that cost more."""
    base = total_price(bundle_cents, supplier.licenses[0])
    multi = seat_license(supplier, 2)
    if multi is supplier.licenses[0]:
        return base, []
    extra = total_price(bundle_cents, multi) - base
    return base, [{"min": 1, "max": 1, "additional": 0}, {"min": 2, "max": 0, "additional": extra}]
