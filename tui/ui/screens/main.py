"""The main screen: composer, job pool and job details — the workbench the commands run on.

It is handed what it works with: the history (read off the UI loop), the app's job workers, the
job feed (engine news arrives as :class:`~tui.ui.messages.JobsUpdated`, once a frame), how
images are drawn, the wallet. Keys and palette entries are the commands of
:mod:`tui.ui.commands`; each runs on this screen through the :class:`Workbench` methods below.
Widgets are only told what to show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, TypeVar

from textual import on
from textual.app import ComposeResult, SuspendNotSupported, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import DescendantBlur, DescendantFocus, Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Label, ListView
from textual.worker import Worker, WorkerState

from ...api.catalog import Price
from ...iterate.draft import ComposerDraft
from ...iterate.loads import ComposerLoad
from ...jobs.events import JobEvent
from ...models import Endpoint, Job, JobState
from ...services.account import Wallet
from ...storage.files import delete_images
from ...storage.history import History
from ...trust.sanitize import clean_text
from ..bridge import JobFeed
from ..commands import MAIN_COMMANDS, bindings_for, command_named, compare, restore_recipe
from ..commands.base import AppAction, JobCommand
from ..commands.jobs import CancelJob, missing_jobs
from ..drafts import DraftKeeper
from ..imaging import ImageKit
from ..keys import TypingSafeScreen, types_text
from ..messages import DraftChanged, JobSelected, JobsUpdated, OpenRecipe
from ..outside import edit_text, editor_command, open_in_viewer, viewer_command
from ..reads import ThreadReads
from ..styles import JOBS_CSS, read_styles
from ..widgets.backend_bar import BackendBar, BackendInfo
from ..widgets.composer import Composer, PromptEditor
from ..widgets.footer import SteadyFooter
from ..widgets.job_card import JobCard
from ..widgets.job_details import JobDetails, no_image_reason
from ..widgets.job_pool import JobList, JobPool, ListFilterInput, card_labels
from ..widgets.preview import ImagePreview
from ..workers import JobWorkers

if TYPE_CHECKING:
    from ..widgets.lint_hints import LintHints
from .image import ImageScreen

__all__ = ["DRAFT_KEY", "HINTS_KEY", "NARROW_BELOW", "MainScreen", "Prefill"]

DRAFT_KEY = "composer"
HINTS_KEY = "lint-dismissed"  # the prompt-hint rules the user turned off, comma separated
NARROW_BELOW = 100  # columns: under this the composer sits on top of the pool
DRAFT_DELAY = 0.5
STATUS_SECONDS = 10.0  # a status line clears itself after this long
ESCAPE_REPEAT = 0.5  # seconds: an Escape this soon after one that left the composer never cancels
HISTORY_ROWS = 200
TICK_SECONDS = 1.0
FORGOTTEN = "forgotten: deleted from the history"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Prefill:
    """What the launch flags put in the composer."""

    prompt: str | None = None
    size: str | None = None
    images: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Rows:
    """The pool's first rows, how each differs, and the run durations of recent jobs, read off
    the UI loop."""

    jobs: list[Job]
    durations: list[float]
    labels: dict[int, str]


def _album(jobs: list[Job]) -> list[Path]:
    """The saved images of ``jobs`` that are on disk, in list order (blocking: file checks)."""
    return [Path(name) for job in jobs for name in job.files if Path(name).is_file()]


def _first_rows(history: History) -> _Rows:
    done = history.list_jobs(limit=50, states=[JobState.COMPLETED])
    durations = [
        job.finished_at - job.started_at
        for job in done
        if job.started_at is not None and job.finished_at is not None
        and job.finished_at > job.started_at
    ]
    jobs = history.list_jobs(limit=HISTORY_ROWS)
    ids = {job.id for job in jobs}
    parents = history.get_many({job.parent_id for job in jobs if job.parent_id} - ids)
    return _Rows(jobs, durations, card_labels(jobs, parents))


class TypedThrough(Message):
    """Sent after the keys typed so far, along their path (:meth:`MainScreen.after_typing`)."""

    def __init__(self, then: Callable[[], None]) -> None:
        super().__init__()
        self.then = then


class MainScreen(TypingSafeScreen[None]):
    """Composer on the left (or top), jobs and details on the right (or below).

    Escape first leaves the composer for the job list (a dropdown or a modal open above it
    closes itself first); on the job list it cancels the highlighted job. Letter keys act on
    the selected job only outside the composer: typed there, they are text.
    """

    # The footer, in order: what works everywhere (submit, Escape, the F-keys, quit) first, so
    # it shows at 80 columns; then the letter keys, shown only on the job list where they act.
    BINDINGS = [
        *bindings_for(c for c in MAIN_COMMANDS if not (c.key and types_text(c.key))),
        Binding("escape", "leave_composer", "To jobs"),
        Binding("ctrl+q", "app.quit", "Quit", priority=True),
        *bindings_for(c for c in MAIN_COMMANDS if c.key and types_text(c.key)),
    ]

    def __init__(
        self,
        *,
        history: History,
        jobs: JobWorkers,
        feed: JobFeed,
        kit: ImageKit,
        wallet: Wallet,
        backend: BackendInfo,
        output_dir: Path,
        prefill: Prefill = Prefill(),
        draft: ComposerDraft | None = None,
        dismissed_hints: tuple[str, ...] = (),
        clock: Callable[[], float],
        quick_start: bool = False,
    ) -> None:
        super().__init__()
        self.history = history
        self.jobs = jobs
        self.feed = feed
        self.kit = kit
        self.wallet = wallet
        self.backend = backend
        self.output_dir = output_dir
        self.clock = clock
        self.compare_mark: int | None = None  # the job ``c`` marked, to compare with the next
        self._prefill = prefill
        self._draft = draft or ComposerDraft()
        self._dismissed_hints = dismissed_hints
        self._drafts = DraftKeeper(history, DRAFT_KEY)
        self._draft_timer: Timer | None = None
        self._left_composer_at = -1.0  # when Escape last left the composer (monotonic)
        self._status_timer: Timer | None = None
        self._status_about: int | None = None  # the job the status line is about, if any
        self._forgotten: set[int] = set()
        self._reads = ThreadReads(
            self, failed=lambda reason: self.warn(f"couldn't read the history: {reason}")
        )
        self._stop_reading: Callable[[], None] = lambda: None
        # quick_start: the first frame is the prompt editor alone, ready for typing; the rest of
        # the composer, the job list and the details are built just after it (_build_job_side).
        self._quick_start = quick_start
        self.job_side_ready = False
        self._early_news: list[JobEvent] = []  # engine news that came before the job list
        self._when_ready: list[Callable[[], object]] = []

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield BackendBar(self.backend, session_start=self.clock(), id="topbar")
        prefill = self._prefill
        draft = self._starting_draft()
        with Horizontal(id="main"):
            yield Composer(
                prefill.prompt or draft.prompt,
                prefill.size or draft.size,
                list(prefill.images or draft.images),
                dismissed_hints=self._dismissed_hints,
                quick=self._quick_start,
                id="composer",
            )
            with Vertical(id="jobs-side"):
                if not self._quick_start:
                    read_styles(self.app, JOBS_CSS)
                    yield from self._job_side()
        yield Label("", id="status", markup=False)
        yield SteadyFooter()

    def _job_side(self) -> Iterable[Widget]:
        yield JobPool(id="pool")
        yield JobDetails(
            preview_factory=lambda: ImagePreview(self.kit, id="preview"), id="details"
        )

    async def _build_job_side(self) -> None:
        """(quick start, after the first frame) The rest of the composer, the job list and the
        details."""
        await self.composer.build_rest()
        read_styles(self.app, JOBS_CSS)
        await self.query_one("#jobs-side", Vertical).mount_all(self._job_side())
        self._job_side_built()

    def _job_side_built(self) -> None:
        self.job_side_ready = True
        self.read_then(lambda: _first_rows(self.history), self._show_first_rows)
        self.watch(self.query_one(JobList), "index", self._highlight_moved, init=False)
        early, self._early_news = self._early_news, []
        if early:
            self._apply_news(early)
        waiting, self._when_ready = self._when_ready, []
        for callback in waiting:
            callback()

    def when_ready(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once the whole screen is built (at once, when it is)."""
        if self.job_side_ready:
            callback()
        else:
            self._when_ready.append(callback)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        self._mark_focused_pane()

    def on_descendant_blur(self, event: DescendantBlur) -> None:
        self._mark_focused_pane()

    def _mark_focused_pane(self) -> None:
        """The pane holding the focus gets ``-focused`` (its title turns to a reversed bar)."""
        focused = self.focused
        around = focused.ancestors_with_self if focused is not None else []
        for pane in self.query("#composer, #pool"):
            pane.set_class(pane in around, "-focused")

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW_BELOW, "-narrow")

    def _starting_draft(self) -> ComposerDraft:
        """The saved draft, unless the launch flags start a different request."""
        prefill = self._prefill
        return ComposerDraft() if prefill.prompt or prefill.images else self._draft

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < NARROW_BELOW, "-narrow")
        self._stop_reading = self.feed.read(self)
        editor = self.query_one(PromptEditor)
        editor.move_cursor(editor.document.end)
        editor.focus()
        parent_id = self._starting_draft().parent_id
        if parent_id is not None:  # the draft was a child of this job: diff against it again
            self.read_then(lambda: self._job_or_none(parent_id),
                           lambda parent: self.when_ready(lambda: self._restore_parent(parent)))
        # Elapsed times of jobs in flight: ticks only while there are some (see _tick).
        self._ticker = self.set_interval(TICK_SECONDS, self._tick, pause=True)
        if self._quick_start:  # a frame later: the footer's keys go first (they wait on it)
            self.call_after_refresh(self.call_after_refresh, self._build_job_side)
        else:
            self._job_side_built()

    def _restore_parent(self, parent: Job | None) -> None:
        composer = self.composer
        if parent is not None and composer.parent_job is None:
            composer.set_parent(parent)

    def on_unmount(self) -> None:
        self._stop_reading()
        try:  # the app is closing: save what is pending now, on this thread
            self._drafts.flush()
        except Exception:  # too late to show anything; the last save stands
            pass

    def hold_draft(self) -> None:
        """Keep the composer as it is now, to be saved when the screen goes (the app is quitting:
        keys typed just before ctrl+q changed it, their DraftChanged messages are still queued)."""
        self._drafts.put(self.composer.draft())

    def _show_first_rows(self, rows: _Rows) -> None:
        self.query_one(JobPool).load(
            [self.jobs.event_for(job) for job in rows.jobs], now=self.clock(),
            durations=rows.durations, labels=rows.labels,
        )
        if any(job.state.is_active for job in rows.jobs):
            self._ticker.resume()

    # ------------------------------------------------------------------ told by the app

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def pool(self) -> JobPool:
        return self.query_one(JobPool)

    @property
    def can_sign_in(self) -> bool:
        return self.backend.offline or not self.backend.signed_in

    def show_backend(self, backend: BackendInfo) -> None:
        """New jobs go to ``backend`` from now on."""
        self.backend = backend
        self.query_one(BackendBar).show_backend(backend)

    def set_prices(self, prices: dict[Endpoint, Price]) -> None:
        self.composer.set_prices(prices)

    def note_job(self, job_id: int, text: str) -> None:
        """A plain note on the job's card (a cancel's outcome, a failure to follow it)."""
        self.query_one(JobPool).set_note(job_id, text, now=self.clock())

    def job_outcome(self, job_id: int, text: str) -> None:
        """How a job's worker ended (a cancel's outcome, a failure to follow it): a note on its
        card, and the status line too while it still says the job is being cancelled."""
        self.note_job(job_id, text)
        if self._status_about == job_id:
            event = self.query_one(JobPool).event_for(job_id)
            going = event is not None and event.job.state.is_active  # "can't be cancelled"
            self.say(f"#{job_id}: {text}", about=job_id if going else None)

    def compare_job(self, job_id: int) -> None:
        """``c`` on a job elsewhere (a sweep cell): mark it, or compare it with the marked one."""
        event = self.query_one(JobPool).event_for(job_id)
        if event is not None:
            compare(self, event.job)
        else:
            self.read_then(lambda: self.history.get(job_id), lambda job: compare(self, job))

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

    # ------------------------------------------------------------------ engine → UI

    def on_jobs_updated(self, message: JobsUpdated) -> None:
        if self.job_side_ready:
            self._apply_news(message.events)
        else:  # kept for the job list, built just after the first frame
            self._early_news.extend(message.events)

    def _apply_news(self, events: Sequence[JobEvent]) -> None:
        """A frame's engine news: the cards (new ones mounted together), then what changed
        state, then the details of the selected job."""
        pool = self.query_one(JobPool)
        changed: list[JobEvent] = []
        for event in events:
            before = pool.event_for(event.job.id)
            if (
                before is None
                or event.job.state is not before.job.state
                # a request id that history refused is told as soon as it is news, whatever
                # the state (the same state may have reached the list first)
                or (
                    event.unsaved_request_id is not None
                    and event.unsaved_request_id != before.unsaved_request_id
                )
            ):
                changed.append(event)
        pool.apply_many(events, now=self.clock())
        bar = self.query_one(BackendBar)
        for event in changed:
            self._on_state_change(event)
            bar.count_spend(event.job)
            if event.job.id == self._status_about and not event.job.state.is_active:
                self.say(f"#{event.job.id}: {event.job.state.value}")  # it ended meanwhile
        details = self.query_one(JobDetails)
        for event in events:
            if details.job_id == event.job.id:
                details.show(event)
        if any(event.job.state.is_active for event in events):
            self._ticker.resume()

    def _on_state_change(self, event: JobEvent) -> None:
        job = event.job
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
        pool = self.query_one(JobPool)
        pool.tick(self.clock())
        if not pool.active_ids():
            self._ticker.pause()  # nothing in flight: resumed by the next active job's news

    # ------------------------------------------------------------------ commands

    def action_command(self, name: str) -> None:
        """Run the command a key binding names."""
        if name == CancelJob.name and monotonic() - self._left_composer_at < ESCAPE_REPEAT:
            # The same burst of Escapes that left the composer: a cancel needs a fresh press.
            job = self.selected_job()
            if job is not None and job.state.is_active:
                self.say(f"Esc again cancels #{job.id}", about=job.id)
            return
        self.run_command(name)

    def typing(self) -> bool:
        """Anywhere in the composer keys are text (its size picker and reference list too)."""
        focused = self.focused
        return focused is not None and self.composer in focused.ancestors_with_self

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_composer":
            return self.typing()
        if action == "command" and parameters == (CancelJob.name,):
            # Escape in the composer leaves it, and in the job list's filter field clears the
            # filter: neither cancels a job.
            return not self.typing() and not isinstance(self.focused, ListFilterInput)
        return super().check_action(action, parameters)

    def action_leave_composer(self) -> None:
        """Escape in the composer: go to the job list (nothing is cancelled)."""
        self._left_composer_at = monotonic()
        self.focus_jobs()

    def run_command(self, name: str, job: Job | None = None) -> None:
        """Run the command ``name`` (on ``job`` instead of the selected one, for job commands)."""
        command = command_named(name)
        if job is not None and isinstance(command, JobCommand):
            command.run_on(self, job)
        else:
            command.run(self)

    def system_commands(self) -> Iterable[SystemCommand]:
        """The palette's entries for this screen, in the commands' order. They run the command
        itself, not its key's binding: a letter command runs from the palette wherever focus
        was."""
        for command in MAIN_COMMANDS:
            if not command.available(self):
                continue
            run = (
                partial(self.run_action, command.action)
                if isinstance(command, AppAction)
                else partial(self.run_command, command.name)
            )
            yield SystemCommand(command.title, command.help, run)

    # ------------------------------------------------------------------ the workbench

    def selected_job(self) -> Job | None:
        job_id = self.query_one(JobPool).selected_job_id
        return self.known_job(job_id) if job_id is not None else None

    def known_job(self, job_id: int) -> Job | None:
        """The job as the pool has it now (None: not there, or deleted from the history)."""
        event = self.query_one(JobPool).event_for(job_id)
        if event is None or job_id in self._forgotten:
            return None
        return event.job

    def select_job(self, job_id: int) -> None:
        """Select ``job_id`` in the pool (added there if it is older than the loaded rows)."""
        pool = self.query_one(JobPool)
        if pool.event_for(job_id) is not None:
            pool.select(job_id)
            return

        def found(job: Job | None) -> None:
            if job is not None:
                pool.apply(self.jobs.event_for(job), now=self.clock())
                pool.select(job.id)

        self.read_then(lambda: self._job_or_none(job_id), found)

    def _job_or_none(self, job_id: int) -> Job | None:
        try:
            return self.history.get(job_id)
        except KeyError:
            return None

    def show_created(self, *jobs: Job) -> None:
        """Put just-created jobs in the pool (mounted together) and select the newest."""
        if not jobs:
            return
        pool = self.query_one(JobPool)
        pool.apply_many([self.jobs.event_for(job) for job in jobs], now=self.clock())
        pool.select(max(job.id for job in jobs))
        parents = {job.parent_id for job in jobs if job.parent_id is not None and not job.sweep_label}
        unknown = sorted(parent for parent in parents if pool.event_for(parent) is None)
        if unknown:
            self.read_then(  # an older parent: the cards say their change once it is read
                lambda: self.history.get_many(unknown),
                lambda found: pool.set_labels(card_labels(jobs, found)),
            )

    def load_composer(self, load: ComposerLoad, *, parent: Job | None) -> None:
        """Load the composer (its parent diffed against) and move to the prompt; what the load
        replaced comes back with ctrl+z in the prompt."""
        kept = self.composer.load_request(load.request, parent=parent, note=load.note)
        self.focus_prompt()
        what = load.note or "loaded"
        self.say(f"{what} — ctrl+z in the prompt brings back what was there" if kept else what)

    def forget_missing(self) -> None:
        """Mark the cards of jobs that are no longer in the history (read off the UI loop)."""
        ids = list(self.query_one(JobPool).job_ids())

        def mark(missing: list[int]) -> None:
            pool = self.query_one(JobPool)
            self._forgotten.update(missing)
            for job_id in missing:
                pool.set_note(job_id, FORGOTTEN, now=self.clock())

        self.read_then(lambda: missing_jobs(self.history, ids), mark)

    def say(self, text: str, *, about: int | None = None) -> None:
        """One plain line in the status bar above the footer (never covers the composer); it
        clears itself after a while, so it never describes a moment long gone. ``about``: the
        job in flight the line speaks of ("Esc again cancels #4", "cancelling #4"); when that
        job ends, the line says how."""
        self.query_one("#status", Label).update(clean_text(text, limit=300))
        self._status_about = about
        if self._status_timer is not None:
            self._status_timer.stop()
        self._status_timer = self.set_timer(STATUS_SECONDS, self._clear_status)

    def _clear_status(self) -> None:
        self._status_timer = None
        self._status_about = None
        self.query_one("#status", Label).update("")

    def warn(self, text: str) -> None:
        self.say(text)
        self.notify(text, severity="warning", markup=False)

    def open(self, screen: Screen[T], then: Callable[[T | None], None] | None = None) -> None:
        self.app.push_screen(screen, then)

    def read_then(self, read: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``read`` (blocking: SQLite, files) in a thread worker; ``then`` gets its result
        here, on the UI loop."""
        self._reads.read_then(read, then)

    def after_typing(self, then: Callable[[], None]) -> None:
        """Run ``then`` once every key already typed has been handled, its bindings too.

        Textual runs a widget's key bindings (the editor's backspace, ctrl+w …) only when the
        key has bubbled from the focused widget back up to the app, so ``then`` follows the
        keys along the same path: a message that bubbles from the focused widget arrives here
        after them, and the app runs ``then`` after what they are still doing there."""
        (self.focused or self).post_message(TypedThrough(then))

    def on_typed_through(self, message: TypedThrough) -> None:
        message.stop()
        self.app.call_later(message.then)

    def copy(self, text: str) -> None:
        self.app.copy_to_clipboard(text)

    def cancel(self, job_id: int) -> None:
        """Ask for ``job_id`` to be cancelled; the outcome arrives as a note on its card."""
        self.note_job(job_id, "cancelling…")
        self.jobs.cancel(job_id)

    def cancel_selected(self) -> None:
        """Cancel the highlighted job — only that one, named in the notice."""
        job = self.selected_job()
        if job is None:
            self.say("no job selected: nothing cancelled (↑/↓ in the job list selects one)")
            return
        what = clean_text(job.sweep_label or job.request.prompt, limit=40)
        if not job.state.is_active:
            self.say(f"#{job.id} ({what}) is {job.state.value}: nothing to cancel")
            return
        self.say(f"cancelling #{job.id} ({what})", about=job.id)  # its outcome takes it over
        self.cancel(job.id)

    def fullscreen(self) -> None:
        """The selected job's image full screen; ←/→ step through the images of the list."""
        job = self.selected_job()
        if job is None:
            self.say("select a job first (f3 moves to the job list)")
            return
        pool = self.query_one(JobPool)
        listed = [event.job for i in pool.job_ids() if (event := pool.event_for(i)) is not None]

        def shown(album: list[Path]) -> None:
            mine = [path for path in album if str(path) in job.files]
            if not mine:
                reason = no_image_reason(job) or "none"
                self.say(f"#{job.id} has no image: {reason}")
                return
            self.open(ImageScreen(mine[0], self.kit, album=album))

        self.read_then(lambda: _album(listed), shown)

    def view_outside(self, job: Job) -> None:
        """Open ``job``'s image in the system viewer (watched in a thread)."""
        command = viewer_command()
        if command is None:
            self.warn("no image viewer found: set GPT_IMAGE_TUI_VIEWER (e.g. 'feh' or "
                      "'eog'), or install xdg-utils (xdg-open)")
            return

        def start() -> tuple[Path | None, str | None]:
            path = next((Path(n) for n in job.files if Path(n).is_file()), None)
            return path, (open_in_viewer(command, path) if path is not None else None)

        def done(result: tuple[Path | None, str | None]) -> None:
            path, problem = result
            if path is None:
                self.say(f"#{job.id} has no image: {no_image_reason(job) or 'none'}")
            elif problem:
                self.warn(f"couldn't open the image: {problem}")
            else:
                self.say(f"opened {clean_text(path.name, limit=80)} with {command[0]}")

        self.read_then(start, done)

    def edit_prompt_outside(self) -> None:
        """Suspend the app, edit the prompt in $VISUAL / $EDITOR, load the result back."""
        command = editor_command()
        if command is None:
            self.warn("set $EDITOR (or $VISUAL) to edit the prompt in your editor")
            return
        before = self.composer.prompt
        try:
            with self.app.suspend():
                run = edit_text(command, before)
        except SuspendNotSupported:  # no terminal to hand over (a test, the web): just run it
            run = edit_text(command, before)
        self.focus_prompt()
        if run.text is None:
            self.warn(f"prompt unchanged: {clean_text(run.problem, limit=200)}")
        elif run.text == before:
            self.say("prompt unchanged")
        else:
            self.composer.replace_prompt(run.text)
            self.say(f"prompt loaded from {clean_text(command[0], limit=40)} — ctrl+z undoes it")

    def forget(self, job: Job, *, delete_files: bool) -> None:
        """Delete ``job`` from the history (and its images when asked), off the UI loop."""

        def delete() -> int:
            self.history.delete(job.id)
            return delete_images(job.files) if delete_files else 0

        def deleted(removed: int) -> None:
            self._forgotten.add(job.id)
            self.query_one(JobPool).set_note(job.id, FORGOTTEN, now=self.clock())
            files = f" and {removed} image file(s)" if removed else ""
            self.say(f"forgot job #{job.id}{files}")

        self.read_then(delete, deleted)

    def focus_prompt(self) -> None:
        self.query_one(PromptEditor).focus()

    def focus_jobs(self) -> None:
        self.query_one(JobPool).focus_list()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if self._reads.finished(event):
            return
        if event.worker.group == "draft" and event.state == WorkerState.ERROR:
            # A full disk must not take the editor down; the draft stays pending for next time.
            reason = clean_text(event.worker.error or "unexpected error", limit=120)
            self.notify(f"couldn't save the draft: {reason}", severity="warning", markup=False)

    # ------------------------------------------------------------------ the composer

    @on(DraftChanged)
    def _draft_changed(self, message: DraftChanged) -> None:
        self._drafts.put(self.composer.draft())
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DELAY, self._save_draft)

    def keep_draft(self) -> None:
        """Save the composer as the draft now (in a thread: the write waits for the disk)."""
        self._drafts.put(self.composer.draft())
        self._save_draft()

    def _save_draft(self) -> None:
        if self._drafts.pending:
            self.run_worker(self._drafts.flush, name="save draft", group="draft", thread=True,
                            exit_on_error=False)

    def on_open_recipe(self, message: OpenRecipe) -> None:
        restore_recipe(self, message.path)

    def on_lint_hints_dismissed(self, message: LintHints.Dismissed) -> None:
        from ..widgets.lint_hints import LintHints  # loaded with the rest of the composer

        dismissed = sorted(self.query_one(LintHints).dismissed | {message.rule})
        try:
            self.history.save_draft(HINTS_KEY, ",".join(dismissed))
        except Exception:  # remembering is a nicety; the hint is gone for this session anyway
            pass
        self.say(f"hint {message.rule} dismissed")

    # ------------------------------------------------------------------ the pool

    def _highlight_moved(self) -> None:
        """The list's highlight moved: the job's details (and its preview, when decoded before)
        change in this same call, so they are drawn in the frame that moves the highlight."""
        self._show_details(self.query_one(JobPool).selected_job_id)

    def on_job_selected(self, message: JobSelected) -> None:
        self._show_details(message.job_id)

    def _show_details(self, job_id: int | None) -> None:
        details = self.query_one(JobDetails)
        if job_id is not None and details.job_id == job_id:
            return  # shown already (news of it arrives through on_jobs_updated)
        pool = self.query_one(JobPool)
        event = pool.event_for(job_id) if job_id is not None else None
        label = pool.label_for(job_id) if job_id is not None else None
        details.show(event, label=label)

    @on(ListView.Selected, "#job-list")
    def _job_chosen(self, event: ListView.Selected) -> None:
        if isinstance(event.item, JobCard):
            self.fullscreen()
