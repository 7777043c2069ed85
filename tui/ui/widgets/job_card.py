"""One job as a fixed-size two-line card that redraws only the parts that changed.

Line 1: state badge · ``★`` when starred, ``#id`` (``↻`` when resumed) and how the job differs
(its change against its parent, its sweep alternative, or its prompt's head).
Line 2: a text progress bar under the badge · state and time (``done · 14:02 · 38 s``,
``running 0:12``, ``queued 3 min``, ``cancelled · 14:05``) with what matters about it (position,
bytes, error). A waiting job's clock counts minutes: a tick repaints only cards whose text changed.

Every part has a fixed size (see the ``JobCard`` rules in ``app.tcss``), so an update repaints
its own few cells and never asks for a layout of the screen; state classes change only when the
state does. The card is pushed values by the pool (events, clock ticks, animation frames) and
keeps the last text it showed per part, so a poll that changes nothing costs a comparison.
A label cut by the card's width is read in full in the job's details and the card's tooltip.
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.content import Content
from textual.style import Style
from textual.widgets import Label, ListItem

from ...iterate.labels import prompt_head
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
    "short_duration",
    "short_elapsed",
    "status_text",
    "waited_minutes",
    "when_text",
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

# The state as line 2 starts it: a plain lower-case word, as people say it.
_WORDS: dict[JobState, str] = {
    JobState.PENDING: "waiting",
    JobState.SUBMITTING: "sending",
    JobState.QUEUED: "queued",
    JobState.RUNNING: "running",
    JobState.DOWNLOADING: "saving",
    JobState.STALLED: "stalled",
    JobState.COMPLETED: "done",
    JobState.FAILED: "failed",
    JobState.CANCELLED: "cancelled",
    JobState.UNKNOWN: "unknown",
    JobState.NOT_SENT: "not sent",
}

# States whose clock counts whole minutes (see :func:`waited_minutes`).
_WAITING = frozenset({JobState.PENDING, JobState.QUEUED})

# Line 2 of a finished job with no error and no message: what the state means for the user.
_SETTLED: dict[JobState, str] = {
    JobState.FAILED: "no reason given",
    JobState.UNKNOWN: "it may have run and been billed",
    JobState.NOT_SENT: "nothing was billed",
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


def waited_minutes(seconds: float) -> str:
    """How long a job has waited, by the minute (``<1 min``, ``12 min``, ``3h12m``).

    A queued job's seconds tell nothing: its line changes once a minute, so a screen full of
    waiting jobs is not repainted every second.
    """
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "<1 min"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return short_elapsed(seconds)


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


def short_duration(seconds: float) -> str:
    """How long a finished job took, for people: ``38 s``, ``4 min 12 s``, ``1 h 02 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def when_text(stamp: float, now: float) -> str:
    """A local time of day (``14:02``); with the date when it was not today (``Nov 28 14:02``)."""
    moment, today = time.localtime(stamp), time.localtime(now)
    if moment[:3] == today[:3]:
        return time.strftime("%H:%M", moment)
    if moment.tm_year == today.tm_year:
        return time.strftime("%b %d %H:%M", moment)
    return time.strftime("%Y-%m-%d", moment)


