"""Benchmarks over ../shared/bench: `python -m bench.quality` (see BENCHMARKS.md)."""
