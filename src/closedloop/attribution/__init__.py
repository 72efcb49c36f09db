"""Attribution (SPEC section 6): which touches earned the conversions and the revenue.

The models are plain vectorised functions over `Journeys` (a columnar journey table); the
store's journeys are built inside DuckDB (`journeys.py`), path tables are read by `paths.py`.
"""
