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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..api.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    DownloadError,
    GptImageError,
    RateLimited,
    SubmitOutcomeUnknown,
)
from ..api.schemas import CancelResponse, ResultResponse, StatusResponse, SubmitResponse
from ..models import Job, JobRequest, JobState
from ..sanitize import clean_text
from ..urlsafety import UnsafeUrl, check_download_url
from .events import CancelOutcome, JobEvent
from .outputs import adopt_existing_output, describe_error, error_text

__all__ = ["JobEngine"]

EventListener = Callable[[JobEvent], None]
Sleep = Callable[[float], Awaitable[None]]

# Reconnect backoff while waiting on a job grows with the outage, up to this.
MAX_RECONNECT_DELAY = 30.0
# Polls in a row with a status nobody knows before the job is parked as STALLED.
MAX_UNKNOWN_POLLS = 15
# How long an in-flight submit may still land its request_id after its follower is cancelled.
SUBMIT_GRACE_SECONDS = 10.0


class ApiClient(Protocol):
    base_url: str

    async def submit(self, request: JobRequest, *, on_retry: Any = None) -> SubmitResponse: ...
    async def status(self, request_id: str, *, on_retry: Any = None) -> StatusResponse: ...
    async def result(self, request_id: str, *, on_retry: Any = None) -> ResultResponse: ...
    async def cancel(self, request_id: str, *, on_retry: Any = None) -> CancelResponse: ...


class HistoryStore(Protocol):
    def create_job(self, request: JobRequest, **kwargs: Any) -> Job: ...
    def get(self, job_id: int) -> Job: ...
    def update(self, job_id: int, **changes: Any) -> Job: ...
    def resumable(self) -> list[Job]: ...
    def unsent(self) -> list[Job]: ...


@dataclass(slots=True)
class _Live:
    """Per-job numbers that only matter while this process follows the job."""

    polls: int = 0
    bytes_done: int = 0
    bytes_total: int | None = None
    reconnecting: bool = False
    retry_in: float | None = None
    rate_limited_until: float | None = None
    message: str | None = None
    failing_since: float | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class _StopFollowing(Exception):
    """Internal: the job reached a state where this follower should return it."""


