"""What the engine tells its listeners: one immutable snapshot per change of any job."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..models import Job

__all__ = ["CancelOutcome", "JobEvent"]


@dataclass(frozen=True, slots=True)
class JobEvent:
    """A job as it stands now, plus the live numbers that are not persisted.

    ``message`` is plain, sanitised text for people ("reconnecting in 4 s", "rate-limited until
    14:05", "running — can't be cancelled; it will finish and be billed").
    ``unsaved_request_id`` is set when the server delivered a request id that could not be
    written to the history database: front ends show it prominently so the user holds it.
    """

    job: Job
    elapsed: float = 0.0
    polls: int = 0
    bytes_done: int = 0
    bytes_total: int | None = None
    reconnecting: bool = False
    retry_in: float | None = None
    rate_limited_until: float | None = None
    message: str | None = None
    unsaved_request_id: str | None = None


class CancelOutcome(enum.StrEnum):
    """What a cancel achieved."""

    CANCELLED = "cancelled"  # accepted while queued, or stopped before it was sent
    REQUESTED = "requested"  # the submit is in flight: cancelled as soon as its id arrives
    NOT_CANCELLABLE = "not_cancellable"  # running: it will finish and be billed; image still saved
    FAILED = "failed"  # the cancel call itself failed; the job goes on
    NOTHING_TO_CANCEL = "nothing_to_cancel"  # already finished
