"""Local stand-in for GPT Image 2: draws a deterministic, clearly labelled PNG with Pillow.

The offline backend must never be mistaken for the real model, so every image carries an
"OFFLINE RENDER" band; the prompt's quoted text is drawn large (the thing a user iterating on
a sign or a poster looks at first) and the footer repeats the prompt and the size.
"""

from __future__ import annotations

import functools
import hashlib
import io
import random
import re

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ..trust.sanitize import clean_text

__all__ = ["SIZES", "extract_quotes", "pixel_size", "render_image"]

SIZES: dict[str, tuple[int, int]] = {
    "1024_1024": (1024, 1024),
    "1024_1536": (1024, 1536),
    "1536_1024": (1536, 1024),
    "auto": (1024, 1024),
}

# "double", “curly double”, ‘curly single’, and 'single' only where it clearly opens and closes
# a quote (not the apostrophes of don't or the kids' toys).
_QUOTE_PATTERNS = (
    re.compile(r'"([^"\n]+)"'),
    re.compile(r"“([^”\n]+)”"),
    re.compile(r"‘([^’\n]+)’"),
    re.compile(r"(?:(?<=^)|(?<=[\s(\[{:;,]))'(\S(?:[^'\n]*\S)?)'(?=$|[\s.,;:!?)\]}])"),
)
_MAX_QUOTED_CHARS = 240


def pixel_size(size: str) -> tuple[int, int]:
    """``(width, height)`` for an API size string; ``auto`` renders square. ValueError if unknown."""
    try:
        return SIZES[size]
    except KeyError:
        raise ValueError(f"unknown size {size!r}") from None


def extract_quotes(prompt: str) -> list[str]:
    """The quoted passages of ``prompt``, in the order they appear."""
    found: list[tuple[int, str]] = []
    for pattern in _QUOTE_PATTERNS:
        for match in pattern.finditer(prompt):
            text = match.group(1).strip()
            if text:
                found.append((match.start(), text))
    found.sort()
    return [text for _, text in found]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # load_default(size=) is a scalable FreeType font (Pillow >= 10.1).
    return _load_font(max(8, int(size)))


