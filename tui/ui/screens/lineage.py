"""A job's lineage: its ancestors down to it, then what was made from it, each step labelled
by what changed ("+golden hour −soft window light") and shown with a thumbnail.

The steps are read off the UI loop (:func:`lineage_steps` in a thread worker) and arrive as a
:class:`LineageScreen.StepsRead` message. Enter dismisses the screen with the chosen job's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ListItem, ListView, Static
from textual.worker import Worker, WorkerState

from ...iterate.diff import summarise_change
from ...models import Job
from ...storage.history import History
from ...trust.sanitize import clean_text
from ..imaging import ImageKit
from ..widgets.footer import SteadyFooter
from ..widgets.thumbs import Thumb

__all__ = ["LineageScreen", "Step", "StepItem", "lineage_steps"]

MAX_DEPTH = 8  # generations below the job
MAX_STEPS = 40  # steps in all (thumbnails are made for each)


@dataclass(frozen=True, slots=True)
class Step:
    """One job in the lineage view: its depth from the root and how it differs from its parent."""

    job: Job
    depth: int
    label: str
    current: bool


def _label(parent: Job | None, job: Job) -> str:
    if parent is None:
        return "start: " + clean_text(job.request.prompt, limit=50)
    return summarise_change(parent.request, job.request).step_label


def lineage_steps(
    history: History, job_id: int, *, max_depth: int = MAX_DEPTH, max_steps: int = MAX_STEPS
) -> tuple[list[Step], bool]:
    """Ancestors (root first), the job, then descendants depth-first; and whether it was cut.

    Blocking (SQLite): run it off the UI loop.
    """
    chain = history.lineage(job_id)
    steps: list[Step] = []
    parent: Job | None = None
    for depth, job in enumerate(chain):
        steps.append(Step(job, depth, _label(parent, job), job.id == job_id))
        parent = job
    cut = False
    base = len(chain) - 1
    pending: list[tuple[Job, int]] = [(chain[-1], 0)]
    seen = {job.id for job in chain}
    while pending:
        node, level = pending.pop()
        if level >= max_depth:
            cut = cut or bool(history.children(node.id))
            continue
        children = [c for c in history.children(node.id) if c.id not in seen]
        for child in reversed(children):
            pending.append((child, level + 1))
        for child in children:
            seen.add(child.id)
        if level > 0:
            if len(steps) >= max_steps:
                cut = True
                break
            parent_job = next((s.job for s in steps if s.job.id == node.parent_id), None)
            steps.append(Step(node, base + level, _label(parent_job, node), False))
    return steps, cut


class StepItem(ListItem):
    """One step: thumbnail, the change label, and the job's number and state."""

    def __init__(self, step: Step, kit: ImageKit) -> None:
        super().__init__(id=f"step-{step.job.id}", classes="-current" if step.current else "")
        self.step = step
        self._thumb = Thumb(kit, classes="step-thumb")

    def compose(self) -> ComposeResult:
        step = self.step
        indent = "  " * step.depth + ("└ " if step.depth else "")
        with Horizontal():
            yield self._thumb
            with Vertical(classes="step-text"):
                yield Static(Text(indent + step.label), classes="step-label")
                mark = " · ◆ this job" if step.current else ""
                info = f"{indent}#{step.job.id} · {step.job.state.value}{mark}"
                yield Static(Text(info), classes="step-info")

    def on_mount(self) -> None:
        files = self.step.job.files
        self._thumb.show(Path(files[0]) if files else None)


class LineageScreen(Screen[int | None]):
    """Up/down moves between steps; Enter dismisses with the chosen job's id."""

    CSS_PATH = "lineage.tcss"

    BINDINGS = [Binding("escape,q", "close", "Back")]

    class StepsRead(Message):
        """The steps of the lineage, and whether there were more than are shown."""

        def __init__(self, steps: list[Step], cut: bool) -> None:
            super().__init__()
            self.steps = steps
            self.cut = cut

    def __init__(
        self,
        job_id: int,
        history: History,
        kit: ImageKit,
        *,
        max_depth: int = MAX_DEPTH,
        max_steps: int = MAX_STEPS,
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.history = history
        self.kit = kit
        self.max_depth = max_depth
        self.max_steps = max_steps
        self.steps: list[Step] = []
        self.cut = False

    def compose(self) -> ComposeResult:
        yield Static(Text(f"lineage of #{self.job_id} · reading…"), id="lineage-title")
        yield ListView(id="lineage-steps")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one(ListView).focus()
        self._read_steps()

    @work(thread=True, group="lineage-read", exit_on_error=False)
    def _read_steps(self) -> None:
        steps, cut = lineage_steps(
            self.history, self.job_id, max_depth=self.max_depth, max_steps=self.max_steps
        )
        self.post_message(self.StepsRead(steps, cut))

    def on_lineage_screen_steps_read(self, message: StepsRead) -> None:
        message.stop()
        self.steps, self.cut = message.steps, message.cut
        more = " (more not shown)" if self.cut else ""
        title = f"lineage of #{self.job_id} · {len(self.steps)} steps{more} · Enter: choose"
        self.query_one("#lineage-title", Static).update(Text(title))
        steps = self.query_one(ListView)
        steps.extend(StepItem(step, self.kit) for step in self.steps)
        steps.index = next((i for i, s in enumerate(self.steps) if s.current), 0)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "lineage-read" and event.state == WorkerState.ERROR:
            reason = clean_text(event.worker.error or "unexpected error", limit=200)
            self.query_one("#lineage-title", Static).update(
                Text(f"lineage of #{self.job_id}: couldn't read it ({reason})")
            )

    @property
    def labels(self) -> list[str]:
        return [step.label for step in self.steps]

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        item = event.item
        if isinstance(item, StepItem):
            self.dismiss(item.step.job.id)

    def action_close(self) -> None:
        self.dismiss(None)
