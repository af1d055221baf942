"""Warnings about instability: trials at chance accuracy, reruns with a heavy tail."""

from __future__ import annotations

import optuna
import pandas as pd
from optuna.distributions import CategoricalDistribution, FloatDistribution

from analysis.findings.instability import (
    chance_warning,
    collapsed_neighbour_warnings,
    heavy_tail_warning,
    share_below,
)
from study.storage.question import DEFAULT_QUESTION


def _trials() -> pd.DataFrame:
    return pd.DataFrame({
        "number": [0, 1, 2, 3],
        "state": ["COMPLETE", "PRUNED", "FAIL", "COMPLETE"],
        "value": [0.86, 0.10, float("nan"), 0.115],
        "bn_position": ["before", "before", "after", "after"],
        "learning_rate": [0.01, 0.17, 0.3, 0.25],
    })


def test_trials_that_ended_at_chance_are_named():
    warning = chance_warning(_trials(), num_classes=10, param=DEFAULT_QUESTION.param)

    assert warning == (
        "2 of 4 trials ended at chance accuracy (at most 0.12 for 10 classes) without a "
        "non-finite loss, so the divergence count misses them: trials 1 (before, "
        "learning_rate 0.17), 3 (after, learning_rate 0.25).")
    assert chance_warning(_trials(), num_classes=None, param=DEFAULT_QUESTION.param) is None
    assert chance_warning(_trials().iloc[[0, 2]], num_classes=10,
                          param=DEFAULT_QUESTION.param) is None


def test_a_placement_whose_reruns_fall_below_all_of_the_others_has_a_heavy_tail():
    before = pd.DataFrame({"value": [0.86] * 16 + [0.78, 0.80, 0.81, 0.845]})
    after = pd.DataFrame({"value": [0.84, 0.845, 0.85, 0.842]})

    assert share_below(before["value"], after["value"]) == 3 / 20
    assert heavy_tail_warning({"before": before, "after": after}).startswith(
        "3 of 20 \"before\" reruns (15%) lie below every \"after\" rerun: a heavy tail")
    assert heavy_tail_warning({"before": before.iloc[:17], "after": after}) is None  # 1 of 17


def test_reruns_all_below_the_others_are_a_shift_not_a_heavy_tail():
    before = pd.DataFrame({"value": [0.86, 0.861, 0.858, 0.863]})
    after = pd.DataFrame({"value": [0.84, 0.845, 0.838, 0.859]})  # 3 of 4 below every "before"

    assert share_below(after["value"], before["value"]) == 3 / 4
    assert heavy_tail_warning({"before": before, "after": after}) is None


def _trial(number: int, value: float, learning_rate: float, curve: list[float],
           alpha: float = 0.75, placement: str = "before") -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(
        params={"bn_position": placement, "learning_rate": learning_rate, "alpha": alpha},
        distributions={"bn_position": CategoricalDistribution(["before", "after"]),
                       "learning_rate": FloatDistribution(1e-4, 1.0, log=True),
                       "alpha": CategoricalDistribution([0.35, 0.75])},
        value=value, intermediate_values=dict(enumerate(curve, 1)))


def test_a_collapsed_learning_rate_neighbour_of_the_pick_is_named():
    trials = [_trial(2, 0.87, 0.085, [0.6, 0.8, 0.87]),
              _trial(10, 0.30, 0.071, [0.49, 0.35, 0.30]),  # a neighbour that collapsed
              _trial(11, 0.30, 0.30, [0.49, 0.2, 0.30]),  # too far from the pick's rate
              _trial(12, 0.30, 0.08, [0.49, 0.2, 0.30], alpha=0.35)]  # another width
    for number, trial in zip((2, 10, 11, 12), trials, strict=True):
        trial.number = number

    assert collapsed_neighbour_warnings(trials, question=DEFAULT_QUESTION) == [
        "Trial 10 (learning_rate 0.071), a learning-rate neighbour of the \"before\" pick (trial "
        "2, learning_rate 0.085), collapsed from 49% to 35% between epochs 1 and 2: the pick "
        "sits near where training turns unstable."]
    # Where a selection picked another trial, its neighbours are the ones that count.
    chosen = collapsed_neighbour_warnings(trials, picks={"before": 11}, question=DEFAULT_QUESTION)
    assert chosen == []
    chosen = collapsed_neighbour_warnings(trials, picks={"before": 2}, question=DEFAULT_QUESTION)
    assert chosen == collapsed_neighbour_warnings(trials, question=DEFAULT_QUESTION)
