"""One job as a fixed-size two-line card that redraws only the parts that changed.

Line 1: state badge · ``#id`` (``↻`` when resumed) and the prompt · elapsed time.
Line 2: a text progress bar under the badge · one plain status line.

Every part has a fixed size (see the ``JobCard`` rules in ``app.tcss``), so an update repaints
its own few cells and never asks for a layout of the screen; state classes change only when the
state does. The card is pushed values by the pool (events, clock ticks, animation frames) and
keeps the last text it showed per part, so a poll that changes nothing costs a comparison.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Label, ListItem

from ...jobs.events import JobEvent
from ...models import JobState
from ...trust.sanitize import clean_text

__all__ = [
    "BAR_WIDTH",
    "JobCard",
    "badge_text",
    "bar_text",
    "format_bytes",
    "format_elapsed",
    "short_elapsed",
    "status_text",
]

BADGES: dict[JobState, str] = {
    JobState.PENDING: "PENDING",
    JobState.SUBMITTING: "SENDING",
    JobState.QUEUED: "QUEUED",
    JobState.RUNNING: "RUNNING",
    JobState.DOWNLOADING: "SAVING",
    JobState.STALLED: "STALLED",
    JobState.COMPLETED: "DONE",
    JobState.FAILED: "FAILED",
    JobState.CANCELLED: "CANCELLED",
    JobState.UNKNOWN: "UNKNOWN",
    JobState.NOT_SENT: "NOT SENT",
}
BADGE_WIDTH = max(len(word) for word in BADGES.values())  # 9: every word fits, none is cut
BAR_WIDTH = BADGE_WIDTH

# Line 2 of a finished job with no error and no message: what the state means for the user.
_SETTLED: dict[JobState, str] = {
    JobState.FAILED: "no reason given",
    JobState.CANCELLED: "cancelled — nothing more will be billed",
    JobState.UNKNOWN: "outcome unknown — it may have run and been billed",
    JobState.NOT_SENT: "never sent — nothing was billed",
    JobState.STALLED: "not followed now; run `gpt-image-tui resume`",
}

# The bar under the badge: heavy cells done, light cells to go. Without colour it still reads.
_DONE, _TODO, _WAIT = "━", "─", "╍"
_SEGMENT = 3  # the moving segment of an indeterminate bar


def badge_text(state: JobState) -> str:
    """A word for the state, readable without colour (NO_COLOR, 16 colours)."""
    return BADGES.get(state, state.value.upper().replace("_", " "))


def format_elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def short_elapsed(seconds: float) -> str:
    """Elapsed time in at most five cells for the card: ``0:42``, ``59:59``, ``3h12m``, ``2d03h``."""
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    hours = seconds // 3600
    if hours < 24:
        return f"{hours}h{seconds % 3600 // 60:02d}m" if hours < 10 else f"{hours}h"
    days = hours // 24
    return f"{days}d{hours % 24:02d}h" if days < 10 else f"{days}d"


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


def progress_fraction(event: JobEvent, now: float, estimate: float | None) -> float | None:
    """The bar's fill (0…1), or None for "in progress, amount unknown"; terminal: 1 or 0."""
    state = event.job.state
    if state is JobState.COMPLETED:
        return 1.0
    if state.is_terminal or state is JobState.STALLED:
        return 0.0
    if state is JobState.DOWNLOADING and event.bytes_total:
        return min(1.0, event.bytes_done / event.bytes_total)
    if state is JobState.RUNNING:
        return run_fraction(event, now, estimate)
    return None


def bar_text(fraction: float | None, frame: int | None, width: int = BAR_WIDTH) -> str:
    """A text bar: ``fraction`` filled, or (None) a segment moving to and fro at ``frame``.

    ``frame`` None draws the still indeterminate bar (animations off, snapshots).
    """
    if fraction is not None:
        done = round(max(0.0, min(1.0, fraction)) * width)
        return _DONE * done + _TODO * (width - done)
    if frame is None:
        return _WAIT * width
    span = width - _SEGMENT
    step = frame % (2 * span)
    start = step if step <= span else 2 * span - step
    return _TODO * start + _DONE * _SEGMENT + _TODO * (span - start)


