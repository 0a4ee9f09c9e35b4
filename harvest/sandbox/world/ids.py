"""Identifiers that look random but decode back to the world row they name.

A OneAtlas catalog item id is a UUID whose low 64 bits are a bijective scramble of the row key and
whose high 64 bits are a hash of those low bits. Decoding needs no lookup table, even for a
world of millions of scenes, and a forged or mistyped id fails the hash check.
"""

from __future__ import annotations

import hashlib
import uuid

import numpy as np

_MASK = (1 << 64) - 1
_MULT = 0x9E3779B97F4A7C15  # odd, hence invertible modulo 2**64
_MULT_INV = pow(_MULT, -1, 1 << 64)


def _salt(seed: int, namespace: str) -> int:
    value = seed & _MASK
    for char in namespace:
        value = (value * 0x100000001B3 ^ ord(char)) & _MASK
    return value


def _splitmix64(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_LAYOUT = np.array([*range(8), -1, *range(8, 12), -1, *range(12, 16), -1, *range(16, 20), -1, *range(20, 32)])


def uuid_strings(high: np.ndarray, low: np.ndarray) -> list[str]:
    """Format 64-bit halves as version-4 UUID strings, vectorised (a search page needs thousands)."""
    n = len(high)
    halves = np.empty((n, 2), dtype=">u8")
    halves[:, 0] = (high.astype(np.uint64) & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    halves[:, 1] = (low.astype(np.uint64) & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    raw = halves.view(np.uint8).reshape(n, 16)
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 0x0F
    chars = _HEX_DIGITS[nibbles]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    columns = _UUID_LAYOUT >= 0
    out[:, columns] = chars[:, _UUID_LAYOUT[columns]]
    text = out.tobytes().decode("ascii")
    return [text[i : i + 36] for i in range(0, 36 * n, 36)]


def hashed_uuids(keys: np.ndarray, salt: int) -> list[str]:
    """Stable random-looking UUIDs for (key, salt) pairs, e.g. an item's activity id."""
    base = keys.astype(np.uint64) ^ np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
    high = _splitmix64(base)
    return uuid_strings(high, _splitmix64(high))


def stable_uuid4(text: str) -> str:
    """A version-4-shaped UUID derived from `text` (the spec's ids "follow UUID v4")."""
    digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


class IdCodec:
    """Encodes integer row keys as UUID strings, and back, within one namespace."""

    def __init__(self, seed: int, namespace: str) -> None:
        self._salt = _salt(seed, namespace)
        self._check = _salt(seed ^ 0x5DEECE66D, namespace[::-1])

    def encode_many(self, keys: np.ndarray) -> list[str]:
        """UUID strings for many keys at once."""
        with np.errstate(over="ignore"):
            low = (keys.astype(np.uint64) * np.uint64(_MULT)) ^ np.uint64(self._salt)
        high = _splitmix64(low ^ np.uint64(self._check))
        # version 4 and RFC 4122 variant bits, as a real UUID4 would carry
        return uuid_strings(high, low)

    def encode(self, key: int) -> str:
        return self.encode_many(np.array([key], dtype=np.int64))[0]

    def decode(self, text: str) -> int | None:
        """The key an id names, or None for anything this codec did not produce."""
        try:
            value = uuid.UUID(text.strip()).int
        except (ValueError, AttributeError):
            return None
        high, low_variant = value >> 64, value & _MASK
        # the two variant bits overwrote the top of `low`; keys are below 2**62 so try both
        for top in (0b10, 0b00, 0b01, 0b11):
            low = (low_variant & 0x3FFFFFFFFFFFFFFF) | (top << 62)
            key = ((low ^ self._salt) * _MULT_INV) & _MASK
            if key >= 1 << 62:
                continue
            expected = int(_splitmix64(np.array([low ^ self._check], dtype=np.uint64))[0])
            expected = (expected & 0xFFFFFFFFFFFF0FFF) | 0x0000000000004000
            if expected == high:
                return key
        return None
