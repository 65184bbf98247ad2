"""Load-benchmark harness modules; the entry point is bench/harness.py."""
