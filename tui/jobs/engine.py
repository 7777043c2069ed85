"""The one job engine both the TUI and the headless commands drive.

A job's life: persisted PENDING (with the folder its images go to) → (a submission slot) →
SUBMITTING → the request_id is kept the moment the answer arrives (journal, then database:
QUEUED) → followed by :class:`~tui.jobs.follower.Follower` (QUEUED / RUNNING → DOWNLOADING) →
COMPLETED, or FAILED / CANCELLED / UNKNOWN, or STALLED (resumable) when following stops early.

Money rules (see reliability.md): a submit is never repeated by the engine; an ambiguous submit
becomes UNKNOWN; a delivered request_id outlives every local failure; network trouble while
waiting never fails a job; one process follows a job at a time (claimed atomically in the
database, dead owners reclaimable); a job killed at any point is picked up by
:meth:`JobEngine.recover` at the next start, by request_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api.errors import SubmitOutcomeUnknown
from ..errors import GptImageError
from ..models import Job, JobRequest, JobState
from ..storage.errors import StorageError
from ..storage.owners import owner_alive, owner_for, owner_pid
from .book import EventListener, JobBook
from .events import CancelOutcome, JobEvent
from .follower import Follower, StopFollowing
from .outputs import describe_error
from .ports import ApiClient, Downloads, HistoryStore, OutputNames
from .pricing import price_columns

if TYPE_CHECKING:
    from .pricing import PriceSource

__all__ = ["JobEngine", "JobFollowedElsewhere"]

Sleep = Callable[[float], Awaitable[None]]

# How long an in-flight submit may still land its request_id after its follower is cancelled.
SUBMIT_GRACE_SECONDS = 10.0
# How long a delivered request_id's database write is retried before the journal must do.
REQUEST_ID_PATIENCE_SECONDS = 30.0
# How long the catalog may take to say what a submit costs before it is sent "price unknown".
PRICE_LOOKUP_SECONDS = 10.0


class JobFollowedElsewhere(GptImageError):
    """Another live process follows this job; its images appear in history when it is done."""

    exit_code = 75


class _RequestIdNotStored(Exception):
    """Internal: the request_id arrived but the database refused it; ``job`` is the snapshot."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.request_id)
        self.job = job


def _absolute(directory: Path | str) -> str:
    return str(Path(directory).expanduser().absolute())


