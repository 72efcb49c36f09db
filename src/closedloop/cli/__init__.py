"""The `closedloop` command line."""
