"""Output file names and temp files: one safe path component each, nothing hidden, nothing stale.

Names follow the official ``runcomfy`` CLI's rules (reserved and control characters replaced,
``.``/``..``/empty become ``output``) plus two of ours: no leading dot (nothing hidden) and a
length cap. Downloads stream into ``.gpt-image-tui-<pid>-<random>.part`` temp files in the output
directory; :meth:`OutputFiles.remove_stale_temps` removes those left by dead processes.
:func:`delete_images` removes a forgotten job's saved images when the user asks for that.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..models import Job
from ..trust.sanitize import clean_text
from .errors import OutputDirUnusable
from .names import DEFAULT_TEMPLATE, render_name

__all__ = [
    "MAX_NAME_CHARS",
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "OutputFiles",
    "create_temp",
    "delete_images",
    "pid_alive",
    "safe_component",
    "url_file_name",
]

TEMP_PREFIX = ".gpt-image-tui-"
TEMP_SUFFIX = ".part"
MAX_NAME_CHARS = 120
_MAX_NAME_BYTES = 200  # file systems count bytes (255 max); leave room for "-NN" de-duplication
_STALE_AFTER = 24 * 3600.0
_TEMP_NAME = re.compile(r"\.gpt-image-tui-(\d{1,10})-[A-Za-z0-9_-]{1,64}\.part")
# The official CLI's set, plus C0/C1 controls, DEL and invisible bidi/format characters.
_UNSAFE = re.compile(
    r'[/\\:*?"<>|\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]'
)
_EDGES = re.compile(r"^[\s.]+|[\s.]+$")  # leading dots would hide the file
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")


def safe_component(name: str) -> str:
    """Reduce ``name`` to one harmless file name component (never empty, never hidden)."""
    text = _UNSAFE.sub("_", str(name or ""))
    text = _EDGES.sub("", text)
    if not text:
        return "output"
    stem, ext = os.path.splitext(text)
    if not _EXTENSION.fullmatch(ext) or not stem:
        stem, ext = text, ""
    while stem and (
        len(stem) + len(ext) > MAX_NAME_CHARS
        or len((stem + ext).encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES
    ):
        stem = stem[:-1]
    stem = _EDGES.sub("", stem)
    return (stem or "output") + ext


def url_file_name(url: str) -> str:
    """The official CLI's name for a URL: its last path segment, percent-decoded, made safe."""
    try:
        path = urlsplit(str(url)).path
    except ValueError:
        return "output"
    return safe_component(unquote(path.rsplit("/", 1)[-1]))


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists (owned by anyone)."""
    if pid <= 0:
        return False  # 0 and negatives address process groups, not a process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, OSError):
        return False
    return True


def create_temp(directory: Path) -> tuple[int, Path]:
    """Create a fresh hidden temp file in ``directory`` exclusively (0600); return (fd, path)."""
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    while True:
        import secrets  # loaded with the first download, not with the app

        path = Path(directory) / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{TEMP_SUFFIX}"
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue


class OutputFiles:
    """Where images go: the default folder for new jobs, each job's own folder, names for new
    images, and sweeping of stale temp files."""

    def __init__(self, default_directory: Path, *, template: str | None = None) -> None:
        self.default_directory = Path(default_directory)
        self.template = template or DEFAULT_TEMPLATE

    safe_component = staticmethod(safe_component)
    url_file_name = staticmethod(url_file_name)

    def directory_for(self, job: Job) -> Path:
        """The folder ``job``'s images go to: its own, else (older rows) the default."""
        return Path(job.output_dir) if job.output_dir else self.default_directory

    def ensure(self, directory: Path | None = None) -> Path:
        """Create the folder (and parents) if needed and check it can be written; return it.

        Raises :class:`~tui.storage.errors.OutputDirUnusable` with one plain sentence.
        """
        folder = Path(directory) if directory is not None else self.default_directory
        shown = clean_text(str(folder), limit=300)
        if folder.exists() and not folder.is_dir():
            raise OutputDirUnusable(f"the output folder {shown} is a file, not a folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise OutputDirUnusable(
                f"can't create the output folder {shown}: part of its path is a file"
            ) from None
        except OSError as exc:
            raise OutputDirUnusable(
                f"can't create the output folder {shown}: {exc.strerror or exc}"
            ) from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputDirUnusable(f"can't write to the output folder {shown}: permission denied")
        return folder

    def name_for(self, job: Job, index: int, ext: str) -> str:
        """The name :mod:`tui.storage.names` gives image ``index`` of ``job``, made safe.

        By default ``<YYYYmmdd-HHMMSS>_<prompt-slug>_<request-id-8>[_<index+1>].<ext>`` (local
        time): readable, sortable by time, and traceable to the request.
        """
        return safe_component(render_name(self.template, job, index, ext))

    def remove_stale_temps(self, directory: Path | None = None, *, now: float | None = None) -> int:
        """Remove our temp files in ``directory`` (default: the default folder) whose process is
        gone or that are over a day old; count them.

        The age limit covers a pid reused by an unrelated process after a reboot.
        """
        now = time.time() if now is None else now
        folder = directory if directory is not None else self.default_directory
        removed = 0
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return 0
        for entry in entries:
            match = _TEMP_NAME.fullmatch(entry.name)
            if match is None:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                continue
            pid = int(match.group(1))
            own = pid == os.getpid()
            stale = now - info.st_mtime > _STALE_AFTER
            if stale or (not own and not pid_alive(pid)):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
        return removed


def delete_images(paths: Iterable[str | Path]) -> int:
    """Delete a job's saved images (the user asked: the history browser's delete); return how
    many went. A file already gone, or one that can't be removed, is left out of the count."""
    removed = 0
    for name in paths:
        with contextlib.suppress(OSError):
            Path(name).unlink()
            removed += 1
    return removed
