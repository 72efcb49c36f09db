"""The path-table reader on the shared PathData and on small tables with errors."""

from __future__ import annotations

import pytest
from tests.conftest import DATASETS

from closedloop.attribution.paths import parse_path_table, read_path_table
from closedloop.attribution.service import applicable_models, attribute
from closedloop.errors import ValidationFailed

PATHDATA = DATASETS / "channelattribution_pathdata" / "Data.csv"
GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mi",
}


@pytest.fixture(scope="module")
def pathdata():
    if not PATHDATA.exists():
        pytest.skip("shared PathData not present")
    return read_path_table(PATHDATA, delimiter=";")


def test_pathdata_totals_and_aggregation(pathdata):
    # 10,000 rows but 5,408 distinct paths (SOURCE.md); totals from SOURCE.md
    assert pathdata.count == 5408
    assert pathdata.conversions.sum() == 19785
    assert pathdata.values.sum() == pytest.approx(74802.97, abs=0.01)
    assert pathdata.nulls.sum() == 68602
    assert set(pathdata.keys) == GREEK


def test_every_model_credits_the_twelve_channels(pathdata):
    models = applicable_models(pathdata)
    assert "time_decay" not in models and "w_shaped" not in models
    for model in models:
        credits = attribute(pathdata, model)
        assert set(credits.keys) == GREEK, model
        assert credits.conversions.sum() == pytest.approx(19785), model
        assert credits.values.sum() == pytest.approx(pathdata.values.sum()), model


@pytest.mark.parametrize("model", ["time_decay", "w_shaped"])
def test_models_needing_times_are_refused(pathdata, model):
    with pytest.raises(ValidationFailed, match="path table"):
        attribute(pathdata, model)


def test_repeated_paths_are_summed_and_spaces_ignored():
    text = "path,total_conversions,total_conversion_value,total_null\nA > B,1,10,2\nA>B ,2,5.5,0\n B,0,0,3\n"
    journeys = parse_path_table(text)
    assert journeys.count == 2
    assert list(journeys.conversions) == [3, 0]
    assert list(journeys.values) == [15.5, 0]
    assert list(journeys.nulls) == [2, 3]
    assert journeys.keys == ["A", "B"]


def test_other_separator_and_delimiter():
    text = "total_null;path;total_conversions;total_conversion_value\n1;x|y|x;2;4\n"
    journeys = parse_path_table(text, sep="|", delimiter=";")
    first = attribute(journeys, "first_touch").as_dict()
    assert first == {"x": (2, 4), "y": (0, 0)}


@pytest.mark.parametrize(
    ("row", "column"),
    [("A>B,one,1,1", "total_conversions"), ("A>B,1,-3,1", "total_conversion_value"), ("A>>B,1,1,1", "path")],
)
def test_bad_rows_name_row_and_column(row, column):
    text = f"path,total_conversions,total_conversion_value,total_null\nA,1,1,1\n{row}\n"
    with pytest.raises(ValidationFailed) as info:
        parse_path_table(text)
    assert info.value.detail["row"] == 3
    assert info.value.detail["column"] == column
    assert f"row 3, column {column}" in str(info.value)


def test_missing_columns_are_named():
    with pytest.raises(ValidationFailed, match="total_null"):
        parse_path_table("path,total_conversions,total_conversion_value\nA,1,1\n")
