"""`harvest orders list|quote|approve|reject|place|status` through click's CliRunner.

Integration tests run against a private sandbox over loopback, on a unified catalog harvested once
per module from a sandbox of the same seed and frozen clock, with the ledger (SQLite) and the data
directory in tmp_path. Bad-input tests need neither a sandbox nor a catalog.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from harvest.aois import DEFAULT_AOIS_PATH, load_aois
from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.catalog.unify import unify
from harvest.cli import main
from harvest.harvesting.days import days_between, harvest_days
from harvest.ordering.desks.base import OrderDesk
from harvest.ordering.ledger import Ledger, OrderRow, OrderState
from harvest.ordering.ledger import engine as ledger_engines
from harvest.ordering.ledger import ledger as ledgers
from harvest.ordering.model import OrderRequest, ProviderOrder, Quote, Unit
from harvest.providers.errors import BadRequest
from harvest.registry import IDS, open_desk, open_source
from harvest.sandbox.server import RunningSandbox, running
from harvest_tests.conftest import advance, sandbox_config
from harvest_tests.delivery.sandbox_orders import set_faults
from harvest_tests.ordering.databases import BACKENDS, database, postgres_schema

CLOCK = "frozen@2026-10-20T00:00:00Z"
FIRST, LAST = date(2026, 10, 5), date(2026, 10, 18)  # auto-approved offers over Toulouse, one over the port
PERIOD = ("--start", FIRST.isoformat(), "--end", LAST.isoformat())
LIVE_SECRET = "live-arlula-secret-do-not-print"
DB_PASSWORD = "hunter2-ledger-password"
SUMMARY = re.compile(
    r"(\d+) candidates? over (\d+) days?: (\d+) quoted, (\d+) auto-approved, (\d+) awaiting approval, "
    r"(\d+) quote error"
)
_PROVIDER_PREFIXES = ("ONEATLAS_", "ARLULA_", "SENTINELHUB_")


@dataclass
class Terminal:
    """The `harvest orders` command in an environment of its own."""

    data: Path
    env: dict[str, str | None]
    sandbox: RunningSandbox | None = None

    def __call__(self, *args: str, **env: str | None) -> Result:
        return CliRunner().invoke(main, ["orders", *args], env={**self.env, **env})

    def ledger(self) -> Ledger:
        url = self.env["HARVEST_DATABASE_URL"]
        assert url is not None
        return Ledger.open(url)

    def orders(self, *states: OrderState) -> list[OrderRow]:
        with self.ledger() as ledger:
            return ledger.orders(states=states or None)


def ok(result: Result) -> Result:
    """The result, once it is known to have succeeded (else the failure, shown)."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def everything(result: Result) -> str:
    return result.stdout + result.stderr


def isolated_env(data: Path) -> dict[str, str | None]:
    """No provider credentials, spend switch, policies or AOIs from the developer's shell; a ledger in `data`."""
    cleared: dict[str, str | None] = {name: None for name in os.environ if name.startswith(_PROVIDER_PREFIXES)}
    return {
        **cleared,
        "HARVEST_DATA_DIR": str(data),
        "HARVEST_DATABASE_URL": f"sqlite:///{data / 'ledger.sqlite'}",
        "HARVEST_ALLOW_SPEND": None,
        "HARVEST_POLICIES": None,
        "HARVEST_AOIS": None,
        "HARVEST_SANDBOX_URL": None,
        "LOGNAME": "tester",
        "USER": "tester",
    }


@pytest.fixture(scope="module")
def harvested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A unified catalog of FIRST..LAST over the default AOIs, harvested from a sandbox like the tests' ones."""
    root = tmp_path_factory.mktemp("harvested")
    store = CatalogStore(root / "catalog")
    aois = load_aois(DEFAULT_AOIS_PATH).aois
    days = days_between(FIRST, LAST)
    with running(sandbox_config(root / "sandbox", clock=CLOCK)) as sandbox:
        for provider in IDS:
            source = open_source(provider, sandbox.env())
            try:
                harvest_days(source, aois, days, store)
            finally:
                source.close()
    for day in days:
        table, _ = unify([store.read_day(provider, day) for provider in IDS])
        store.write_day(UNIFIED, day, table)
    return store.root


