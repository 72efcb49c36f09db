"""The analytics layer: reads only, computes every number once (DuckDB over the store)."""
