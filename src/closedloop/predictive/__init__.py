"""Predictive lead scoring and churn risk: models that show how good they are and why they score."""