@pytest.fixture
def offline(tmp_path: Path) -> Terminal:
    """No sandbox, no catalog: for input that must be refused before any provider is asked."""
    data = tmp_path / "data"
    return Terminal(data, isolated_env(data))


@pytest.fixture
def terminal(
    request: pytest.FixtureRequest, make_sandbox: Callable[..., RunningSandbox], harvested: Path, tmp_path: Path
) -> Iterator[Terminal]:
    """A data directory holding the harvested catalog, a private sandbox for quotes and orders, and a ledger
    on SQLite (or on the backend an indirect parametrization names)."""
    sandbox = make_sandbox(clock=CLOCK)
    data = tmp_path / "data"
    shutil.copytree(harvested, data / "catalog")
    with database(getattr(request, "param", "sqlite"), data) as url:
        yield Terminal(data, {**isolated_env(data), **sandbox.env(), "HARVEST_DATABASE_URL": url}, sandbox)


@pytest.fixture
def quoted(terminal: Terminal) -> Terminal:
    """The terminal after `harvest orders quote` over FIRST..LAST."""
    ok(terminal("quote", *PERIOD))
    assert terminal.orders(OrderState.APPROVED) and terminal.orders(OrderState.AWAITING_APPROVAL)
    return terminal


def the_waiting_key(terminal: Terminal) -> str:
    (waiting,) = terminal.orders(OrderState.AWAITING_APPROVAL)
    return waiting.key


# --- quote ----------------------------------------------------------------------------------------


def test_quote_prints_each_candidate_with_its_decision_and_a_summary_matching_the_ledger(terminal: Terminal) -> None:
    result = ok(terminal("quote", *PERIOD))
    header = result.stdout.splitlines()[0].split()
    assert header == ["day", "rank", "key", "aoi", "provider", "scene", "coverage", "cloud%", "quote", "cheapest",
                      "decision"]  # fmt: skip
    match = SUMMARY.search(result.stdout)
    assert match, result.stdout
    candidates, days, quotes, auto, waiting, errors = map(int, match.groups())
    recorded = terminal.orders()
    assert (days, errors) == (14, 0)
    assert quotes == candidates == len(recorded)
    assert auto == len(terminal.orders(OrderState.APPROVED)) and auto >= 1
    assert waiting == len(terminal.orders(OrderState.AWAITING_APPROVAL)) == 1
    lines = {line.split()[2]: line for line in result.stdout.splitlines()[2:] if line.startswith("2026-")}
    assert set(lines) == {order.key for order in recorded}
    for order in recorded:
        line = lines[order.key]
        amount = format(order.quote.amount.normalize(), "f")
        assert f"{amount} {order.quote.unit}" in line and order.scene_id in line and order.aoi_id in line
        word = {OrderState.APPROVED: "auto-approved", OrderState.AWAITING_APPROVAL: "awaiting approval"}
        assert line.endswith(word.get(order.state, "quoted"))
    assert "left out by the policies:" in result.stderr
    assert "harvest orders approve KEY" in result.stderr
    assert sorted(p.name for p in (terminal.data / "orders" / "candidates").iterdir()) == [
        f"{day}.parquet" for day in days_between(FIRST, LAST)
    ]


def test_quoting_again_changes_no_decision(quoted: Terminal) -> None:
    before = {order.key: order.state for order in quoted.orders()}
    again = ok(quoted("quote", *PERIOD))
    assert {order.key: order.state for order in quoted.orders()} == before
    assert SUMMARY.search(again.stdout)


def test_quote_for_one_aoi_quotes_only_that_aoi(terminal: Terminal) -> None:
    ok(terminal("quote", *PERIOD, "--aoi", "rotterdam-port"))
    assert {order.aoi_id for order in terminal.orders()} == {"rotterdam-port"}


# --- list -----------------------------------------------------------------------------------------


def test_list_shows_every_order_and_counts_them_on_stderr(quoted: Terminal) -> None:
    result = ok(quoted("list"))
    recorded = quoted.orders()
    assert result.stdout.splitlines()[0].split() == [
        "key", "provider", "scene", "aoi", "state", "quote", "approved_by", "provider_order", "updated"
    ]  # fmt: skip
    assert {line.split()[0] for line in result.stdout.splitlines()[2:]} == {order.key for order in recorded}
    assert f"{len(recorded)} orders in sqlite:///" in result.stderr


