"""Errors: every provider's error body parsed, request ids kept, one readable line, and no secret in any text."""

from __future__ import annotations

import json
import logging
import pickle

import httpx
import pytest

from harvest.providers.errors import (
    AuthenticationError,
    BadRequest,
    Conflict,
    Gone,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ServerError,
    error_from_response,
    parse_error_body,
    safe_url,
)
from harvest.providers.secrets import Secret, redact


def response(
    status: int,
    body: object = None,
    *,
    text: str | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    url: str = "https://search.example.com/api/v2/opensearch?itemsPerPage=10",
) -> httpx.Response:
    request = httpx.Request(method, url, headers={"Authorization": "Bearer header-token-abc.def"})
    if text is None:
        return httpx.Response(status, json=body, headers=headers, request=request)
    return httpx.Response(status, text=text, headers=headers, request=request)


# --- each provider's body shapes ---------------------------------------------------------------


def test_oneatlas_api_error_with_correlation_header() -> None:
    body = {
        "correlationId": "799246d8-body",
        "hint": "Check the bbox",
        "internalCode": 400,
        "message": "Invalid bbox",
        "timestamp": 1530088354390,
    }
    error = error_from_response("OneAtlas", response(400, body, headers={"X-Ads-Correlation-Id": "799246d8-header"}))
    assert type(error) is BadRequest
    assert error.status == 400
    assert error.message == "Invalid bbox (hint: Check the bbox)"
    assert error.request_id == "799246d8-header"
    assert error.method == "GET"
    assert error.url == "https://search.example.com/api/v2/opensearch?itemsPerPage=10"


def test_oneatlas_api_error_request_id_from_body_when_no_header() -> None:
    body = {"correlationId": "799246d8-body", "hint": "", "internalCode": 404, "message": "No such item"}
    error = error_from_response("OneAtlas", response(404, body))
    assert type(error) is NotFound
    assert error.message == "No such item"
    assert error.request_id == "799246d8-body"


EXPIRED = "Authentication failed (cause: Token expired)"
NO_WORKSPACE = "Unable to access workspace 'w'"


@pytest.mark.parametrize(
    ("status", "body", "message", "code", "cls"),
    [
        (400, {"errorCode": "E2203", "message": NO_WORKSPACE}, NO_WORKSPACE, "E2203", BadRequest),
        (404, {"errorCode": "E2203", "message": "CIS contract 'x' not found."}, "CIS contract 'x' not found.", "E2203",
         NotFound),
        (401, {"message": EXPIRED}, EXPIRED, None, AuthenticationError),
        (500, {"code": "UNEXPECTED_SERVER_ERROR"}, "UNEXPECTED_SERVER_ERROR", "UNEXPECTED_SERVER_ERROR", ServerError),
    ],
)  # fmt: skip
def test_oneatlas_order_api_shapes(
    status: int, body: dict[str, str], message: str, code: str | None, cls: type[ProviderError]
) -> None:
    error = error_from_response("OneAtlas", response(status, body, method="POST"))
    assert type(error) is cls
    assert (error.message, error.code) == (message, code)


def test_arlula_json_and_plain_text() -> None:
    json_error = error_from_response("Arlula", response(410, {"error": "the storage for this order has expired"}))
    assert type(json_error) is Gone
    assert json_error.message == "the storage for this order has expired"
    text_error = error_from_response("Arlula", response(409, text="order is not complete\n"))
    assert type(text_error) is Conflict
    assert text_error.message == "order is not complete"


def test_sentinelhub_boom_with_json_encoded_message() -> None:
    forwarded = {"correlationId": "inner-id", "hint": "Check the search parameters", "message": "Bad constellation"}
    body = {
        "error": {
            "status": 400,
            "reason": "Bad Request",
            "message": json.dumps(forwarded),
            "code": "COMMON_BAD_PAYLOAD",
        }
    }
    error = error_from_response("Sentinel Hub", response(400, body, headers={"x-request-id": "sh-req-1"}))
    assert type(error) is BadRequest
    assert error.message == "Bad constellation (hint: Check the search parameters)"
    assert error.code == "COMMON_BAD_PAYLOAD"
    assert error.request_id == "sh-req-1"


def test_sentinelhub_boom_plain_message_and_errors() -> None:
    body = {
        "error": {
            "status": 403,
            "reason": "Forbidden",
            "message": "Not enough quota",
            "code": "COMMON_INSUFFICIENT_PERMISSIONS",
            "errors": {"availableQuota": 1.5, "requiredQuota": 3.0},
        }
    }
    error = error_from_response("Sentinel Hub", response(403, body, headers={"X-Request-Id": "sh-req-2"}))
    assert type(error) is PermissionDenied
    assert error.message.startswith("Not enough quota")
    assert "requiredQuota" in error.message
    assert error.request_id == "sh-req-2"


