"""The Dagster UI in headless Debian chromium, driven by Playwright: the catalog assets and a materialized partition."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from harvest import registry
from harvest.commands.dev import REPO_ROOT, WORKSPACE, install_instance_config
from harvest.defs.catalog.assets import SCENE_CATALOG, provider_assets
from harvest.defs.resources import HarvestResource
from harvest.sandbox.server import RunningSandbox
from harvest_tests.ui.processes import Output, free_port

CHROMIUM = Path("/usr/bin/chromium")
DAY = "2026-10-20"  # before the shared sandbox's frozen clock (2026-11-01)
TIMEOUT_MS = 90_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason=f"Debian's chromium is not at {CHROMIUM}: `make browser` installs it (as root or with sudo)",
    ),
]


@dataclass(frozen=True)
class Materialized:
    """What the UI should show: the partition materialized before it started."""

    home: Path
    run_id: str
    path: str


@pytest.fixture
def materialized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_sandbox: RunningSandbox) -> Materialized:
    """A fresh DAGSTER_HOME from the template, with one partition of oneatlas_scenes materialized."""
    home = tmp_path / "dagster_home"
    install_instance_config(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    harvest = HarvestResource(data_dir=str(tmp_path / "data"), sandbox_url=shared_sandbox.url)
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [provider_assets["oneatlas"]], partition_key=DAY, instance=instance, resources={"harvest": harvest}
        )
    assert result.success
    [materialization] = result.asset_materializations_for_node(provider_assets["oneatlas"].op.name)
    return Materialized(home, result.run_id, str(materialization.metadata["path"].value))


@pytest.fixture
def webserver(materialized: Materialized, tmp_path: Path) -> Iterator[str]:
    """`dagster-webserver -w workspace.yaml` on a free loopback port, over that instance; its base URL."""
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(materialized.home), "HARVEST_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-w", str(WORKSPACE), "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = Output(process)
    try:
        output.wait_for(f"Serving dagster-webserver on http://127.0.0.1:{port}", 90)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGINT)  # the webserver and the code server it started
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def page() -> Iterator[Page]:
    """A page in headless chromium from Debian (Playwright downloads no browser of its own)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def asset_link(page: Page, name: str):
    """The link to an asset's page (its URL is the asset key, a persisted id)."""
    return page.locator(f'a[href="/assets/{name}"]')


def test_the_ui_shows_the_catalog_assets_and_the_materialized_partition(
    webserver: str, page: Page, materialized: Materialized
) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    catalog_assets = [*(source.asset for source in registry.SOURCES), SCENE_CATALOG]

    # the asset catalog lists every catalog asset
    page.goto(f"{webserver}/assets")
    for name in catalog_assets:
        expect(asset_link(page, name)).to_be_visible()

    # the catalog group's asset graph draws a node for each
    page.goto(f"{webserver}/locations/harvest/asset-groups/catalog")
    for name in catalog_assets:
        expect(page.locator("foreignObject", has_text=re.compile(rf"^{name}Latest event"))).to_be_visible()

    # oneatlas_scenes has exactly the partition materialized above, with its run and GeoParquet file
    page.goto(f"{webserver}/assets")
    asset_link(page, "oneatlas_scenes").click()
    page.get_by_role("tab", name="Partitions").click()
    expect(page).to_have_url(re.compile(r"/assets/oneatlas_scenes\?.*view=partitions"))
    expect(page.get_by_text("Materialized (1)", exact=True)).to_be_visible()
    page.get_by_text(re.compile(r"^Missing \(\d+\)$")).click()  # show only the materialized partitions
    page.get_by_title(DAY, exact=True).click()
    expect(page.get_by_text(materialized.run_id[:8], exact=True)).to_be_visible()
    expect(page.get_by_text(materialized.path, exact=True)).to_be_visible()
