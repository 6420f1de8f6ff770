"""Benchmarks (`make bench`): long runs that never belong in `make test`."""
