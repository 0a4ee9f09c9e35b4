"""The OneAtlas window walk: every item exactly once, past the 10,000 cap, however many share an instant."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from harvest.providers.auth import OneAtlasApiKeyAuth
from harvest.providers.http import ProviderHttp
from harvest.providers.oneatlas import OneAtlasClient, TieTooLarge
from harvest.providers.paging import InconsistentPage
from harvest.providers.secrets import Secret
from harvest.providers.settings import OneAtlasSettings
from harvest_tests.providers.fake_opensearch import FakeOpenSearch


def client_for(fake: FakeOpenSearch, page_size: int = 500) -> OneAtlasClient:
    settings = OneAtlasSettings(Secret("test-key-123"), auth_url="http://auth", search_url="http://search")
    http = ProviderHttp(
        "OneAtlas",
        auth=OneAtlasApiKeyAuth(settings.api_key, settings.token_url),
        origins=settings.origins,
        transport=httpx.MockTransport(fake.handle),
        sleep=lambda _: None,
    )
    return OneAtlasClient(settings, http=http, page_size=page_size, requests_per_s=None)


def stamp(second: int, nanos: int = 0) -> str:
    return f"2026-01-01T00:{second // 60:02d}:{second % 60:02d}.{nanos:09d}Z"


def items(groups: list[tuple[int, int]]) -> list[dict[str, str]]:
    """`count` items per update second, acquisition times spread over milliseconds."""
    out = []
    for second, count in groups:
        for n in range(count):
            out.append(
                {
                    "id": f"{second:04d}-{n:06d}",
                    "lastUpdateDate": stamp(second, 123456789),
                    "acquisitionDate": f"2025-06-01T00:00:{n // 1000 % 60:02d}.{n % 1000:03d}Z",
                }
            )
    return out


def walk_ids(client: OneAtlasClient, **kwargs: str) -> list[str]:
    return [item.id for item in client.walk({}, **kwargs)]


@pytest.mark.parametrize(
    ("groups", "page_size"),
    [
        ([], 500),  # empty result: one request, no features
        ([(1, 500)], 500),  # the last page exactly full
        ([(s, 7) for s in range(30)], 10),  # ties straddle every page boundary
        ([(1, 6_000), (2, 6_000)], 500),  # the cap falls inside the second tie group
        ([(1, 9_999), (2, 3)], 500),  # a window that ends one short of the cap
        ([(1, 10_000), (2, 1)], 500),  # exactly the cap, then one more
    ],
)
def test_every_item_exactly_once(groups: list[tuple[int, int]], page_size: int) -> None:
    fake = FakeOpenSearch(items(groups))
    seen = walk_ids(client_for(fake, page_size))
    assert Counter(seen) == Counter(item["id"] for item in fake.items)
    assert all(1 <= page <= 10_000 // size for page, size in fake.pages)


def test_an_instant_shared_by_more_than_ten_thousand_items_is_split_by_acquisition_time() -> None:
    fake = FakeOpenSearch(items([(1, 3), (2, 23_000), (3, 4)]))
    seen = walk_ids(client_for(fake))
    assert Counter(seen) == Counter(item["id"] for item in fake.items)
    assert len(seen) == 23_007


def test_since_is_inclusive_and_until_bounds_the_walk() -> None:
    fake = FakeOpenSearch(items([(1, 3), (2, 3), (3, 3)]))
    client = client_for(fake)
    assert len(walk_ids(client, since=stamp(2, 123456789))) == 6
    assert len(walk_ids(client, since=stamp(2, 123456789), until=stamp(2, 123456789))) == 3


def test_an_unsplittable_tie_is_reported_not_looped_on() -> None:
    same = [
        {"id": f"x{n:06d}", "lastUpdateDate": stamp(1), "acquisitionDate": "2025-06-01T00:00:00.000Z"}
        for n in range(10_500)
    ]
    with pytest.raises(TieTooLarge, match="10,000"):
        walk_ids(client_for(FakeOpenSearch(same)))


class UnderCountingParts(FakeOpenSearch):
    """Says 5 results whenever the query narrows acquisition time, however many there are."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        if request.url.path.endswith("/token") or b"acquisitionDate" not in request.content:
            return response
        return httpx.Response(response.status_code, json={**response.json(), "totalResults": 5})


def test_a_tie_whose_parts_under_count_is_reported_not_cut_short() -> None:
    same = [
        {
            "id": f"x{n:06d}",
            "lastUpdateDate": stamp(1),
            "acquisitionDate": f"2025-06-01T00:00:{n // 1000:02d}.{n % 1000:03d}Z",
        }
        for n in range(10_500)
    ]
    with pytest.raises(InconsistentPage, match=r"totalResults said 5 items were updated at .* yet 10,000 came back"):
        walk_ids(client_for(UnderCountingParts(same)))
