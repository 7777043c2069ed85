"""The offline server's job book-keeping: state machine, timing, counters, output shapes.

Pure and thread-safe (one lock): the server's event loop and a test's thread both read and move
jobs. Time is evaluated lazily on each access, so a held job is frozen exactly where it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .faults import Fault, Timing

__all__ = [
    "ADVANCE_STATES",
    "EVIL_URL",
    "HOSTILE_ERROR",
    "JobView",
    "ServerStats",
    "Simulation",
    "shape_output",
]

EVIL_URL = "https://evil.example.com/x.png"
# Escape codes (colour, an OSC 52 clipboard write, an OSC 8 link) and Textual markup (a live
# action and a style): everything a careless UI would obey instead of showing.
HOSTILE_ERROR = (
    "render failed: \x1b[31mGPU on fire\x1b[0m \x1b]52;c;ZXZpbA==\x07"
    "[@click=app.quit]click[/] [bold red]pwned[/bold red] "
    "\x1b]8;;https://evil.example.com\x07link\x1b]8;;\x07"
)
PLAIN_FAILURE = "offline render failed (forced)"
ADVANCE_STATES = frozenset({"in_queue", "in_progress", "completed", "failed", "cancelled"})
_RUNNING = frozenset({"in_queue", "in_progress"})


class ServerStats:
    """Thread-safe request counters, each incremented before any fault is applied."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.submits = 0  # every POST /models/..., whatever happened next
        self.submits_by_endpoint: dict[str, int] = {}  # "text-to-image" | "edit" | other tail
        self.status_gets = 0
        self.result_gets = 0
        self.cancels = 0
        self.downloads = 0  # GET /files/...
        self.download_auth_headers = 0  # file GETs that carried an Authorization header
        self.requests_with_bad_token = 0  # API calls refused for a missing/wrong token
        self.catalog_gets = 0  # GET /models/... (prices)
        self.balance_gets = 0  # GET /prod/v2/balance
        self.signin_starts = 0  # POST /api/cli-auth/start
        self.signin_polls = 0  # POST /api/cli-auth/poll
        self.faults_applied: dict[str, int] = {}  # Fault value -> times applied

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def add_submit(self, endpoint: str) -> None:
        with self._lock:
            self.submits += 1
            self.submits_by_endpoint[endpoint] = self.submits_by_endpoint.get(endpoint, 0) + 1

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults_applied[fault.value] = self.faults_applied.get(fault.value, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy of every counter."""
        with self._lock:
            return {
                key: dict(value) if isinstance(value, dict) else value
                for key, value in vars(self).items()
                if not key.startswith("_")
            }

    def __repr__(self) -> str:
        return f"ServerStats({self.snapshot()!r})"


@dataclass(frozen=True)
class JobView:
    """A consistent snapshot of one job, safe to hand to another thread."""

    request_id: str
    endpoint: str
    prompt: str
    size: str
    reference_count: int
    state: str
    queue_position: int | None
    instance_id: str | None
    created_at: str
    finished_at: str | None
    error: str | None
    files: tuple[str, ...]


@dataclass
class _Job:
    request_id: str
    endpoint: str
    prompt: str
    size: str
    reference_count: int
    created_at: float
    last_tick: float
    fail_error: str | None = None
    state: str = "in_queue"
    phase_elapsed: float = 0.0
    held: bool = False
    finished_at: float | None = None
    instance_id: str = field(default_factory=lambda: "offline-" + uuid.uuid4().hex[:8])
    files: tuple[str, ...] = ()


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Simulation:
    """Every job the server knows, moved along by elapsed time unless held or advanced."""

    def __init__(
        self,
        timing: Timing,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        journal: Path | None = None,
    ) -> None:
        self.timing = timing  # read at every tick, so replacing it re-paces running jobs
        self._monotonic = monotonic
        self._clock = clock
        self._new_id = new_id
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._by_file: dict[str, str] = {}
        self._hold_all = False
        self._journal = journal
        self._load_journal()

    # -- the journal: the embedded backend's jobs outlive the app, as the real API's do ---------

    _JOURNAL_FIELDS = (
        "request_id", "endpoint", "prompt", "size", "reference_count", "created_at",
        "fail_error", "state", "phase_elapsed", "finished_at", "files",
    )
    _JOURNAL_KEEP = 500

    def _load_journal(self) -> None:
        if self._journal is None:
            return
        try:
            rows = json.loads(self._journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # no journal yet, or unreadable: start empty (resumes then get 404)
        now = self._monotonic()
        for row in rows if isinstance(rows, list) else []:
            try:
                values = {name: row[name] for name in self._JOURNAL_FIELDS}
                values["files"] = tuple(values["files"])
                job = _Job(last_tick=now, **values)
            except (KeyError, TypeError):
                continue
            self._jobs[job.request_id] = job
            for name in job.files:
                self._by_file[name] = job.request_id

    def _save_journal(self) -> None:
        """Write every job's state atomically (called with the lock held, on changes only)."""
        if self._journal is None:
            return
        jobs = list(self._jobs.values())[-self._JOURNAL_KEEP :]
        rows = [{k: v for k, v in asdict(job).items() if k in self._JOURNAL_FIELDS} for job in jobs]
        temp = self._journal.with_name(f".{self._journal.name}.{os.getpid()}.tmp")
        with contextlib.suppress(OSError):
            self._journal.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text(json.dumps(rows), encoding="utf-8")
            os.replace(temp, self._journal)

    def create(
        self,
        endpoint: str,
        prompt: str,
        size: str,
        reference_count: int,
        *,
        fail_error: str | None = None,
    ) -> JobView:
        """Register a new job, in_queue from now."""
        with self._lock:
            request_id = self._new_id()
            job = _Job(
                request_id=request_id,
                endpoint=endpoint,
                prompt=prompt,
                size=size,
                reference_count=reference_count,
                created_at=self._clock(),
                last_tick=self._monotonic(),
                fail_error=fail_error,
                files=(f"{request_id}-1.png",),
            )
            self._jobs[request_id] = job
            for name in job.files:
                self._by_file[name] = request_id
            self._save_journal()
            return self._view(job)

    def get(self, request_id: str) -> JobView | None:
        """The job as of now, or None when unknown."""
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None:
                return None
            self._tick(job)
            return self._view(job)

    def for_file(self, name: str) -> JobView | None:
        """The job that produced the output file ``name``."""
        with self._lock:
            request_id = self._by_file.get(name)
        return self.get(request_id) if request_id else None

    def cancel(self, request_id: str) -> tuple[bool, JobView] | None:
        """Cancel if still queued. ``(cancelled, job)``, or None when unknown."""
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None:
                return None
            self._tick(job)
            if job.state != "in_queue":
                return False, self._view(job)
            self._finish(job, "cancelled")
            return True, self._view(job)

    def advance(self, request_id: str, status: str, *, error: str | None = None) -> None:
        """Move a job to ``status`` now (tests). KeyError if unknown, ValueError if no such state."""
        if status not in ADVANCE_STATES:
            raise ValueError(f"cannot advance to {status!r}; one of {sorted(ADVANCE_STATES)}")
        with self._lock:
            job = self._jobs[request_id]
            self._tick(job)
            if error is not None:
                job.fail_error = error
            if status in _RUNNING:
                job.state, job.phase_elapsed, job.finished_at = status, 0.0, None
                self._save_journal()
            else:
                if status == "failed" and job.fail_error is None:
                    job.fail_error = PLAIN_FAILURE
                self._finish(job, status)

    def hold(self, request_id: str | None = None) -> None:
        """Freeze the clock for one job (KeyError if unknown) or for all jobs, new ones included."""
        self._set_held(request_id, True)

    def release(self, request_id: str | None = None) -> None:
        """Undo :meth:`hold`; the frozen time is not counted."""
        self._set_held(request_id, False)

    def _set_held(self, request_id: str | None, held: bool) -> None:
        with self._lock:
            jobs = list(self._jobs.values()) if request_id is None else [self._jobs[request_id]]
            for job in jobs:
                self._tick(job)
            if request_id is None:
                self._hold_all = held
                if not held:
                    for job in jobs:
                        job.held = False
            else:
                jobs[0].held = held

    def request_ids(self) -> list[str]:
        """Every job created so far, oldest first."""
        with self._lock:
            return list(self._jobs)

    def state(self, request_id: str) -> str | None:
        view = self.get(request_id)
        return view.state if view else None

    # -- internals, called with the lock held --------------------------------------------------

    def _finish(self, job: _Job, state: str) -> None:
        job.state = state
        job.phase_elapsed = 0.0
        job.finished_at = self._clock()
        self._save_journal()

    def _tick(self, job: _Job) -> None:
        now = self._monotonic()
        elapsed, job.last_tick = now - job.last_tick, now
        if job.held or self._hold_all or job.state not in _RUNNING:
            return
        job.phase_elapsed += elapsed
        timing = self.timing
        if job.state == "in_queue" and job.phase_elapsed >= timing.queue_seconds:
            job.phase_elapsed -= max(0.0, timing.queue_seconds)
            job.state = "in_progress"
            self._save_journal()
        if job.state == "in_progress" and job.phase_elapsed >= timing.run_seconds:
            self._finish(job, "failed" if job.fail_error else "completed")

    def _view(self, job: _Job) -> JobView:
        position = None
        if job.state == "in_queue":
            timing = self.timing
            ahead = max(0, int(timing.queue_ahead))
            if timing.queue_seconds > 0:
                # ahead+1 equal slots: ahead, ..., 1, 0 -- the first poll sees the full queue.
                slot = int(job.phase_elapsed / timing.queue_seconds * (ahead + 1))
                position = max(0, min(ahead, ahead - slot))
            else:
                position = 0
        return JobView(
            request_id=job.request_id,
            endpoint=job.endpoint,
            prompt=job.prompt,
            size=job.size,
            reference_count=job.reference_count,
            state=job.state,
            queue_position=position,
            instance_id=job.instance_id if job.state == "in_progress" else None,
            created_at=_iso(job.created_at) or "",
            finished_at=_iso(job.finished_at),
            error=job.fail_error if job.state == "failed" else None,
            files=job.files,
        )


def shape_output(shape: str, urls: list[str]) -> Any:
    """The result's ``output`` for ``urls`` in one of the shapes the client must cope with.

    string → url · list → [url] · images → {"images": [url]} · nested →
    {"data": {"images": [{"url": url}]}} · dict → {"image": url} · empty → {} (completed, no URL)
    · untrusted → {"images": [EVIL_URL]} · mixed → [url, EVIL_URL, url] (a duplicate too).
    """
    first = urls[0] if urls else ""
    shapes: dict[str, Callable[[], Any]] = {
        "string": lambda: first,
        "list": lambda: list(urls),
        "images": lambda: {"images": list(urls)},
        "nested": lambda: {"data": {"images": [{"url": url} for url in urls]}},
        "dict": lambda: {"image": first},
        "empty": lambda: {},
        "untrusted": lambda: {"images": [EVIL_URL]},
        "mixed": lambda: [*urls, EVIL_URL, *urls],
    }
    try:
        return shapes[shape]()
    except KeyError:
        raise ValueError(f"unknown output_shape {shape!r}") from None
