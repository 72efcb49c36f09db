"""Chart specs for the models page (Vega-Lite through Altair): the calibration curve."""

from __future__ import annotations

from typing import Any

from closedloop.web.charts import MARKETING, _finish


def calibration(
    rows: list[dict[str, Any]], *, title: str, predicted_label: str, observed_label: str
) -> dict[str, Any]:
    """Observed rate against mean predicted probability per decile, over the 0–1 diagonal. Rows: predicted, observed."""
    import altair as alt

    values = [{"predicted": r["predicted"], "observed": r["observed"], "decile": r["decile"]} for r in rows]
    diagonal = (
        alt.Chart(alt.Data(values=[{"predicted": 0.0, "observed": 0.0}, {"predicted": 1.0, "observed": 1.0}]))
        .mark_line(color="#999999", strokeDash=[4, 4])
        .encode(x="predicted:Q", y="observed:Q")
    )
    points = (
        alt.Chart()
        .mark_line(point=True, color=MARKETING)
        .encode(
            x=alt.X(
                "predicted:Q",
                title=predicted_label,
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y(
                "observed:Q", title=observed_label, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
            ),
            tooltip=[
                alt.Tooltip("decile:O"),
                alt.Tooltip("predicted:Q", title=predicted_label, format=".1%"),
                alt.Tooltip("observed:Q", title=observed_label, format=".1%"),
            ],
        )
    )
    spec = _finish(alt.layer(diagonal, points), title, values)
    spec["layer"][1].pop("data", None)  # the curve reads the spec's own rows, not Altair's placeholder
    spec.pop("datasets", None)
    return spec
