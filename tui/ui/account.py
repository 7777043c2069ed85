"""The app's account actions, as a mixin of :class:`~tui.ui.app.GptImageApp`: sign in, balance.

Signing in runs the device-code flow in one worker (wrapping :func:`tui.api.signin.sign_in`),
shows it on :class:`~tui.ui.screens.signin.SignInScreen`, and on success writes ``token.json`` as
``runcomfy login`` does and switches the running app to the Model API without a restart:

* new services are built on the configured API with the new token, sharing the history and the
  output folder (:func:`tui.services.graph.switch_to_api`); every new job goes there;
* jobs already in flight on the offline backend are *not* moved (the API has never heard of
  their request ids): their workers keep following them on the offline server, which lives
  until the app quits; a cancel goes to the engine that follows the job. If the app quits
  first, they are resumed by the next offline session (``--offline`` or ``resume --offline``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from textual.worker import Worker, WorkerState

from ..api.signin import SignInClient, SignInResult, SignInStatus, sign_in
from ..services.graph import signin_client, switch_to_api
from ..storage.token_file import token_file_path, write_token_file
from ..trust.sanitize import clean_text
from ..trust.token import Token
from .screens.signin import SignInScreen

if TYPE_CHECKING:
    from textual.app import App

    from .screens.main import MainScreen

    class _Host(App[None]):
        services: Any

        @property
        def main_screen(self) -> MainScreen: ...
else:
    _Host = object

__all__ = ["AccountActions"]

SIGN_IN_WORKER = "sign-in"


class AccountActions(_Host):
    """Mixed into the app (``self`` is the app)."""

    _retired_services: list[Any]
    _signin_client: SignInClient | None = None

    @property
    def can_sign_in(self) -> bool:
        return bool(self.services.settings.offline or not self.services.signed_in)

    def action_sign_in(self) -> None:
        """Open the sign-in screen and start the device-code flow."""
        if not self.can_sign_in:
            self.notify(f"already signed in ({clean_text(self.services.backend_label)})",
                        markup=False)
            return
        settings = self.services.settings
        screen = SignInScreen(settings.web_base)
        client = self._signin_client = signin_client(settings)

        def code_arrived(code: Any) -> None:
            screen.post_message(SignInScreen.CodeArrived(code))

        def waiting(seconds_left: float, note: str | None) -> None:
            screen.post_message(SignInScreen.Waiting(seconds_left, note))

        def closed(_: bool | None) -> None:
            self.workers.cancel_group(self, SIGN_IN_WORKER)

        self.push_screen(screen, closed)
        self.run_worker(
            sign_in(client, on_code=code_arrived, on_wait=waiting),
            name=SIGN_IN_WORKER, group=SIGN_IN_WORKER, exclusive=True, exit_on_error=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        finished = {WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED}
        if event.worker.name != SIGN_IN_WORKER or event.state not in finished:
            return
        client, self._signin_client = self._signin_client, None
        if client is not None:
            self.run_worker(client.aclose(), group="close", exit_on_error=False)
        if event.state == WorkerState.SUCCESS:
            result = event.worker.result
            assert isinstance(result, SignInResult)
            self._finish_sign_in(result)
        elif event.state == WorkerState.ERROR:
            reason = clean_text(event.worker.error or "unexpected error", limit=200)
            self._tell_signin(False, f"Sign-in failed: {reason}")

    def _finish_sign_in(self, result: SignInResult) -> None:
        if result.status is SignInStatus.DENIED:
            self._tell_signin(False, "Sign-in was denied. Nothing was saved; still offline.")
            return
        if result.status is not SignInStatus.AUTHORIZED or result.token is None:
            self._tell_signin(False, "The code expired before it was approved. Try again.")
            return
        path = token_file_path()
        saved = f"token saved to {path}"
        try:
            write_token_file(path, result.token)
        except OSError as exc:
            saved = f"the token could not be saved to {path} ({exc.strerror}): this session only"
        self.switch_to_api(Token(SecretStr(result.token.get_secret_value()), str(path)))
        self._tell_signin(True, f"Signed in; {saved}. New jobs go to the RunComfy API.")

    def _tell_signin(self, signed_in: bool, text: str) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, SignInScreen):
                screen.post_message(SignInScreen.Finished(signed_in, text))
                return
        self.notify(text, severity="information" if signed_in else "warning", markup=False)

    def switch_to_api(self, token: Token) -> None:
        """From now on new jobs go to the Model API; jobs in flight stay where they are."""
        current = self.services
        self._retired_services.append(current)
        self.services = switch_to_api(current, token)
        self.main_screen.use_services(self.services)
        self.notify(
            "signed in: new jobs go to the RunComfy API (billed); jobs already running on the "
            "offline backend finish there",
            markup=False,
        )

    def action_show_balance(self) -> None:
        self.main_screen.refresh_balance(announce=True)
