"""Realistic, reproducible synthetic data for `closedloop demo`."""
