"""Domain vocabulary, no I/O: sizes, endpoints, job states and their legal moves, requests, jobs."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from .errors import InputError, InputProblem
from .trust.sanitize import clean_prompt
from .trust.urls import UnsafeUrl, check_reference_url

__all__ = [
    "DEFAULT_EDIT_SIZE",
    "DEFAULT_SIZE",
    "MAX_PROMPT_CHARS",
    "MAX_REFERENCES",
    "SIZES",
    "SIZE_LABELS",
    "Endpoint",
    "Job",
    "JobRequest",
    "JobState",
    "PreparedRequest",
    "prepare_request",
]

SIZES: tuple[str, ...] = ("1024_1024", "1024_1536", "1536_1024")
SIZE_LABELS: dict[str, str] = {
    "1024_1024": "1:1 square",
    "1024_1536": "2:3 portrait",
    "1536_1024": "3:2 landscape",
    "auto": "auto (keep input aspect)",
}
DEFAULT_SIZE = "1024_1024"
DEFAULT_EDIT_SIZE = "auto"
MAX_REFERENCES = 10
# "A few thousand tokens": at roughly four characters a token, 12,000 characters is a safe cap.
MAX_PROMPT_CHARS = 12_000


class Endpoint(enum.StrEnum):
    """The two gpt-image-2 endpoints; ``edit`` iff at least one reference is given."""

    TEXT_TO_IMAGE = "text-to-image"
    EDIT = "edit"

    @property
    def model_id(self) -> str:
        return f"openai/gpt-image-2/{self.value}"


class JobState(enum.StrEnum):
    """Where a job stands. See ``TRANSITIONS`` for the legal moves."""

    PENDING = "pending"  # recorded locally, waiting for a submission slot; nothing sent
    SUBMITTING = "submitting"  # the submit POST is in flight
    QUEUED = "queued"  # server says in_queue
    RUNNING = "running"  # server says in_progress
    DOWNLOADING = "downloading"  # fetching the result and saving the images
    STALLED = "stalled"  # has a request_id but is not followed now; `resume` picks it up
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # submit outcome unknown: may have run and been billed
    NOT_SENT = "not_sent"  # the app stopped before sending it; nothing was billed

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """In flight in this process (or should be): not terminal and not stalled."""
        return not self.is_terminal and self is not JobState.STALLED

    @property
    def is_resumable(self) -> bool:
        """A job in this state with a request_id is followed again at the next start."""
        return self in {
            JobState.SUBMITTING,
            JobState.QUEUED,
            JobState.RUNNING,
            JobState.DOWNLOADING,
            JobState.STALLED,
        }


_TERMINAL = frozenset(
    {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN, JobState.NOT_SENT}
)

_FOLLOWING = {
    JobState.QUEUED,
    JobState.RUNNING,
    JobState.DOWNLOADING,
    JobState.STALLED,
    JobState.COMPLETED,
    JobState.FAILED,
    JobState.CANCELLED,
}
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset(
        {JobState.SUBMITTING, JobState.NOT_SENT, JobState.FAILED, JobState.CANCELLED}
    ),
    JobState.SUBMITTING: frozenset(
        {JobState.QUEUED, JobState.UNKNOWN, JobState.FAILED, JobState.NOT_SENT}
    ),
    JobState.QUEUED: frozenset(_FOLLOWING),
    JobState.RUNNING: frozenset(_FOLLOWING),
    JobState.DOWNLOADING: frozenset(_FOLLOWING),
    JobState.STALLED: frozenset(_FOLLOWING),
    # A failed job with a request_id may be fetched again by hand (`result ID`).
    JobState.FAILED: frozenset({JobState.DOWNLOADING, JobState.COMPLETED, JobState.FAILED}),
    JobState.COMPLETED: frozenset({JobState.COMPLETED, JobState.DOWNLOADING}),
    JobState.CANCELLED: frozenset({JobState.CANCELLED, JobState.DOWNLOADING}),
    JobState.UNKNOWN: frozenset({JobState.UNKNOWN}),
    JobState.NOT_SENT: frozenset({JobState.NOT_SENT}),
}


def can_move(src: JobState, dst: JobState) -> bool:
    """True when a job may go from ``src`` to ``dst`` (staying put is always allowed)."""
    return src == dst or dst in TRANSITIONS[src]


@dataclass(frozen=True, slots=True)
class JobRequest:
    """A validated request: what will be sent, and to which endpoint (the JSON body is built by
    :func:`tui.api.schemas.request_body`)."""

    prompt: str
    size: str
    images: tuple[str, ...] = ()

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint.EDIT if self.images else Endpoint.TEXT_TO_IMAGE


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A valid request plus notices about what was changed on the way (duplicates removed …)."""

    request: JobRequest
    notices: tuple[str, ...] = ()


