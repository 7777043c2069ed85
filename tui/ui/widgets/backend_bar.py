"""The top bar: which backend jobs go to, what this session has spent, and the way to sign in.

The OFFLINE badge is a button: clicking it posts :class:`BackendBar.SignInRequested` (the app
opens the sign-in screen; the command palette has "Sign in" too). The parent tells the bar which
backend new jobs go to (:meth:`BackendBar.show_backend`) and hands it every finished job
(:meth:`BackendBar.count_spend`); the bar adds up what this session's jobs were billed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.message import Message
from textual.widgets import Label

from ...api.catalog import format_usd
from ...models import Job
from ...storage.spend import billed_cost, is_billed
from ...trust.sanitize import clean_text

__all__ = ["BackendBar", "BackendInfo", "OfflineBadge"]


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """Which backend new jobs go to, as the bar shows it (never the token: how it was found)."""

    offline: bool
    signed_in: bool
    label: str

SIGNIN_HINT = "sign in: click OFFLINE or ctrl+p"


class OfflineBadge(Label):
    """`` OFFLINE `` — click it to sign in."""

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(BackendBar.SignInRequested())


def _backend_text(backend: BackendInfo) -> str:
    text = clean_text(backend.label, limit=120)
    return text.removeprefix("OFFLINE").lstrip(" ·") if backend.offline else text


class BackendBar(Horizontal):
    """One line: app name, OFFLINE badge, backend, session spend, sign-in hint."""

    class SignInRequested(Message):
        """The user asked to sign in (clicked the OFFLINE badge)."""

    def __init__(self, backend: BackendInfo, *, session_start: float, id: str | None = None) -> None:
        super().__init__(id=id)
        self.backend = backend
        self.session_start = session_start
        self._costs: dict[int, Decimal | None] = {}  # billed jobs of this session
        self._set_classes(backend, update=False)  # styled as it is from the first frame

    def compose(self) -> ComposeResult:
        spend = self.spend_text
        yield Label("gpt-image-tui", id="app-name")
        yield OfflineBadge(" OFFLINE ", id="offline-badge")
        yield Label(_backend_text(self.backend), id="backend", markup=False)
        yield Label(clean_text(spend, limit=60), id="session-spend", markup=False,
                    classes="-shown" if spend else None)
        yield Label(SIGNIN_HINT, id="signin-hint")

    def show_backend(self, backend: BackendInfo) -> None:
        """Say which backend new jobs go to (never the token: only how it was found)."""
        self.backend = backend
        self.query_one("#backend", Label).update(_backend_text(backend))
        self._set_classes(backend)
        self._show_spend()

    def _set_classes(self, backend: BackendInfo, *, update: bool = True) -> None:
        self.set_class(backend.offline, "-offline", update=update)
        self.set_class(backend.signed_in and not backend.offline, "-signed-in", update=update)

    def count_spend(self, job: Job) -> None:
        """A job of this session that the server completed adds its price to the bar."""
        if job.id in self._costs or job.created_at < self.session_start:
            return
        if is_billed(job):
            self._costs[job.id] = billed_cost(job)
            self._show_spend()

    @property
    def spend_text(self) -> str:
        """``session $0.08 +1 unpriced``; empty while offline with nothing billed."""
        if self.backend.offline and not self._costs:
            return ""
        total = sum((c for c in self._costs.values() if c is not None), Decimal(0))
        unpriced = sum(1 for c in self._costs.values() if c is None)
        extra = f" +{unpriced} unpriced" if unpriced else ""
        return f"session {format_usd(total)}{extra}"

    def _show_spend(self) -> None:
        text = self.spend_text
        label = self.query_one("#session-spend", Label)
        label.update(clean_text(text, limit=60))
        label.set_class(bool(text), "-shown")
