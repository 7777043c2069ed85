"""How the engine follows a job once it has a request_id: poll, reconnect, fetch, save.

Kept apart from :mod:`tui.jobs.engine` (which owns creating, submitting, cancelling and
recovering jobs) so each reads on its own. :class:`FollowingMixin` is mixed into
:class:`~tui.jobs.engine.JobEngine` and uses its collaborators and bookkeeping helpers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    DownloadError,
    GptImageError,
    RateLimited,
)
from ..models import Job, JobState
from ..sanitize import clean_text
from ..urlsafety import UnsafeUrl, check_download_url
from .outputs import adopt_existing_output, describe_error, error_text
from .ports import ApiClient, Downloads, HistoryStore, OutputNames

__all__ = ["MAX_RECONNECT_DELAY", "MAX_UNKNOWN_POLLS", "FollowingMixin", "LiveNumbers", "StopFollowing"]

# Reconnect backoff while waiting on a job grows with the outage, up to this.
MAX_RECONNECT_DELAY = 30.0
# Polls in a row with a status nobody knows before the job is parked as STALLED.
MAX_UNKNOWN_POLLS = 15


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
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class StopFollowing(Exception):
    """Internal: the job reached a state where this follower should return it."""


class FollowingMixin:
    """Polling, reconnecting, fetching and saving — the waiting half of the engine."""

    # Provided by JobEngine.
    client: ApiClient
    history: HistoryStore
    downloader: Downloads
    output_files: OutputNames
    poll_interval: float
    save_outputs: bool
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]
    give_up_after: float | None
    before_commit: Callable[[Job, Path], None] | None
    _move: Callable[..., Job]
    _say: Callable[[Job, str | None], None]
    _emit: Callable[[Job], None]
    _live_for: Callable[[int], LiveNumbers]
    _on_retry: Callable[[int], Callable[[Any], None]]

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
        if not self.save_outputs:  # `run --no-download`: the URLs are the result
            job = self._move(job, JobState.COMPLETED, finished_at=self.clock(), exit_code=0)
            self._say(job, f"not downloaded (--no-download); `gpt-image-tui result {job.id}` saves it")
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
        existing = adopt_existing_output(directory, name, request_id=job.request_id)
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
                    raise StopFollowing from exc
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
            raise StopFollowing from exc
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
            raise StopFollowing from exc
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