def status_text(event: JobEvent, *, since: float, now: float, estimate: float | None) -> str:
    """Line 2 of a card, plain and sanitised; never repeats the badge's word.

    ``since``: when the event arrived (countdowns are measured from it).
    """
    job = event.job
    state = job.state
    parts: list[str] = []
    if state is JobState.PENDING:
        parts.append("waiting for a submission slot")
    elif state is JobState.SUBMITTING:
        parts.append("sending the request…")
    elif state is JobState.QUEUED:
        position = job.queue_position
        parts.append(f"position {position} in the queue" if position else "in the server queue")
    elif state is JobState.RUNNING:
        fraction = run_fraction(event, now, estimate)
        parts.append(
            "generating (no time estimate yet)"
            if fraction is None
            else f"~{fraction:.0%} done (estimate)"
        )
    elif state is JobState.DOWNLOADING:
        done = format_bytes(event.bytes_done)
        if event.bytes_total:
            parts.append(f"{done} of {format_bytes(event.bytes_total)}")
        else:
            parts.append(f"{done} received" if event.bytes_done else "fetching the result…")
    elif state is JobState.COMPLETED:
        names = [Path(name).name for name in job.files]
        shown = names[0] if names else "no file saved"
        if len(names) > 1:
            shown += f" (+{len(names) - 1})"
        parts.append(shown)
        if job.error:
            parts.append(job.error)
    else:
        parts.append(job.error or event.message or _SETTLED.get(state, state.value))
    if state.is_active:
        if event.rate_limited_until is not None and event.message:
            parts.append(event.message)
        elif event.retry_in is not None:
            waited = max(0.0, now - since)
            parts.append(f"reconnecting in {max(0, round(event.retry_in - waited))} s")
    if event.message and event.message not in parts and event.message != job.error:
        parts.append(event.message)
    return clean_text(" · ".join(parts), limit=400)


