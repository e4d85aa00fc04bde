"""Reproducible benchmarks. Each ``*_bench.py`` module is runnable with ``python -m bench.NAME``,
prints its numbers and updates its own section of ``docs/BENCHMARKS.md``;
``python -m bench.run_all`` (``make bench``) runs them all.

The benchmark data (``../shared/bench-data/``) is third-party content for internal
benchmarking only: it is read from where it lies and sliced into temporary directories,
never copied into this repository.
"""
