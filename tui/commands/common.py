"""What the commands in this package share: settings from arguments, JSON out, exits.

Exit codes follow the official CLI (sysexits) as :mod:`tui.cli` does: 0 ok · 64 usage · 65 bad
input · 69 server 5xx · 75 timeout / 429 · 77 not signed in · 1 other · 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TextIO

from ..api.errors import GptImageError, InputError
from ..config import Settings, load_settings, signin_help

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
# Characters JSON may carry raw that a terminal would act on or that disguise text: DEL, C1
# controls, bidi overrides and other invisible format characters. Written as \\uXXXX instead.
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


class CommandExit(Exception):
    """Stop the command with ``code``, after printing ``message`` (one plain sentence) to stderr."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or "")
        self.code = code
        self.message = message


def dumps(value: Any, *, compact: bool = True) -> str:
    """JSON text safe to write to a terminal: every control character escaped, C1 included."""
    text = json.dumps(
        value,
        ensure_ascii=False,
        separators=(",", ":") if compact else None,
        indent=None if compact else 2,
    )
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(value: Any, *, compact: bool = True, stream: TextIO | None = None) -> None:
    print(dumps(value, compact=compact), file=stream or sys.stdout, flush=True)


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
            print(exc.message, file=sys.stderr)
        return exc.code
    except InputError as exc:
        for problem in exc.problems:
            print(f"invalid input — {problem.message}", file=sys.stderr)
        return exc.exit_code
    except GptImageError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
