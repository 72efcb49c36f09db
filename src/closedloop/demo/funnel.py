"""The lifecycle simulation: MQLs, hand-offs under the SLA, acceptance, qualification, deals.

Every step works on whole arrays of leads. Events are simulated to completion and cut at the
end of the period afterwards, so a lead's history is always a valid prefix of its future.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from closedloop.demo import reference as ref
from closedloop.demo.frame import DAY, HOUR, NULL, pick
from closedloop.demo.leads import Leads
from closedloop.demo.people import Staff

STAGES = ("lead", "mql", "sal", "sql", "opportunity", "customer", "recycled", "disqualified", "lost")
S = {name: i for i, name in enumerate(STAGES)}
REASONS = tuple(r[0] for r in ref.REJECTION_MIX)
R = {name: i for i, name in enumerate(REASONS)}
SOURCES = ("person", "rule", "deal", "demo", "capture")
# The default SLA policy of the hand-off domain: respond within 4 business hours, decide within
# 24 business hours, 3 attempts within 5 days.
SLA_RESPONSE_HOURS, SLA_ACCEPT_HOURS, SLA_ATTEMPTS, SLA_ATTEMPT_DAYS = 4.0, 24.0, 3, 5


@dataclass
class Events:
    """Lifecycle events under construction (parallel lists of arrays)."""

    cols: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {
            k: [] for k in ("lead", "from", "to", "at", "implied", "reason", "by", "source", "seq")
        }
    )
    seq: int = 0

    def emit(self, lead, from_, to, at, *, implied=False, reason=-1, by=NULL, source="person") -> None:
        n = len(lead)
        if n == 0:
            return
        values = {
            "lead": lead,
            "from": from_,
            "to": to,
            "at": at,
            "implied": implied,
            "reason": reason,
            "by": by,
            "source": SOURCES.index(source),
            "seq": np.arange(self.seq, self.seq + n),
        }
        self.seq += n
        for key, value in values.items():
            self.cols[key].append(np.broadcast_to(np.asarray(value, dtype=np.int64), (n,)).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in self.cols.items()}


@dataclass
class Rows:
    """Generic row arrays (hand-offs, activities, deals) collected per batch."""

    cols: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, **values) -> None:
        n = max(len(v) for v in values.values() if np.ndim(v) > 0)
        for key, value in values.items():
            self.cols.setdefault(key, []).append(np.broadcast_to(np.asarray(value), (n,)).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.cols.items()}


class Simulation:
    """Runs the funnel for all leads; results are in `events`, `handoffs`, `activities`, `deals`."""

    def __init__(self, rng: np.random.Generator, leads: Leads, staff: Staff) -> None:
        self.rng, self.leads, self.staff = rng, leads, staff
        self.events, self.handoffs, self.activities, self.deals = Events(), Rows(), Rows(), Rows()
        self.stage = np.full(leads.n, S["lead"])
        self.quality = leads.quality
        team_of_region = {region: i for i, region in enumerate(staff.team_region) if region}
        lead_team = np.array([team_of_region[r[0]] for r in ref.REGIONS])[leads.region]
        self.rep = np.zeros(leads.n, dtype=np.int64)
        for team in np.unique(lead_team):
            reps = np.flatnonzero(staff.rep_team == team)
            mask = lead_team == team
            self.rep[mask] = reps[self.rng.integers(0, len(reps), int(mask.sum()))]
        self.team = lead_team
        self.owned = np.zeros(leads.n, dtype=bool)
        self.spam = np.zeros(leads.n, dtype=bool)  # rejected as spam or bots

    # --- helpers -------------------------------------------------------------------------
    def _p(self, ids, base, power, extra=1.0, cap=0.95):
        return self.rng.random(len(ids)) < np.clip(base * self.quality[ids] ** power * extra, 0, cap)

    def _move(self, ids, to, at, **kw) -> None:
        self.events.emit(ids, self.stage[ids], S[to], at, **kw)
        self.stage[ids] = S[to]

    def _skip_to(self, ids, to, at, by) -> None:
        """A skip along the main line: implied events for the skipped stages, then the real one."""
        for implied in STAGES[S["lead"] + 1 : S[to]]:
            self.events.emit(ids, self.stage[ids], S[implied], at, implied=True, by=by)
        self._move(ids, to, at, by=by)

    def _by(self, ids):
        return self.staff.rep_ids[self.rep[ids]]

    # --- the run -------------------------------------------------------------------------
    def run(self) -> None:
        leads, rng = self.leads, self.rng
        inbound, outbound, partner = (np.flatnonzero(leads.source == k) for k in range(3))
        # Created by a form on the website (inbound) or entered by the rep (outbound, partner).
        self.events.emit(inbound, -1, S["lead"], leads.created[inbound], source="capture")
        others = np.concatenate((outbound, partner))
        self.events.emit(others, -1, S["lead"], leads.created[others], by=self._by(others))
        # Inbound: scoring or a demo request makes an MQL; junk is disqualified by marketing.
        mql = inbound[self._p(inbound, 0.18, 0.8, cap=0.9)]
        fast = rng.random(len(mql)) < 0.35
        delay = np.where(
            fast,
            rng.integers(120, 1800, len(mql)),
            (rng.lognormal(np.log(5 * DAY), 1.0, len(mql))).astype(np.int64),
        )
        rest = np.setdiff1d(inbound, mql)
        junk = rest[(self.quality[rest] < 0.45) & (rng.random(len(rest)) < 0.12)]
        self.spam[junk] = True
        self._move(
            junk,
            "disqualified",
            leads.created[junk] + rng.integers(HOUR, 10 * DAY, len(junk)),
            reason=R["spam"],
            by=self.staff.marketing_id,
        )
        # Outbound: sales-sourced, straight to SAL or SQL (implied earlier stages).
        roll = rng.random(len(outbound))
        to_sal, to_sql = outbound[roll < 0.35], outbound[(roll >= 0.35) & (roll < 0.55)]
        dud = outbound[(roll >= 0.55) & (roll < 0.7)]
        self.owned[outbound] = True
        to_sal_at = leads.created[to_sal] + rng.integers(HOUR, 4 * DAY, len(to_sal))
        to_sql_at = leads.created[to_sql] + rng.integers(DAY, 7 * DAY, len(to_sql))
        self._skip_to(to_sal, "sal", to_sal_at, self._by(to_sal))
        self._skip_to(to_sql, "sql", to_sql_at, self._by(to_sql))
        self._move(dud, "disqualified", leads.created[dud] + 3 * DAY, reason=R["wrong_fit"], by=self._by(dud))
        # Partner referrals: often arrive qualified, some straight to an opportunity.
        roll = rng.random(len(partner))
        p_opp, p_sql, p_mql = partner[roll < 0.2], partner[(roll >= 0.2) & (roll < 0.5)], partner[roll >= 0.5]
        self.owned[partner[roll < 0.5]] = True
        p_sql_at = leads.created[p_sql] + rng.integers(HOUR, 5 * DAY, len(p_sql))
        self._skip_to(p_sql, "sql", p_sql_at, self._by(p_sql))
        opp_at = leads.created[p_opp] + rng.integers(DAY, 10 * DAY, len(p_opp))
        self._skip_to(p_opp, "opportunity", opp_at, self._by(p_opp))

        mql_all = np.concatenate((mql, p_mql))
        mql_at = np.concatenate(
            (leads.created[mql] + delay, leads.created[p_mql] + rng.integers(HOUR, DAY, len(p_mql)))
        )
        self._move(mql_all, "mql", mql_at, source="rule")
        recycled_at = np.full(leads.n, NULL)
        lost_at = np.full(leads.n, NULL)
        sal_ids, sal_at = self.handoff(mql_all, mql_at, recycled_at)
        sal_ids, sal_at = np.concatenate((sal_ids, to_sal)), np.concatenate((sal_at, to_sal_at))
        sql_ids, sql_at = self.qualify(sal_ids, sal_at, recycled_at)
        sql_ids, sql_at = (
            np.concatenate((sql_ids, to_sql, p_sql)),
            np.concatenate((sql_at, to_sql_at, p_sql_at)),
        )
        opp_ids, opp_at_all = self.open_opportunity(sql_ids, sql_at, recycled_at)
        opp_ids, opp_at_all = np.concatenate((opp_ids, p_opp)), np.concatenate((opp_at_all, opp_at))
        self.work_deals(opp_ids, opp_at_all, lost_at)

        # Re-entry: some recycled and lost leads come back as MQLs and go round once more.
        back = np.flatnonzero(
            ((recycled_at != NULL) & (rng.random(leads.n) < 0.18))
            | ((lost_at != NULL) & (rng.random(leads.n) < 0.12))
        )
        back = back[np.isin(self.stage[back], (S["recycled"], S["lost"]))]
        since = np.where(recycled_at[back] != NULL, recycled_at[back], lost_at[back])
        again_at = since + rng.lognormal(np.log(75 * DAY), 0.6, len(back)).astype(np.int64)
        self._move(back, "mql", again_at, source="rule")
        scratch = np.full(leads.n, NULL)
        sal_ids, sal_at = self.handoff(back, again_at, scratch)
        sql_ids, sql_at = self.qualify(sal_ids, sal_at, scratch)
        opp_ids, opp_at_all = self.open_opportunity(sql_ids, sql_at, scratch)
        self.work_deals(opp_ids, opp_at_all, scratch)

    def handoff(self, ids, mql_at, recycled_at):
        """Route each MQL to its region's rep; the SLA clock runs on the team's business calendar."""
        rng, staff = self.rng, self.staff
        n = len(ids)
        self.owned[ids] = True
        rep = self.rep[ids]
        assigned = mql_at + rng.integers(60, 1200, n)
        response_bh = staff.rep_median_bh[rep] * rng.lognormal(0.0, 0.9, n)
        calendar = np.array(staff.team_calendar)[self.team[ids]]
        due, first_response, business_hours = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n)
        accept_due = np.zeros(n, np.int64)
        for key, clock in staff.clocks.items():
            m = calendar == key
            start_min = clock.minutes_at(assigned[m])
            due[m] = clock.instant_at(start_min + SLA_RESPONSE_HOURS * 60.0)
            accept_due[m] = clock.instant_at(start_min + SLA_ACCEPT_HOURS * 60.0)
            first_response[m] = clock.instant_at(start_min + response_bh[m] * 60.0)
            business_hours[m] = (clock.minutes_at(first_response[m]) - start_min) / 60.0
        first_response = np.maximum(first_response, assigned + 60)
        decided = first_response + rng.lognormal(np.log(20 * HOUR), 0.8, n).astype(np.int64)
        accepted = self._p(ids, 0.72, 0.5, staff.rep_accept[rep], cap=0.97)
        # Rejection reasons: junk reasons dominate for weak leads, fit and budget for good ones.
        good = np.clip(self.quality[ids] / 1.5, 0, 1)[:, None]
        weights = (
            np.array([r[1] for r in ref.REJECTION_MIX]) * (1 - good)
            + np.array([r[2] for r in ref.REJECTION_MIX]) * good
        )
        cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        reason = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, len(REASONS) - 1)
        target = np.array([S[r[3]] for r in ref.REJECTION_MIX])[reason]
        by = staff.rep_ids[rep]
        self.handoffs.add(
            lead=ids,
            owner=by,
            team=staff.team_ids[self.team[ids]],
            assigned=assigned,
            first_response=first_response,
            decided=decided,
            accepted=accepted,
            reason=np.where(accepted, -1, reason),
            due=due,
            accept_due=accept_due,
            business_hours=business_hours,
        )
        kind = np.array(["call", "email", "line_message", "wechat_message", "meeting"])
        region_group = np.where(calendar == "CN", 3, np.where(calendar == "SG", 4, 2))
        first_kind = np.where(rng.random(n) < 0.5, 0, np.where(rng.random(n) < 0.5, 1, region_group))
        occurred = np.maximum(first_response - rng.integers(30, 900, n), assigned + 30)
        self.activities.add(
            lead=ids, deal=NULL, user=by, type=kind[first_kind], occurred=occurred, recorded=first_response
        )
        more = rng.poisson(1.0, n)
        owner = np.repeat(np.arange(n), more)
        at = first_response[owner] + (
            rng.random(len(owner)) * (decided[owner] - first_response[owner] + 3 * DAY)
        ).astype(np.int64)
        self.activities.add(
            lead=ids[owner],
            deal=NULL,
            user=by[owner],
            type=kind[rng.integers(0, 2, len(owner))],
            occurred=at,
            recorded=at + rng.integers(60, 7200, len(owner)),
        )
        acc = accepted
        self._move(ids[acc], "sal", decided[acc], by=by[acc])
        rej = ~acc
        rej_ids = ids[rej]
        for stage in (S["recycled"], S["disqualified"]):
            m = target[rej] == stage
            self.events.emit(
                rej_ids[m],
                self.stage[rej_ids[m]],
                stage,
                decided[rej][m],
                reason=reason[rej][m],
                by=by[rej][m],
            )
            self.stage[rej_ids[m]] = stage
        is_recycled = target[rej] == S["recycled"]
        recycled_at[rej_ids[is_recycled]] = decided[rej][is_recycled]
        self.spam[rej_ids[reason[rej] == R["spam"]]] = True
        return ids[acc], decided[acc]

    def qualify(self, ids, sal_at, recycled_at):
        """SAL -> SQL (need, budget, authority, timing confirmed), or recycled when it stalls."""
        rng = self.rng
        ok = self._p(ids, 0.55, 0.6)
        at_ok = sal_at[ok] + rng.lognormal(np.log(6 * DAY), 0.8, int(ok.sum())).astype(np.int64)
        self._move(ids[ok], "sql", at_ok, by=self._by(ids[ok]))
        stalled = ids[~ok]
        at_stall = sal_at[~ok] + rng.lognormal(np.log(25 * DAY), 0.6, len(stalled)).astype(np.int64)
        reason = np.array([R["no_response"], R["no_budget"], R["no_authority"]])[
            pick(rng, len(stalled), [0.5, 0.3, 0.2])
        ]
        self._move(stalled, "recycled", at_stall, reason=reason, by=self._by(stalled))
        recycled_at[stalled] = at_stall
        return ids[ok], at_ok

    def open_opportunity(self, ids, sql_at, recycled_at):
        """SQL -> opportunity (a deal is opened), or recycled / disqualified."""
        rng = self.rng
        ok = self._p(ids, 0.62, 0.3)
        at_ok = sql_at[ok] + rng.lognormal(np.log(5 * DAY), 0.7, int(ok.sum())).astype(np.int64)
        self._move(ids[ok], "opportunity", at_ok, by=self._by(ids[ok]))
        rest = ids[~ok]
        at_no = sql_at[~ok] + rng.lognormal(np.log(14 * DAY), 0.6, len(rest)).astype(np.int64)
        dq = rng.random(len(rest)) < 0.4
        self._move(rest[dq], "disqualified", at_no[dq], reason=R["wrong_fit"], by=self._by(rest[dq]))
        self._move(rest[~dq], "recycled", at_no[~dq], reason=R["no_budget"], by=self._by(rest[~dq]))
        recycled_at[rest[~dq]] = at_no[~dq]
        return ids[ok], at_ok

    def work_deals(self, ids, opp_at, lost_at) -> None:
        """One deal per opportunity through the pipeline; won moves the lead to customer, lost to lost."""
        rng, n = self.rng, len(ids)
        win_factor = self.staff.rep_win[self.rep[ids]]
        won = self._p(ids, 0.22, 0.5, win_factor, cap=0.8)
        size = self.leads.size[ids]
        size_factor = np.where(
            size >= 0, np.array([s[2] for s in ref.COMPANY_SIZES])[np.maximum(size, 0)], 0.5
        )
        medians = np.array([7, 10, 12, 9]) * DAY
        durations = (medians[None, :] * size_factor[:, None] ** 0.3 * rng.lognormal(0, 0.6, (n, 4))).astype(
            np.int64
        )
        times = opp_at[:, None] + np.concatenate(
            (np.zeros((n, 1), dtype=np.int64), np.cumsum(durations, axis=1)), axis=1
        )
        last_stage = np.where(won, 3, pick(rng, n, [0.3, 0.3, 0.25, 0.15]))
        closed = times[np.arange(n), last_stage + 1]
        lost_reason = pick(rng, n, [w for _, w in ref.LOST_REASONS])
        self.deals.add(
            lead=ids, created=opp_at, won=won, last_stage=last_stage, expansion=False, lost_reason=lost_reason
        )
        self.deals.cols.setdefault("stage_times", []).append(times)
        by = self._by(ids)
        self._move(ids[won], "customer", closed[won], by=by[won], source="deal")
        codes = np.array([R[c] for c, _ in ref.LOST_REASONS])
        self._move(
            ids[~won], "lost", closed[~won], reason=codes[lost_reason[~won]], by=by[~won], source="deal"
        )
        lost_at[ids[~won]] = closed[~won]
