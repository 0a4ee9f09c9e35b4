"""Shared fixtures: sandboxes served over real loopback HTTP, with a frozen, steerable clock."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from harvest.sandbox.config import SandboxConfig
from harvest.sandbox.server import RunningSandbox, running

FROZEN_AT = "2026-11-01T00:00:00Z"


def sandbox_config(state_dir: Path, **overrides: object) -> SandboxConfig:
    """A deterministic sandbox for tests: seed 7, frozen clock, a lighter world."""
    base = SandboxConfig(seed=7, density=0.5, state_dir=state_dir, clock=f"frozen@{FROZEN_AT}")
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One read-only sandbox for tests that neither move its clock nor place orders."""
    with running(sandbox_config(tmp_path_factory.mktemp("shared-sandbox"))) as sandbox:
        yield sandbox


@pytest.fixture
def make_sandbox(tmp_path: Path) -> Iterator[Callable[..., RunningSandbox]]:
    """Start a private sandbox (own state dir, clock and faults): make_sandbox(faults="429=1")."""
    stack = contextlib.ExitStack()
    counter = iter(range(1000))

    def start(**overrides: object) -> RunningSandbox:
        overrides.setdefault("state_dir", tmp_path / f"sandbox-{next(counter)}")
        config = sandbox_config(**overrides)  # type: ignore[arg-type]
        return stack.enter_context(running(config))

    with stack:
        yield start


def advance(sandbox: RunningSandbox, seconds: float) -> None:
    """Move a sandbox's clock forward through its control API."""
    httpx.post(f"{sandbox.url}/_sandbox/clock", json={"advance_s": seconds}, timeout=10).raise_for_status()
