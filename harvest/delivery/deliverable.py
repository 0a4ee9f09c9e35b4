"""`Deliverable`: one file a provider delivers, as harvest downloads it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deliverable:
    """One file of a delivered order."""

    url: str
    filename: str  # as the provider names it (sanitise before use)
    size: int | None = None
    md5: str | None = None  # lowercase hex, when the provider states it up front
    authenticated: bool = True  # send the provider's credentials (False for presigned storage URLs)
