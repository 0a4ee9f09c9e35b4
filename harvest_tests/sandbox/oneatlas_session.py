"""A bare OneAtlas session for sandbox tests: a token and the five hosts, nothing clever."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from harvest.providers.sandbox_endpoints import ONEATLAS_API_KEY
from harvest.sandbox.server import RunningSandbox

TOKEN_PATH = "/oneatlas/auth/auth/realms/IDP/protocol/openid-connect/token"


def fetch_token(sandbox: RunningSandbox, api_key: str = ONEATLAS_API_KEY) -> httpx.Response:
    return httpx.post(
        sandbox.url + TOKEN_PATH,
        data={"apikey": api_key, "grant_type": "api_key", "client_id": "IDP"},
        timeout=10,
    )


@dataclass
class OneAtlasSession:
    """Authenticated requests against one sandbox's OneAtlas hosts."""

    sandbox: RunningSandbox
    timeout: float = 10.0
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.sandbox.url, timeout=self.timeout)
        self.refresh()

    def refresh(self) -> None:
        response = fetch_token(self.sandbox)
        response.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def search(self, **params: Any) -> httpx.Response:
        return self.client.post("/oneatlas/search/api/v2/opensearch", json=params)

    def search_ok(self, **params: Any) -> dict[str, Any]:
        response = self.search(**params)
        assert response.status_code == 200, response.text
        return response.json()

    def all_features(self, page_size: int = 500, **params: Any) -> list[dict[str, Any]]:
        """Every feature of a query of at most 10,000 results, page by page."""
        features: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.search_ok(itemsPerPage=page_size, startPage=page, **params)
            features.extend(body["features"])
            if len(features) >= body["totalResults"] or not body["features"]:
                return features
            page += 1
