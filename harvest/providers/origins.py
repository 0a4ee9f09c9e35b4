"""Origins (scheme, host, port) of URLs: where a provider's credentials may be sent, and nowhere else."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: httpx.URL | str) -> str:
    """`scheme://host[:port]` of an absolute URL, lower-cased, the port shown only when not the scheme's default."""
    parsed = httpx.URL(str(url))
    scheme = parsed.scheme.lower()
    port = parsed.port if parsed.port not in (None, DEFAULT_PORTS.get(scheme)) else None
    return f"{scheme}://{parsed.host.lower()}" + (f":{port}" if port is not None else "")


def origins_of(urls: Iterable[str]) -> frozenset[str]:
    """The origins of some base URLs (a provider's configured hosts)."""
    return frozenset(origin_of(url) for url in urls)
