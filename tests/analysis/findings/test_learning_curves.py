"""The picks' learning curves: validation accuracy per epoch, training accuracy where a rerun
has no validation curve."""

from __future__ import annotations

import math

import pytest
from optuna.trial import create_trial

from analysis.findings.learning_curves import TRAINING, VALIDATION, curve_of


def _rerun(history: list[dict], source: int = 4):
    return create_trial(value=0.9, user_attrs={"history": history, "source_trial": source})


def test_the_curve_is_the_mean_validation_accuracy_per_epoch():
    reruns = [_rerun([{"accuracy": 0.5, "val_accuracy": 0.4}, {"accuracy": 0.7,
                                                             "val_accuracy": 0.6}]),
              _rerun([{"accuracy": 0.6, "val_accuracy": 0.5}, {"accuracy": 0.8,
                                                             "val_accuracy": 0.8}])]

    curve = curve_of(reruns, value="after", reruns_of="selection")

    assert (curve.metric, curve.metric_label) == (VALIDATION, "validation accuracy")
    assert curve.mean == pytest.approx((0.45, 0.7))
    assert curve.std == pytest.approx((math.sqrt(0.005), math.sqrt(0.02)))
    assert (curve.value, curve.reruns_of, curve.trial, curve.n) == ("after", "selection", 4, 2)


def test_one_rerun_without_a_validation_curve_makes_the_group_fall_back_to_training():
    reruns = [_rerun([{"accuracy": 0.5, "val_accuracy": 0.4}]), _rerun([{"accuracy": 0.7}])]

    curve = curve_of(reruns, value="before", reruns_of="confirmation")

    assert (curve.metric, curve.metric_label) == (TRAINING, "training accuracy")
    assert curve.mean == pytest.approx((0.6,))


def test_a_diverged_epoch_is_left_out_and_a_lone_value_has_no_spread():
    reruns = [_rerun([{"accuracy": 0.5}, {"accuracy": None}]),
              _rerun([{"accuracy": 0.7}, {"accuracy": 0.8}], source=5)]

    curve = curve_of(reruns, value="before", reruns_of="selection")

    assert curve.mean == pytest.approx((0.6, 0.8))
    assert math.isnan(curve.std[1])
    assert curve.trial is None  # reruns of two trials name none


def test_reruns_without_a_history_give_no_curve():
    assert curve_of([create_trial(value=0.9)], value="before", reruns_of="selection") is None
    assert curve_of([], value="before", reruns_of="selection") is None


def test_each_picks_selection_and_confirmation_reruns_give_its_curves(families):
    shifting, steady = families["shifting"].budgets, families["steady"].budgets

    eight, sixteen = shifting.results
    assert [(c.value, c.reruns_of, c.n, c.metric) for c in eight.curves] == [
        ("before", "selection", 3, TRAINING), ("before", "confirmation", 30, TRAINING),
        ("after", "selection", 3, TRAINING), ("after", "confirmation", 30, TRAINING)]
    assert {c.metric for c in sixteen.curves} == {VALIDATION}
    assert [len(c.mean) for c in sixteen.curves] == [16] * 4
    picks = families["shifting"].analyses[1].selection.selections
    assert [c.trial for c in sixteen.curves] == [picks["before"].pick] * 2 + [
        picks["after"].pick] * 2
    assert steady.results[0].curves[0].metric == VALIDATION
