"""The offline backend's account endpoints: wallet balance and device-code sign-in.

They answer exactly as the real ones are documented (``GET /prod/v2/balance``; ``POST
/api/cli-auth/start`` and ``/api/cli-auth/poll``, ``denied``/``expired`` as HTTP 410 with a JSON
body), so ``gpt-image-tui login`` and the app's sign-in screen are tested end to end. The
``verify_url`` leads to a small page on the same server with *Approve* and *Deny* buttons — a
person trying the app offline signs in by clicking, tests by calling
:meth:`~tui.offline.desk.SignInDesk.approve`, ``deny`` or ``expire``, or by setting its ``auto``.
A token it issues is accepted by the same server from then on.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .desk import SignInDesk
from .responses import Answer, deliver, error_answer, json_answer

__all__ = ["AccountHandlers"]

_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>gpt-image-tui offline sign-in</title>
</head><body style="font-family: sans-serif; max-width: 32em; margin: 3em auto">
<h1>Offline sign-in</h1>
<p>This is the <b>offline backend</b> of gpt-image-tui standing in for RunComfy's sign-in page.
Nothing here touches a real account.</p>
<p>Code shown in your terminal: <b style="font-size: 150%">{code}</b></p>
<form method="post" action="/device/approve" style="display: inline">
<input type="hidden" name="user_code" value="{code}"><button>Approve</button></form>
<form method="post" action="/device/deny" style="display: inline">
<input type="hidden" name="user_code" value="{code}"><button>Deny</button></form>
<p>{note}</p></body></html>"""


class AccountHandlers:
    """The aiohttp routes of the account endpoints; all state lives in the objects passed in."""

    def __init__(
        self,
        *,
        desk: SignInDesk,
        balance: Callable[[], float],
        token_refused: Callable[[web.Request], Answer | None],
        origin: Callable[[], str],
        count: Callable[[str], None],
    ) -> None:
        self._desk = desk
        self._balance = balance
        self._token_refused = token_refused
        self._origin = origin
        self._count = count

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/prod/v2/balance", self._get_balance)
        app.router.add_post("/api/cli-auth/start", self._start)
        app.router.add_post("/api/cli-auth/poll", self._poll)
        app.router.add_get("/device", self._page)
        app.router.add_post("/device/approve", self._approve)
        app.router.add_post("/device/deny", self._deny)

    async def _get_balance(self, request: web.Request) -> Any:
        self._count("balance_gets")
        refused = self._token_refused(request)
        if refused is not None:
            return await deliver(request, refused, None, 0)
        payload = {"balance_usd": self._balance(), "currency": "USD", "offline": True}
        return await deliver(request, json_answer(payload), None, 0)

    async def _start(self, request: web.Request) -> Any:
        self._count("signin_starts")
        return await deliver(request, json_answer(self._desk.start(self._origin())), None, 0)

    async def _poll(self, request: web.Request) -> Any:
        self._count("signin_polls")
        try:
            body = await request.json()
        except ValueError:
            body = None
        device_code = body.get("device_code") if isinstance(body, dict) else None
        if not isinstance(device_code, str):
            answer = error_answer(422, 422001, "device_code is required")
            return await deliver(request, answer, None, 0)
        status, payload = self._desk.poll(device_code)
        return await deliver(request, json_answer(payload, status), None, 0)

    async def _page(self, request: web.Request) -> Any:
        code = request.query.get("code", "")[:32]
        text = _PAGE.format(code=html.escape(code), note="")
        return web.Response(text=text, content_type="text/html")

    async def _decide(self, request: web.Request, approve: bool) -> Any:
        form = await request.post()
        code = str(form.get("user_code", ""))[:32]
        done = self._desk.decide(code, approve)
        note = (
            ("Approved: go back to your terminal." if approve else "Denied.")
            if done
            else "No pending sign-in has this code (it may have expired or been decided)."
        )
        text = _PAGE.format(code=html.escape(code), note=html.escape(note))
        return web.Response(text=text, content_type="text/html", status=200 if done else 404)

    async def _approve(self, request: web.Request) -> Any:
        return await self._decide(request, True)

    async def _deny(self, request: web.Request) -> Any:
        return await self._decide(request, False)
