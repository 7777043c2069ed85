"""How long the offline backend takes to draw one image, against Pillow writing a plain PNG of
the same size, measured alternately in the same run.

Usage (from the repository root, with the venv active)::

    python -m bench.offline_render [--runs 15]

The offline render (:func:`tui.offline.render.render_image`) is CPU work done for every job on
the embedded backend; the baseline is the part no render can skip: encoding the very picture it
drew as PNG. The ratio is what drawing adds. Medians with the spread; nothing is asserted (the
figure used to be a test with a wall-clock limit, 1.5 s, which a loaded machine could fail).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from PIL import Image

from bench._stats import spread, verdict
from tui.offline.render import render_image

PROMPT = 'a landscape with the words "FAST ENOUGH" on a billboard'
TARGET = 3.0  # drawing and encoding: at most three times the encoding alone


def encode(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="samples of each (default 15)")
    args = parser.parse_args()
    render_image(PROMPT, "1024_1024")  # fonts loaded once, as in a serving process
    for size in ("1024_1024", "1536_1024"):
        renders: list[float] = []
        baselines: list[float] = []
        for run in range(args.runs):
            started = time.perf_counter()
            drawn = render_image(f"{PROMPT} {run}", size)  # a new prompt each time: no cache
            renders.append(time.perf_counter() - started)
            with Image.open(io.BytesIO(drawn)) as picture:
                picture.load()
                started = time.perf_counter()
                encode(picture)
                baselines.append(time.perf_counter() - started)
        ratio = statistics.median(renders) / statistics.median(baselines)
        print(f"offline render {size}: {spread(renders, 1000)} ms; encoding it alone "
              f"{spread(baselines, 1000)} ms; ratio {ratio:.2f} — {verdict(ratio, TARGET)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
