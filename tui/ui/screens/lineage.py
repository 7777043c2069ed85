"""A job's lineage: its ancestors down to it, then what was made from it, each step labelled
by what changed ("+golden hour −soft window light") and shown with a thumbnail."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, ListItem, ListView, Static

from ...iterate.diff import summarise_change
from ...models import Job
from ...trust.sanitize import clean_text
from ..imaging import GraphicsChoice, PreviewCache
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
    history: Any, job_id: int, *, max_depth: int = MAX_DEPTH, max_steps: int = MAX_STEPS
) -> tuple[list[Step], bool]:
    """Ancestors (root first), the job, then descendants depth-first; and whether it was cut."""
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

    def __init__(
        self, step: Step, graphics: GraphicsChoice, cache: PreviewCache, image_class: type | None
    ) -> None:
        super().__init__(id=f"step-{step.job.id}", classes="-current" if step.current else "")
        self.step = step
        self._thumb = Thumb(graphics, cache, image_class=image_class, classes="step-thumb")

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
    """Up/down moves between steps; Enter posts :class:`Selected` and dismisses with the id."""

    DEFAULT_CSS = """
    LineageScreen > #lineage-title { height: 1; padding: 0 1; background: $panel; }
    LineageScreen > ListView { height: 1fr; }
    LineageScreen StepItem { height: 5; }
    LineageScreen StepItem > Horizontal { height: 5; }
    LineageScreen StepItem.-current .step-info { text-style: bold; color: $accent; }
    LineageScreen .step-thumb { width: 10; height: 5; }
    LineageScreen .step-text { width: 1fr; padding: 1 1 0 1; }
    LineageScreen .step-label, LineageScreen .step-info {
        height: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    BINDINGS = [Binding("escape,q", "close", "Back")]

    class Selected(Message):
        """Enter on a step: the app may select, open or iterate that job."""

        def __init__(self, job_id: int) -> None:
            super().__init__()
            self.job_id = job_id

    def __init__(
        self,
        job_id: int,
        history: Any,
        cache: PreviewCache,
        graphics: GraphicsChoice,
        *,
        image_class: type | None = None,
        max_depth: int = MAX_DEPTH,
        max_steps: int = MAX_STEPS,
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.history = history
        self.cache = cache
        self.graphics = graphics
        self._image_class = image_class
        self.steps, self.cut = lineage_steps(
            history, job_id, max_depth=max_depth, max_steps=max_steps
        )

    def compose(self) -> ComposeResult:
        more = " (more not shown)" if self.cut else ""
        title = f"lineage of #{self.job_id} · {len(self.steps)} steps{more} · Enter: choose"
        yield Static(Text(title), id="lineage-title")
        yield ListView(
            *(StepItem(s, self.graphics, self.cache, self._image_class) for s in self.steps),
            id="lineage-steps",
        )
        yield Footer()

    def on_mount(self) -> None:
        steps = self.query_one(ListView)
        steps.index = next((i for i, s in enumerate(self.steps) if s.current), 0)
        steps.focus()

    @property
    def labels(self) -> list[str]:
        return [step.label for step in self.steps]

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        item = event.item
        if isinstance(item, StepItem):
            # posted to the app: this screen is about to go away
            self.app.post_message(self.Selected(item.step.job.id))
            self.dismiss(item.step.job.id)

    def action_close(self) -> None:
        self.dismiss(None)
