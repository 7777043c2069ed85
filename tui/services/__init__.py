"""Services both front ends are built from: the object graph, its backends, the browser."""

from __future__ import annotations
