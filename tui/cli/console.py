"""Writing to stdout and stderr from the headless commands, without ever failing a job.

A closed pipe (``gpt-image-tui run … 2>&1 | head -1``) or a full terminal must never take a job
down: a write that fails is dropped, and the stream is pointed at ``/dev/null`` so that
Python's own flush at exit stays quiet too. Text is sanitised; JSON escapes every control
character (:func:`tui.trust.sanitize.json_text`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, TextIO

from ..trust.sanitize import clean_text, json_text

__all__ = ["dumps", "print_json", "say", "write_line"]


def _silence(stream: TextIO) -> None:
    """Point a broken stream's file descriptor at /dev/null (no further errors, at exit too)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)


def write_line(text: str, stream: TextIO | None = None) -> bool:
    """Write one line and flush; False (and nothing raised) when the stream is gone."""
    target = sys.stdout if stream is None else stream
    try:
        target.write(text + "\n")
        target.flush()
    except (OSError, ValueError):  # BrokenPipeError, EIO, a closed file
        _silence(target)
        return False
    return True


def say(text: str, stream: TextIO | None = None) -> bool:
    """One sanitised progress or error line on stderr (newlines kept)."""
    return write_line(clean_text(text, keep_newlines=True), sys.stderr if stream is None else stream)


def dumps(value: Any, *, compact: bool = True) -> str:
    """JSON text safe to write to a terminal (see :func:`tui.trust.sanitize.json_text`)."""
    return json_text(value, compact=compact)


def print_json(value: Any, *, compact: bool = True, stream: TextIO | None = None) -> bool:
    """``value`` as terminal-safe JSON on stdout; False when the stream is gone."""
    return write_line(json_text(value, compact=compact), stream)
