"""Mean cell error of half-cell images at the colour depth the app would use, before and after
detection, in the environments tmux and SSH users have.

Usage (from the repository root, with the venv active)::

    python -m bench.halfcell_colors [--cols 60]

A test picture (the offline backend's render of a fixed prompt) is drawn by textual-image's
half-cell renderer exactly as the app draws it, written by a Rich console at a colour depth
(24-bit, 256, 16 colours), and the colours the terminal would show are read back from the
escape codes (256 and 16 colours through xterm's standard palette). The error of one half cell
is the distance in RGB (0–441) between that colour and the mean of the picture's pixels the
half cell covers. "Before" is the depth Textual picks from the environment alone (SSH doesn't
forward COLORTERM); "after" is the depth :func:`tui.ui.terminal.decide.decide` picks from the same
environment and the answers recorded from the real terminal. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import math
import re

from PIL import Image
from rich.color import Color
from rich.console import Console
from rich.segment import Segment

from tui.offline.render import render_image
from tui.ui.terminal.decide import TmuxInfo, decide, facts_from_env
from tui.ui.terminal.replies import parse_replies

PROMPT = 'a red cube on a blue table, soft light, the label reads "AQUA+"'
XTERM = b"\x1bP>|XTerm(379)\x1b\\\x1bP1$r0;38:2::1:2:3m\x1b\\\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c"
TMUX = b"\x1bP>|tmux 3.3a\x1b\\\x1b[?1;2c"
TMUX_XTERM = TmuxInfo("3.3a", False, frozenset({"256", "RGB"}), "xterm", "XTerm(379)")
# (name, environment, recorded answers, tmux info)
ENVIRONMENTS = [
    ("ssh to xterm (TERM=xterm-256color)", {"TERM": "xterm-256color", "SSH_TTY": "/dev/pts/1"}, XTERM, None),
    ("ssh, TERM=xterm", {"TERM": "xterm", "SSH_TTY": "/dev/pts/1"}, XTERM, None),
    ("tmux in xterm", {"TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"}, TMUX, TMUX_XTERM),
    ("ssh from inside tmux", {"TERM": "xterm-256color", "SSH_TTY": "/dev/pts/1"}, TMUX, None),
]
_SGR = re.compile(r"\x1b\[([\d;]*)m▀")


def half_cells(picture: Image.Image, cols: int) -> tuple[list[Segment], Image.Image]:
    """The half-cell renderer's segments for ``cols`` columns, and the reference picture."""
    from tui.ui.imaging import GraphicsChoice, _load_textual_image

    _load_textual_image(GraphicsChoice("halfcell", "bench"))
    from textual_image.renderable.halfcell import Image as HalfcellImage

    rows = max(1, round(cols * picture.height / picture.width / 2))
    renderable = HalfcellImage(picture, width=cols, height=rows)
    console = Console(width=cols, height=rows, color_system="truecolor", file=io.StringIO())
    segments = list(console.render(renderable, console.options.update(height=rows)))
    reference = picture.convert("RGB").resize((cols, rows * 2), Image.Resampling.BOX)
    return segments, reference


def shown_colours(segments: list[Segment], color_system: str, cols: int) -> list[tuple[int, int, int]]:
    """The RGB the terminal shows for each half cell (upper row first, then lower), row by row."""
    out = io.StringIO()
    console = Console(file=out, color_system=color_system, width=cols, force_terminal=True,  # type: ignore[arg-type]
                      legacy_windows=False)
    console.print(Segments(segments), end="")
    uppers: list[tuple[int, int, int]] = []
    lowers: list[tuple[int, int, int]] = []
    rows: list[list[tuple[int, int, int]]] = []
    for line in out.getvalue().split("\n"):
        cells = _SGR.findall(line)
        if not cells:
            continue
        uppers, lowers = [], []
        for params in cells:
            fg, bg = parse_sgr(params)
            uppers.append(fg)
            lowers.append(bg)
        rows += [uppers, lowers]
    return [colour for row in rows for colour in row]


class Segments:
    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments

    def __rich_console__(self, console: Console, options: object) -> list[Segment]:
        return self.segments


def parse_sgr(params: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    values = [int(v) for v in params.split(";") if v]
    fg = bg = (0, 0, 0)
    i = 0
    while i < len(values):
        code = values[i]
        if code in (38, 48) and values[i + 1] == 2:
            colour = tuple(values[i + 2 : i + 5])
            i += 5
        elif code in (38, 48) and values[i + 1] == 5:
            colour = Color.from_ansi(values[i + 2]).get_truecolor()
            i += 3
        elif 30 <= code <= 37 or 90 <= code <= 97 or 40 <= code <= 47 or 100 <= code <= 107:
            base = code % 10 + (8 if code >= 90 else 0)
            colour = Color.from_ansi(base).get_truecolor()
            code = 38 if code < 40 or 90 <= code <= 97 else 48
            i += 1
        else:
            i += 1
            continue
        if code == 38:
            fg = colour  # type: ignore[assignment]
        else:
            bg = colour  # type: ignore[assignment]
    return fg, bg


def mean_error(segments: list[Segment], reference: Image.Image, color_system: str) -> float:
    shown = shown_colours(segments, color_system, reference.width)
    expected = [reference.getpixel((x, y)) for y in range(reference.height) for x in range(reference.width)]
    assert len(shown) == len(expected), (len(shown), len(expected))
    return sum(math.dist(a, b) for a, b in zip(shown, expected, strict=True)) / len(expected)


def textual_default(environment: dict[str, str]) -> str:
    """The colour system Textual (Rich) picks from the environment alone."""
    console = Console(_environ=environment, force_terminal=True, file=io.StringIO())
    system = console.color_system or "standard"
    return {"standard": "16", "256": "256", "truecolor": "truecolor"}[system]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cols", type=int, default=60, help="image width in cells")
    args = parser.parse_args()
    picture = Image.open(io.BytesIO(render_image(PROMPT, "1024_1024")))
    systems = {"truecolor": "truecolor", "256": "256", "16": "standard"}
    errors = {}
    for depth, system in systems.items():
        # fresh segments each time: a Rich Style caches its escape codes for the first depth
        segments, reference = half_cells(picture, args.cols)
        errors[depth] = mean_error(segments, reference, system)
    print(f"half-cell image {reference.width}×{reference.height // 2} cells; mean cell error "
          "(RGB distance 0–441) by colour depth:")
    for depth, error in errors.items():
        print(f"  {depth:>9}: {error:5.1f}")
    print("\nenvironment                               before (env only)     after (detected)")
    for name, environment, answer, tmux in ENVIRONMENTS:
        before = textual_default(environment)
        facts = facts_from_env(environment, tty_in=True, tty_out=True, tmux=tmux)
        after = decide(facts, parse_replies(answer)).colors
        assert after is not None
        print(f"  {name:<38}  {before:>9} {errors[before]:5.1f}      "
              f"{after.depth:>9} {errors[after.depth]:5.1f}")


if __name__ == "__main__":
    main()
