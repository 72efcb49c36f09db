"""outbox domain."""
