"""What a command is, and what it may touch of the screen it runs on.

A :class:`Command` is one thing the user can ask for: its key and footer label (the screen's
bindings are made from them), its palette title and help, and what it does. Commands run on a
:class:`Workbench` — the main screen — through the few things it offers: the composer, the
selected job, screens to open, reads off the UI loop, a line in the status bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from textual.binding import Binding, BindingType

if TYPE_CHECKING:
    from pathlib import Path

    from textual.screen import Screen

    from ...iterate.loads import ComposerLoad
    from ...models import Job
    from ...services.account import Wallet
    from ...storage.history import History
    from ..bridge import JobFeed
    from ..imaging import ImageKit
    from ..widgets.composer import Composer
    from ..widgets.job_pool import JobPool
    from ..workers import JobWorkers

__all__ = ["AppAction", "Command", "JobCommand", "Workbench", "bindings_for"]

T = TypeVar("T")


class Workbench(Protocol):
    """What commands may use of the screen they run on (the main screen is the one)."""

    history: History
    jobs: JobWorkers
    feed: JobFeed
    kit: ImageKit
    wallet: Wallet
    compare_mark: int | None
    output_dir: Path
    clock: Callable[[], float]

    @property
    def composer(self) -> Composer: ...
    @property
    def pool(self) -> JobPool: ...
    @property
    def can_sign_in(self) -> bool: ...
    def selected_job(self) -> Job | None: ...
    def known_job(self, job_id: int) -> Job | None: ...
    def select_job(self, job_id: int) -> None: ...
    def show_created(self, *jobs: Job) -> None: ...
    def load_composer(self, load: ComposerLoad, *, parent: Job | None) -> None: ...
    def forget_missing(self) -> None: ...
    def keep_draft(self) -> None: ...
    def say(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...
    def open(self, screen: Screen[T], then: Callable[[T | None], None] | None = None) -> None: ...
    def read_then(self, read: Callable[[], T], then: Callable[[T], None]) -> None: ...
    def after_typing(self, then: Callable[[], None]) -> None: ...
    def copy(self, text: str) -> None: ...
    def cancel(self, job_id: int) -> None: ...
    def cancel_selected(self) -> None: ...
    def fullscreen(self) -> None: ...
    def focus_prompt(self) -> None: ...
    def focus_jobs(self) -> None: ...
    def edit_prompt_outside(self) -> None: ...
    def view_outside(self, job: Job) -> None: ...
    def forget(self, job: Job, *, delete_files: bool) -> None: ...


class Command:
    """One command. Subclasses set the class attributes and :meth:`run`."""

    name: str
    """Its id: the binding action is ``command('<name>')``."""
    title: str
    """The palette entry."""
    help: str
    """The palette's line under the title."""
    key: ClassVar[str | None] = None
    footer: ClassVar[str] = ""
    """The footer label of ``key``."""
    show: ClassVar[bool] = True
    """Whether ``key`` shows in the footer."""
    priority: ClassVar[bool] = False
    """``key`` works even inside the editor."""
    also_keys: ClassVar[str | None] = None
    """More keys for the same command, never shown in the footer."""

    @property
    def action(self) -> str:
        """The Textual action a binding or the palette runs."""
        return f"command('{self.name}')"

    def available(self, bench: Workbench) -> bool:
        """Whether the palette offers it now."""
        return True

    def run(self, bench: Workbench) -> None:
        raise NotImplementedError


class JobCommand(Command):
    """A command on one job: the selected one, or the one it is given."""

    def run(self, bench: Workbench) -> None:
        job = bench.selected_job()
        if job is None:
            bench.say("select a job first (f3 moves to the job list)")
            return
        self.run_on(bench, job)

    def run_on(self, bench: Workbench, job: Job) -> None:
        raise NotImplementedError


class AppAction(Command):
    """A command the app itself carries out (help, sign-in, balance): it names the action."""

    app_action: ClassVar[str]

    @property
    def action(self) -> str:
        return f"app.{self.app_action}"

    def run(self, bench: Workbench) -> None:  # the app runs ``action``; nothing to do here
        return None


def bindings_for(commands: Iterable[Command]) -> list[BindingType]:
    """The key bindings of ``commands``, in their order."""
    bindings: list[BindingType] = []
    for command in commands:
        if command.key:
            bindings.append(
                Binding(command.key, command.action, command.footer, show=command.show,
                        priority=command.priority)
            )
        if command.also_keys:
            bindings.append(Binding(command.also_keys, command.action, command.footer, show=False))
    return bindings
