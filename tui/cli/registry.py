"""How this package's commands and flags join the argument parser, and who runs them.

:mod:`tui.__main__` calls :func:`add_commands` (``batch``, ``login``, ``logout``, ``balance``,
``spend``), :func:`add_official_run_flags` (``run MODEL_ID --input …``) and
:func:`add_output_flag` (the official global ``--output pretty|json``), then :func:`dispatch`,
which runs a command of this package — or adapts ``run`` — and returns None for the others.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .exits import CommandExit

__all__ = ["add_commands", "add_official_run_flags", "add_output_flag", "dispatch"]

OUTPUT_MODES = ("pretty", "json")


def add_output_flag(parser: argparse.ArgumentParser, *, default: Any = argparse.SUPPRESS) -> None:
    parser.add_argument(
        "--output", choices=OUTPUT_MODES, default=default,
        help="as the official CLI: json = compact JSON on stdout (default pretty)",
    )


def add_official_run_flags(run: argparse.ArgumentParser) -> None:
    """``run MODEL_ID --input JSON | --input-file PATH`` and the official CLI's run flags."""
    run.add_argument("--input", metavar="JSON",
                     help="the request body, as `runcomfy run MODEL_ID --input` (then the "
                          "positional argument is the model id)")
    run.add_argument("--input-file", metavar="PATH", help="the request body from a file (- = stdin)")
    run.add_argument("--poll-secs", type=float, metavar="N", help="same as --poll-interval")
    run.add_argument("--no-download", action="store_true",
                     help="wait for the result but don't save the images (print their URLs)")


def add_commands(commands: Any, backend_flags: Any) -> None:
    """Add this package's subcommands to ``commands`` (an argparse subparsers action)."""
    from .batch import parse_budget

    batch = commands.add_parser(
        "batch", help="send a JSONL file of prompts (idempotent, priced, resumable)"
    )
    batch.add_argument("file", metavar="FILE", help="JSONL, one {\"prompt\": …} per line (- = stdin)")
    batch.add_argument("--concurrency", type=int, default=4, metavar="N",
                       help="jobs in flight at once (default 4)")
    batch.add_argument("--budget", type=parse_budget, metavar="USD",
                       help="refuse before sending anything if the estimate is above this")
    batch.add_argument("--json", action="store_true", help="progress on stderr as JSON lines too")
    backend_flags(batch)

    login = commands.add_parser("login", help="sign in with a browser (device code), as runcomfy login")
    login.add_argument("--web-base", metavar="URL",
                       help="sign-in base URL (default: $RUNCOMFY_WEB_BASE or RunComfy's)")
    login.add_argument("--no-browser", action="store_true", help="only print the URL and code")
    login.add_argument("--json", action="store_true", help="print the outcome as JSON")

    logout = commands.add_parser("logout", help="remove the token file login wrote")
    logout.add_argument("--json", action="store_true", help="print the outcome as JSON")

    balance = commands.add_parser("balance", help="the RunComfy wallet balance")
    balance.add_argument("--json", action="store_true", help="compact JSON")
    backend_flags(balance)

    spend = commands.add_parser("spend", help="what was billed, by day and month (local history)")
    spend.add_argument("--json", action="store_true", help="compact JSON")
    spend.add_argument("--since", metavar="DATE", help="only from this day on (YYYY-MM-DD)")


def dispatch(args: argparse.Namespace) -> int | None:
    """Run this package's command, or adapt ``run``'s official form; None: not ours to run."""
    from .official_run import apply_official_form, apply_output_flag

    command = args.command
    try:
        if command == "run":
            apply_official_form(args)
            return None
        apply_output_flag(args)
    except CommandExit as exc:
        if exc.message:
            print(exc.message, file=sys.stderr)
        return exc.code
    if command == "batch":
        from .batch import batch_command

        return batch_command(args)
    if command in {"login", "logout", "balance"}:
        from . import account

        handler = {"login": account.login_command, "logout": account.logout_command,
                   "balance": account.balance_command}[command]
        return handler(args)
    if command == "spend":
        from .spend import spend_command

        return spend_command(args)
    return None
