"""A small thumbnail: an :class:`ImagePreview` drawing ``PreviewCache.thumbnail_for``'s copy."""

from __future__ import annotations

from pathlib import Path

from ..imaging import ImageKit
from .preview import ImagePreview

__all__ = ["Thumb"]


class Thumb(ImagePreview):
    """One thumbnail; :meth:`show` a path (or None) and it appears when ready.

    Everything but the size of the cached copy (and the texts) is :class:`ImagePreview`'s:
    made and decoded in a thread worker (kept decoded for the next time it is shown), drawn with
    the chosen renderer, or one plain line.
    """

    DEFAULT_CSS = """
    Thumb { width: 12; height: 5; }
    """

    LOADING_TEXT = "…"
    IMAGE_CLASSES = "preview-image thumb-image"

    def __init__(
        self,
        kit: ImageKit,
        *,
        side: int | None = None,
        empty: str = "no image",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        self.EMPTY_TEXT = empty
        self.side = side
        super().__init__(kit, name=name, id=id, classes=classes)

    def show(self, path: Path | str | None) -> None:
        super().show(Path(path) if path else None)

    def scaled_copy(self, path: Path, side: int) -> Path:
        return self.cache.thumbnail_for(path, self.side)
