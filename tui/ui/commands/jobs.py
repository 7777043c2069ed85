"""Commands on jobs: cancel, full screen, iterate, edit this result, compare, lineage, the
history browser, copy, and moving to the job list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...iterate.loads import edit_request_from, iterate_request_from, rerun_request_from
from ...models import Job
from ...storage.history import History
from .base import Command, JobCommand, Workbench
from .copy import copy_choices

if TYPE_CHECKING:
    from ..screens.history import HistoryChoice

__all__ = [
    "CancelJob",
    "Compare",
    "Copy",
    "DeleteJob",
    "EditResult",
    "FocusJobs",
    "FullScreen",
    "HistoryBrowser",
    "Iterate",
    "Lineage",
    "Rerun",
    "ViewOutside",
    "compare",
    "default_partner",
    "missing_jobs",
]


class CancelJob(Command):
    """Escape on the job list (in the composer Escape leaves it instead: see the main screen)."""

    name = "cancel_job"
    title = "Cancel selected job"
    help = "Cancel the highlighted job, named in the notice (escape on the job list)"
    key = "escape"
    footer = "Cancel job"

    def run(self, bench: Workbench) -> None:
        bench.cancel_selected()


class FullScreen(Command):
    name = "fullscreen"
    title = "Full-screen image"
    help = "Show the selected job's image (f / enter)"
    key = "f"
    footer = "Full screen"
    show = False

    def run(self, bench: Workbench) -> None:
        bench.fullscreen()


class Iterate(JobCommand):
    name = "iterate"
    title = "Iterate on job"
    help = "Load the selected job into the composer as its child (i)"
    key = "i"
    footer = "Iterate"

    def run_on(self, bench: Workbench, job: Job) -> None:
        bench.load_composer(iterate_request_from(job), parent=job)


class EditResult(JobCommand):
    name = "edit_result"
    title = "Edit this result"
    help = "Start an edit whose image 1 is the job's output (e)"
    key = "e"
    footer = "Edit result"

    def run_on(self, bench: Workbench, job: Job) -> None:
        draft, reason = edit_request_from(job)
        if draft is None:
            bench.warn(f"can't edit #{job.id}: {reason}")
            return
        bench.load_composer(draft, parent=job)


class Rerun(JobCommand):
    """No key on the main screen (a second bill is one key away otherwise): the palette, and
    the history browser's ``r``. It only loads the composer; ctrl+j sends."""

    name = "rerun"
    title = "Re-run job"
    help = "Load the selected job's request into the composer as a new job (billed again)"

    def run_on(self, bench: Workbench, job: Job) -> None:
        bench.load_composer(rerun_request_from(job), parent=None)


def default_partner(history: History, job: Job) -> Job | None:
    """Whom ``job`` is compared with by default: its parent, else a sibling from its sweep.

    Blocking (SQLite): run it off the UI loop.
    """
    if job.parent_id is not None:
        try:
            return history.get(job.parent_id)
        except KeyError:
            pass
    if job.sweep_id:
        siblings = [
            j for j in history.list_jobs(limit=200) if j.sweep_id == job.sweep_id and j.id != job.id
        ]
        if siblings:
            siblings.sort(key=lambda j: j.id)
            later = [j for j in siblings if j.id > job.id]
            return later[0] if later else siblings[0]
    return None


def compare(bench: Workbench, job: Job) -> None:
    """``c``: mark a job; ``c`` on another compares them; twice on one: its default partner."""
    from ..screens.compare import (
        CompareScreen,  # the screen's module is loaded when it is first opened
    )

    marked_id, bench.compare_mark = bench.compare_mark, None
    marked = bench.known_job(marked_id) if marked_id is not None else None  # as it is now
    if marked is None:
        bench.compare_mark = job.id
        bench.say(f"#{job.id} marked: c on another job compares; c again: with its parent")
    elif marked.id != job.id:
        bench.open(CompareScreen(marked, job, bench.kit))
    else:

        def found(partner: Job | None) -> None:
            if partner is None:
                bench.say(f"#{job.id} has no parent or sweep sibling to compare with")
            else:
                bench.open(CompareScreen(partner, job, bench.kit))

        bench.read_then(lambda: default_partner(bench.history, job), found)


