"""What such a tool is expected to have: $EDITOR round trip, the system viewer, ←/→ in full
screen, contact sheets, every action in the palette. Real processes (stub scripts), real files,
the real offline backend."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import app_for, run_from_palette, settle, until
from PIL import Image
from textual.command import CommandPalette
from textual.pilot import Pilot

from tui.iterate.contact_sheet import read_sheet_cells
from tui.models import JobRequest, JobState
from tui.offline.render import render_image
from tui.services.graph import Services
from tui.ui.app import GptImageApp
from tui.ui.commands import MAIN_COMMANDS
from tui.ui.screens.compare import CompareScreen
from tui.ui.screens.image import ImageScreen
from tui.ui.widgets.composer import Composer, SizePicker
from tui.ui.widgets.job_pool import JobPool
from tui.ui.widgets.references import ReferenceList


def status(app: GptImageApp) -> str:
    return str(app.main_screen.query_one("#status").render())


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def finished(services: Services, tmp_path: Path, prompt: str, **fields: Any) -> int:
    """A completed job whose image is a real PNG on disk (nothing sent)."""
    job = services.history.create_job(JobRequest(prompt, "1024_1024"), **fields)
    image = tmp_path / "out" / f"job{job.id}.png"
    image.parent.mkdir(parents=True, exist_ok=True)
    image.write_bytes(render_image(prompt, "1024_1024", reference_count=0, request_id="r"))
    for state in (JobState.SUBMITTING, JobState.QUEUED, JobState.RUNNING, JobState.DOWNLOADING):
        services.history.update(job.id, state=state)
    services.history.update(job.id, state=JobState.COMPLETED, files=(str(image),),
                            request_id=f"rid{job.id}")
    return job.id


async def on_job(pilot: Pilot[Any], job_id: int) -> None:
    app: Any = pilot.app
    await settle(pilot)
    app.main_screen.query_one(JobPool).select(job_id)
    await pilot.press("f3")
    await pilot.pause()


async def test_edit_the_prompt_in_editor_round_trip(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "seen.txt"
    # A stub editor: records what it was given, then rewrites the file as a person would.
    editor = script(tmp_path / "editor.sh",  # the file is its last argument
                    f'for last; do :; done\ncp "$last" "{seen}"\n'
                    'printf "a fox, rewritten in vim\\n" > "$last"\n')
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{editor} --wait")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        composer = app.main_screen.query_one(Composer)
        await pilot.press(*"a fox")
        await pilot.press("f4")  # from inside the editor
        await until(pilot, lambda: composer.prompt == "a fox, rewritten in vim")
        assert seen.read_text() == "a fox"  # the editor got the prompt …
        assert "ctrl+z undoes it" in status(app)
        assert not list(Path(str(seen.parent)).glob("gpt-image-prompt-*"))  # … the temp is gone
        await pilot.press("ctrl+z")
        await until(pilot, lambda: composer.prompt == "a fox")


async def test_editor_failures_keep_the_prompt_and_say_why(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        composer = app.main_screen.query_one(Composer)
        await pilot.press(*"keep me")
        await run_from_palette(pilot, "Edit prompt in $EDITOR")
        await until(pilot, lambda: "set $EDITOR" in status(app))
        monkeypatch.setenv("EDITOR", str(script(tmp_path / "bad.sh", "exit 3\n")))
        await pilot.press("f4")
        await until(pilot, lambda: "exited with 3" in status(app))
        assert composer.prompt == "keep me"


async def test_the_image_opens_in_the_viewer_named_by_the_environment(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = finished(services, tmp_path, "a quiet harbour")
    opened = tmp_path / "opened.txt"
    viewer = script(tmp_path / "viewer.sh", f'echo "$@" > "{opened}"\n')
    monkeypatch.setenv("GPT_IMAGE_TUI_VIEWER", f"{viewer} --fullscreen")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_job(pilot, job_id)
        await pilot.press("v")
        await until(pilot, lambda: opened.exists())
        assert opened.read_text().split() == ["--fullscreen", str(tmp_path / "out" / f"job{job_id}.png")]
        await until(pilot, lambda: "opened job" in status(app))


async def test_no_viewer_says_how_to_get_one(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = finished(services, tmp_path, "a quiet harbour")
    monkeypatch.delenv("GPT_IMAGE_TUI_VIEWER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no xdg-open, no open
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_job(pilot, job_id)
        await pilot.press("v")
        await until(pilot, lambda: "GPT_IMAGE_TUI_VIEWER" in status(app))


async def test_full_screen_steps_through_the_list_with_arrows(
    services: Services, tmp_path: Path
) -> None:
    first = finished(services, tmp_path, "one")
    second = finished(services, tmp_path, "two")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_job(pilot, second)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ImageScreen))
        screen = app.screen
        assert isinstance(screen, ImageScreen)
        assert screen.path.name == f"job{second}.png" and "1/2" in screen.caption
        await pilot.press("right")
        assert screen.path.name == f"job{first}.png" and "2/2" in screen.caption
        await pilot.press("right")  # the end: stays
        assert screen.path.name == f"job{first}.png"
        await pilot.press("left")
        assert screen.path.name == f"job{second}.png"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main_screen)


async def test_a_sweep_exports_as_one_decodable_contact_sheet(
    services: Services, tmp_path: Path
) -> None:
    ids = [
        finished(services, tmp_path, f"a lighthouse {when}", sweep_id="sw1", sweep_label=when)
        for when in ("at dawn", "at dusk", "at night")
    ]
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_job(pilot, ids[1])
        await run_from_palette(pilot, "Export contact sheet")
        await until(pilot, lambda: "contact sheet saved:" in status(app))
        sheets = sorted((tmp_path / "out").glob("sweep-sw1_*.png"))
        assert len(sheets) == 1 and sheets[0].name in status(app)
        with Image.open(sheets[0]) as sheet:
            sheet.load()
            assert sheet.width > 2 * 384 and sheet.height > 2 * 384  # three cells, 2×2
        cells = read_sheet_cells(sheets[0])
        assert [c["caption"] for c in cells] == ["at dawn", "at dusk", "at night"]
        assert [c["recipe"]["job"] for c in cells] == ids


async def test_a_comparison_exports_from_the_compare_palette(
    services: Services, tmp_path: Path
) -> None:
    parent = finished(services, tmp_path, "a cafe, soft light")
    child = finished(services, tmp_path, "a cafe, neon light", parent_id=parent)
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_job(pilot, child)
        await pilot.press("c", "c")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await run_from_palette(pilot, "Flip")
        await until(pilot, lambda: getattr(app.screen, "flipping", False))
        await run_from_palette(pilot, "Export contact sheet")
        await until(pilot, lambda: "contact sheet saved:" in status(app))
        sheet = next((tmp_path / "out").glob(f"compare-{parent}-{child}_*.png"))
        captions = [c["caption"] for c in read_sheet_cells(sheet)]
        assert captions[0].startswith("A · ") and "neon" in captions[1]


def test_every_main_command_is_in_the_palette_with_a_title() -> None:
    titles = [command.title for command in MAIN_COMMANDS]
    for wanted in ("Size: 1:1 square · 1024×1024", "Add reference image…",
                   "Remove all reference images", "Re-run job", "Delete job…", "New prompt",
                   "Edit prompt in $EDITOR", "Open image in system viewer",
                   "Export contact sheet", "Cancel selected job"):
        assert wanted in titles
    assert len(set(c.name for c in MAIN_COMMANDS)) == len(MAIN_COMMANDS)


async def test_size_references_rerun_and_delete_from_the_palette(
    services: Services, tmp_path: Path
) -> None:
    job_id = finished(services, tmp_path, "a paper boat")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        composer = app.main_screen.query_one(Composer)
        await settle(pilot)
        await run_from_palette(pilot, "Size: 3:2 landscape")
        await until(pilot, lambda: composer.query_one(SizePicker).value == "1536_1024")
        await run_from_palette(pilot, "Add reference image")
        await until(pilot, lambda: getattr(app.focused, "id", None) == "ref-input")
        await pilot.press(*"https://example.com/boat.png", "enter")
        await until(pilot, lambda: composer.query_one(ReferenceList).urls != [])
        await run_from_palette(pilot, "Remove all reference images")
        await until(pilot, lambda: composer.query_one(ReferenceList).urls == [])
        await on_job(pilot, job_id)
        await run_from_palette(pilot, "Re-run job")
        await until(pilot, lambda: composer.prompt == "a paper boat")
        assert composer.parent_id is None  # a re-run is a new lineage …
        assert services.history.count() == 1  # … and sends nothing by itself
        await on_job(pilot, job_id)
        await run_from_palette(pilot, "Delete job")
        await until(pilot, lambda: not isinstance(app.screen, (CommandPalette,))
                    and app.screen is not app.main_screen)
        await pilot.click("#delete")
        await until(pilot, lambda: services.history.count() == 0)
        await until(pilot, lambda: f"forgot job #{job_id}" in status(app))
        assert (tmp_path / "out" / f"job{job_id}.png").is_file()  # files only when ticked
