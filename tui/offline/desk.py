"""Device-code sign-in sessions of the offline backend, and the tokens it has issued.

Pure and thread-safe (no aiohttp here, so the server binds without loading it): the server's
loop answers polls while a test's thread — or the device page a person clicks — decides them.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SIGNIN_OUTCOMES", "SignInDesk", "SignInSession"]

SIGNIN_OUTCOMES = ("authorize", "deny", "expire")


@dataclass
class SignInSession:
    """One device-code session as the offline server sees it."""

    device_code: str
    user_code: str
    created: float
    expires_in: float
    status: str = "pending"  # pending | authorized | denied | expired
    polls: int = 0
    token: str | None = field(default=None, repr=False)


class SignInDesk:
    """Device-code sessions, thread-safe: the server's loop and a test's thread both use it.

    ``auto`` ("authorize", "deny" or "expire") decides a session by itself once it has been
    polled ``auto_after_polls`` times while pending; None waits for a person or a test.
    """

    def __init__(
        self,
        *,
        poll_interval: float = 1.0,
        expires_in: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.poll_interval = poll_interval
        self.expires_in = expires_in
        self.auto: str | None = None
        self.auto_after_polls = 1
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, SignInSession] = {}
        self._issued: set[str] = set()

    # -- knobs ------------------------------------------------------------------------------

    def approve(self, user_code: str | None = None) -> str:
        """Authorize a pending session (the newest when ``user_code`` is None); returns its token."""
        with self._lock:
            session = self._pending(user_code)
            self._authorize(session)
            assert session.token is not None
            return session.token

    def deny(self, user_code: str | None = None) -> None:
        with self._lock:
            self._pending(user_code).status = "denied"

    def expire(self, user_code: str | None = None) -> None:
        with self._lock:
            self._pending(user_code).status = "expired"

    def sessions(self) -> list[SignInSession]:
        """Copies of every session, oldest first."""
        with self._lock:
            return [SignInSession(**vars(s)) for s in self._sessions.values()]

    def issued_tokens(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._issued)

    # -- what the routes call ---------------------------------------------------------------

    def start(self, origin: str) -> dict[str, Any]:
        with self._lock:
            user_code = "-".join(secrets.token_hex(2).upper() for _ in range(2))
            session = SignInSession(
                device_code=secrets.token_urlsafe(24),
                user_code=user_code,
                created=self._clock(),
                expires_in=self.expires_in,
            )
            self._sessions[session.device_code] = session
        return {
            "device_code": session.device_code,
            "user_code": user_code,
            "verify_url": f"{origin}/device?code={user_code}",
            "expires_in": self.expires_in,
            "poll_interval": self.poll_interval,
        }

    def poll(self, device_code: str) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) for one poll."""
        with self._lock:
            session = self._sessions.get(device_code)
            if session is None:
                return 404, {"error_message": "unknown device code"}
            session.polls += 1
            if session.status == "pending":
                if self._clock() - session.created >= session.expires_in:
                    session.status = "expired"
                elif self.auto in SIGNIN_OUTCOMES and session.polls > self.auto_after_polls:
                    if self.auto == "authorize":
                        self._authorize(session)
                    else:
                        session.status = "denied" if self.auto == "deny" else "expired"
            if session.status == "authorized":
                return 200, {"status": "authorized", "access_token": session.token}
            if session.status in {"denied", "expired"}:
                return 410, {"status": session.status}
            return 200, {"status": "pending"}

    def decide(self, user_code: str, approve: bool) -> bool:
        """The device page's buttons; False when no pending session has that code."""
        with self._lock:
            try:
                session = self._pending(user_code)
            except KeyError:
                return False
            if approve:
                self._authorize(session)
            else:
                session.status = "denied"
            return True

    def accepts(self, token: str) -> bool:
        with self._lock:
            given = token.encode("utf-8", "replace")
            return any(secrets.compare_digest(given, issued.encode()) for issued in self._issued)

    # -- internals (lock held) ----------------------------------------------------------------

    def _pending(self, user_code: str | None) -> SignInSession:
        candidates = [
            s for s in self._sessions.values()
            if s.status == "pending" and (user_code is None or s.user_code == user_code.upper())
        ]
        if not candidates:
            raise KeyError(user_code or "no pending sign-in")
        return candidates[-1]

    def _authorize(self, session: SignInSession) -> None:
        session.status = "authorized"
        session.token = "offline-" + secrets.token_urlsafe(24)
        self._issued.add(session.token)
