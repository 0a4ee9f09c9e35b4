"""Benchmarks: `python -m benchmarks [name ...]` (or `make bench`) prints figures and same-run ratios."""