def prepare_request(
    prompt: str,
    size: str | None = None,
    images: list[str] | tuple[str, ...] = (),
    *,
    max_prompt_chars: int = MAX_PROMPT_CHARS,
) -> PreparedRequest:
    """Validate the user's input locally, before anything is sent.

    Raises :class:`InputError` listing every problem by field (``prompt``, ``size``,
    ``images[N]`` with N counted from 1, ``images``).
    """
    problems: list[InputProblem] = []
    notices: list[str] = []

    cleaned = clean_prompt(prompt or "")
    if not cleaned:
        problems.append(InputProblem("prompt", "the prompt is empty"))
    elif len(cleaned) > max_prompt_chars:
        problems.append(
            InputProblem(
                "prompt",
                f"the prompt is {len(cleaned):,} characters; the limit is {max_prompt_chars:,}",
            )
        )

    references: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(images, start=1):
        url = (raw or "").strip()
        try:
            check_reference_url(url)
        except UnsafeUrl as exc:
            problems.append(InputProblem(f"images[{index}]", f"image {index}: {exc}"))
            continue
        if url in seen:
            notices.append(f"image {index} repeats an earlier reference and was removed")
            continue
        seen.add(url)
        references.append(url)
    if len(references) > MAX_REFERENCES:
        problems.append(
            InputProblem(
                "images", f"{len(references)} references given; at most {MAX_REFERENCES} allowed"
            )
        )

    is_edit = bool(references) or bool(images)
    allowed = ("auto", *SIZES) if is_edit else SIZES
    chosen = size or (DEFAULT_EDIT_SIZE if is_edit else DEFAULT_SIZE)
    if chosen not in allowed:
        hint = "" if is_edit or chosen != "auto" else " (auto needs at least one reference image)"
        problems.append(
            InputProblem("size", f"size must be one of {', '.join(allowed)}{hint}")
        )

    if problems:
        raise InputError(problems)
    return PreparedRequest(JobRequest(cleaned, chosen, tuple(references)), tuple(notices))


@dataclass(frozen=True, slots=True)
class Job:
    """One row of history: a request, where it stands, and what it produced.

    Times are UNIX seconds (float). ``files`` are absolute paths of saved images;
    ``output_urls`` every URL the result listed (trusted or not). ``output_dir`` is where its
    images go, decided when the job is created and used by whichever process finishes it;
    ``owner`` names the process following it (see :mod:`tui.storage.owners`); ``backend`` the
    API it was sent to. Money is Decimal.
    """

    id: int
    request: JobRequest
    state: JobState
    created_at: float
    updated_at: float
    request_id: str | None = None
    parent_id: int | None = None
    submitted_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    exit_code: int | None = None
    output_urls: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    remote_status: str | None = None
    queue_position: int | None = None
    sweep_id: str | None = None
    sweep_label: str | None = None
    cancel_requested: bool = False
    resumed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    output_dir: str | None = None
    owner: str | None = None
    backend: str | None = None
    # The catalog price it was submitted at, per ``price_unit``; None when unknown (never a
    # guess). ``price_source`` is "catalog", or "offline" for the offline backend's (0).
    price_usd: Decimal | None = None
    price_unit: str | None = None
    price_source: str | None = None
    starred: bool = False  # marked by the user (`s`) to find again

    @property
    def endpoint(self) -> Endpoint:
        return self.request.endpoint

    def evolve(self, **changes: Any) -> Job:
        return replace(self, **changes)
