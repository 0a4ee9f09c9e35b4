"""`download()`: one delivered file onto disk, resumed after interruptions, verified, then atomically renamed.

The bytes stream into `<folder>/.<name>.part` (see `partial.py`), hashed as they arrive. When the
body breaks off, or ends short of its Content-Length, the next request asks for the rest with
`Range: bytes=N-` and `If-Range` (the ETag or Last-Modified it was served with); a 200 instead of
206 means the file changed or the server ignores ranges, and the download starts over. A `.part`
left by an earlier, crashed run is resumed the same way. The whole file is checked against the
md5 the Deliverable states, else the provider's `X-Ads-Checksum-*` headers (OneAtlas), else its
size (Content-Length, Content-Range, Deliverable.size); a mismatch drops the partial and starts
over. Only a verified file is renamed to its final name.

Nothing is written past the file's size: a response announcing another size than the Deliverable
states is a mismatch before its body is read, and a body running past the stated (or announced)
size is cut there and is a mismatch. A body nobody states a size of is bounded by `size_limit`
(HARVEST_DOWNLOAD_SIZE_LIMIT, see `limits.py`); past it the partial is deleted and the download
fails at once, as it would every time. The partial is also deleted when the last attempt failed
its check: it can never become the file.

A full disk (ENOSPC, EDQUOT) stops the download with `DiskFull`, naming the folder and the bytes
still needed, and keeps what was written for a resume once space is freed; a file too large for
the file system (EFBIG) is deleted instead.

`max_attempts` bounds the failures: requests that bring no new byte, and mismatches. An
interruption after progress costs nothing, so flaky links finish, and a dead one fails fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from harvest.delivery.deliverable import Deliverable
from harvest.delivery.errors import (
    FULL_DISK,
    RESUMABLE_FULL,
    ChecksumMismatch,
    DeliveryError,
    DeliveryExpired,
    DiskFull,
    DownloadTooLarge,
    SizeMismatch,
)
from harvest.delivery.limits import DEFAULT_SIZE_LIMIT
from harvest.delivery.names import safe_filename
from harvest.delivery.partial import PartialFile, file_md5
from harvest.delivery.progress import Progress, ProgressCallback
from harvest.delivery.responses import announced_md5, content_range, parse_md5, validator, whole_size
from harvest.providers.arlula import Download
from harvest.providers.errors import Gone, ProviderError, TransportError, safe_url
from harvest.providers.http import ProviderHttp
from harvest.providers.secrets import redact_logger

log = redact_logger(__name__)

CHUNK = 1 << 20
REDIRECTS = (301, 302, 303, 307, 308)
_SERVED = (200, 206, 416)


@dataclass(frozen=True)
class LandedFile:
    """A verified file at its final path, and what it took to get it there."""

    name: str  # the provider's (sanitised) relative name
    path: Path
    size: int
    md5: str
    bytes_transferred: int  # body bytes received by this call (0 when an existing file was reused)
    attempts: int  # GET requests sent by this call
    resumed: bool  # continued from bytes already on disk (an interrupted request or an earlier run)


@dataclass(frozen=True)
class _Expected:
    """What the whole file must be: its md5 if anyone states one, its size as served and as stated."""

    md5: str | None
    served_size: int | None
    stated_size: int | None

    @property
    def size(self) -> int | None:
        """The whole file's size, if anyone states it (the server's answer first)."""
        return self.served_size if self.served_size is not None else self.stated_size

    def disagreement(self, url: str, attempts: int) -> SizeMismatch | None:
        """The error if the server announces another size than the Deliverable states."""
        if None in (self.served_size, self.stated_size) or self.served_size == self.stated_size:
            return None
        return SizeMismatch(url, f"{self.stated_size} bytes", f"{self.served_size} bytes", attempts)

    def mismatch(self, url: str, size: int, md5: str, attempts: int) -> ChecksumMismatch | None:
        """The error if a file of `size` bytes and `md5` is not the one expected."""
        for wanted in (self.served_size, self.stated_size):
            if wanted is not None and wanted != size:
                return SizeMismatch(url, f"{wanted} bytes", f"{size} bytes", attempts)
        if self.md5 is not None and md5 != self.md5:
            return ChecksumMismatch(url, self.md5, md5, attempts)
        return None


@contextlib.contextmanager
def _served(
    http: ProviderHttp, deliverable: Deliverable, method: str, headers: Mapping[str, str]
) -> Iterator[httpx.Response]:
    """The response carrying the bytes; a data redirect (Arlula) is followed to storage without credentials."""
    try:
        with http.stream(
            method,
            deliverable.url,
            headers=headers,
            expected=(*_SERVED, *REDIRECTS),
            authenticate=deliverable.authenticated,
        ) as response:
            if response.status_code not in REDIRECTS:
                yield response
                return
            storage = Download.from_redirect(response)
        with http.stream(method, storage.url, headers=headers, expected=_SERVED, authenticate=False) as response:
            yield response
    except Gone as exc:
        raise DeliveryExpired.from_gone(exc) from exc


def _expected(md5: str | None, deliverable: Deliverable, response: httpx.Response) -> _Expected:
    return _Expected(md5 or announced_md5(response), whole_size(response), deliverable.size)


class _Transfer:
    """One call of `download()`: the partial, the counters, the loop."""

    def __init__(
        self,
        http: ProviderHttp,
        deliverable: Deliverable,
        name: str,
        final: Path,
        md5: str | None,
        progress: Progress,
        max_attempts: int,
        size_limit: int,
    ) -> None:
        self.http = http
        self.deliverable = deliverable
        self.name = name
        self.final = final
        self.md5 = md5
        self.progress = progress
        self.max_attempts = max_attempts
        self.size_limit = size_limit
        self.url = safe_url(deliverable.url)
        self.attempts = 0
        self.failures = 0
        self.transferred = 0
        self.resumed = False
        self.total = deliverable.size  # the whole file's size, once anyone states it

    def run(self) -> LandedFile:
        partial: PartialFile | None = None
        try:
            partial = PartialFile(self.final)
            return self._attempts(partial)
        except DownloadTooLarge:
            if partial is not None:
                partial.discard()
            raise
        except OSError as exc:
            if exc.errno not in FULL_DISK:
                raise
            raise self._disk_full(partial, exc) from exc
        finally:
            if partial is not None and partial.size == 0:
                partial.discard()  # nothing in it to resume: no empty .part is left behind by a refusal
            elif partial is not None:
                partial.close()

    def _attempts(self, partial: PartialFile) -> LandedFile:
        """Request until the file lands or `max_attempts` failures; the last failure is raised."""
        bound = self.deliverable.size if self.deliverable.size is not None else self.size_limit
        if partial.size > bound:
            log.warning("%s: the partial download is longer than the file can be; starting over", self.url)
            partial.restart()
        elif partial.size:
            log.info("%s: found a partial download of %d bytes from an earlier run", self.url, partial.size)
        last_error: Exception | None = None
        while self.failures < self.max_attempts:
            outcome = self._attempt(partial)
            if isinstance(outcome, LandedFile):
                return outcome
            last_error = outcome
        assert last_error is not None
        if isinstance(last_error, ChecksumMismatch):
            partial.discard()  # already emptied for the next try that will not come
        raise last_error

    def _disk_full(self, partial: PartialFile | None, error: OSError) -> DiskFull:
        """The message for a full file system; the partial is kept if a write failed on space that can be freed."""
        keep = partial is not None and partial.failure is not None and error.errno in RESUMABLE_FULL
        kept = partial.stop(keep=keep) if partial is not None else 0
        log.warning("%s: %s", self.url, error)
        return DiskFull(self.name, self.final.parent, error, size=self.total, kept=kept)

    def _headers(self, partial: PartialFile) -> dict[str, str]:
        headers = {"Accept-Encoding": "identity"}  # the bytes as stored: sizes and checksums are of those
        if partial.size:
            headers["Range"] = f"bytes={partial.size}-"
            if partial.validator:
                headers["If-Range"] = partial.validator
        return headers

    def _attempt(self, partial: PartialFile) -> LandedFile | Exception:
        """One GET: the landed file, or the error that ended it (already counted in `failures`)."""
        self.attempts += 1
        offset = partial.size
        try:
            with _served(self.http, self.deliverable, "GET", self._headers(partial)) as response:
                expected = _expected(self.md5, self.deliverable, response)
                if not self._usable(response, partial, offset):
                    self.failures += 1
                    return DeliveryError(f"{self.url}: the server's range answers do not fit the partial download")
                disagreement = expected.disagreement(self.url, self.attempts)
                if disagreement is not None:  # never read a body that cannot be the file
                    return self._mismatched(partial, disagreement)
                if response.status_code != 416:
                    overflow = self._receive(response, partial, expected.size)
                    if overflow is not None:
                        return self._mismatched(partial, overflow)
        except TransportError as exc:
            self._interrupted(partial, offset, exc.message)
            return exc
        if expected.served_size is not None and partial.size < expected.served_size:
            self._interrupted(partial, offset, f"the body ended short of {expected.served_size} bytes")
            return TransportError(
                self.http.provider,
                f"the body ended at {partial.size} of {expected.served_size} bytes",
                url=self.deliverable.url,
                hint="the download broke off; it resumes from there on the next try",
            )
        return self._verify(partial, expected)

    def _interrupted(self, partial: PartialFile, offset: int, why: str) -> None:
        if partial.size == offset:  # a break after progress costs no attempt
            self.failures += 1
        log.info("%s: interrupted at %d bytes (%s); resuming", self.url, partial.size, why)

    def _usable(self, response: httpx.Response, partial: PartialFile, offset: int) -> bool:
        """Reconcile the partial with what the server answered; False when nothing can be done with it."""
        status = response.status_code
        if status == 416:  # the partial is at least as long as the file: whole, or not the same file
            total = content_range(response)[1]
            if total is not None and total == offset:
                self.resumed = True
                return True
            log.warning("%s: the server refused the range from byte %d; starting over", self.url, offset)
            partial.restart()
            self.progress.restarted()
            return False
        if status == 206 and content_range(response)[0] != offset:
            log.warning("%s: the server answered another range than asked for; starting over", self.url)
            partial.restart()
            self.progress.restarted()
            return False
        if status == 200 and offset:
            log.info("%s: the server sent the whole file instead of the rest; starting over", self.url)
            partial.restart()
            self.progress.restarted()
        elif status == 206:
            self.resumed = True
        partial.validator = validator(response)
        return True

    def _receive(self, response: httpx.Response, partial: PartialFile, size: int | None) -> SizeMismatch | None:
        """Stream the body into the partial in chunks of at least CHUNK bytes (and what came before a break),
        never past the file's `size` (else `size_limit`): the mismatch if the body runs on."""
        if size is not None:
            self.total = size
        self.progress.total = size
        self.progress.update(partial.size)
        bound = size if size is not None else self.size_limit
        room = max(bound - partial.size, 0)
        chunk = bytearray()
        try:
            for piece in response.iter_bytes():  # as the network delivers it; no re-chunking copies
                self.transferred += len(piece)
                if len(piece) > room:  # the rest would be past the end: keep what fits, stop reading
                    chunk += piece[:room]
                    break
                chunk += piece
                room -= len(piece)
                if len(chunk) >= CHUNK:
                    partial.append(chunk)
                    chunk = bytearray()
                    self.progress.update(partial.size)
            else:
                return None
        finally:
            if chunk:
                partial.append(chunk)
        if size is None:
            raise DownloadTooLarge(self.url, self.size_limit)
        return SizeMismatch(self.url, f"{size} bytes", f"more than {size} bytes", self.attempts)

    def _mismatched(self, partial: PartialFile, mismatch: ChecksumMismatch) -> ChecksumMismatch:
        """Count a damaged copy and empty the partial for the next try."""
        self.failures += 1
        log.warning("%s; downloading it again", mismatch)  # the message starts with the URL
        partial.restart()
        self.progress.restarted()
        return mismatch

    def _verify(self, partial: PartialFile, expected: _Expected) -> LandedFile | Exception:
        md5 = partial.md5()
        mismatch = expected.mismatch(self.url, partial.size, md5, self.attempts)
        if mismatch is not None:
            return self._mismatched(partial, mismatch)
        if expected.md5 is None and expected.served_size is None and expected.stated_size is None:
            log.warning("%s: no checksum and no size to verify against; landed as received", self.url)
        self.progress.update(partial.size, final=True)
        path = partial.finish()
        return LandedFile(self.name, path, partial.size, md5, self.transferred, self.attempts, self.resumed)


