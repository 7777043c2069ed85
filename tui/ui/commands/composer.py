"""Commands on the composer: submit (one job, or a sweep of them), restore a PNG's recipe,
detach from the parent, move to the prompt."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError
from ...iterate.loads import ComposerLoad
from ...iterate.recipe import read_recipe
from ...iterate.sweep import CONFIRM_THRESHOLD, Sweep, expand, has_sweep
from ...models import DEFAULT_SIZE, Job, JobRequest, prepare_request
from ...storage.history import History
from ...trust.sanitize import clean_text
from ..widgets.composer import size_option_label
from .base import Command, Workbench

__all__ = [
    "AddReference",
    "ChooseSize",
    "ClearReferences",
    "Detach",
    "EditInEditor",
    "FocusPrompt",
    "NewPrompt",
    "OpenRecipe",
    "RecipeFound",
    "Submit",
    "read_recipe_draft",
    "restore_recipe",
]


class Submit(Command):
    name = "submit"
    title = "Submit prompt"
    help = "Send the prompt (ctrl+j)"
    key = "ctrl+j"
    footer = "Submit"
    priority = True

    def run(self, bench: Workbench) -> None:
        # ctrl+j is a priority binding: it runs before the editor has handled the keys typed
        # (or pasted) just before it. Read the prompt once the editor's queue is through them.
        bench.after_typing(lambda: submit(bench))


def submit(bench: Workbench) -> None:
    """Send what the composer holds: one job, or a sweep's jobs; problems go next to fields."""
    composer = bench.composer
    prompt, size, images = composer.values()
    bench.keep_draft()
    if has_sweep(prompt):
        submit_sweep(bench, prompt, size, images)
        return
    try:
        prepared = prepare_request(prompt, size, images)
    except InputError as exc:
        composer.show_problems(exc)
        return
    composer.clear_problems()
    job = bench.jobs.create(prepared.request, parent_id=composer.parent_id)
    bench.show_created(job)
    composer.show_notice("; ".join(prepared.notices) or None)
    parent = f" (child of #{job.parent_id})" if job.parent_id else ""
    bench.say(f"job #{job.id} created{parent}")


def submit_sweep(bench: Workbench, prompt: str, size: str, images: list[str]) -> None:
    """Expand ``{a|b}`` groups, check every variant, confirm a big one, then create them all."""
    composer = bench.composer
    try:
        sweep = expand(prompt)
        for variant in sweep.variants:
            prepare_request(variant.prompt, size, images)
    except InputError as exc:
        composer.show_problems(exc)
        return
    from ..screens.sweep import (  # the screen's module is loaded when it is first opened
        SweepConfirmScreen,
        balance_warning,
    )

    composer.clear_problems()
    price = composer.price()
    known = bench.wallet.last
    if sweep.count <= CONFIRM_THRESHOLD and not balance_warning(sweep.count, price, known):
        _create_sweep(bench, sweep, size, images)
        return

    def answered(send: bool | None) -> None:
        if send:
            _create_sweep(bench, sweep, size, images)

    # The balance is asked as the question opens: it warns if the estimate is above it.
    ask = price is not None and not price.offline and bool(price.per_image)
    bench.open(
        SweepConfirmScreen(sweep, price=price, balance=known, wallet=bench.wallet if ask else None),
        answered,
    )


def _create_sweep(bench: Workbench, sweep: Sweep, size: str, images: list[str]) -> None:
    """Open the sweep's grid at once (its cells say "creating…"); the jobs are recorded in one
    transaction off the UI loop, then followed, put in the pool and handed to the grid."""
    from ..screens.sweep import SweepScreen  # the screen's module is loaded when it is first opened

    parent_id = bench.composer.parent_id
    sweep_id = uuid.uuid4().hex[:12]
    variants = sweep.variants
    requests = [prepare_request(variant.prompt, size, images).request for variant in variants]
    grid = SweepScreen(
        sweep_id, [], bench.kit, feed=bench.feed,
        labels=[variant.label or variant.prompt for variant in variants],
    )
    bench.open(grid)

    def created(jobs: list[Job]) -> None:
        bench.show_created(*jobs)
        grid.created(jobs)
        bench.say(f"sweep of {len(jobs)} jobs created (#{jobs[0].id}–#{jobs[-1].id})")

    def failed(reason: str) -> None:
        grid.not_created(reason)
        bench.warn(f"the sweep was not created (nothing sent): {reason}")

    bench.jobs.create_many(
        requests, labels=[variant.label for variant in variants], parent_id=parent_id,
        sweep_id=sweep_id, then=created, failed=failed,
    )


@dataclass(frozen=True, slots=True)
class RecipeFound:
    """A PNG's recipe as a composer load, and its job when the history knows it."""

    load: ComposerLoad
    parent: Job | None


