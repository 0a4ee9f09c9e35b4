"""Provider endpoints and credentials from the environment, falling back to the built-in sandbox.

`XSettings.from_env(env, sandbox_url)`:

- no credentials in `env`: the sandbox at `sandbox_url` (else `$HARVEST_SANDBOX_URL`, else
  `DEFAULT_SANDBOX_URL`, where `harvest sandbox serve` listens) with its published demo credentials, `sandbox=True`; URL
  variables in `env` are ignored then;
- credentials: the URLs from `env`, defaulting to the production hosts, `sandbox=False` — unless
  the credentials are the sandbox's demo ones and every URL ends with the sandbox's path prefix
  (what `harvest sandbox serve` prints to export), which is the sandbox too;
- half a credential pair (a key without its secret) raises `ConfigurationError`.

Each provider's `<PREFIX>_MAX_RESPONSE_MB` and `<PREFIX>_RESPONSE_DEADLINE_S` bound one answer
read into memory (`ResponseLimits`), live or sandbox. `origins` are the hosts its credentials may go to.

Secrets are `Secret`s, so `repr(settings)` and `describe()` never show them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Self

from harvest.providers import sandbox_endpoints as sandbox
from harvest.providers.auth import ONEATLAS_TOKEN_PATH, SENTINELHUB_TOKEN_PATH
from harvest.providers.errors import ConfigurationError
from harvest.providers.http import DEFAULT_DEADLINE_S, DEFAULT_MAX_BODY_BYTES, ResponseLimits
from harvest.providers.origins import origins_of
from harvest.providers.secrets import Secret

DEFAULT_SANDBOX_URL = sandbox.DEFAULT_SANDBOX_URL
SANDBOX_URL_VARIABLE = sandbox.SANDBOX_URL_VARIABLE

ONEATLAS_AUTH_URL = "https://authenticate.foundation.api.oneatlas.airbus.com"
ONEATLAS_SEARCH_URL = "https://search.foundation.api.oneatlas.airbus.com"
ONEATLAS_DATA_URL = "https://data.api.oneatlas.airbus.com"
ONEATLAS_ORDER_URL = "https://order.api.oneatlas.airbus.com"
ONEATLAS_ACCESS_URL = "https://access.foundation.api.oneatlas.airbus.com"
ARLULA_URL = "https://api.arlula.com"
SENTINELHUB_URL = "https://services.sentinel-hub.com"

ARLULA_API_VERSIONS = ("current", "2020-12")
ArlulaApiVersion = Literal["current", "2020-12"]

_ONEATLAS_PREFIXES = sandbox.ONEATLAS_PREFIXES
_ARLULA_PREFIX = sandbox.ARLULA_PREFIX
_SENTINELHUB_PREFIX = sandbox.SENTINELHUB_PREFIX


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    return (_get(env, name) or default).rstrip("/")


def _base(sandbox_url: str | None, env: Mapping[str, str]) -> str:
    """The sandbox's base URL: the one given, else $HARVEST_SANDBOX_URL, else where it listens by default."""
    return (sandbox_url or env.get(SANDBOX_URL_VARIABLE, "").strip() or DEFAULT_SANDBOX_URL).rstrip("/")


def _points_at_sandbox(urls_and_prefixes: list[tuple[str, str]]) -> bool:
    return all(url.endswith(prefix) for url, prefix in urls_and_prefixes)


def _sandbox_base(url: str, prefix: str) -> str:
    return url[: -len(prefix)] if url.endswith(prefix) else url


