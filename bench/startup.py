"""Row "launch to first frame": the app against a minimal Textual app, in tmux, same run.

    .venv/bin/python -m bench.startup [--runs 9]

Each run starts ``gpt-image-tui --offline`` in a private ``GPT_IMAGE_TUI_HOME`` (one warm-up
launch first, so the history file and caches exist as they do for a returning user) in a
detached 100x30 tmux pane, and times from opening the pane until its screen first shows the
app (``OFFLINE`` in the top bar) and until it is complete (the footer's ``palette`` key). Then
the same for ``bench/minimal_app.py`` (Header, TextArea, Footer; ``MINIMAL READY``). Runs
alternate, so machine noise hits both alike. Target: first frame ≤ 1.5× the minimal app's.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from bench._common import MINIMAL, base_env, private_home, quit_app, start_app
from bench._stats import spread, verdict
from bench._tmux import Tmux

TARGET_RATIO = 1.5


def launch(tmux: Tmux, name: str, command: list[str] | None, env: dict[str, str],
           first: str) -> tuple[float, float]:
    """Seconds to the first frame and to the footer, for the app (command None) or another."""
    if command is None:
        pane, first_s = start_app(tmux, name, ["--offline"], env, ready=first)
    else:
        pane = tmux.start(name, command, env={**base_env(), **env})
        first_s = pane.wait_for(lambda text: first in text) - pane.started
    complete_s = pane.wait_for(lambda text: "palette" in text) - pane.started
    quit_app(pane)
    return first_s, complete_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    app_first: list[float] = []
    app_full: list[float] = []
    min_first: list[float] = []
    min_full: list[float] = []
    with Tmux("startup") as tmux, private_home("startup") as home:
        env = {"GPT_IMAGE_TUI_HOME": str(home)}
        launch(tmux, "i9-startup-warm", None, env, "OFFLINE")
        launch(tmux, "i9-startup-warm-min", MINIMAL, {}, "MINIMAL READY")
        for run in range(args.runs):
            first, full = launch(tmux, f"i9-startup-app-{run}", None, env, "OFFLINE")
            app_first.append(first)
            app_full.append(full)
            first, full = launch(tmux, f"i9-startup-min-{run}", MINIMAL, {}, "MINIMAL READY")
            min_first.append(first)
            min_full.append(full)
    ratio = statistics.median(app_first) / statistics.median(min_first)
    print("launch to first frame (tmux 100x30, ms; median, spread)")
    print(f"  minimal Textual app   first frame {spread(min_first, 1000)}")
    print(f"                        with footer {spread(min_full, 1000)}")
    print(f"  gpt-image-tui         first frame {spread(app_first, 1000)}")
    print(f"                        with footer {spread(app_full, 1000)}")
    print(f"  ratio app/minimal (first frame)   {ratio:.2f}x   target ≤ {TARGET_RATIO}x: "
          f"{verdict(ratio, TARGET_RATIO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
