"""How images reach the terminal: which renderer to use and why, and small cached previews.

The only module that imports ``textual_image``. textual_image asks the terminal about Sixel
and Kitty graphics when it is imported, which only works before Textual owns stdin and breaks
when stdin is not a terminal; so :func:`detect_graphics` asks the terminal itself (one round
trip, before ``App.run``) and textual_image is imported with its own probing switched off.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import re
import secrets
import select
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from PIL import Image, ImageOps, UnidentifiedImageError

from .sanitize import clean_text

__all__ = [
    "DEFAULT_CELL_SIZE",
    "GRAPHICS_MODES",
    "GraphicsChoice",
    "GraphicsMode",
    "PreviewCache",
    "PreviewError",
    "ProbeAnswer",
    "detect_graphics",
    "image_widget_class",
    "probe_terminal",
]

GraphicsMode = Literal["kitty", "sixel", "halfcell"]
GRAPHICS_MODES: tuple[str, ...] = ("auto", "kitty", "sixel", "halfcell")
DEFAULT_CELL_SIZE = (10, 20)  # pixels per cell (width, height) when the terminal won't say
_MODE_NAMES = {"kitty": "Kitty graphics", "sixel": "Sixel", "halfcell": "half-cell blocks"}


@dataclass(frozen=True, slots=True)
class GraphicsChoice:
    """The renderer the app uses for images, and a plain sentence saying why."""

    mode: GraphicsMode
    reason: str
    cell_size: tuple[int, int] = DEFAULT_CELL_SIZE

    @property
    def mode_name(self) -> str:
        """``Kitty graphics``, ``Sixel`` or ``half-cell blocks``."""
        return _MODE_NAMES[self.mode]

    @property
    def label(self) -> str:
        """One line for a status bar: ``graphics: auto: inside tmux … → half-cell blocks``."""
        if "→" in self.reason:
            return f"graphics: {self.reason}"
        return f"graphics: {_MODE_NAMES[self.mode]} ({self.reason})"


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    """What the terminal said to the graphics query (``answered`` False: it said nothing)."""

    answered: bool
    kitty: bool = False
    sixel: bool = False
    cell_size: tuple[int, int] | None = None


# --- detection -------------------------------------------------------------------------------

# Kitty graphics query (a 1x1 RGB image, action "query"), cell size in pixels (CSI 16 t), then
# primary device attributes. Every terminal answers DA1, and answers in order, so the DA1 reply
# ends the wait: no timeout is spent on terminals that ignore the first two.
_QUERY = b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[16t\x1b[c"
_KITTY_OK = re.compile(rb"\x1b_Gi=31;OK\x1b\\")
_CELL = re.compile(rb"\x1b\[6;(\d{1,4});(\d{1,4})t")
_DA1 = re.compile(rb"\x1b\[\?([\d;]*)c")
_MAX_ANSWER_BYTES = 4096


def probe_terminal(stdin_fd: int, stdout_fd: int, timeout: float) -> ProbeAnswer:
    """Ask the terminal on these descriptors about Kitty graphics, Sixel and its cell size.

    Puts stdin in cbreak mode (no echo) for at most ``timeout`` seconds and always restores it.
    Keys typed during that instant may be swallowed, as with textual_image's own query.
    """
    import termios
    import tty

    try:
        saved = termios.tcgetattr(stdin_fd)
    except termios.error:
        return ProbeAnswer(answered=False)
    buffer = b""
    try:
        tty.setcbreak(stdin_fd, termios.TCSANOW)
        os.write(stdout_fd, _QUERY)
        deadline = time.monotonic() + timeout
        while not _DA1.search(buffer) and len(buffer) < _MAX_ANSWER_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            readable, _, _ = select.select([stdin_fd], [], [], remaining)
            if not readable:
                break
            chunk = os.read(stdin_fd, 1024)
            if not chunk:
                break
            buffer += chunk
    except OSError:
        pass
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(stdin_fd, termios.TCSANOW, saved)
    da1 = _DA1.search(buffer)
    cell = _CELL.search(buffer)
    return ProbeAnswer(
        answered=bool(da1 or cell or _KITTY_OK.search(buffer)),
        kitty=bool(_KITTY_OK.search(buffer)),
        sixel=bool(da1 and "4" in da1.group(1).decode().split(";")),
        cell_size=(int(cell.group(2)), int(cell.group(1)))
        if cell and cell.group(1) != b"0"
        else None,
    )


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed or detached
        return False


def _ioctl_cell_size(stream: TextIO | None) -> tuple[int, int] | None:
    """Pixels per cell from TIOCGWINSZ, when the terminal fills in the pixel fields."""
    try:
        import fcntl
        import struct
        import termios

        packed = fcntl.ioctl(stream.fileno(), termios.TIOCGWINSZ, b"\0" * 8)  # type: ignore[union-attr]
        rows, columns, width, height = struct.unpack("HHHH", packed)
    except (ImportError, AttributeError, OSError, ValueError):
        return None
    if rows and columns and width and height:
        return max(1, width // columns), max(1, height // rows)
    return None


def detect_graphics(
    requested: str = "auto",
    env: Mapping[str, str] = os.environ,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    probe: Callable[[int, int, float], ProbeAnswer] = probe_terminal,
) -> GraphicsChoice:
    """Choose the image renderer. Call before ``App.run()``: the terminal can't be asked later.

    An explicit ``requested`` mode wins. ``auto`` uses half-cell blocks when output is not a
    terminal, ``TERM`` is dumb, or inside tmux/screen (textual_image doesn't wrap graphics in
    passthrough sequences); otherwise it asks the terminal, waiting longer over SSH. textual_image
    is then imported with its own import-time probing switched off.
    """
    if requested not in GRAPHICS_MODES:
        raise ValueError(f"graphics must be one of {', '.join(GRAPHICS_MODES)}")
    stdin = sys.__stdin__ if stdin is None else stdin
    stdout = sys.__stdout__ if stdout is None else stdout
    tty_out = _isatty(stdout)
    cell_size = (_ioctl_cell_size(stdout) if tty_out else None) or DEFAULT_CELL_SIZE
    if requested != "auto":
        mode: GraphicsMode = requested  # type: ignore[assignment]
        choice = GraphicsChoice(mode, f"--graphics {requested}", cell_size)
    else:
        choice = _auto(env, stdin, stdout, tty_out, cell_size, probe)
    _load_textual_image(choice.cell_size)
    return choice


def _auto(
    env: Mapping[str, str],
    stdin: TextIO | None,
    stdout: TextIO | None,
    tty_out: bool,
    cell_size: tuple[int, int],
    probe: Callable[[int, int, float], ProbeAnswer],
) -> GraphicsChoice:
    def halfcell(why: str) -> GraphicsChoice:
        return GraphicsChoice("halfcell", f"auto: {why} → half-cell blocks", cell_size)

    term = env.get("TERM", "")
    if not tty_out:
        return halfcell("output is not a terminal")
    if not _isatty(stdin):
        return halfcell("input is not a terminal, so it can't be asked")
    if term in ("", "dumb"):
        return halfcell(f"TERM is {term or 'unset'}")
    if env.get("TMUX") or term.startswith("tmux"):
        return halfcell("inside tmux without passthrough")
    if env.get("STY") or term.startswith("screen"):
        return halfcell("inside GNU screen")
    over_ssh = any(env.get(name) for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"))
    where = "over SSH, " if over_ssh else ""
    answer = probe(stdin.fileno(), stdout.fileno(), 1.0 if over_ssh else 0.3)  # type: ignore[union-attr]
    if answer.cell_size and cell_size == DEFAULT_CELL_SIZE:
        cell_size = answer.cell_size
    if answer.kitty and not answer.sixel:
        return GraphicsChoice(
            "kitty",
            f"auto: {where}terminal answered the Kitty graphics query → Kitty graphics",
            cell_size,
        )
    if answer.sixel:
        # Terminals that answer both (WezTerm, Konsole) draw textual_image's Sixel correctly but
        # not its Kitty placeholders; textual_image prefers Sixel for the same reason.
        return GraphicsChoice(
            "sixel", f"auto: {where}terminal reports Sixel support → Sixel", cell_size
        )
    if not answer.answered:
        return halfcell(f"{where}no answer from the terminal")
    return halfcell(f"{where}terminal has no Kitty graphics or Sixel")


# --- textual_image ---------------------------------------------------------------------------

_import_lock = threading.Lock()


class _NotATerminal:
    """Stands in for ``sys.__stdout__`` while textual_image is imported, so it doesn't probe."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _load_textual_image(cell_size: tuple[int, int] = DEFAULT_CELL_SIZE) -> Any:
    """Import ``textual_image.widget`` without its terminal queries; fix its cell size."""
    with _import_lock:
        from textual_image import _terminal

        if "textual_image.widget" not in sys.modules:
            if not hasattr(_terminal.get_cell_size, "_result"):
                _terminal.get_cell_size._result = _terminal.CellSize(*cell_size)  # type: ignore[attr-defined]
            real = sys.__stdout__
            sys.__stdout__ = _NotATerminal(real)  # type: ignore[assignment, misc]
            try:
                importlib.import_module("textual_image.widget")
            finally:
                sys.__stdout__ = real  # type: ignore[misc]
        else:
            _terminal.get_cell_size._result = _terminal.CellSize(*cell_size)  # type: ignore[attr-defined]
        return sys.modules["textual_image.widget"]


