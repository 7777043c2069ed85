"""A small thumbnail: a cached downscaled copy (``PreviewCache.thumbnail_for``) made and decoded
in a thread worker, drawn with the chosen renderer, or one plain line saying why not."""

from __future__ import annotations

from pathlib import Path

from PIL import Image as PILImage
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ..imaging import GraphicsChoice, PreviewCache, PreviewError, image_widget_class
from ..sanitize import clean_text

__all__ = ["Thumb"]


class Thumb(Widget):
    """One thumbnail; :meth:`show` a path (or None) and it appears when ready."""

    DEFAULT_CSS = """
    Thumb { width: 12; height: 5; align: center middle; }
    Thumb > .thumb-note { width: 1fr; height: auto; color: $text-muted; text-align: center; }
    Thumb > .thumb-image { width: auto; height: auto; display: none; }
    Thumb.-has-image > .thumb-image { display: block; }
    Thumb.-has-image > .thumb-note { display: none; }
    """

    def __init__(
        self,
        graphics: GraphicsChoice,
        cache: PreviewCache,
        *,
        side: int | None = None,
        empty: str = "no image",
        image_class: type | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._ready = False
        self.graphics = graphics
        self.cache = cache
        self.side = side
        self.empty = empty
        self._image_class = image_class
        self._image: Widget | None = None
        self._wanted: Path | None = None
        self.path: Path | None = None  # the file on screen now
        self._before_mount: Path | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(self.empty), classes="thumb-note")

    def on_mount(self) -> None:
        self._ready = True
        if self._before_mount is not None:
            self.show(self._before_mount)

    def show(self, path: Path | str | None) -> None:
        """Show ``path``'s thumbnail (made off the UI thread), or the empty note for None."""
        wanted = Path(path) if path else None
        if not self._ready:
            self._before_mount = wanted
            return
        if wanted is not None and wanted == self._wanted:
            return
        self._wanted = wanted
        self.path = None
        self.set_class(False, "-has-image")
        if wanted is None:
            self.workers.cancel_group(self, "thumb")
            self._say(self.empty)
            return
        self._say("…")
        self.run_worker(
            lambda: self._load(wanted),
            name="thumbnail",
            group="thumb",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load(self, path: Path) -> tuple[Path, PILImage.Image]:
        """Thread worker: the cached thumbnail, decoded."""
        scaled = self.cache.thumbnail_for(path, self.side)
        with PILImage.open(scaled, formats=("PNG",)) as image:
            image.load()
            return path, image.copy()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "thumb" or worker.node is not self:
            return
        event.stop()
        if event.state == WorkerState.SUCCESS and worker.result is not None:
            path, image = worker.result
            if path == self._wanted:
                self._display(path, image)
        elif event.state == WorkerState.ERROR:
            error = worker.error
            self._wanted = None
            self._say(clean_text(str(error), limit=60) if isinstance(error, PreviewError) else "unreadable")

    def _display(self, path: Path, image: PILImage.Image) -> None:
        if self._image is None:
            widget_class = self._image_class or image_widget_class(self.graphics)
            self._image = widget_class(image, classes="thumb-image")
            self.mount(self._image)
        else:
            self._image.image = image  # type: ignore[attr-defined]
        self.path = path
        self.set_class(True, "-has-image")

    def _say(self, text: str) -> None:
        if self._ready:
            self.query_one(".thumb-note", Static).update(Text(text))
