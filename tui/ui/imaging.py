"""How images reach the terminal: textual_image, loaded the way the terminal decisions say.

The only module that imports ``textual_image``. textual_image asks the terminal about Sixel
and Kitty graphics when it is imported, which only works before Textual owns stdin and breaks
when stdin is not a terminal; so :func:`detect_graphics` asks the terminal itself (one round
trip, before ``App.run``, see :mod:`tui.ui.terminal`) and textual_image is imported with its own
probing switched off and its cell size seeded. Works with textual-image 0.12 (Python 3.11) and
0.14 (Python ≥ 3.12, which also passes Kitty graphics through tmux). Also here: small cached
previews.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..storage.previews import write_scaled
from ..trust.sanitize import clean_text
from .terminal.choice import (
    DEFAULT_CELL_SIZE,
    GRAPHICS_MODES,
    ColorChoice,
    GraphicsChoice,
    GraphicsMode,
)
from .terminal.decide import QueryPlan, TmuxInfo
from .terminal.driver import SIXEL_CURSOR_RIGHT_ON
from .terminal.probe import detect_terminal, probe_terminal, tmux_info
from .terminal.sixel import dither, hoist_palette

if TYPE_CHECKING:  # Pillow is loaded where images are decoded, in their threads
    from PIL import Image

__all__ = [
    "DEFAULT_CELL_SIZE",
    "GRAPHICS_MODES",
    "ColorChoice",
    "DecodedImages",
    "GraphicsChoice",
    "GraphicsMode",
    "ImageKit",
    "PreviewCache",
    "PreviewError",
    "detect_graphics",
    "disk_side",
    "fit_side",
    "image_widget_class",
    "textual_image_passthrough",
]


def textual_image_passthrough() -> bool:
    """The installed textual-image (0.13+) wraps Kitty graphics in tmux's passthrough envelope.

    Asked by looking for its tmux module, without importing it (or package metadata).
    """
    from importlib.util import find_spec

    return find_spec("textual_image._tmux") is not None


def detect_graphics(
    requested: str = "auto",
    env: Mapping[str, str] = os.environ,
    *,
    colors: str = "auto",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    probe: Callable[[int, int, QueryPlan], bytes] = probe_terminal,
    ask_tmux: Callable[[Mapping[str, str]], TmuxInfo | None] = tmux_info,
) -> GraphicsChoice:
    """Choose the image renderer and colour depth.

    Call before ``App.run()``: the terminal can't be asked later. See
    :func:`tui.ui.terminal.probe.detect_terminal`. textual_image is not loaded here but when the
    first image is drawn (:func:`image_widget_class`), seeded with this choice, so it never asks
    the terminal itself and costs nothing before the first frame.
    """
    choice, _ = detect_terminal(
        requested,
        colors,
        env,
        stdin=stdin,
        stdout=stdout,
        probe=probe,
        ask_tmux=ask_tmux,
        lib_passthrough=textual_image_passthrough(),
    )
    return choice


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


def _seed(terminal: Any, choice: GraphicsChoice | None) -> None:
    """Give textual_image the cell size (and support) decided here, so it never asks itself.

    0.12 caches the cell size on ``get_cell_size``; 0.13+ caches one capability probe on
    ``probe_terminal``.
    """
    cell = terminal.CellSize(*(choice.cell_size if choice else DEFAULT_CELL_SIZE))
    if hasattr(terminal, "TerminalCapabilities"):
        mode = choice.mode if choice else "halfcell"
        terminal.probe_terminal._result = terminal.TerminalCapabilities(
            cell, sixel=mode == "sixel", tgp=mode == "kitty"
        )
    else:
        terminal.get_cell_size._result = cell


def _load_textual_image(choice: GraphicsChoice | None = None) -> Any:
    """Import ``textual_image.widget`` without its terminal queries; seed its cell size."""
    with _import_lock:
        from textual_image import _terminal

        seeded = hasattr(_terminal.get_cell_size, "_result") or hasattr(
            getattr(_terminal, "probe_terminal", None), "_result"
        )
        if choice is not None or not seeded:
            _seed(_terminal, choice)
        if "textual_image.widget" in sys.modules:
            return sys.modules["textual_image.widget"]
        real = sys.__stdout__
        sys.__stdout__ = _NotATerminal(real)  # type: ignore[assignment, misc]
        try:
            return importlib.import_module("textual_image.widget")
        finally:
            sys.__stdout__ = real  # type: ignore[misc]


@functools.cache
def _clean_sixel_class() -> type:
    """textual_image's Sixel widget, drawing dithered images with the palette up front.

    Its inner widget also paints the image's cells with the background before the image (so a
    closed dialog leaves no border behind), keeps the cursor on the image's last row afterwards
    (Textual goes on writing that row), and asks xterm not to scroll after the image (mode 8452)
    when it reaches the bottom row — what textual-image 0.14 does, and 0.12 doesn't.
    """
    from rich.control import Control
    from rich.segment import ControlType, Segment
    from rich.style import Style
    from textual.geometry import Region
    from textual.strip import Strip
    from textual_image._sixel import image_to_sixels
    from textual_image.widget import sixel as sixel_widget

    base = sixel_widget._ImageSixelImpl
    library_clears = hasattr(base, "_get_clear_style")
    plain = Style()

    class CleanSixelImpl(base):  # type: ignore[misc, valid-type]
        def _image_to_sixels(
            self, image: Image.Image, sixel_options: Any = None, background: Any = None
        ) -> str:
            rgb = tuple(int(v) for v in background[:3]) if background else (0, 0, 0)
            paletted = dither(image, rgb)  # type: ignore[arg-type]
            return hoist_palette(image_to_sixels(paletted, sixel_options, background))

        def _get_sixel_segments(self, sixel_data: str) -> Iterable[Segment]:
            region = self.screen.find_widget(self).visible_region
            return [
                Segment(Control.move_to(region.x, region.y).segment.text, style=plain),
                Segment(
                    SIXEL_CURSOR_RIGHT_ON + sixel_data,
                    style=plain,
                    control=((ControlType.CURSOR_FORWARD, 0),),
                ),
                Segment(
                    Control.move_to(region.right, region.bottom - 1).segment.text, style=plain
                ),
            ]

        def render_lines(self, crop: Region) -> list[Strip]:
            lines: list[Strip] = super().render_lines(crop)
            if library_clears or not lines:
                return lines
            _, color = self.background_colors
            clear = Segment(" " * crop.width, Style(bgcolor=color.rich_color))
            return [Strip([clear], crop.width) for _ in lines[:-1]] + [
                Strip([clear, *lines[-1]], crop.width)
            ]

    class CleanSixelImage(sixel_widget.Image, Renderable=sixel_widget._NoopRenderable):
        """Sixel image widget (see :func:`_clean_sixel_class`)."""

        def compose(self) -> Any:
            yield CleanSixelImpl(self.image, self._sixel_options)

    return CleanSixelImage


def image_widget_class(choice: GraphicsChoice) -> type:
    """The textual_image widget class drawing images the way ``choice`` says."""
    widgets = _load_textual_image(choice)
    if choice.mode == "sixel":
        return _clean_sixel_class()
    chosen: type = widgets.TGPImage if choice.mode == "kitty" else widgets.HalfcellImage
    return chosen


# --- previews --------------------------------------------------------------------------------


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BUFFER = 1 << 20


@functools.cache
def return_large_buffers() -> bool:
    """Have glibc serve buffers of 1 MiB or more (decoded images) straight from the OS, and give
    them back the moment they are freed; True when it was done.

    By default glibc raises that threshold after the first large buffer is freed, and from then
    on decoded images come from the heap, whose pages stay resident: paging thumbnails for 2,000
    jobs grew the app by ~70 MB that were never returned. Called before the first decode.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # these three modules load when first needed, not with the app

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE_BUFFER))


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
        import hashlib

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
        from PIL import Image, ImageOps, UnidentifiedImageError  # in the rendering thread

        return_large_buffers()
        name = clean_text(source.name, limit=80)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        import secrets

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

    def made_on_save(self, path: Path, pixels: Image.Image) -> None:
        """A ``Downloader.after_save`` hook: the thumbnail and the smallest panel copy of a
        just-saved image, from the pixels its save already decoded (on the saving thread), so
        showing it never decodes the full image again."""
        return_large_buffers()
        sides = {self.thumb_side, min(DISK_SIDES[0], self.max_side)}
        write_scaled(pixels, {side: self.directory / f"{self.key_for(path, side)}.png"
                              for side in sides})

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


