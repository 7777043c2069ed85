"""Sweeps on screen: a confirmation before a large fan-out is sent (the wallet asked meanwhile),
and a live grid of a sweep's results labelled by their alternative, each cell cancellable.

The grid screen reads the job feed itself (:class:`~tui.ui.bridge.JobFeed`) while it is open."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from ...api.balance import Balance
from ...api.catalog import Price, format_usd
from ...iterate.sweep import Sweep
from ...jobs.events import JobEvent
from ...jobs.pricing import estimate_text, total_for
from ...models import Job, JobState
from ...services.account import Wallet
from ...trust.sanitize import clean_text
from ..bridge import JobFeed
from ..imaging import ImageKit
from ..messages import CompareRequested, JobsUpdated
from ..widgets.footer import SteadyFooter
from ..widgets.thumbs import Thumb

__all__ = [
    "SweepCell",
    "SweepConfirmScreen",
    "SweepGrid",
    "SweepScreen",
    "balance_warning",
    "sweep_question",
]

MAX_LISTED_VARIANTS = 12


def sweep_question(count: int, price: Price | None = None) -> str:
    """``This sweep sends 24 jobs ≈ $0.96: 24 images, each billed. Send them all?``"""
    jobs = estimate_text(count, price) if price is not None else f"{count} jobs"
    if price is not None and price.offline:
        return f"This sweep sends {jobs}. Send them all?"
    return f"This sweep sends {jobs}: {count} images, each billed. Send them all?"


def balance_warning(count: int, price: Price | None, balance: Balance | None) -> str:
    """A warning when the sweep's estimate is more than the wallet holds ("" otherwise)."""
    total = total_for(count, price) if price is not None and not price.offline else None
    if total is None or balance is None or total <= balance.usd:
        return ""
    return (
        f"Your balance is {format_usd(balance.usd)} {balance.currency}: less than this sweep's "
        f"estimate of {format_usd(total)}. Jobs past the balance will be refused."
    )


