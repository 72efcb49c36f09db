"""`closedloop funnel` and `closedloop metrics` as a user runs them (JSON, CSV, table, errors)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from closedloop.cli.main import main
from closedloop.config import get_settings

PERIOD = ["--from", "2026-01-01", "--to", "2026-06-30", "--as-of", "2026-06-30"]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(monkeypatch, capsys):
    """Run `closedloop ...` through main() in this process (exit codes as the console script)."""

    def invoke(store, *args: str) -> Ran:
        monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", store.url)
        get_settings.cache_clear()
        capsys.readouterr()
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    yield invoke
    get_settings.cache_clear()


def test_funnel_and_metrics_commands(store, scenario, run) -> None:
    p = run(store, "funnel", "--by", "channel", "--format", "json", *PERIOD)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["as_of"] == "2026-06-30T23:59:59.999999+08:00"
    assert [r["group"] for r in d["rows"]] == [
        {"channel": "Email"},
        {"channel": "Ads"},
        {"channel": "Events"},
    ]
    assert d["rows"][0]["counts"]["lead"] == 3 and d["rows"][1]["immature"] == 1

    p = run(store, "metrics", "conversion", "velocity", "--from-stage", "mql", "--to-stage", "sql", "--format",
            "csv", *PERIOD)  # fmt: skip
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "\ufeffmetric,value,unit,currency,numerator,denominator,low,high,immature"
    assert lines[1].startswith("conversion,0.75,ratio,,3,4,")
    assert lines[2].startswith("velocity,10.0,days,")

    p = run(store, "metrics", "win_rate", "--by", "owner", *PERIOD)
    assert p.returncode == 0 and "as of 2026-06-30" in p.stdout


def test_user_errors_exit_1(store, scenario, run) -> None:
    p = run(store, "metrics", "happiness", "--format", "json")
    assert p.returncode == 1 and "unknown metric" in p.stderr
    p = run(store, "funnel", "--where", "channel")
    assert p.returncode == 1 and p.stderr.startswith("error:")
    assert run(store, "funnel", "--mode", "sideways").returncode == 2


RESULT_KEYS = {
    "metric",
    "group",
    "value",
    "unit",
    "currency",
    "numerator",
    "denominator",
    "low",
    "high",
    "immature",
}


def test_json_shapes_are_those_of_spec_section_7(store, scenario, run) -> None:
    p = run(store, "funnel", "--stages", "lead,mql,sql", "--format", "json", *PERIOD)
    d = json.loads(p.stdout)
    assert set(d) == {"mode", "stages", "as_of", "rows"} and (d["mode"], d["stages"]) == (
        "cohort",
        ["lead", "mql", "sql"],
    )
    (row,) = d["rows"]  # no --by: one row whose group is {}
    assert set(row) == {"group", "counts", "rates", "immature"} and row["group"] == {}
    assert list(row["counts"]) == ["lead", "mql", "sql"]
    assert set(row["rates"]) == {"lead->mql", "mql->sql", "lead->sql"}  # every adjacent pair and s0->sk
    assert all(set(r) == {"value", "low", "high", "numerator", "denominator"} for r in row["rates"].values())
    period = json.loads(run(store, "funnel", "--mode", "period", "--format", "json", *PERIOD).stdout)
    assert all(r["low"] is None and r["high"] is None for r in period["rows"][0]["rates"].values())
    assert period["rows"][0]["immature"] == 0

    p = run(store, "metrics", "conversion", "velocity", "win_rate", "ltv", "--from-stage", "mql", "--to-stage", "sql",
            "--format", "json", *PERIOD)  # fmt: skip
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert set(d) == {"as_of", "results"} and d["as_of"] == "2026-06-30T23:59:59.999999+08:00"
    named = [r["metric"] for r in d["results"]]
    assert named == ["conversion", "velocity", "win_rate", "ltv_historical", "ltv_predictive"]  # ltv: both
    for r in d["results"]:
        extra = {"figures"} if r["metric"] == "velocity" else set()
        assert set(r) == RESULT_KEYS | extra, r["metric"]
        assert r["unit"] in ("ratio", "count", "days", "hours", "months", "money", "score")
    velocity = d["results"][1]
    assert (
        set(velocity["figures"]) == {"median", "mean", "p90"}
        and velocity["value"] == velocity["figures"]["median"]
    )
    assert d["results"][0]["low"] is not None and velocity["low"] is None  # intervals on rates only
