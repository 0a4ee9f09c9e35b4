"""Fixed-width text built column-wise with numpy: thousands of identifiers without a Python loop.

A text is a matrix of Unicode code points (one row per string); literals broadcast, integers
become zero-padded digits, and the rows are read back as strings in one call.
"""

from __future__ import annotations

import numpy as np


def literal(text: str, rows: int) -> np.ndarray:
    """The same text on every row."""
    return np.broadcast_to(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32), (rows, len(text)))


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded decimal digits (the lowest `width` digits)."""
    remaining = np.asarray(values, dtype=np.int64).copy()
    out = np.empty((len(remaining), width), dtype=np.uint32)
    for column in range(width - 1, -1, -1):
        out[:, column] = 48 + remaining % 10
        remaining //= 10
    return out


def codes(strings: np.ndarray) -> np.ndarray:
    """Code points of a fixed-width numpy str array (every string the same length)."""
    width = strings.dtype.itemsize // 4
    return np.ascontiguousarray(strings).view(np.uint32).reshape(len(strings), width)


def choose(selector: np.ndarray, options: list[str]) -> np.ndarray:
    """options[selector[i]] per row; every option must have the same length."""
    table = np.array(options)
    return codes(table)[selector]


def texts(*parts: np.ndarray) -> list[str]:
    """The rows of the concatenated parts, as Python strings."""
    matrix = np.ascontiguousarray(np.concatenate(parts, axis=1))
    return matrix.view(f"<U{matrix.shape[1]}").ravel().tolist()