def status_text(event: JobEvent, *, since: float, now: float, estimate: float | None) -> str:
    """Line 2 of a card: the state and its time, then what matters about it; plain, sanitised.

    ``done · 14:02 · 38 s``, ``running 0:12 · ~40% (estimate)``, ``queued 3 min · position 2``,
    ``cancelled · 14:05``,
    ``failed · 14:03 · <the reason>``. ``since``: when the event arrived (the clock and
    countdowns of a job in flight run from it).
    """
    job = event.job
    state = job.state
    word = _WORDS.get(state, state.value.replace("_", " "))
    parts: list[str] = []
    if state.is_active:
        elapsed = event.elapsed + max(0.0, now - since)
        clock = waited_minutes if state in _WAITING else short_elapsed
        parts.append(f"{word} {clock(elapsed)}")
        if state is JobState.PENDING:
            parts.append("for a submission slot")
        elif state is JobState.QUEUED and job.queue_position:
            parts.append(f"position {job.queue_position}")
        elif state is JobState.RUNNING:
            fraction = run_fraction(event, now, estimate)
            if fraction is not None:
                parts.append(f"~{fraction:.0%} (estimate)")
        elif state is JobState.DOWNLOADING and event.bytes_done:
            done = format_bytes(event.bytes_done)
            total = f" of {format_bytes(event.bytes_total)}" if event.bytes_total else ""
            parts.append(done + total)
        if event.rate_limited_until is not None and event.message:
            parts.append(_after_word(event.message, word))
        elif event.retry_in is not None:
            waited = max(0.0, now - since)
            parts.append(f"reconnecting in {max(0, round(event.retry_in - waited))} s")
    else:
        parts.append(word)
        parts.append(when_text(job.finished_at or job.updated_at, now))
        if state is JobState.COMPLETED:
            parts.append(short_duration(event.elapsed))
            if len(job.files) > 1:
                parts.append(f"{len(job.files)} images")
            elif not job.files:
                parts.append("no file saved")
            if job.error:
                parts.append(job.error)
        elif job.error or event.message or state in _SETTLED:
            parts.append(_after_word(job.error or event.message or _SETTLED[state], word))
            if not parts[-1]:
                parts.pop()
    message = _after_word(event.message or "", word)
    if message and message not in parts and event.message != job.error:
        parts.append(message)
    return clean_text(" · ".join(parts), limit=400)


def _after_word(text: str, word: str) -> str:
    """``text`` without a leading state word the line already starts with (``cancelled —
    nothing more will be billed`` → ``nothing more will be billed``)."""
    if text.casefold().startswith(word.casefold()):
        rest = text[len(word):].lstrip(" —–-:·.")
        if not rest or rest != text[len(word):]:
            return rest
    return text


# The colour of a card's state word and bar (the colours themselves are in app.tcss).
_BADGE_TONES: dict[JobState, str] = {
    JobState.PENDING: "job-card--badge-waiting",
    JobState.SUBMITTING: "job-card--badge-waiting",
    JobState.QUEUED: "job-card--badge-waiting",
    JobState.RUNNING: "job-card--badge-working",
    JobState.DOWNLOADING: "job-card--badge-working",
    JobState.COMPLETED: "job-card--badge-done",
    JobState.FAILED: "job-card--badge-error",
    JobState.UNKNOWN: "job-card--badge-error",
    JobState.CANCELLED: "job-card--badge-stopped",
    JobState.NOT_SENT: "job-card--badge-stopped",
    JobState.STALLED: "job-card--badge-stopped",
}


