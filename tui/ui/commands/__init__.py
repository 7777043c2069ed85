"""Every command the main screen offers, as objects: key, footer label, palette entry, action.

:data:`MAIN_COMMANDS` is the one list the main screen's key bindings, its footer and the
command palette are made from, in this order. A command runs on a
:class:`~tui.ui.commands.base.Workbench` (the main screen) through the few things it offers;
the app carries out the few that are its own (help, sign-in, balance).
"""

from __future__ import annotations

from ...models import SIZES
from .app_actions import Help, ShowBalance, SignIn
from .base import AppAction, Command, JobCommand, Workbench, bindings_for
from .composer import (
    AddReference,
    ChooseSize,
    ClearReferences,
    Detach,
    EditInEditor,
    FocusPrompt,
    NewPrompt,
    OpenRecipe,
    Submit,
    restore_recipe,
)
from .jobs import (
    CancelJob,
    Compare,
    Copy,
    DeleteJob,
    EditResult,
    FocusJobs,
    FullScreen,
    HistoryBrowser,
    Iterate,
    Lineage,
    Rerun,
    ViewOutside,
    compare,
)
from .list import (
    FilterJobs,
    LineageOnly,
    OpenSweepGrid,
    ShowAllJobs,
    StarJob,
    StarredOnly,
    SweepOnly,
)
from .sheets import ExportSheet

__all__ = [
    "MAIN_COMMANDS",
    "AppAction",
    "Command",
    "JobCommand",
    "Workbench",
    "bindings_for",
    "command_named",
    "compare",
    "restore_recipe",
]

MAIN_COMMANDS: tuple[Command, ...] = (
    Submit(),
    CancelJob(),
    FullScreen(),
    Iterate(),
    EditResult(),
    Compare(),
    Lineage(),
    HistoryBrowser(),
    StarJob(),
    FilterJobs(),
    StarredOnly(),
    LineageOnly(),
    SweepOnly(),
    OpenSweepGrid(),
    ShowAllJobs(),
    Copy(),
    ViewOutside(),
    Help(),
    FocusPrompt(),
    FocusJobs(),
    EditInEditor(),
    NewPrompt(),
    *(ChooseSize(size) for size in (*SIZES, "auto")),
    AddReference(),
    ClearReferences(),
    OpenRecipe(),
    Detach(),
    Rerun(),
    DeleteJob(),
    ExportSheet(),
    SignIn(),
    ShowBalance(),
)
"""In footer order; the palette lists them all, the footer those with a shown key."""

_EXTRA: tuple[Command, ...] = ()  # commands reached only from other screens


def command_named(name: str) -> Command:
    """The command with this name (KeyError when there is none)."""
    for command in (*MAIN_COMMANDS, *_EXTRA):
        if command.name == name:
            return command
    raise KeyError(name)
