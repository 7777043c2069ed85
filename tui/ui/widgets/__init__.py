"""The widgets the screens are made of; each is told what to show and posts what happened."""

from __future__ import annotations
