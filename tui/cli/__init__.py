"""Headless commands beyond the core five: the official CLI's ``run --input`` form, ``batch``,
``login``/``logout``, ``balance`` and ``spend``. Nothing here imports Textual."""
