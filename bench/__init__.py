"""Benchmarks: `python -m bench` (or `make bench`) measures billbot against same-run baselines."""
