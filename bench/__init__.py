"""Benchmarks (run as ``python -m bench.startup`` / ``python -m bench.latency``); never asserted."""
