"""``python -m tui.offline [--host H] [--port P] [--token T]``: run the offline API by itself."""

from __future__ import annotations

import argparse

from .server import run_standalone

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tui.offline",
        description="Serve the RunComfy Model API offline on loopback, images drawn locally.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--token", default=None, help="require this bearer token")
    args = parser.parse_args(argv)
    run_standalone(args.host, args.port, require_token=args.token)


if __name__ == "__main__":
    main()
