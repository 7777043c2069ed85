"""One job as a two-line card: state badge, prompt, elapsed time; progress bar and status."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ListItem, ProgressBar

from ..jobs.events import JobEvent
from ..models import JobState
from ..sanitize import clean_text

__all__ = ["JobCard", "badge_text", "format_bytes", "format_elapsed", "status_text"]

BADGES: dict[JobState, str] = {
    JobState.PENDING: "WAIT",
    JobState.SUBMITTING: "SEND",
    JobState.QUEUED: "QUEUE",
    JobState.RUNNING: "RUN",
    JobState.DOWNLOADING: "SAVE",
    JobState.STALLED: "STALL",
    JobState.COMPLETED: "DONE",
    JobState.FAILED: "FAIL",
    JobState.CANCELLED: "CANCEL",
    JobState.UNKNOWN: "UNKNOWN",
    JobState.NOT_SENT: "UNSENT",
}


def badge_text(state: JobState) -> str:
    """A short word for the state: readable without colour (NO_COLOR, 16 colours)."""
    return BADGES.get(state, state.value.upper())


def format_elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_bytes(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def run_fraction(event: JobEvent, now: float, estimate: float | None) -> float | None:
    """How far a running job probably is, from past durations (None: no estimate)."""
    started = event.job.started_at
    if estimate is None or estimate <= 0 or started is None:
        return None
    return min(0.95, max(0.0, (now - started) / estimate))


def status_text(event: JobEvent, *, since: float, now: float, estimate: float | None) -> str:
    """The second line of a card, plain and sanitised. ``since``: when the event arrived."""
    job = event.job
    state = job.state
    waited = max(0.0, now - since)
    parts: list[str] = []
    if event.rate_limited_until is not None and event.message:
        parts.append(event.message)
    elif event.retry_in is not None:
        parts.append(f"reconnecting in {max(0, round(event.retry_in - waited))} s")
    if state is JobState.PENDING:
        parts.insert(0, "waiting for a submission slot")
    elif state is JobState.SUBMITTING:
        parts.insert(0, "submitting…")
    elif state is JobState.QUEUED:
        position = job.queue_position
        parts.insert(0, f"queued · position {position}" if position else "queued")
    elif state is JobState.RUNNING:
        fraction = run_fraction(event, now, estimate)
        parts.insert(
            0, "running" if fraction is None else f"running · ~{fraction:.0%} (estimate)"
        )
    elif state is JobState.DOWNLOADING:
        done = format_bytes(event.bytes_done)
        total = f"/{format_bytes(event.bytes_total)}" if event.bytes_total else ""
        parts.insert(0, f"downloading {done}{total}")
    elif state is JobState.COMPLETED:
        names = [Path(name).name for name in job.files]
        shown = names[0] if names else "no file saved"
        if len(names) > 1:
            shown += f" (+{len(names) - 1})"
        parts.insert(0, shown)
        if job.error:
            parts.append(job.error)
        return clean_text(" · ".join(parts), limit=400)
    else:
        parts.insert(0, job.error or state.value)
        if event.message and event.message != job.error:
            parts.append(event.message)
        return clean_text(" · ".join(parts), limit=400)
    if event.message and event.message not in parts:
        parts.append(event.message)
    return clean_text(" · ".join(parts), limit=400)


class JobCard(ListItem):
    """A job row. The pool hands it events and clock ticks; it only ever redraws itself."""

    def __init__(self, event: JobEvent, *, received: float) -> None:
        super().__init__(id=f"job-{event.job.id}")
        self.event = event
        self.received = received
        self.note: str | None = None

    @property
    def job_id(self) -> int:
        return self.event.job.id

    def compose(self) -> ComposeResult:
        job = self.event.job
        with Horizontal(classes="card-top"):
            yield Label("", classes="badge")
            yield Label(f"#{job.id}", classes="card-id")
            yield Label("resumed", classes="card-resumed")
            yield Label(clean_text(job.request.prompt, limit=200), classes="card-title", markup=False)
            yield Label("", classes="card-time")
        with Horizontal(classes="card-bottom"):
            yield ProgressBar(total=None, show_eta=False, show_percentage=False)
            yield Label("", classes="card-status", markup=False)

    def on_mount(self) -> None:
        self._draw(self.received, None)

    def apply(self, event: JobEvent, *, now: float, estimate: float | None) -> None:
        if event.job.state is not self.event.job.state:
            self.note = None
        self.event = event
        self.received = now
        self.refresh_card(now, estimate)

    def refresh_card(self, now: float, estimate: float | None) -> None:
        """Redraw from the last event; cheap enough to call once a second per active job."""
        if self.is_mounted:
            self._draw(now, estimate)

    def _draw(self, now: float, estimate: float | None) -> None:
        event, job = self.event, self.event.job
        state = job.state
        badge = self.query_one(".badge", Label)
        badge.update(badge_text(state))
        for known in JobState:
            self.set_class(known is state, f"-state-{known.value}")
        self.set_class(job.resumed, "-resumed")
        elapsed = event.elapsed + (max(0.0, now - self.received) if state.is_active else 0.0)
        self.query_one(".card-time", Label).update(format_elapsed(elapsed))
        status = status_text(event, since=self.received, now=now, estimate=estimate)
        if self.note and not status.startswith(self.note):
            status = clean_text(f"{self.note} · {status}", limit=400)
        self.query_one(".card-status", Label).update(status)
        self._progress(now, estimate)

    def _progress(self, now: float, estimate: float | None) -> None:
        bar = self.query_one(ProgressBar)
        event, state = self.event, self.event.job.state
        if state is JobState.COMPLETED:
            bar.update(total=1, progress=1)
        elif state.is_terminal or state is JobState.STALLED:
            bar.update(total=1, progress=0)
        elif state is JobState.DOWNLOADING and event.bytes_total:
            bar.update(total=event.bytes_total, progress=event.bytes_done)
        elif state is JobState.RUNNING and (fraction := run_fraction(event, now, estimate)) is not None:
            bar.update(total=100, progress=round(fraction * 100))
        else:
            bar.update(total=None)
