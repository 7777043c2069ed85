"""Textual's side of the terminal decisions: the colour system, and input without late answers.

:func:`use_color_system` makes the next App draw with the chosen colour depth (Textual reads it
when an App is built). :func:`answer_filtering_driver` is Textual's Linux driver whose key parser
(:func:`answer_filtering_parser`) first passes input through a
:class:`~tui.ui.terminal.replies.ReplyFilter`, so an answer to the start-up probe that arrives
after the probe gave up is dropped instead of typed.
"""

from __future__ import annotations

import functools
import sys
import time
import types
from collections.abc import Iterable
from typing import Any

from .choice import ColorChoice
from .replies import ReplyFilter

__all__ = [
    "SIXEL_CURSOR_RIGHT_OFF",
    "SIXEL_CURSOR_RIGHT_ON",
    "answer_filtering_driver",
    "answer_filtering_parser",
    "typed_events",
    "use_color_system",
]

# xterm private mode 8452: after a Sixel image the cursor stays right of it instead of going to
# the line below (which scrolls the screen when the image touches the bottom row).
SIXEL_CURSOR_RIGHT_ON = "\x1b[?8452h"
SIXEL_CURSOR_RIGHT_OFF = "\x1b[?8452l"


def use_color_system(colors: ColorChoice) -> None:
    """Apps built from now on draw with ``colors.depth`` (Textual's ``TEXTUAL_COLOR_SYSTEM``)."""
    from textual import constants

    setattr(constants, "COLOR_SYSTEM", colors.color_system)  # noqa: B010 - a Final by type


@functools.cache
def answer_filtering_parser() -> type:
    """Textual's key parser behind a :class:`ReplyFilter` (a class, made once on first use)."""
    from textual._xterm_parser import XTermParser

    class AnswerFilteringParser(XTermParser):
        """Textual's key parser behind a :class:`ReplyFilter`."""

        def __init__(self, debug: bool = False) -> None:
            super().__init__(debug)
            self.answers = ReplyFilter()

        def feed(self, data: str) -> Iterable[Any]:
            if not data:  # end of input: release anything held, then say so
                held = self.answers.flush(float("inf"))
                return [*super().feed(held), *super().feed("")] if held else super().feed("")
            keys = self.answers.feed(data, time.monotonic())
            return super().feed(keys) if keys else ()

        def tick(self) -> Iterable[Any]:
            released = self.answers.flush(time.monotonic())
            if released:
                yield from super().feed(released)
            yield from super().tick()

    return AnswerFilteringParser


def typed_events(text: str) -> list[Any]:
    """Textual's input events for ``text``, keys typed before the app listened (see
    ``GraphicsChoice.typed``), parsed as the driver parses what is typed later."""
    if not text:
        return []
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    return [*parser.feed(text), *parser.feed("")]  # "" ends the input: a lone Esc is a key


def answer_filtering_driver() -> type | None:
    """Textual's Linux driver with :class:`AnswerFilteringParser`; None where there is none.

    The driver builds its parser inside ``run_input_thread``; that method is used as Textual
    wrote it, with only the name of the parser class bound to ours.
    """
    if sys.platform == "win32":
        return None
    from textual.drivers import linux_driver

    original = linux_driver.LinuxDriver.run_input_thread
    if "XTermParser" not in original.__code__.co_names:
        return None  # Textual changed how the driver reads keys: keep its own driver
    parser_globals = dict(original.__globals__, XTermParser=answer_filtering_parser())
    run_input_thread = types.FunctionType(
        original.__code__,
        parser_globals,
        original.__name__,
        original.__defaults__,
        original.__closure__,
    )

    def stop_application_mode(self: Any) -> None:
        self.write(SIXEL_CURSOR_RIGHT_OFF)
        linux_driver.LinuxDriver.stop_application_mode(self)

    return type(
        "AnswerFilteringDriver",
        (linux_driver.LinuxDriver,),
        {
            "__doc__": "Textual's Linux driver; late answers to the start-up probe are dropped.",
            "run_input_thread": run_input_thread,
            "stop_application_mode": stop_application_mode,
        },
    )