def test_list_filters_by_state_provider_and_aoi_in_json_and_csv(quoted: Terminal) -> None:
    approved = json.loads(ok(quoted("list", "--state", "approved", "--format", "json")).stdout)
    in_ledger = {order.key: order for order in quoted.orders(OrderState.APPROVED)}
    assert {record["key"] for record in approved} == set(in_ledger)
    for record in approved:
        order = in_ledger[record["key"]]
        assert Decimal(record["quote_amount"]) == order.quote.amount and record["quote_unit"] == order.quote.unit
        assert record["approved_by"].startswith("auto: ")
    both = json.loads(
        ok(quoted("list", "--state", "approved", "--state", "awaiting_approval", "--format", "json")).stdout
    )
    assert len(both) == len(approved) + 1
    rows = list(csv.DictReader(io.StringIO(ok(quoted("list", "--provider", "arlula", "--format", "csv")).stdout)))
    assert rows and {row["provider"] for row in rows} == {"arlula"}
    assert len(rows) == len([order for order in quoted.orders() if order.provider == "arlula"])
    port = json.loads(ok(quoted("list", "--aoi", "rotterdam-port", "--format", "json")).stdout)
    assert port and {record["aoi_id"] for record in port} == {"rotterdam-port"}
    nothing = ok(quoted("list", "--aoi", "atlantis", "--format", "csv"))
    assert nothing.stdout.startswith("key,provider,") and len(nothing.stdout.splitlines()) == 1
    assert "0 orders" in nothing.stderr


def test_list_puts_the_most_recently_updated_order_first(quoted: Terminal) -> None:
    key = the_waiting_key(quoted)
    ok(quoted("approve", key))
    listed = json.loads(ok(quoted("list", "--format", "json")).stdout)
    assert listed[0]["key"] == key
    assert [record["updated"] for record in listed] == sorted((record["updated"] for record in listed), reverse=True)


# --- approve and reject ---------------------------------------------------------------------------


def test_approve_records_the_person_from_the_login_name_or_by(quoted: Terminal) -> None:
    key = the_waiting_key(quoted)
    result = ok(quoted("approve", key))
    assert f"{key} " in result.stdout and "approved by person: tester via cli" in result.stdout
    with quoted.ledger() as ledger:
        order = ledger.get(key)
        assert order is not None and order.state is OrderState.APPROVED
        assert order.approved_by == "person: tester via cli"
        assert ledger.events(key)[-1].actor == "person: tester via cli"
    again = ok(quoted("approve", key, "--by", "alice"))
    assert "already approved by person: tester via cli" in again.stdout


def test_approve_is_all_or_nothing(quoted: Terminal) -> None:
    waiting = the_waiting_key(quoted)
    rejected = quoted.orders(OrderState.QUOTED)[0].key
    ok(quoted("reject", rejected, "--reason", "too cloudy over the port", "--by", "bob"))
    result = quoted("approve", waiting, "hvnosuchorder", rejected, "--by", "alice")
    assert result.exit_code == 1
    assert "nothing was approved" in result.stderr
    assert "hvnosuchorder: no such order" in result.stderr and "harvest orders list" in result.stderr
    assert f"{rejected}: cannot approve it, it is rejected; a rejection stands" in result.stderr
    assert [order.key for order in quoted.orders(OrderState.AWAITING_APPROVAL)] == [waiting]


def test_approving_a_placed_order_is_refused(quoted: Terminal) -> None:
    ok(quoted("place"))
    (placed, *_) = quoted.orders(OrderState.PLACED)
    result = quoted("approve", placed.key)
    assert result.exit_code == 1 and "it has already been sent to its provider" in result.stderr


def test_reject_keeps_the_reason_and_who(quoted: Terminal) -> None:
    key = the_waiting_key(quoted)
    result = ok(quoted("reject", key, "--reason", "the port is under cloud", "--by", "bob"))
    assert "rejected by person: bob via cli: the port is under cloud" in result.stdout
    (order,) = quoted.orders(OrderState.REJECTED)
    assert order.key == key and order.error == "rejected by person: bob via cli: the port is under cloud"


