"""Exit codes, and the one place a headless command's failure is reported.

Exit codes follow the official ``runcomfy`` CLI (sysexits): 0 ok · 64 usage · 65 invalid input ·
69 server 5xx · 73 output folder unusable · 74 history database · 75 timeout / 429 / lost
contact · 77 not signed in · 1 failed or other · 130 interrupted. :func:`run_command` turns every
expected failure into one plain sentence on stderr and its exit code — never a traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable

from ..errors import GptImageError, InputError
from ..trust.sanitize import clean_text
from .console import say

__all__ = [
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_NO_TOKEN",
    "EXIT_STORAGE",
    "EXIT_USAGE",
    "CommandExit",
    "run_command",
]

EXIT_USAGE = 64
EXIT_INPUT = 65
EXIT_STORAGE = 74
EXIT_NO_TOKEN = 77
EXIT_INTERRUPTED = 130


class CommandExit(Exception):
    """Stop the command with ``code``, after printing ``message`` (one plain sentence) to stderr."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or "")
        self.code = code
        self.message = message


def run_command(main: Callable[[], Awaitable[int] | int]) -> int:
    """Run a command (a coroutine function, or a plain one) and return its exit code.

    Every expected failure becomes its message on stderr and its exit code.
    """
    try:
        outcome = main()
        if isinstance(outcome, int):  # a plain command (history, recipe…): no event loop
            return outcome
        import asyncio

        return asyncio.run(_wait(outcome))
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
    except sqlite3.Error as exc:  # storage translates these; this is the last safety net
        say(f"error: the history database failed: {clean_text(exc, limit=200)}")
        return EXIT_STORAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


async def _wait(outcome: Awaitable[int]) -> int:
    return await outcome
