"""The STAC Fields extension: include and exclude dotted paths of the returned items."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from harvest.sandbox.sentinelhub.errors import PayloadError


@dataclass(frozen=True)
class Fields:
    """Paths to keep (if any are given) and paths to drop; include wins when a path is in both."""

    include: tuple[str, ...]
    exclude: tuple[str, ...]


def parse_fields(value: Any) -> Fields | None:
    """POST `{"include": [...], "exclude": [...]}` or GET `id,-geometry,+bbox`."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        return Fields(
            include=tuple(p.lstrip("+") for p in parts if not p.startswith("-")),
            exclude=tuple(p[1:] for p in parts if p.startswith("-")),
        )
    if isinstance(value, dict):
        include, exclude = value.get("include") or [], value.get("exclude") or []
        if not all(isinstance(p, str) for p in [*include, *exclude]):
            raise PayloadError("fields", "include and exclude are arrays of property paths")
        return Fields(tuple(include), tuple(exclude))
    raise PayloadError("fields", "must be an object with include and/or exclude")


def _get(item: dict[str, Any], path: list[str]) -> tuple[bool, Any]:
    node: Any = item
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _put(item: dict[str, Any], path: list[str], value: Any) -> None:
    node = item
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def apply_fields(item: dict[str, Any], fields: Fields | None) -> dict[str, Any]:
    """The item reduced to what `fields` asks for."""
    if fields is None:
        return item
    if fields.include:
        shaped: dict[str, Any] = {}
        for path in ("type", "id", *fields.include):
            found, value = _get(item, path.split("."))
            if found:
                _put(shaped, path.split("."), copy.deepcopy(value))
    else:
        shaped = item
    for path in fields.exclude:
        if path in fields.include:
            continue
        *parents, last = path.split(".")
        found, node = _get(shaped, parents)
        if found and isinstance(node, dict):
            node.pop(last, None)
    return shaped