def _reusable(
    http: ProviderHttp, deliverable: Deliverable, name: str, final: Path, md5: str | None
) -> LandedFile | None:
    """The file already at `final`, if it is the one the provider serves (checked by md5, else by size)."""
    if md5 is None:
        try:
            with _served(http, deliverable, "HEAD", {"Accept-Encoding": "identity"}) as response:
                expected = _expected(md5, deliverable, response)
        except ProviderError as exc:
            log.info("%s: cannot check the file already landed (%s); fetching it again", safe_url(deliverable.url), exc)
            return None
    else:
        expected = _Expected(md5, None, deliverable.size)
    size = final.stat().st_size
    have = file_md5(final)
    if expected.mismatch("", size, have, 0) is not None:
        log.warning("%s: %s differs from the delivery; downloading it again", safe_url(deliverable.url), final)
        return None
    return LandedFile(name, final, size, have, 0, 0, False)


def download(
    http: ProviderHttp,
    deliverable: Deliverable,
    folder: Path,
    *,
    path: str | None = None,
    on_progress: ProgressCallback | None = None,
    max_attempts: int = 5,
    size_limit: int | None = None,
) -> LandedFile:
    """Land one deliverable at `folder / path` (default: its provider's name): resumed, verified, atomically
    renamed; an existing good file is reused. `size_limit` bounds a file nobody states the size of.

    Raises `UnsafeFileName` for a hostile name, `DeliveryExpired` on 410, `ChecksumMismatch` (or
    `SizeMismatch`) after `max_attempts` damaged copies, `DownloadTooLarge` past `size_limit`,
    `DiskFull` when the file system is full, and the provider's error otherwise.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    limit = DEFAULT_SIZE_LIMIT if size_limit is None else size_limit
    if limit < 1:
        raise ValueError(f"size_limit must be at least 1 byte, got {limit}")
    name = safe_filename(deliverable.filename)
    relative = name if path is None else safe_filename(path)
    try:
        md5 = parse_md5(deliverable.md5)
    except ValueError as exc:
        raise DeliveryError(f"Deliverable {name!r}: {exc}") from exc
    final = Path(folder) / relative
    if final.is_file() and (reused := _reusable(http, deliverable, name, final, md5)) is not None:
        log.info("%s: already landed and verified at %s", safe_url(deliverable.url), final)
        return reused
    progress = Progress(f"{http.provider} {relative}", on_progress, log)
    return _Transfer(http, deliverable, name, final, md5, progress, max_attempts, limit).run()
