"""Alembic migrations of the operational store (one revision per schema change)."""
