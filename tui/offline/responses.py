"""How the offline server puts an answer on the wire, faithfully or in one of the faulty ways.

Each fault is what a real network or server does to a client: a dropped connection, a body
cut short, a byte-per-second drip, an HTML captive portal, a gzip bomb, a pixel bomb.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .faults import Fault

__all__ = [
    "GZIP_BOMB_DECODED_BYTES",
    "NOT_IMAGE_HTML",
    "OVERSIZED_PIXELS",
    "Answer",
    "abort",
    "cut_png",
    "deliver",
    "early_fault_answer",
    "error_answer",
    "gzip_bomb",
    "hang",
    "json_answer",
    "oversized_png",
]

GZIP_BOMB_DECODED_BYTES = 64 * 1024 * 1024
OVERSIZED_PIXELS = (20_000, 20_000)
NOT_IMAGE_HTML = (
    b"<!DOCTYPE html><html><head><title>Sign in to Wi-Fi</title></head>"
    b"<body><h1>Please sign in</h1><p>This network requires you to log in.</p></body></html>"
)
_BODY_FAULTS = {Fault.NOT_IMAGE, Fault.GZIP_BOMB, Fault.OVERSIZED}
_SERVER_ERRORS = {Fault.HTTP_500: 500, Fault.HTTP_502: 502, Fault.HTTP_503: 503}


@dataclass
class Answer:
    """A complete HTTP answer, kept as bytes so a fault can cut or drip it."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_answer(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(payload).encode(), "application/json", dict(headers or {}))


def error_answer(
    status: int,
    error_code: int,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Answer:
    """A Model API error body: ``{"error_code", "error_message", ...}``."""
    return json_answer(
        {"error_code": error_code, "error_message": message, **extra}, status, headers
    )


def early_fault_answer(fault: Fault | None, retry_after: float | str | None) -> Answer | None:
    """The answer a 5xx or 429 fault gives instead of doing the work; None for other faults."""
    if fault in _SERVER_ERRORS:
        status = _SERVER_ERRORS[fault]
        return error_answer(status, 500001, f"offline: simulated upstream error {status}")
    if fault is Fault.RATE_LIMIT_429:
        headers = {} if retry_after is None else {"Retry-After": _retry_after_text(retry_after)}
        return error_answer(429, 429001, "offline: simulated rate limit", headers=headers)
    return None


def _retry_after_text(value: float | str) -> str:
    if isinstance(value, str):
        return value  # an HTTP-date, or anything odd a test wants to send
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@functools.cache
def gzip_bomb() -> bytes:
    """A gzip stream of ~64 KiB that decodes to 64 MiB of zeros (built once)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(GZIP_BOMB_DECODED_BYTES // len(chunk))]
    parts.append(compressor.flush())
    return b"".join(parts)


@functools.cache
def oversized_png() -> bytes:
    """A well-formed PNG header claiming 20000x20000 pixels: a decompression bomb for Pillow."""
    width, height = OVERSIZED_PIXELS

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    first_rows = zlib.compress(bytes((1 + 3 * width) * 4), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", first_rows)
        + chunk(b"IEND", b"")
    )


async def abort(request: web.Request) -> web.StreamResponse:
    """Drop the connection with no answer; the client sees a transport error."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)  # never written: the transport is gone


async def _apply_body_fault(answer: Answer, fault: Fault) -> Answer:
    if fault is Fault.NOT_IMAGE:
        return Answer(200, NOT_IMAGE_HTML, "text/html; charset=utf-8")
    if fault is Fault.GZIP_BOMB:
        body = await asyncio.get_running_loop().run_in_executor(None, gzip_bomb)
        content_type = answer.content_type if answer.status == 200 else "image/png"
        return Answer(200, body, content_type, {"Content-Encoding": "gzip"})
    return Answer(200, oversized_png(), "image/png")


async def hang(request: web.Request) -> web.StreamResponse:
    """Never answer: hold the connection until the client drops it (or the server stops)."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()
    return web.Response(status=504)


def cut_png(png: bytes) -> bytes:
    """``png`` without its final IEND chunk (12 bytes): the header parses, the end is gone."""
    return png[:-12]


async def deliver(
    request: web.Request, answer: Answer, fault: Fault | None, drip_seconds: float
) -> web.StreamResponse:
    """Send ``answer``, bent by ``fault`` (body faults, truncate, reset after the work, drip)."""
    if fault in _BODY_FAULTS:
        answer = await _apply_body_fault(answer, fault)
    if fault is Fault.RESET_AFTER_ACCEPT:
        return await abort(request)
    if fault is Fault.HANG:
        return await hang(request)
    if fault is Fault.CUT_IMAGE and answer.status == 200:
        answer = Answer(200, cut_png(answer.body), answer.content_type, answer.headers)
    if fault is Fault.SHORT_BODY:
        response = web.StreamResponse(status=answer.status, headers=answer.headers)
        response.content_type = answer.content_type.split(";")[0]
        response.content_length = len(answer.body)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await response.prepare(request)
            await response.write(answer.body[:-4])
            if request.transport is not None:
                request.transport.close()  # a clean close, 4 bytes short
        return response
    if fault is not Fault.TRUNCATE and drip_seconds <= 0:
        whole = web.Response(status=answer.status, body=answer.body, headers=answer.headers)
        whole.content_type = answer.content_type.split(";")[0]
        if "charset=" in answer.content_type:
            whole.charset = answer.content_type.split("charset=")[1]
        return whole
    response = web.StreamResponse(status=answer.status, headers=answer.headers)
    response.content_type = answer.content_type.split(";")[0]
    response.content_length = len(answer.body)
    try:
        await response.prepare(request)
        if fault is Fault.TRUNCATE:
            await response.write(answer.body[: len(answer.body) // 2])
            return await abort(request)
        for index in range(len(answer.body)):
            await response.write(answer.body[index : index + 1])
            await asyncio.sleep(drip_seconds)
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client gave up on the drip; nothing more to send
    return response
