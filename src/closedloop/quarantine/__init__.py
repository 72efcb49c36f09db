"""quarantine domain."""