def _pair(env: Mapping[str, str], first: str, second: str) -> tuple[str, str] | None:
    a, b = _get(env, first), _get(env, second)
    if bool(a) != bool(b):
        given, missing = (first, second) if a else (second, first)
        raise ConfigurationError(f"{given} is set but {missing} is not: set both, or neither to use the sandbox")
    return (a, b) if a else None


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    text = _get(env, name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ConfigurationError(f"{name} must be a positive number, got {text!r}")
    return value


def response_limits(env: Mapping[str, str], prefix: str) -> ResponseLimits:
    """`<prefix>_MAX_RESPONSE_MB` and `<prefix>_RESPONSE_DEADLINE_S`, or the defaults."""
    size_name, deadline_name = f"{prefix}_MAX_RESPONSE_MB", f"{prefix}_RESPONSE_DEADLINE_S"
    megabytes = _positive(env, size_name, DEFAULT_MAX_BODY_BYTES / 2**20)
    return ResponseLimits(
        max_body_bytes=max(1, int(megabytes * 2**20)),
        deadline_s=_positive(env, deadline_name, DEFAULT_DEADLINE_S),
        size_setting=size_name,
        deadline_setting=deadline_name,
    )


@dataclass(frozen=True)
class OneAtlasSettings:
    """Airbus OneAtlas: API key and the five service hosts."""

    api_key: Secret
    auth_url: str = ONEATLAS_AUTH_URL
    search_url: str = ONEATLAS_SEARCH_URL
    data_url: str = ONEATLAS_DATA_URL
    order_url: str = ONEATLAS_ORDER_URL
    access_url: str = ONEATLAS_ACCESS_URL
    sandbox: bool = False
    limits: ResponseLimits = field(default_factory=lambda: response_limits({}, "ONEATLAS"))

    @property
    def token_url(self) -> str:
        """The Keycloak token endpoint (`grant_type=api_key`)."""
        return self.auth_url + ONEATLAS_TOKEN_PATH

    @property
    def origins(self) -> frozenset[str]:
        """The five hosts the API key's tokens may be sent to."""
        return origins_of([self.auth_url, self.search_url, self.data_url, self.order_url, self.access_url])

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, sandbox_url: str | None = None) -> Self:
        """Settings from ONEATLAS_* variables, or the sandbox when ONEATLAS_API_KEY is absent."""
        key = _get(env, "ONEATLAS_API_KEY")
        limits = response_limits(env, "ONEATLAS")
        if not key:
            base = _base(sandbox_url, env)
            urls = {name: base + prefix for name, prefix in _ONEATLAS_PREFIXES.items()}
            return cls(
                Secret(sandbox.ONEATLAS_API_KEY),
                auth_url=urls["auth"],
                search_url=urls["search"],
                data_url=urls["data"],
                order_url=urls["order"],
                access_url=urls["access"],
                sandbox=True,
                limits=limits,
            )
        urls = {
            "auth": _url(env, "ONEATLAS_AUTH_URL", ONEATLAS_AUTH_URL),
            "search": _url(env, "ONEATLAS_SEARCH_URL", ONEATLAS_SEARCH_URL),
            "data": _url(env, "ONEATLAS_DATA_URL", ONEATLAS_DATA_URL),
            "order": _url(env, "ONEATLAS_ORDER_URL", ONEATLAS_ORDER_URL),
            "access": _url(env, "ONEATLAS_ACCESS_URL", ONEATLAS_ACCESS_URL),
        }
        is_sandbox = key == sandbox.ONEATLAS_API_KEY and _points_at_sandbox(
            [(urls[name], prefix) for name, prefix in _ONEATLAS_PREFIXES.items()]
        )
        return cls(
            Secret(key),
            auth_url=urls["auth"],
            search_url=urls["search"],
            data_url=urls["data"],
            order_url=urls["order"],
            access_url=urls["access"],
            sandbox=is_sandbox,
            limits=limits,
        )

    def describe(self) -> str:
        """One line for logs, without secrets."""
        if self.sandbox:
            return f"OneAtlas: sandbox at {_sandbox_base(self.search_url, _ONEATLAS_PREFIXES['search'])}"
        return f"OneAtlas: live, {self.search_url}"


