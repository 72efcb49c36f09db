"""What a channel rule set would change: touches whose derived channel would move, counted per move; writes nothing.

The same selection as `channels.rederive_channels` (touches whose channel came from the rules, not
from the imported row), read in one columnar query (DuckDB on the store) and derived with the
vectorised `derive_channels`.
"""

from __future__ import annotations

from typing import Any

from closedloop.marketing.channels import derive_channels, validate_rules
from closedloop.marketing.models import CLICK_ID_FIELDS

COLUMNS = ("channel", "utm_source", "utm_medium", "utm_campaign", "referrer", *CLICK_ID_FIELDS)


def preview_rules(url: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """{"touches": rule-derived touches read, "changed": how many would move, "moves": {"old -> new": n}}."""
    from closedloop.analytics import engine

    validate_rules(rules)
    frame = engine.query(
        url,
        f"SELECT {', '.join(COLUMNS)} FROM {engine.STORE}.touchpoints "
        "WHERE NOT coalesce(CAST(channel_explicit AS BOOLEAN), false)",
    ).to_pandas()
    frame["new"] = derive_channels(frame, rules)
    frame["channel"] = frame["channel"].astype(object).where(frame["channel"].notna(), "")
    diff = frame[frame["new"] != frame["channel"]]
    moves = {
        f"{old or '—'} -> {new}": int(n) for (old, new), n in diff.groupby(["channel", "new"]).size().items()
    }
    return {
        "touches": len(frame),
        "changed": len(diff),
        "moves": dict(sorted(moves.items(), key=lambda kv: -kv[1])),
    }
