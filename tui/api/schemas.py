"""Pydantic models of the Model API's inputs and answers for openai/gpt-image-2.

Input models are strict (``extra="forbid"``): the offline server uses them to answer 422 like
the real API, and the client builds its JSON body from them. Response models tolerate extra
fields and odd shapes, because the real answers are only partly documented.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import InputError, InputProblem
from ..models import Endpoint, JobRequest
from ..trust.urls import validate_request_id

__all__ = [
    "CancelResponse",
    "EditInput",
    "ResultResponse",
    "StatusResponse",
    "SubmitResponse",
    "TextToImageInput",
    "collect_output_urls",
    "normalise_status",
    "request_body",
]

ImageSize = Literal["1024_1024", "1024_1536", "1536_1024"]
EditSize = Literal["auto", "1024_1024", "1024_1536", "1536_1024"]


class TextToImageInput(BaseModel):
    """Body of ``POST /models/openai/gpt-image-2/text-to-image``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1)
    size: ImageSize = "1024_1024"


class EditInput(BaseModel):
    """Body of ``POST /models/openai/gpt-image-2/edit``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1)
    images: list[str] = Field(min_length=1, max_length=10)
    size: EditSize = "auto"


def request_body(request: JobRequest) -> dict[str, Any]:
    """The JSON body of ``request``, built through the strict input schema (text-to-image never
    has images).

    Raises :class:`~tui.errors.InputError` when the request does not fit the schema: nothing is
    sent.
    """
    body: EditInput | TextToImageInput
    try:
        if request.endpoint is Endpoint.EDIT:
            body = EditInput(prompt=request.prompt, images=list(request.images), size=request.size)  # type: ignore[arg-type]
        else:
            body = TextToImageInput(prompt=request.prompt, size=request.size)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise InputError(
            [
                InputProblem(".".join(str(p) for p in err["loc"]) or "input", err["msg"])
                for err in exc.errors()
            ]
        ) from None
    return body.model_dump()


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class SubmitResponse(_Answer):
    """Answer to a submit. Only ``request_id`` is used; the URLs are never followed.

    ``server_note`` is set by the client when the server accepted the job (a valid
    request_id) and sent an error message along with it.
    """

    request_id: str
    server_note: str | None = Field(default=None, exclude=True)

    @field_validator("request_id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_request_id(value)


_STATUS_ALIASES = {"succeeded": "completed", "canceled": "cancelled"}
KNOWN_STATUSES = frozenset({"in_queue", "in_progress", "completed", "failed", "cancelled"})
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def normalise_status(value: object) -> str:
    """Lower-case status with the documented aliases folded (``succeeded`` → ``completed``)."""
    text = str(value).strip().lower() if value is not None else ""
    return _STATUS_ALIASES.get(text, text)


class StatusResponse(_Answer):
    """Answer to a status poll. ``status`` is normalised; unknown values are kept as-is."""

    request_id: str | None = None
    status: str
    queue_position: int | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _normalise(cls, value: object) -> str:
        return normalise_status(value)

    @field_validator("queue_position", mode="before")
    @classmethod
    def _position(cls, value: object) -> int | None:
        try:
            return int(value) if value is not None else None  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return None

    @property
    def is_known(self) -> bool:
        return self.status in KNOWN_STATUSES

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class ResultResponse(_Answer):
    """Answer to a result fetch. ``output`` may be any JSON value; see :func:`collect_output_urls`."""

    request_id: str | None = None
    status: str | None = None
    output: Any = None
    error: Any = None
    created_at: Any = None
    finished_at: Any = None

    @field_validator("status", mode="before")
    @classmethod
    def _normalise(cls, value: object) -> str | None:
        return normalise_status(value) if value is not None else None

    @property
    def output_urls(self) -> list[str]:
        return collect_output_urls(self.output)


class CancelResponse(_Answer):
    """Answer to a cancel. ``outcome == "not_cancellable"`` means the run goes on and is billed."""

    outcome: str | None = None
    status: str | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome != "not_cancellable"


def collect_output_urls(output: Any) -> list[str]:
    """Every http(s) string anywhere inside ``output``, in document order, without duplicates."""
    found: list[str] = []
    seen: set[str] = set()
    stack: list[Any] = [output]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            text = value.strip()
            if text.lower().startswith(("http://", "https://")) and text not in seen:
                seen.add(text)
                found.append(text)
        elif isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, (list, tuple)):
            stack.extend(reversed(value))
    return found
