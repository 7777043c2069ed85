"""Use the space, show what matters: the main screen at 80×24, 120×40 and 200×60, the focused
pane at a glance, legible in 16 colours and with NO_COLOR; snapshots in truecolor and as a
16-colour terminal (TERM=xterm) draws them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from conftest import app_for, halfcell_kit, settle
from rich.color import ColorSystem
from rich.console import Console
from rich.text import Text
from test_snapshots import T0, _steady, build_app, seed
from textual.pilot import Pilot
from textual.widgets import Footer, Label
from textual.widgets._footer import FooterKey

import tui
from tui.models import JobState
from tui.services.graph import Services
from tui.storage.history import History
from tui.ui.app import GptImageApp
from tui.ui.widgets.composer import PromptEditor
from tui.ui.widgets.job_details import JobDetails
from tui.ui.widgets.job_pool import JobList, JobPool


class SixteenColourApp(GptImageApp):
    """The app as a 16-colour terminal (TERM=xterm) shows it: its screenshot is drawn through a
    16-colour console and read back, so every colour is one of the 16 the terminal has."""

    CSS_PATH = str(Path(tui.__file__).parent / "ui" / "app.tcss")  # relative to this module else

    def export_screenshot(self, *, title: str | None = None, simplify: bool = False) -> str:
        width, height = self.size
        render = self.screen._compositor.render_update(
            full=True, screen_stack=self._background_screens, simplify=simplify
        )
        sixteen = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                          color_system="standard", legacy_windows=False, safe_box=False)
        with sixteen.capture() as captured:
            sixteen.print(render)
        recording = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                            color_system="truecolor", record=True, legacy_windows=False,
                            safe_box=False)
        recording.print(Text.from_ansi(captured.get()), end="")
        return recording.export_svg(title=title or self.title)


def sixteen_colour_app(open_frozen: Any, home: Path) -> SixteenColourApp:
    build_app(open_frozen, home, jobs=True, draft="a lighthouse at dawn, oil painting")
    services: Services = open_frozen(T0)
    app = SixteenColourApp(services, kit=halfcell_kit(services.settings.locations.preview_cache),
                           clock=lambda: T0)
    app.animation_level = "none"
    return app


def cancelled_id(app: GptImageApp) -> int:
    return next(j.id for j in app.main_screen.history.list_jobs() if j.state is JobState.CANCELLED)


async def _on_the_cancelled_job(pilot: Pilot[Any]) -> None:
    await _steady(pilot)
    app: Any = pilot.app
    app.main_screen.query_one(JobPool).select(cancelled_id(app))
    await pilot.press("f3")
    await settle(pilot)


# ------------------------------------------------------------------ snapshots


def test_main_screen_at_120x40_the_editor_fills_its_column(
    snap_compare: Any, app_home: Path, frozen_services: Any
) -> None:
    app, _ = build_app(frozen_services, app_home, jobs=True, draft="a lighthouse at dawn")
    assert snap_compare(app, terminal_size=(120, 40), run_before=_steady)


def test_a_cancelled_job_says_why_it_has_no_image_at_120x40(
    snap_compare: Any, app_home: Path, frozen_services: Any
) -> None:
    app, _ = build_app(frozen_services, app_home, jobs=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_on_the_cancelled_job)


def test_job_list_focused_at_80x24(snap_compare: Any, app_home: Path, frozen_services: Any) -> None:
    app, _ = build_app(frozen_services, app_home, jobs=True, draft="a small terminal")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_on_the_cancelled_job)


def test_sixteen_colours_at_120x40(snap_compare: Any, app_home: Path, frozen_services: Any) -> None:
    app = sixteen_colour_app(frozen_services, app_home)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_steady)


def test_sixteen_colours_job_list_focused_at_80x24(
    snap_compare: Any, app_home: Path, frozen_services: Any
) -> None:
    app = sixteen_colour_app(frozen_services, app_home)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_on_the_cancelled_job)


# ------------------------------------------------------------------ behaviour


def _standard(color: Any) -> int | None:
    return None if color is None else color.downgrade(ColorSystem.STANDARD).number


@pytest.mark.parametrize("focused", [True, False])
async def test_the_prompt_border_is_visible_in_16_colours(
    services: Services, focused: bool
) -> None:
    app = GptImageApp(services, kit=halfcell_kit(services.settings.locations.preview_cache))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        if not focused:
            await pilot.press("f3")
            await pilot.pause()
        editor = app.main_screen.query_one(PromptEditor)
        region = editor.region
        for x, y in ((region.x, region.y + 2), (region.x + 5, region.y)):  # side and top
            style = app.screen.get_style_at(x, y)
            line = _standard(style.color)
            under = _standard(style.bgcolor)
            assert line is not None and line != under, (x, y, style)  # not black on black


@pytest.mark.parametrize("no_color", [False, True])
async def test_the_focused_pane_shows_at_a_glance_in_any_colours(
    services: Services, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = GptImageApp(services, kit=halfcell_kit(services.settings.locations.preview_cache))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen

        def reversed_title(selector: str) -> bool:
            label = screen.query_one(selector, Label)
            region = label.content_region  # the title's text, not its padding
            return bool(app.screen.get_style_at(region.x, region.y).reverse)

        assert isinstance(app.focused, PromptEditor)
        assert reversed_title("#prompt-title") and not reversed_title("#pool-title")
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.focused, JobList)
        assert reversed_title("#pool-title") and not reversed_title("#prompt-title")


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_space_goes_to_the_editor_and_the_list(
    app_home: Path, frozen_services: Any, size: tuple[int, int]
) -> None:
    database = app_home / "data" / "history.sqlite3"
    database.parent.mkdir(parents=True, exist_ok=True)
    with History(database, clock=lambda: T0 - 60) as history:
        seed(history)
    app, _ = build_app(frozen_services, app_home, jobs=False)
    async with app.run_test(size=size) as pilot:
        await _steady(pilot)
        screen = app.main_screen
        width, height = size
        editor = screen.query_one(PromptEditor)
        composer = screen.composer
        # Nothing blank under the composer: the editor takes what its lines leave.
        last = max(child.region.bottom for child in composer.children if child.display)
        assert composer.region.bottom - last <= 1, (composer.region, last)
        if width >= 100:
            assert editor.region.height >= height - 16
        # A selected job without an image gives the list the room, not a blank image pane.
        screen.query_one(JobPool).select(cancelled_id(app))
        await pilot.press("f3")
        await settle(pilot)
        details = screen.query_one(JobDetails)
        job_list = screen.query_one(JobList)
        assert "cancelled before it made one" in str(
            details.query_one("#details-text").render()
        )
        if width >= 100:
            assert job_list.region.height >= details.region.height


async def test_the_footer_is_rebuilt_only_when_the_keys_it_shows_change(
    services: Services,
) -> None:
    """Back on the main screen from another (help here; the sweep grid in use), the footer's
    keys are the ones it had: they stay as they are, not rebuilt — a rebuild lays out and draws
    the whole screen again, just when the next key is typed. Keys that do change still show."""
    app = app_for(services)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        footer = app.main_screen.query_one(Footer)
        keys = list(footer.query(FooterKey))
        in_composer = [key.description for key in keys]
        assert "To jobs" in in_composer
        await pilot.press("f1")
        await settle(pilot)
        assert app.screen is not app.main_screen
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main_screen
        assert list(footer.query(FooterKey)) == keys  # the very same widgets
        app.main_screen.query_one(JobList).focus()  # the job list: its letter keys show too
        await settle(pilot)
        on_the_list = [key.description for key in footer.query(FooterKey)]
        assert on_the_list != in_composer
        app.main_screen.query_one(PromptEditor).focus()
        await settle(pilot)
        assert [key.description for key in footer.query(FooterKey)] == in_composer
