"""Row "moving through the job list": does a cached preview swap in within the same frame?

    .venv/bin/python -m bench.joblist [--jobs 12] [--passes 3]

A private history gets ``--jobs`` finished jobs, each with its own 1024×1024 PNG (written
through ``tui.storage.history.History``). The app starts offline with half-cell images in a
100x30 tmux pane; F3 moves to the job list. A first pass goes down the list, waiting at each
job until its preview is drawn: that fills the preview cache and records what each job's
image looks like on screen (its rows of ``▀`` cells with their colours). Then ``--passes``
passes go up and down again: every preview is cached now. For each arrow key the script
follows every frame the app writes (tmux control mode: bursts of output less than 8 ms apart
are one frame; Textual draws at most 60 frames a second) until the job's own image is on
screen, and reports:

* key → first frame (the highlight moves), key → the right image on screen;
* how many moves showed the image in that first frame, and how many drew the
  "rendering preview…" placeholder (or any frame without the image) in between.

Target: a cached preview swaps in within the same frame — every move, no placeholder.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time

from bench._common import private_home, quit_app, seed_finished_jobs, start_app
from bench._stats import percentile
from bench._tmux import Output, Pane, Tmux

# Bursts closer than this are one frame, split by the pseudo-terminal's reads (a half-cell image
# is ~30 KB of output, read by tmux in pieces; on a busy machine the pieces come a few ms
# apart). Textual draws on a 1/60 s timer (textual.screen.UPDATE_PERIOD): two frames are never
# closer than ~16.7 ms, so half that still tells them apart.
FRAME_GAP = 0.008
PLACEHOLDER = b"rendering preview"
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_DETAILS_HEAD = re.compile(r"#(\d+) · DONE · ")


def image_rows(screen: str) -> tuple[str, ...]:
    """The rows of the screen (with colours) that hold half-cell image cells."""
    return tuple(line for line in screen.splitlines() if "▀" in line or "▄" in line)


def frames(outputs: list[Output]) -> list[list[Output]]:
    grouped: list[list[Output]] = []
    for out in outputs:
        if grouped and out.at - grouped[-1][-1].at < FRAME_GAP:
            grouped[-1].append(out)
        else:
            grouped.append([out])
    return grouped


def selected_id(screen: str) -> int | None:
    """The job whose details are shown (``#12 · DONE · …``)."""
    found = _DETAILS_HEAD.search(_SGR.sub("", screen))
    return int(found.group(1)) if found else None


def _selected(screen: str) -> int:
    job = selected_id(screen)
    if job is None:
        raise RuntimeError("no job is selected:\n" + _SGR.sub("", screen))
    return job


def settle(pane: Pane, quiet: float = 0.4, timeout: float = 20.0) -> str:
    """Wait until the pane has written nothing for ``quiet`` s; its screen with colours."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outputs = pane.tmux.outputs()
        last = outputs[-1].at if outputs else 0.0
        if time.monotonic() - last >= quiet:
            break
        time.sleep(0.05)
    return pane.capture(escapes=True)


def move(pane: Pane, key: str, expect: int, image: tuple[str, ...]) -> dict[str, float | bool]:
    """One arrow key onto job ``expect`` whose image rows are ``image``."""
    sent = pane.send(key)
    shown = pane.wait_for(
        lambda screen: selected_id(screen) == expect and image_rows(screen) == image,
        since=sent, escapes=True, timeout=20,
    )
    after = [out for out in pane.tmux.outputs() if sent <= out.at]
    grouped = frames(after)
    first = grouped[0][0].at if grouped else shown
    # ``shown`` is the time of the burst that brought the image: the frame holding it.
    image_frame = next((i for i, frame in enumerate(grouped) if frame[-1].at >= shown),
                       len(grouped) - 1)
    before_image = [out for frame in grouped[: image_frame + 1] for out in frame]
    return {
        "first": first - sent,
        "image": shown - sent,
        "same_frame": image_frame == 0,
        "placeholder": any(PLACEHOLDER in out.data for out in before_image),
        "frames_before": float(image_frame),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    cold: list[float] = []
    moves: list[dict[str, float | bool]] = []
    with Tmux("joblist") as tmux, private_home("joblist") as home:
        seed_finished_jobs(home, args.jobs, distinct_images=args.jobs)
        pane, _ = start_app(tmux, "i9-joblist", ["--offline", "--graphics", "halfcell"],
                            {"GPT_IMAGE_TUI_HOME": str(home)}, ready="OFFLINE")
        try:
            pane.send("F3")
            screen = settle(pane)
            order = [_selected(screen)]
            images = {order[0]: image_rows(screen)}
            for _ in range(args.jobs - 1):  # the first pass: previews made and cached
                sent = pane.send("Down")

                def moved_and_drawn(screen: str, previous: int = order[-1]) -> bool:
                    return (selected_id(screen) not in (None, previous)
                            and bool(image_rows(screen)) and "rendering preview" not in screen)

                shown = pane.wait_for(moved_and_drawn, since=sent, escapes=True, timeout=30)
                cold.append(shown - sent)
                screen = settle(pane)
                job = _selected(screen)
                order.append(job)
                images[job] = image_rows(screen)
            if len(set(order)) != len(order):
                raise RuntimeError(f"could not follow the selection: {order}")
            position = len(order) - 1
            for number in range(args.passes):
                step, key = (-1, "Up") if number % 2 == 0 else (1, "Down")
                for _ in range(len(order) - 1):
                    position += step
                    job = order[position]
                    moves.append(move(pane, key, job, images[job]))
                    time.sleep(0.15)
        finally:
            quit_app(pane)
    first = [float(m["first"]) * 1000 for m in moves]
    image = [float(m["image"]) * 1000 for m in moves]
    same = sum(1 for m in moves if m["same_frame"])
    placeholders = sum(1 for m in moves if m["placeholder"])
    print(f"moving through the job list, half-cell previews ({len(moves)} moves onto cached "
          "previews; ms)")
    print(f"  first visit (preview made)   key → image median {statistics.median(cold) * 1000:.0f}"
          f" (n={len(cold)})")
    print(f"  cached: key → first frame    median {statistics.median(first):.0f}  p95 "
          f"{percentile(first, 95):.0f}")
    print(f"  cached: key → right image    median {statistics.median(image):.0f}  p95 "
          f"{percentile(image, 95):.0f}")
    print(f"  image in the first frame     {same} of {len(moves)} moves")
    print(f"  placeholder drawn            {placeholders} of {len(moves)} moves")
    verdict = "meets" if same == len(moves) and placeholders == 0 else "MISSES"
    print(f"  target: every cached preview swaps in within the same frame: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
