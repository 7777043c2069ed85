"""The RunComfy Model API client for openai/gpt-image-2: client, retry policy, errors, schemas.

No Textual here: the headless commands, the job engine and the tests use it directly.

The error tree is imported with the package; the client (httpx), the schemas (pydantic) and the
retry rules load on first use of one of their names (PEP 562), so ``from tui.api.errors import
…`` — what reporting a failure needs — never pulls in the HTTP stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..errors import GptImageError, InputError, InputProblem, TokenError
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

if TYPE_CHECKING:
    from .client import ModelApiClient, OnRetry
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

_LAZY: dict[str, str] = {
    **dict.fromkeys(("ModelApiClient", "OnRetry"), "client"),
    **dict.fromkeys(
        ("RETRYABLE_STATUSES", "RetryNotice", "RetryPolicy", "backoff_delay", "is_retryable",
         "parse_retry_after", "retry_delay"),
        "retry",
    ),
    **dict.fromkeys(
        ("CancelResponse", "EditInput", "ResultResponse", "StatusResponse", "SubmitResponse",
         "TextToImageInput", "collect_output_urls", "normalise_status"),
        "schemas",
    ),
}


def __getattr__(name: str) -> Any:
    """The client, retry and schema names, imported from their module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
