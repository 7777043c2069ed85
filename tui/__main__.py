"""Entry point: parse arguments, then run the TUI or one headless command.

``gpt-image-tui`` with no command opens the app (on the embedded offline backend when no token
is configured); ``gpt-image-tui run|status|result|cancel|history|resume|recipe|serve-offline``
and ``batch|login|logout|balance|spend`` (:mod:`tui.cli`) are headless and never fall back
to offline silently.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .cli.registry import add_commands, add_official_run_flags, add_output_flag, dispatch
from .models import SIZE_LABELS

__all__ = ["build_parser", "main"]

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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    add_output_flag(parser, default="pretty")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser("run", help="submit a prompt, wait, save the images")
    run.add_argument("prompt", metavar="PROMPT|MODEL_ID")
    _add_request_flags(run)
    _add_backend_flags(run)
    add_official_run_flags(run)
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
    _add_backend_flags(history)

    resume = commands.add_parser("resume", help="follow every unfinished job to the end")
    resume.add_argument("--json", action="store_true", help="compact JSON")
    _add_backend_flags(resume)

    recipe = commands.add_parser("recipe", help="print the recipe stored in an image")
    recipe.add_argument("file", metavar="FILE")

    serve = commands.add_parser("serve-offline", help="run the offline backend standalone")
    serve.add_argument("--port", type=int, default=8765, metavar="N")
    serve.add_argument("--host", default="127.0.0.1", metavar="ADDR")
    add_commands(commands, _add_backend_flags)
    for sub in commands.choices.values():
        add_output_flag(sub)  # the official global flag works after the command too
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        from .ui.launch import launch_tui

        return launch_tui(args)
    if args.command == "serve-offline":
        from .offline.server import run_standalone

        run_standalone(args.host, args.port)
        return 0
    if args.command == "recipe":
        from .cli.jobs import recipe_command

        return recipe_command(args.file)
    if args.command == "history":
        args.offline = args.offline or False
    handled = dispatch(args)
    if handled is not None:
        return handled
    from .cli.jobs import run_command

    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
