"""The one job engine both the TUI and the headless commands drive.

A job's life: persisted PENDING → (a submission slot) → SUBMITTING → the request_id is stored the
moment the answer arrives (QUEUED) → polled every ``poll_interval`` (QUEUED / RUNNING) → result
fetched and images downloaded (DOWNLOADING) → COMPLETED, or FAILED / CANCELLED / UNKNOWN.

Money rules (see reliability.md): a submit is never repeated by the engine; an ambiguous submit
becomes UNKNOWN; network trouble while waiting never fails a job (it reconnects); a job that is
killed at any point is picked up by :meth:`JobEngine.recover` at the next start, by request_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api.errors import (
    GptImageError,
    SubmitOutcomeUnknown,
)
from ..models import Job, JobRequest, JobState
from ..pricing import price_columns
from ..sanitize import clean_text
from .events import CancelOutcome, JobEvent
from .outputs import describe_error
from .ports import ApiClient, Downloads, HistoryStore, OutputNames
from .waiting import FollowingMixin, LiveNumbers, StopFollowing

if TYPE_CHECKING:
    from ..pricing import PriceSource

__all__ = ["JobEngine"]

EventListener = Callable[[JobEvent], None]
Sleep = Callable[[float], Awaitable[None]]

# How long an in-flight submit may still land its request_id after its follower is cancelled.
SUBMIT_GRACE_SECONDS = 10.0
# How long the catalog may take to say what a submit costs before it is sent "price unknown".
PRICE_LOOKUP_SECONDS = 10.0


class JobEngine(FollowingMixin):
    """Runs jobs against the Model API and keeps history in step with reality."""

    def __init__(
        self,
        *,
        client: ApiClient,
        history: HistoryStore,
        downloader: Downloads,
        output_files: OutputNames,
        poll_interval: float = 2.0,
        max_concurrent_submissions: int = 4,
        on_event: EventListener | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        give_up_after: float | None = None,
        before_commit: Callable[[Job, Path], None] | None = None,
        pid: int | None = None,
        backend: str = "api",
        prices: PriceSource | None = None,
        save_outputs: bool = True,
    ) -> None:
        self.client = client
        self.history = history
        self.downloader = downloader
        self.output_files = output_files
        self.poll_interval = poll_interval
        self.on_event = on_event
        self.clock = clock
        self.sleep = sleep
        self.give_up_after = give_up_after
        self.before_commit = before_commit
        self.pid = os.getpid() if pid is None else pid
        self.backend = backend
        self.prices = prices
        self.save_outputs = save_outputs
        self._submit_slots = asyncio.Semaphore(max(1, max_concurrent_submissions))
        self._live: dict[int, LiveNumbers] = {}
        self._followers: dict[int, asyncio.Future[Job]] = {}

    # ----------------------------------------------------------------- public API

    def create(
        self,
        request: JobRequest,
        *,
        parent_id: int | None = None,
        sweep_id: str | None = None,
        sweep_label: str | None = None,
    ) -> Job:
        """Record a new job (PENDING) before anything is sent, owned by this process."""
        job = self.history.create_job(
            request, parent_id=parent_id, sweep_id=sweep_id, sweep_label=sweep_label
        )
        job = self.history.update(
            job.id, extra={**job.extra, "owner_pid": self.pid, "backend": self.backend}
        )
        self._emit(job)
        return job

    async def follow(self, job_id: int) -> Job:
        """Take a job to a final state (or STALLED) and return its final row.

        Submits it if it was never sent, otherwise picks it up by request_id. Calling this
        twice for one job waits on the first follower instead of starting a second.
        """
        running = self._followers.get(job_id)
        if running is not None and not running.done():
            return await asyncio.shield(running)
        future: asyncio.Future[Job] = asyncio.get_running_loop().create_future()
        self._followers[job_id] = future
        try:
            job = await self._follow(job_id)
        except BaseException:
            future.cancel()
            raise
        finally:
            self._followers.pop(job_id, None)
        future.set_result(job)
        return job

    async def submit(self, job_id: int) -> Job:
        """Send a PENDING job and return it with its request_id stored (``run --no-wait``)."""
        job = self.history.get(job_id)
        if job.state is JobState.PENDING:
            job = await self._submit(job)
        return job

    def is_following(self, job_id: int) -> bool:
        """True while some coroutine of this engine follows the job."""
        return job_id in self._followers

    async def cancel(self, job_id: int) -> CancelOutcome:
        """Ask for a job to stop; the answer says honestly what will happen."""
        job = self.history.get(job_id)
        if job.state.is_terminal:
            return CancelOutcome.NOTHING_TO_CANCEL
        job = self.history.update(job_id, cancel_requested=True)
        if job.request_id is None:
            if job.state is JobState.PENDING:
                job = self._move(
                    job, JobState.CANCELLED, error="cancelled before it was sent — nothing was billed",
                    finished_at=self.clock(),
                )
                self._say(job, "cancelled before it was sent — nothing was billed")
                self._wake(job_id)
                return CancelOutcome.CANCELLED
            self._say(job, "cancel requested — sent the moment the request id arrives")
            return CancelOutcome.REQUESTED
        return await self._cancel_remote(job)

    def recover(self) -> list[Job]:
        """At start: settle jobs a dead process left behind; return the ones to resume.

        Never-sent jobs become NOT_SENT (nothing billed, nothing sent now). A job caught
        mid-submit becomes UNKNOWN (it may have run). Jobs with a request_id are claimed
        and returned, marked ``resumed``. Jobs owned by a live process, or sent to another
        backend than this engine's, are left alone.
        """
        for job in self.history.unsent():
            if self._owned_by_live_process(job) or not self._same_backend(job):
                continue
            if job.state is JobState.PENDING:
                self._move(
                    job, JobState.NOT_SENT,
                    error="not sent: the app stopped before sending it; nothing was billed",
                )
            else:
                self._move(
                    job, JobState.UNKNOWN, exit_code=1,
                    error="the app stopped while submitting: it may have run and been billed",
                )
        resumed: list[Job] = []
        for job in self.history.resumable():
            if self._owned_by_live_process(job) or not self._same_backend(job):
                continue
            job = self.history.update(
                job.id, resumed=True, extra={**job.extra, "owner_pid": self.pid}
            )
            resumed.append(job)
            self._emit(job)
        return resumed

    def event_for(self, job: Job) -> JobEvent:
        """The current snapshot of a job with its live numbers."""
        live = self._live.get(job.id)
        if live is None:
            return JobEvent(job=job, elapsed=self._elapsed(job))
        return JobEvent(
            job=job,
            elapsed=self._elapsed(job),
            polls=live.polls,
            bytes_done=live.bytes_done,
            bytes_total=live.bytes_total,
            reconnecting=live.reconnecting,
            retry_in=live.retry_in,
            rate_limited_until=live.rate_limited_until,
            message=live.message,
        )

    # ----------------------------------------------------------------- the life of a job

    async def _follow(self, job_id: int) -> Job:
        job = self.history.get(job_id)
        try:
            if job.state is JobState.PENDING:
                job = await self._submit(job)
                if job.cancel_requested and job.request_id is not None:
                    # A cancel that arrived while the submit was in flight.
                    await self._cancel_remote(job)
            if job.request_id is None or (
                job.state.is_terminal and job.state is not JobState.FAILED
            ):
                return job
            if job.state is JobState.FAILED:
                return job
            job = await self._wait_for_result(job)
            if job.state is JobState.DOWNLOADING:
                job = await self._fetch_and_save(job)
            return job
        except StopFollowing:
            return self.history.get(job_id)
        finally:
            live = self._live.get(job_id)
            if live is not None:
                live.reconnecting = False
                live.retry_in = None

    async def fetch_again(self, job_id: int) -> Job:
        """Fetch the result of a finished job and save any missing images (``result ID``)."""
        job = self.history.get(job_id)
        if job.request_id is None:
            return job
        if job.state is not JobState.DOWNLOADING:
            job = self._move(job, JobState.DOWNLOADING)
        try:
            return await self._fetch_and_save(job)
        except StopFollowing:
            return self.history.get(job_id)

    async def _submit(self, job: Job) -> Job:
        price = await self._price_columns(job.request)
        async with self._submit_slots:
            job = self.history.get(job.id)
            if job.state is not JobState.PENDING:
                return job
            job = self._move(job, JobState.SUBMITTING, submitted_at=self.clock(), **price)
            landing = asyncio.ensure_future(self._send_submit(job))
            try:
                return await asyncio.shield(landing)
            except asyncio.CancelledError:
                # Let an in-flight submit land its request_id so it is never lost.
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.shield(landing), SUBMIT_GRACE_SECONDS)
                raise

    async def _send_submit(self, job: Job) -> Job:
        try:
            answer = await self.client.submit(job.request, on_retry=self._on_retry(job.id))
        except SubmitOutcomeUnknown as exc:
            job = self._move(
                job, JobState.UNKNOWN, error=exc.message, exit_code=exc.exit_code,
                finished_at=self.clock(),
            )
            self._say(job, exc.message)
            return job
        except GptImageError as exc:
            # Refused (4xx) or never reached the server: nothing ran, nothing billed.
            job = self._move(
                job, JobState.FAILED, error=f"not submitted: {describe_error(exc)}",
                exit_code=exc.exit_code, finished_at=self.clock(),
            )
            self._say(job, job.error)
            return job
        except Exception as exc:  # anything unforeseen after sending: it may have been billed
            job = self._move(
                job, JobState.UNKNOWN, exit_code=1, finished_at=self.clock(),
                error=f"outcome unknown — it may have run and been billed ({describe_error(exc)})",
            )
            return job
        # The request_id is stored in the same breath as the answer arrives.
        job = self._move(
            job, JobState.QUEUED, request_id=answer.request_id, remote_status="in_queue"
        )
        self._say(job, None)
        return job

    async def _price_columns(self, request: JobRequest) -> dict[str, Any]:
        """The catalog price to record with the submit; nothing when it is unknown."""
        if self.prices is None:
            return {}
        try:
            price = await asyncio.wait_for(
                self.prices.price(request.endpoint), PRICE_LOOKUP_SECONDS
            )
        except Exception:  # a price is worth recording, never worth failing a submit for
            return {}
        return price_columns(price)

    def _wake(self, job_id: int) -> None:
        live = self._live.get(job_id)
        if live is not None:
            live.wake.set()

    def _on_retry(self, job_id: int) -> Callable[[Any], None]:
        def notice(retry: Any) -> None:
            live = self._live_for(job_id)
            live.retry_in = getattr(retry, "delay", None)
            reason = clean_text(getattr(retry, "reason", "retrying"), limit=120)
            self._say(self.history.get(job_id), f"retrying in {live.retry_in or 0:.1f} s — {reason}")

        return notice

    # ----------------------------------------------------------------- cancel

    async def _cancel_remote(self, job: Job) -> CancelOutcome:
        assert job.request_id is not None
        try:
            answer = await self.client.cancel(job.request_id, on_retry=self._on_retry(job.id))
        except GptImageError as exc:
            self._say(job, f"cancel failed: {describe_error(exc)} — the job goes on")
            return CancelOutcome.FAILED
        if answer.accepted:
            self._say(job, "cancel accepted — stopping")
            self._wake(job.id)
            return CancelOutcome.CANCELLED
        self._say(
            self.history.get(job.id),
            "running — can't be cancelled; it will finish and be billed; the image will still be saved",
        )
        return CancelOutcome.NOT_CANCELLABLE

    # ----------------------------------------------------------------- helpers

    def _move(self, job: Job, state: JobState, **changes: Any) -> Job:
        job = self.history.update(job.id, state=state, **changes)
        self._emit(job)
        return job

    def _say(self, job: Job, message: str | None) -> None:
        self._live_for(job.id).message = clean_text(message, limit=300) if message else None
        self._emit(self.history.get(job.id))

    def _emit(self, job: Job) -> None:
        if self.on_event is not None:
            self.on_event(self.event_for(job))

    def _live_for(self, job_id: int) -> LiveNumbers:
        live = self._live.get(job_id)
        if live is None:
            live = self._live[job_id] = LiveNumbers()
        return live

    def _elapsed(self, job: Job) -> float:
        start = job.submitted_at or job.created_at
        end = job.finished_at if job.state.is_terminal and job.finished_at else self.clock()
        return max(0.0, end - start)

    def _same_backend(self, job: Job) -> bool:
        backend = job.extra.get("backend") if job.extra else None
        return backend is None or backend == self.backend

    def _owned_by_live_process(self, job: Job) -> bool:
        owner = job.extra.get("owner_pid") if job.extra else None
        if not isinstance(owner, int) or owner == self.pid:
            return False
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
