"""Benchmarks of `distributor` (scripts, not tests): `make bench` runs them all."""