# --- place ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("terminal", BACKENDS, indirect=True)
def test_place_then_status_refresh_and_land_follow_orders_to_files_on_disk(quoted: Terminal) -> None:
    ok(quoted("approve", the_waiting_key(quoted)))
    approved = {order.key for order in quoted.orders(OrderState.APPROVED)}
    placing = ok(quoted("place"))
    lines = placing.stdout.splitlines()
    assert {line.split()[0] for line in lines if ": placed — " in line} == approved
    assert f"{len(approved)} orders: {len(approved)} placed" in placing.stdout
    placed = quoted.orders(OrderState.PLACED)
    assert {order.key for order in placed} == approved and all(order.provider_order_id for order in placed)
    assert "no approved order to place" in ok(quoted("place")).stderr

    month = placed[0].month
    assert month is not None
    summary = ok(quoted("status", "--month", month)).stdout
    assert re.search(rf"^  placed\s+{len(approved)}$", summary, re.MULTILINE)
    with quoted.ledger() as ledger:
        spent = ledger.spent(month, unit=Unit.USD_CENTS, aoi_id="toulouse")
    assert spent > 0 and re.search(rf"^toulouse\s+USD cents\s+{spent.normalize():f}\s+400000\s+", summary, re.MULTILINE)

    assert quoted.sandbox is not None
    advance(quoted.sandbox, 3600)
    landing = ok(quoted("status", "--refresh", "--land", "--month", month))
    assert f"tracking: {len(approved)} delivered" in landing.stderr
    assert re.search(rf"^  landed\s+{len(approved)}$", landing.stdout, re.MULTILINE)
    for order in quoted.orders(OrderState.LANDED):
        assert f"landed {order.key}: " in landing.stdout and f"landing {order.key} (" in landing.stderr
        assert order.manifest_path is not None and (quoted.data / order.manifest_path).is_file()
    assert {order.key for order in quoted.orders(OrderState.LANDED)} == approved

    key = sorted(approved)[0]
    detail = ok(quoted("status", key)).stdout
    assert f"key:             {key}" in detail and "state:           landed" in detail
    kinds = [line.split()[1] for line in detail.split("history (", 1)[1].splitlines()[1:]]
    assert kinds[0] == "quote" and kinds[-3:] == ["placed", "delivered", "landed"] and "reserve" in kinds


def test_place_limit_and_keys_place_only_what_is_asked(quoted: Terminal) -> None:
    approved = [order.key for order in quoted.orders(OrderState.APPROVED)]
    assert len(approved) >= 2
    one = ok(quoted("place", "--limit", "1"))
    assert "1 order: 1 placed" in one.stdout
    assert [order.key for order in quoted.orders(OrderState.PLACED)] == approved[:1]
    quoted_key = quoted.orders(OrderState.QUOTED)[0].key
    refused = ok(quoted("place", quoted_key))
    assert "not_approved" in refused.stdout and quoted.orders(OrderState.QUOTED)[0].key == quoted_key
    unknown = quoted("place", approved[1], "hvnosuchorder")
    assert (
        unknown.exit_code == 1 and "no order hvnosuchorder" in unknown.stderr and "nothing was placed" in unknown.stderr
    )
    assert [order.key for order in quoted.orders(OrderState.PLACED)] == approved[:1]


class RefusingDesk:
    """A real desk whose provider refuses every new order (a 400)."""

    def __init__(self, desk: OrderDesk) -> None:
        self._desk = desk

    def __getattr__(self, name: str) -> object:
        return getattr(self._desk, name)

    def place(self, request: OrderRequest, quote: Quote) -> ProviderOrder:
        raise BadRequest(request.provider, "scene no longer sold for this AOI", status=400)


