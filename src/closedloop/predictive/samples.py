"""The Maven "CRM + Sales Opportunities" sample as a training set: win probability of a deal.

Known when a deal is engaged: the account's sector and size, the product, the sales agent and
the regional office. `close_date` and `close_value` are outcomes and are never read as features.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAVEN_CATEGORICAL = ["sector", "product", "sales_agent", "regional_office", "account_size"]
MAVEN_NUMERIC = ["employees", "engage_month"]
SIZE_BINS = (0, 200, 1000, 5000, float("inf"))
SIZE_LABELS = ("1-200", "201-1000", "1001-5000", "5001+")


def maven_frame(folder: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(features, won 1/0, engage dates) of the closed opportunities, oldest first."""
    import pandas as pd

    pipeline = pd.read_csv(folder / "sales_pipeline.csv")
    accounts = pd.read_csv(folder / "accounts.csv")
    teams = pd.read_csv(folder / "sales_teams.csv")
    closed = pipeline[pipeline["deal_stage"].isin(["Won", "Lost"])].copy()
    frame = closed.merge(accounts, on="account", how="left").merge(teams, on="sales_agent", how="left")
    frame["sector"] = frame["sector"].fillna("(none)")
    frame["account_size"] = pd.cut(frame["employees"], SIZE_BINS, labels=SIZE_LABELS, right=True)
    frame["account_size"] = frame["account_size"].astype(object).where(frame["employees"].notna(), "(none)")
    engaged = pd.to_datetime(frame["engage_date"])
    frame["engage_month"] = engaged.dt.month
    frame = frame.assign(engaged=engaged).sort_values("engaged", kind="stable").reset_index(drop=True)
    y = (frame["deal_stage"] == "Won").astype(int).to_numpy()
    return frame[MAVEN_CATEGORICAL + MAVEN_NUMERIC], y, frame["engaged"].to_numpy()
