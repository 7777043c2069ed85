"""Entry point: every flag and command, then the app (:mod:`tui.ui`) or one headless command
(:mod:`tui.cli`).

``gpt-image-tui`` with no command opens the app (on the embedded offline backend when no token
is configured); ``gpt-image-tui run|status|result|cancel|history|resume|recipe|serve-offline|
batch|login|logout|balance|spend`` are headless and never fall back to offline silently. Only
what the chosen path needs is imported.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .models import SIZE_LABELS

__all__ = ["COMMANDS", "build_parser", "main", "parse_args"]

EXIT_USAGE = 64


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage exits 64 (sysexits EX_USAGE) like the official CLI."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_backend_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offline", action="store_true",
                        help="use the embedded offline backend (no token, nothing billed)")
    parser.add_argument("--api-base", metavar="URL",
                        help="Model API base URL (default: $RUNCOMFY_MODEL_API_BASE or RunComfy's)")
    parser.add_argument("--output-dir", metavar="DIR", help="where images are saved")
    parser.add_argument("--poll-interval", type=float, metavar="SECONDS",
                        help="seconds between status polls (default 2)")
    parser.add_argument("--name-template", metavar="TEMPLATE",
                        help="image file names, e.g. '{date}_{slug}_{rid8}' (README: Files)")


def _add_request_flags(parser: argparse.ArgumentParser) -> None:
    sizes = ", ".join(f"{k} ({v})" for k, v in SIZE_LABELS.items())
    parser.add_argument("--size", metavar="SIZE", help=f"one of: {sizes}")
    parser.add_argument("--image", action="append", metavar="URL",
                        help="reference image URL (https, repeatable, up to 10): makes it an edit")


OUTPUT_MODES = ("pretty", "json")


def _add_output_flag(parser: argparse.ArgumentParser, *, default: Any = argparse.SUPPRESS) -> None:
    parser.add_argument(
        "--output", choices=OUTPUT_MODES, default=default,
        help="as the official CLI: json = compact JSON on stdout (default pretty)",
    )


def _add_official_run_flags(run: argparse.ArgumentParser) -> None:
    """``run MODEL_ID --input JSON | --input-file PATH`` and the official CLI's run flags."""
    run.add_argument("--input", metavar="JSON",
                     help="the request body, as `runcomfy run MODEL_ID --input` (then the "
                          "positional argument is the model id)")
    run.add_argument("--input-file", metavar="PATH", help="the request body from a file (- = stdin)")
    run.add_argument("--poll-secs", type=float, metavar="N", help="same as --poll-interval")
    run.add_argument("--no-download", action="store_true",
                     help="wait for the result but don't save the images (print their URLs)")


def _add_account_and_batch_commands(commands: Any) -> None:
    """``batch``, ``login``, ``logout``, ``balance`` and ``spend``."""
    from .cli.arguments import parse_budget  # an argparse type (light)

    batch = commands.add_parser(
        "batch", help="send a JSONL file of prompts (idempotent, priced, resumable)"
    )
    batch.add_argument("file", metavar="FILE", help="JSONL, one {\"prompt\": …} per line (- = stdin)")
    batch.add_argument("--concurrency", type=int, default=4, metavar="N",
                       help="jobs in flight at once (default 4)")
    batch.add_argument("--budget", type=parse_budget, metavar="USD",
                       help="refuse before sending anything if the estimate is above this")
    batch.add_argument("--json", action="store_true", help="progress on stderr as JSON lines too")
    _add_backend_flags(batch)

    login = commands.add_parser("login", help="sign in with a browser (device code), as runcomfy login")
    login.add_argument("--web-base", metavar="URL",
                       help="sign-in base URL (default: $RUNCOMFY_WEB_BASE or RunComfy's)")
    login.add_argument("--no-browser", action="store_true", help="only print the URL and code")
    login.add_argument("--json", action="store_true", help="print the outcome as JSON")

    logout = commands.add_parser("logout", help="remove the token file login wrote")
    logout.add_argument("--json", action="store_true", help="print the outcome as JSON")

    balance = commands.add_parser("balance", help="the RunComfy wallet balance")
    balance.add_argument("--json", action="store_true", help="compact JSON")
    _add_backend_flags(balance)

    spend = commands.add_parser("spend", help="what was billed, by day and month (local history)")
    spend.add_argument("--json", action="store_true", help="compact JSON")
    spend.add_argument("--since", metavar="DATE", help="only from this day on (YYYY-MM-DD)")


