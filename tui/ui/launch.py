"""Open the TUI: a terminal check, settings, terminal detection (before Textual takes the
terminal), services."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, TextIO

from ..config import Settings, load_settings
from ..errors import GptImageError, TokenError

if TYPE_CHECKING:
    from .terminal.choice import GraphicsChoice

__all__ = ["EXIT_NO_TERMINAL", "launch_tui", "no_terminal_reason"]

EXIT_NO_TERMINAL = 64  # sysexits EX_USAGE: the full-screen app was asked for without a terminal


def no_terminal_reason(
    env: Mapping[str, str] = os.environ,
    streams: tuple[TextIO | None, TextIO | None, TextIO | None] | None = None,
) -> str | None:
    """Why the full-screen app can't run here (no TTY on stdin/stdout/stderr, TERM=dumb)."""
    from .terminal.probe import isatty

    stdin, stdout, stderr = streams or (sys.__stdin__, sys.__stdout__, sys.__stderr__)
    for name, stream in (("input", stdin), ("output", stdout), ("error output", stderr)):
        if not isatty(stream):
            return f"its {name} is not a terminal"
    if env.get("TERM", "") == "dumb":
        return "TERM is dumb"
    return None


def launch_tui(args: argparse.Namespace) -> int:
    """Run the app; without a token (or with ``--offline``) on the embedded offline backend."""
    reason = no_terminal_reason()
    if reason is not None:
        print(
            f"error: gpt-image-tui needs an interactive terminal and {reason}; in scripts and "
            "pipes use the headless commands (gpt-image-tui run PROMPT, status, result, "
            "history, resume; see gpt-image-tui --help).",
            file=sys.stderr,
        )
        return EXIT_NO_TERMINAL
    try:
        settings = load_settings(
            api_base=args.api_base,
            output_dir=args.output_dir,
            offline=args.offline,
            poll_interval=args.poll_interval,
            graphics=args.graphics,
            colors=getattr(args, "colors", None),
            name_template=args.name_template,
        )
    except TokenError as exc:
        # A token is configured but unusable: say how to fix it rather than going offline.
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except GptImageError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    if settings.token is None and not settings.offline:
        settings = dataclasses.replace(settings, offline=True)
    return _run_app(args, settings)


def _run_app(args: argparse.Namespace, settings: Settings) -> int:
    # The terminal is asked now, while it is still ours to query (one round trip, and a local
    # tmux about passthrough), from a thread: its waits overlap the loading of the app.
    asking = _ask_terminal(settings)

    from ..services.graph import open_services
    from .app import GptImageApp, Prefill
    from .terminal.driver import answer_filtering_driver, use_color_system

    graphics = asking.result()
    if graphics.colors is not None:
        use_color_system(graphics.colors)

    try:
        services = open_services(settings, offline_process=True)
    except GptImageError as exc:  # history locked, or damaged (and moved aside)
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    try:
        services.output_files.ensure()  # new jobs save here: a folder that can't be written
    except GptImageError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        services.history.close()
        if services.offline is not None:
            services.offline.stop()
        return exc.exit_code
    app = GptImageApp(
        services,
        prefill=Prefill(prompt=args.prompt, size=args.size, images=tuple(args.image or ())),
        graphics=graphics,
        quick_start=True,
        idle_gc=True,
    )
    driver = answer_filtering_driver()
    if driver is not None and not os.environ.get("TEXTUAL_DRIVER"):
        app.driver_class = driver  # late answers to the probe are dropped, never typed
    try:
        app.run()
    finally:
        # The app closed its HTTP clients on unmount; the rest is ours to close.
        services.history.close()
        if services.offline is not None:
            services.offline.stop()
    return app.return_code or 0


def _ask_terminal(settings: Settings) -> Future[GraphicsChoice]:
    """:func:`~tui.ui.imaging.detect_graphics` in a thread of its own; its answer (or error)."""
    answer: Future[GraphicsChoice] = Future()

    def ask() -> None:
        try:
            from .imaging import detect_graphics

            answer.set_result(detect_graphics(settings.graphics, colors=settings.colors))
        except BaseException as exc:  # handed to the caller, raised where it waits
            answer.set_exception(exc)

    threading.Thread(target=ask, name="ask the terminal", daemon=True).start()
    return answer
