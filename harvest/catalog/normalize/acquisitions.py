"""The acquisition identity that lets one strip be recognised at OneAtlas, Sentinel Hub and Arlula."""

from __future__ import annotations

import contextlib

from harvest.timestamps import InvalidTimestamp, format_millis, parse_ns


def acquisition_id(strip: str | None, platform: str | None, acquired: str | None) -> str:
    """The Airbus DS_… strip identifier when there is one, else `<platform>:<acquisition millisecond>`.

    Resellers of Airbus imagery carry the strip identifier (OneAtlas `archiveIdentifier`, Arlula
    `sceneID`); for other sensors the platform and the acquisition instant identify the capture.
    """
    if strip and strip.startswith("DS_"):
        return strip
    moment = acquired or ""
    with contextlib.suppress(InvalidTimestamp):
        moment = format_millis(parse_ns(moment))
    return f"{(platform or 'unknown').lower()}:{moment}"
