"""Contact sheets: a sweep or a comparison as one labelled PNG, with every recipe inside.

:func:`render_contact_sheet` lays the images out in a grid, each captioned with what sets it
apart (a sweep's alternative, a job number and its diff), under a title line. The recipes of all
cells travel in the PNG as one ``gpt-image-tui:contact-sheet`` iTXt chunk (JSON), so the sheet
says how to make every image on it again. :func:`save_contact_sheet` writes it next to the
images under a name that never overwrites a file. No Textual here.
"""

from __future__ import annotations

import io
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from .. import __version__
from ..trust.sanitize import clean_text
from .recipe import CHUNK_PREFIX, embed_chunks, read_chunks

__all__ = [
    "SHEET_CHUNK",
    "SheetCell",
    "read_sheet_cells",
    "render_contact_sheet",
    "save_contact_sheet",
]

SHEET_CHUNK = CHUNK_PREFIX + "contact-sheet"
_CELL = 384  # the longer side of each image on the sheet, in pixels
_GAP = 16
_MAX_COLUMNS = 6
_BACKGROUND = (24, 24, 28)
_CAPTION = (236, 236, 240)
_SUBTLE = (160, 160, 172)
_MISSING = (60, 60, 68)


@dataclass(frozen=True, slots=True)
class SheetCell:
    """One image on the sheet: where it is, its caption, and the recipe to make it again."""

    image: Path | None  # None (or a file that is gone): a grey box says "no image"
    caption: str  # what sets it apart: the sweep alternative, "#12 +golden hour" …
    detail: str = ""  # a second, quieter line: job number, size, state
    recipe: dict[str, Any] = field(default_factory=dict)  # prompt, size, references, request id


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow without a scalable default font
        return ImageFont.load_default()


# Pillow's built-in font has no glyphs for some typographic marks: draw their plain forms.
_PLAIN_FORMS = str.maketrans({"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'",
                              "…": "...", "×": "x", "→": "->", "−": "-"})


def _fit(text: str, font: Any, width: int, draw: ImageDraw.ImageDraw) -> str:
    """``text`` (plain forms of typographic marks) shortened with "..." to fit ``width`` px."""
    text = text.translate(_PLAIN_FORMS)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "..."


def _thumbnail(path: Path | None) -> Image.Image | None:
    if path is None or not path.is_file():
        return None
    try:
        with Image.open(path, formats=["PNG", "JPEG", "WEBP"]) as opened:
            image = opened.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    image.thumbnail((_CELL, _CELL))
    return image


def render_contact_sheet(cells: Sequence[SheetCell], *, title: str) -> Image.Image:
    """The sheet as an RGB image: title, then the cells in a grid with their captions."""
    if not cells:
        raise ValueError("a contact sheet needs at least one image")
    columns = min(_MAX_COLUMNS, max(1, math.ceil(math.sqrt(len(cells)))))
    rows = math.ceil(len(cells) / columns)
    caption_font, detail_font, title_font = _font(18), _font(14), _font(22)
    caption_height = 50
    title_height = 44
    width = columns * _CELL + (columns + 1) * _GAP
    height = title_height + rows * (_CELL + caption_height) + (rows + 1) * _GAP
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text(
        (_GAP, _GAP), _fit(clean_text(title), title_font, width - 2 * _GAP, draw),
        fill=_CAPTION, font=title_font,
    )
    for index, cell in enumerate(cells):
        row, column = divmod(index, columns)
        x = _GAP + column * (_CELL + _GAP)
        y = title_height + _GAP + row * (_CELL + caption_height + _GAP)
        thumb = _thumbnail(cell.image)
        if thumb is None:
            draw.rectangle((x, y, x + _CELL - 1, y + _CELL - 1), fill=_MISSING)
            draw.text((x + 12, y + _CELL // 2 - 8), "no image", fill=_SUBTLE, font=detail_font)
        else:
            sheet.paste(thumb, (x + (_CELL - thumb.width) // 2, y + (_CELL - thumb.height) // 2))
        caption = _fit(clean_text(cell.caption) or "—", caption_font, _CELL, draw)
        draw.text((x, y + _CELL + 6), caption, fill=_CAPTION, font=caption_font)
        if cell.detail:
            detail = _fit(clean_text(cell.detail), detail_font, _CELL, draw)
            draw.text((x, y + _CELL + 30), detail, fill=_SUBTLE, font=detail_font)
    return sheet


def _sheet_json(cells: Sequence[SheetCell], title: str) -> str:
    return json.dumps(
        {
            "version": 1,
            "app_version": __version__,
            "title": title,
            "cells": [
                {
                    "caption": clean_text(cell.caption),
                    "detail": clean_text(cell.detail),
                    "recipe": cell.recipe,
                    "file": clean_text(cell.image.name) if cell.image else None,
                }
                for cell in cells
            ],
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def save_contact_sheet(
    cells: Sequence[SheetCell], directory: Path, *, title: str, stem: str = "contact-sheet"
) -> Path:
    """Render the sheet into ``directory`` as a new PNG (never replacing a file); its path.

    The name is ``<stem>_<YYYYmmdd-HHMMSS>.png`` (``-1``, ``-2`` … when taken); the file is
    written whole to a temp name first, so nothing partial is ever visible.
    """
    sheet = render_contact_sheet(cells, title=title)
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG", optimize=False)
    data = embed_chunks(buffer.getvalue(), {SHEET_CHUNK: _sheet_json(cells, title)})
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe_stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:60] or "sheet"
    temp = directory / f".{safe_stem}.{os.getpid()}.tmp"
    with open(temp, "wb") as sink:
        sink.write(data)
        sink.flush()
        os.fsync(sink.fileno())
    try:
        for number in range(1000):
            suffix = "" if number == 0 else f"-{number}"
            target = directory / f"{safe_stem}_{stamp}{suffix}.png"
            try:
                os.link(temp, target)
            except FileExistsError:
                continue
            return target
        raise FileExistsError(f"too many contact sheets named {safe_stem}_{stamp}-N.png")
    finally:
        temp.unlink(missing_ok=True)


def read_sheet_cells(path: Path) -> list[dict[str, Any]]:
    """The cells (captions and recipes) stored in a contact sheet written by this app."""
    text = read_chunks(path).get(SHEET_CHUNK)
    if not text:
        return []
    cells = json.loads(text).get("cells", [])
    return [cell for cell in cells if isinstance(cell, dict)]
