"""What can go wrong when landing a delivery, in words that say what to do about it."""

from __future__ import annotations

from harvest.providers.errors import Gone


class DeliveryError(Exception):
    """A delivered file could not be landed."""


class UnsafeFileName(DeliveryError, ValueError):
    """A provider's file name that could escape the delivery folder or confuse a file system."""


class DeliveryExpired(Gone):
    """410: the provider no longer keeps the delivery's files."""

    default_hint = "the delivery has expired at {provider}; order it again"

    @classmethod
    def from_gone(cls, error: Gone) -> DeliveryExpired:
        """The same provider answer, told as an expired delivery."""
        return cls(
            error.provider,
            f"delivery expired: {error.message}",
            status=error.status,
            request_id=error.request_id,
            method=error.method,
            url=error.url,
            code=error.code,
            body=error.body,
        )


class ChecksumMismatch(DeliveryError):
    """A downloaded file kept arriving with other bytes than the provider announced."""

    what = "md5"

    def __init__(self, url: str, expected: str, got: str, attempts: int) -> None:
        self.url = url  # without secrets (harvest.providers.errors.safe_url)
        self.expected = expected
        self.got = got
        self.attempts = attempts
        super().__init__(
            f"{url}: {self.what} mismatch after {attempts} attempt{'s' * (attempts != 1)} "
            f"(expected {expected}, got {got}); the provider keeps serving damaged data: try again later "
            "or ask the provider to re-deliver"
        )


class SizeMismatch(ChecksumMismatch):
    """A downloaded file kept arriving with another size than the provider announced."""

    what = "size"