@functools.lru_cache(maxsize=64)
def _load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: object, width: int) -> list[str]:
    """Greedy word wrap; words longer than ``width`` are split by characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if draw.textlength(candidate, font=font) <= width:  # type: ignore[arg-type]
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            for char in word:
                if draw.textlength(current + char, font=font) > width and current:  # type: ignore[arg-type]
                    lines.append(current)
                    current = ""
                current += char
        lines.append(current)
    return [line for line in lines if line] or [""]


def _fit(
    draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int], start: int, minimum: int
) -> tuple[object, list[str], int]:
    """Largest font (from ``start`` down to ``minimum``) whose wrapped text fits ``box``."""
    width, height = box
    size = start
    while True:
        font = _font(size)
        lines = _wrap(draw, text, font, width)
        line_height = int(size * 1.2)
        if line_height * len(lines) <= height or size <= minimum:
            return font, lines, line_height
        size = max(minimum, int(size * 0.85))


def _draw_centred(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    font: object,
    line_height: int,
    centre: tuple[int, int],
    fill: tuple[int, ...],
) -> None:
    top = centre[1] - line_height * len(lines) // 2
    for index, line in enumerate(lines):
        draw.text(
            (centre[0], top + index * line_height + line_height // 2),
            line,
            font=font,  # type: ignore[arg-type]
            fill=fill,
            anchor="mm",
        )


def _background(rng: random.Random, width: int, height: int) -> Image.Image:
    """A two-colour gradient at a prompt-chosen angle, with a few translucent shapes."""
    dark = tuple(rng.randrange(20, 110) for _ in range(3))
    light = tuple(rng.randrange(120, 235) for _ in range(3))
    gradient = Image.linear_gradient("L").rotate(rng.choice((0, 45, 90, 135, 180, 225, 270, 315)))
    gradient = gradient.resize((width, height), Image.Resampling.BILINEAR)
    image = ImageOps.colorize(gradient, dark, light).convert("RGBA")
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    shapes = ImageDraw.Draw(overlay)
    for _ in range(rng.randrange(5, 10)):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(min(width, height) // 12, min(width, height) // 3)
        colour = (*(rng.randrange(256) for _ in range(3)), rng.randrange(40, 110))
        box = (x - radius, y - radius, x + radius, y + radius)
        kind = rng.randrange(3)
        if kind == 0:
            shapes.ellipse(box, fill=colour)
        elif kind == 1:
            shapes.rectangle(box, fill=colour)
        else:
            shapes.regular_polygon((x, y, radius), rng.randrange(3, 8), fill=colour)
    return Image.alpha_composite(image, overlay)


def render_image(
    prompt: str, size: str, *, reference_count: int = 0, request_id: str = ""
) -> bytes:
    """A PNG of ``size`` for ``prompt``: same prompt, size and request id give the same bytes.

    CPU-bound (tens to a few hundred ms): call it off the event loop.
    """
    width, height = pixel_size(size)
    text = clean_text(prompt, keep_newlines=True).strip()
    digest = hashlib.sha256(f"{size}\0{text}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    image = _background(rng, width, height)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    margin = width // 16

    # The unmistakable mark: a band across the top and a stamp in the opposite corner.
    band = height // 11
    draw.rectangle((0, 0, width, band), fill=(10, 10, 10, 215))
    draw.rectangle((0, band - 6, width, band), fill=(255, 196, 0, 255))
    _draw_centred(
        draw,
        ["OFFLINE RENDER"],
        _font(band // 2),
        band,
        (width // 2, band // 2),
        (255, 196, 0, 255),
    )
    stamp = _font(max(14, width // 48))
    draw.text(
        (width - margin // 2, band + margin // 2),
        "offline · not GPT Image 2",
        font=stamp,
        fill=(255, 255, 255, 200),
        anchor="ra",
    )

    # The quoted text, large and legible on a dark panel; else the prompt itself, smaller.
    quotes = extract_quotes(text)
    panel_box = (width - 2 * margin, int(height * 0.5))
    if quotes:
        body = _cut("\n".join(quotes), _MAX_QUOTED_CHARS)
        font, lines, line_height = _fit(draw, body, panel_box, width // 7, 16)
        colour = (255, 255, 255, 255)
    else:
        body = _cut(text, _MAX_QUOTED_CHARS) or "(empty prompt)"
        font, lines, line_height = _fit(draw, body, panel_box, width // 20, 14)
        colour = (235, 235, 235, 235)
    block_height = line_height * len(lines)
    centre = (width // 2, height // 2)
    draw.rounded_rectangle(
        (
            margin // 2,
            centre[1] - block_height // 2 - margin // 2,
            width - margin // 2,
            centre[1] + block_height // 2 + margin // 2,
        ),
        radius=margin // 3,
        fill=(0, 0, 0, 150),
    )
    _draw_centred(draw, lines, font, line_height, centre, colour)

    # Footer: what was asked, at what size, for which request.
    footer_font = _font(max(12, width // 64))
    footer_height = int(height * 0.085)
    draw.rectangle((0, height - footer_height, width, height), fill=(0, 0, 0, 185))
    details = [size if size != "auto" else "auto (1024_1024)"]
    if reference_count:
        plural = "image" if reference_count == 1 else "images"
        details.insert(0, f"edit · {reference_count} reference {plural} (not fetched offline)")
    if request_id:
        details.append(request_id[:12])
    snippet = " ".join(text.split())
    snippet = _cut(snippet, 110)
    draw.text(
        (margin // 2, height - footer_height * 2 // 3),
        snippet,
        font=footer_font,
        fill=(255, 255, 255, 230),
        anchor="lm",
    )
    draw.text(
        (margin // 2, height - footer_height // 4 - 2),
        "  ·  ".join(details),
        font=footer_font,
        fill=(255, 196, 0, 230),
        anchor="ls",
    )

    final = Image.alpha_composite(image, layer).convert("RGB")
    buffer = io.BytesIO()
    final.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
