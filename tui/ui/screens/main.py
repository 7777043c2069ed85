"""The main screen: composer, job pool and job details; owns the job workers.

Engine events arrive as :class:`~tui.ui.messages.JobUpdated` messages (floods merged); each job is
followed by one worker wrapping ``engine.follow``; a cancel is one worker wrapping
``engine.cancel``. Widgets below only get told what to show.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Label, ListView
from textual.worker import Worker, WorkerState

from ...errors import InputError
from ...iterate.sweep import has_sweep
from ...jobs.events import CancelOutcome, JobEvent
from ...models import Job, JobState, prepare_request
from ...trust.sanitize import clean_text
from ..messages import DraftChanged, JobSelected, JobUpdated, OpenRecipe
from ..widgets.backend_bar import BackendBar
from ..widgets.composer import Composer, PromptEditor
from ..widgets.job_card import JobCard
from ..widgets.job_details import JobDetails
from ..widgets.job_pool import JobList, JobPool
from ..widgets.lint_hints import LintHints
from .account_view import AccountView
from .iterating import IterateActions
from .sweep import SweepScreen

__all__ = ["DRAFT_KEY", "NARROW_BELOW", "MainScreen", "cancel_outcome_text"]

DRAFT_KEY = "composer"
HINTS_KEY = "lint-dismissed"  # the prompt-hint rules the user turned off, comma separated
NARROW_BELOW = 100  # columns: under this the composer sits on top of the pool
DRAFT_DELAY = 0.5
EXTERNAL_SYNC_SECONDS = 2.0  # how often changes made by other processes are looked for
HISTORY_ROWS = 200

_OUTCOMES = {
    CancelOutcome.CANCELLED: "cancelled",
    CancelOutcome.REQUESTED: "cancel requested: it is cancelled the moment the server answers",
    CancelOutcome.NOT_CANCELLABLE: "running: can't be cancelled, will finish and be billed",
    CancelOutcome.FAILED: "the cancel call failed: the job goes on",
    CancelOutcome.NOTHING_TO_CANCEL: "already finished: nothing to cancel",
}


def cancel_outcome_text(outcome: CancelOutcome) -> str:
    return _OUTCOMES.get(outcome, str(outcome))


class MainScreen(AccountView, IterateActions, Screen[None]):
    """Composer on the left (or top), jobs and details on the right (or below)."""

    BINDINGS = [
        Binding("ctrl+j", "submit", "Submit", priority=True),
        Binding("escape", "cancel_job", "Cancel job", priority=True),
        Binding("f", "fullscreen", "Full screen", show=False),
        Binding("i", "iterate", "Iterate"),
        Binding("e", "edit_result", "Edit result"),
        Binding("c", "compare", "Compare"),
        Binding("l", "lineage", "Lineage"),
        Binding("h", "history", "History"),
        Binding("y", "copy_menu", "Copy…"),
        Binding("f1", "app.help", "Help", priority=True),
        Binding("question_mark", "app.help", "Help", show=False),
        Binding("f2", "focus_prompt", "Prompt"),
        Binding("f3", "focus_jobs", "Jobs"),
    ]

    def __init__(
        self,
        services: Any,
        *,
        prompt: str = "",
        size: str | None = None,
        images: tuple[str, ...] = (),
        preview_factory: Callable[[], Widget] | None = None,
        clock: Callable[[], float],
    ) -> None:
        super().__init__()
        self.services = services
        self.engine = services.engine
        self.history = services.history
        self.clock = clock
        self._prefill = (prompt, size, list(images))
        self._preview_factory = preview_factory
        self._draft_text: str | None = None
        self._draft_timer: Timer | None = None
        self._run_durations: list[float] = []
        self._unsubscribe: Callable[[], None] = lambda: None
        self.init_account_view()

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield BackendBar(
            offline=self.services.settings.offline,
            signed_in=self.services.signed_in,
            label=self.services.backend_label,
            id="topbar",
        )
        prompt, size, images = self._prefill
        dismissed = tuple(filter(None, (self.history.load_draft(HINTS_KEY) or "").split(",")))
        with Horizontal(id="main"):
            yield Composer(prompt, size, images, dismissed_hints=dismissed, id="composer")
            with Vertical(id="jobs-side"):
                yield JobPool(id="pool")
                yield JobDetails(preview_factory=self._preview_factory, id="details")
        yield Label("", id="status", markup=False)
        yield Footer()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW_BELOW, "-narrow")

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < NARROW_BELOW, "-narrow")
        self._unsubscribe = self.engine.subscribe(self._on_engine_event)
        if not self._prefill[0]:
            draft = self.history.load_draft(DRAFT_KEY)
            if draft:
                editor = self.query_one(PromptEditor)
                editor.load_text(draft)
                editor.move_cursor(editor.document.end)
        self.query_one(PromptEditor).focus()
        resumed = self.engine.recover()
        self._run_durations = self._past_run_durations()
        pool = self.query_one(JobPool)
        pool.run_estimate = self._run_estimate()
        jobs = self.history.list_jobs(limit=HISTORY_ROWS)
        pool.load([self.engine.event_for(job) for job in jobs], now=self.clock())
        for job in resumed:
            self._follow(job.id)
        if resumed:
            count = len(resumed)
            self.notify(
                f"resumed {count} job{'s' if count != 1 else ''} from an earlier session",
                markup=False,
            )
        self.set_interval(1.0, self._tick)
        # Other processes (a second window, `resume`) change jobs too: show their changes.
        self.set_interval(EXTERNAL_SYNC_SECONDS, self._sync_external)
        self._show_spend()
        self._load_prices()

    def _sync_external(self) -> None:
        self.run_worker(
            self.engine.sync_external(), group="external", exclusive=True, exit_on_error=False
        )

    def on_unmount(self) -> None:
        self._unsubscribe()
        for unsubscribe in self._unsubscribe_more:
            unsubscribe()
        self._save_draft()

    # ------------------------------------------------------------------ engine → UI

    def _on_engine_event(self, event: JobEvent) -> None:
        """Called by the engine on the app's loop: hand the snapshot over as a message."""
        self.post_message(JobUpdated(event))

    def on_job_updated(self, message: JobUpdated) -> None:
        event = message.event
        pool = self.query_one(JobPool)
        before = pool.event_for(event.job.id)
        was = before.job.state if before is not None else None
        pool.apply(event, now=self.clock())
        state = event.job.state
        if state is not was:
            self._on_state_change(event)
            self._count_spend(event.job)
        details = self.query_one(JobDetails)
        if details.job_id == event.job.id:
            details.show(event)
        for screen in self.app.screen_stack:
            if isinstance(screen, SweepScreen):
                screen.update_job(event)

    def _on_state_change(self, event: JobEvent) -> None:
        job = event.job
        if job.state is JobState.COMPLETED and job.started_at and job.finished_at:
            self._run_durations.append(job.finished_at - job.started_at)
            self.query_one(JobPool).run_estimate = self._run_estimate()
        if event.unsaved_request_id:
            # The server delivered it but history refused it: the user must hold it.
            self.notify(
                f"job #{job.id}: request id {event.unsaved_request_id} — keep it. "
                + clean_text(job.error or "", limit=300),
                severity="error", markup=False, timeout=3600,
            )
            self.say(f"job #{job.id}: request id {event.unsaved_request_id} not saved in history")
        elif job.state in {JobState.FAILED, JobState.UNKNOWN, JobState.STALLED}:
            reason = clean_text(job.error or job.state.value, limit=200)
            self.notify(f"job #{job.id}: {reason}", severity="error", markup=False)

    def _tick(self) -> None:
        self.query_one(JobPool).tick(self.clock())

    def _past_run_durations(self) -> list[float]:
        done = self.history.list_jobs(limit=50, states=[JobState.COMPLETED])
        return [
            job.finished_at - job.started_at
            for job in done
            if job.started_at is not None and job.finished_at is not None
            and job.finished_at > job.started_at
        ]

    def _run_estimate(self) -> float | None:
        recent = self._run_durations[-50:]
        return statistics.median(recent) if recent else None

    # ------------------------------------------------------------------ workers

    def _follow(self, job_id: int) -> None:
        self.run_worker(
            self.engine.follow(job_id), name=f"job-{job_id}", group="jobs", exit_on_error=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        name = worker.name or ""
        if name in {"prices", "balance"}:
            self.account_worker_done(name, event)
            return
        kind, _, number = name.partition("-")
        if kind not in {"job", "cancel"} or not number.isdigit():
            return
        job_id = int(number)
        pool = self.query_one(JobPool)
        if event.state == WorkerState.ERROR:
            reason = clean_text(worker.error or "unexpected error", limit=200)
            what = "stopped following" if kind == "job" else "cancel failed"
            pool.set_note(job_id, f"{what}: {reason}", now=self.clock())
            self.notify(f"job #{job_id}: {what}: {reason}", severity="error", markup=False)
        elif event.state == WorkerState.SUCCESS and kind == "cancel":
            outcome: CancelOutcome = worker.result  # type: ignore[assignment]
            text = cancel_outcome_text(outcome)
            pool.set_note(job_id, text, now=self.clock())
            severity: SeverityLevel = "warning" if outcome is CancelOutcome.NOT_CANCELLABLE else "information"
            self.notify(f"job #{job_id}: {text}", severity=severity, markup=False)

    # ------------------------------------------------------------------ composer

    @on(DraftChanged)
    def _draft_changed(self, message: DraftChanged) -> None:
        self._draft_text = message.text
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DELAY, self._save_draft)

    def _save_draft(self) -> None:
        if self._draft_text is None:
            return
        text, self._draft_text = self._draft_text, None
        try:
            self.history.save_draft(DRAFT_KEY, text)
        except Exception as exc:  # a full disk must not take the editor down
            self.notify(f"couldn't save the draft: {clean_text(exc, limit=120)}", markup=False)

    def action_submit(self) -> None:
        # ctrl+j is a priority binding: it runs before the editor has handled the keys typed
        # (or pasted) just before it. Read the prompt once the editor's queue is through them.
        self.query_one(PromptEditor).call_later(self._submit_now)

    def _submit_now(self) -> None:
        composer = self.query_one(Composer)
        prompt, size, images = composer.values()
        self._draft_text = prompt
        self._save_draft()
        if has_sweep(prompt):
            self.submit_sweep(prompt, size, images)
            return
        try:
            prepared = prepare_request(prompt, size, images)
        except InputError as exc:
            composer.show_problems(exc)
            return
        composer.clear_problems()
        job = self.engine.create(prepared.request, parent_id=composer.parent_id)
        self.show_created(job)
        self._follow(job.id)
        notices = "; ".join(prepared.notices)
        composer.show_notice(notices or None)
        parent = f" (child of #{job.parent_id})" if job.parent_id else ""
        self.say(f"job #{job.id} created{parent}")

    def show_created(self, job: Job) -> None:
        """Put a just-created job in the pool and select it."""
        pool = self.query_one(JobPool)
        pool.apply(self.engine.event_for(job), now=self.clock())
        pool.select(job.id)

    def say(self, text: str) -> None:
        """One plain line in the status bar above the footer (never covers the composer)."""
        self.query_one("#status", Label).update(clean_text(text, limit=300))

    def on_open_recipe(self, message: OpenRecipe) -> None:
        self.restore_recipe(message.path)

    def on_lint_hints_dismissed(self, message: LintHints.Dismissed) -> None:
        dismissed = sorted(self.query_one(LintHints).dismissed | {message.rule})
        try:
            self.history.save_draft(HINTS_KEY, ",".join(dismissed))
        except Exception:  # remembering is a nicety; the hint is gone for this session anyway
            pass
        self.say(f"hint {message.rule} dismissed")

    # ------------------------------------------------------------------ jobs

    def on_job_selected(self, message: JobSelected) -> None:
        pool = self.query_one(JobPool)
        event = pool.event_for(message.job_id) if message.job_id is not None else None
        self.query_one(JobDetails).show(event)

    @on(ListView.Selected, "#job-list")
    def _job_chosen(self, event: ListView.Selected) -> None:
        if isinstance(event.item, JobCard):
            self.action_fullscreen()

    def select_job(self, job_id: int) -> None:
        """Select ``job_id`` in the pool (added there if it is older than the loaded rows)."""
        pool = self.query_one(JobPool)
        if pool.event_for(job_id) is None:
            job = self._job(job_id)
            if job is None:
                return
            pool.apply(self.engine.event_for(job), now=self.clock())
        pool.select(job_id)

    def _mark_forgotten(self) -> None:
        """After the history browser: note jobs that were deleted there."""
        pool = self.query_one(JobPool)
        for card in pool.query(JobCard):
            job_id = card.job_id
            if self._job(job_id) is None:
                pool.set_note(job_id, "forgotten: deleted from the history", now=self.clock())

    def selected_event(self) -> JobEvent | None:
        pool = self.query_one(JobPool)
        job_id = pool.selected_job_id
        return pool.event_for(job_id) if job_id is not None else None

    def action_cancel_job(self) -> None:
        pool = self.query_one(JobPool)
        job_id = pool.selected_job_id or pool.most_recent_active()
        if job_id is None:
            self.notify("no job to cancel", markup=False)
            return
        self.cancel(job_id)

    def cancel(self, job_id: int) -> None:
        """Ask the engine to cancel ``job_id`` (the outcome arrives as a worker result)."""
        pool = self.query_one(JobPool)
        pool.set_note(job_id, "cancelling…", now=self.clock())
        self.run_worker(
            self._engine_for(job_id).cancel(job_id), name=f"cancel-{job_id}", group="cancel",
            exit_on_error=False,
        )

    def action_fullscreen(self) -> None:
        event = self.selected_event()
        files = [Path(name) for name in event.job.files] if event is not None else []
        existing = [path for path in files if path.is_file()]
        if not existing:
            self.notify("the selected job has no image yet", markup=False)
            return
        self.app.show_image(existing[0])  # type: ignore[attr-defined]

    def action_focus_prompt(self) -> None:
        self.query_one(PromptEditor).focus()

    def action_focus_jobs(self) -> None:
        job_list = self.query_one(JobList)
        if job_list.index is None and len(job_list):
            job_list.index = 0  # the keys on the list act on a job: have one highlighted
        job_list.focus()

    def in_flight(self) -> tuple[int, int]:
        """(jobs the server has or may have, jobs not sent yet) among active ones."""
        pool = self.query_one(JobPool)
        sent = unsent = 0
        for job_id in pool.active_ids():
            event = pool.event_for(job_id)
            if event is not None and event.job.state is JobState.PENDING:
                unsent += 1
            else:
                sent += 1
        return sent, unsent
