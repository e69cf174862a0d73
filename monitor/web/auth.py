"""Passwords, signed session cookies, CSRF tokens and the failed-login limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor.web.settings import WebConfig

SESSION_COOKIE = "bm_session"
LOGIN_COOKIE = "bm_login"  # a random value the login form's CSRF token is bound to
_hasher = PasswordHasher()
# Verified against when the user name is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash for `[[web.users]] password_hash`."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when the password matches the hash; a malformed hash never matches."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user: who, which session and until when."""

    user: str
    sid: str  # random, per login; CSRF tokens are bound to it
    expires: int  # unix seconds


class Signer:
    """HMAC-SHA256 with the `[web] secret`, one purpose label per use so tokens never mix."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def sign(self, purpose: str, message: str) -> str:
        """The hex MAC of `message` for `purpose`."""
        return hmac.new(self._key, f"{purpose}\n{message}".encode(), hashlib.sha256).hexdigest()

    def check(self, purpose: str, message: str, mac: str) -> bool:
        """Constant-time check of a MAC made by `sign`."""
        return hmac.compare_digest(self.sign(purpose, message), mac)


class Sessions:
    """Stateless session cookies (they survive a restart); logout revokes in memory."""

    def __init__(self, signer: Signer, lifetime: float, now: Callable[[], float] = time.time):
        self.signer = signer
        self.lifetime = lifetime
        self.now = now
        self._revoked: dict[str, int] = {}  # sid -> expiry, forgotten once it has expired

    def issue(self, user: str) -> tuple[Session, str]:
        """A new session for `user` and its cookie value."""
        session = Session(user, secrets.token_urlsafe(16), int(self.now() + self.lifetime))
        body = _b64(json.dumps([session.user, session.sid, session.expires]).encode())
        return session, f"{body}.{self.signer.sign('session', body)}"

    def read(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None when it is missing, forged, expired or revoked."""
        if not cookie or "." not in cookie:
            return None
        body, _, mac = cookie.rpartition(".")
        if not self.signer.check("session", body, mac):
            return None
        try:
            user, sid, expires = json.loads(_unb64(body))
        except (ValueError, TypeError):
            return None
        if not (isinstance(user, str) and isinstance(sid, str) and isinstance(expires, int)):
            return None
        if expires <= self.now() or sid in self._revoked:
            return None
        return Session(user, sid, expires)

    def revoke(self, session: Session) -> None:
        """Log a session out before its cookie expires."""
        now = self.now()
        self._revoked = {s: e for s, e in self._revoked.items() if e > now}
        self._revoked[session.sid] = session.expires

    def csrf_token(self, session: Session) -> str:
        """The token every form of this session carries."""
        return self.signer.sign("csrf", session.sid)

    def check_csrf(self, session: Session, token: str | None) -> bool:
        """True when the form's token belongs to this session."""
        return bool(token) and self.signer.check("csrf", session.sid, token or "")


class LoginLimiter:
    """Failed logins per user name and per client address within a sliding window."""

    def __init__(self, attempts: int, window: float, now: Callable[[], float] = time.monotonic):
        self.attempts = attempts
        self.window = window
        self.now = now
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        cutoff = self.now() - self.window
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until this user or address may try again (0: now)."""
        waits = []
        for key in (f"user:{user}", f"addr:{address}"):
            failures = self._recent(key)
            if len(failures) >= self.attempts:
                waits.append(failures[0] + self.window - self.now())
        return max(waits, default=0.0)

    def failed(self, user: str, address: str) -> None:
        """Count one failed login for both the user name and the address."""
        for key in (f"user:{user}", f"addr:{address}"):
            self._recent(key).append(self.now())
        # Bound memory under a spray of random user names: drop keys with no recent failures.
        if len(self._failures) > 10_000:
            self._failures = {k: v for k, v in self._failures.items() if self._recent(k)}

    def succeeded(self, user: str) -> None:
        """A good password clears the user's count (the address keeps its own)."""
        self._failures.pop(f"user:{user}", None)


class Users:
    """The configured users and their password hashes."""

    def __init__(self, config: WebConfig) -> None:
        self._hashes = {u.name: u.password_hash for u in config.users}

    def check(self, name: str, password: str) -> bool:
        """True when `name` is a configured user and `password` is theirs."""
        stored = self._hashes.get(name)
        if stored is None:
            verify_password(_DUMMY_HASH, password)
            return False
        value = stored if isinstance(stored, str) else stored.reveal()
        return verify_password(value, password)

    def __bool__(self) -> bool:
        return bool(self._hashes)
