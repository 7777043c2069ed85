"""Generate SVG screenshots of the real app, on the offline backend, into ``screenshots/``.

Usage (from the repository root, with the venv active)::

    python scripts/screenshots.py [--out screenshots] [--sizes 100x30,80x24]

For each size it builds the real object graph (``load_settings`` → ``open_services`` →
``GptImageApp``) in a throw-away ``GPT_IMAGE_TUI_HOME``, against an embedded offline server
whose jobs never move on their own (queue/run times of 1e9 s; the script moves them with
``OfflineServer.advance``), runs it headless with ``App.run_test`` and saves:

``main-empty``, ``jobs-states`` (queued, running, done, failed, cancelled), ``job-image``
(a finished job with its image, half-cell renderer), ``image-fullscreen``, ``help``,
``iterate`` (a child being written: live diff and prompt hints), ``sweep-grid`` (a three-way
sweep), ``compare``, ``lineage`` and ``history``.
Images are drawn with half-cell blocks (forced), so the output doesn't depend on the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.config import load_settings  # noqa: E402
from tui.models import JobState  # noqa: E402
from tui.offline.faults import Timing  # noqa: E402
from tui.offline.server import OfflineServer  # noqa: E402
from tui.services.graph import open_services  # noqa: E402
from tui.ui.app import GptImageApp  # noqa: E402
from tui.ui.imaging import GraphicsChoice, ImageKit, PreviewCache  # noqa: E402
from tui.ui.screens.compare import CompareScreen  # noqa: E402
from tui.ui.screens.history import HistoryScreen  # noqa: E402
from tui.ui.screens.image import ImageScreen  # noqa: E402
from tui.ui.screens.lineage import LineageScreen  # noqa: E402
from tui.ui.screens.sweep import SweepCell, SweepScreen  # noqa: E402
from tui.ui.widgets.composer import PromptEditor  # noqa: E402
from tui.ui.widgets.preview import ImagePreview  # noqa: E402

GRAPHICS = GraphicsChoice("halfcell", "--graphics halfcell")
PROMPTS = (
    'a lighthouse at dusk, big sign saying "HELLO"',  # → done (with image)
    "a watercolour fox in the snow",  # → running
    "isometric city block at night, neon",  # → queued
    "a bowl of ramen, studio photo",  # → failed
    "an astronaut cat, 1970s poster",  # → cancelled
)


async def until(pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until ``condition()`` holds (workers and pollers included)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("the app never reached the expected state")
        await pilot.pause(0.05)


async def shoot(size: tuple[int, int], out: Path) -> list[Path]:
    width, height = size
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="gpt-image-tui-shots-") as home:
        env = {**os.environ, "GPT_IMAGE_TUI_HOME": home}
        env.pop("RUNCOMFY_TOKEN", None)
        settings = load_settings(env=env, offline=True, poll_interval=0.05)
        server = OfflineServer(timing=Timing(queue_seconds=1e9, run_seconds=1e9)).start()
        services = open_services(settings, offline_server=server)
        history = services.history
        kit = ImageKit(GRAPHICS, PreviewCache(settings.locations.preview_cache))
        app = GptImageApp(services, kit=kit)

        def save(name: str) -> None:
            filename = f"{name}-{width}x{height}.svg"
            app.save_screenshot(filename=filename, path=str(out))
            saved.append(out / filename)

        try:
            async with app.run_test(size=size) as pilot:
                await pilot.pause(0.3)
                save("main-empty")

                screen = app.main_screen
                editor = screen.query_one(PromptEditor)
                job_ids: list[int] = []
                for prompt in PROMPTS:
                    editor.load_text(prompt)
                    screen.run_command("submit")
                    await pilot.pause()  # the prompt is read once the editor is through its keys
                    job_ids.append(max(job.id for job in history.list_jobs(limit=50)))
                await until(pilot, lambda: all(history.get(i).request_id for i in job_ids))
                rid = {i: history.get(i).request_id for i in job_ids}
                done, running, _queued, failed, cancelled = job_ids
                server.advance(rid[running], "in_progress")
                server.advance(rid[failed], "failed")
                server.advance(rid[done], "completed")
                screen.query_one("#pool").select(cancelled)
                screen.run_command("cancel_job")
                editor.load_text("")
                editor.focus()
                await until(
                    pilot,
                    lambda: (
                        history.get(done).state is JobState.COMPLETED
                        and history.get(running).state is JobState.RUNNING
                        and history.get(failed).state is JobState.FAILED
                        and history.get(cancelled).state is JobState.CANCELLED
                    ),
                )
                await pilot.pause(0.5)
                save("jobs-states")

                screen.query_one("#pool").select(done)
                preview = screen.query_one(ImagePreview)
                await until(pilot, lambda: preview.path is not None)
                await pilot.pause(0.3)
                save("job-image")

                image = Path(history.get(done).files[0])
                await app.push_screen(ImageScreen(image, kit))
                await until(pilot, lambda: app.screen.query_one(ImagePreview).path is not None)
                await pilot.pause(0.3)
                save("image-fullscreen")
                await pilot.press("escape")

                app.action_help()
                await pilot.pause(0.5)
                save("help")
                await pilot.press("escape")

                # Iterate on the finished job: a child with a live diff and prompt hints.
                screen.run_command("iterate", history.get(done))
                editor.load_text(
                    'a lighthouse at night, big sign saying "HELLO", with the text OPEN, '
                    "watercolor, oil painting, pixel art, anime"
                )
                await pilot.pause(0.3)
                save("iterate")
                screen.run_command("submit")
                await pilot.pause()
                child = max(job.id for job in history.list_jobs(limit=50))
                await until(pilot, lambda: history.get(child).request_id is not None)
                server.advance(history.get(child).request_id, "completed")
                await until(pilot, lambda: history.get(child).state is JobState.COMPLETED)

                # A three-way sweep, all finished.
                screen.query_one("#composer").set_parent(None)
                editor.load_text("a paper boat on a {red|green|blue} pond")
                await pilot.pause()
                screen.run_command("submit")
                await until(pilot, lambda: isinstance(app.screen, SweepScreen))
                grid_screen = app.screen
                await until(pilot, lambda: len(grid_screen.query(SweepCell)) == 3)
                cells = list(grid_screen.query(SweepCell))
                sweep_ids = [c.job.id for c in cells]
                await until(pilot, lambda: all(history.get(i).request_id for i in sweep_ids))
                for job_id in sweep_ids:
                    server.advance(history.get(job_id).request_id, "completed")
                await until(
                    pilot,
                    lambda: app.screen is grid_screen and all(
                        c.job.state is JobState.COMPLETED and c.query(".thumb-image")
                        for c in cells
                    ),
                )
                grid_screen.refresh(layout=True)
                await pilot.pause(0.5)
                save("sweep-grid")
                app.pop_screen()

                await app.push_screen(
                    CompareScreen(history.get(done), history.get(child), kit)
                )
                await until(
                    pilot,
                    lambda: all(p.path is not None for p in app.screen.query(ImagePreview)),
                )
                await pilot.pause(0.3)
                save("compare")
                app.pop_screen()

                await app.push_screen(LineageScreen(done, history, kit))
                await pilot.pause(1.0)
                save("lineage")
                app.pop_screen()

                await app.push_screen(HistoryScreen(history, kit))
                await pilot.pause(1.0)
                save("history")
                app.pop_screen()
                app.exit()
        finally:
            await services.aclose()
            server.stop()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--sizes", default="100x30,80x24")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for spec in args.sizes.split(","):
        width, height = (int(part) for part in spec.lower().split("x"))
        for path in asyncio.run(shoot((width, height), args.out)):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
