"""A tiny in-memory OneAtlas opensearch behind httpx.MockTransport, for edge cases the sandbox makes rare.

It implements just what the window walk relies on: ranges with inclusive/exclusive starts and open
ends on lastUpdateDate and acquisitionDate, equality, ascending sort, 1-based pages of at most 500,
and the 10,000-result window with totalResults saturating.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import httpx
import orjson

from harvest.timestamps import parse_ns as _parse_ns

WINDOW = 10_000
_SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
parse_ns = lru_cache(maxsize=None)(_parse_ns)


@dataclass
class FakeOpenSearch:
    """Items as {id, lastUpdateDate, acquisitionDate}; counts the searches it answered."""

    items: list[dict[str, str]]
    searches: int = 0
    pages: list[tuple[int, int]] = field(default_factory=list)

    def _matches(self, item: dict[str, str], name: str, expression: str) -> bool:
        value = parse_ns(item[name])
        if "," not in expression and expression[:1] not in "[]":
            return value == parse_ns(expression)
        low, _, high = expression.partition(",")
        if low[:1] in "[]" and low[1:]:
            bound = parse_ns(low[1:])
            if value < bound or (low[0] == "]" and value == bound):
                return False
        if high:
            bound = parse_ns(high.rstrip("[]"))
            if value > bound or (high.endswith("[") and value == bound):
                return False
        return True

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "a.b.c", "expires_in": 3600, "token_type": "bearer"})
        body = orjson.loads(request.content)
        self.searches += 1
        hits = [
            item
            for item in self.items
            if all(
                self._matches(item, name, body[name]) for name in ("lastUpdateDate", "acquisitionDate") if name in body
            )
        ]
        field_name = body.get("sortBy", "lastUpdateDate").lstrip("+")
        hits.sort(key=lambda item: (parse_ns(item[field_name]), item["id"]))
        size, page = int(body["itemsPerPage"]), int(body["startPage"])
        start = (page - 1) * size
        if start + size > WINDOW:
            return httpx.Response(400, json={"message": "Result window is too large"})
        self.pages.append((page, size))
        features = [
            {"type": "Feature", "geometry": _SQUARE, "properties": {**item}} for item in hits[start : start + size]
        ]
        return httpx.Response(
            200,
            json={
                "totalResults": min(len(hits), WINDOW),
                "startIndex": start,
                "itemsPerPage": size,
                "features": features,
            },
        )
