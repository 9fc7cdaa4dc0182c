"""Benchmarks: harnesses that print figures. Never part of `make test`; machines are shared and noisy."""
