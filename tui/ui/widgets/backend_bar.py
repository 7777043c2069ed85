"""The top bar: which backend jobs go to, what this session has spent, and the way to sign in.

The OFFLINE badge is a button: clicking it posts :class:`BackendBar.SignInRequested` (the app
opens the sign-in screen; the command palette has "Sign in" too). The parent tells the bar what
to show with :meth:`BackendBar.show_backend` and :meth:`BackendBar.show_spend`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.message import Message
from textual.widgets import Label

from ...trust.sanitize import clean_text

__all__ = ["BackendBar", "OfflineBadge"]

SIGNIN_HINT = "sign in: click OFFLINE or ctrl+p"


class OfflineBadge(Label):
    """`` OFFLINE `` — click it to sign in."""

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(BackendBar.SignInRequested())


class BackendBar(Horizontal):
    """One line: app name, OFFLINE badge, backend, session spend, sign-in hint."""

    class SignInRequested(Message):
        """The user asked to sign in (clicked the OFFLINE badge)."""

    def __init__(self, *, offline: bool, signed_in: bool, label: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state = (offline, signed_in, label)

    def compose(self) -> ComposeResult:
        yield Label("gpt-image-tui", id="app-name")
        yield OfflineBadge(" OFFLINE ", id="offline-badge")
        yield Label("", id="backend", markup=False)
        yield Label("", id="session-spend", markup=False)
        yield Label(SIGNIN_HINT, id="signin-hint")

    def on_mount(self) -> None:
        self.show_backend(*self._state)

    def show_backend(self, offline: bool, signed_in: bool, label: str) -> None:
        """Say which backend new jobs go to (never the token: only how it was found)."""
        self._state = (offline, signed_in, label)
        text = clean_text(label, limit=120)
        if offline:
            text = text.removeprefix("OFFLINE").lstrip(" ·")
        self.query_one("#backend", Label).update(text)
        self.set_class(offline, "-offline")
        self.set_class(signed_in and not offline, "-signed-in")

    def show_spend(self, text: str) -> None:
        """This session's spend (empty hides it)."""
        label = self.query_one("#session-spend", Label)
        label.update(clean_text(text, limit=60))
        label.set_class(bool(text), "-shown")
