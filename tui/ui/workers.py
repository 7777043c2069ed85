"""The app's job workers: one per followed job, one per cancel, all owned by the app.

Each worker wraps one engine coroutine — ``follow`` or ``cancel`` — on the engine in charge of
the job (:class:`~tui.services.backends.Backends`), named and grouped, ``exit_on_error=False``.
The app's one worker handler asks :meth:`JobWorkers.outcome` how one ended: a failure to follow,
or what a cancel achieved, as a plain note for the job's card and a notification. Progress
itself never comes from here: it is the engine's events, through :class:`~tui.ui.bridge.JobFeed`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from textual.app import App
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from ..jobs import CancelOutcome, JobEngine, JobEvent
from ..models import Job, JobRequest
from ..services.backends import Backends
from ..trust.sanitize import clean_text

__all__ = ["JobOutcome", "JobWorkers", "cancel_outcome_text"]

FOLLOW_GROUP = "jobs"
CANCEL_GROUP = "cancel"
CREATE_GROUP = "create"

_OUTCOMES = {
    CancelOutcome.CANCELLED: "cancelled",
    CancelOutcome.REQUESTED: "cancel requested: it is cancelled the moment the server answers",
    CancelOutcome.NOT_CANCELLABLE: "running: can't be cancelled, will finish and be billed",
    CancelOutcome.FAILED: "the cancel call failed: the job goes on",
    CancelOutcome.NOTHING_TO_CANCEL: "already finished: nothing to cancel",
}


def cancel_outcome_text(outcome: CancelOutcome) -> str:
    return _OUTCOMES.get(outcome, str(outcome))


@dataclass(frozen=True, slots=True)
class _Work:
    kind: Literal["follow", "cancel"]
    job_id: int


@dataclass(frozen=True, slots=True)
class _Creating:
    """Jobs being recorded in a thread: the engine they go to, and whom to tell."""

    engine: JobEngine
    then: Callable[[list[Job]], None]
    failed: Callable[[str], None]


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How a job worker ended, for the job's card and a notification (plain, sanitised)."""

    job_id: int
    text: str
    severity: SeverityLevel


class JobWorkers:
    """Creates jobs on the current backend and runs their workers on ``app``."""

    def __init__(self, app: App[Any], backends: Backends) -> None:
        self._app = app
        self._backends = backends
        self._work: dict[Worker[Any], _Work] = {}
        self._creating: dict[Worker[Any], _Creating] = {}

    @property
    def engine(self) -> JobEngine:
        """The engine new jobs go to."""
        return self._backends.current.engine

    def create(
        self,
        request: JobRequest,
        *,
        parent_id: int | None = None,
        sweep_id: str | None = None,
        sweep_label: str | None = None,
    ) -> Job:
        """Record a job on the current backend (before anything is sent) and follow it."""
        engine = self.engine
        job = engine.create(request, parent_id=parent_id, sweep_id=sweep_id, sweep_label=sweep_label)
        self._start(engine.follow(job.id), _Work("follow", job.id), FOLLOW_GROUP)
        return job

    def create_many(
        self,
        requests: Sequence[JobRequest],
        *,
        labels: Sequence[str | None],
        parent_id: int | None = None,
        sweep_id: str | None = None,
        then: Callable[[list[Job]], None],
        failed: Callable[[str], None],
    ) -> None:
        """Record several jobs (a sweep's) on the current backend in one transaction, in a
        thread, then publish and follow them; ``then`` gets them on the UI loop (``failed``:
        one plain sentence, nothing recorded)."""
        engine = self.engine
        record = partial(
            engine.create_many, requests, labels=labels, parent_id=parent_id,
            sweep_id=sweep_id, publish=False,
        )
        worker = self._app.run_worker(
            record, name=f"create {len(requests)} jobs", group=CREATE_GROUP, thread=True,
            exit_on_error=False,
        )
        self._creating[worker] = _Creating(engine, then, failed)

    def recover(self) -> list[Job]:
        """Settle what an earlier session of the current backend left, and follow its jobs.

        Runs on the app's loop before anything new is created, so a job being created now can
        never be taken for one a dead process left unsent.
        """
        engine = self.engine
        resumed = engine.recover()
        for job in resumed:
            self._start(engine.follow(job.id), _Work("follow", job.id), FOLLOW_GROUP)
        return resumed

    def follow(self, job_id: int) -> None:
        """Follow a job to its end on the engine in charge of it."""
        engine = self._backends.engine_for(job_id)
        self._start(engine.follow(job_id), _Work("follow", job_id), FOLLOW_GROUP)

    def cancel(self, job_id: int) -> None:
        """Ask the engine in charge to cancel a job; :meth:`outcome` says what it achieved."""
        engine = self._backends.engine_for(job_id)
        self._start(engine.cancel(job_id), _Work("cancel", job_id), CANCEL_GROUP)

    def event_for(self, job: Job) -> JobEvent:
        """The job with the live numbers of the engine in charge of it."""
        for engine in self._backends.engines:
            if engine.is_following(job.id):
                return engine.event_for(job)
        return self.engine.event_for(job)

    def outcome(self, event: Worker.StateChanged) -> JobOutcome | None:
        """What to tell the user about a job worker that ended (None: not ours, still running,
        or nothing to say)."""
        if event.worker in self._creating:
            self._created(event)
            return None
        work = self._work.get(event.worker)
        if work is None or event.state not in {
            WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED
        }:
            return None
        del self._work[event.worker]
        if event.state == WorkerState.ERROR:
            reason = clean_text(event.worker.error or "unexpected error", limit=200)
            what = "stopped following" if work.kind == "follow" else "cancel failed"
            return JobOutcome(work.job_id, f"{what}: {reason}", "error")
        result = event.worker.result
        if event.state == WorkerState.SUCCESS and isinstance(result, CancelOutcome):
            severity: SeverityLevel = (
                "warning" if result is CancelOutcome.NOT_CANCELLABLE else "information"
            )
            return JobOutcome(work.job_id, cancel_outcome_text(result), severity)
        return None

    def _created(self, event: Worker.StateChanged) -> None:
        """Jobs recorded by :meth:`create_many`: publish and follow them, then say so."""
        if event.state not in {WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED}:
            return
        creating = self._creating.pop(event.worker)
        if not self._app.is_running:
            return  # quitting: jobs recorded but not sent are settled at the next start
        jobs = event.worker.result
        if event.state != WorkerState.SUCCESS or not isinstance(jobs, list):
            creating.failed(clean_text(event.worker.error or "not created", limit=200))
            return
        creating.engine.publish(jobs)
        for job in jobs:
            self._start(creating.engine.follow(job.id), _Work("follow", job.id), FOLLOW_GROUP)
        creating.then(jobs)

    def _start(self, work: Coroutine[Any, Any, object], what: _Work, group: str) -> None:
        worker = self._app.run_worker(
            work,
            name=f"{what.kind} job #{what.job_id}",
            group=group,
            exit_on_error=False,
        )
        self._work[worker] = what
