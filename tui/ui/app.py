"""The Textual app: takes the built services, shows the main screen, routes app-wide actions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from ..config import signin_help
from .account import AccountActions
from .imaging import GraphicsChoice, PreviewCache
from .messages import CompareRequested
from .screens.confirm import ConfirmQuit, quit_question
from .screens.help import HelpScreen, help_content
from .screens.image import ImageScreen
from .screens.main import MainScreen
from .screens.sweep import SweepGrid
from .widgets.backend_bar import BackendBar
from .widgets.preview import ImagePreview

__all__ = ["GptImageApp", "Prefill"]

DEFAULT_GRAPHICS = GraphicsChoice("halfcell", "not detected → half-cell blocks")

KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+j", "submit the prompt (works inside the editor); {a|b|c} sweeps send one job each"),
    ("escape", "cancel the selected job, or the most recent active one"),
    ("tab / shift+tab", "move between prompt, size, references, jobs"),
    ("enter / f", "full-screen view of the selected job's image"),
    ("i", "iterate: load the selected job into the composer as its child"),
    ("e", "edit this result: a new edit whose image 1 is the job's output"),
    ("c", "compare: mark a job, c on another compares; c twice: with its parent"),
    ("l", "lineage of the selected job (ancestors and descendants)"),
    ("h", "history browser: open, iterate, edit, re-run, delete"),
    ("y", "copy menu: image path, URL, request id, prompt, runcomfy command"),
    ("click OFFLINE", "sign in (device code), then new jobs go to the API; also in ctrl+p"),
    ("\\{ \\} \\|", "literal braces and bar in a prompt (not a sweep)"),
    ("image path + enter", "in the reference field: restore that PNG's recipe"),
    ("↑ / ↓", "select a job; move in the size and reference lists"),
    ("enter (URL field)", "add the reference URL"),
    ("delete / x", "remove the selected reference"),
    ("shift+↑ / shift+↓", "move the selected reference up / down (first = primary)"),
    ("f2 / f3", "focus the prompt / the job list"),
    ("ctrl+p", "command palette (every command is there)"),
    ("f1 / ?", "this help"),
    ("ctrl+q", "quit (jobs in flight are resumed next time)"),
)


@dataclass(frozen=True, slots=True)
class Prefill:
    """What the launch flags put in the composer."""

    prompt: str | None = None
    size: str | None = None
    images: tuple[str, ...] = ()


class GptImageApp(AccountActions, App[None]):
    """gpt-image-tui. ``services`` is :class:`tui.services.graph.Services` (or a test double)."""

    CSS_PATH = "app.tcss"
    TITLE = "gpt-image-tui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(
        self,
        services: Any,
        *,
        prefill: Prefill | None = None,
        graphics: GraphicsChoice | None = None,
        preview_cache: PreviewCache | None = None,
        image_class: type | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.services = services
        self.prefill = prefill or Prefill()
        self.graphics = graphics or DEFAULT_GRAPHICS
        self.preview_cache = preview_cache or PreviewCache(
            services.settings.locations.preview_cache
        )
        self.image_class = image_class
        self.clock = clock
        self._retired_services: list[Any] = []  # backends left by signing in; still finishing

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(
            self.services,
            prompt=self.prefill.prompt or "",
            size=self.prefill.size,
            images=tuple(self.prefill.images),
            preview_factory=self._make_preview,
            clock=self.clock,
        )

    def _make_preview(self) -> Widget:
        return ImagePreview(
            self.graphics, self.preview_cache, image_class=self.image_class, id="preview"
        )

    @property
    def main_screen(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    # ------------------------------------------------------------------ actions

    def show_image(self, path: Path) -> None:
        """Full-screen view of one image."""
        self.push_screen(
            ImageScreen(path, self.graphics, self.preview_cache, image_class=self.image_class)
        )

    def on_sweep_grid_cancel_job(self, message: SweepGrid.CancelJob) -> None:
        self.main_screen.cancel(message.job_id)

    def on_sweep_grid_selected(self, message: SweepGrid.Selected) -> None:
        self.main_screen.select_job(message.job_id)
        self.main_screen.action_fullscreen()

    def on_compare_requested(self, message: CompareRequested) -> None:
        self.main_screen.mark_or_compare(message.job_id)

    def on_backend_bar_sign_in_requested(self, message: BackendBar.SignInRequested) -> None:
        self.action_sign_in()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        signin = (
            None
            if not self.can_sign_in
            else "  Sign in from here: click OFFLINE, or ctrl+p → Sign in.\n" + signin_help()
        )
        self.push_screen(
            HelpScreen(
                help_content(
                    KEYS,
                    backend=self.services.backend_label,
                    graphics=self.graphics.help_text,
                    signin=signin,
                )
            )
        )

    async def on_unmount(self) -> None:
        """Close the HTTP clients on this app's own loop, which they belong to. The database
        and the offline server stay with whoever built the services (launch, or a test)."""
        for services in (*self._retired_services, self.services):
            await services.close_clients()

    async def action_quit(self) -> None:
        """Quit; with jobs in flight, say they will be resumed and ask first."""
        if isinstance(self.screen, ConfirmQuit):
            self.screen.dismiss(True)
            return
        sent, unsent = self.main_screen.in_flight()
        if not sent and not unsent:
            self.exit()
            return

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.exit()

        question = quit_question(sent + unsent)
        if unsent:
            question += f"\n({unsent} not sent yet will not be sent; nothing billed for those)"
        self.push_screen(ConfirmQuit(sent + unsent, question=question), answered)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, MainScreen):
            return
        yield SystemCommand("Submit prompt", "Send the prompt (ctrl+j)", screen.action_submit)
        yield SystemCommand(
            "Cancel job", "Cancel the selected or most recent active job (escape)",
            screen.action_cancel_job,
        )
        yield SystemCommand(
            "Full-screen image", "Show the selected job's image (f / enter)",
            screen.action_fullscreen,
        )
        for title, help_text, action in (
            ("Iterate on job", "Load the selected job into the composer as its child (i)",
             screen.action_iterate),
            ("Edit this result", "Start an edit whose image 1 is the job's output (e)",
             screen.action_edit_result),
            ("Compare jobs", "Mark the selected job / compare it with the marked one (c)",
             screen.action_compare),
            ("Lineage", "Ancestors and descendants of the selected job (l)", screen.action_lineage),
            ("History browser", "Every past job: open, iterate, re-run, delete (h)",
             screen.action_history),
            ("Copy…", "Image path, output URL, request id, prompt, runcomfy command (y)",
             screen.action_copy_menu),
            ("Open image recipe…", "Restore prompt, size and references from a saved PNG",
             screen.action_open_recipe),
            ("Detach from parent", "The next job starts a new lineage",
             screen.action_detach_parent),
        ):
            yield SystemCommand(title, help_text, action)
        if self.can_sign_in:
            yield SystemCommand(
                "Sign in to RunComfy", "Device-code sign-in; then new jobs go to the API",
                self.action_sign_in,
            )
        yield SystemCommand(
            "Show balance", "The RunComfy wallet balance (one wallet for every product)",
            self.action_show_balance,
        )
        yield SystemCommand("Focus prompt", "Move to the prompt editor (f2)", screen.action_focus_prompt)
        yield SystemCommand("Focus jobs", "Move to the job list (f3)", screen.action_focus_jobs)
        yield SystemCommand("Help", "Keys, backend and graphics mode (f1 / ?)", self.action_help)
