"""``login``, ``logout`` and ``balance``: the account, as the official CLI handles it.

``login`` runs the device-code flow against the web base (``--web-base``, else
``RUNCOMFY_WEB_BASE``, else https://www.runcomfy.com) and writes ``token.json`` exactly where and
how ``runcomfy login`` does; ``logout`` removes that file. The URL and code always go to stderr
(the browser is opened too when there is a graphical one); the token never goes anywhere but the
file. ``balance`` reads the wallet with the same token and trust rules as the Model API.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..api.balance import BalanceClient
from ..api.service import JsonChannel
from ..api.signin import SignInStatus, wait_for_authorization
from ..config import TOKEN_ENV, load_settings
from ..services.account import signin_client
from ..services.browser import open_in_browser
from ..services.graph import CATALOG_POLICY
from ..storage.token_file import remove_token_file, token_file_path, write_token_file
from ..trust.sanitize import clean_text
from .backend import require_backend, settings_for
from .console import print_json
from .exits import CommandExit

__all__ = ["EXIT_DENIED", "EXIT_EXPIRED", "balance_command", "login_command", "logout_command"]

EXIT_DENIED = 77  # not signed in (sysexits EX_NOPERM)
EXIT_EXPIRED = 75  # the code ran out: try again (EX_TEMPFAIL)


def _minutes(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


async def login_command(args: argparse.Namespace) -> int:
    """``login``: device-code sign-in, writing the official CLI's token.json (0600)."""
    # No token is looked up (a damaged token file must not stop you replacing it).
    settings = load_settings(offline=True, web_base=args.web_base)
    client = signin_client(settings)
    try:
        code = await client.start()
        url = clean_text(code.verify_url)
        print(
            f"To sign in, open {url}\nand confirm the code {code.user_code}",
            file=sys.stderr,
            flush=True,
        )
        if not args.no_browser and open_in_browser(code.verify_url):
            print("(opened in your browser)", file=sys.stderr, flush=True)
        print(
            f"waiting for approval (the code expires in {_minutes(code.expires_in)}; "
            "Ctrl-C gives up)…",
            file=sys.stderr,
            flush=True,
        )

        def waiting(seconds_left: float, note: str | None) -> None:
            if note:
                print(f"still waiting — {note}", file=sys.stderr, flush=True)

        result = await wait_for_authorization(client, code, on_wait=waiting)
    finally:
        await client.aclose()
    if result.status is SignInStatus.DENIED:
        raise CommandExit(EXIT_DENIED, "sign-in was denied; nothing was saved")
    if result.status is SignInStatus.EXPIRED or result.token is None:
        raise CommandExit(
            EXIT_EXPIRED,
            "the code expired before it was approved; run `gpt-image-tui login` again",
        )
    path = token_file_path()
    try:
        write_token_file(path, result.token)
    except OSError as exc:
        raise CommandExit(1, f"signed in, but the token could not be saved to {path}: "
                          f"{exc.strerror}") from None
    print(f"signed in: token saved to {path} (mode 0600)", file=sys.stderr)
    if os.environ.get(TOKEN_ENV, "").strip():
        print(f"note: {TOKEN_ENV} is set and is used before this file", file=sys.stderr)
    if args.json:
        print_json({"status": "authorized", "token_file": str(path)})
    return 0


def logout_command(args: argparse.Namespace) -> int:
    """``logout``: remove the token file login wrote."""
    path = token_file_path()
    try:
        removed = remove_token_file(path)
    except OSError as exc:
        print(f"can't remove {path}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"signed out: removed {path}" if removed else f"no token file at {path}",
          file=sys.stderr)
    if os.environ.get(TOKEN_ENV, "").strip():
        print(f"note: {TOKEN_ENV} is still set, so commands still sign in with it",
              file=sys.stderr)
    if getattr(args, "json", False):
        print_json({"removed": removed, "token_file": str(path)})
    return 0


async def balance_command(args: argparse.Namespace) -> int:
    """``balance``: the wallet, read with the same token and trust rules as the Model API."""
    settings = settings_for(args)
    require_backend(settings)
    server = None
    base, token = settings.serverless_base, settings.token
    if settings.offline:  # the offline backend's pretend wallet (nothing else is started)
        from ..offline.server import OfflineServer

        server = OfflineServer().start()
        base, token = server.serverless_base, None
    client = BalanceClient(JsonChannel(base, token, policy=CATALOG_POLICY))
    try:
        balance = await client.balance()
    finally:
        await client.aclose()
        if server is not None:
            server.stop()
    if args.json:
        print_json(
            {"balance_usd": float(balance.usd), "currency": balance.currency,
             "offline": balance.offline}
        )
    else:
        print(f"balance: {balance.describe()}")
    return 0