def test_a_refused_placement_fails_the_command(quoted: Terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    def arlula_refuses(provider: str, env: Mapping[str, str] | None = None, url: str | None = None) -> OrderDesk:
        desk = open_desk(provider, env, url)
        return RefusingDesk(desk) if provider == "arlula" else desk  # type: ignore[return-value]

    monkeypatch.setattr("harvest.registry.open_desk", arlula_refuses)
    arlula = {order.key for order in quoted.orders(OrderState.APPROVED) if order.provider == "arlula"}
    others = {order.key for order in quoted.orders(OrderState.APPROVED)} - arlula
    assert arlula and others
    result = quoted("place")
    assert result.exit_code == 1
    assert f"{len(arlula)} orders could not be placed" in result.stderr
    assert {line.split()[0] for line in result.stdout.splitlines() if ": failed — " in line} == arlula
    assert {order.key for order in quoted.orders(OrderState.FAILED)} == arlula
    assert {order.key for order in quoted.orders(OrderState.PLACED)} == others


def test_placing_at_a_live_provider_without_the_switch_is_a_dry_run_saying_what_it_would_buy(
    quoted: Terminal,
) -> None:
    assert quoted.sandbox is not None
    live = {
        "ARLULA_API_KEY": "live-key",
        "ARLULA_API_SECRET": LIVE_SECRET,
        "ARLULA_URL": f"{quoted.sandbox.url}/arlula",
    }
    arlula = [order for order in quoted.orders(OrderState.APPROVED) if order.provider == "arlula"]
    others = {order.key for order in quoted.orders(OrderState.APPROVED)} - {order.key for order in arlula}
    assert arlula and others
    result = ok(quoted("place", **live))
    assert "DRY RUN: HARVEST_ALLOW_SPEND is not 1, so nothing was bought from live providers" in result.stdout
    for order in arlula:
        price = f"{order.quote.amount.normalize():f} USD cents"
        assert f"{order.key} arlula/{order.scene_id} @ {order.aoi_id} for {price} from Arlula: live, " in result.stdout
    total = sum((order.quote.amount for order in arlula), Decimal(0))
    assert f"in all: {len(arlula)} orders for {total.normalize():f} USD cents" in result.stdout
    assert "Set HARVEST_ALLOW_SPEND=1 to buy them." in result.stdout
    assert {order.key for order in quoted.orders(OrderState.APPROVED)} == {order.key for order in arlula}
    assert {order.key for order in quoted.orders(OrderState.PLACED)} == others
    with quoted.ledger() as ledger:
        assert all(ledger.events(order.key)[-1].kind == "dry_run" for order in arlula)
    assert LIVE_SECRET not in everything(result)
    shown = ok(quoted("status", arlula[0].key, **live))
    assert "dry_run" in shown.stdout and LIVE_SECRET not in everything(shown)


# --- status and landing ---------------------------------------------------------------------------


def test_a_delivery_that_cannot_be_landed_fails_status_land_and_the_others_land(quoted: Terminal) -> None:
    assert quoted.sandbox is not None
    ok(quoted("place"))
    advance(quoted.sandbox, 3600)
    ok(quoted("status", "--refresh"))
    delivered = quoted.orders(OrderState.DELIVERED)
    damaged = {order.key for order in delivered if order.provider == "oneatlas"}
    assert damaged and len(delivered) > len(damaged)
    set_faults(quoted.sandbox.url, "corrupt=1@oneatlas.data")
    result = quoted("status", "--land")
    assert result.exit_code == 1
    assert f"{len(damaged)} order could not be landed" in result.stderr and "md5 mismatch" in result.stderr
    assert {order.key for order in quoted.orders(OrderState.DELIVERED)} == damaged
    assert len(quoted.orders(OrderState.LANDED)) == len(delivered) - len(damaged)


def test_status_land_of_an_order_not_delivered_says_so(quoted: Terminal) -> None:
    key = the_waiting_key(quoted)
    result = ok(quoted("status", key, "--land"))
    assert f"{key} is awaiting_approval: nothing to land" in result.stderr
    assert "state:           awaiting_approval" in result.stdout


# --- bad input, without sandbox or catalog --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("quote", "--start", "2026-13-01", "--end", "2026-10-07"), 2, "'2026-13-01' does not match the format"),
        (("quote", "--start", "2026-10-07", "--end", "2026-10-05"), 2, "--end 2026-10-05 is before --start"),
        (("quote", *PERIOD, "--aoi", "atlantis"), 2, "unknown AOI 'atlantis'; the AOIs in"),
        (("quote", *PERIOD), 1, f"run `harvest backfill --start {FIRST} --end {LAST}` first"),
        (("list", "--state", "shipped"), 2, "'shipped' is not an order state; use one of quoted, awaiting_approval"),
        (("list", "--format", "xml"), 2, "'xml' is not one of"),
        (("approve",), 2, "Missing argument 'KEY...'"),
        (("approve", "hvnosuchorder"), 1, "hvnosuchorder: no such order in sqlite:///"),
        (("reject", "hvnosuchorder", "--reason", "no"), 1, "hvnosuchorder: no such order"),
        (("reject", "hvnosuchorder"), 2, "Missing option '--reason'"),
        (("reject", "hvnosuchorder", "--reason", "  "), 2, "say why the order is rejected"),
        (("reject", "hvnosuchorder", "--reason", "no", "--by", " "), 2, "give a name"),
        (("place", "hvnosuchorder"), 1, "no order hvnosuchorder in sqlite:///"),
        (("status", "hvnosuchorder"), 1, "no order hvnosuchorder in sqlite:///"),
        (("status", "--month", "2026-13"), 2, "month '2026-13' is not a calendar month: write it as YYYY-MM"),
    ],
)
def test_bad_input_is_refused_with_what_to_do(
    offline: Terminal, args: tuple[str, ...], code: int, message: str
) -> None:
    result = offline(*args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert message in result.stderr


def test_place_and_status_on_an_empty_ledger(offline: Terminal) -> None:
    assert "no approved order to place" in ok(offline("place")).stderr
    summary = ok(offline("status", "--month", "2026-10")).stdout
    assert "0 orders" in summary and "spend in 2026-10" in summary
    assert re.search(r"^toulouse\s+EUR\s+0\s+4000\s+4000$", summary, re.MULTILINE)


def test_an_unusable_policy_file_stops_quote_and_place_with_its_message(offline: Terminal, tmp_path: Path) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text("overall:\n  monthly_budget: {doubloons: 5}\n")
    for args in (("quote", *PERIOD), ("place",)):
        result = offline(*args, HARVEST_POLICIES=str(policies))
        assert result.exit_code == 1
        assert "the ordering policies cannot be used" in result.stderr and "doubloons" in result.stderr
    status = ok(offline("status", HARVEST_POLICIES=str(policies)))
    assert "warning: budgets unknown" in status.stderr


def test_a_policy_for_an_unknown_aoi_is_a_warning(offline: Terminal, tmp_path: Path) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text("aois:\n  atlantis: {enabled: true}\n")
    result = offline("quote", *PERIOD, HARVEST_POLICIES=str(policies))
    assert "warning: aoi 'atlantis'" in result.stderr
    assert "no chosen AOI is enabled for ordering" in result.stderr
    assert result.exit_code == 1 and "harvest backfill" in result.stderr  # then the missing catalog stops it


# --- secrets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"mysql://ledger:{DB_PASSWORD}@db.example/ledger", "mysql://ledger:***@db.example/ledger"),
        (
            f"postgresql://ledger:{DB_PASSWORD}@127.0.0.1:1/ledger",
            "cannot open the ledger at postgresql+psycopg://ledger:***@127.0.0.1:1/ledger",
        ),
    ],
)
def test_a_ledger_that_cannot_be_opened_is_named_without_its_password(
    offline: Terminal, url: str, message: str
) -> None:
    result = offline("list", HARVEST_DATABASE_URL=url)
    assert result.exit_code == 1 and message in result.stderr
    assert DB_PASSWORD not in everything(result)