def test_keycloak_oauth_error() -> None:
    body = {"error": "invalid_client", "error_description": "Invalid client or Invalid client credentials"}
    error = error_from_response("Sentinel Hub", response(401, body), hint_for_auth="check SENTINELHUB_CLIENT_SECRET")
    assert type(error) is AuthenticationError
    assert error.message == "Invalid client or Invalid client credentials (invalid_client)"
    assert error.code == "invalid_client"
    assert error.hint == "check SENTINELHUB_CLIENT_SECRET"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Bad Gateway"),
        ("<html><body><h1>502 Bad Gateway</h1></body></html>", "Bad Gateway"),
        ('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>',
         "Reduce your rate"),
    ],
)  # fmt: skip
def test_empty_html_and_xml_bodies(text: str, message: str) -> None:
    assert error_from_response("Arlula", response(502, text=text)).message == message


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (409, Conflict),
        (410, Gone),
        (422, BadRequest),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (418, ProviderError),
    ],
)
def test_status_to_class(status: int, cls: type[ProviderError]) -> None:
    assert type(error_from_response("X", response(status, {"message": "m"}))) is cls


def test_parse_error_body_tolerates_garbage() -> None:
    assert parse_error_body("{not json").message == "{not json"
    assert parse_error_body('"just a string"').message == "just a string"
    assert parse_error_body('{"unexpected": 1}').message == '{"unexpected": 1}'


# --- the text of an error -------------------------------------------------------------------------


def test_str_is_one_readable_line() -> None:
    body = {"message": "Invalid bbox\nsecond line", "correlationId": "cid-1"}
    error = error_from_response("OneAtlas", response(400, body))
    text = str(error)
    assert "\n" not in text
    assert text.startswith("OneAtlas 400 on GET https://search.example.com/api/v2/opensearch")
    assert "Invalid bbox second line" in text
    assert "harvest sent a request OneAtlas refused" in text
    assert text.endswith("(request id cid-1)")
    assert "BadRequest(provider='OneAtlas', status=400" in repr(error)


def test_auth_hint_says_what_to_do() -> None:
    error = error_from_response(
        "OneAtlas",
        response(401, {"message": "Authentication failed"}),
        hint_for_auth="OneAtlas rejected the API key: check ONEATLAS_API_KEY",
    )
    assert "check ONEATLAS_API_KEY" in str(error)


def test_rate_limited_keeps_retry_after() -> None:
    error = error_from_response("Sentinel Hub", response(429, {"error": {"message": "slow"}}), retry_after_s=3600.0)
    assert isinstance(error, RateLimited)
    assert error.retry_after_s == 3600.0


def test_errors_pickle_and_copy() -> None:
    error = error_from_response("OneAtlas", response(404, {"message": "gone", "correlationId": "c"}))
    restored = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert type(restored) is NotFound
    assert str(restored) == str(error)
    assert restored.request_id == "c"


def test_outcome_unknown_keeps_a_request_without_credentials() -> None:
    sent = httpx.Request(
        "POST",
        "https://order.example.com/api/v1/orders",
        headers={"Authorization": "Bearer tkn-123.abc"},
        json={"a": 1},
    )
    error = OutcomeUnknown("OneAtlas", "ReadTimeout after sending", request=sent, method="POST", url=sent.url)
    assert error.request is not None
    assert "authorization" not in error.request.headers
    assert json.loads(error.request.content) == {"a": 1}
    assert "may have been processed" in str(error)


# --- redaction ---------------------------------------------------------------------------------


def test_secret_never_shows_itself(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("hunter2-very-secret")
    assert repr(secret) == "Secret('***')"
    assert str(secret) == "***"
    assert f"{secret}" == "***"
    assert secret.reveal() == "hunter2-very-secret"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("harvest_tests.secret").debug("key is %s / %r", secret, secret)
    assert "hunter2" not in caplog.text


def test_secret_equality_hash_and_truth() -> None:
    assert Secret("abcd-1") == Secret("abcd-1")
    assert Secret("abcd-1") != Secret("abcd-2")
    assert Secret("abcd-1") != "abcd-1"
    assert len({Secret("abcd-1"), Secret("abcd-1")}) == 1
    assert not Secret("")
    assert Secret("x")


def test_redact_masks_registered_values_and_credential_patterns() -> None:
    Secret("registered-secret-value")
    text = (
        'registered-secret-value Authorization: Bearer eyJabc.def.ghi apikey=abc123&x=1 {"access_token": "zzz"} '
        "basic information"
    )
    expected = '*** Authorization: Bearer *** apikey=***&x=1 {"access_token": "***"} basic information'
    assert redact(text) == expected


def test_echoed_secret_is_redacted_from_error_text() -> None:
    api_key = Secret("echoed-api-key-0001")
    body = {"message": f"Invalid API key echoed-api-key-0001 for {api_key}", "hint": "echoed-api-key-0001"}
    error = error_from_response(
        "OneAtlas",
        response(401, body, url="https://auth.example.com/token?apikey=echoed-api-key-0001&client_id=IDP"),
    )
    for text in (str(error), repr(error), error.body or "", error.url or "", error.message):
        assert "echoed-api-key-0001" not in text
    assert "Bearer header-token" not in str(error)


def test_safe_url_masks_query_secrets_and_userinfo() -> None:
    url = "https://user:pw@storage.example.com/f.tif?X-Amz-Signature=abcdef&X-Amz-Expires=3600&token=t0k"
    assert safe_url(url) == "https://storage.example.com/f.tif?X-Amz-Signature=***&X-Amz-Expires=3600&token=***"


def test_safe_url_leaves_ordinary_queries_alone() -> None:
    url = "https://search.example.com/api/v2/opensearch?bbox=1,2,3,4&acquisitionDate=[2024-01-01,2024-02-01["
    assert safe_url(url) == str(httpx.URL(url))