class _NotForTheApp(Exception):
    """The app's parser can't read these arguments: the whole parser will (and say why)."""


class _AppParser(_Parser):
    """The top-level flags alone, for a command line that opens the app (see :func:`main`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NotForTheApp(message)


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """The command line; without ``commands``, only what opening the app reads (its flags)."""
    parser = (_Parser if commands else _AppParser)(
        prog="gpt-image-tui",
        description="Make and refine images with GPT Image 2 on the RunComfy Model API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--prompt", metavar="TEXT", help="prefill the prompt editor")
    parser.add_argument("--graphics", choices=("auto", "kitty", "sixel", "halfcell"),
                        default="auto", help="inline image protocol (default: detect)")
    parser.add_argument("--colors", choices=("auto", "truecolor", "256", "16"), default=None,
                        help="colour depth of the app and its half-cell images "
                        "(default: $GPT_IMAGE_TUI_COLORS, else ask the terminal)")
    _add_request_flags(parser)
    _add_backend_flags(parser)
    _add_output_flag(parser, default="pretty")
    if not commands:
        parser.set_defaults(command=None)
        return parser
    _add_commands(parser)
    return parser


def _add_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser("run", help="submit a prompt, wait, save the images")
    run.add_argument("prompt", metavar="PROMPT|MODEL_ID")
    _add_request_flags(run)
    _add_backend_flags(run)
    _add_official_run_flags(run)
    run.add_argument("--no-wait", action="store_true",
                     help="print the request id and exit (follow later with `resume`)")
    run.add_argument("--json", action="store_true", help="one compact JSON object on stdout")

    for name, text in (("status", "show a request's status"),
                       ("result", "fetch a request's result and save its images"),
                       ("cancel", "cancel a request (only works while it is queued)")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("id", metavar="ID", help="job number or request id")
        _add_backend_flags(sub)
        sub.add_argument("--json", action="store_true", help="compact JSON")

    history = commands.add_parser("history", help="list past jobs, newest first")
    history.add_argument("--limit", type=int, default=20, metavar="N")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.add_argument("--starred", action="store_true", help="only jobs starred in the app (s)")
    _add_backend_flags(history)

    resume = commands.add_parser("resume", help="follow every unfinished job to the end")
    resume.add_argument("--json", action="store_true", help="compact JSON")
    _add_backend_flags(resume)

    recipe = commands.add_parser("recipe", help="print the recipe stored in an image")
    recipe.add_argument("file", metavar="FILE")

    serve = commands.add_parser("serve-offline", help="run the offline backend standalone")
    serve.add_argument("--port", type=int, default=8765, metavar="N")
    serve.add_argument("--host", default="127.0.0.1", metavar="ADDR")
    _add_account_and_batch_commands(commands)
    for sub in commands.choices.values():
        _add_output_flag(sub)  # the official global flag works after the command too


COMMANDS = frozenset({
    "run", "status", "result", "cancel", "history", "resume", "recipe", "serve-offline",
    "batch", "login", "logout", "balance", "spend",
})


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The arguments, read as the whole parser reads them. A command line naming no command
    (nor help) opens the app: its flags alone are read, by a parser made without the commands'
    (a tenth of the launch's time before the first frame went to building those); anything
    that parser can't read goes to the whole one, which reads it or says what is wrong."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not any(word in COMMANDS or word.startswith(("-h", "--h")) for word in words):
        try:
            return build_parser(commands=False).parse_args(words)
        except _NotForTheApp:
            pass
    return build_parser().parse_args(words)


def main(argv: Sequence[str] | None = None) -> int:
    # No garbage collections while the app starts: its imports and first screen make a few
    # hundred thousand objects and no garbage worth a pause, yet CPython collected about a
    # hundred times, once fully, before the first frame. The app's idle collector
    # (tui.ui.idle_gc) turns collections back on once it is up; a headless command at once.
    gc.disable()
    try:
        args = parse_args(argv)
    except BaseException:  # usage, --help, --version: on again for whoever called
        gc.enable()
        raise
    if args.command is None:
        from .ui.launch import launch_tui

        try:
            return launch_tui(args)
        finally:
            gc.enable()  # (the app's idle collector turned it on once the app was up)
    gc.enable()
    from .cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
