"""OneAtlas product options: one vocabulary (data.api's) for both ordering flavours, with defaults.

A request's options may set `productType`, `radiometricProcessing`, `imageFormat` and `crsCode`.
data.api takes them as they are (docs/providers.md#oneatlas-living-library-orders); order.api
takes them translated into its `optionsPerProductType` (docs/providers.md#oneatlas-pay-per-order-orders),
at processing level `primary` (the sensor geometry data.api delivers too), so `crsCode` has no
order.api counterpart and is not sent there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field

from harvest.ordering.desks.base import InvalidOrderOptions, StrictOptions, checked_options
from harvest.ordering.model import OrderRequest

ProductType = Literal["bundle", "pansharpened", "panchromatic", "multiSpectral", "bundle-fs", "pansharpened-fs"]
Radiometry = Literal["REFLECTANCE", "DISPLAY"]
ImageFormat = Literal["image/jp2", "image/geotiff"]


class OneAtlasOptions(StrictOptions):
    """OneAtlas product options, in the data.api vocabulary both ordering flavours are quoted with."""

    productType: ProductType = "bundle"  # the provider's own spellings
    radiometricProcessing: Radiometry = "REFLECTANCE"
    imageFormat: ImageFormat = "image/jp2"
    crsCode: Annotated[str, Field(pattern=r"^urn:ogc:def:crs:EPSG::\d+$")] = "urn:ogc:def:crs:EPSG::4326"

    hints: ClassVar[Mapping[str, str]] = {
        "productType": f"one of {', '.join(get_args(ProductType))}",
        "radiometricProcessing": f"one of {', '.join(get_args(Radiometry))}",
        "imageFormat": f"one of {', '.join(get_args(ImageFormat))}",
        "crsCode": "an EPSG CRS URN such as urn:ogc:def:crs:EPSG::4326",
    }


DEFAULTS: Mapping[str, str] = OneAtlasOptions.defaults()
# data.api value -> order.api option value
_SPECTRAL = {"bundle": "bundle", "pansharpened": "pansharpened", "panchromatic": "panchromatic",
             "multiSpectral": "multispectral", "bundle-fs": "full_bundle", "pansharpened-fs": "full_pms"}  # fmt: skip
_RADIOMETRIC = {"REFLECTANCE": "reflectance", "DISPLAY": "display"}
_FORMAT = {"image/jp2": "dimap_jpeg2000_regular", "image/geotiff": "dimap_geotiff"}


def _translated(name: str, value: str, table: Mapping[str, str]) -> str:
    if value not in table:
        raise InvalidOrderOptions(
            f"OneAtlas option {name}={value!r} has no order.api equivalent; use one of {', '.join(table)}"
        )
    return table[value]


@dataclass(frozen=True)
class ProductOptions:
    """The product a OneAtlas order asks for."""

    product_type: str
    radiometric_processing: str
    image_format: str
    crs_code: str

    @classmethod
    def of(cls, request: OrderRequest) -> ProductOptions:
        """The request's options over the defaults (an unknown option name is refused)."""
        options = checked_options(request, DEFAULTS)
        return cls(
            str(options["productType"]),
            str(options["radiometricProcessing"]),
            str(options["imageFormat"]),
            str(options["crsCode"]),
        )

    def data_api_product(self, item_id: str, aoi: Mapping[str, Any]) -> dict[str, Any]:
        """One entry of a data.api `products` list."""
        return {
            "productType": self.product_type,
            "radiometricProcessing": self.radiometric_processing,
            "imageFormat": self.image_format,
            "crsCode": self.crs_code,
            "id": item_id,
            "aoi": dict(aoi),
        }

    def order_api_options(self) -> list[dict[str, str]]:
        """The `options` of an order.api `optionsPerProductType` entry."""
        radiometric = _translated("radiometricProcessing", self.radiometric_processing, _RADIOMETRIC)
        chosen = {
            "spectral_processing": _translated("productType", self.product_type, _SPECTRAL),
            "radiometric_processing": radiometric,
            "image_format": _translated("imageFormat", self.image_format, _FORMAT),
            "pixel_coding": "8bits" if radiometric == "display" else "12bits",
            "processing_level": "primary",
            "priority": "standard",
            "licence": "standard",
        }
        return [{"key": key, "value": value} for key, value in chosen.items()]
