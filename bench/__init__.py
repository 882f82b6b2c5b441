"""Benchmarks: each module has `main()`, prints its figures and writes JSON to bench/results/."""
