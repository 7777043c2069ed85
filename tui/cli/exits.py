"""What the commands in this package share: settings from arguments, JSON out, exits.

Exit codes follow the official CLI (sysexits) as :mod:`tui.cli.jobs` does: 0 ok · 64 usage · 65 bad
input · 69 server 5xx · 75 timeout / 429 · 77 not signed in · 1 other · 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TextIO

from ..config import Settings, load_settings, signin_help
from ..errors import GptImageError, InputError
from ..trust.sanitize import json_text
from .console import print_json as console_print_json
from .console import say

__all__ = [
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_NO_TOKEN",
    "EXIT_USAGE",
    "CommandExit",
    "dumps",
    "print_json",
    "require_backend",
    "run_async",
    "settings_for",
]

EXIT_USAGE = 64
EXIT_INPUT = 65
EXIT_NO_TOKEN = 77
EXIT_INTERRUPTED = 130


class CommandExit(Exception):
    """Stop the command with ``code``, after printing ``message`` (one plain sentence) to stderr."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or "")
        self.code = code
        self.message = message


def dumps(value: Any, *, compact: bool = True) -> str:
    """JSON text safe to write to a terminal (see :func:`tui.trust.sanitize.json_text`)."""
    return json_text(value, compact=compact)


def print_json(value: Any, *, compact: bool = True, stream: TextIO | None = None) -> None:
    """Terminal-safe JSON on stdout; a closed pipe is ignored (see :mod:`tui.cli.console`)."""
    console_print_json(value, compact=compact, stream=stream)


def settings_for(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the flags a command may have (absent flags fall back to env and config)."""
    values: dict[str, Any] = {
        "api_base": getattr(args, "api_base", None),
        "output_dir": getattr(args, "output_dir", None),
        "offline": bool(getattr(args, "offline", False)),
        "poll_interval": getattr(args, "poll_interval", None),
        "name_template": getattr(args, "name_template", None),
    }
    values.update(overrides)
    return load_settings(**values)


def require_backend(settings: Settings) -> None:
    """Headless commands never fall back to offline silently."""
    if not settings.offline and settings.token is None:
        raise CommandExit(EXIT_NO_TOKEN, signin_help())


def run_async(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run a command's coroutine; turn every expected failure into its message and exit code."""
    try:
        return asyncio.run(main())
    except CommandExit as exc:
        if exc.message:
            say(exc.message)
        return exc.code
    except InputError as exc:
        for problem in exc.problems:
            say(f"invalid input — {problem.message}")
        return exc.exit_code
    except GptImageError as exc:
        say(f"error: {exc.message}")
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
