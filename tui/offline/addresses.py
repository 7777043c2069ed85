"""Where a loopback stand-in serves each part of the protocol, as the real hosts do: the Model
API under ``/v1``, the balance under ``/prod/v2`` (api.runcomfy.net's), device-code sign-in at
the origin (www.runcomfy.com's ``/api/cli-auth/...``). Shared by the in-process server and the
app's child-process server."""

from __future__ import annotations

__all__ = ["Addresses"]


class Addresses:
    """The URLs of a server listening on ``host:port`` (an IPv6 host is bracketed)."""

    def __init__(self, host: str, port: int) -> None:
        host = f"[{host}]" if ":" in host else host
        self.origin = f"http://{host}:{port}"
        self.base_url = f"{self.origin}/v1"
        self.serverless_base = f"{self.origin}/prod/v2"
        self.web_base = self.origin
