"""Launch-to-first-frame time of the app in a real terminal, against a minimal Textual app.

Usage (from the repository root, with the venv active; tmux required)::

    python -m bench.startup [--runs 7] [--ready-text OFFLINE] [--width 100 --height 30]

Each run starts ``python -m tui --offline`` (in a throw-away ``GPT_IMAGE_TUI_HOME``) in a
detached tmux pane of fixed size and polls ``tmux capture-pane -p`` until ``--ready-text``
appears; then the same for ``bench/minimal_app.py`` (until ``MINIMAL READY``). Runs alternate
between the two so machine noise hits both alike. Prints both medians and app/minimal. Nothing
here is asserted: the ratio only means something against the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench._tmux import Pane, median_ms, require_tmux

ROOT = Path(__file__).resolve().parent.parent


def time_to_text(
    name: str, command: list[str], ready_text: str, env: dict[str, str], width: int, height: int
) -> float:
    with Pane(name, command, env=env, width=width, height=height) as pane:
        started = pane.start()
        shown = pane.wait_for(lambda text: ready_text in text)
        return shown - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--ready-text",
        default="OFFLINE",
        help="text that marks the app's first real frame (default: OFFLINE)",
    )
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--height", type=int, default=30)
    args = parser.parse_args()
    require_tmux()
    python = sys.executable
    app_samples: list[float] = []
    minimal_samples: list[float] = []
    base_env = {"TERM": os.environ.get("TERM", "xterm-256color") or "xterm-256color"}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="gpt-image-tui-bench-") as home:
            env = {**base_env, "GPT_IMAGE_TUI_HOME": home, "PYTHONPATH": str(ROOT)}
            app_samples.append(
                time_to_text(
                    f"bench-app-{os.getpid()}-{run}",
                    [python, "-m", "tui", "--offline"],
                    args.ready_text,
                    env,
                    args.width,
                    args.height,
                )
            )
        minimal_samples.append(
            time_to_text(
                f"bench-min-{os.getpid()}-{run}",
                [python, str(ROOT / "bench" / "minimal_app.py")],
                "MINIMAL READY",
                base_env,
                args.width,
                args.height,
            )
        )
        time.sleep(0.2)
    app_ms, minimal_ms = median_ms(app_samples), median_ms(minimal_samples)
    print(f"runs: {args.runs} each, pane {args.width}x{args.height}")
    print(
        f"minimal Textual app  median {minimal_ms:8.1f} ms  "
        f"(all: {', '.join(f'{s * 1000:.0f}' for s in minimal_samples)})"
    )
    print(
        f"gpt-image-tui        median {app_ms:8.1f} ms  "
        f"(all: {', '.join(f'{s * 1000:.0f}' for s in app_samples)})"
    )
    print(f"ratio app/minimal    {app_ms / minimal_ms:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
