"""goals domain."""
