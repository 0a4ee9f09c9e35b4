"""Placement test helpers: approved orders over sandbox scenes, naps, racing placers, and the providers' own orders."""

from __future__ import annotations

import contextlib
import functools
import itertools
import multiprocessing
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any, cast

import httpx
from shapely.geometry import Polygon, shape

from harvest.aois import load_aois
from harvest.buying.candidates import UNORDERABLE_LEVELS
from harvest.harvesting.sources import Window
from harvest.ordering.desks.base import ClientDesk, OrderDesk
from harvest.ordering.desks.factory import DeskSet
from harvest.ordering.ledger import Budgets, Ledger, LedgerEvent
from harvest.ordering.model import OrderRequest, Unit, order_key
from harvest.ordering.placing import Placement, Placer
from harvest.registry import open_desk, open_source
from harvest.sandbox.arlula.orders import DATASETS
from harvest.sandbox.oneatlas.workspace import DATA_ORDERS, SALES_ORDERS
from harvest.sandbox.sentinelhub.ledger import ORDERS as TPDI_ORDERS
from harvest.sandbox.server import RunningSandbox
from harvest_tests.hostile import Handler, Reply, Request
from harvest_tests.ordering.desks_support import hasty

AOIS = load_aois().aois
SUMMER = Window(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
ORDER_GROUPS = ("oneatlas.data", "arlula", "sentinelhub.tpdi")  # the fault scopes of the order routes
APPROVER = "person: test via placing tests"

# product options that make distinct keys of one scene; Arlula's are explicit so that no two keys name one offer
OPTIONS: Mapping[str, Sequence[Mapping[str, str]]] = {
    "oneatlas": ({}, {"imageFormat": "image/geotiff"}, {"radiometricProcessing": "DISPLAY"}),
    "arlula": tuple(
        {"bundle": bundle, "license": license_}
        for license_ in ("Standard", "Multi-organisation")
        for bundle in ("visual", "analytic", "panchromatic")
    ),
    "sentinelhub-import": ({},),
}
COLUMNS = ["scene_id", "constellation", "acquired", "processing_level"]
SKIPPED_CONSTELLATIONS = {"arlula": {"Landsat"}}  # public data sells one bundle only: no option variants


def place_in_turn(placer: Placer, keys: Iterable[str]) -> list[Placement]:
    """Place each order in turn, as `harvest orders place` and the place_orders run do."""
    return [placer.place(key) for key in keys]


def requests_for(sandbox: RunningSandbox, provider: str, count: int, window: Window = SUMMER) -> list[OrderRequest]:
    """`count` distinct requests of `provider`: its scenes over every default AOI, then again with other options."""
    source = open_source(provider, sandbox.env())
    try:
        scenes = [
            (aoi, row)
            for aoi in AOIS
            for row in source.scenes([aoi], window).select(COLUMNS).to_pylist()
            if row["constellation"] not in SKIPPED_CONSTELLATIONS.get(provider, set())
            and row["processing_level"] not in UNORDERABLE_LEVELS
        ]
    finally:
        source.close()
    wishes = ((aoi, row, options) for options in OPTIONS[provider] for aoi, row in scenes)
    requests = [
        OrderRequest.build(
            provider,
            row["scene_id"],
            aoi.id,
            aoi.geojson(),
            options,
            acquired=row["acquired"].to_pydatetime(),
            constellation=row["constellation"],
        )
        for aoi, row, options in itertools.islice(wishes, count)
    ]
    if len(requests) < count:
        raise AssertionError(f"the sandbox offers only {len(requests)} {provider} orders in {window}, not {count}")
    return requests


def interleaved(*groups: Sequence[OrderRequest]) -> list[OrderRequest]:
    """One of each group in turn, so that placing them switches provider at every step."""
    mixed = itertools.chain.from_iterable(itertools.zip_longest(*groups))
    return [request for request in mixed if request is not None]


def quote_and_approve(
    ledger: Ledger, desk_for: Callable[[str], OrderDesk], requests: Iterable[OrderRequest]
) -> list[str]:
    """Quote every request at its provider, record the quote and approve it; the keys, in order."""
    keys = []
    for request in requests:
        ledger.record_quote(request, desk_for(request.provider).quote(request), actor="harvest quotes")
        keys.append(ledger.approve(request.key, actor=APPROVER).key)
    return keys


def generous(*units: str) -> Budgets:
    """Budgets that bind nowhere, in `units`, overall and for every default AOI."""
    limits = dict.fromkeys(map(Unit, units), Decimal(10) ** 12)
    return Budgets(overall=limits, per_aoi={aoi.id: limits for aoi in AOIS})


def event_kinds(events: Iterable[LedgerEvent]) -> list[str]:
    """The kinds of an order's events, in order."""
    return [event.kind for event in events]


@dataclass
class Naps:
    """A `sleep` that only writes down how long it was asked to sleep."""

    taken: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def unpaced(sandbox: RunningSandbox, naps: Naps, *, read_timeout: float = 10.0, **env: str) -> DeskSet:
    """The sandbox's desks (`env` over its environment), unpaced, waiting `read_timeout` for answers, never sleeping."""
    opener = functools.partial(open_desk, env={**sandbox.env(), **env})
    return DeskSet(lambda provider: hasty(cast("ClientDesk[Any]", opener(provider)), read_timeout, sleep=naps))


# --- providers that cannot be asked ------------------------------------------------------------------


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses every connection (bound, never listening) while the block runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


ARLULA_ORDER_PATH = "/arlula/api/archive/order"
_RELAYED_HEADERS = ("authorization", "content-type", "accept")


def _forward(upstream: str, request: Request) -> httpx.Response:
    """`request` sent on to the sandbox at `upstream`: its answer."""
    return httpx.request(
        request.method,
        upstream + request.path,
        params=[(name, value) for name, values in request.query.items() for value in values],
        headers={name: request.headers[name] for name in _RELAYED_HEADERS if name in request.headers},
        content=request.body,
        timeout=30,
    )


def _relay(upstream: str, request: Request, reply: Reply) -> None:
    """Send `request` on to the sandbox at `upstream` and hand its answer back."""
    answer = _forward(upstream, request)
    reply.send(answer.status_code, answer.content, {"Content-Type": answer.headers.get("content-type", "")})


def refusing_arlula_orders(upstream: str, status: int) -> Handler:
    """The sandbox's Arlula at `upstream`, but its order POST answered `status` without reaching it."""

    def handle(request: Request, reply: Reply) -> None:
        if request.method == "POST" and request.path == ARLULA_ORDER_PATH:
            reply.json(status, {"error": f"turned away with {status} before looking at the order"})
        else:
            _relay(upstream, request, reply)

    return handle


def arlula_lost_then_down(upstream: str) -> Handler:
    """The sandbox's Arlula until an order POST: that creates the order, its answer is lost, then every request 503s."""
    down = threading.Event()

    def handle(request: Request, reply: Reply) -> None:
        if down.is_set():
            reply.json(503, {"error": "down for maintenance"})
        elif request.method == "POST" and request.path == ARLULA_ORDER_PATH:
            _forward(upstream, request)
            down.set()
            reply.close()  # created at the provider; harvest never hears of it
        else:
            _relay(upstream, request, reply)

    return handle


# --- the providers' own record ----------------------------------------------------------------------


def _aoi_of(rings: Sequence[Sequence[Sequence[float]]]) -> str:
    """The default AOI an Arlula dataset's ordered area lies in (they are far apart)."""
    ordered = Polygon(rings[0], rings[1:])
    [aoi_id] = [aoi.id for aoi in AOIS if ordered.intersection(shape(aoi.geojson())).area > 0]
    return aoi_id


def provider_orders(sandbox: RunningSandbox) -> dict[str, list[str]]:
    """Order ids per order key, read from the sandbox's own state rather than through harvest's desks."""
    # a Sentinel Hub order counts once confirmed (unconfirmed, it is a quote); Arlula keeps no reference,
    # so the key is rebuilt from what the dataset was bought with
    state = sandbox.sandbox.state
    held: defaultdict[str, list[str]] = defaultdict(list)
    for order in state.all(DATA_ORDERS):
        held[order["customerRef"]].append(order["id"])
    for order in state.all(SALES_ORDERS):
        held[order["customerReference"]].append(order["salesOrderId"])
    for order in state.all(TPDI_ORDERS):
        if order["confirmedNs"] is not None:
            held[order["name"]].append(order["id"])
    for dataset in state.all(DATASETS):
        options = {"bundle": dataset["bundle"], "license": dataset["license"]}
        held[order_key("arlula", dataset["sceneID"], _aoi_of(dataset["aoi"]), options)].append(dataset["order"])
    return dict(held)


def ordered_twice(held: Mapping[str, Sequence[str]]) -> dict[str, Sequence[str]]:
    """The keys the providers hold more than one order for."""
    return {key: ids for key, ids in held.items() if len(ids) > 1}


# --- two processes placing at once --------------------------------------------------------------------


def place_each(
    url: str,
    env: Mapping[str, str],
    keys: list[str],
    budgets: Budgets,
    instant: datetime,
    start: Barrier,
    results: Queue[dict[str, Any]],
) -> None:
    """Wait for the other racers, run a Placer over every key, report its outcomes (in a spawned process)."""
    # both clocks stand still at `instant`, so no racer takes over the other's `placing` order;
    # `started`/`ended` (system-wide monotonic seconds) show whether the racers really overlapped
    with Ledger.open(url, clock=lambda: instant) as ledger, DeskSet(lambda provider: open_desk(provider, env)) as desks:
        placer = Placer(ledger, desks, budgets, allow_spend=False, actor="racer", clock=lambda: instant, sleep=Naps())
        start.wait(timeout=60)
        started = time.monotonic()
        outcomes = Counter(placement.outcome.value for placement in place_in_turn(placer, keys))
        ended = time.monotonic()
    results.put({"outcomes": dict(outcomes), "started": started, "ended": ended})


def race_placers(
    url: str, env: Mapping[str, str], per_process: list[list[str]], budgets: Budgets, instant: datetime
) -> list[dict[str, Any]]:
    """One spawned placer per key list, all starting at once; their reports, checked to overlap in time."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(len(per_process)), context.Queue()
    racers = [
        context.Process(target=place_each, args=(url, dict(env), keys, budgets, instant, start, results))
        for keys in per_process
    ]
    for racer in racers:
        racer.start()
    reports = [results.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(timeout=30)
        assert racer.exitcode == 0
    assert max(report["started"] for report in reports) < min(report["ended"] for report in reports)
    return reports
