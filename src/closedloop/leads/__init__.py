"""leads domain."""