# --- decoded images, kept in memory ---------------------------------------------------------

DISK_SIDES = (256, 512, 1024, 2048)
"""Sides of the cached copies on disk a panel's image is decoded from (few files per image)."""
SIDE_STEP = 64
"""Decoded images are kept at a side rounded up to this many pixels, so a panel that grows or
shrinks by a row or two finds the same image."""


def fit_side(box: tuple[int, int]) -> int:
    """The side (pixels) an image is decoded at to fill a ``box`` of pixels."""
    longest = max(1, box[0], box[1])
    return -(-longest // SIDE_STEP) * SIDE_STEP


def disk_side(side: int, cap: int) -> int:
    """The side of the cached copy on disk to decode an image of ``side`` pixels from."""
    for tier in DISK_SIDES:
        if tier >= side:
            return min(tier, cap)
    return cap


DecodedKey = tuple[str, int, int, int]


class DecodedImages:
    """Decoded images already scaled for where they are shown, the most recently used kept.

    Keyed by (absolute path, mtime_ns, size, side), so a changed file is decoded again; bounded
    by ``max_bytes`` of pixels and ``max_entries`` images. Looked up on the UI thread (a hit is
    drawn in the same frame); filled by thread workers. Thread-safe.
    """

    def __init__(self, *, max_bytes: int = 32 * 2**20, max_entries: int = 256) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._images: OrderedDict[DecodedKey, Image.Image] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def key_for(path: Path, side: int) -> DecodedKey | None:
        """The key of ``path`` at ``side`` (None: the file can't be read now)."""
        try:
            source = Path(path).absolute()
            info = source.stat()
        except OSError:
            return None
        return (str(source), info.st_mtime_ns, info.st_size, side)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._images)

    def get(self, key: DecodedKey | None) -> Image.Image | None:
        if key is None:
            return None
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
            return image

    def put(self, key: DecodedKey | None, image: Image.Image) -> None:
        if key is None:
            return
        cost = _bytes_of(image)
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._images.pop(key, None)
            if old is not None:
                self._bytes -= _bytes_of(old)
            self._images[key] = image
            self._bytes += cost
            while self._images and (
                self._bytes > self.max_bytes or len(self._images) > self.max_entries
            ):
                _, dropped = self._images.popitem(last=False)
                self._bytes -= _bytes_of(dropped)

    def clear(self) -> None:
        with self._lock:
            self._images.clear()
            self._bytes = 0


