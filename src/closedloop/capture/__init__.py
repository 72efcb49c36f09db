"""Capture: the public /t/ endpoints, the snippet, form submissions and stitching of anonymous touches."""