class SweepConfirmScreen(ModalScreen[bool]):
    """Shows the job count, its estimated cost and the variant labels before anything is sent
    (and a warning when the estimate is more than the balance); True sends.

    Given a ``wallet``, it reads the balance as it opens and warns when it is too low.
    """

    DEFAULT_CSS = """
    SweepConfirmScreen { align: center middle; }
    SweepConfirmScreen > Vertical {
        width: 80%; max-width: 90; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    SweepConfirmScreen #sweep-question { width: 1fr; margin-bottom: 1; text-style: bold; }
    SweepConfirmScreen #sweep-balance { display: none; width: 1fr; margin-bottom: 1;
        color: $error; text-style: bold; }
    SweepConfirmScreen #sweep-balance.-shown { display: block; }
    SweepConfirmScreen #sweep-variants { height: auto; max-height: 14; }
    SweepConfirmScreen .variant { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    SweepConfirmScreen Horizontal { width: auto; height: auto; margin-top: 1; }
    SweepConfirmScreen Button { margin-right: 2; }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Send"),
        Binding("n,escape", "answer(False)", "Don't send"),
    ]

    def __init__(
        self,
        sweep: Sweep,
        *,
        price: Price | None = None,
        balance: Balance | None = None,
        wallet: Wallet | None = None,
    ) -> None:
        super().__init__()
        self.sweep = sweep
        self.price = price
        self.balance = balance
        self.wallet = wallet

    @property
    def question(self) -> str:
        return sweep_question(self.sweep.count, self.price)

    @property
    def warning(self) -> str:
        return balance_warning(self.sweep.count, self.price, self.balance)

    def show_balance(self, balance: Balance) -> None:
        """The balance arrived (it is fetched when this screen opens): warn if it's too low."""
        self.balance = balance
        warning = self.query_one("#sweep-balance", Static)
        warning.update(Text(self.warning))
        warning.set_class(bool(self.warning), "-shown")

    def compose(self) -> ComposeResult:
        variants = self.sweep.variants
        with Vertical():
            yield Static(Text(self.question), id="sweep-question")
            yield Static(
                Text(self.warning), id="sweep-balance", classes="-shown" if self.warning else ""
            )
            with VerticalScroll(id="sweep-variants"):
                for number, variant in enumerate(variants[:MAX_LISTED_VARIANTS], start=1):
                    label = clean_text(variant.label or variant.prompt, limit=80)
                    yield Static(Text(f"{number:>2}. {label}"), classes="variant")
                if len(variants) > MAX_LISTED_VARIANTS:
                    more = len(variants) - MAX_LISTED_VARIANTS
                    yield Static(Text(f"    … and {more} more"), classes="variant")
            with Horizontal():
                yield Button(f"Send {self.sweep.count} jobs (y)", id="send", variant="warning")
                yield Button("Don't send (n)", id="keep", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()
        if self.wallet is not None:
            self.run_worker(self.wallet.read(), name="balance", group="balance",
                            exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "balance" and event.state == WorkerState.SUCCESS:
            balance = event.worker.result
            if isinstance(balance, Balance):
                self.show_balance(balance)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "send")

    def action_answer(self, send: bool) -> None:
        self.dismiss(send)


CREATING_TEXT = "creating…"


def _state_line(job: Job, message: str | None = None) -> str:
    text = job.state.value.replace("_", " ")
    if job.state is JobState.QUEUED and job.queue_position:
        text += f" (#{job.queue_position})"
    if message:
        text += f" · {message}"
    return clean_text(text, limit=60)


class SweepCell(Widget, can_focus=True):
    """One variant of a sweep: its label (the top border), its live state (the bottom border)
    and, once there is one, its image.

    A cell can be shown before its job exists (``job`` None: "creating…"); :meth:`update_job`
    gives it its job. A cell is one widget until its image arrives (a grid of 24 opens at once);
    each change swaps one state class and rewrites the state in the border (never a layout).
    """

    def __init__(self, kit: ImageKit, *, label: str, job: Job | None = None) -> None:
        self.job = job
        # Not created yet reads as pending: creating it changes no class (no restyle).
        self._state_class = f"-{(job.state if job is not None else JobState.PENDING).value}"
        super().__init__(classes=f"sweep-cell {self._state_class}")
        self.kit = kit
        self.border_title = Text(clean_text(label, limit=60))
        self.border_subtitle = Text(self.state_text)
        self._thumb: Thumb | None = None
        if job is not None:
            self._show_image(job)

    def compose(self) -> ComposeResult:
        if self._thumb is not None:
            yield self._thumb

    def render(self) -> str:
        return ""

    @property
    def state_text(self) -> str:
        return _state_line(self.job) if self.job is not None else CREATING_TEXT

    @property
    def thumb(self) -> Thumb | None:
        """The image of the cell (None until its job has one)."""
        return self._thumb

    def update_job(self, job: Job, message: str | None = None) -> None:
        self.job = job
        state_class = f"-{job.state.value}"
        if state_class != self._state_class:
            self.remove_class(self._state_class)
            self.add_class(state_class)
            self._state_class = state_class
        self._say(_state_line(job, message))
        self._show_image(job)

    def not_created(self, reason: str) -> None:
        """Its job could not be recorded (nothing was sent)."""
        self.remove_class(self._state_class)
        self._state_class = "-failed"
        self.add_class(self._state_class)
        self._say(f"not created: {reason}")

    def _say(self, text: str) -> None:
        self.border_subtitle = Text(clean_text(text, limit=60))

    def _show_image(self, job: Job) -> None:
        if job.state is not JobState.COMPLETED or not job.files:
            return
        if self._thumb is None:
            self._thumb = Thumb(self.kit, classes="cell-thumb")
            if self.is_mounted:
                self.mount(self._thumb)
        self._thumb.show(Path(job.files[0]))


class SweepGrid(Widget):
    """A sweep's jobs as a grid of live cells. Arrows move; Escape cancels the focused cell's
    job (posts :class:`CancelJob`); Enter posts :class:`Selected`.

    Made from the jobs, or from the variants' ``labels`` before the jobs exist (the cells say
    "creating…" until :meth:`created` hands them their jobs). Cells are found by job id in a
    dict: an engine event never searches the DOM.
    """

    DEFAULT_CSS = """
    SweepGrid { layout: grid; grid-size: 3; grid-gutter: 0 1; height: auto; }
    SweepGrid.-cols-1 { grid-size: 1; }
    SweepGrid.-cols-2 { grid-size: 2; }
    SweepGrid.-cols-4 { grid-size: 4; }
    SweepGrid > SweepCell {
        height: 13; border: round $panel-lighten-2; padding: 0 1;
        border-title-style: bold; border-title-color: $text;
        border-subtitle-align: left; border-subtitle-color: $text-muted;
    }
    SweepGrid > SweepCell:focus { border: round $accent; }
    SweepGrid > SweepCell.-completed { border-title-color: $success; }
    SweepGrid > SweepCell.-failed, SweepGrid > SweepCell.-unknown { border: round $error; }
    SweepGrid .cell-thumb { width: 1fr; height: 1fr; }
    /* One or two rows: the cells share the screen's height, so the images are as big as fits. */
    SweepGrid.-fill { height: 1fr; grid-rows: 1fr; }
    SweepGrid.-fill > SweepCell { height: 1fr; min-height: 13; }
    """

    BINDINGS = [
        Binding("escape", "cancel_cell", "Cancel job"),
        Binding("enter", "select_cell", "Open", show=False),
        Binding("left", "move(-1, 0)", show=False),
        Binding("right", "move(1, 0)", show=False),
        Binding("up", "move(0, -1)", show=False),
        Binding("down", "move(0, 1)", show=False),
    ]

    class CancelJob(Message):
        """The user asked to cancel the job of the focused cell."""

        def __init__(self, job_id: int) -> None:
            super().__init__()
            self.job_id = job_id

    class Selected(Message):
        """Enter on a cell."""

        def __init__(self, job_id: int) -> None:
            super().__init__()
            self.job_id = job_id

    def __init__(
        self,
        jobs: Sequence[Job],
        kit: ImageKit,
        *,
        labels: Sequence[str] = (),
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.kit = kit
        self.columns = 3
        if jobs:
            self.cells = [
                SweepCell(kit, label=job.sweep_label or job.request.prompt, job=job)
                for job in jobs
            ]
        else:
            self.cells = [SweepCell(kit, label=label) for label in labels]
        self._by_job = {cell.job.id: cell for cell in self.cells if cell.job is not None}

    @property
    def jobs(self) -> list[Job]:
        """The jobs of the cells that have one (all of them once created)."""
        return [cell.job for cell in self.cells if cell.job is not None]

    def compose(self) -> ComposeResult:
        yield from self.cells

    def created(self, jobs: Sequence[Job]) -> None:
        """The jobs of the cells made from labels, in the same order."""
        for cell, job in zip(self.cells, jobs, strict=False):
            cell.update_job(job)
            self._by_job[job.id] = cell

    def not_created(self, reason: str) -> None:
        """None of the jobs could be recorded: every waiting cell says why."""
        for cell in self.cells:
            if cell.job is None:
                cell.not_created(reason)

    def on_resize(self, event: Resize) -> None:
        width = event.size.width
        columns = 1 if width < 40 else 2 if width < 72 else 3 if width < 120 else 4
        self.columns = min(columns, max(1, len(self.cells)))
        for n in (1, 2, 4):
            self.set_class(self.columns == n, f"-cols-{n}")
        rows = -(-len(self.cells) // self.columns)
        self.set_class(rows <= 2, "-fill")

    def cell(self, job_id: int) -> SweepCell | None:
        return self._by_job.get(job_id)

    def update_job(self, event: JobEvent) -> None:
        """Show the new state of one job (ignored when it isn't part of this sweep)."""
        cell = self._by_job.get(event.job.id)
        if cell is not None:
            cell.update_job(event.job, event.message)

    def _focused_cell(self) -> SweepCell | None:
        focused = self.screen.focused
        return focused if isinstance(focused, SweepCell) and focused.parent is self else None

    def action_cancel_cell(self) -> None:
        cell = self._focused_cell()
        if cell is not None and cell.job is not None and not cell.job.state.is_terminal:
            self.post_message(self.CancelJob(cell.job.id))

    def action_select_cell(self) -> None:
        cell = self._focused_cell()
        if cell is not None and cell.job is not None:
            self.post_message(self.Selected(cell.job.id))

    def action_move(self, dx: int, dy: int) -> None:
        cells = self.cells
        current = self._focused_cell()
        if not cells:
            return
        index = cells.index(current) if current in cells else 0
        target = index + dx + dy * self.columns
        if 0 <= target < len(cells):
            cells[target].focus()


class SweepScreen(Screen[None]):
    """A sweep's results together, live while it is open (it reads ``feed``). The app handles
    :class:`SweepGrid.CancelJob`, :class:`SweepGrid.Selected` and ``c`` (they bubble up).

    Opened the moment a sweep is confirmed, from its variants' ``labels``, before its jobs are
    recorded; :meth:`created` (or :meth:`not_created`) follows."""

    CSS_PATH = "sweep.tcss"

    BINDINGS = [
        Binding("q,backspace", "close", "Back"),
        Binding("c", "compare", "Compare"),
    ]

    def __init__(
        self,
        sweep_id: str,
        jobs: Sequence[Job],
        kit: ImageKit,
        *,
        feed: JobFeed | None = None,
        labels: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.sweep_id = sweep_id
        self.feed = feed
        self.grid = SweepGrid(jobs, kit, labels=labels, id="sweep-grid")
        self._stop_reading: Callable[[], None] = lambda: None

    def compose(self) -> ComposeResult:
        count = len(self.grid.cells)
        title = f"sweep {clean_text(self.sweep_id, limit=24)} · {count} variants"
        yield Static(
            Text(title + " · Esc cancels the focused job · c compare · q back"), id="sweep-title"
        )
        with VerticalScroll():
            yield self.grid
        yield SteadyFooter()

    def on_mount(self) -> None:
        if self.feed is not None:
            self._stop_reading = self.feed.read(self)
        if self.grid.cells:
            self.grid.cells[0].focus()

    def on_unmount(self) -> None:
        self._stop_reading()

    def on_jobs_updated(self, message: JobsUpdated) -> None:
        for event in message.events:
            self.grid.update_job(event)

    def update_job(self, event: JobEvent) -> None:
        self.grid.update_job(event)

    def created(self, jobs: Sequence[Job]) -> None:
        """The sweep's jobs are recorded (and followed): the cells show them."""
        self.grid.created(jobs)

    def not_created(self, reason: str) -> None:
        self.grid.not_created(reason)

    def action_compare(self) -> None:
        """``c`` on a cell marks it; ``c`` on another compares the two (twice: the next cell)."""
        focused = self.focused
        if isinstance(focused, SweepCell) and focused.job is not None:
            self.post_message(CompareRequested(focused.job.id))

    def action_close(self) -> None:
        self.dismiss(None)