class JobCard(ListItem):
    """A job row of two fixed-size labels, each two lines tall.

    ``.badge``: the state word (reversed) over the progress bar. ``.card-status``: ``★``,
    ``#id`` and how the job differs (``label``) over its state and time. Two leaf widgets per card keep the screen's
    layout cheap with hundreds of cards. The pool hands the card events, clock ticks and
    animation frames; it repaints a label only when its text changed, and a card out of view
    only remembers (see :meth:`_settle`).
    """

    COMPONENT_CLASSES = {
        "job-card--id",
        "job-card--star",
        "job-card--resumed",
        "job-card--time",
        "job-card--muted",
        "job-card--done",
        "job-card--warning",
        "job-card--error",
        *_BADGE_TONES.values(),
    }

    def __init__(
        self,
        event: JobEvent,
        *,
        received: float,
        estimate: float | None = None,
        label: str | None = None,
        note: str | None = None,
    ) -> None:
        super().__init__(id=f"job-{event.job.id}")
        self.event = event
        self.received = received
        self.label = label or prompt_head(event.job.request.prompt)
        """How the job differs: its change against its parent, its alternative, its prompt."""
        self.note = note
        self.estimate = estimate
        self.now = received
        self.frame: int | None = None
        """The indeterminate bar's animation frame (None: still)."""
        self.stale = False
        """True when the card holds news it has not drawn yet (it was out of view)."""
        self._shown: dict[str, tuple[object, ...]] = {}
        self._labels: dict[str, Label] = {}
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
        """True while the bar has no measurable progress to show (in flight, amount unknown)."""
        state = self.event.job.state
        return state.is_active and progress_fraction(self.event, self.now, self.estimate) is None

    @property
    def is_animated(self) -> bool:
        """True while the bar moves to and fro: running, with no estimate of how far it is.

        A job waiting (in the queue, for a slot, for its submit) shows a still bar: nothing
        happens to it that a moving bar could tell, and a moving bar costs a repaint a frame.
        """
        return self.event.job.state is JobState.RUNNING and self.is_indeterminate

    @property
    def full_label(self) -> str:
        """What the card's first line says, uncut (its tooltip and the details show it)."""
        return self.label

    def compose(self) -> ComposeResult:
        for part in ("badge", "card-status"):
            self._labels[part] = Label("", classes=part, markup=False)
            yield self._labels[part]

    def on_mount(self) -> None:
        self.stale = False
        self._draw()
        self.tooltip = self._tooltip_text()

    def _tooltip_text(self) -> str:
        job = self.event.job
        prompt = clean_text(job.request.prompt, keep_newlines=True, limit=600)
        return f"#{job.id} · {self.label}\n\n{prompt}" if self.label != prompt else prompt

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

    def set_label(self, label: str, *, draw: bool = True) -> None:
        """How the job differs, once it is known (its parent read from the history)."""
        if label == self.label:
            return
        self.label = label
        if self.is_mounted:
            self.tooltip = self._tooltip_text()
        self._settle(draw)

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

    def watch_highlighted(self, value: bool) -> None:
        super().watch_highlighted(value)
        if self.is_mounted and not self.stale:
            self._draw_badge()  # the cursor's colours, not the state's

    def _draw(self) -> None:
        job = self.event.job
        if job.resumed is not self._resumed:
            self._resumed = job.resumed
            self.set_class(job.resumed, "-resumed")
        self._draw_badge()
        self._draw_text()

    def _draw_badge(self) -> None:
        """The state word and bar, in the state's colour (a style of the text: a card whose
        state changes is repainted, never restyled — a class swap restyles the card and its
        labels, which a sweep's two dozen cards changing at once made felt in the prompt)."""
        state = self.event.job.state
        word = badge_text(state)
        bar = self._bar()
        tone = None if self.highlighted else _BADGE_TONES.get(state)
        if self._shown.get("badge") == (word, bar, tone):
            return
        self._shown["badge"] = (word, bar, tone)
        colour = self.get_visual_style(tone, partial=True) if tone else Style()
        content = Content.assemble(
            (f" {word:^{BADGE_WIDTH}} ", colour + Style(bold=True, reverse=True)),
            ("\n " + bar, colour),
        )
        self._labels["badge"].update(content, layout=False)

    def _draw_text(self) -> None:
        job = self.event.job
        status = self._status()
        key = (job.id, job.resumed, job.starred, job.state, self.label, status)
        if self._shown.get("card-status") == key:
            return
        self._shown["card-status"] = key
        style = self.get_visual_style
        content = Content.assemble(
            ("★ ", style("job-card--star", partial=True)) if job.starred else "",
            (f"#{job.id}", style("job-card--id", partial=True)),
            (" ↻", style("job-card--resumed", partial=True)) if job.resumed else "",
            " ",
            self.label,
            "\n",
            (status, style(_TONES.get(job.state, "job-card--muted"), partial=True)),
        )
        self._labels["card-status"].update(content, layout=False)

    def _bar(self) -> str:
        if not self.event.job.state.is_active:
            return ""
        fraction = progress_fraction(self.event, self.now, self.estimate)
        return bar_text(fraction, self.frame if self.is_animated else None)

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