def read_recipe_draft(path: Path, history: History) -> RecipeFound | str:
    """The recipe embedded in ``path``, or why there is none. Blocking: run it off the UI loop."""
    name = clean_text(str(path), limit=80)
    try:
        if not path.is_file():
            return f"file not found: {name}"
        recipe = read_recipe(path)
    except OSError as exc:
        return f"can't read {name}: {clean_text(exc.strerror or exc, limit=80)}"
    if recipe is None:
        return (
            f"no recipe in {clean_text(path.name, limit=60)}: only PNGs saved by this app carry "
            "one (a local file can't be a reference: the server fetches https URLs)"
        )
    parent = history.find_by_request_id(recipe.request_id) if recipe.request_id else None
    request = JobRequest(recipe.prompt, recipe.size, tuple(recipe.references))
    note = f"recipe from {clean_text(path.name, limit=60)}" + (
        f" · child of #{parent.id}" if parent else ""
    )
    return RecipeFound(ComposerLoad(request, parent.id if parent else None, note), parent)


def restore_recipe(bench: Workbench, path: Path) -> None:
    """Put the recipe embedded in ``path`` into the composer; its job becomes the parent."""

    def found(recipe: RecipeFound | str) -> None:
        if isinstance(recipe, str):
            bench.warn(recipe)
            return
        bench.load_composer(recipe.load, parent=recipe.parent)

    bench.read_then(lambda: read_recipe_draft(path, bench.history), found)


class OpenRecipe(Command):
    name = "open_recipe"
    title = "Open image recipe…"
    help = "Restore prompt, size and references from a saved PNG"

    def run(self, bench: Workbench) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                restore_recipe(bench, path)

        from ..screens.open_recipe import (
            OpenRecipeScreen,  # the screen's module is loaded when it is first opened
        )

        bench.open(OpenRecipeScreen(), chosen)


class Detach(Command):
    name = "detach_parent"
    title = "Detach from parent"
    help = "The next job starts a new lineage (ctrl+t)"
    key = "ctrl+t"
    footer = "Detach"
    show = False

    def run(self, bench: Workbench) -> None:
        bench.composer.set_parent(None)
        bench.say("the next job has no parent")


class NewPrompt(Command):
    name = "new_prompt"
    title = "New prompt"
    help = "Clear the composer into a fresh draft with no parent (ctrl+z brings the old one back)"
    key = "ctrl+n"
    footer = "New"
    show = False
    priority = True  # also from inside the editor

    def run(self, bench: Workbench) -> None:
        kept = bench.composer.load_request(
            JobRequest("", DEFAULT_SIZE), parent=None, note="new prompt", size_chosen=False
        )
        bench.focus_prompt()
        bench.say("new prompt — ctrl+z in the prompt brings back the old draft" if kept
                  else "new prompt")


class EditInEditor(Command):
    name = "edit_in_editor"
    title = "Edit prompt in $EDITOR"
    help = "Suspend the app, edit the prompt in $VISUAL / $EDITOR, load it back (f4)"
    key = "f4"
    footer = "$EDITOR"
    show = False
    priority = True  # also from inside the editor

    def run(self, bench: Workbench) -> None:
        bench.edit_prompt_outside()


class ChooseSize(Command):
    """One palette entry per size (the picker itself is a dropdown in the composer)."""

    name = "size"
    help = "Set the size of the next job"

    def __init__(self, size: str) -> None:
        self.size = size
        self.name = f"size_{size}"
        self.title = f"Size: {size_option_label(size)}"

    def available(self, bench: Workbench) -> bool:
        return self.size != "auto" or bool(bench.composer.values()[2])

    def run(self, bench: Workbench) -> None:
        bench.composer.choose_size(self.size)
        bench.say(f"size: {size_option_label(self.size)}")


class AddReference(Command):
    name = "add_reference"
    title = "Add reference image…"
    help = "Move to the reference field: an https:// URL + Enter (image 1 is the primary)"

    def run(self, bench: Workbench) -> None:
        bench.composer.focus_reference_field()


class ClearReferences(Command):
    name = "clear_references"
    title = "Remove all reference images"
    help = "The next job is text-to-image again"

    def available(self, bench: Workbench) -> bool:
        return bool(bench.composer.values()[2])

    def run(self, bench: Workbench) -> None:
        bench.composer.set_references([])
        bench.say("references removed")


class FocusPrompt(Command):
    name = "focus_prompt"
    title = "Focus prompt"
    help = "Move to the prompt editor (f2)"
    key = "f2"
    footer = "Prompt"

    def run(self, bench: Workbench) -> None:
        bench.focus_prompt()
