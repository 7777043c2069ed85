"""The RunComfy Model API client for openai/gpt-image-2: client, retry policy, errors, schemas.

No Textual here: the headless commands, the job engine and the tests use it directly.
"""

from __future__ import annotations

from ..errors import GptImageError, InputError, InputProblem, TokenError
from .client import ModelApiClient, OnRetry
from .errors import (
    ApiError,
    AuthError,
    BadRequestError,
    CallTimeout,
    ConnectFailed,
    ConnectionLost,
    DownloadError,
    GenerationFailed,
    HttpStatusError,
    ProtocolError,
    RateLimited,
    ServerError,
    SubmitOutcomeUnknown,
    TransportError,
)
from .retry import (
    RETRYABLE_STATUSES,
    RetryNotice,
    RetryPolicy,
    backoff_delay,
    is_retryable,
    parse_retry_after,
    retry_delay,
)
from .schemas import (
    CancelResponse,
    EditInput,
    ResultResponse,
    StatusResponse,
    SubmitResponse,
    TextToImageInput,
    collect_output_urls,
    normalise_status,
)

__all__ = [
    "RETRYABLE_STATUSES",
    "ApiError",
    "AuthError",
    "BadRequestError",
    "CallTimeout",
    "CancelResponse",
    "ConnectFailed",
    "ConnectionLost",
    "DownloadError",
    "EditInput",
    "GenerationFailed",
    "GptImageError",
    "HttpStatusError",
    "InputError",
    "InputProblem",
    "ModelApiClient",
    "OnRetry",
    "ProtocolError",
    "RateLimited",
    "ResultResponse",
    "RetryNotice",
    "RetryPolicy",
    "ServerError",
    "StatusResponse",
    "SubmitOutcomeUnknown",
    "SubmitResponse",
    "TextToImageInput",
    "TokenError",
    "TransportError",
    "backoff_delay",
    "collect_output_urls",
    "is_retryable",
    "normalise_status",
    "parse_retry_after",
    "retry_delay",
]
