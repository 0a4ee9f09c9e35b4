"""The sandbox's core: the running simulation (`Sandbox`) and a provider host's mount, which every provider imports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harvest.aois import load_aois
from harvest.sandbox.clock import ClockSpec, SandboxClock
from harvest.sandbox.config import SandboxConfig
from harvest.sandbox.faults import FaultPlan, parse_faults
from harvest.sandbox.state import SandboxState
from harvest.sandbox.tokens import TokenAuthority
from harvest.sandbox.world.world import World, WorldConfig

T = TypeVar("T")

ErrorResponder = Callable[[int, str, dict[str, str]], Response]


@dataclass
class ProviderMount:
    """One provider host played under a path prefix."""

    prefix: str  # e.g. "/oneatlas/search"
    group: str  # fault scope, e.g. "oneatlas.search"
    routes: Sequence[BaseRoute]
    error: ErrorResponder  # the provider's own error body, for injected 429/5xx
    retry_after_ms: bool = False  # Sentinel Hub documents Retry-After in milliseconds


@dataclass
class Sandbox:
    """The running simulation: clock, world, persistent state, faults and tokens."""

    config: SandboxConfig
    clock: SandboxClock
    world: World
    state: SandboxState
    faults: FaultPlan
    tokens: TokenAuthority
    base_url: str = ""
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _caches: dict[str, object] = field(default_factory=dict)

    @classmethod
    def create(cls, config: SandboxConfig) -> Sandbox:
        """A sandbox built from `config`, resuming a frozen clock where its state left it."""
        spec = ClockSpec.parse(config.clock)
        state = SandboxState(Path(config.state_dir) / "sandbox.sqlite3")
        clock = SandboxClock(spec)
        resumed = state.get_meta("frozen_clock")
        if spec.frozen and isinstance(resumed, dict) and resumed.get("spec") == config.clock:
            clock.set_ns(max(clock.now_ns(), int(resumed["now_ns"])))
        aois = load_aois(config.aois_path)
        world = World(
            WorldConfig(
                seed=config.seed,
                density=config.density,
                aois=aois.aois,
                visibility_delay_s=config.visibility_delay_s,
            ),
            clock.now_ns(),
        )
        return cls(
            config=config,
            clock=clock,
            world=world,
            state=state,
            faults=FaultPlan(config.seed, parse_faults(config.faults)),
            tokens=TokenAuthority(config.seed),
        )

    def now_ns(self) -> int:
        """The simulated now, in ns since the epoch; the world grows to cover it."""
        now = self.clock.now_ns()
        if self.world.ensure_covers(now):
            self._caches.clear()  # engines and views built on the old world are stale
        return now

    def link(self, path: str) -> str:
        """An absolute URL back into this sandbox."""
        return f"{self.base_url}{path}"

    def remember_clock(self) -> None:
        """Persist a frozen clock's time, so a restart resumes from it."""
        if self.clock.frozen:
            self.state.set_meta("frozen_clock", {"spec": self.config.clock, "now_ns": self.clock.now_ns()})

    def cache(self, name: str, factory: Callable[[], T]) -> T:
        """The value cached under `name`, built by `factory` on first use (dropped when the world grows).

        A name is always built by the same factory, so the value has the factory's type.
        """
        if name not in self._caches:
            self._caches[name] = factory()
        return cast("T", self._caches[name])


def sandbox_of(request: Request) -> Sandbox:
    """The sandbox serving `request`."""
    return request.app.state.sandbox