class JobEngine:
    """Runs jobs against the Model API and keeps history in step with reality."""

    def __init__(
        self,
        *,
        client: ApiClient,
        history: HistoryStore,
        downloader: Any,
        output_files: Any,
        poll_interval: float = 2.0,
        max_concurrent_submissions: int = 4,
        on_event: EventListener | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        give_up_after: float | None = None,
        before_commit: Callable[[Job, Path], None] | None = None,
        pid: int | None = None,
        backend: str = "api",
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
        self._submit_slots = asyncio.Semaphore(max(1, max_concurrent_submissions))
        self._live: dict[int, _Live] = {}
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
        backend than this engine's, are left alone; the embedded offline backend's jobs die
        with it (nothing was billed), so they are closed as failed.
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
            if self.backend == "offline":
                self._move(
                    job, JobState.FAILED, exit_code=1, finished_at=self.clock(),
                    error="lost with the previous offline session (offline jobs cost nothing)",
                )
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
        except _StopFollowing:
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
        except _StopFollowing:
            return self.history.get(job_id)

    async def _submit(self, job: Job) -> Job:
        async with self._submit_slots:
            job = self.history.get(job.id)
            if job.state is not JobState.PENDING:
                return job
            job = self._move(job, JobState.SUBMITTING, submitted_at=self.clock())
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

    async def _wait_for_result(self, job: Job) -> Job:
        """Poll until the server says the job is done; return it in DOWNLOADING or final."""
        live = self._live_for(job.id)
        unknown_in_a_row = 0
        while True:
            job = self.history.get(job.id)
            if job.state.is_terminal or job.state is JobState.DOWNLOADING:
                return job
            assert job.request_id is not None
            answer = await self._call_waiting(job, self.client.status, job.request_id)
            if answer is None:
                continue
            live.polls += 1
            status = answer.status
            if status == "in_queue":
                unknown_in_a_row = 0
                job = self._move(
                    job, JobState.QUEUED, remote_status=status, queue_position=answer.queue_position
                )
            elif status == "in_progress":
                unknown_in_a_row = 0
                changes: dict[str, Any] = {"remote_status": status, "queue_position": None}
                if job.started_at is None:
                    changes["started_at"] = self.clock()
                job = self._move(job, JobState.RUNNING, **changes)
            elif status in {"completed", "failed"}:
                return self._move(
                    job, JobState.DOWNLOADING, remote_status=status, queue_position=None
                )
            elif status == "cancelled":
                job = self._move(
                    job, JobState.CANCELLED, remote_status=status, queue_position=None,
                    finished_at=self.clock(),
                    error=None if job.cancel_requested else "cancelled on the server",
                )
                self._say(job, "cancelled — nothing more will be billed")
                return job
            else:
                unknown_in_a_row += 1
                shown = clean_text(status, limit=40)
                job = self.history.update(job.id, remote_status=shown)
                if unknown_in_a_row >= MAX_UNKNOWN_POLLS:
                    job = self._move(
                        job, JobState.STALLED, exit_code=1,
                        error=f"the server kept answering an unknown status {shown!r}; resume later",
                    )
                    self._say(job, job.error)
                    return job
                self._say(job, f"server reports an unknown status {shown!r} — still watching")
            await self._pause(job.id, self.poll_interval)

    async def _fetch_and_save(self, job: Job) -> Job:
        assert job.request_id is not None
        answer = None
        while answer is None:
            answer = await self._call_waiting(job, self.client.result, job.request_id)
        if answer.status == "failed" or job.remote_status == "failed":
            message = error_text(answer.error) or "no reason given"
            job = self._move(
                job, JobState.FAILED, error=f"generation failed: {message}", exit_code=1,
                finished_at=self.clock(),
            )
            self._say(job, job.error)
            return job
        urls = answer.output_urls
        job = self.history.update(job.id, output_urls=tuple(urls))
        if not urls:
            job = self._move(
                job, JobState.FAILED, exit_code=1, finished_at=self.clock(),
                error="the server said completed but gave no image URL (request id kept)",
            )
            self._say(job, job.error)
            return job
        trusted: list[str] = []
        for url in urls:
            try:
                check_download_url(url, api_base=self.client.base_url)
            except UnsafeUrl:
                continue
            trusted.append(url)
        files = list(job.files)
        for index, url in enumerate(trusted):
            if index < len(files):
                continue
            path = await self._download_one(job, index, url)
            files.append(str(path))
            job = self.history.update(job.id, files=tuple(files))
        skipped = len(urls) - len(trusted)
        note = (
            f"{skipped} output URL(s) not on a trusted host: listed, not downloaded"
            if skipped
            else None
        )
        job = self._move(job, JobState.COMPLETED, finished_at=self.clock(), error=note, exit_code=0)
        self._say(job, note)
        return job

    async def _download_one(self, job: Job, index: int, url: str) -> Path:
        live = self._live_for(job.id)
        directory = Path(self.output_files.directory)
        name = self.output_files.name_for(job, index, "png")
        existing = adopt_existing_output(directory, name)
        if existing is not None:
            return existing

        def progress(done: int, total: int | None) -> None:
            live.bytes_done, live.bytes_total = done, total
            self._emit(job)

        def before_commit(temp: Path) -> None:
            if self.before_commit is None:
                return
            try:
                self.before_commit(self.history.get(job.id), temp)
            except Exception as exc:  # the image matters more than its embedded recipe
                live.message = clean_text(f"recipe not embedded: {describe_error(exc)}", limit=200)

        while True:
            try:
                path: Path = await self.downloader.download(
                    url, directory, name, on_progress=progress, before_commit=before_commit
                )
            except DownloadError as exc:
                if not exc.retryable:
                    failed = self._move(
                        job, JobState.FAILED, error=f"download failed: {exc.message}",
                        exit_code=1, finished_at=self.clock(),
                    )
                    self._say(failed, failed.error)
                    raise _StopFollowing from exc
                await self._reconnect_pause(job, exc)
                continue
            self._recovered(job.id)
            return path

    # ----------------------------------------------------------------- waiting & reconnecting

    async def _call_waiting(
        self, job: Job, call: Callable[..., Awaitable[Any]], request_id: str
    ) -> Any:
        """One status/result call; transient trouble pauses and returns None (try again)."""
        try:
            answer = await call(request_id, on_retry=self._on_retry(job.id))
        except RateLimited as exc:
            await self._rate_limited_pause(job, exc)
            return None
        except (AuthError, BadRequestError) as exc:
            failed = self._move(
                job, JobState.FAILED, error=describe_error(exc), exit_code=exc.exit_code,
                finished_at=self.clock(),
            )
            self._say(failed, failed.error)
            raise _StopFollowing from exc
        except ApiError as exc:
            await self._reconnect_pause(job, exc)
            return None
        self._recovered(job.id)
        return answer

    async def _reconnect_pause(self, job: Job, exc: GptImageError) -> None:
        live = self._live_for(job.id)
        now = self.clock()
        if live.failing_since is None:
            live.failing_since = now
        outage = now - live.failing_since
        if self.give_up_after is not None and outage >= self.give_up_after:
            stalled = self._move(
                job, JobState.STALLED, exit_code=exc.exit_code,
                error=f"lost contact ({describe_error(exc)}); the request id is kept — "
                "run `gpt-image-tui resume` to pick it up",
            )
            self._say(stalled, stalled.error)
            raise _StopFollowing from exc
        delay = min(MAX_RECONNECT_DELAY, max(self.poll_interval, outage))
        live.reconnecting = True
        live.retry_in = delay
        self._say(job, f"reconnecting in {delay:.0f} s — {describe_error(exc)}")
        await self._pause(job.id, delay)
        live.retry_in = None

    async def _rate_limited_pause(self, job: Job, exc: RateLimited) -> None:
        live = self._live_for(job.id)
        delay = exc.retry_after if exc.retry_after is not None else MAX_RECONNECT_DELAY
        until = self.clock() + delay
        live.rate_limited_until = until
        self._say(job, f"rate-limited until {time.strftime('%H:%M', time.localtime(until))}")
        await self._pause(job.id, delay)
        live.rate_limited_until = None

    def _recovered(self, job_id: int) -> None:
        live = self._live_for(job_id)
        if live.reconnecting or live.failing_since is not None:
            live.reconnecting = False
            live.failing_since = None
            live.retry_in = None
            live.message = None

    async def _pause(self, job_id: int, seconds: float) -> None:
        """Sleep, but wake early when something happens to this job (a cancel)."""
        live = self._live_for(job_id)
        live.wake.clear()
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        waker = asyncio.ensure_future(live.wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()

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

    def _live_for(self, job_id: int) -> _Live:
        live = self._live.get(job_id)
        if live is None:
            live = self._live[job_id] = _Live()
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
