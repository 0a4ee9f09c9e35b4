"""Deterministic fault injection: `--faults "429=0.1:1s@oneatlas.search,reset=0.02,..."`.

Each rule is `KIND=RATE[:PARAM][@SCOPE]`. Whether the n-th request of a route group suffers a
fault is a pure function of (seed, rule, group, n), so a sequential client sees the same faults on
every run with the same seed.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

FAULT_KINDS: dict[str, str] = {
    "429": "rate limited, with Retry-After (PARAM, default 1s; in milliseconds on Sentinel Hub)",
    "500": "internal server error with the provider's error body",
    "502": "bad gateway",
    "503": "service unavailable",
    "5xx": "one of 500, 502 and 503",
    "reset": "the connection drops in the middle of a response body",
    "slow": "the response is delayed by PARAM (default 2s)",
    "token_expiry": "an issued token dies after PARAM (default 0.1) of its advertised lifetime",
    "truncate": "a file download stops early and the connection drops",
    "corrupt": "a file download arrives complete but with damaged bytes",
    "order_timeout": "an order is created, then no response comes for PARAM (default 30s)",
}

PRESETS: dict[str, str] = {
    "none": "",
    "default": (
        "429=0.05:1s,5xx=0.05,reset=0.02,slow=0.01:1s,token_expiry=0.25,truncate=0.1,corrupt=0.02,order_timeout=0.2:10s"
    ),
}

FAULTS_HELP = (
    "comma-separated KIND=RATE[:PARAM][@SCOPE] rules, or a preset (" + ", ".join(PRESETS) + "). "
    "Kinds: " + "; ".join(f"{k}: {v}" for k, v in FAULT_KINDS.items()) + ". "
    "SCOPE is a provider or route group, e.g. oneatlas, oneatlas.search, arlula, sentinelhub.tpdi."
)

_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s|m)?$")
_DEFAULT_PARAM = {"429": 1.0, "slow": 2.0, "token_expiry": 0.1, "order_timeout": 30.0}


class FaultSpecError(ValueError):
    """A --faults value that cannot be understood."""


def _parse_param(kind: str, text: str) -> float:
    if kind == "token_expiry":
        value = float(text)
        if not 0 < value < 1:
            raise FaultSpecError(f"token_expiry PARAM is a fraction between 0 and 1, got {text!r}")
        return value
    match = _DURATION.match(text)
    if match is None:
        raise FaultSpecError(f"{kind} PARAM must be a duration like 2s or 500ms, got {text!r}")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[match["unit"]]
    return float(match["n"]) * scale


@dataclass(frozen=True)
class FaultRule:
    kind: str
    rate: float
    param: float | None = None
    scope: str | None = None

    def applies_to(self, group: str) -> bool:
        return self.scope is None or group == self.scope or group.startswith(self.scope + ".")

    def describe(self) -> str:
        text = f"{self.kind}={self.rate:g}"
        if self.param is not None and self.param != _DEFAULT_PARAM.get(self.kind):
            text += f":{self.param:g}" + ("" if self.kind == "token_expiry" else "s")
        return text + (f"@{self.scope}" if self.scope else "")


@dataclass(frozen=True)
class Fault:
    """A fault that was decided for one request."""

    kind: str
    param: float | None


def parse_faults(text: str | None) -> tuple[FaultRule, ...]:
    """Parse a --faults value into rules (an empty value means no faults)."""
    value = (text or "").strip()
    value = PRESETS.get(value, value)
    rules: list[FaultRule] = []
    for raw in filter(None, (part.strip() for part in value.split(","))):
        head, _, scope = raw.partition("@")
        kind, eq, rest = head.partition("=")
        kind = kind.strip()
        if not eq or kind not in FAULT_KINDS:
            raise FaultSpecError(f"fault rule {raw!r}: expected KIND=RATE with KIND one of {', '.join(FAULT_KINDS)}")
        rate_text, _, param_text = rest.partition(":")
        try:
            rate = float(rate_text)
        except ValueError as exc:
            raise FaultSpecError(f"fault rule {raw!r}: RATE must be a number between 0 and 1") from exc
        if not 0 <= rate <= 1:
            raise FaultSpecError(f"fault rule {raw!r}: RATE must be between 0 and 1")
        param = _parse_param(kind, param_text) if param_text else _DEFAULT_PARAM.get(kind)
        rules.append(FaultRule(kind, rate, param, scope.strip() or None))
    return tuple(rules)


def _unit_interval(*parts: object) -> float:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class FaultPlan:
    """The active fault rules and the per-group counters that make decisions deterministic."""

    seed: int
    rules: tuple[FaultRule, ...] = ()
    injected: Counter[str] = field(default_factory=Counter)
    _counters: Counter[tuple[int, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def replace(self, rules: tuple[FaultRule, ...]) -> None:
        with self._lock:
            self.rules = rules
            self._counters.clear()

    def decide(self, kinds: tuple[str, ...], group: str) -> Fault | None:
        """The first of `kinds` that strikes the next request of `group`, if any."""
        with self._lock:
            for index, rule in enumerate(self.rules):
                if rule.kind not in kinds or not rule.applies_to(group):
                    continue
                key = (index, group)
                n = self._counters[key]
                self._counters[key] = n + 1
                if rule.rate > 0 and _unit_interval(self.seed, index, rule.kind, group, n) < rule.rate:
                    kind = rule.kind
                    if kind == "5xx":
                        kind = ("500", "502", "503")[n % 3]
                    self.injected[kind] += 1
                    return Fault(kind, rule.param)
        return None

    def describe(self) -> dict[str, object]:
        return {
            "rules": [rule.describe() for rule in self.rules],
            "injected": dict(self.injected),
        }
