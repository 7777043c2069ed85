"""The iterate actions of the main screen, as a mixin: iterate, edit this result, compare,
lineage, history, copy, recipes and sweeps. Everything here only reads history, builds
screens and hands requests to the engine; the engine does the work.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from ...iterate.drafts import Draft, edit_request_from, iterate_request_from, rerun_request_from
from ...iterate.recipe import read_recipe
from ...iterate.sweep import CONFIRM_THRESHOLD, Sweep, expand
from ...models import Job, JobRequest, prepare_request
from ...trust.sanitize import clean_text
from ..widgets.composer import Composer
from .compare import CompareScreen
from .copy_menu import CopyMenu, copy_choices
from .history import HistoryScreen
from .lineage import LineageScreen
from .open_recipe import OpenRecipeScreen
from .sweep import SweepConfirmScreen, SweepScreen, balance_warning

if TYPE_CHECKING:
    from textual.screen import Screen

    from ...jobs.events import JobEvent

    class _Host(Screen[None]):
        """What the mixin uses of :class:`~tui.ui.screens.main.MainScreen`."""

        services: Any
        engine: Any
        history: Any
        balance: Any

        def selected_event(self) -> JobEvent | None: ...
        def say(self, text: str) -> None: ...
        def select_job(self, job_id: int) -> None: ...
        def show_created(self, job: Job) -> None: ...
        def action_focus_prompt(self) -> None: ...
        def _follow(self, job_id: int) -> None: ...
        def refresh_balance(self, *, announce: bool = False) -> None: ...
        def _mark_forgotten(self) -> None: ...
else:
    _Host = object

__all__ = ["IterateActions", "default_partner"]


def default_partner(history: Any, job: Job) -> Job | None:
    """Whom ``job`` is compared with by default: its parent, else a sibling from its sweep."""
    if job.parent_id is not None:
        try:
            parent: Job = history.get(job.parent_id)
            return parent
        except KeyError:
            pass
    if job.sweep_id:
        siblings: list[Job] = [
            j for j in history.list_jobs(limit=200) if j.sweep_id == job.sweep_id and j.id != job.id
        ]
        if siblings:
            siblings.sort(key=lambda j: j.id)
            later = [j for j in siblings if j.id > job.id]
            return later[0] if later else siblings[0]
    return None


class IterateActions(_Host):
    """Mixed into :class:`MainScreen` (``self`` is the screen)."""

    compare_mark: int | None = None

    # ------------------------------------------------------------------ helpers

    def _job(self, job_id: int | None) -> Job | None:
        if job_id is None:
            return None
        try:
            job: Job = self.history.get(job_id)
        except KeyError:
            return None
        return job

    def selected_job(self) -> Job | None:
        event = self.selected_event()
        return self._job(event.job.id) if event is not None else None

    def _need_job(self) -> Job | None:
        job = self.selected_job()
        if job is None:
            self.say("select a job first (f3 moves to the job list)")
        return job

    def _screens_kwargs(self) -> dict[str, Any]:
        app: Any = self.app
        return {"image_class": app.image_class}

    def load_draft(self, draft: Draft) -> None:
        """Put a draft in the composer and move to the prompt."""
        parent = self._job(draft.parent_id)
        self.query_one(Composer).load_request(draft.request, parent=parent, note=draft.note)
        self.action_focus_prompt()

    # ------------------------------------------------------------------ iterate / edit / re-run

    def iterate_job(self, job: Job) -> None:
        self.load_draft(iterate_request_from(job))

    def edit_job(self, job: Job) -> None:
        draft, reason = edit_request_from(job)
        if draft is None:
            text = f"can't edit #{job.id}: {reason}"
            self.say(text)
            self.notify(text, severity="warning", markup=False)
            return
        self.load_draft(draft)

    def rerun_job(self, job: Job) -> None:
        self.load_draft(rerun_request_from(job))

    def action_iterate(self) -> None:
        job = self._need_job()
        if job is not None:
            self.iterate_job(job)

    def action_edit_result(self) -> None:
        job = self._need_job()
        if job is not None:
            self.edit_job(job)

    def action_detach_parent(self) -> None:
        self.query_one(Composer).set_parent(None)
        self.say("the next job has no parent")

    # ------------------------------------------------------------------ compare

    def mark_or_compare(self, job_id: int) -> None:
        """``c``: mark a job; ``c`` on another compares them; twice on one: its default pair."""
        job = self._job(job_id)
        if job is None:
            return
        marked = self._job(self.compare_mark)
        if marked is None:
            self.compare_mark = job.id
            self.say(f"#{job.id} marked: c on another job compares; c again: with its parent")
            return
        self.compare_mark = None
        if marked.id == job.id:
            partner = default_partner(self.history, job)
            if partner is None:
                self.say(f"#{job.id} has no parent or sweep sibling to compare with")
                return
            self.compare_jobs(partner, job)
        else:
            self.compare_jobs(marked, job)

    def compare_jobs(self, left: Job, right: Job) -> None:
        app: Any = self.app
        app.push_screen(
            CompareScreen(left, right, app.preview_cache, app.graphics, **self._screens_kwargs())
        )

    def action_compare(self) -> None:
        job = self._need_job()
        if job is not None:
            self.mark_or_compare(job.id)

    # ------------------------------------------------------------------ lineage / history

    def show_lineage(self, job_id: int) -> None:
        app: Any = self.app

        def chosen(picked: int | None) -> None:
            if picked is not None:
                self.select_job(picked)

        app.push_screen(
            LineageScreen(
                job_id, self.history, app.preview_cache, app.graphics, **self._screens_kwargs()
            ),
            chosen,
        )

    def action_lineage(self) -> None:
        job = self._need_job()
        if job is not None:
            self.show_lineage(job.id)

    def action_history(self) -> None:
        app: Any = self.app
        app.push_screen(
            HistoryScreen(
                self.history, app.preview_cache, app.graphics, **self._screens_kwargs()
            ),
            self._history_chosen,
        )

    def _history_chosen(self, answer: tuple[str, int] | None) -> None:
        self._mark_forgotten()
        if answer is None:
            return
        action, job_id = answer
        job = self._job(job_id)
        if job is None:
            return
        if action == "iterate":
            self.iterate_job(job)
        elif action == "edit":
            self.edit_job(job)
        elif action == "rerun":
            self.rerun_job(job)
        elif action == "lineage":
            self.show_lineage(job.id)
        else:
            self.select_job(job.id)

    # ------------------------------------------------------------------ copy

    def action_copy_menu(self) -> None:
        job = self._need_job()
        if job is None:
            return
        choices = copy_choices(job, output_dir=self.services.settings.output_dir)

        def chosen(text: str | None) -> None:
            if text is None:
                return
            label = next((c.label for c in choices if c.text == text), "text")
            self.app.copy_to_clipboard(text)
            self.say(f"copied the {label} of #{job.id} (OSC 52 clipboard)")

        self.app.push_screen(CopyMenu(choices, title=f"Copy from job #{job.id}"), chosen)

    # ------------------------------------------------------------------ recipes

    def action_open_recipe(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.restore_recipe(path)

        self.app.push_screen(OpenRecipeScreen(), chosen)

    def restore_recipe(self, path: Path) -> bool:
        """Put the recipe embedded in ``path`` into the composer; its job becomes the parent."""
        name = clean_text(path.name, limit=60)
        try:
            recipe = read_recipe(path) if path.is_file() else None
        except OSError:
            recipe = None
        if recipe is None:
            text = (
                f"no recipe in {name}: only PNGs saved by this app carry one "
                "(a local file can't be a reference: the server fetches https URLs)"
            )
            self.say(text)
            self.notify(text, severity="warning", markup=False)
            return False
        parent = self.history.find_by_request_id(recipe.request_id) if recipe.request_id else None
        request = JobRequest(recipe.prompt, recipe.size, tuple(recipe.references))
        note = f"recipe from {name}" + (f" · child of #{parent.id}" if parent else "")
        self.query_one(Composer).load_request(request, parent=parent, note=note)
        self.action_focus_prompt()
        self.say(f"restored the recipe of {name}")
        return True

    # ------------------------------------------------------------------ sweeps

    def submit_sweep(self, prompt: str, size: str, images: list[str]) -> None:
        """Expand ``{a|b}`` groups, check every variant, confirm a big one, then create them all."""
        composer = self.query_one(Composer)
        try:
            sweep = expand(prompt)
            for variant in sweep.variants:
                prepare_request(variant.prompt, size, images)
        except InputError as exc:
            composer.show_problems(exc)
            return
        composer.clear_problems()
        price = composer.price()
        over_balance = bool(balance_warning(sweep.count, price, self.balance))
        if sweep.count > CONFIRM_THRESHOLD or over_balance:

            def answered(send: bool | None) -> None:
                if send:
                    self._create_sweep(sweep, size, images)

            self.app.push_screen(
                SweepConfirmScreen(sweep, price=price, balance=self.balance), answered
            )
            if price is not None and not price.offline and price.per_image:
                self.refresh_balance()  # the confirm warns if the estimate is above it
            return
        self._create_sweep(sweep, size, images)

    def _create_sweep(self, sweep: Sweep, size: str, images: list[str]) -> None:
        composer = self.query_one(Composer)
        sweep_id = uuid.uuid4().hex[:12]
        jobs: list[Job] = []
        for variant in sweep.variants:
            prepared = prepare_request(variant.prompt, size, images)
            job = self.engine.create(
                prepared.request,
                parent_id=composer.parent_id,
                sweep_id=sweep_id,
                sweep_label=variant.label,
            )
            self.show_created(job)
            jobs.append(job)
        for job in jobs:
            self._follow(job.id)
        self.say(f"sweep of {len(jobs)} jobs created (#{jobs[0].id}–#{jobs[-1].id})")
        app: Any = self.app
        app.push_screen(
            SweepScreen(sweep_id, jobs, app.graphics, app.preview_cache, **self._screens_kwargs())
        )
