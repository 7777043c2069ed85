"""The engine's bookkeeping: history writes with legal state moves, live numbers, and events.

:class:`JobBook` is shared by :class:`~tui.jobs.engine.JobEngine` (create, submit, cancel,
recover) and :class:`~tui.jobs.follower.Follower` (poll, reconnect, fetch, save). It publishes
one immutable :class:`~tui.jobs.events.JobEvent` per change to its subscribers; a subscriber
that fails (a closed stderr pipe, a full terminal) never takes a job down.

The ``a…`` methods write through a :class:`~tui.jobs.writer.HistoryWriter`: off the event loop,
in order, and durable before they return — what the engine does while following jobs. A move
that would change nothing (:meth:`JobBook.anote`: a poll that answers what is already known)
writes nothing and publishes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..models import Job, JobState
from ..trust.sanitize import clean_text
from .events import JobEvent
from .ports import HistoryStore
from .writer import HistoryWriter

__all__ = ["EventListener", "JobBook", "LiveNumbers"]

EventListener = Callable[[JobEvent], None]


@dataclass(slots=True)
class LiveNumbers:
    """Per-job numbers that only matter while this process follows the job."""

    polls: int = 0
    bytes_done: int = 0
    bytes_total: int | None = None
    reconnecting: bool = False
    retry_in: float | None = None
    rate_limited_until: float | None = None
    message: str | None = None
    failing_since: float | None = None
    last_contact: float | None = None  # the last complete answer from the server
    unsaved_request_id: str | None = None  # delivered, but not in the history database
    deadline_scope: asyncio.Timeout | None = None  # the give-up timeout of the call under way
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    waiter: asyncio.Future[None] | None = None  # the follower's pause, settled by a wake


class JobBook:
    """History writes, live numbers and event publishing for one engine."""

    def __init__(self, history: HistoryStore, clock: Callable[[], float]) -> None:
        self.history = history
        self.clock = clock
        self.writer = HistoryWriter(history)
        self._live: dict[int, LiveNumbers] = {}
        self._last: dict[int, Job] = {}
        self._subscribers: list[EventListener] = []

    # -- subscribers ------------------------------------------------------------------------

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` with every event from now on; returns a function that stops it."""
        self._subscribers.append(listener)

        def unsubscribe() -> None:
            if listener in self._subscribers:
                self._subscribers.remove(listener)

        return unsubscribe

    def emit(self, job: Job) -> None:
        """Tell every subscriber how ``job`` stands now."""
        self._last[job.id] = job
        if not self._subscribers:
            return
        event = self.event_for(job)
        for listener in tuple(self._subscribers):
            try:
                listener(event)
            except Exception:  # showing progress must never stop a job
                pass

    # -- live numbers -----------------------------------------------------------------------

    def live(self, job_id: int) -> LiveNumbers:
        found = self._live.get(job_id)
        if found is None:
            found = self._live[job_id] = LiveNumbers()
        return found

    def peek(self, job_id: int) -> LiveNumbers | None:
        return self._live.get(job_id)

    def last_known(self, job_id: int) -> Job | None:
        """The job as last emitted (no database read)."""
        return self._last.get(job_id)

    def event_for(self, job: Job) -> JobEvent:
        """The current snapshot of a job with its live numbers."""
        live = self._live.get(job.id)
        if live is None:
            return JobEvent(job=job, elapsed=self.elapsed(job))
        return JobEvent(
            job=job,
            elapsed=self.elapsed(job),
            polls=live.polls,
            bytes_done=live.bytes_done,
            bytes_total=live.bytes_total,
            reconnecting=live.reconnecting,
            retry_in=live.retry_in,
            rate_limited_until=live.rate_limited_until,
            message=live.message,
            unsaved_request_id=live.unsaved_request_id,
        )

    def elapsed(self, job: Job) -> float:
        start = job.submitted_at or job.created_at
        end = job.finished_at if job.state.is_terminal and job.finished_at else self.clock()
        return max(0.0, end - start)

    # -- writes -----------------------------------------------------------------------------

    def move(self, job: Job, state: JobState, **changes: Any) -> Job:
        """Persist a state move (checked by the history) and publish it."""
        job = self.history.update(job.id, state=state, **changes)
        self.emit(job)
        return job

    async def amove(self, job: Job, state: JobState, **changes: Any) -> Job:
        """:meth:`move`, the write done off the event loop (durable when this returns)."""
        job = await self.writer.run(self.history.update, job.id, state=state, **changes)
        self.emit(job)
        return job

    async def aupdate(self, job_id: int, **changes: Any) -> Job:
        """Change a job's fields off the event loop (durable when this returns); no event."""
        return await self.writer.run(self.history.update, job_id, **changes)

    async def aget(self, job_id: int) -> Job:
        """Read a job on the writer thread (in order with the writes asked before)."""
        return await self.writer.run(self.history.get, job_id)

    async def anote(self, job: Job, state: JobState, **changes: Any) -> Job:
        """:meth:`amove` unless ``job`` already is in ``state`` with these values: then nothing
        is written and nothing is published (a poll answering what is already known)."""
        if job.state is state and all(getattr(job, k) == v for k, v in changes.items()):
            return job
        return await self.amove(job, state, **changes)

    def republish(self, job_id: int) -> None:
        """Publish the job's last snapshot again (its live numbers changed, its row did not)."""
        job = self._last.get(job_id)
        if job is not None:
            self.emit(job)

    def say(self, job: Job, message: str | None) -> None:
        """Set the job's plain message line and publish it (``job`` as the caller has it)."""
        self.live(job.id).message = clean_text(message, limit=300) if message else None
        self.emit(job)

    def say_by_id(self, job_id: int, message: str | None) -> None:
        """:meth:`say` for a job known only by id: the last emitted snapshot, else a read."""
        job = self._last.get(job_id)
        if job is None:
            job = self.history.get(job_id)
        self.say(job, message)
