"""Small copies of a just-saved image, made while its pixels are already decoded.

Saving an image decodes it whole to verify it (:mod:`tui.storage.downloads`). A front end that
shows thumbnails or a preview panel can have its small copies written right then, on the saving
thread, from those pixels (``Downloader.after_save`` is the hook) — rather than reading and
decoding the full image again when it is first shown, in the middle of results landing. Which
sides, and under which names, is the front end's business (its cache's keys); making them is
this module's. Copies are PNG, written atomically (a hidden temp file in the same folder, then a
rename), so a reader only ever sees whole files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is loaded by the first image scaled, in its thread
    from PIL import Image

__all__ = ["fitted", "write_scaled"]


def fitted(image: Image.Image, side: int) -> Image.Image:
    """A new image: ``image`` upright (its EXIF orientation applied), fitted into side×side
    (never enlarged), in RGB or RGBA."""
    from PIL import Image, ImageOps

    picture = ImageOps.exif_transpose(image)
    if picture is image:  # some Pillow versions hand back the same image when nothing turns
        picture = image.copy()
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    if picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
    return picture


def write_scaled(image: Image.Image, targets: Mapping[int, Path]) -> list[Path]:
    """Write ``image`` fitted into each side of ``targets`` (side → PNG path); return the paths
    written. Existing files are left as they are. The largest copy is made from ``image``, each
    smaller one from the one before (one full-size resampling in all)."""
    written: list[Path] = []
    source = image
    made: list[Image.Image] = []
    try:
        for side in sorted(targets, reverse=True):
            target = Path(targets[side])
            if target.exists():
                continue
            copy = fitted(source, side)
            made.append(copy)
            _save_png(copy, target)
            written.append(target)
            source = copy
    finally:
        for copy in made:
            copy.close()
    return written


def _save_png(picture: Image.Image, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    import secrets  # loaded with the first preview, not with the app

    temp = target.with_name(f".{target.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        picture.save(temp, "PNG", compress_level=3)
        os.replace(temp, target)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
