"""The part of CQL2 the sandbox catalog understands: comparisons joined by AND, text or JSON.

Enough for the filters clients actually send to Sentinel-2 searches, such as
`eo:cloud_cover < 20` or `{"op": "<=", "args": [{"property": "eo:cloud_cover"}, 20]}`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from harvest.sandbox.sentinelhub.errors import PayloadError

NUMERIC = frozenset({"eo:cloud_cover", "gsd"})
TEXT = frozenset({"platform", "constellation"})
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_CLAUSE = re.compile(r"^\s*([A-Za-z_][\w:.]*)\s*(<=|>=|<>|=|<|>)\s*(?:'([^']*)'|(-?\d+(?:\.\d+)?))\s*$")
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Comparison:
    """`property op value`."""

    prop: str
    op: str
    value: float | str


def _checked(prop: str, op: str, value: Any) -> Comparison:
    if prop in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PayloadError("filter", f"{prop} compares with a number")
        return Comparison(prop, op, float(value))
    if prop in TEXT:
        if not isinstance(value, str) or op not in ("=", "<>"):
            raise PayloadError("filter", f"{prop} supports only = and <> with a string")
        return Comparison(prop, op, value)
    raise PayloadError("filter", f"cannot filter on {prop!r}; queryable: {', '.join(sorted(NUMERIC | TEXT))}")


def _from_text(text: str) -> tuple[Comparison, ...]:
    clauses = []
    for clause in _AND.split(text.strip()):
        match = _CLAUSE.match(clause)
        if match is None:
            raise PayloadError("filter", f"unsupported CQL2 text {clause!r}; use comparisons joined by AND")
        prop, op, string, number = match.groups()
        clauses.append(_checked(prop, op, string if string is not None else float(number)))
    return tuple(clauses)


def _from_json(node: Any) -> tuple[Comparison, ...]:
    if not isinstance(node, dict) or not isinstance(node.get("args"), list):
        raise PayloadError("filter", "a CQL2 JSON node is {op, args}")
    op, args = str(node.get("op", "")).lower(), node["args"]
    if op == "and":
        return tuple(c for arg in args for c in _from_json(arg))
    if op not in _OPERATORS or len(args) != 2 or not isinstance(args[0], dict) or "property" not in args[0]:
        raise PayloadError("filter", f"unsupported CQL2 JSON operation {op!r}")
    return (_checked(str(args[0]["property"]), op, args[1]),)


def parse_filter(value: Any, lang: str | None) -> tuple[Comparison, ...]:
    """Comparisons, all of which an item must satisfy; lang defaults from the value's type."""
    if value is None or value == "":
        return ()
    lang = lang or ("cql2-json" if isinstance(value, dict) else "cql2-text")
    if lang == "cql2-text" and isinstance(value, str):
        return _from_text(value)
    if lang == "cql2-json" and isinstance(value, dict):
        return _from_json(value)
    raise PayloadError("filter-lang", f"the filter does not match filter-lang {lang!r}")


def filter_mask(comparisons: tuple[Comparison, ...], columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Which rows satisfy every comparison; `columns` holds the values of each queryable."""
    size = len(next(iter(columns.values()))) if columns else 0
    mask = np.ones(size, dtype=bool)
    for comparison in comparisons:
        mask &= np.asarray(_OPERATORS[comparison.op](columns[comparison.prop], comparison.value), dtype=bool)
    return mask