def image_widget_class(choice: GraphicsChoice) -> type:
    """The textual_image widget class drawing images the way ``choice`` says."""
    widgets = _load_textual_image(choice.cell_size)
    chosen: type = {
        "kitty": widgets.TGPImage,
        "sixel": widgets.SixelImage,
        "halfcell": widgets.HalfcellImage,
    }[choice.mode]
    return chosen


# --- previews --------------------------------------------------------------------------------


class PreviewError(Exception):
    """A preview couldn't be made; the message is sanitised and safe to show."""


class PreviewCache:
    """Downscaled PNG copies of images, made once and kept in ``directory``.

    Keyed by sha256 of (absolute path, mtime_ns, size, side), so a changed file gets a new
    preview. Blocking: call from a thread worker. Safe to call concurrently (one decode per key
    per process; writes are atomic renames, so other processes only ever see whole files).
    """

    VERSION = 1
    FORMATS = ("PNG", "JPEG", "WEBP")

    def __init__(
        self,
        directory: Path,
        *,
        max_side: int = 1024,
        thumb_side: int = 192,
        full_side: int = 2048,
        max_pixels: int = 64_000_000,
    ) -> None:
        self.directory = Path(directory)
        self.max_side = max_side
        self.thumb_side = thumb_side
        self.full_side = full_side
        self.max_pixels = max_pixels
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def preview_for(self, path: Path) -> Path:
        """A copy at most ``max_side`` pixels on its longer side (for the preview panel)."""
        return self.scaled(path, self.max_side)

    def thumbnail_for(self, path: Path, side: int | None = None) -> Path:
        """A small copy for lists and grids."""
        return self.scaled(path, side or self.thumb_side)

    def fullscreen_for(self, path: Path) -> Path:
        """A copy big enough for a full-screen view in a pixel-graphics terminal."""
        return self.scaled(path, self.full_side)

    def key_for(self, path: Path, side: int) -> str:
        source = Path(path).absolute()
        info = source.stat()
        raw = f"{self.VERSION}\0{source}\0{info.st_mtime_ns}\0{info.st_size}\0{side}"
        return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()

    def scaled(self, path: Path, side: int) -> Path:
        """The cached copy of ``path`` fitting ``side``×``side``, made now if missing."""
        try:
            key = self.key_for(path, side)
        except OSError as exc:
            raise PreviewError(
                f"can't read {clean_text(Path(path).name)}: {exc.strerror}"
            ) from None
        target = self.directory / f"{key}.png"
        if target.is_file():
            return target
        try:
            with self._lock(key):
                if not target.is_file():
                    self._render(Path(path), target, side)
        finally:
            with self._locks_guard:
                self._locks.pop(key, None)
        return target

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _render(self, source: Path, target: Path, side: int) -> None:
        name = clean_text(source.name, limit=80)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = self.directory / f".{target.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            with Image.open(source, formats=self.FORMATS) as image:
                if image.width * image.height > self.max_pixels:
                    raise PreviewError(f"{name} is too large to preview")
                image.draft("RGB", (side, side))  # JPEG: decode at reduced scale
                picture = ImageOps.exif_transpose(image)
                picture.thumbnail((side, side), Image.Resampling.LANCZOS)
                if picture.mode not in ("RGB", "RGBA"):
                    picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
                picture.save(temp, "PNG", compress_level=3)
            os.replace(temp, target)
        except PreviewError:
            raise
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            reason = (
                "not an image" if isinstance(exc, UnidentifiedImageError) else "unreadable"
            )
            raise PreviewError(f"can't preview {name}: {reason}") from None
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()

    def prune(self, keep: int = 1000) -> int:
        """Remove all but the ``keep`` most recently made previews; return how many went."""
        try:
            files = sorted(
                self.directory.glob("*.png"), key=lambda p: p.stat().st_mtime, reverse=True
            )
        except OSError:
            return 0
        removed = 0
        for stale in files[keep:]:
            with contextlib.suppress(OSError):
                stale.unlink()
                removed += 1
        return removed
