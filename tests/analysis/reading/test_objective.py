"""What a study's values are (`analysis.reading.objective`): their direction, their units and
how a difference and a margin read in them."""

from __future__ import annotations

import math

import optuna
import pytest

from analysis.reading.objective import (
    ACCURACY,
    FRACTION,
    OTHER_NAME,
    Objective,
    study_objective,
)
from study.errors import ConfigError
from study.storage.contract import CONFIG_ATTR

SECONDS = Objective("latency", lower_is_better=True, units="s")


def test_fractions_read_in_percentage_points():
    assert ACCURACY.difference(-0.0192) == "-1.92 pp"
    assert ACCURACY.amount(-0.0192) == "1.92 pp"
    assert ACCURACY.margin(0.005) == "±0.50 pp"
    assert ACCURACY.interval(-0.0232, -0.0152) == "[-2.32, -1.52] pp"
    assert ACCURACY.interval(-1.0, 0.2) == "not yet bounded"  # clipped at the range's end


def test_other_values_read_in_their_own_units():
    assert SECONDS.difference(-0.04123) == "-0.04123 s"
    assert SECONDS.amount(-1234.5) == "1234 s"  # four significant digits, units after
    assert SECONDS.margin(0.5) == "±0.5 s"
    assert SECONDS.interval(-2.0, 1.5) == "[-2, +1.5] s"
    assert SECONDS.interval(-math.inf, 1.5) == "not yet bounded"
    assert Objective("loss", units="").difference(0.25) == "+0.25"  # unnamed units


def test_the_description_says_the_units_and_which_way_is_better():
    assert SECONDS.description().startswith("Values: latency, in s; lower is better.")
    assert "in the objective's own units; higher is better" in Objective(
        "score", units="").description()
    assert SECONDS.label("best") == "best latency (lower is better)"
    assert ACCURACY.label("best") == "best validation accuracy"
    assert (ACCURACY.sign, SECONDS.sign) == (1.0, -1.0)


def test_a_margin_of_fractions_keeps_the_accuracy_rule_and_its_default():
    assert ACCURACY.check_margin(None) == 0.005
    with pytest.raises(ConfigError, match=r"a fraction of accuracy in \(0, 1\), but got 2"):
        ACCURACY.check_margin(2.0)


@pytest.mark.parametrize("margin", [None, 0.0, -1.0, math.nan, math.inf])
def test_a_margin_in_other_units_must_be_given_and_positive(margin):
    with pytest.raises(ConfigError, match=r"`margin` must be a positive difference of latency "
                                          rf"in s, the smallest .* but got {margin}\."):
        SECONDS.check_margin(margin)


def test_a_margin_in_other_units_may_be_any_positive_size():
    assert SECONDS.check_margin(250.0) == 250.0


def _study(direction: str, **user_attrs: object) -> optuna.Study:
    study = optuna.create_study(direction=direction, study_name="s")
    for key, value in user_attrs.items():
        study.set_user_attr(key, value)
    return study


def test_the_objective_of_a_study():
    assert study_objective(_study("maximize", **{CONFIG_ATTR: {}}), units=None,
                           fraction=True) == ACCURACY
    assert study_objective(_study("minimize"), units=None, fraction=False) == Objective(
        OTHER_NAME, lower_is_better=True, units="")
    assert study_objective(_study("maximize"), units=None, fraction=True) == Objective(
        OTHER_NAME, units=FRACTION)
    assert study_objective(_study("minimize"), units="ms", fraction=True).units == "ms"
