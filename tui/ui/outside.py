"""Handing things to programs outside the app: the prompt to ``$EDITOR``, an image to the
system viewer. Plain functions, no Textual: the main screen suspends the app around the editor
and runs the viewer in a thread worker.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EditorRun", "edit_text", "editor_command", "open_in_viewer", "viewer_command"]

VIEWER_VARIABLE = "GPT_IMAGE_TUI_VIEWER"


def editor_command() -> list[str] | None:
    """``$VISUAL``, else ``$EDITOR``, split as a shell would (``code --wait`` works); None when
    neither is set."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            return shlex.split(value)
    return None


@dataclass(frozen=True, slots=True)
class EditorRun:
    """What came back from the editor: the new text, or why there is none."""

    text: str | None
    problem: str = ""


def edit_text(command: list[str], text: str) -> EditorRun:
    """Run ``command FILE`` on a private temp file holding ``text``; the file's text after it.

    Blocking (the editor owns the terminal meanwhile). One trailing newline, which most editors
    add, is dropped. The file is removed afterwards, whatever happened.
    """
    handle, name = tempfile.mkstemp(prefix="gpt-image-prompt-", suffix=".txt")  # mode 0600
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            sink.write(text)
        try:
            finished = subprocess.run([*command, str(path)], check=False)
        except OSError as exc:
            return EditorRun(None, f"couldn't run {command[0]}: {exc.strerror or exc}")
        if finished.returncode != 0:
            return EditorRun(None, f"{command[0]} exited with {finished.returncode}")
        edited = path.read_text(encoding="utf-8", errors="replace")
    finally:
        path.unlink(missing_ok=True)
    return EditorRun(edited[:-1] if edited.endswith("\n") else edited)


def viewer_command() -> list[str] | None:
    """``$GPT_IMAGE_TUI_VIEWER`` (split as a shell would), else ``open`` on macOS or
    ``xdg-open`` elsewhere when installed; None when there is none."""
    configured = os.environ.get(VIEWER_VARIABLE, "").strip()
    if configured:
        return shlex.split(configured)
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    found = shutil.which(opener)
    return [found] if found else None


def open_in_viewer(command: list[str], path: Path, *, patience: float = 10.0) -> str | None:
    """Start the viewer on ``path`` and watch it for ``patience`` seconds (blocking: run it in a
    thread). None when it is showing the image (still open, or done without complaint), else one
    sentence saying what failed. A viewer still open after that is left to the user."""
    try:
        process = subprocess.Popen(
            [*command, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        return f"couldn't run {command[0]}: {exc.strerror or exc}"
    try:
        _, errors = process.communicate(timeout=patience)
    except subprocess.TimeoutExpired:
        return None  # a viewer window the user is looking at
    if process.returncode != 0:
        said = errors.decode("utf-8", "replace").strip().splitlines()
        return f"{command[0]} exited with {process.returncode}" + (f": {said[-1]}" if said else "")
    return None
