"""Fault knobs of the offline server: which misbehaviour, how often, and how fast jobs move.

Tests force exact faults per route (``OfflineServer.force``); soak runs and demos use seeded
random rates so a failure seen once can be replayed with the same seed.
"""

from __future__ import annotations

import enum
import random
import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["OUTPUT_SHAPES", "ROUTES", "Fault", "FaultConfig", "FaultPicker", "Timing"]

ROUTES = ("submit", "status", "result", "cancel", "files")
OUTPUT_SHAPES = ("string", "list", "images", "nested", "dict", "empty", "untrusted", "mixed")


@dataclass
class Timing:
    """How long a job spends in each state. Tests use tiny values, or huge ones + ``advance``."""

    queue_seconds: float = 1.5  # time a job waits "in_queue"
    run_seconds: float = 2.5  # time "in_progress"
    queue_ahead: int = 3  # initial queue_position; counts down to 0 during queue_seconds


class Fault(enum.StrEnum):
    """One forced misbehaviour for one request (see ``OfflineServer.force``)."""

    HTTP_500 = "http_500"  # JSON error body, error_code 500001
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    RATE_LIMIT_429 = "rate_limit_429"  # Retry-After from FaultConfig.retry_after, error_code 429001
    RESET = "reset"  # connection aborted before any answer (nothing done)
    RESET_AFTER_ACCEPT = "reset_after_accept"  # submit: job created, then connection aborted
    DRIP = "drip"  # the normal answer, one byte every drip_seconds
    TRUNCATE = "truncate"  # full Content-Length declared, half the body sent, then abort
    NOT_IMAGE = "not_image"  # 200 with an HTML page (captive portal)
    GZIP_BOMB = "gzip_bomb"  # Content-Encoding: gzip, ~64 MiB of zeros once decoded
    OVERSIZED = "oversized"  # a valid PNG header claiming 20000x20000 pixels
    UNKNOWN_STATUS = "unknown_status"  # status: {"status": unknown_status_text}
    HOSTILE_FAILURE = "hostile_failure"  # the job fails with escape codes and markup in its error
    HANG = "hang"  # no answer at all, the connection held open until the client gives up
    ACCEPT_WITH_ERROR = "accept_with_error"  # submit: 200 with a request_id AND an error_code
    RESULT_NOT_READY = "result_not_ready"  # result: "in_queue", no output, whatever status said
    SHORT_BODY = "short_body"  # Content-Length N, N-4 bytes sent, then the connection closed
    CUT_IMAGE = "cut_image"  # a PNG without its IEND chunk, with a matching Content-Length
    ECHO_TOKEN = "echo_token"  # status/result strings repeat the Authorization header
    REPEAT_REQUEST_ID = "repeat_request_id"  # submit answers with the first job's request_id


@dataclass
class FaultConfig:
    """Random faults (seeded), rates 0..1 per request. Replace or mutate at run time."""

    seed: int = 0
    rate_5xx: float = 0.0  # status/result/cancel/files (and submit if submit_faults)
    rate_429: float = 0.0  # every route, submit included; Retry-After: retry_after
    retry_after: float | str | None = 0.05  # Retry-After header value (None = header omitted)
    rate_reset: float = 0.0  # abort the TCP connection before answering
    rate_truncate: float = 0.0  # files: declare full Content-Length, send half, abort
    rate_unknown_status: float = 0.0  # status answers {"status": unknown_status_text} once
    rate_fail: float = 0.0  # a job ends "failed" with a hostile error text (decided at submit)
    drip_seconds: float = 0.0  # >0: every answer is sent one byte per drip_seconds
    submit_faults: bool = False  # apply rate_5xx/rate_reset to submits too (default: only 429)
    output_shape: str = "list"  # one of OUTPUT_SHAPES; see simulation.shape_output
    unknown_status_text: str = "warming_up"


DEFAULT_DRIP_SECONDS = 0.25  # a forced DRIP when drip_seconds is 0


class FaultPicker:
    """Decides the fault for each request: forced queues first, then the seeded random rates.

    Thread-safe: tests call ``force`` from their own thread while the server thread picks.
    """

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self._forced: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        self._config = config
        self._rng = random.Random(config.seed)

    @property
    def config(self) -> FaultConfig:
        return self._config

    @config.setter
    def config(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)

    def force(self, route: str, *faults: Fault | str) -> None:
        """Queue ``faults`` for the next requests on ``route``, one per request, in order."""
        if route not in self._forced:
            raise ValueError(f"unknown route {route!r}; expected one of {', '.join(ROUTES)}")
        parsed = [Fault(fault) for fault in faults]
        with self._lock:
            self._forced[route].extend(parsed)

    def pending(self, route: str) -> list[Fault]:
        """Forced faults not yet used on ``route``."""
        with self._lock:
            return list(self._forced[route])

    def clear(self) -> None:
        """Drop every forced fault not yet used."""
        with self._lock:
            for queue in self._forced.values():
                queue.clear()

    def pick(self, route: str) -> Fault | None:
        """The fault for one request on ``route``, or None for a normal answer."""
        with self._lock:
            queue = self._forced[route]
            if queue:
                return queue.popleft()
            return self._roll(route)

    def job_fails(self) -> bool:
        """Whether a new job should end failed (``rate_fail``)."""
        with self._lock:
            return self._hit(self._config.rate_fail)

    def drip_seconds(self, fault: Fault | None) -> float:
        """Seconds per byte for this answer, or 0 for a normal write."""
        seconds = self._config.drip_seconds
        if fault is Fault.DRIP and seconds <= 0:
            return DEFAULT_DRIP_SECONDS
        return max(0.0, seconds)

    def _hit(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def _roll(self, route: str) -> Fault | None:
        config = self._config
        if self._hit(config.rate_429):
            return Fault.RATE_LIMIT_429
        on_submit = route == "submit"
        if (not on_submit or config.submit_faults) and self._hit(config.rate_5xx):
            return self._rng.choice((Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503))
        if (not on_submit or config.submit_faults) and self._hit(config.rate_reset):
            if on_submit:
                return self._rng.choice((Fault.RESET, Fault.RESET_AFTER_ACCEPT))
            return Fault.RESET
        if route == "files" and self._hit(config.rate_truncate):
            return Fault.TRUNCATE
        if route == "status" and self._hit(config.rate_unknown_status):
            return Fault.UNKNOWN_STATUS
        return None
