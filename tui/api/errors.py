"""Errors raised by the Model API client and the downloads of its outputs.

They build on :class:`tui.errors.GptImageError` (see :mod:`tui.errors` for the whole tree). Every
error carries the process exit code the headless commands use (sysexits, as the official
``runcomfy`` CLI), and a message that is already safe to show (sanitised, token-free)::

    GptImageError                       exit 1   (tui.errors)
    ├── ApiError                        (anything that went wrong talking to the API)
    │   ├── TransportError              exit 75  network trouble
    │   │   ├── ConnectFailed                    certainly never reached the server
    │   │   ├── CallTimeout                      per-chunk timeout or overall deadline
    │   │   └── ConnectionLost                   dropped mid-exchange; may have arrived
    │   ├── HttpStatusError             exit 1   an error answer (status, error_code, message)
    │   │   ├── AuthError               exit 77  401, 403, or error_code 400004 (sent as HTTP 400)
    │   │   ├── BadRequestError         exit 65  other 4xx: 400, 404, 422 …
    │   │   ├── RateLimited             exit 75  429 (retry_after seconds when given)
    │   │   └── ServerError             exit 69  5xx
    │   ├── ProtocolError               exit 1   unparseable or nonsensical answer
    │   └── SubmitOutcomeUnknown        exit of its cause; the submit may have run and been billed
    ├── DownloadError                   exit 1   untrusted host, too large, not an image, truncated
    └── GenerationFailed                exit 1   the request ended failed / cancelled / no output
"""

from __future__ import annotations

from ..errors import GptImageError

__all__ = [
    "ApiError",
    "AuthError",
    "BadRequestError",
    "CallTimeout",
    "ConnectFailed",
    "ConnectionLost",
    "DownloadError",
    "GenerationFailed",
    "HttpStatusError",
    "ProtocolError",
    "RateLimited",
    "ServerError",
    "SubmitOutcomeUnknown",
    "TransportError",
]


class ApiError(GptImageError):
    """Something went wrong talking to the Model API."""


class TransportError(ApiError):
    """The network failed us: refused, timed out, or dropped.

    ``request_sent`` is False only when the request certainly never left this machine.
    """

    exit_code = 75
    request_sent: bool = True


class ConnectFailed(TransportError):
    """The connection was never made (refused, DNS, connect timeout): nothing was sent."""

    request_sent = False


class CallTimeout(TransportError):
    """A read/write timeout or the call's overall deadline passed."""


class ConnectionLost(TransportError):
    """The connection dropped after the request may have been sent."""

    exit_code = 69


class HttpStatusError(ApiError):
    """The API answered with an error (HTTP status, optional numeric ``error_code``).

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one (429, 503 …).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.retry_after = retry_after
        super().__init__(message)


class AuthError(HttpStatusError):
    """The token was missing, expired, revoked, or the request belongs to someone else."""

    exit_code = 77


class BadRequestError(HttpStatusError):
    """A 4xx answer other than auth and rate limiting: invalid input, unknown request id …"""

    exit_code = 65


class RateLimited(HttpStatusError):
    """HTTP 429. ``retry_after`` is the server's wait in seconds, when it gave one."""

    exit_code = 75

    def __init__(
        self,
        message: str,
        *,
        status: int = 429,
        error_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, error_code=error_code, retry_after=retry_after)


class ServerError(HttpStatusError):
    """HTTP 5xx after retries."""

    exit_code = 69


class ProtocolError(ApiError):
    """The answer made no sense: not JSON, wrong shape, an invalid request id."""


class SubmitOutcomeUnknown(ApiError):
    """The submit may have reached the server: it may have run and been billed.

    It is never retried automatically; resubmitting is the user's explicit choice.
    """

    def __init__(self, cause: ApiError) -> None:
        self.cause = cause
        self.exit_code = cause.exit_code
        super().__init__(
            f"outcome unknown — the request may have run and been billed ({cause.message})"
        )


class DownloadError(GptImageError):
    """An output could not be saved: untrusted host, too large, not an image, truncated.

    ``retryable``: the network was the trouble; try again later. ``local``: this machine was
    (the folder can't be created or written): the job is kept, not failed.
    """

    def __init__(self, message: str, *, retryable: bool = False, local: bool = False) -> None:
        self.retryable = retryable
        self.local = local
        super().__init__(message)


class GenerationFailed(GptImageError):
    """The request ended without images: failed, cancelled, or completed with no output."""