@pytest.fixture
def postgres_ledger() -> Iterator[str]:
    with postgres_schema(password=DB_PASSWORD) as url:
        yield url


def test_a_postgres_ledger_is_shown_without_its_password(offline: Terminal, postgres_ledger: str) -> None:
    assert DB_PASSWORD in postgres_ledger
    for args in (("list",), ("status",), ("place",)):
        result = ok(offline(*args, HARVEST_DATABASE_URL=postgres_ledger))
        assert DB_PASSWORD not in everything(result)
    assert ":***@" in ok(offline("status", HARVEST_DATABASE_URL=postgres_ledger)).stdout


# --- providers that cannot be asked ---------------------------------------------------------------

WRONG_SECRETS = {
    "ONEATLAS_API_KEY": "wrong-oneatlas-key-do-not-print",
    "ARLULA_API_SECRET": "wrong-arlula-secret-do-not-print",
    "SENTINELHUB_CLIENT_SECRET": "wrong-sentinelhub-secret-do-not-print",
}


def no_secret_in(result: Result) -> bool:
    return not any(secret in everything(result) for secret in WRONG_SECRETS.values())


def test_quote_fails_when_not_one_candidate_could_be_quoted(terminal: Terminal) -> None:
    result = terminal("quote", *PERIOD, **WRONG_SECRETS)  # every provider refuses the credentials (401)

    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    match = SUMMARY.search(result.stdout)
    assert match, result.stdout
    candidates, _, quoted, *_, errors = map(int, match.groups())
    assert candidates == errors > 0 and quoted == 0
    [verdict] = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert f"not one of the {candidates} candidates could be quoted" in verdict
    for provider in IDS:
        if provider != "sentinelhub-catalog":
            assert f"{provider}: " in verdict and "rejected the" in verdict, verdict
    assert terminal.orders() == [] and no_secret_in(result)