def _bytes_of(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


def decode_fitted(copy: Path, side: int) -> Image.Image:
    """Decode the cached PNG ``copy`` and shrink it to fit ``side``×``side`` (blocking)."""
    from PIL import Image  # in the decoding thread, not before the first frame

    return_large_buffers()
    with Image.open(copy, formats=("PNG",)) as opened:
        opened.load()
        image = opened if max(opened.size) <= side else opened.resize(
            _fitted(opened.size, side), Image.Resampling.LANCZOS
        )
        return image.copy() if image is opened else image


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass(frozen=True, slots=True)
class ImageKit:
    """How this app draws images: the renderer chosen for the terminal, the cache of downscaled
    copies, and the image widget class (None: the one ``graphics`` calls for; tests and
    snapshots fix one), and the decoded images kept in memory. Every screen and widget that shows
    an image is handed one."""

    graphics: GraphicsChoice
    cache: PreviewCache
    widget_class: type | None = None
    decoded: DecodedImages = field(default_factory=DecodedImages)

    def cell_pixels(self) -> tuple[int, int]:
        """How many image pixels one terminal cell shows (half-cell blocks: 1×2)."""
        if self.graphics.mode == "halfcell":
            return (1, 2)
        return self.graphics.cell_size

    def image_widget(self) -> type:
        """The textual_image widget class to draw with."""
        return self.widget_class or image_widget_class(self.graphics)
