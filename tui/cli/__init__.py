"""The headless commands: ``run``, ``status``, ``result``, ``cancel``, ``history``, ``resume``,
``recipe``, ``batch``, ``login``, ``logout``, ``balance``, ``spend`` and ``serve-offline``.

stdout carries JSON, stderr progress; :func:`run` is the one way in: it adapts the official
CLI's own forms (``run MODEL_ID --input …``, ``--output json``), imports only the command asked
for, and reports every failure through :func:`tui.cli.exits.run_command` — one plain sentence
and the exit code. Nothing here imports Textual.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

__all__ = ["run"]


def _handler(command: str) -> Callable[[argparse.Namespace], Awaitable[int] | int]:
    """The function running ``command``, imported only now (a command imports what it uses)."""
    if command == "history":
        from .history import history_command

        return history_command
    if command in {"run", "status", "result", "cancel", "resume"}:
        from .jobs import run_job_command

        return run_job_command
    if command == "recipe":
        from .recipe import recipe_command

        return lambda args: recipe_command(args.file)
    if command == "batch":
        from .batch import batch_command

        return batch_command
    if command in {"login", "logout", "balance"}:
        from . import account

        handlers: dict[str, Callable[[argparse.Namespace], Awaitable[int] | int]] = {
            "login": account.login_command,
            "logout": account.logout_command,
            "balance": account.balance_command,
        }
        return handlers[command]
    if command == "spend":
        from .spend import spend_command

        return spend_command
    if command == "serve-offline":
        from ..offline.server import run_standalone

        def serve(args: argparse.Namespace) -> int:
            run_standalone(args.host, args.port)
            return 0

        return serve
    raise ValueError(f"not a headless command: {command}")


def run(args: argparse.Namespace) -> int:
    """Run the headless command ``args`` names; return its exit code."""
    from .exits import run_command
    from .official_run import apply_official_form, apply_output_flag

    def adapted() -> Awaitable[int] | int:
        if args.command == "run":
            apply_official_form(args)
        else:
            apply_output_flag(args)
        return _handler(args.command)(args)

    return run_command(adapted)
