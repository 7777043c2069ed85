"""Device-code sign-in, as the official ``runcomfy login`` does it.

``POST {web base}/api/cli-auth/start`` (no token) answers ``{device_code, user_code, verify_url,
expires_in, poll_interval}``; the user opens ``verify_url`` and confirms ``user_code`` there while
this side polls ``POST {web base}/api/cli-auth/poll`` with ``{device_code}`` every
``poll_interval`` seconds until the answer is ``authorized`` (with an ``access_token``),
``denied`` or ``expired`` — those two come with HTTP 410 and the JSON body.

The access token is a :class:`~pydantic.SecretStr` from the moment it is read; the device code
(which would let anyone collect the token) is never shown either.
"""

from __future__ import annotations

import asyncio
import enum
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, SecretStr

from ..trust.sanitize import clean_text
from ..trust.token import UnsafeToken, check_token_text
from ..trust.urls import is_loopback
from .errors import ProtocolError, RateLimited, ServerError, TransportError
from .service import JsonChannel

if TYPE_CHECKING:
    pass

__all__ = [
    "DEFAULT_EXPIRES_IN",
    "MAX_EXPIRES_IN",
    "DeviceCode",
    "SignInClient",
    "SignInResult",
    "SignInStatus",
    "sign_in",
    "wait_for_authorization",
]

DEFAULT_EXPIRES_IN = 600.0  # when the server does not say how long the code lives
MAX_EXPIRES_IN = 3600.0
DEFAULT_POLL_INTERVAL = 5.0
MAX_POLL_INTERVAL = 60.0
# The official CLI never polls faster than once a second; a server on this machine may ask for
# quicker polls (the offline backend and the tests do).
MIN_POLL_INTERVAL = 1.0
MIN_LOOPBACK_POLL_INTERVAL = 0.05
_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


class SignInStatus(enum.StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    DENIED = "denied"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """One sign-in session. ``user_code`` and ``verify_url`` are for the user; the rest is not."""

    device_code: str = field(repr=False)
    user_code: str
    verify_url: str
    expires_in: float
    poll_interval: float


@dataclass(frozen=True, slots=True)
class SignInResult:
    """How a sign-in ended; ``token`` only when authorized."""

    status: SignInStatus
    token: SecretStr | None = None


class _StartAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")

    device_code: Any = None
    user_code: Any = None
    verify_url: Any = None
    expires_in: Any = None
    poll_interval: Any = None


class _PollAnswer(BaseModel):
    model_config = ConfigDict(extra="allow", hide_input_in_errors=True)

    status: Any = None
    access_token: Any = None


def _seconds(value: Any, default: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    if not math.isfinite(value):
        return default
    return min(max(float(value), low), high)


def check_verify_url(value: Any) -> str:
    """The verify URL if it is safe to show and open: https (http on loopback), no credentials."""
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise ProtocolError("the sign-in answer has no usable verify_url")
    if _UNSAFE_URL_CHARS.search(value):
        raise ProtocolError("the sign-in verify_url contains spaces or control characters")
    import httpx

    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise ProtocolError("the sign-in verify_url is not a URL") from None
    secure = url.scheme == "https" or (url.scheme == "http" and is_loopback(url.host))
    if not url.host or not secure or url.userinfo:
        raise ProtocolError("the sign-in verify_url is not an https URL")
    return value


class SignInClient:
    """Start and poll a device-code sign-in through :class:`JsonChannel` (no token sent)."""

    def __init__(self, channel: JsonChannel) -> None:
        self._channel = channel

    @property
    def base_url(self) -> str:
        return self._channel.base_url

    @property
    def min_poll_interval(self) -> float:
        import httpx

        host = httpx.URL(self._channel.base_url).host
        return MIN_LOOPBACK_POLL_INTERVAL if is_loopback(host) else MIN_POLL_INTERVAL

    async def start(self) -> DeviceCode:
        answer = await self._channel.post_json("sign-in start", "/api/cli-auth/start", _StartAnswer)
        device_code = answer.device_code
        if not isinstance(device_code, str) or not 0 < len(device_code) <= 1024:
            raise ProtocolError("the sign-in answer has no usable device_code")
        try:
            check_token_text(device_code, source="the device code")
        except UnsafeToken:
            raise ProtocolError("the sign-in answer's device_code is not printable ASCII") from None
        user_code = clean_text(answer.user_code, limit=64).strip() if answer.user_code else ""
        if not user_code:
            raise ProtocolError("the sign-in answer has no user_code")
        return DeviceCode(
            device_code=device_code,
            user_code=user_code,
            verify_url=check_verify_url(answer.verify_url),
            expires_in=_seconds(answer.expires_in, DEFAULT_EXPIRES_IN, 1.0, MAX_EXPIRES_IN),
            poll_interval=_seconds(
                answer.poll_interval, DEFAULT_POLL_INTERVAL, self.min_poll_interval,
                MAX_POLL_INTERVAL,
            ),
        )

    async def poll(self, device_code: str) -> SignInResult:
        answer = await self._channel.post_json(
            "sign-in poll", "/api/cli-auth/poll", _PollAnswer, {"device_code": device_code}
        )
        status = str(answer.status or "").strip().lower()
        if status == SignInStatus.AUTHORIZED:
            token = answer.access_token
            if not isinstance(token, str):
                raise ProtocolError("the server said authorized but sent no access_token")
            try:
                secret = check_token_text(token.strip(), source="the access token")
            except UnsafeToken as exc:
                raise ProtocolError(f"the server sent an unusable access token: {exc}") from None
            return SignInResult(SignInStatus.AUTHORIZED, SecretStr(secret))
        try:
            return SignInResult(SignInStatus(status))
        except ValueError:
            shown = clean_text(status, limit=40) or "nothing"
            raise ProtocolError(f"unexpected sign-in status {shown!r}") from None

    async def aclose(self) -> None:
        await self._channel.aclose()


OnWait = Callable[[float, str | None], None]


async def wait_for_authorization(
    client: SignInClient,
    code: DeviceCode,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_wait: OnWait | None = None,
) -> SignInResult:
    """Poll until the user authorizes or denies, or the code expires (also checked locally).

    ``on_wait(seconds_left, note)`` is called before each wait; ``note`` says why the last poll
    did not answer (network trouble is waited out until the code expires, like the user's
    browser tab would be). Other errors are raised.
    """
    deadline = clock() + code.expires_in
    note: str | None = None
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            return SignInResult(SignInStatus.EXPIRED)
        if on_wait is not None:
            on_wait(remaining, note)
        await sleep(min(code.poll_interval, remaining))
        try:
            result = await client.poll(code.device_code)
        except (TransportError, ServerError, RateLimited) as exc:
            note = exc.message
            continue
        note = None
        if result.status is not SignInStatus.PENDING:
            return result


async def sign_in(
    client: SignInClient,
    *,
    on_code: Callable[[DeviceCode], None],
    on_wait: OnWait | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SignInResult:
    """The whole flow: start, show the code (``on_code``), wait for the user's answer."""
    code = await client.start()
    on_code(code)
    return await wait_for_authorization(client, code, sleep=sleep, clock=clock, on_wait=on_wait)
