"""Arlula: archive search (current API, or the 2020-12 API of seed 004), ordering, orders and downloads.

Search has no paging: one request answers everything for its dates and area, so long periods are
searched in slices of `days_per_search`. Money is integer US cents; every success is HTTP 200.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import orjson
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from harvest.providers.auth import BasicAuth
from harvest.providers.http import ProviderHttp, json_objects, session_for
from harvest.providers.paging import Listing, offset_pages
from harvest.providers.settings import ArlulaSettings

_FILENAME = re.compile(r'filename="([\w.\-]+)"')


@dataclass(frozen=True)
class Download:
    """Where a resource's bytes are (a presigned storage URL, fetched without credentials), and its name."""

    url: str
    filename: str | None

    @classmethod
    def from_redirect(cls, response: httpx.Response) -> Download:
        """The storage URL (Location) and file name (Content-Disposition on the redirect itself) of a data redirect."""
        match = _FILENAME.search(response.headers.get("content-disposition", ""))
        location = response.request.url.join(response.headers["location"])
        return cls(url=str(location), filename=match.group(1) if match else None)


def _ring(geometry: BaseGeometry) -> list[list[list[float]]]:
    """The outer ring of a Polygon, or of a MultiPolygon's largest part (the current API takes one ring)."""
    parts = [part for part in shapely.get_parts(geometry) if isinstance(part, Polygon)]
    polygon = max(parts, key=lambda part: part.area)
    return [[[x, y] for x, y in polygon.exterior.coords]]


class ArlulaClient:
    """Talks to Arlula with HTTP Basic auth through one shared, retrying session."""

    def __init__(
        self,
        settings: ArlulaSettings,
        *,
        http: ProviderHttp | None = None,
        requests_per_s: float | None = 10.0,
        days_per_search: int = 31,
    ) -> None:
        self.settings = settings
        self.days_per_search = days_per_search
        auth = BasicAuth(settings.api_key, settings.api_secret)
        self.http = http or session_for("Arlula", auth, settings, requests_per_s=requests_per_s)

    def close(self) -> None:
        self.http.close()

    def test(self) -> None:
        """GET /api/test: raises AuthenticationError when the key and secret are refused."""
        self.http.request("GET", f"{self.settings.url}/api/test")

    def search(
        self,
        *,
        start: date,
        end: date,
        geometry: BaseGeometry,
        gsd: float = 1000.0,
        cloud: float = 100.0,
        off_nadir: float | None = None,
        suppliers: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Archive scenes captured from `start` to `end` (whole UTC days, inclusive) over `geometry`."""
        results: list[dict[str, Any]] = []
        first = start
        while first <= end:
            last = min(end, first + timedelta(days=self.days_per_search - 1))
            results.extend(self._search_once(first, last, geometry, gsd, cloud, off_nadir, suppliers))
            first = last + timedelta(days=1)
        return results

    def _search_once(
        self,
        start: date,
        end: date,
        geometry: BaseGeometry,
        gsd: float,
        cloud: float,
        off_nadir: float | None,
        suppliers: Sequence[str],
    ) -> list[dict[str, Any]]:
        if self.settings.api_version == "2020-12":
            minx, miny, maxx, maxy = geometry.bounds
            params = {"start": start.isoformat(), "end": end.isoformat(), "res": gsd,
                      "north": maxy, "south": miny, "east": maxx, "west": minx}  # fmt: skip
            response = self.http.request("GET", f"{self.settings.url}/api/search", params=params)
            return json_objects("Arlula", orjson.loads(response.content), "the 2020-12 search answer")
        body: dict[str, Any] = {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "gsd": gsd,
            "cloud": cloud,
            "polygon": _ring(geometry),
        }
        if off_nadir is not None:
            body["offNadir"] = off_nadir
        if suppliers:
            body["supplier"] = " ".join(suppliers)
        response = self.http.request("POST", f"{self.settings.url}/api/archive/search", json=body, idempotent=True)
        data = orjson.loads(response.content)
        return data if isinstance(data, list) else data.get("results") or []  # old SDKs saw a bare list

    def order(
        self,
        ordering_id: str,
        *,
        eula: str,
        bundle_key: str,
        webhooks: Iterable[str] = (),
        emails: Iterable[str] = (),
    ) -> dict[str, Any]:
        """POST /api/archive/order: buys the scene for the AOI bound in `ordering_id`; never re-sent blindly."""
        body = {
            "id": ordering_id,
            "eula": eula,
            "bundleKey": bundle_key,
            "webhooks": list(webhooks),
            "emails": list(emails),
        }
        return self.http.request_json("POST", f"{self.settings.url}/api/archive/order", json=body)

    def orders(self, *, page_size: int = 50) -> Iterator[dict[str, Any]]:
        """Every order, newest first (0-based page paging, `{content, page, length, count}`)."""
        return self._listing("/api/orders", page_size)

    def datasets(self, *, page_size: int = 50) -> Iterator[dict[str, Any]]:
        """Every dataset (one ordered scene each: sceneID, orderingID, bundle, order), newest first."""
        return self._listing("/api/datasets", page_size)

    def _listing(self, path: str, page_size: int) -> Iterator[dict[str, Any]]:
        """The entries of a 2024-07 list endpoint, page after page, each page checked against its
        request (`page`, `length`) and the total `count` (see `paging.offset_pages`)."""
        url = f"{self.settings.url}{path}"

        def fetch(page: int) -> Mapping[str, Any]:
            return self.http.request_json("GET", url, params={"page": page, "size": page_size})

        for page in offset_pages(
            fetch, items_of=lambda p: p.get("content") or [], page_size=page_size, start=0, step=1,
            total_of=lambda p: p.get("count"), confirm_end=True,
            listing=Listing("Arlula", "GET", url, "page", "length"), key_of=lambda entry: entry.get("id"),
            position_of=lambda p: p.get("page"), size_of=lambda p: p.get("length"),
        ):  # fmt: skip
            yield from page.get("content") or []

    def order_detail(self, order_id: str) -> dict[str, Any]:
        """GET /api/order/{id}: the order with its datasets."""
        return self.http.request_json("GET", f"{self.settings.url}/api/order/{order_id}")

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        """GET /api/dataset/{id}: a dataset with its resources (name, size, checksum)."""
        return self.http.request_json("GET", f"{self.settings.url}/api/dataset/{dataset_id}")
