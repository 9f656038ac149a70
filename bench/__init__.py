"""Benchmarks: run with ``make bench``; results go to ``bench/results.md``. Not timed tests."""
