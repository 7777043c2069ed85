"""Signing in from inside the app: the device code, the URL to open, and the wait.

The screen runs the device-code flow it is handed (:func:`tui.services.account.sign_in_at`) in
its own worker, so closing it stops the flow. Once approved it posts
:class:`SignInScreen.Authorized` up; the app keeps the token, switches to the API and tells the
screen how it went (:meth:`SignInScreen.finish`). ``c`` copies the URL over OSC 52 (works over
SSH), ``o`` opens it when there is a graphical browser, Escape gives up. Everything shown came
from a server: it is sanitised and shown as plain text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from pydantic import SecretStr
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ...api.signin import DeviceCode, SignInResult, SignInStatus
from ...services.browser import open_in_browser
from ...trust.sanitize import clean_text
from ..widgets.footer import SteadyFooter

__all__ = ["SignInFlow", "SignInScreen"]


class SignInFlow(Protocol):
    """The device-code flow, run to its end (see :func:`tui.services.account.sign_in_at`)."""

    def __call__(
        self,
        *,
        on_code: Callable[[DeviceCode], None],
        on_wait: Callable[[float, str | None], None],
    ) -> Awaitable[SignInResult]: ...


def _minutes(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class SignInScreen(ModalScreen[bool]):
    """Dismissed with True once signed in, False when given up or failed."""

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen > Vertical {
        width: 80%; max-width: 84; height: auto;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    SignInScreen #signin-title { text-style: bold; margin-bottom: 1; }
    SignInScreen #signin-code { text-style: bold reverse; width: auto; padding: 0 2; margin: 1 0; }
    SignInScreen #signin-url { color: $accent; margin-bottom: 1; }
    SignInScreen #signin-status { color: $text-muted; }
    SignInScreen.-failed #signin-status { color: $error; text-style: bold; }
    SignInScreen.-done #signin-status { color: $success; text-style: bold; }
    """

    BINDINGS = [
        Binding("c", "copy_url", "Copy URL"),
        Binding("o", "open_url", "Open in browser"),
        Binding("escape", "give_up", "Cancel"),
    ]

    class CodeArrived(Message):
        def __init__(self, code: DeviceCode) -> None:
            super().__init__()
            self.code = code

    class Waiting(Message):
        def __init__(self, seconds_left: float, note: str | None) -> None:
            super().__init__()
            self.seconds_left = seconds_left
            self.note = note

    class Authorized(Message):
        """The user approved: the app keeps ``token`` and switches to the API."""

        def __init__(self, screen: SignInScreen, token: SecretStr) -> None:
            super().__init__()
            self.screen = screen
            self.token = token

    def __init__(self, web_base: str, flow: SignInFlow) -> None:
        super().__init__()
        self.web_base = web_base
        self.flow = flow
        self.code: DeviceCode | None = None
        self.finished: bool | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Sign in to RunComfy"), id="signin-title")
            yield Static(
                Text(f"Asking {clean_text(self.web_base, limit=80)} for a sign-in code…"),
                id="signin-status",
            )
            yield Static(Text(""), id="signin-code")
            yield Static(Text(""), id="signin-url")
            yield Static(
                Text("Open the URL in any browser (on any machine), check the code, approve. "
                     "c copies the URL (OSC 52) · o opens it here · esc cancels."),
                id="signin-help",
            )
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.run_worker(
            self.flow(on_code=self._code_arrived, on_wait=self._waiting),
            name="sign-in", group="sign-in", exclusive=True, exit_on_error=False,
        )

    def _code_arrived(self, code: DeviceCode) -> None:
        self.post_message(self.CodeArrived(code))

    def _waiting(self, seconds_left: float, note: str | None) -> None:
        self.post_message(self.Waiting(seconds_left, note))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "sign-in":
            return
        if event.state == WorkerState.ERROR:
            reason = clean_text(event.worker.error or "unexpected error", limit=200)
            self.finish(False, f"Sign-in failed: {reason}")
        elif event.state == WorkerState.SUCCESS:
            result = event.worker.result
            assert isinstance(result, SignInResult)
            if result.status is SignInStatus.DENIED:
                self.finish(False, "Sign-in was denied. Nothing was saved; still offline.")
            elif result.status is not SignInStatus.AUTHORIZED or result.token is None:
                self.finish(False, "The code expired before it was approved. Try again.")
            else:
                self.post_message(self.Authorized(self, result.token))

    @property
    def status_text(self) -> str:
        return str(self.query_one("#signin-status", Static).render())

    def _status(self, text: str) -> None:
        self.query_one("#signin-status", Static).update(Text(clean_text(text, limit=300)))

    def on_sign_in_screen_code_arrived(self, message: CodeArrived) -> None:
        self.code = message.code
        self.query_one("#signin-code", Static).update(Text(message.code.user_code))
        self.query_one("#signin-url", Static).update(Text(clean_text(message.code.verify_url)))
        self._status(f"Waiting for approval (the code expires in {_minutes(message.code.expires_in)})")

    def on_sign_in_screen_waiting(self, message: Waiting) -> None:
        text = f"Waiting for approval (the code expires in {_minutes(message.seconds_left)})"
        self._status(f"{text} — {message.note}" if message.note else text)

    def finish(self, signed_in: bool, text: str) -> None:
        """The flow ended: say how, in one plain sentence; signed in, close a moment later."""
        self.finished = signed_in
        self.set_class(signed_in, "-done")
        self.set_class(not signed_in, "-failed")
        self._status(text)
        if signed_in:
            self.set_timer(1.5, self._close_signed_in)

    def _close_signed_in(self) -> None:
        if self.is_current:
            self.dismiss(True)

    def action_copy_url(self) -> None:
        if self.code is None:
            return
        self.app.copy_to_clipboard(self.code.verify_url)
        self.notify("sign-in URL copied (OSC 52 clipboard)", markup=False)

    def action_open_url(self) -> None:
        if self.code is None:
            return
        if not open_in_browser(self.code.verify_url):
            self.notify("no graphical browser here: copy the URL with c", markup=False)

    def action_give_up(self) -> None:
        self.dismiss(bool(self.finished))