@dataclass(frozen=True)
class ArlulaSettings:
    """Arlula: API key and secret (HTTP Basic), base URL and API version."""

    api_key: str
    api_secret: Secret
    url: str = ARLULA_URL
    api_version: ArlulaApiVersion = "current"
    sandbox: bool = False
    limits: ResponseLimits = field(default_factory=lambda: response_limits({}, "ARLULA"))

    @property
    def origins(self) -> frozenset[str]:
        """The host the key and secret may be sent to (its storage redirects are fetched without them)."""
        return origins_of([self.url])

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, sandbox_url: str | None = None) -> Self:
        """Settings from ARLULA_* variables, or the sandbox when ARLULA_API_KEY/SECRET are absent."""
        version = _get(env, "ARLULA_API_VERSION") or "current"
        if version not in ARLULA_API_VERSIONS:
            raise ConfigurationError(
                f"ARLULA_API_VERSION must be one of {', '.join(ARLULA_API_VERSIONS)}, got {version!r}"
            )
        api_version: ArlulaApiVersion = "current" if version == "current" else "2020-12"
        limits = response_limits(env, "ARLULA")
        pair = _pair(env, "ARLULA_API_KEY", "ARLULA_API_SECRET")
        if pair is None:
            return cls(
                sandbox.ARLULA_API_KEY,
                Secret(sandbox.ARLULA_API_SECRET),
                url=_base(sandbox_url, env) + _ARLULA_PREFIX,
                api_version=api_version,
                sandbox=True,
                limits=limits,
            )
        key, secret = pair
        url = _url(env, "ARLULA_URL", ARLULA_URL)
        is_sandbox = (key, secret) == (sandbox.ARLULA_API_KEY, sandbox.ARLULA_API_SECRET) and url.endswith(
            _ARLULA_PREFIX
        )
        return cls(key, Secret(secret), url=url, api_version=api_version, sandbox=is_sandbox, limits=limits)

    def describe(self) -> str:
        """One line for logs, without secrets."""
        version = f" (API version {self.api_version})"
        if self.sandbox:
            return f"Arlula: sandbox at {_sandbox_base(self.url, _ARLULA_PREFIX)}{version}"
        return f"Arlula: live, {self.url}{version}"


@dataclass(frozen=True)
class SentinelHubSettings:
    """Sentinel Hub: OAuth client credentials, API host and token host."""

    client_id: str
    client_secret: Secret
    url: str = SENTINELHUB_URL
    auth_url: str = SENTINELHUB_URL
    sandbox: bool = False
    limits: ResponseLimits = field(default_factory=lambda: response_limits({}, "SENTINELHUB"))

    @property
    def token_url(self) -> str:
        """The OAuth2 token endpoint (client credentials)."""
        return self.auth_url + SENTINELHUB_TOKEN_PATH

    @property
    def origins(self) -> frozenset[str]:
        """The API and token hosts the OAuth client's tokens may be sent to."""
        return origins_of([self.url, self.auth_url])

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, sandbox_url: str | None = None) -> Self:
        """Settings from SENTINELHUB_* variables, or the sandbox when the client id/secret are absent."""
        pair = _pair(env, "SENTINELHUB_CLIENT_ID", "SENTINELHUB_CLIENT_SECRET")
        limits = response_limits(env, "SENTINELHUB")
        if pair is None:
            url = _base(sandbox_url, env) + _SENTINELHUB_PREFIX
            return cls(
                sandbox.SENTINELHUB_CLIENT_ID,
                Secret(sandbox.SENTINELHUB_CLIENT_SECRET),
                url=url,
                auth_url=url,
                sandbox=True,
                limits=limits,
            )
        client_id, secret = pair
        url = _url(env, "SENTINELHUB_URL", SENTINELHUB_URL)
        auth_url = _url(env, "SENTINELHUB_AUTH_URL", url if _get(env, "SENTINELHUB_URL") else SENTINELHUB_URL)
        is_sandbox = (client_id, secret) == (
            sandbox.SENTINELHUB_CLIENT_ID,
            sandbox.SENTINELHUB_CLIENT_SECRET,
        ) and _points_at_sandbox([(url, _SENTINELHUB_PREFIX), (auth_url, _SENTINELHUB_PREFIX)])
        return cls(client_id, Secret(secret), url=url, auth_url=auth_url, sandbox=is_sandbox, limits=limits)

    def describe(self) -> str:
        """One line for logs, without secrets."""
        if self.sandbox:
            return f"Sentinel Hub: sandbox at {_sandbox_base(self.url, _SENTINELHUB_PREFIX)}"
        return f"Sentinel Hub: live, {self.url}"
