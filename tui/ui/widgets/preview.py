"""An image preview panel: a copy scaled for the panel, drawn with the chosen terminal renderer.

Images are decoded in a thread worker from a downscaled copy cached on disk, shrunk to the
panel's size, and kept decoded in the app's :class:`~tui.ui.imaging.DecodedImages`: showing an
image seen before (moving back through the job list) swaps it in within the same frame, with no
worker and no placeholder. While a new one is decoded the previous image stays up; the
placeholder appears only when that takes longer than :attr:`ImagePreview.PLACEHOLDER_DELAY`.
The textual_image widget is sized ``auto``×``auto`` inside the panel, which fits it to the panel
and keeps its aspect ratio.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from textual.app import ComposeResult
from textual.events import Resize
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:  # the images are decoded in workers, which load Pillow
    from PIL import Image as PILImage

from ...trust.sanitize import clean_text
from ..imaging import (
    GraphicsChoice,
    ImageKit,
    PreviewCache,
    PreviewError,
    decode_fitted,
    disk_side,
    fit_side,
)

__all__ = ["ImagePreview"]

PreviewSize = Literal["preview", "full"]


class ImagePreview(Widget):
    """Shows one image file, or a plain line saying why there is none."""

    DEFAULT_CSS = """
    ImagePreview {
        width: 1fr;
        height: 1fr;
        align: center middle;
    }
    ImagePreview > #preview-placeholder {
        width: auto;
        height: auto;
        color: $text-muted;
    }
    ImagePreview > .preview-image {
        width: auto;
        height: auto;
        display: none;
    }
    ImagePreview.-has-image > .preview-image {
        display: block;
    }
    ImagePreview.-has-image > #preview-placeholder {
        display: none;
    }
    ImagePreview > #preview-mode {
        dock: bottom;
        width: 1fr;
        height: 1;
        color: $text-muted;
    }
    """

    requested: var[tuple[Path | None] | None] = var(None, init=False)
    """What :meth:`show` last asked for (None: nothing yet, or a failure worth a retry)."""

    EMPTY_TEXT = "no image yet"
    LOADING_TEXT = "rendering preview…"
    IMAGE_CLASSES = "preview-image"  # classes of the mounted textual_image widget
    PLACEHOLDER_DELAY = 0.15
    """Seconds a new image may take before the previous one gives way to the placeholder."""

    class Shown(Message):
        """The image for ``path`` is on screen (``path`` None: the panel was cleared)."""

        def __init__(self, preview: ImagePreview, path: Path | None) -> None:
            super().__init__()
            self.preview = preview
            self.path = path

        @property
        def control(self) -> ImagePreview:
            return self.preview

    def __init__(
        self,
        kit: ImageKit,
        *,
        size: PreviewSize = "preview",
        show_mode: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.kit = kit
        self.scale = size
        self.show_mode = show_mode
        self._image: Widget | None = None
        self._path: Path | None = None
        self._shown: Path | None = None  # the file whose image is up (also while the next loads)
        self._side = 0  # the side the shown image was decoded at
        self._loading_timer: Timer | None = None
        self._placeholder = Static(self.EMPTY_TEXT, id="preview-placeholder", markup=False)

    @property
    def graphics(self) -> GraphicsChoice:
        return self.kit.graphics

    @property
    def cache(self) -> PreviewCache:
        return self.kit.cache

    @property
    def mode_label(self) -> str:
        """Which renderer draws the image and why, e.g. ``graphics: auto: inside tmux … → …``."""
        return self.graphics.label

    @property
    def path(self) -> Path | None:
        """The file currently shown (None while empty, loading or failed)."""
        return self._path

    def compose(self) -> ComposeResult:
        yield self._placeholder
        if self.show_mode:
            yield Static(self.mode_label, id="preview-mode", markup=False)

    def on_mount(self) -> None:
        wanted = self.requested
        if wanted is not None and wanted[0] is not None:
            self._request(wanted[0])
        else:  # the panel is empty already
            self.set_reactive(ImagePreview.requested, None)

    def show(self, path: Path | None) -> None:
        """Show ``path`` (loaded off the UI thread), or the empty placeholder for None.

        Asking again for what is shown (or on its way) does nothing: the job pool repeats
        itself while polling.
        """
        self.requested = (path,)

    def watch_requested(self, wanted: tuple[Path | None] | None) -> None:
        # Watchers run as soon as it is set, mounted or not: what was asked before is loaded
        # at mount.
        if wanted is not None and self.is_mounted:
            self._request(wanted[0])

    def _request(self, path: Path | None) -> None:
        self._path = None
        if path is None:
            self.workers.cancel_group(self, "preview")
            self._stop_loading_timer()
            self._shown = None
            self.set_class(False, "-has-image")
            self._say(self.EMPTY_TEXT)
            self.post_message(self.Shown(self, None))
            return
        side = self.wanted_side()
        image = self.kit.decoded.get(self.kit.decoded.key_for(path, side))
        if image is not None:  # decoded before, for this size: up in this very frame
            self.workers.cancel_group(self, "preview")
            self._display(path, image, side)
            return
        if self.has_class("-has-image"):
            # Keep the previous image up for a moment: most loads are done before anyone sees.
            if self._loading_timer is None:
                self._loading_timer = self.set_timer(self.PLACEHOLDER_DELAY, self._show_loading)
        else:
            self._say(self.LOADING_TEXT)
        # What changed with it (the details' text, a class) may resize the panel: decode for
        # the size it has once laid out.
        self.call_after_refresh(self._decode, path)

    def _decode(self, path: Path) -> None:
        if self.requested != (path,) or self._path == path:
            return  # something else was asked for meanwhile, or it is up already
        side = self.wanted_side()
        image = self.kit.decoded.get(self.kit.decoded.key_for(path, side))
        if image is not None:
            self.workers.cancel_group(self, "preview")
            self._display(path, image, side)
            return
        self.run_worker(
            lambda: self._load(path, side),
            name=f"preview {clean_text(path.name, limit=60)}",
            group="preview",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _show_loading(self) -> None:
        self._loading_timer = None
        if self._path is None and self.requested is not None:
            self._shown = None
            self.set_class(False, "-has-image")
            self._say(self.LOADING_TEXT)

    def _stop_loading_timer(self) -> None:
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None

    def wanted_side(self) -> int:
        """The side (pixels) to decode at so the image fills this panel (the screen's size
        until the panel is laid out)."""
        cells = self.content_size if self.content_size.area else self.app.size
        width, height = cells.width, max(1, cells.height - (1 if self.show_mode else 0))
        across, down = self.kit.cell_pixels()
        return fit_side((width * across, height * down))

    def on_resize(self, event: Resize) -> None:
        """A panel of another size wants the image at another side (when it changed enough)."""
        wanted = self.requested
        if wanted is None or wanted[0] is None or self._path is None:
            return
        if self.wanted_side() != self._side:
            self._request(wanted[0])

    def scaled_copy(self, path: Path, side: int) -> Path:
        """The cached downscaled copy to decode an image of ``side`` pixels from (runs in the
        worker thread; subclasses pick)."""
        cap = self.cache.full_side if self.scale == "full" else self.cache.max_side
        return self.cache.scaled(path, disk_side(side, cap))

    def _load(self, path: Path, side: int) -> tuple[Path, int, PILImage.Image]:
        """Thread worker: the cached downscaled copy, decoded and fitted, kept for next time."""
        key = self.kit.decoded.key_for(path, side)
        image = decode_fitted(self.scaled_copy(path, side), side)
        self.kit.decoded.put(key, image)
        return path, side, image

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "preview" or worker.node is not self:
            return
        event.stop()
        if event.state == WorkerState.SUCCESS and worker.result is not None:
            path, side, image = worker.result
            if self.requested == (path,):
                self._display(path, image, side)
        elif event.state == WorkerState.ERROR:
            self.set_reactive(ImagePreview.requested, None)  # showing it again tries again
            self._stop_loading_timer()
            self._shown = None
            self.set_class(False, "-has-image")
            self._say(_describe(worker.error))

    def _display(self, path: Path, image: PILImage.Image, side: int) -> None:
        self._stop_loading_timer()
        if self._image is None:
            self._image = self.kit.image_widget()(image, classes=self.IMAGE_CLASSES)
            self.mount(self._image)
        else:
            self._image.image = image  # type: ignore[attr-defined]
        self._path = path
        self._side = side
        self.set_class(True, "-has-image")
        if self._shown != path:
            self._shown = path
            self.post_message(self.Shown(self, path))

    def _say(self, text: str) -> None:
        self._placeholder.update(text)


def _describe(error: Any) -> str:
    """A plain, sanitised line for a failed preview."""
    if isinstance(error, PreviewError):
        return clean_text(str(error), limit=200)
    if isinstance(error, OSError):
        return clean_text(f"can't show this image: {error.strerror or 'unreadable'}", limit=200)
    return "can't show this image"
