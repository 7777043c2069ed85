"""Two fixes around textual-image's Sixel encoder: a dithered palette, and the palette up front.

textual-image quantises without dithering, so gradients come out in bands; :func:`dither`
picks the palette (median cut) and error-diffuses the picture onto it with Pillow, in C, before
the encoder sees it (the encoder keeps an already-paletted image as it is). textual-image 0.12
defines each colour register where it is first used, in the middle of the pixel data, which
xterm draws with stray pixels; :func:`hoist_palette` moves every definition into the header,
which is what img2sixel and chafa emit (textual-image 0.14 already does, so there it is a no-op).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is loaded by the first image encoded
    from PIL import Image

__all__ = ["MAX_REGISTERS", "dither", "hoist_palette"]

MAX_REGISTERS = 256  # colour registers used per image (xterm has 1024, VT340-compatible 256+)
_HEADER = re.compile(r'\x1bP[\d;]*q(?:"[\d;]*)?')
_DEFINE = re.compile(r"#(\d+);2;(\d+);(\d+);(\d+)")
_SELECTION = re.compile(r"#\d+(?!\d|;)")
_LEADING_DEFINITIONS = re.compile(r"(?:#\d+;2;\d+;\d+;\d+)*")


def dither(
    image: Image.Image,
    background: tuple[int, int, int] = (0, 0, 0),
    colors: int = MAX_REGISTERS,
) -> Image.Image:
    """A paletted (mode ``P``) copy of ``image`` with at most ``colors`` colours, dithered.

    Transparent parts are laid on ``background`` first (the widget's own background colour).
    """
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*background, 255))
        rgb = Image.alpha_composite(base, rgba).convert("RGB")
    else:
        rgb = image.convert("RGB")
    palette = rgb.quantize(colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return rgb.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)


def hoist_palette(sixel: str) -> str:
    """``sixel`` with every colour definition (``#N;2;r;g;b``) moved into the header.

    Later uses become plain selections (``#N``). Left unchanged when it isn't one Sixel image
    or a register is defined twice with different colours (then order matters).
    """
    header = _HEADER.match(sixel)
    if header is None:
        return sixel
    definitions: dict[str, str] = {}
    conflict = False

    def select(match: re.Match[str]) -> str:
        nonlocal conflict
        register, definition = match.group(1), match.group(0)
        if definitions.setdefault(register, definition) != definition:
            conflict = True
        return f"#{register}"

    body = sixel[header.end() :]
    lead = _LEADING_DEFINITIONS.match(body)
    current = ""  # a definition also selects its register: keep the last one selected
    for definition in _DEFINE.finditer(lead.group(0) if lead else ""):
        definitions.setdefault(definition.group(1), definition.group(0))
        current = f"#{definition.group(1)}"
    body = body[lead.end() if lead else 0 :]
    if current and not _SELECTION.match(body):
        body = current + body
    body = _DEFINE.sub(select, body)
    if conflict:
        return sixel
    return sixel[: header.end()] + "".join(definitions.values()) + body
