"""Open the TUI: settings, graphics detection (before Textual takes the terminal), services."""

from __future__ import annotations

import argparse
import sys

from .api.errors import GptImageError, TokenError
from .config import load_settings

__all__ = ["launch_tui"]


def launch_tui(args: argparse.Namespace) -> int:
    """Run the app; without a token (or with ``--offline``) on the embedded offline backend."""
    try:
        settings = load_settings(
            api_base=args.api_base,
            output_dir=args.output_dir,
            offline=args.offline,
            poll_interval=args.poll_interval,
            graphics=args.graphics,
            name_template=args.name_template,
        )
    except TokenError as exc:
        # A token is configured but unusable: say how to fix it rather than going offline.
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except GptImageError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    if settings.token is None and not settings.offline:
        settings = settings.model_copy(update={"offline": True})

    # Terminal graphics are probed now, while the terminal is still ours to query.
    from .imaging import detect_graphics

    graphics = detect_graphics(settings.graphics)

    from .app import GptImageApp, Prefill
    from .wiring import open_services

    services = open_services(settings)
    app = GptImageApp(
        services,
        prefill=Prefill(prompt=args.prompt, size=args.size, images=tuple(args.image or ())),
        graphics=graphics,
    )
    try:
        app.run()
    finally:
        # The app closed its HTTP clients on unmount; the rest is ours to close.
        services.history.close()
        if services.offline is not None:
            services.offline.stop()
    return app.return_code or 0
