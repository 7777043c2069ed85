"""A cursor that stops blinking when nobody is typing, so an idle app draws nothing.

A blinking cursor repaints its widget twice a second for as long as the app is open; left alone
for an hour, that is 7,200 frames of nothing. Like GTK's ``gtk-cursor-blink-timeout`` (10 s), the
focused cursor blinks while the user is at the keyboard and is shown solid once they have been
away for :data:`REST_SECONDS`; the next key, click or paste brings the blink back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer
    from textual.widget import Widget

__all__ = ["REST_SECONDS", "CursorRest"]

REST_SECONDS = 10.0
_CHECKS_PER_REST = 4  # the cursor rests between REST_SECONDS and 1.25 × that after the last input


class CursorRest:
    """Stops the focused cursor blinking after ``seconds`` without input (0 or less: never).

    ``clock`` measures the time since the last input; ``check_every`` is how often, in real
    time, it is looked at (a quarter of ``seconds`` unless given).
    """

    def __init__(
        self,
        app: App[Any],
        seconds: float = REST_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        check_every: float | None = None,
    ) -> None:
        self._app = app
        self._seconds = seconds
        self._clock = clock
        self._check_every = check_every or seconds / _CHECKS_PER_REST
        self._last_input = clock()
        self._timer: Timer | None = None
        self._resting: list[Widget] = []  # widgets whose blink this stopped, to give back
        self._asleep = False  # the check is paused until the next input

    @property
    def resting(self) -> bool:
        """The cursor has been stopped (or there was none to stop) until the next input."""
        return self._asleep

    def start(self) -> None:
        """Begin watching (call once the app runs)."""
        if self._seconds > 0:
            self._timer = self._app.set_interval(self._check_every, self._check, name="cursor rest")

    def saw(self, event: events.Event) -> None:
        """Every event the app sees passes here; input wakes the cursor."""
        if isinstance(event, (events.InputEvent, events.Paste)):
            self._last_input = self._clock()
            if self._asleep:
                self._wake()

    def _check(self) -> None:
        if self._clock() - self._last_input < self._seconds:
            return
        focused = self._app.focused
        if focused is not None and getattr(focused, "cursor_blink", False) is True:
            focused.cursor_blink = False  # type: ignore[attr-defined]
            self._resting.append(focused)
        self._asleep = True
        if self._timer is not None:
            self._timer.pause()  # nothing to check until the next input

    def _wake(self) -> None:
        resting, self._resting = self._resting, []
        self._asleep = False
        for widget in resting:
            if widget.is_attached:
                widget.cursor_blink = True  # type: ignore[attr-defined]
        if self._timer is not None:
            self._timer.resume()