class JobEngine:
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
        request_id_patience: float = REQUEST_ID_PATIENCE_SECONDS,
        prices: PriceSource | None = None,
        save_outputs: bool = True,
    ) -> None:
        self.client = client
        self.history = history
        self.output_files = output_files
        self.clock = clock
        self.sleep = sleep
        self.backend = backend
        self.owner = owner_for(pid)
        self.request_id_patience = request_id_patience
        self.prices = prices
        self.book = JobBook(history, clock)
        if on_event is not None:
            self.book.subscribe(on_event)
        self.follower = Follower(
            self.book,
            client=client,
            downloader=downloader,
            output_files=output_files,
            poll_interval=poll_interval,
            sleep=sleep,
            give_up_after=give_up_after,
            before_commit=before_commit,
            save_outputs=save_outputs,
        )
        self._submit_slots = asyncio.Semaphore(max(1, max_concurrent_submissions))
        self._followers: dict[int, asyncio.Future[Job]] = {}
        # Where :meth:`sync_external` starts from: everything changed after this engine was built.
        self._seen_version = history.data_version()
        self._seen_rev = history.current_rev()

    # ----------------------------------------------------------------- public API

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Receive every job event from now on; returns the function that unsubscribes."""
        return self.book.subscribe(listener)

    def create(
        self,
        request: JobRequest,
        *,
        parent_id: int | None = None,
        sweep_id: str | None = None,
        sweep_label: str | None = None,
        output_dir: Path | str | None = None,
    ) -> Job:
        """Record a new job (PENDING) before anything is sent, owned by this process.

        Its images go to ``output_dir`` (default: the configured folder), whoever finishes it.
        """
        directory = output_dir if output_dir is not None else self.output_files.default_directory
        job = self.history.create_job(
            request, parent_id=parent_id, sweep_id=sweep_id, sweep_label=sweep_label,
            output_dir=_absolute(directory), owner=self.owner, backend=self.backend,
        )
        self.book.emit(job)
        return job

    def create_many(
        self,
        requests: Sequence[JobRequest],
        *,
        labels: Sequence[str | None] | None = None,
        parent_id: int | None = None,
        sweep_id: str | None = None,
        output_dir: Path | str | None = None,
        publish: bool = True,
    ) -> list[Job]:
        """Record several new jobs (a sweep's) in one transaction, as :meth:`create` does one.

        Blocking (one committed write): a UI runs it in a thread with ``publish=False`` and
        then :meth:`publish` es the jobs on its loop, where events belong.
        """
        directory = output_dir if output_dir is not None else self.output_files.default_directory
        jobs = self.history.create_jobs(
            requests, labels=labels, parent_id=parent_id, sweep_id=sweep_id,
            output_dir=_absolute(directory), owner=self.owner, backend=self.backend,
        )
        if publish:
            self.publish(jobs)
        return jobs

    def publish(self, jobs: Iterable[Job]) -> None:
        """Tell the subscribers about jobs recorded by :meth:`create_many` (``publish=False``)."""
        for job in jobs:
            self.book.emit(job)

    async def follow(self, job_id: int) -> Job:
        """Take a job to a final state (or STALLED) and return its final row.

        Submits it if it was never sent, otherwise picks it up by request_id — after claiming
        it (:class:`JobFollowedElsewhere` when another live process follows it). Calling this
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
        """Send a PENDING job and return it with its request_id stored (``run --no-wait``).

        The job is released at once, so ``resume`` (or the app) can follow it.
        """
        job = self.history.get(job_id)
        if job.state is JobState.PENDING:
            try:
                job = await self._submit(job)
            except _RequestIdNotStored as lost:
                return lost.job
        await self._release_soon(job.id)
        return job

    def is_following(self, job_id: int) -> bool:
        """True while some coroutine of this engine follows the job."""
        return job_id in self._followers

    async def cancel(self, job_id: int) -> CancelOutcome:
        """Ask for a job to stop; the answer says honestly what will happen."""
        job = self.history.get(job_id)
        if job.state.is_terminal:
            return CancelOutcome.NOTHING_TO_CANCEL
        job = await self.book.aupdate(job_id, cancel_requested=True)
        if job.request_id is None:
            if job.state is JobState.PENDING:
                job = await self.book.amove(
                    job, JobState.CANCELLED,
                    error="cancelled before it was sent — nothing was billed",
                    finished_at=self.clock(),
                )
                self.book.say(job, "cancelled before it was sent — nothing was billed")
                self.follower.wake(job_id)
                return CancelOutcome.CANCELLED
            self.book.say(job, "cancel requested — sent the moment the request id arrives")
            return CancelOutcome.REQUESTED
        return await self._cancel_remote(job)

    def recover(self, *, output_dir: Path | str | None = None) -> list[Job]:
        """At start: settle jobs a dead process left behind; return the ones to resume.

        Never-sent jobs become NOT_SENT (nothing billed, nothing sent now). A job caught
        mid-submit becomes UNKNOWN (it may have run). Jobs with a request_id are claimed —
        atomically: of two processes recovering at once each job goes to exactly one — and
        returned, marked ``resumed``. Jobs owned by a live process, or sent to another backend
        than this engine's, are left alone. ``output_dir`` explicitly moves the resumed jobs'
        images there. Stale temp files are swept in every folder a resumable job saves to.
        """
        for job in self.history.unsent():
            if not self._same_backend(job) or self.is_following(job.id):
                continue
            claimed = self.history.claim(job.id, self.owner, stale=self._owner_gone)
            if claimed is None or claimed.request_id is not None:
                continue
            if claimed.state is JobState.PENDING:
                self.book.move(
                    claimed, JobState.NOT_SENT, owner=None,
                    error="not sent: the app stopped before sending it; nothing was billed",
                )
            elif claimed.state is JobState.SUBMITTING:
                self.book.move(
                    claimed, JobState.UNKNOWN, exit_code=1, owner=None,
                    error="the app stopped while submitting: it may have run and been billed",
                )
        resumed: list[Job] = []
        for job in self.history.resumable():
            if not self._same_backend(job) or self.is_following(job.id):
                continue
            claimed = self.history.claim(job.id, self.owner, stale=self._owner_gone)
            if claimed is None or not claimed.state.is_resumable:
                continue
            changes: dict[str, object] = {"resumed": True}
            if output_dir is not None:
                changes["output_dir"] = _absolute(output_dir)
            claimed = self.history.update(job.id, **changes)
            resumed.append(claimed)
            self.book.emit(claimed)
        self._remove_stale_temps(extra=output_dir)
        return resumed

    async def fetch_again(self, job_id: int, *, output_dir: Path | str | None = None) -> Job:
        """Fetch the result of a finished job and save any missing images (``result ID``).

        ``output_dir`` explicitly saves them elsewhere than the job's own folder.
        """
        job = self.history.get(job_id)
        if job.request_id is None:
            return job
        if output_dir is not None:
            job = self.history.update(job_id, output_dir=_absolute(output_dir))
        return await self.follower.fetch_again(job)

    def event_for(self, job: Job) -> JobEvent:
        """The current snapshot of a job with its live numbers."""
        return self.book.event_for(job)

    def may_have_external_changes(self) -> bool:
        """Whether :meth:`sync_external` may find anything: False when no other process has
        committed since the last look. Never waits (one ``PRAGMA data_version``, skipped as
        "maybe" when another thread is using the database): fit for a UI loop."""
        version = self.history.data_version_now()
        return version is None or version != self._seen_version

    async def sync_external(self) -> list[Job]:
        """Publish jobs other processes created or changed since the last call.

        Cheap when nothing changed (one ``PRAGMA data_version``). Jobs this engine follows
        itself are not re-published; nothing is followed because of this.
        """
        jobs = await asyncio.to_thread(self._external_changes)
        for job in jobs:
            if not self.is_following(job.id):
                self.book.emit(job)
        return jobs

    # ----------------------------------------------------------------- the life of a job

    async def _follow(self, job_id: int) -> Job:
        job = self.history.get(job_id)
        if not job.state.is_terminal and job.owner != self.owner:
            claimed = self.history.claim(job_id, self.owner, stale=self._owner_gone)
            if claimed is None:
                pid = owner_pid(self.history.get(job_id).owner)
                raise JobFollowedElsewhere(
                    f"job {job_id} is being followed by another gpt-image-tui process"
                    + (f" (pid {pid})" if pid else "")
                    + "; its images appear in history when it is done"
                )
            job = claimed
        try:
            if job.state is JobState.PENDING:
                job = await self._submit(job)
                if job.cancel_requested and job.request_id is not None:
                    # A cancel that arrived while the submit was in flight.
                    await self._cancel_remote(job)
            if job.request_id is None or job.state.is_terminal:
                return job
            return await self.follower.run(job)
        except _RequestIdNotStored as lost:
            return lost.job
        except StopFollowing:
            return self.history.get(job_id)
        finally:
            await self._release_soon(job_id)

    async def _submit(self, job: Job) -> Job:
        price = await self._price_columns(job.request)
        async with self._submit_slots:
            job = await self.book.aget(job.id)
            if job.state is not JobState.PENDING:
                return job
            # If this write fails (database locked, disk full) nothing has been sent. It is
            # durable before the POST leaves (the writer is awaited).
            job = await self.book.amove(
                job, JobState.SUBMITTING, submitted_at=self.clock(), **price
            )
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
            answer = await self.client.submit(
                job.request, on_retry=self.follower.retry_notice(job.id)
            )
        except SubmitOutcomeUnknown as exc:
            return await self._settle(
                job, JobState.UNKNOWN, error=exc.message, exit_code=exc.exit_code
            )
        except GptImageError as exc:
            # Refused (4xx) or never reached the server: nothing ran, nothing billed.
            return await self._settle(
                job, JobState.FAILED, error=f"not submitted: {describe_error(exc)}",
                exit_code=exc.exit_code,
            )
        except Exception as exc:  # anything unforeseen after sending: it may have been billed
            return await self._settle(
                job, JobState.UNKNOWN, exit_code=1,
                error=f"outcome unknown — it may have run and been billed ({describe_error(exc)})",
            )
        return await self._land_request_id(job, answer.request_id, answer.server_note)

    async def _settle(self, job: Job, state: JobState, *, error: str, exit_code: int) -> Job:
        """Record how a submit ended; if the database refuses, the next start settles it."""
        try:
            job = await self.book.amove(
                job, state, error=error, exit_code=exit_code, finished_at=self.clock()
            )
        except StorageError:
            job = job.evolve(state=state, error=error, exit_code=exit_code)
        self.book.say(job, error)
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

    async def _land_request_id(self, job: Job, request_id: str, note: str | None) -> Job:
        """Keep a delivered request_id whatever fails locally.

        It goes to the fsync'd journal first, then into the database — retried while another
        process holds the lock or the disk is full. If the database still refuses, the id is
        published on the job's event (``unsaved_request_id``) for the user to hold, and the
        journal brings it back at the next start.
        """
        journal_problem: str | None = None
        try:
            # On the writer thread too: in order with the writes, the loop never waits on the
            # journal's fsync — and nothing goes on before it is done.
            await self.book.writer.run_alone(self.history.keep_request_id, job, request_id)
        except Exception as exc:  # the database write below may still succeed
            journal_problem = describe_error(exc)
        deadline = self.clock() + self.request_id_patience
        delay = 0.1
        while True:
            try:
                job = await self.book.amove(
                    job, JobState.QUEUED, request_id=request_id, remote_status="in_queue"
                )
            except StorageError as exc:
                if self.clock() < deadline:
                    live = self.book.live(job.id)
                    live.message = f"saving request id {request_id}: {exc.message} — retrying"
                    self.book.emit(job.evolve(request_id=request_id))
                    await self.sleep(delay)
                    delay = min(2.0, delay * 2)
                    continue
                raise self._request_id_not_stored(job, request_id, exc, journal_problem) from None
            except ValueError:  # another job already has this id: the server's answer is wrong
                return await self._settle(
                    job, JobState.UNKNOWN, exit_code=1,
                    error=f"the server answered with request id {request_id}, which another job "
                    "in history already has; this one may have run and been billed",
                )
            self.book.say(job, note)
            return job

    def _request_id_not_stored(
        self, job: Job, request_id: str, exc: StorageError, journal_problem: str | None
    ) -> _RequestIdNotStored:
        where = getattr(getattr(self.history, "journal", None), "path", None)
        kept = (
            f"it is kept in {where} and picked up at the next start"
            if journal_problem is None
            else f"the journal failed too ({journal_problem}) — note it down; "
            f"`gpt-image-tui result {request_id}` fetches the image"
        )
        error = f"request id {request_id} could not be saved in history ({exc.message}); {kept}"
        snapshot = job.evolve(
            request_id=request_id, state=JobState.STALLED, error=error, exit_code=75
        )
        live = self.book.live(job.id)
        live.unsaved_request_id = request_id
        self.book.say(snapshot, error)
        return _RequestIdNotStored(snapshot)

    # ----------------------------------------------------------------- cancel

    async def _cancel_remote(self, job: Job) -> CancelOutcome:
        assert job.request_id is not None
        try:
            answer = await self.client.cancel(
                job.request_id, on_retry=self.follower.retry_notice(job.id)
            )
        except GptImageError as exc:
            self.book.say(job, f"cancel failed: {describe_error(exc)} — the job goes on")
            return CancelOutcome.FAILED
        if answer.accepted:
            self.book.say(job, "cancel accepted — stopping")
            self.follower.wake(job.id)
            return CancelOutcome.CANCELLED
        self.book.say(
            self.history.get(job.id),
            "running — can't be cancelled; it will finish and be billed; the image will still be saved",
        )
        return CancelOutcome.NOT_CANCELLABLE

    # ----------------------------------------------------------------- helpers

    def _release(self, job_id: int) -> None:
        """Let other processes follow a job this one stopped following (best effort)."""
        with contextlib.suppress(StorageError, KeyError):
            self.history.release(job_id, self.owner)

    async def _release_soon(self, job_id: int) -> None:
        """:meth:`_release` on the writer thread; on the spot if this task is being cancelled
        (the app quitting), so the claim is never left behind."""
        try:
            with contextlib.suppress(StorageError, KeyError):
                await self.book.writer.run(self.history.release, job_id, self.owner)
        except asyncio.CancelledError:
            self._release(job_id)
            raise

    def _owner_gone(self, owner: str) -> bool:
        return owner != self.owner and not owner_alive(owner)

    def _same_backend(self, job: Job) -> bool:
        return job.backend is None or job.backend == self.backend

    def _remove_stale_temps(self, *, extra: Path | str | None = None) -> None:
        folders = {Path(self.output_files.default_directory)}
        with contextlib.suppress(StorageError):
            folders.update(Path(d) for d in self.history.resumable_output_dirs())
        if extra is not None:
            folders.add(Path(_absolute(extra)))
        for folder in folders:
            with contextlib.suppress(OSError):
                self.output_files.remove_stale_temps(folder)

    def _external_changes(self) -> list[Job]:
        """(In a thread) jobs changed by anyone since the last look; [] when nothing was."""
        version = self.history.data_version()
        if version == self._seen_version:
            return []
        limit = 500
        jobs, self._seen_rev = self.history.changed_since(self._seen_rev, limit=limit)
        if len(jobs) < limit:
            self._seen_version = version  # else: more to read at the next call
        return jobs