def test_quote_with_one_provider_refusing_quotes_the_others_and_counts_what_was_left_out(terminal: Terminal) -> None:
    result = ok(terminal("quote", *PERIOD, ARLULA_API_SECRET=WRONG_SECRETS["ARLULA_API_SECRET"]))

    match = SUMMARY.search(result.stdout)
    assert match, result.stdout
    candidates, _, quoted, *_, errors = map(int, match.groups())
    assert 0 < errors < candidates and quoted == candidates - errors
    assert f"warning: {errors} of {candidates} candidates could not be quoted and were left out" in result.stderr
    assert f"arlula: {errors} (" in result.stderr
    assert {order.provider for order in terminal.orders()} == {"oneatlas", "sentinelhub-import"}
    assert no_secret_in(result)


@pytest.mark.parametrize("flavour", [None, "data"])  # OneAtlas asked which API it sells through, or told
def test_status_refresh_fails_when_no_provider_with_open_orders_can_be_asked(
    quoted: Terminal, flavour: str | None
) -> None:
    ok(quoted("place"))
    placed = quoted.orders(OrderState.PLACED)

    result = quoted("status", "--refresh", **WRONG_SECRETS, ONEATLAS_ORDER_FLAVOUR=flavour)

    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    [verdict] = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert "no provider with open orders could be asked where they stand" in verdict
    for provider in {order.provider for order in placed}:
        assert f"{provider}: " in verdict, verdict
    assert "rejected the" in verdict and no_secret_in(result)
    assert re.search(rf"^  placed\s+{len(placed)}$", result.stdout, re.MULTILINE)  # the summary is still shown
    assert quoted.orders(OrderState.PLACED) == placed


def test_status_refresh_with_one_provider_refusing_follows_the_others_and_names_it(quoted: Terminal) -> None:
    ok(quoted("place"))
    assert quoted.sandbox is not None
    advance(quoted.sandbox, 3600)
    arlula = {order.key for order in quoted.orders(OrderState.PLACED) if order.provider == "arlula"}
    assert len(arlula) >= 2

    result = ok(quoted("status", "--refresh", ARLULA_API_SECRET=WRONG_SECRETS["ARLULA_API_SECRET"]))

    warned = {line.split()[1].rstrip(":") for line in result.stderr.splitlines() if line.startswith("warning: ")}
    assert warned == arlula
    assert "401" in result.stderr and no_secret_in(result)
    assert {order.key for order in quoted.orders(OrderState.PLACED)} == arlula
    assert quoted.orders(OrderState.DELIVERED)  # the other providers' orders were followed


def test_place_fails_when_the_provider_cannot_be_asked_and_gives_the_spend_back(quoted: Terminal) -> None:
    approved = [order for order in quoted.orders(OrderState.APPROVED) if order.provider == "arlula"]
    assert approved

    result = quoted("place", *(order.key for order in approved), ARLULA_API_SECRET="wrong", HARVEST_ALLOW_SPEND="1")

    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert f"{len(approved)} order{'s' * (len(approved) != 1)} could not be placed" in result.stderr
    assert all(f"{order.key} " in result.stdout and ": not_sent — " in result.stdout for order in approved)
    assert {order.key for order in quoted.orders(OrderState.APPROVED)} >= {order.key for order in approved}
    with quoted.ledger() as ledger:
        assert all(ledger.events(order.key)[-1].kind == "not_sent" for order in approved)


