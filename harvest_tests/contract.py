"""Comparing sandbox responses with the providers' documented examples, field by field."""

from __future__ import annotations

from typing import Any


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_differences(example: Any, actual: Any, path: str = "$") -> list[str]:
    """Where `actual` lacks a field of `example` or has it with another JSON type.

    Extra fields in `actual` are fine; a null in the example matches any value (the docs use null
    for "not set yet"); arrays are compared element-wise against the example's first element.
    """
    expected_kind, actual_kind = _kind(example), _kind(actual)
    if expected_kind == "null":
        return []
    if expected_kind != actual_kind:
        return [f"{path}: documented as {expected_kind}, sandbox sends {actual_kind}"]
    problems: list[str] = []
    if expected_kind == "object":
        for key, value in example.items():
            if key not in actual:
                problems.append(f"{path}.{key}: documented, missing from the sandbox")
            else:
                problems.extend(shape_differences(value, actual[key], f"{path}.{key}"))
    elif expected_kind == "array" and example and actual:
        for index, item in enumerate(actual):
            problems.extend(shape_differences(example[0], item, f"{path}[{index}]"))
    return problems


def assert_same_shape(example: Any, actual: Any) -> None:
    problems = shape_differences(example, actual)
    assert not problems, "sandbox response differs from the documented example:\n" + "\n".join(problems)
