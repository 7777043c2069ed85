"""Test vectors shared by several test files: reliability.md's download URLs that must be refused."""

from __future__ import annotations

# From the official CLI's own tests (reliability.md), plus two of ours: all refused, before any request.
UNTRUSTED_DOWNLOAD_URLS = [
    "https://evil.example.com/runcomfy.net/x",
    "https://runcomfy.net.evil.com/x",
    "ftp://files.runcomfy.net/x",
    "not a url",
    "https://cdn.runcomfy.net@evil.example.com/file",
    "https://evil.example.com/#@cdn.runcomfy.net",
    "https://evil.example.com/?u=https://cdn.runcomfy.net",
    "https://[::1]/x",
    "http://10.0.0.1/x.runcomfy.net",
    "https://127.0.0.1\\@cdn.runcomfy.net/file",
    "http://cdn.runcomfy.net/x.png",  # plain http to a RunComfy host
    "https://cdn.runcomfy.net/a b.png",  # whitespace
    "",
]
