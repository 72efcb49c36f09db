"""deals domain."""