class JobCard(ListItem):
    """A job row of two fixed-size labels, each two lines tall.

    ``.badge``: the state word (reversed) over the progress bar. ``.card-status``: ``#id`` and
    the prompt over elapsed time and the status. Two leaf widgets per card keep the screen's
    layout cheap with hundreds of cards. The pool hands the card events, clock ticks and
    animation frames; it repaints a label only when its text changed, and a card out of view
    only remembers (see :meth:`_settle`).
    """

    COMPONENT_CLASSES = {
        "job-card--id",
        "job-card--resumed",
        "job-card--time",
        "job-card--muted",
        "job-card--done",
        "job-card--warning",
        "job-card--error",
    }

    def __init__(
        self, event: JobEvent, *, received: float, estimate: float | None = None
    ) -> None:
        super().__init__(id=f"job-{event.job.id}", classes=_state_class(event.job.state))
        self.event = event
        self.received = received
        self.note: str | None = None
        self.estimate = estimate
        self.now = received
        self.frame: int | None = None
        """The indeterminate bar's animation frame (None: still)."""
        self.stale = False
        """True when the card holds news it has not drawn yet (it was out of view)."""
        self._shown: dict[str, tuple[object, ...]] = {}
        self._labels: dict[str, Label] = {}
        self._state = event.job.state
        self._resumed = event.job.resumed
        self.set_class(self._resumed, "-resumed")

    @property
    def job_id(self) -> int:
        return self.event.job.id

    @property
    def badge(self) -> str:
        """The state word the card shows."""
        return badge_text(self.event.job.state)

    @property
    def status(self) -> str:
        """The status line the card shows (plain text)."""
        return self._status()

    @property
    def is_indeterminate(self) -> bool:
        """True while the bar moves to and fro: in flight with no measurable progress."""
        state = self.event.job.state
        return state.is_active and progress_fraction(self.event, self.now, self.estimate) is None

    def compose(self) -> ComposeResult:
        for part in ("badge", "card-status"):
            self._labels[part] = Label("", classes=part, markup=False)
            yield self._labels[part]

    def on_mount(self) -> None:
        self.stale = False
        self._draw()

    # ------------------------------------------------------------------ fed by the pool

    def apply(
        self, event: JobEvent, *, now: float, estimate: float | None, draw: bool = True
    ) -> None:
        """A new snapshot of this job arrived. ``draw=False``: out of view, draw it later."""
        if event.job.state is not self.event.job.state:
            self.note = None
        self.event = event
        self.received = now
        self.now = now
        self.estimate = estimate
        self._settle(draw)

    def refresh_card(self, now: float, estimate: float | None, *, draw: bool = True) -> None:
        """Bring time, countdowns and estimates up to ``now``; repaints only what changed."""
        self.now = now
        self.estimate = estimate
        self._settle(draw)

    def set_frame(self, frame: int | None) -> None:
        """Advance the indeterminate bar (only the badge column is redrawn)."""
        self.frame = frame
        if self.is_mounted and not self.stale:
            self._draw_badge()

    def set_note(self, text: str | None, *, draw: bool = True) -> None:
        """A plain note put in front of the status (a cancel outcome, a follow failure)."""
        self.note = text
        self._settle(draw)

    def draw_if_stale(self) -> None:
        """Catch up with what arrived while the card was out of view."""
        if self.stale:
            self._settle(True)

    def _settle(self, draw: bool) -> None:
        # Touching a widget that is out of view is far from free (a refresh looks up its place
        # on screen, which may rebuild the compositor's full map), so such cards only remember.
        if draw and self.is_mounted:
            self.stale = False
            self._draw()
        else:
            self.stale = True

    # ------------------------------------------------------------------ drawing

    def _draw(self) -> None:
        job = self.event.job
        if job.state is not self._state:
            self.remove_class(_state_class(self._state))
            self.add_class(_state_class(job.state))
            self._state = job.state
        if job.resumed is not self._resumed:
            self._resumed = job.resumed
            self.set_class(job.resumed, "-resumed")
        self._draw_badge()
        self._draw_text()

    def _draw_badge(self) -> None:
        word = badge_text(self.event.job.state)
        bar = self._bar()
        if self._shown.get("badge") == (word, bar):
            return
        self._shown["badge"] = (word, bar)
        content = Content.assemble((f" {word:^{BADGE_WIDTH}} ", "bold reverse"), "\n ", bar)
        self._labels["badge"].update(content, layout=False)

    def _draw_text(self) -> None:
        job, event = self.event.job, self.event
        elapsed = event.elapsed + (max(0.0, self.now - self.received) if job.state.is_active else 0.0)
        title = clean_text(job.request.prompt, limit=200)
        time, status = short_elapsed(elapsed), self._status()
        key = (job.id, job.resumed, job.state, title, time, status)
        if self._shown.get("card-status") == key:
            return
        self._shown["card-status"] = key
        style = self.get_visual_style
        content = Content.assemble(
            (f"#{job.id}", style("job-card--id", partial=True)),
            (" ↻", style("job-card--resumed", partial=True)) if job.resumed else "",
            " ",
            title,
            "\n",
            (time, style("job-card--time", partial=True)),
            " · ",
            (status, style(_TONES.get(job.state, "job-card--muted"), partial=True)),
        )
        self._labels["card-status"].update(content, layout=False)

    def _bar(self) -> str:
        if not self.event.job.state.is_active:
            return ""
        fraction = progress_fraction(self.event, self.now, self.estimate)
        return bar_text(fraction, self.frame)

    def _status(self) -> str:
        status = status_text(self.event, since=self.received, now=self.now, estimate=self.estimate)
        if self.note and self.note not in status:
            status = clean_text(f"{self.note} · {status}", limit=400)
        return status


# The colour class of the status line (the colours themselves are in app.tcss).
_TONES: dict[JobState, str] = {
    JobState.COMPLETED: "job-card--done",
    JobState.FAILED: "job-card--error",
    JobState.UNKNOWN: "job-card--error",
    JobState.STALLED: "job-card--warning",
    JobState.NOT_SENT: "job-card--warning",
}


def _state_class(state: JobState) -> str:
    return f"-state-{state.value}"
