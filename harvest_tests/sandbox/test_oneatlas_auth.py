"""OneAtlas authentication on the sandbox: API-key tokens, expiry, and the 401 bodies of each host."""

from __future__ import annotations

import httpx

from harvest.sandbox.server import RunningSandbox
from harvest_tests.conftest import advance
from harvest_tests.sandbox.oneatlas_session import TOKEN_PATH, OneAtlasSession, fetch_token


def test_token_endpoint_issues_bearer_tokens(shared_sandbox: RunningSandbox) -> None:
    body = fetch_token(shared_sandbox).json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["refresh_expires_in"] == 0
    assert body["access_token"].count(".") == 2  # shaped like a JWT


def test_wrong_key_and_wrong_grant_get_keycloak_errors(shared_sandbox: RunningSandbox) -> None:
    wrong_key = fetch_token(shared_sandbox, api_key="not-my-key")
    assert wrong_key.status_code == 401 and wrong_key.json()["error"] == "invalid_grant"
    wrong_grant = httpx.post(
        shared_sandbox.url + TOKEN_PATH, data={"apikey": "x", "grant_type": "password", "client_id": "IDP"}
    )
    assert wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"


def test_requests_without_or_with_a_forged_token_are_401_api_errors(shared_sandbox: RunningSandbox) -> None:
    url = shared_sandbox.url + "/oneatlas/search/api/v2/opensearch"
    missing = httpx.post(url, json={})
    forged = httpx.post(url, json={}, headers={"Authorization": "Bearer eyJ.eyJ.sig"})
    for response in (missing, forged):
        assert response.status_code == 401
        assert set(response.json()) >= {"correlationId", "message", "timestamp", "internalCode"}


def test_tokens_expire_on_the_sandbox_clock(make_sandbox) -> None:
    sandbox = make_sandbox(token_lifetime_s=60)
    session = OneAtlasSession(sandbox)
    assert session.search(itemsPerPage=1).status_code == 200
    advance(sandbox, 59)
    assert session.search(itemsPerPage=1).status_code == 200
    advance(sandbox, 2)
    expired = session.search(itemsPerPage=1)
    assert expired.status_code == 401 and "Token expired" in expired.json()["message"]
    order_api = session.client.get("/oneatlas/order/api/v1/contracts")
    assert order_api.json() == {"message": "Authentication failed (cause: Token expired)"}
    session.refresh()
    assert session.search(itemsPerPage=1).status_code == 200


def test_correlation_id_is_echoed(shared_sandbox: RunningSandbox) -> None:
    response = httpx.post(
        shared_sandbox.url + "/oneatlas/search/api/v2/opensearch",
        json={},
        headers={"X-Ads-Correlation-Id": "799246d8-4172-11e8-b045-e7011a379ec4"},
    )
    assert response.json()["correlationId"] == "799246d8-4172-11e8-b045-e7011a379ec4"
    assert response.headers["x-ads-correlation-id"] == "799246d8-4172-11e8-b045-e7011a379ec4"
