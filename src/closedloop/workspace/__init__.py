"""workspace domain."""
