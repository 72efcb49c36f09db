"""Benchmarks: scripts that print tables (machine, scale, commit, medians, peer ratios)."""
