"""Secrets that never show themselves, and redaction of their values from any text.

Every `Secret` registers its value (when it is at least `MIN_REDACTED_LENGTH` characters long), so
`redact(text)` can remove it from exception messages and log records, and `RedactingFilter` does
the same for logging. Patterns that look like credentials (`Bearer …`, `apikey=…`, `"access_token": …`)
are masked even when their value was never registered.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading

MASK = "***"
MIN_REDACTED_LENGTH = 8  # shorter values would mask ordinary words in logs; real credentials are longer

_registry: set[str] = set()
_registry_lock = threading.Lock()
_ordered: tuple[str, ...] = ()  # longest first, so a secret containing another is masked whole

# names of fields that hold credentials, in JSON bodies and forms/query strings
_SECRET_FIELDS = r"access_token|refresh_token|id_token|client_secret|apikey|api_key|api_secret|password|secret"  # noqa: S105
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # a credential after Bearer/Basic has a digit or punctuation in it; prose ("basic information") has not
    (
        re.compile(
            r"(?i)\b(bearer|basic)(\s+)"
            r"(?=[A-Za-z._~+/=-]*\d|[A-Za-z]*[._~+/=-][A-Za-z0-9_~+/=-])"
            r"[A-Za-z0-9._~+/=-]{8,}"
        ),
        rf"\1\2{MASK}",
    ),
    (re.compile(rf'(?i)("(?:{_SECRET_FIELDS})"\s*:\s*)"[^"]*"'), rf'\1"{MASK}"'),
    (re.compile(rf"(?i)\b((?:{_SECRET_FIELDS})=)[^&\s\"']+"), rf"\1{MASK}"),
)


def _register(value: str) -> None:
    global _ordered
    if len(value) < MIN_REDACTED_LENGTH:
        return
    variants = {value, json.dumps(value)[1:-1]}  # also the form it takes inside a JSON string
    with _registry_lock:
        if variants <= _registry:
            return
        _registry.update(variants)
        _ordered = tuple(sorted(_registry, key=len, reverse=True))


def redact(text: str) -> str:
    """`text` with every registered secret value and every credential-looking pattern masked."""
    for value in _ordered:
        if value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Secret:
    """A secret string: `repr`, `str`, f-strings and logging show `***`; `.reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        self._value = value
        _register(value)

    def reveal(self) -> str:
        """The secret value itself: pass it only to the request that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))


class RedactingFilter(logging.Filter):
    """A logging filter that formats each record's message and masks secrets in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to complain
            return True
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return True


_FILTER = RedactingFilter()
_THIRD_PARTY_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy")


def redact_logger(name: str) -> logging.Logger:
    """The logger called `name`, with `RedactingFilter` attached once."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def install_log_redaction() -> None:
    """Attach `RedactingFilter` to the loggers of httpx and httpcore (idempotent)."""
    for name in _THIRD_PARTY_LOGGERS:
        redact_logger(name)
