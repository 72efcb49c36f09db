"""The JSON API plumbing: dependencies, shared input types and shapes."""
