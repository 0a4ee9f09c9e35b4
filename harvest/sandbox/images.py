"""Quicklooks and thumbnails: small real JPEGs whose cloudiness follows the scene's cloud cover."""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image


@lru_cache(maxsize=512)
def preview_jpeg(key: int, cloud_percent: float, width: int) -> bytes:
    """A deterministic landscape-looking JPEG, `width` pixels wide, with clouds over ~cloud_percent."""
    width = max(16, min(int(width), 1024))
    height = width
    rng = np.random.default_rng(key & 0xFFFFFFFFFFFF)
    y, x = np.mgrid[0:height, 0:width] / width
    terrain = (
        np.sin(x * rng.uniform(4, 12) + rng.uniform(0, 6)) + np.cos(y * rng.uniform(4, 12) + rng.uniform(0, 6))
    ) * 0.25 + 0.5
    rgb = np.stack([terrain * 90 + 40, terrain * 120 + 60, terrain * 70 + 30], axis=-1)
    rgb += rng.normal(0, 6, rgb.shape)
    field = sum(
        np.exp(-(((x - cx) ** 2 + (y - cy) ** 2) / (2 * r**2)))
        for cx, cy, r in rng.uniform([0, 0, 0.05], [1, 1, 0.25], size=(12, 3))
    )
    threshold = np.quantile(field, 1 - min(max(cloud_percent, 0.0), 100.0) / 100.0) if cloud_percent > 0 else np.inf
    clouds = field >= threshold
    rgb[clouds] = 235 + rng.normal(0, 8, (int(clouds.sum()), 3))
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()
