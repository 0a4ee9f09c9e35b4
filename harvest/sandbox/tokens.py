"""Bearer tokens that look like the providers' JWTs and carry their real expiry inside."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass

import orjson

from harvest.timestamps import NS_PER_S


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of checking a bearer token."""

    ok: bool
    reason: str = ""  # "missing", "malformed", "expired", "wrong audience"
    subject: str = ""


class TokenAuthority:
    """Mints and verifies HS256 JWTs for one sandbox (the key derives from its seed)."""

    def __init__(self, seed: int) -> None:
        self._key = hashlib.sha256(f"harvest-sandbox-token-key:{seed}".encode()).digest()

    def mint(self, *, subject: str, audience: str, issued_ns: int, lifetime_s: float) -> str:
        header = _b64(b'{"alg":"HS256","typ":"JWT"}')
        payload = _b64(
            orjson.dumps(
                {
                    "sub": subject,
                    "aud": audience,
                    "iat": issued_ns // NS_PER_S,
                    "exp_ns": issued_ns + int(lifetime_s * NS_PER_S),
                    "exp": (issued_ns + int(lifetime_s * NS_PER_S)) // NS_PER_S,
                    "jti": str(uuid.uuid4()),
                }
            )
        )
        signature = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"

    def check(self, authorization: str | None, *, audience: str, now_ns: int) -> TokenCheck:
        if not authorization:
            return TokenCheck(False, "missing")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.count(".") != 2:
            return TokenCheck(False, "malformed")
        header, payload, signature = token.strip().split(".")
        expected = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return TokenCheck(False, "malformed")
        try:
            claims = orjson.loads(_unb64(payload))
        except (ValueError, orjson.JSONDecodeError):
            return TokenCheck(False, "malformed")
        if claims.get("aud") != audience:
            return TokenCheck(False, "wrong audience")
        if now_ns >= int(claims.get("exp_ns", 0)):
            return TokenCheck(False, "expired")
        return TokenCheck(True, subject=str(claims.get("sub", "")))