class Compare(JobCommand):
    name = "compare"
    title = "Compare jobs"
    help = "Mark the selected job / compare it with the marked one (c)"
    key = "c"
    footer = "Compare"

    def run_on(self, bench: Workbench, job: Job) -> None:
        compare(bench, job)


class Lineage(JobCommand):
    name = "lineage"
    title = "Lineage"
    help = "Ancestors and descendants of the selected job (l)"
    key = "l"
    footer = "Lineage"

    def run_on(self, bench: Workbench, job: Job) -> None:
        show_lineage(bench, job.id)


def show_lineage(bench: Workbench, job_id: int) -> None:
    """The lineage screen of ``job_id``; the step chosen there is selected in the pool."""

    def chosen(picked: int | None) -> None:
        if picked is not None:
            bench.select_job(picked)

    from ..screens.lineage import (
        LineageScreen,  # the screen's module is loaded when it is first opened
    )

    bench.open(LineageScreen(job_id, bench.history, bench.kit), chosen)


def missing_jobs(history: History, job_ids: list[int]) -> list[int]:
    """Which of ``job_ids`` are no longer in the history (blocking: off the UI loop)."""
    missing: list[int] = []
    for job_id in job_ids:
        try:
            history.get(job_id)
        except KeyError:
            missing.append(job_id)
    return missing


class HistoryBrowser(Command):
    name = "history"
    title = "History browser"
    help = "Every past job: open, iterate, re-run, delete (h)"
    key = "h"
    footer = "History"

    def run(self, bench: Workbench) -> None:
        from ..screens.history import (
            HistoryScreen,  # the screen's module is loaded when it is first opened
        )

        bench.open(HistoryScreen(bench.history, bench.kit), lambda choice: self._chosen(bench, choice))

    def _chosen(self, bench: Workbench, choice: HistoryChoice | None) -> None:
        bench.forget_missing()  # jobs deleted there (or by another window) are marked
        if choice is None:
            return
        action, job = choice
        if action == "iterate":
            Iterate().run_on(bench, job)
        elif action == "edit":
            EditResult().run_on(bench, job)
        elif action == "rerun":
            Rerun().run_on(bench, job)
        elif action == "lineage":
            show_lineage(bench, job.id)
        else:
            bench.select_job(job.id)


class Copy(JobCommand):
    name = "copy"
    title = "Copy…"
    help = "Image path, output URL, request id, prompt, runcomfy command (y)"
    key = "y"
    footer = "Copy…"

    def run_on(self, bench: Workbench, job: Job) -> None:
        choices = copy_choices(job, output_dir=bench.output_dir)

        def chosen(text: str | None) -> None:
            if text is None:
                return
            label = next((c.label for c in choices if c.text == text), "text")
            bench.copy(text)
            bench.say(f"copied the {label} of #{job.id} (OSC 52 clipboard)")

        from ..screens.copy_menu import (
            CopyMenu,  # the screen's module is loaded when it is first opened
        )

        bench.open(CopyMenu(choices, title=f"Copy from job #{job.id}"), chosen)


class ViewOutside(JobCommand):
    name = "view_outside"
    title = "Open image in system viewer"
    help = "The selected job's image in $GPT_IMAGE_TUI_VIEWER, else xdg-open / open (v)"
    key = "v"
    footer = "Viewer"

    def run_on(self, bench: Workbench, job: Job) -> None:
        bench.view_outside(job)


class DeleteJob(JobCommand):
    name = "delete_job"
    title = "Delete job…"
    help = "Forget the selected job from the history (asks; its image files only if ticked)"

    def run_on(self, bench: Workbench, job: Job) -> None:
        if job.state.is_active:
            bench.warn(f"#{job.id} is still {job.state.value}: cancel it first (escape)")
            return

        def answered(answer: tuple[bool, bool] | None) -> None:
            if answer and answer[0]:
                bench.forget(job, delete_files=answer[1])

        from ..screens.delete_job import (
            DeleteJobScreen,  # the screen's module is loaded when it is first opened
        )

        bench.open(DeleteJobScreen(job), answered)


class FocusJobs(Command):
    name = "focus_jobs"
    title = "Focus jobs"
    help = "Move to the job list (f3)"
    key = "f3"
    footer = "Jobs"

    def run(self, bench: Workbench) -> None:
        bench.focus_jobs()
