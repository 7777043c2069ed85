"""Following a job that has a request_id: poll, reconnect, fetch the result, save the images.

The :class:`Follower` is owned by :class:`~tui.jobs.engine.JobEngine` and shares its
:class:`~tui.jobs.book.JobBook`. Its rules (see reliability.md):

* Network trouble never fails a job: it reconnects with growing pauses. With ``give_up_after``
  (the headless commands) the whole wait is bounded — a call that never answers, a drip, a huge
  ``Retry-After`` — and the job is parked STALLED (resumable) within one poll interval of it.
* A ``Retry-After`` longer than the sane cap is shown as "rate-limited until <date time>" and
  treated as an outage, not slept through.
* A result that contradicts the status (``in_queue`` after ``completed``) is asked again, a
  bounded number of times, then the job is parked STALLED — never failed.
* Images go to the job's own folder; trouble writing them locally parks the job STALLED.
* A poll that answers what is already known (same status, same queue position) writes nothing
  and publishes nothing; every write goes through the book's writer, off the event loop and
  durable before the follower goes on. Between polls the job is kept in memory; it is read
  again when something woke the follower (a cancel) or a call failed.
* The polls of all jobs go out in rounds (:func:`poll_due`): one wake-up for many polls.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from ..api.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    CallTimeout,
    DownloadError,
    RateLimited,
)
from ..api.retry import RetryPolicy
from ..errors import GptImageError
from ..models import Job, JobState
from ..trust.sanitize import clean_text
from ..trust.urls import UnsafeUrl, check_download_url
from .book import JobBook
from .outputs import adopt_existing_output, describe_error, error_text
from .ports import ApiClient, Downloads, OutputNames

__all__ = [
    "MAX_CONTRADICTIONS",
    "MAX_RECONNECT_DELAY",
    "MAX_UNKNOWN_POLLS",
    "POLLS_PER_ROUND",
    "POLL_ROUND_SECONDS",
    "Follower",
    "StopFollowing",
    "format_until",
    "phase_of",
    "poll_due",
    "round_step",
]

# Reconnect backoff while waiting on a job grows with the outage, up to this.
MAX_RECONNECT_DELAY = 30.0
# Polls in a row with a status nobody knows before the job is parked as STALLED.
MAX_UNKNOWN_POLLS = 15
# Result answers in a row that contradict the status ("in_queue" after "completed").
MAX_CONTRADICTIONS = 10
# "completed" with no URL is asked again this many times before it is an error.
MAX_EMPTY_RESULTS = 3

_T = TypeVar("_T")


class StopFollowing(Exception):
    """Internal: the job reached a state where this follower should return it."""


def phase_of(job_id: int) -> float:
    """Where in the poll interval a job's polls fall, as a fraction in [0, 1).

    Jobs followed at once (fifty resumed at start, a sweep) would otherwise all poll in one
    round, then nothing for an interval. Consecutive ids land evenly apart (the golden ratio's
    fractional parts), so they are shared out over the interval's rounds (:func:`poll_due`).
    """
    return (job_id * 0.6180339887498949) % 1.0


POLL_ROUND_SECONDS = 0.5
"""Polls fall on a shared grid of this step (or of the poll interval, when shorter)."""

POLLS_PER_ROUND = 10
"""About how many polls one round may carry before the grid is made finer (:func:`round_step`)."""


def round_step(poll_interval: float, followed: int) -> float:
    """The grid the polls of ``followed`` jobs share, each polled every ``poll_interval``.

    Rounds save wake-ups, but a round is work the event loop does in one go, and a key pressed
    meanwhile waits for all of it (a hundred jobs polled every 0.25 s in one round held keys
    back by 60 ms four times a second). So a round carries about :data:`POLLS_PER_ROUND` polls:
    with more jobs, the interval is cut into more rounds, and each job keeps its own (its
    :func:`phase_of` picks it).
    """
    step = min(POLL_ROUND_SECONDS, poll_interval)
    if followed > POLLS_PER_ROUND:
        step = min(step, poll_interval * POLLS_PER_ROUND / followed)
    return step


def poll_due(now: float, seconds: float, grid: float, *, up: bool = False) -> float:
    """When a poll pause of ``seconds`` from ``now`` ends: on the grid shared by every job.

    Each wake-up of a program costs far more than its share of a request (measured: fifty jobs
    polled every 2 s at fifty different moments cost three times the CPU of the same polls in
    four rounds), so the polls of all jobs are gathered into rounds: the pause ends on the last
    grid point before ``now + seconds`` — a poll answered within one step of its round is next
    asked exactly one interval after that round (polls of a job never come closer together
    than the interval, start to start) — or on the next grid point when that one is past.

    ``up``: the first grid point at or after ``now + seconds`` instead — for a job's first
    poll, so that phases spread evenly over the interval land evenly on its rounds.
    """
    if grid <= 0:
        return now + seconds
    due = (math.ceil if up else math.floor)((now + seconds) / grid) * grid
    return due if due > now else (math.floor(now / grid) + 1) * grid


def format_until(when: float, now: float) -> str:
    """``14:05`` today, ``2026-12-12 03:00`` on another day (local time)."""
    moment, today = time.localtime(when), time.localtime(now)
    if moment[:3] == today[:3]:
        return time.strftime("%H:%M", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


class Follower:
    """Polls a submitted job to its end and saves its images (see the module docstring)."""

    def __init__(
        self,
        book: JobBook,
        *,
        client: ApiClient,
        downloader: Downloads,
        output_files: OutputNames,
        poll_interval: float,
        sleep: Callable[[float], Awaitable[None]],
        give_up_after: float | None,
        before_commit: Callable[[Job, Path], None] | None,
        save_outputs: bool = True,
    ) -> None:
        self.book = book
        self.save_outputs = save_outputs
        self.client = client
        self.downloader = downloader
        self.output_files = output_files
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.give_up_after = give_up_after
        self.before_commit = before_commit
        self.following = 0  # jobs being followed now (they share the poll rounds)

    @property
    def _max_retry_after(self) -> float:
        policy = getattr(self.client, "policy", None)
        return policy.max_retry_after if isinstance(policy, RetryPolicy) else 120.0

    # ----------------------------------------------------------------- the whole follow

    async def run(self, job: Job) -> Job:
        """Wait for the result, fetch it and save the images; the job's final (or STALLED) row."""
        self.book.live(job.id).last_contact = self.book.clock()
        self.following += 1
        try:
            job = await self._wait_for_result(job)
            if job.state is JobState.DOWNLOADING:
                job = await self._fetch_and_save(job)
            return job
        except StopFollowing:
            return await self.book.aget(job.id)
        finally:
            self.following -= 1
            live = self.book.peek(job.id)
            if live is not None:
                live.reconnecting = False
                live.retry_in = None

    async def fetch_again(self, job: Job) -> Job:
        """Fetch the result of a finished job and save any missing images (``result ID``)."""
        self.book.live(job.id).last_contact = self.book.clock()
        if job.state is not JobState.DOWNLOADING:
            job = await self.book.amove(job, JobState.DOWNLOADING)
        try:
            return await self._fetch_and_save(job)
        except StopFollowing:
            return await self.book.aget(job.id)

    # ----------------------------------------------------------------- polling

    async def _wait_for_result(self, job: Job) -> Job:
        """Poll until the server says the job is done; return it in DOWNLOADING or final."""
        live = self.book.live(job.id)
        unknown_in_a_row = 0
        job = await self.book.aget(job.id)
        if not (job.state.is_terminal or job.state is JobState.DOWNLOADING):
            await self.pause(
                job.id, self.poll_interval * phase_of(job.id), rounds=True, first=True
            )
        while True:
            if job.state.is_terminal or job.state is JobState.DOWNLOADING:
                return job
            assert job.request_id is not None
            answer = await self._call_waiting(job, self.client.status, job.request_id)
            if answer is None:
                job = await self.book.aget(job.id)  # after trouble (or a wake): look again
                continue
            live.polls += 1
            status = answer.status
            if status == "in_queue":
                unknown_in_a_row = 0
                job = await self.book.anote(
                    job, JobState.QUEUED, remote_status=status, queue_position=answer.queue_position
                )
            elif status == "in_progress":
                unknown_in_a_row = 0
                changes: dict[str, Any] = {"remote_status": status, "queue_position": None}
                if job.started_at is None:
                    changes["started_at"] = self.book.clock()
                job = await self.book.anote(job, JobState.RUNNING, **changes)
            elif status in {"completed", "failed"}:
                return await self.book.amove(
                    job, JobState.DOWNLOADING, remote_status=status, queue_position=None
                )
            elif status == "cancelled":
                job = await self.book.aget(job.id)  # whether the user asked is in the row
                job = await self.book.amove(
                    job, JobState.CANCELLED, remote_status=status, queue_position=None,
                    finished_at=self.book.clock(),
                    error=None if job.cancel_requested else "cancelled on the server",
                )
                self.book.say(job, "cancelled — nothing more will be billed")
                return job
            else:
                unknown_in_a_row += 1
                shown = clean_text(status, limit=40)
                job = await self.book.aupdate(job.id, remote_status=shown)
                if unknown_in_a_row >= MAX_UNKNOWN_POLLS:
                    job = await self.book.amove(
                        job, JobState.STALLED, exit_code=1,
                        error=f"the server kept answering an unknown status {shown!r}; resume later",
                    )
                    self.book.say(job, job.error)
                    return job
                self.book.say(job, f"server reports an unknown status {shown!r} — still watching")
            if await self.pause(job.id, self.poll_interval, rounds=True):
                job = await self.book.aget(job.id)  # woken: something happened to the job

    # ----------------------------------------------------------------- result and images

    async def _fetch_and_save(self, job: Job) -> Job:
        assert job.request_id is not None
        contradictions = empty = 0
        while True:
            answer = await self._call_waiting(job, self.client.result, job.request_id)
            if answer is None:
                continue
            status = answer.status
            if status == "failed" or (status is None and job.remote_status == "failed"):
                message = error_text(answer.error) or "no reason given"
                job = await self.book.amove(
                    job, JobState.FAILED, error=f"generation failed: {message}", exit_code=1,
                    finished_at=self.book.clock(),
                )
                self.book.say(job, job.error)
                return job
            urls = answer.output_urls
            if urls:
                break
            if status in {None, "completed"}:
                empty += 1
                if empty >= MAX_EMPTY_RESULTS:
                    job = await self.book.amove(
                        job, JobState.FAILED, exit_code=1, finished_at=self.book.clock(),
                        error="the server said completed but gave no image URL (request id kept)",
                    )
                    self.book.say(job, job.error)
                    return job
                self.book.say(job, "the result lists no image yet — asking again")
            else:
                contradictions += 1
                shown = clean_text(status, limit=40)
                if contradictions >= MAX_CONTRADICTIONS:
                    job = await self.book.amove(
                        job, JobState.STALLED, exit_code=75,
                        error=f"the result kept saying {shown!r} after the status said "
                        f"{job.remote_status or 'done'!r}; the request id is kept — resume later",
                    )
                    self.book.say(job, job.error)
                    return job
                self.book.say(
                    job, f"the result says {shown!r} although the status said "
                    f"{job.remote_status or 'done'!r} — asking again",
                )
            await self.pause(job.id, self.poll_interval, rounds=True)
        job = await self.book.aupdate(job.id, output_urls=tuple(urls))
        if not self.save_outputs:  # `run --no-download`: the URLs are the result
            job = await self.book.amove(
                job, JobState.COMPLETED, finished_at=self.book.clock(), exit_code=0
            )
            self.book.say(
                job, f"not downloaded (--no-download); `gpt-image-tui result {job.id}` saves it"
            )
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
            job = await self.book.aupdate(job.id, files=tuple(files))
        skipped = len(urls) - len(trusted)
        note = (
            f"{skipped} output URL(s) not on a trusted host: listed, not downloaded"
            if skipped
            else None
        )
        job = await self.book.amove(
            job, JobState.COMPLETED, finished_at=self.book.clock(), error=note, exit_code=0
        )
        self.book.say(job, note)
        return job

    async def _download_one(self, job: Job, index: int, url: str) -> Path:
        live = self.book.live(job.id)
        directory = self.output_files.directory_for(job)
        name = self.output_files.name_for(job, index, "png")
        existing = adopt_existing_output(directory, name, request_id=job.request_id)
        if existing is not None:
            return existing

        def progress(done: int, total: int | None) -> None:
            live.bytes_done, live.bytes_total = done, total
            self._contact(job.id)
            self.book.emit(job)

        def before_commit(temp: Path) -> None:
            if self.before_commit is None:
                return
            try:
                self.before_commit(self.book.history.get(job.id), temp)
            except Exception as exc:  # the image matters more than its embedded recipe
                live.message = clean_text(f"recipe not embedded: {describe_error(exc)}", limit=200)

        while True:
            try:
                path: Path = await self._bounded(
                    job,
                    lambda: self.downloader.download(
                        url, directory, name, on_progress=progress, before_commit=before_commit
                    ),
                )
            except DownloadError as exc:
                if exc.local:
                    await self._park(
                        job, exit_code=73,
                        error=f"can't save the image: {exc.message}; the request id is kept — "
                        "fix the folder and run `gpt-image-tui resume` "
                        "(or `resume --output-dir DIR`)",
                    )
                if not exc.retryable:
                    failed = await self.book.amove(
                        job, JobState.FAILED, error=f"download failed: {exc.message}",
                        exit_code=1, finished_at=self.book.clock(),
                    )
                    self.book.say(failed, failed.error)
                    raise StopFollowing from exc
                await self._trouble_pause(job, exc)
                continue
            except CallTimeout as exc:
                await self._trouble_pause(job, exc)
                continue
            self._recovered(job.id)
            return path

    # ----------------------------------------------------------------- waiting & reconnecting

    def _deadline(self, job_id: int) -> float | None:
        """When following gives up (``give_up_after`` without contact), or None: never."""
        if self.give_up_after is None:
            return None
        live = self.book.live(job_id)
        since = live.last_contact if live.last_contact is not None else self.book.clock()
        return since + self.give_up_after

    def _contact(self, job_id: int) -> None:
        """The server answered (or a download made progress): the give-up clock restarts."""
        live = self.book.live(job_id)
        live.last_contact = self.book.clock()
        scope = live.deadline_scope
        if scope is not None and self.give_up_after is not None:
            scope.reschedule(asyncio.get_running_loop().time() + self.give_up_after)

    async def _bounded(self, job: Job, call: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``call()``, cut off at the give-up deadline (a CallTimeout) when there is one."""
        deadline = self._deadline(job.id)
        if deadline is None:
            return await call()
        remaining = deadline - self.book.clock()
        if remaining <= 0:
            raise CallTimeout(f"no answer for {self.give_up_after:g} s")
        live = self.book.live(job.id)
        try:
            async with asyncio.timeout(remaining) as scope:
                live.deadline_scope = scope  # progress pushes it back (see _contact)
                try:
                    return await call()
                finally:
                    live.deadline_scope = None
        except TimeoutError:
            raise CallTimeout(f"no answer for {self.give_up_after:g} s") from None

    async def _call_waiting(
        self, job: Job, call: Callable[..., Awaitable[Any]], request_id: str
    ) -> Any:
        """One status/result call; transient trouble pauses and returns None (try again)."""
        try:
            answer = await self._bounded(
                job, lambda: call(request_id, on_retry=self.retry_notice(job.id))
            )
        except RateLimited as exc:
            await self._trouble_pause(job, exc)
            return None
        except (AuthError, BadRequestError) as exc:
            failed = await self.book.amove(
                job, JobState.FAILED, error=describe_error(exc), exit_code=exc.exit_code,
                finished_at=self.book.clock(),
            )
            self.book.say(failed, failed.error)
            raise StopFollowing from exc
        except ApiError as exc:
            await self._trouble_pause(job, exc)
            return None
        self._contact(job.id)
        if self._recovered(job.id):
            self.book.republish(job.id)  # "reconnecting…" is over, even if nothing else changed
        return answer

    def retry_notice(self, job_id: int) -> Callable[[Any], None]:
        def notice(retry: Any) -> None:
            live = self.book.live(job_id)
            live.retry_in = getattr(retry, "delay", None)
            reason = clean_text(getattr(retry, "reason", "retrying"), limit=120)
            self.book.say_by_id(job_id, f"retrying in {live.retry_in or 0:.1f} s — {reason}")

        return notice

    async def _park(self, job: Job, *, error: str, exit_code: int) -> None:
        """Stop following, keeping the job resumable (STALLED) with a plain reason."""
        stalled = await self.book.amove(job, JobState.STALLED, exit_code=exit_code, error=error)
        self.book.say(stalled, stalled.error)
        raise StopFollowing

    async def _trouble_pause(self, job: Job, exc: GptImageError) -> None:
        """Wait out an outage or a rate limit — or give up, parking the job, at the deadline."""
        live = self.book.live(job.id)
        now = self.book.clock()
        if live.failing_since is None:
            live.failing_since = now
        since = live.last_contact if live.last_contact is not None else live.failing_since
        if self.give_up_after is not None and now - since >= self.give_up_after:
            await self._park(
                job, exit_code=exc.exit_code,
                error=f"lost contact ({describe_error(exc)}); the request id is kept — "
                "run `gpt-image-tui resume` to pick it up",
            )
        outage = now - live.failing_since
        delay = min(MAX_RECONNECT_DELAY, max(self.poll_interval, outage))
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        if isinstance(exc, RateLimited):
            if retry_after is not None and 0 < retry_after <= self._max_retry_after:
                delay = retry_after
            until = now + (retry_after if retry_after and retry_after > 0 else delay)
            live.rate_limited_until = until
            text = f"rate-limited until {format_until(until, now)}"
        else:
            live.reconnecting = True
            text = f"reconnecting in {delay:.0f} s — {describe_error(exc)}"
        if self.give_up_after is not None:
            delay = max(0.0, min(delay, since + self.give_up_after - now))
        live.retry_in = delay
        self.book.say(job, text)
        await self.pause(job.id, delay)
        live.retry_in = None

    def _recovered(self, job_id: int) -> bool:
        """Forget an outage or rate limit that is over; True when there was one."""
        live = self.book.live(job_id)
        if live.reconnecting or live.failing_since is not None or live.rate_limited_until:
            live.reconnecting = False
            live.failing_since = None
            live.retry_in = None
            live.rate_limited_until = None
            live.message = None
            return True
        return False

    def wake(self, job_id: int) -> None:
        live = self.book.peek(job_id)
        if live is not None:
            live.wake.set()
            if live.waiter is not None:
                _settle(live.waiter)

    async def pause(
        self, job_id: int, seconds: float, *, rounds: bool = False, first: bool = False
    ) -> bool:
        """Sleep, but wake early when something happens to this job (a cancel); True when
        woken that way.

        On the real clock this is one timer and one future (a pause per poll per job adds up);
        ``rounds``: a pause between polls, ending on the grid every job's polls share
        (:func:`poll_due`; ``first``: rounded up, for a job's first poll), so the polls of many
        jobs go out together in one wake-up. An
        injected ``sleep`` (tests) is raced against the wake-up instead.
        """
        live = self.book.live(job_id)
        live.wake.clear()
        if seconds <= 0:
            return False
        if self.sleep is asyncio.sleep:
            loop = asyncio.get_running_loop()
            waiter = loop.create_future()
            now = loop.time()
            grid = round_step(self.poll_interval, self.following) if rounds else 0.0
            timer = loop.call_at(poll_due(now, seconds, grid, up=first), _settle, waiter)
            live.waiter = waiter
            try:
                await waiter
            finally:
                timer.cancel()
                live.waiter = None
            return live.wake.is_set()
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        waker = asyncio.ensure_future(live.wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
        return live.wake.is_set()


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
