"""`closedloop attribution` on path tables: the SPEC section 7 JSON shape, no NaN, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from tests.conftest import DATASETS

from closedloop.cli.main import cli
from closedloop.config import get_settings

PATHDATA = DATASETS / "channelattribution_pathdata" / "Data.csv"
TABLE = "path,total_conversions,total_conversion_value,total_null\nA>B,2,30,1\nB,1,5,3\nC>A,0,0,2\n"


@pytest.fixture
def no_store(tmp_path, monkeypatch):
    """No store in the working directory: the reporting currency falls back to TWD."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", f"sqlite:///{tmp_path}/absent.db")
    get_settings.cache_clear()
    (tmp_path / "paths.csv").write_text(TABLE, encoding="utf-8")
    yield tmp_path
    get_settings.cache_clear()


def strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"JSON holds {name}")

    return json.loads(text, parse_constant=refuse)


def run(*args):
    result = CliRunner().invoke(cli, ["attribution", *map(str, args)], catch_exceptions=False)
    return result


def test_markov_json_shape(no_store):
    result = run("--paths", no_store / "paths.csv", "--model", "markov", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = strict_json(result.output)
    assert set(doc) == {"model", "conversion", "total_conversions", "total_value", "currency", "credits"}
    assert doc["model"] == "markov"
    assert doc["conversion"] == "path_table"
    assert doc["currency"] == "TWD"
    assert doc["total_conversions"] == 3
    assert doc["total_value"] == 35
    assert {c["key"] for c in doc["credits"]} == {"A", "B", "C"}
    for credit in doc["credits"]:
        assert set(credit) == {"key", "conversions", "value", "removal_effect"}
    # start->A 3, ->B 4, ->C 2; A->B 3, A->null 2; B->conv 3, B->null 4; C->A 2.
    # x_B = 3/7, x_A = x_C = 3/5 * 3/7 = 9/35, P = 3/9 x_A + 4/9 x_B + 2/9 x_C = 1/3.
    # without A: 4/9 * 3/7 = 4/21 -> RE 3/7; without B: 0 -> RE 1; without C: 29/105 -> RE 6/35.
    credits = {c["key"]: c for c in doc["credits"]}
    assert credits["A"]["removal_effect"] == pytest.approx(3 / 7)
    assert credits["B"]["removal_effect"] == pytest.approx(1)
    assert credits["C"]["removal_effect"] == pytest.approx(6 / 35)
    assert credits["A"]["conversions"] == pytest.approx(3 * 15 / 56)
    assert credits["B"]["conversions"] == pytest.approx(3 * 35 / 56)
    assert credits["C"]["value"] == pytest.approx(35 * 6 / 56)


def test_bootstrap_adds_low_and_high(no_store):
    result = run(
        "--paths", no_store / "paths.csv", "--model", "linear", "--bootstrap", 50, "--format", "json"
    )
    doc = strict_json(result.output)
    for credit in doc["credits"]:
        assert credit["low"] <= credit["conversions"] <= credit["high"]
        assert "removal_effect" not in credit


def test_csv_and_table_and_compare(no_store):
    csv_out = run("--paths", no_store / "paths.csv", "--model", "first_touch", "--format", "csv").output
    assert csv_out.startswith("\ufeffkey,conversions,value")
    assert "A,2.0,30.0" in csv_out
    table = run("--paths", no_store / "paths.csv", "--model", "first_touch").output
    assert "TWD" in table
    compared = strict_json(run("--paths", no_store / "paths.csv", "--compare", "--format", "json").output)
    assert "time_decay" not in compared["models"]
    a = next(r for r in compared["rows"] if r["key"] == "A")
    assert a["conversions"]["first_touch"] == 2
    assert a["conversions"]["last_touch"] == 0


def test_pathdata_every_model(no_store):
    if not PATHDATA.exists():
        pytest.skip("shared PathData not present")
    for model in ("first_touch", "last_touch", "linear", "position_based", "markov", "shapley"):
        result = run("--paths", PATHDATA, "--delimiter", ";", "--model", model, "--format", "json")
        doc = strict_json(result.output)
        assert doc["total_conversions"] == 19785
        assert len(doc["credits"]) == 12


@pytest.mark.parametrize("model", ["time_decay", "w_shaped"])
def test_models_needing_times_exit_1(no_store, model):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "closedloop.cli.main",
            "attribution",
            "--paths",
            str(no_store / "paths.csv"),
            "--model",
            model,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=no_store,
    )
    assert proc.returncode == 1
    assert "path table" in proc.stderr
    assert proc.stdout == ""


def test_bad_row_exits_1_naming_row_and_column(no_store):
    (no_store / "bad.csv").write_text(TABLE + "D,x,1,1\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "closedloop.cli.main", "attribution", "--paths", str(no_store / "bad.csv")],
        capture_output=True,
        text=True,
        check=False,
        cwd=no_store,
    )
    assert proc.returncode == 1
    assert "row 5, column total_conversions" in proc.stderr
