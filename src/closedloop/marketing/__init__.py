"""marketing domain."""
