"""gpt-image-tui: make and refine images with GPT Image 2 on the RunComfy Model API."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
