"""Monitoring: Prometheus metrics (`GET /metrics`) and structured JSON logs, without personal data."""
