"""What the headless commands say about a job: progress on stderr, a JSON summary on stdout, and
the exit code its final state calls for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from ..models import Job, JobState
from ..trust.sanitize import clean_text
from .console import say

if TYPE_CHECKING:
    from ..jobs import JobEvent  # the engine is not needed to print a job

__all__ = ["ProgressPrinter", "exit_code_for", "job_summary"]


class ProgressPrinter:
    """Writes one stderr line per meaningful change of a job — never a flood.

    A failed write (a closed pipe) is dropped: progress never takes a job down. A request id
    the history database refused is always printed, on its own line, for the user to keep.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._last: dict[int, tuple[Any, ...]] = {}
        self._announced: set[str] = set()

    def __call__(self, event: JobEvent) -> None:
        job = event.job
        rid = event.unsaved_request_id
        if rid and rid not in self._announced:
            self._announced.add(rid)
            say(f"request id {rid} (job {job.id}) — keep it: {event.message or ''}", self.stream)
        bucket = event.bytes_done // (256 * 1024) if job.state is JobState.DOWNLOADING else 0
        key = (job.state, job.queue_position, event.message, bucket, job.remote_status)
        if self._last.get(job.id) == key:
            return
        self._last[job.id] = key
        parts = [f"job {job.id}", job.state.value]
        if job.request_id:
            parts.insert(1, job.request_id[:12])
        if job.state is JobState.QUEUED and job.queue_position is not None:
            parts.append(f"position {job.queue_position}")
        if job.state is JobState.DOWNLOADING and event.bytes_done:
            parts.append(f"{event.bytes_done / 1024:.0f} kB")
        if event.message:
            parts.append(f"— {event.message}")
        if job.state is JobState.COMPLETED and job.files:
            parts.append("→ " + ", ".join(job.files))
        say(clean_text(" · ".join(parts)), self.stream)


def job_summary(job: Job) -> dict[str, Any]:
    """The JSON object the commands print for a job."""
    return {
        "job": job.id,
        "request_id": job.request_id,
        "status": job.state.value,
        "endpoint": job.endpoint.value,
        "size": job.request.size,
        "prompt": job.request.prompt,
        "output": list(job.output_urls),
        "files": list(job.files),
        "price_usd": None if job.price_usd is None else float(job.price_usd),
        "error": job.error,
        "parent": job.parent_id,
        "starred": job.starred,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def exit_code_for(job: Job) -> int:
    """The process exit code a job's final state calls for."""
    if job.state is JobState.COMPLETED:
        return 0
    if job.exit_code:
        return job.exit_code
    if job.state is JobState.STALLED:
        return 75
    return 1
