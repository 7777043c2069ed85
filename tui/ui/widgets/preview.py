"""An image preview panel: a downscaled, cached copy drawn with the chosen terminal renderer.

The file is downscaled (once, cached) and decoded in a thread worker, so the UI thread never
touches full-size files; the textual_image widget is sized ``auto``×``auto`` inside the panel,
which fits it to the panel and keeps its aspect ratio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from PIL import Image as PILImage
from textual.app import ComposeResult
from textual.message import Message
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ...trust.sanitize import clean_text
from ..imaging import GraphicsChoice, ImageKit, PreviewCache, PreviewError

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
        self.set_class(False, "-has-image")
        if path is None:
            self.workers.cancel_group(self, "preview")
            self._say(self.EMPTY_TEXT)
            self.post_message(self.Shown(self, None))
            return
        self._say(self.LOADING_TEXT)
        self.run_worker(
            lambda: self._load(path),
            name=f"preview {clean_text(path.name, limit=60)}",
            group="preview",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def scaled_copy(self, path: Path) -> Path:
        """The cached downscaled copy to draw (runs in the worker thread; subclasses pick)."""
        if self.scale == "full" and self.graphics.mode != "halfcell":
            return self.cache.fullscreen_for(path)
        return self.cache.preview_for(path)

    def _load(self, path: Path) -> tuple[Path, PILImage.Image]:
        """Thread worker: the cached downscaled copy, decoded, ready to draw."""
        with PILImage.open(self.scaled_copy(path), formats=("PNG",)) as image:
            image.load()
            return path, image.copy()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "preview" or worker.node is not self:
            return
        event.stop()
        if event.state == WorkerState.SUCCESS and worker.result is not None:
            path, image = worker.result
            if self.requested == (path,):
                self._display(path, image)
        elif event.state == WorkerState.ERROR:
            self.set_reactive(ImagePreview.requested, None)  # showing it again tries again
            self._say(_describe(worker.error))

    def _display(self, path: Path, image: PILImage.Image) -> None:
        if self._image is None:
            self._image = self.kit.image_widget()(image, classes=self.IMAGE_CLASSES)
            self.mount(self._image)
        else:
            self._image.image = image  # type: ignore[attr-defined]
        self._path = path
        self.set_class(True, "-has-image")
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
