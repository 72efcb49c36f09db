"""revenue domain."""