def test_quote_into_a_data_directory_it_cannot_write_stops_before_quoting(terminal: Terminal) -> None:
    blocker = terminal.data / "orders"  # where the quoted candidates go
    blocker.write_text("")

    result = terminal("quote", *PERIOD)

    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.stderr, result.exception)
    assert f"cannot write the quoted candidates in {blocker / 'candidates'}" in result.stderr
    assert "HARVEST_DATA_DIR" in result.stderr and "nothing was done" in result.stderr
    assert terminal.orders() == [] and blocker.read_text() == ""


# --- a ledger that cannot be written ----------------------------------------------------------------


def a_quoted_order(terminal: Terminal, scene_id: str = "SCENE-1") -> str:
    """Record one quoted order in the terminal's ledger; its key."""
    toulouse = load_aois(DEFAULT_AOIS_PATH).by_id()["toulouse"]
    request = OrderRequest.build("arlula", scene_id, toulouse.id, toulouse.geojson(), {})
    with terminal.ledger() as ledger:
        ledger.record_quote(request, Quote(request.key, Decimal(100), Unit.USD_CENTS), actor="harvest quotes")
    return request.key


def ledgers_from_now_on(monkeypatch: pytest.MonkeyPatch, name: str, listener: Callable[..., None]) -> None:
    """Every ledger engine created from now on gets `listener` for its SQLAlchemy event `name`."""

    def listened(url: URL) -> Engine:
        engine = ledger_engines.create_ledger_engine(url)
        event.listen(engine, name, listener)
        return engine

    monkeypatch.setattr(ledgers, "create_ledger_engine", listened)


def read_only_from_now_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ledger connection opened from now on is read-only, as SQLite opens a file it may not write."""

    def open_read_only(dialect: object, record: object, args: list[Any], options: dict[str, Any]) -> None:
        args[0], options["uri"] = f"file:{args[0]}?mode=ro", True

    ledgers_from_now_on(monkeypatch, "do_connect", open_read_only)


def no_history_from_now_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on SQLite itself refuses every new line of an order's history: a ledger failing under a command."""

    def refuse_events(action: int, table: str | None, *_: object) -> int:
        return sqlite3.SQLITE_DENY if (action, table) == (sqlite3.SQLITE_INSERT, "events") else sqlite3.SQLITE_OK

    ledgers_from_now_on(monkeypatch, "connect", lambda connection, _: connection.set_authorizer(refuse_events))


def refused_with_the_fix(result: Result, ledger: Path) -> None:
    """The command stopped with a message (not a traceback) naming the ledger file and the ways out."""
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.stderr, result.exception)
    assert f"the ledger {ledger} cannot be written" in result.stderr, result.stderr
    assert "HARVEST_DATA_DIR" in result.stderr and "HARVEST_DATABASE_URL" in result.stderr


def test_a_read_only_ledger_stops_a_command_before_it_changes_anything(
    offline: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = a_quoted_order(offline)
    read_only_from_now_on(monkeypatch)

    result = offline("approve", key)

    refused_with_the_fix(result, offline.data / "ledger.sqlite")
    monkeypatch.undo()
    assert [order.state for order in offline.orders()] == [OrderState.QUOTED]


def test_a_ledger_failing_under_a_command_stops_it_with_a_message_and_nothing_half_done(
    offline: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [a_quoted_order(offline, scene) for scene in ("SCENE-1", "SCENE-2")]
    no_history_from_now_on(monkeypatch)

    result = offline("approve", *keys)

    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.stderr, result.exception)
    assert f"the ledger at sqlite:///{offline.data / 'ledger.sqlite'} failed: not authorized" in result.stderr
    monkeypatch.undo()
    assert [order.state for order in offline.orders()] == [OrderState.QUOTED] * 2


def test_a_data_directory_that_is_a_file_is_refused_with_the_ledger_path_and_the_fix(
    offline: Terminal, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    for place in (blocker, blocker / "below"):
        result = offline("list", HARVEST_DATA_DIR=str(place), HARVEST_DATABASE_URL=None)
        refused_with_the_fix(result, place / "ledger.sqlite")
    assert blocker.read_text() == ""
