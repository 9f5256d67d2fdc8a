"""`make bench`: one bounded run that measures the portal and writes docs/benchmarks.md (see run.py)."""
