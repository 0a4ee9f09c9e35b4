"""What every order desk shares: the `OrderDesk` protocol, its errors, option checks and status words.

A desk is one provider's ordering counter: it quotes an `OrderRequest`, places it under the
request's key, finds the provider's own record of an order for a key (reconciliation after a lost
answer), and reports an order's status with the files to download once delivered. Desks never
retry a placement themselves: `ProviderHttp` raises `OutcomeUnknown` when an order request may have
been processed, and the caller reconciles with `find` before anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from harvest.ordering.model import OrderRequest, ProviderOrder, ProviderStatus, Quote
from harvest.providers.arlula import ArlulaClient
from harvest.providers.errors import ClientError
from harvest.providers.http import ProviderHttp, RequestStats
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.sentinelhub import SentinelHubClient

log = logging.getLogger(__name__)


class OrderDesk(Protocol):
    """One provider's ordering counter: quote, place, find (reconcile) and track orders."""

    provider: str
    sandbox: bool
    finds_undelivered: bool  # False: `find` sees an order only once delivered (OneAtlas order.api)

    def quote(self, request: OrderRequest) -> Quote:
        """The provider's price for the request, in its own unit."""
        ...

    def place(self, request: OrderRequest, quote: Quote) -> ProviderOrder:
        """Create the order under the request's key; never re-sent blindly (`OutcomeUnknown`: call `find`)."""
        ...

    def find(self, request: OrderRequest) -> ProviderOrder | None:
        """The provider's record of an order placed for the request's key, or None when there is none."""
        ...

    def status(self, order: ProviderOrder) -> ProviderOrder:
        """The order as the provider reports it now, with its deliverables once delivered."""
        ...

    @property
    def http(self) -> ProviderHttp:
        """The provider session (credentials, retries) its deliveries are downloaded with."""
        ...

    def describe(self) -> str:
        """One line for logs, without secrets."""
        ...

    def stats(self) -> RequestStats:
        """Requests sent so far."""
        ...

    def close(self) -> None:
        """Release the HTTP session."""
        ...


class OrderingError(ClientError):
    """harvest cannot order this as asked (not a provider refusal: those are `ProviderError`s).

    `place` raises it only before sending anything, so nothing can have been bought.
    """


class InvalidOrderOptions(OrderingError):
    """A request's product options name an unknown option or a value the provider does not sell."""


class NotOrderable(OrderingError):
    """The provider does not offer this scene for this AOI (any more), or does not sell at all."""


class StrictOptions(BaseModel):
    """A seller's product options as ordering policies give them: unknown names and values are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True)
    hints: ClassVar[Mapping[str, str]] = {}  # what each field accepts, in the words a person fixing a policy needs

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every option with its default value, as a desk fills in what a request leaves unset."""
        return cls().model_dump()


def checked_options(request: OrderRequest, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The request's options over `defaults`; an option name not in `defaults` is refused, naming the known ones."""
    unknown = sorted(set(request.options) - set(defaults))
    if unknown:
        known = f"the options are {', '.join(sorted(defaults))}" if defaults else "it takes no product options"
        raise InvalidOrderOptions(
            f"{request.provider} order {request.key}: unknown product option(s) {', '.join(map(repr, unknown))}; "
            + known
        )
    return {**defaults, **request.options}


def check_quote(request: OrderRequest, quote: Quote) -> None:
    """Refuse to place an order on a quote made for another key."""
    if quote.key != request.key:
        raise OrderingError(f"the quote is for order {quote.key}, not {request.key}: quote this request first")


@dataclass(frozen=True)
class StatusWords:
    """A provider's order status words in harvest's terms; an unknown word counts as still in progress."""

    provider: str
    table: Mapping[str, ProviderStatus]

    def __call__(self, word: str | None) -> ProviderStatus:
        """The ProviderStatus of `word` (case-insensitive)."""
        status = self.table.get((word or "").lower())
        if status is None:
            log.warning("%s: unknown order status %r, taken as still in progress", self.provider, word)
            return ProviderStatus.ACCEPTED
        return status


C = TypeVar("C", OneAtlasClient, ArlulaClient, SentinelHubClient)


class ClientDesk(Generic[C]):
    """What every desk does the same way: its client, sandbox flag, description, request counts, closing."""

    provider: str
    finds_undelivered: bool = True

    def __init__(self, client: C) -> None:
        self.client: C = client
        self.sandbox = client.settings.sandbox

    @property
    def http(self) -> ProviderHttp:
        return self.client.http

    def describe(self) -> str:
        return self.client.settings.describe()

    def stats(self) -> RequestStats:
        return self.client.http.stats

    def close(self) -> None:
        self.client.close()
