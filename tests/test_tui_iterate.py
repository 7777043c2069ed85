"""Pilot tests of the iterate features wired into the app, against the real offline backend
(loopback server, real SQLite, real files): iterate with a live diff, sweeps into a grid,
compare and flip, edit-this-result offline, the history browser, recipes and the copy menu."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import app_for, run_from_palette, settle, until
from PIL import Image
from textual.pilot import Pilot

from tui.iterate.loads import OFFLINE_EDIT_REASON
from tui.iterate.recipe import read_recipe
from tui.models import JobRequest, JobState
from tui.offline.server import OfflineServer
from tui.services.graph import Services
from tui.storage.history import History
from tui.ui.app import GptImageApp
from tui.ui.commands.composer import submit_sweep
from tui.ui.screens.compare import CompareScreen
from tui.ui.screens.copy_menu import CopyMenu
from tui.ui.screens.history import HistoryScreen
from tui.ui.screens.lineage import LineageScreen
from tui.ui.screens.open_recipe import OpenRecipeScreen
from tui.ui.screens.sweep import SweepCell, SweepConfirmScreen, SweepScreen
from tui.ui.widgets.composer import Composer, PromptEditor, SizePicker
from tui.ui.widgets.job_details import JobDetails
from tui.ui.widgets.job_pool import JobList, JobPool
from tui.ui.widgets.lint_hints import LintHints
from tui.ui.widgets.preview import ImagePreview
from tui.ui.widgets.prompt_diff import PromptDiff


def make_app(services: Services) -> GptImageApp:
    return app_for(services)


async def finished_job(pilot: Pilot[Any], services: Services, prompt: str) -> int:
    """Type ``prompt``, submit it and wait for its image on disk; returns the job id."""
    app: Any = pilot.app
    editor = app.main_screen.query_one(PromptEditor)
    editor.load_text(prompt)
    editor.focus()
    before = services.history.count()
    await pilot.press("ctrl+j")
    await until(pilot, lambda: services.history.count() == before + 1)
    job_id = services.history.list_jobs(limit=1)[0].id
    await until(pilot, lambda: services.history.get(job_id).state is JobState.COMPLETED)
    assert Path(services.history.get(job_id).files[0]).is_file()
    return job_id


async def focus_job(pilot: Pilot[Any], job_id: int) -> None:
    app: Any = pilot.app
    pool = app.main_screen.query_one(JobPool)
    pool.select(job_id)
    await pilot.press("f3")
    await pilot.pause()
    assert pool.selected_job_id == job_id


def status(app: Any) -> str:
    return str(app.main_screen.query_one("#status").render())


async def test_iterate_shows_a_live_diff_and_the_child_records_its_parent(services: Services) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        parent_id = await finished_job(pilot, services, "a fox in soft window light")
        await focus_job(pilot, parent_id)
        await pilot.press("i")
        await pilot.pause()
        screen = app.main_screen
        composer = screen.query_one(Composer)
        editor = screen.query_one(PromptEditor)
        assert app.focused is editor
        assert editor.text == "a fox in soft window light"
        assert composer.parent_id == parent_id
        diff = screen.query_one(PromptDiff)
        assert diff.has_class("-has-parent") and diff.region.area > 0
        assert f"child of #{parent_id}" in str(screen.query_one("#parent-line").render())

        editor.move_cursor(editor.document.end)
        await pilot.press(*" at golden hour")
        await until(pilot, lambda: "+golden hour" in diff.plain.replace("+at ", "+"))
        assert diff.summary is not None and diff.summary.regions
        await pilot.press("ctrl+j")
        await until(pilot, lambda: services.history.count() == 2)
        child = services.history.list_jobs(limit=1)[0]
        assert child.id != parent_id
        assert services.history.get(child.id).parent_id == parent_id
        assert child.request.prompt == "a fox in soft window light at golden hour"
        assert f"job #{child.id} created (child of #{parent_id})" in status(app)

        # The lineage of the child shows both steps, the child labelled by its change.
        await until(pilot, lambda: services.history.get(child.id).state is JobState.COMPLETED)
        await focus_job(pilot, child.id)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LineageScreen))
        lineage = app.screen
        assert isinstance(lineage, LineageScreen)
        assert [step.job.id for step in lineage.steps] == [parent_id, child.id]
        assert "golden hour" in lineage.labels[1]
        await pilot.press("escape")


async def test_two_regions_changed_are_named_gently(services: Services) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        parent_id = await finished_job(
            pilot, services, 'a cafe poster, soft window light, headline "OPEN LATE"'
        )
        await focus_job(pilot, parent_id)
        await pilot.press("i")
        await pilot.pause()
        editor = app.main_screen.query_one(PromptEditor)
        editor.load_text('a cafe poster, neon rim light, headline "CLOSED"')
        diff = app.main_screen.query_one(PromptDiff)
        await until(pilot, lambda: diff.has_class("-advice"))
        advice = str(diff.query_one("#diff-advice").render())
        assert "2 knobs changed" in advice


async def test_a_three_way_sweep_fills_a_grid_of_three_done_cells(services: Services) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.main_screen
        editor = screen.query_one(PromptEditor)
        editor.load_text("a {red|green|blue} apple")
        await pilot.pause()
        assert str(screen.query_one("#sweep-count").render()).startswith("sweep: 3 jobs")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: isinstance(app.screen, SweepScreen))
        sweep = app.screen
        assert isinstance(sweep, SweepScreen)
        await until(pilot, lambda: services.history.count() == 3)
        jobs = services.history.list_jobs(limit=10)
        assert {job.sweep_label for job in jobs} == {"red", "green", "blue"}
        assert len({job.sweep_id for job in jobs}) == 1
        assert {job.request.prompt for job in jobs} == {
            "a red apple", "a green apple", "a blue apple"
        }
        cells = list(sweep.query(SweepCell))
        assert len(cells) == 3
        await until(
            pilot,
            lambda: all(cell.job and cell.job.state is JobState.COMPLETED for cell in cells),
        )
        assert all(cell.has_class("-completed") for cell in cells)
        files = [Path(services.history.get(job.id).files[0]) for job in jobs]
        assert all(path.is_file() for path in files) and len(set(files)) == 3

        # c on one cell, c on another: compare them; flip alternates in one box.
        await pilot.press("c", "right", "c")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert {compare.left.id, compare.right.id} == {
            cell.job.id for cell in cells[:2] if cell.job is not None
        }


async def test_a_sweep_grid_opens_before_its_jobs_are_recorded_then_fills_in(
    services: Services,
) -> None:
    """The grid is on screen while the history cannot be written yet (another process holds
    the write lock); the cells say "creating…", and fill in once the rows are recorded."""
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        other = sqlite3.connect(services.history.path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another writer: the sweep's rows must wait
            submit_sweep(app.main_screen, "a {red|green|blue} apple", "1024_1024", [])
            await until(
                pilot, lambda: isinstance(app.screen, SweepScreen) and bool(app.screen.query(SweepCell))
            )
            sweep = app.screen
            assert isinstance(sweep, SweepScreen)
            cells = list(sweep.query(SweepCell))
            assert len(cells) == 3 and all(cell.job is None for cell in cells)
            assert [cell.state_text for cell in cells] == ["creating…"] * 3
            assert "3 variants" in str(sweep.query_one("#sweep-title").render())
            assert other.execute("SELECT COUNT(*) FROM jobs").fetchone() == (0,)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await until(pilot, lambda: all(cell.job is not None for cell in cells))
        assert [cell.job.sweep_label for cell in cells if cell.job] == ["red", "green", "blue"]
        assert services.history.count() == 3
        pool = app.main_screen.query_one(JobPool)
        assert sorted(pool.job_ids()) == sorted(cell.job.id for cell in cells if cell.job)
        assert pool.selected_job_id == max(pool.job_ids())  # the newest, selected once
        await until(
            pilot,
            lambda: all(cell.job and cell.job.state is JobState.COMPLETED for cell in cells),
        )
        assert all(cell.has_class("-completed") and not cell.has_class("-creating")
                   for cell in cells)


async def test_a_large_sweep_asks_first_and_escaped_braces_stay_literal(
    services: Services, offline_server: OfflineServer
) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.main_screen.query_one(PromptEditor)
        editor.load_text("a {1|2|3} by {a|b|c} grid")
        await pilot.pause()
        counted = str(app.main_screen.query_one("#sweep-count").render())
        assert counted.startswith("sweep: 9 jobs") and "(asks first)" in counted
        await pilot.press("ctrl+j")
        await until(pilot, lambda: isinstance(app.screen, SweepConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        assert services.history.count() == 0 and offline_server.stats.submits == 0

        editor.load_text(r"a set \{x\|y\} of braces")
        await pilot.pause()
        assert not app.main_screen.query_one("#sweep-count").has_class("-shown")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: services.history.count() == 1)
        assert services.history.list_jobs()[0].request.prompt == r"a set \{x\|y\} of braces"


async def test_compare_two_jobs_and_flip(services: Services) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        first = await finished_job(pilot, services, "a quiet harbour at dawn")
        second = await finished_job(pilot, services, "a quiet harbour at night")
        await focus_job(pilot, first)
        await pilot.press("c")
        await pilot.pause()
        assert f"#{first} marked" in status(app)
        await focus_job(pilot, second)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert (compare.left.id, compare.right.id) == (first, second)
        assert "+night" in compare.query_one(PromptDiff).plain
        await pilot.press("space")
        assert compare.shown_job_id == first
        await pilot.press("space")
        assert compare.shown_job_id == second
        await pilot.press("escape")
        assert compare.shown_job_id is None and app.screen is compare
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main_screen


async def test_c_twice_compares_a_child_with_its_parent(services: Services) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        parent_id = await finished_job(pilot, services, "a red kite")
        await focus_job(pilot, parent_id)
        await pilot.press("i")
        await pilot.pause()
        child_id = await finished_job(pilot, services, "a red kite over the sea")
        assert services.history.get(child_id).parent_id == parent_id
        await focus_job(pilot, child_id)
        await pilot.press("c", "c")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert (compare.left.id, compare.right.id) == (parent_id, child_id)


async def test_edit_this_result_offline_explains_why_not(services: Services) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        job_id = await finished_job(pilot, services, "a paper boat")
        await focus_job(pilot, job_id)
        editor = app.main_screen.query_one(PromptEditor)
        editor.load_text("untouched")
        await pilot.press("e")
        await pilot.pause()
        assert OFFLINE_EDIT_REASON in status(app)
        assert f"can't edit #{job_id}" in status(app)
        assert editor.text == "untouched"
        assert app.main_screen.query_one(Composer).values()[2] == []


async def test_history_browser_opens_and_i_loads_the_composer(services: Services) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        job_id = await finished_job(pilot, services, "a lantern in the fog")
        app.main_screen.query_one(PromptEditor).load_text("")
        await focus_job(pilot, job_id)
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        history_screen = app.screen
        assert isinstance(history_screen, HistoryScreen)
        await until(pilot, lambda: history_screen.selected is not None)
        assert history_screen.selected is not None and history_screen.selected.id == job_id
        await pilot.press("i")
        await until(pilot, lambda: app.screen is app.main_screen)
        composer = app.main_screen.query_one(Composer)
        assert composer.prompt == "a lantern in the fog"
        assert composer.parent_id == job_id
        assert app.focused is app.main_screen.query_one(PromptEditor)


async def test_recipe_is_restored_from_a_png_the_app_wrote(services: Services) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        job_id = await finished_job(pilot, services, 'a tin robot, sign saying "HI"')
        path = Path(services.history.get(job_id).files[0])
        recipe = read_recipe(path)
        assert recipe is not None and recipe.prompt == 'a tin robot, sign saying "HI"'
        screen = app.main_screen
        editor = screen.query_one(PromptEditor)
        editor.load_text("")
        screen.query_one(SizePicker).choose("1536_1024")
        # Typing the image's path into the reference field restores its recipe.
        field = screen.query_one("#ref-input")
        field.focus()
        field.value = str(path)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: editor.text == 'a tin robot, sign saying "HI"')
        composer = screen.query_one(Composer)
        assert composer.parent_id == job_id  # found in history by its request_id
        assert screen.query_one(SizePicker).value == "1024_1024"
        assert composer.values()[2] == []

        # The palette command's modal does the same; a file without a recipe is explained.
        editor.load_text("")
        composer.set_parent(None)
        await run_from_palette(pilot, "Open image recipe")
        await until(pilot, lambda: isinstance(app.screen, OpenRecipeScreen))
        app.screen.query_one("#recipe-path").value = str(path)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: editor.text == 'a tin robot, sign saying "HI"')
        assert composer.parent_id == job_id
        plain = path.parent / "plain.txt"
        plain.write_text("not an image")
        screen.query_one(PromptEditor).load_text("kept")
        field = screen.query_one("#ref-input")
        field.focus()
        field.value = str(plain)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: "no recipe in plain.txt" in status(app))
        assert screen.query_one(PromptEditor).text == "kept"


async def test_copy_menu_returns_the_runcomfy_command(services: Services) -> None:
    app = make_app(services)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        job_id = await finished_job(pilot, services, "a teapot")
        await focus_job(pilot, job_id)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, CopyMenu))
        menu = app.screen
        assert isinstance(menu, CopyMenu)
        keys = [choice.key for choice in menu.choices]
        assert keys == ["path", "url", "request_id", "prompt", "command"]
        await pilot.press("end", "enter")
        await until(pilot, lambda: bool(copied))
        assert copied[0].startswith("runcomfy run openai/gpt-image-2/text-to-image --input ")
        assert '"prompt": "a teapot"' in copied[0]
        assert "runcomfy command" in status(app)


async def test_lint_hints_show_while_typing_and_a_dismissal_is_remembered(
    services: Services,
) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.main_screen.query_one(PromptEditor)
        await pilot.press(*"a poster with the text HELLO WORLD")
        hints = app.main_screen.query_one(LintHints)
        await until(pilot, lambda: "unquoted-text" in hints.rules_shown)
        assert hints.region.area > 0
        button = hints.query_one(".hint-dismiss")
        await pilot.click(button)
        await until(pilot, lambda: "unquoted-text" not in hints.rules_shown)
        assert "unquoted-text" in (services.history.load_draft("lint-dismissed") or "")
        assert editor.text == "a poster with the text HELLO WORLD"
        await pilot.press("ctrl+j")  # hints never block
        await until(pilot, lambda: services.history.count() == 1)


# ---------------------------------------------------------------------- snapshot

T0 = 1_790_000_000.0


def test_main_screen_iterating_with_diff_and_hints(
    snap_compare: Any, app_home: Path, frozen_services: Callable[[float], Services],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    database = app_home / "data" / "history.sqlite3"
    database.parent.mkdir(parents=True, exist_ok=True)
    with History(database, clock=lambda: T0 - 60) as seeding:
        parent = seeding.create_job(
            JobRequest('a cafe poster, soft window light, headline "OPEN LATE"', "1024_1536")
        )
        seeding.update(parent.id, state=JobState.NOT_SENT, error="not sent")
    services = frozen_services(T0)
    app = app_for(services, clock=lambda: T0, animations=False)

    async def iterate(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = app.main_screen
        await until(pilot, lambda: screen.query_one(Composer).price() is not None)
        editor = screen.query_one(PromptEditor)
        editor.cursor_blink = False
        screen.run_command("iterate", services.history.get(parent.id))
        editor.load_text(
            "a cafe poster, neon rim light, watercolor, oil painting, pixel art, 3d render, "
            'anime, headline "CLOSED" and the text OPEN SOON'
        )
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=iterate)


async def test_moving_the_highlight_swaps_in_a_seen_preview_in_the_same_call(
    services: Services,
) -> None:
    """Back on a job whose preview was drawn before: the details and the image change in the
    very call that moves the highlight (so the frame that moves it draws them)."""
    app = make_app(services)
    async with app.run_test(size=(120, 36)) as pilot:
        first = await finished_job(pilot, services, "a red kite")
        second = await finished_job(pilot, services, "a blue kite")
        preview = app.main_screen.query_one("#preview", ImagePreview)
        for job_id in (first, second):
            await focus_job(pilot, job_id)
            await until(pilot, lambda: preview.path is not None)
            await settle(pilot)
        assert preview.path == Path(services.history.get(second).files[0])
        job_list = app.main_screen.query_one(JobList)
        pool = app.main_screen.query_one(JobPool)
        job_list.index = job_list.index + 1 if job_list.index is not None else 0  # down: first
        assert pool.selected_job_id == first
        assert app.main_screen.query_one(JobDetails).job_id == first
        assert preview.path == Path(services.history.get(first).files[0])
        assert preview.has_class("-has-image")


async def test_a_saved_image_has_its_thumbnail_made_from_the_pixels_the_save_decoded(
    services: Services,
) -> None:
    app = make_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        job_id = await finished_job(pilot, services, "a paper boat on a pond")
        path = Path(services.history.get(job_id).files[0])
        cache = app.kit.cache
        thumbnail = cache.directory / f"{cache.key_for(path, cache.thumb_side)}.png"
        assert thumbnail.is_file()  # nothing on the main screen asks for thumbnails itself
        assert cache.thumbnail_for(path) == thumbnail
        with Image.open(thumbnail) as small:
            assert max(small.size) == cache.thumb_side
