"""What a channel rule set would change: touches whose derived channel would move, counted per move; writes nothing.

The same selection as `channels.rederive_channels` (touches whose channel came from the rules, not
from the imported row), read in chunks and derived with the vectorised `derive_channels`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.marketing.channels import derive_channels, validate_rules
from closedloop.marketing.models import CLICK_ID_FIELDS, Touchpoint


def preview_rules(
    session: Session, rules: list[dict[str, Any]], *, chunk_size: int = 100_000
) -> dict[str, Any]:
    """{"touches": rule-derived touches read, "changed": how many would move, "moves": {"old -> new": n}}."""
    validate_rules(rules)
    t = Touchpoint.__table__
    columns = [t.c.id, t.c.channel, t.c.utm_source, t.c.utm_medium, t.c.utm_campaign, t.c.referrer]
    columns += [t.c[c] for c in CLICK_ID_FIELDS]
    names = [c.name for c in columns]
    moves: dict[str, int] = {}
    seen = changed = last_id = 0
    while True:
        rows = session.execute(
            select(*columns)
            .where(t.c.id > last_id, t.c.channel_explicit.is_(False))
            .order_by(t.c.id)
            .limit(chunk_size)
        ).all()
        if not rows:
            break
        last_id = rows[-1][0]
        frame = pd.DataFrame(rows, columns=names)
        frame["new"] = derive_channels(frame, rules)
        frame["channel"] = frame["channel"].fillna("")
        diff = frame[frame["new"] != frame["channel"]]
        seen += len(frame)
        changed += len(diff)
        for (old, new), n in diff.groupby(["channel", "new"]).size().items():
            moves[f"{old or '—'} -> {new}"] = moves.get(f"{old or '—'} -> {new}", 0) + int(n)
    return {"touches": seen, "changed": changed, "moves": dict(sorted(moves.items(), key=lambda kv: -kv[1]))}
