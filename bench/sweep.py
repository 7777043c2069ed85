"""Rows "confirming a 24-job sweep" and "first key after leaving a sweep grid".

    .venv/bin/python -m bench.sweep [--rounds 5] [--backends api,offline]

Each round starts the app in a 100x30 tmux pane with a fresh private ``GPT_IMAGE_TUI_HOME``,
types ``bench sweep {a|b|c|d|e|f} at {dawn|noon|dusk|night}`` (24 variants), presses ctrl+j,
waits for the confirmation and presses ``y``. From that key on, every burst of output the app
writes is time-stamped (tmux control mode), so the script reports:

* the first frame after ``y`` and the longest gap between frames until the grid is on screen
  (a frozen UI writes nothing) — target: no frame later than 100 ms after the key;
* when the grid (``24 variants``) is on screen — target ≤ 300 ms;
* as the results arrive (the first cell shows ``completed``; or after ``--dwell`` seconds),
  ``q`` leaves the grid: when the main screen is back, and how long the first key typed then
  (``Z`` in the prompt) takes to show — target ≤ 100 ms.

Each figure is printed as the median and the worst of ``--rounds`` rounds; targets are judged on
the worst.

Backends: ``api`` — signed in to a stand-in API in another process (its jobs wait 1.5 s in the
queue and run 2.5 s, as offline ones do; their images are drawn by that process, at nice 19 as
the server elsewhere it stands for, and downloaded over loopback: what a RunComfy user sees); ``offline`` — ``--offline``, the embedded offline
backend in the app's own process (the images are drawn in the app's process too: what a user
without an account sees).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time

from bench._common import private_home, quit_app, start_app
from bench._server import api_env, slow_api
from bench._stats import verdict
from bench._tmux import Pane, Tmux

PROMPT = "bench sweep {a|b|c|d|e|f} at {dawn|noon|dusk|night}"
COUNT = 24
GRID_TEXT = f"{COUNT} variants"
QUEUE_SECONDS, RUN_SECONDS = 1.5, 2.5  # the stand-in API's jobs take as long as offline ones


def frames_between(tmux: Tmux, start: float, end: float) -> list[float]:
    return [out.at for out in tmux.outputs() if start <= out.at <= end]


def one_round(tmux: Tmux, name: str, args: list[str], env: dict[str, str],
              dwell: float) -> dict[str, float]:
    pane, _ = start_app(tmux, name, args, env, ready="Prompt")
    try:
        return _sweep(tmux, pane, dwell)
    finally:
        quit_app(pane, confirm=True)


def _sweep(tmux: Tmux, pane: Pane, dwell: float) -> dict[str, float]:
    time.sleep(1.5)  # let the start settle (prices, first ticks)
    pane.send(PROMPT, literal=True)
    pane.wait_for(lambda text: "{dawn|noon" in text)
    pane.send("C-j")
    pane.wait_for(lambda text: f"sends {COUNT} jobs" in text)
    time.sleep(0.5)
    key = pane.send("y")
    grid = pane.wait_for(lambda text: GRID_TEXT in text, since=key, timeout=60)
    frames = frames_between(tmux, key, grid)
    points = [key, *frames, grid]
    longest_gap = max(b - a for a, b in itertools.pairwise(points))
    first_frame = (frames[0] if frames else grid) - key
    if dwell < 0:  # leave as the results arrive: when the first cell shows its image's job done
        pane.wait_for(lambda text: "completed" in text, since=grid, timeout=60)
    else:
        time.sleep(dwell)
    leave = pane.send("q")
    back = pane.wait_for(lambda text: GRID_TEXT not in text and "Prompt" in text, since=leave,
                         timeout=60)
    zs = pane.capture().count("Z")
    typed = pane.send("Z", literal=True)
    shown = pane.wait_for(lambda text: text.count("Z") == zs + 1, since=typed, timeout=60)
    return {
        "first frame after y": first_frame,
        "longest frame gap until grid": longest_gap,
        "y to grid shown": grid - key,
        "q to main screen": back - leave,
        "first key after leaving": shown - typed,
    }


TARGETS = {
    "first frame after y": 0.1,
    "longest frame gap until grid": 0.1,
    "y to grid shown": 0.3,
    "first key after leaving": 0.1,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", default="api,offline")
    parser.add_argument("--dwell", type=float, default=-1,
                        help="seconds the grid is looked at before q (default: until the first "
                        "job is completed)")
    args = parser.parse_args()
    backends = args.backends.split(",")
    results: dict[str, dict[str, list[float]]] = {b: {} for b in backends}
    with Tmux("sweep") as tmux, slow_api(QUEUE_SECONDS, RUN_SECONDS) as api:
        for round_number in range(args.rounds):
            for backend in backends:
                with private_home(f"sweep-{backend}") as home:
                    env = {"GPT_IMAGE_TUI_HOME": str(home)}
                    if backend == "api":
                        env.update(api_env(api))
                        app_args: list[str] = []
                    else:
                        app_args = ["--offline"]
                    figures = one_round(tmux, f"i9-sweep-{backend}-{round_number}", app_args,
                                        env, args.dwell)
                for label, value in figures.items():
                    results[backend].setdefault(label, []).append(value)
    print(f"a {COUNT}-job sweep, confirmed with y (ms: median, worst, every round; a target "
          "is judged on the worst round — a freeze one time in five is a freeze)")
    for backend in backends:
        print(f"  backend: {backend}")
        for label, values in results[backend].items():
            median, worst = statistics.median(values) * 1000, max(values) * 1000
            every = ", ".join(f"{v * 1000:.0f}" for v in values)
            target = TARGETS.get(label)
            judged = f"   target ≤ {target * 1000:.0f} ms: {verdict(worst, target * 1000)}" \
                if target else ""
            print(f"    {label:<30} {median:6.0f} {worst:6.0f}   ({every}){judged}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
