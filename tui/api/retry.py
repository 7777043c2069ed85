"""When and how long to wait before trying a Model API call again.

Pure arithmetic and classification, no I/O: :class:`RetryPolicy` holds the knobs,
:func:`parse_retry_after` reads the server's wish, :func:`backoff_delay` is capped exponential
backoff with jitter, and :func:`is_retryable` says which failures are worth another attempt.

Reads (status, result) and cancel retry network trouble and 408/429/500/502/503/504. A submit
is retried only when it certainly never reached the server — it costs money, and a second one
is a second bill.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import (
    ApiError,
    HttpStatusError,
    RateLimited,
    ServerError,
    TransportError,
)

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryNotice",
    "RetryPolicy",
    "backoff_delay",
    "is_retryable",
    "parse_retry_after",
    "retry_delay",
]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a call is retried, and how long one attempt may take.

    ``max_attempts`` counts the first try. ``call_deadline`` bounds a whole attempt (connect,
    send, and reading the body) whatever httpx's per-chunk timeouts say: a server dripping one
    byte per second satisfies a 30 s read timeout forever.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 0.25
    max_retry_after: float = 120.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    write_timeout: float = 30.0
    pool_timeout: float = 10.0
    call_deadline: float = 60.0


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """Told to ``on_retry`` before each wait: which call, which attempt failed, how long, why."""

    operation: str
    attempt: int
    delay: float
    reason: str


def _finite_non_negative(value: float) -> float | None:
    if math.isnan(value) or math.isinf(value) or value < 0:
        return None
    return value


def parse_retry_after(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds the server asks us to wait, or None when it said nothing usable.

    Reads ``retry-after-ms`` first (milliseconds), then ``Retry-After`` as seconds or as an
    HTTP-date (relative to ``now``, UNIX seconds). Negative, past, infinite or garbage → None.
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            parsed = _finite_non_negative(float(raw_ms.strip()) / 1000.0)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return _finite_non_negative(float(raw))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # the rare HTTP-date form only

    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    delta = when.timestamp() - now
    return delta if delta >= 0 else None


def backoff_delay(attempt: int, policy: RetryPolicy, random: Callable[[], float]) -> float:
    """Delay after failed attempt number ``attempt`` (1-based): capped exponential with jitter.

    ``base_delay · 2^(attempt-1)``, capped at ``max_delay``, then reduced by up to ``jitter``
    (a fraction) so that many clients don't retry in lock-step. Never above ``max_delay``.
    """
    exponent = max(attempt - 1, 0)
    delay = (
        policy.max_delay
        if exponent > 60
        else min(policy.max_delay, policy.base_delay * 2**exponent)
    )
    fraction = min(max(random(), 0.0), 1.0)
    return max(delay * (1.0 - policy.jitter * fraction), 0.0)


def is_retryable(error: ApiError, *, submit: bool = False) -> bool:
    """True when another attempt is safe and may help.

    ``submit``: only failures that certainly never reached the server (a connection that was
    never made, a pool timeout) or that the server refused outright (429).
    """
    if isinstance(error, RateLimited):
        return True
    if isinstance(error, TransportError):
        return not error.request_sent if submit else True
    if submit:
        return False
    if isinstance(error, HttpStatusError):
        if error.status in RETRYABLE_STATUSES:
            return True
        # HTTP 200 carrying a 5xxxxx error_code (500001 "internal, retry with backoff").
        return isinstance(error, ServerError) and not 500 <= error.status < 600
    return False


def retry_delay(
    error: ApiError, attempt: int, policy: RetryPolicy, random: Callable[[], float]
) -> float:
    """How long to wait after ``error``: the server's positive Retry-After, else backoff."""
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None and 0 < retry_after <= policy.max_retry_after:
        return float(retry_after)
    return backoff_delay(attempt, policy, random)
