"""Benchmarks: one script per row of issue 9 (``python -m bench`` runs them all); never asserted."""
