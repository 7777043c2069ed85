"""Signing in from inside the app: the device code, the URL to open, and the wait.

The app runs the flow (:func:`tui.api.signin.sign_in`) in a worker and tells this screen what
happened with its messages; the screen only shows it. ``c`` copies the URL over OSC 52 (works
over SSH), ``o`` opens it when there is a graphical browser, Escape gives up (the app stops the
worker). Everything shown came from a server: it is sanitised and shown as plain text.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ...api.signin import DeviceCode
from ...services.browser import open_in_browser
from ...trust.sanitize import clean_text

__all__ = ["SignInScreen"]


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

    class Finished(Message):
        """The flow ended: ``signed_in``, with a plain sentence for the user."""

        def __init__(self, signed_in: bool, text: str) -> None:
            super().__init__()
            self.signed_in = signed_in
            self.text = text

    def __init__(self, web_base: str) -> None:
        super().__init__()
        self.web_base = web_base
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
        yield Footer()

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

    def on_sign_in_screen_finished(self, message: Finished) -> None:
        self.finished = message.signed_in
        self.set_class(message.signed_in, "-done")
        self.set_class(not message.signed_in, "-failed")
        self._status(message.text)
        if message.signed_in:
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
