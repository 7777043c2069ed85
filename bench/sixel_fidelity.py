"""How faithfully a real xterm shows Sixel images from each encoder: % of pixels off by > 60.

Usage (from the repository root, with the venv active; needs term-shot, i.e. Xvfb + xterm)::

    python -m bench.sixel_fidelity [--term-shot PATH] [--side 360] [--keep DIR]

A test picture (the offline backend's render of a fixed prompt, ``--side`` pixels square) is
encoded by textual-image as it comes (what the app drew before), by the app's own path
(:mod:`tui.ui.terminal.sixel`: dithered, palette in the header) and, when installed, by img2sixel
(libsixel-bin; chafa fits its output to whole cells, so its pixels don't line up). Each is shown at the top-left of xterm in VT340 mode through
term-shot, and the screenshot is compared with the picture pixel by pixel: a pixel is "off"
when any channel differs by more than 60 levels. Also printed: encode time and size. Nothing is
asserted; the numbers compare encoders measured in the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageChops

from tui.offline.render import render_image

PROMPT = 'a red cube on a blue table, soft light, the label reads "AQUA+"'
DEFAULT_TERM_SHOT = "/work/shared/tools/term-shot"
THRESHOLD = 60


def encoders(picture: Image.Image, png: Path) -> dict[str, tuple[bytes, float]]:
    """Sixel bytes (and seconds to make them) from each encoder available."""
    from tui.ui.imaging import GraphicsChoice, _load_textual_image
    from tui.ui.terminal.sixel import dither, hoist_palette

    _load_textual_image(GraphicsChoice("sixel", "bench"))
    from textual_image._sixel import image_to_sixels

    made: dict[str, tuple[bytes, float]] = {}

    def timed(name: str, make: object) -> None:
        started = time.perf_counter()
        data = make()  # type: ignore[operator]
        made[name] = (data, time.perf_counter() - started)

    timed("textual-image as is", lambda: image_to_sixels(picture).encode())
    timed("gpt-image-tui", lambda: hoist_palette(image_to_sixels(dither(picture))).encode())
    if shutil.which("img2sixel"):
        timed("img2sixel", lambda: subprocess.run(
            ["img2sixel", str(png)], capture_output=True, check=True).stdout)
    return made



def shoot(term_shot: str, show: str, shot: Path) -> Image.Image:
    script = f'printf "\\033[H\\033[2J"; {show}; sleep 8'
    subprocess.run(
        [term_shot, "--term", "xterm-sixel", "--size", "100x40", "--wait", "3", str(shot), "--",
         "sh", "-c", script],
        check=True, capture_output=True, timeout=120,
    )
    return Image.open(shot).convert("RGB")


def off_share(picture: Image.Image, screen: Image.Image) -> tuple[float, tuple[int, int]]:
    """Share of pixels off by more than THRESHOLD, at the offset (window border) that fits best."""
    best: tuple[float, tuple[int, int]] = (2.0, (0, 0))
    for dx in range(0, 9):
        for dy in range(0, 9):
            crop = screen.crop((dx, dy, dx + picture.width, dy + picture.height))
            difference = ImageChops.difference(picture, crop)
            worst = ImageChops.lighter(
                ImageChops.lighter(difference.getchannel(0), difference.getchannel(1)),
                difference.getchannel(2),
            )
            histogram = worst.histogram()
            share = sum(histogram[THRESHOLD + 1 :]) / (picture.width * picture.height)
            best = min(best, (share, (dx, dy)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--term-shot", default=os.environ.get("TERM_SHOT", DEFAULT_TERM_SHOT))
    parser.add_argument("--side", type=int, default=360, help="picture side in pixels")
    parser.add_argument("--keep", type=Path, help="keep the screenshots in this directory")
    args = parser.parse_args()
    if not shutil.which(args.term_shot):
        raise SystemExit(f"term-shot is needed for this benchmark (not found: {args.term_shot})")
    picture = Image.open(io.BytesIO(render_image(PROMPT, "1024_1024"))).convert("RGB")
    picture = picture.resize((args.side, args.side), Image.Resampling.LANCZOS)
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        png = work / "picture.png"
        picture.save(png)
        print(f"{args.side}×{args.side} px picture in xterm (VT340 Sixel), pixels off by > {THRESHOLD}:")
        shows: list[tuple[str, str, str]] = []
        for name, (data, seconds) in encoders(picture, png).items():
            sixel = work / f"{name.replace(' ', '-')}.six"
            sixel.write_bytes(data)
            shows.append((name, f"cat {sixel}",
                          f"encode {seconds * 1000:6.1f} ms  {len(data) / 1024:6.1f} kB"))
        for name, show, facts in shows:
            shot = (args.keep or work) / f"sixel-{name.replace(' ', '-')}.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            share, offset = off_share(picture, shoot(args.term_shot, show, shot))
            print(f"  {name:<20} {share * 100:6.2f} %   {facts}  (offset {offset})")


if __name__ == "__main__":
    main()
