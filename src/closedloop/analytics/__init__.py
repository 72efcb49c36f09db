"""The analytics layer: reads only, computes every number once (DuckDB over the store).

declarations.py  the scorecard's metrics (three languages, unit, numerator, denominator, dimensions)
slicing.py       period in the reporting time zone, as-of, filters, group-by, caller's scope
relations.py     core relations in DuckDB SQL: reach (waterfall), dimensions, deals in one currency
compile*.py      a declaration -> `facts` relation + aggregation; funnel.py the waterfall
snapshot.py      columnar copy of the store in DuckDB, used only while the store is unchanged
engine.py        the DuckDB connection with the store attached read-only (all engine specifics)
api.py           what the CLI, router, pages and reports call; insights.py cohorts, root cause,
                 mix versus rate; decompose.py and stats.py the pure statistics
"""
