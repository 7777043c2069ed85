"""Export contact sheet: a sweep, or a pair of jobs, as one labelled PNG next to the images.

The cells are built from jobs (:func:`sheet_cells`); reading the sweep and writing the PNG run
in a thread (:meth:`Workbench.read_then`), and the status line names the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...iterate.labels import difference_label, prompt_head
from ...models import Job
from ...storage.history import History
from ...trust.sanitize import clean_text
from .base import JobCommand, Workbench

if TYPE_CHECKING:
    from ...iterate.contact_sheet import SheetCell

__all__ = [
    "ExportSheet",
    "SheetPlan",
    "compare_plan",
    "export_sheet",
    "plan_for",
    "sheet_cells",
    "sweep_plan",
    "write_sheet",
]


@dataclass(frozen=True, slots=True)
class SheetPlan:
    """What goes on a sheet: the jobs in order, their captions, a title and a file stem."""

    jobs: tuple[Job, ...]
    captions: tuple[str, ...]
    title: str
    stem: str


def sheet_cells(plan: SheetPlan) -> list[SheetCell]:
    """One cell per job: its first saved image, its caption, ``#id · size · state`` and its
    recipe (prompt, size, references, request id)."""
    from ...iterate.contact_sheet import SheetCell  # Pillow: loaded when a sheet is made

    cells: list[SheetCell] = []
    for job, caption in zip(plan.jobs, plan.captions, strict=True):
        request = job.request
        cells.append(
            SheetCell(
                image=Path(job.files[0]) if job.files else None,
                caption=caption,
                detail=f"#{job.id} · {request.size.replace('_', '×')} · {job.state.value}",
                recipe={
                    "job": job.id,
                    "prompt": request.prompt,
                    "size": request.size,
                    "references": list(request.images),
                    "request_id": job.request_id,
                },
            )
        )
    return cells


def plan_for(history: History, job: Job) -> SheetPlan | None:
    """The sheet for ``job``: its whole sweep, else it beside its parent (None: neither).
    Blocking (SQLite): run it off the UI loop."""
    if job.sweep_id:
        jobs = history.sweep(job.sweep_id)
        if len(jobs) > 1:
            title = f"sweep of {len(jobs)}: {prompt_head(jobs[0].request.prompt, 80)}"
            return SheetPlan(tuple(jobs), tuple(difference_label(j) for j in jobs), title,
                             f"sweep-{job.sweep_id}")
    if job.parent_id is not None:
        try:
            parent = history.get(job.parent_id)
        except KeyError:
            return None
        return compare_plan(parent, job)
    return None


def compare_plan(left: Job, right: Job) -> SheetPlan:
    """A and B of a comparison, B captioned by how it differs from A."""
    captions = (f"A · {difference_label(left)}", f"B · {difference_label(right, left)}")
    return SheetPlan((left, right), captions, f"compare #{left.id} → #{right.id}",
                     f"compare-{left.id}-{right.id}")


def write_sheet(plan: SheetPlan, fallback_dir: Path) -> Path:
    """Render and save the sheet next to the first image (else in ``fallback_dir``); its path.
    Blocking: run it off the UI loop."""
    folders = [Path(job.files[0]).parent for job in plan.jobs if job.files]
    directory = folders[0] if folders else fallback_dir
    from ...iterate.contact_sheet import save_contact_sheet

    return save_contact_sheet(sheet_cells(plan), directory, title=plan.title, stem=plan.stem)


def export_sheet(bench: Workbench, plan: SheetPlan) -> None:
    """Write ``plan``'s sheet off the UI loop and say where it went."""
    if not any(job.files for job in plan.jobs):
        bench.warn("no images to put on a contact sheet yet")
        return
    bench.say(f"writing the contact sheet of {len(plan.jobs)} images…")
    bench.read_then(
        lambda: write_sheet(plan, bench.output_dir),
        lambda path: bench.say(f"contact sheet saved: {clean_text(str(path), limit=200)}"),
    )


class ExportSheet(JobCommand):
    name = "export_sheet"
    title = "Export contact sheet"
    help = "The selected job's sweep (or it and its parent) as one labelled PNG, recipes inside"

    def run_on(self, bench: Workbench, job: Job) -> None:
        def planned(plan: SheetPlan | None) -> None:
            if plan is None:
                bench.warn(f"#{job.id} is in no sweep and has no parent: nothing to lay out "
                           "(compare two jobs with c, then export from there)")
                return
            export_sheet(bench, plan)

        bench.read_then(lambda: plan_for(bench.history, job), planned)


def sweep_plan(jobs: Sequence[Job]) -> SheetPlan:
    """A sheet of ``jobs`` (a sweep grid's), captioned by their alternatives."""
    title = f"sweep of {len(jobs)}: {prompt_head(jobs[0].request.prompt, 80)}" if jobs else ""
    stem = f"sweep-{jobs[0].sweep_id}" if jobs and jobs[0].sweep_id else "sweep"
    return SheetPlan(tuple(jobs), tuple(difference_label(j) for j in jobs), title, stem)
