"""Deliverables described by the provider's own answer to a HEAD request: size, and md5 where it is sent."""

from __future__ import annotations

import contextlib

from harvest.delivery.deliverable import Deliverable
from harvest.providers.http import ProviderHttp

CHECKSUM_METHOD = "x-ads-checksum-method"  # OneAtlas downloads: "md5"
CHECKSUM_VALUE = "x-ads-checksum-value"


def probed(http: ProviderHttp, url: str, filename: str) -> Deliverable:
    """The file at `url`, with the size (Content-Length) and md5 (OneAtlas X-Ads-Checksum-*) a HEAD reports."""
    headers = http.request("HEAD", url).headers
    size = None
    with contextlib.suppress(TypeError, ValueError):
        size = int(headers.get("content-length", ""))
    md5 = None
    if headers.get(CHECKSUM_METHOD, "").lower() == "md5" and headers.get(CHECKSUM_VALUE):
        md5 = headers[CHECKSUM_VALUE].strip().lower()
    return Deliverable(url=url, filename=filename, size=size, md5=md5)
