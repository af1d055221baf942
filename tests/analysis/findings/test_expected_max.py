from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from analysis.findings.expected_max import (
    describe_leaders,
    expected_max,
    expected_max_curve,
    leader_by_budget,
    max_weights,
    placement_curves,
)
from study.storage.question import DEFAULT_QUESTION

VALUES = [0.80, 0.85, 0.85, 0.70, 0.90, 0.60]  # with a tie on purpose


@pytest.mark.parametrize("budget", range(1, len(VALUES) + 1))
def test_matches_brute_force_over_all_subsets(budget):
    best_of_each = [max(subset) for subset in combinations(VALUES, budget)]
    mean, std = expected_max(VALUES, budget)

    assert mean == pytest.approx(np.mean(best_of_each), abs=1e-12)
    assert std == pytest.approx(np.std(best_of_each), abs=1e-9)


def test_ends_of_the_curve_are_the_mean_and_the_max():
    curve = expected_max_curve(VALUES, "after")

    assert curve.mean[0] == pytest.approx(np.mean(VALUES))
    assert curve.mean[-1] == pytest.approx(max(VALUES))
    assert curve.std[-1] == pytest.approx(0.0, abs=1e-7)
    assert list(curve.budgets) == [1, 2, 3, 4, 5, 6]


def test_weights_sum_to_one_and_stay_finite_for_many_trials():
    weights = max_weights(400, 200)  # C(400, 200) ~ 1e119: overflows without log space
    curve = expected_max_curve(np.random.default_rng(0).uniform(0.8, 0.9, 400))

    assert weights.sum() == pytest.approx(1.0)
    assert weights[:199].sum() == 0.0  # the 199 smallest values cannot be the best of 200
    assert np.all(np.isfinite(curve.mean)) and np.all(np.diff(curve.mean) >= -1e-12)
    assert curve.mean[-1] <= 0.9


@pytest.mark.parametrize("budget", [0, 7])
def test_budget_outside_one_to_n_is_rejected(budget):
    with pytest.raises(ValueError, match=r"`budget` must be in \[1, 6\]"):
        expected_max(VALUES, budget)


def test_placement_curves_use_complete_and_pruned_trials_only():
    frame = pd.DataFrame(
        {
            "state": ["COMPLETE", "PRUNED", "FAIL", "COMPLETE", "COMPLETE"],
            "value": [0.9, 0.5, np.nan, 0.8, 0.85],
            "bn_position": ["before", "before", "before", "after", "after"],
        }
    )
    before, after = placement_curves(frame, DEFAULT_QUESTION)

    assert before.placement == "before" and list(before.mean) == pytest.approx([0.7, 0.9])
    assert after.mean[0] == pytest.approx(0.825)


def test_leaders_and_their_description():
    curves = [
        expected_max_curve([0.8, 0.9, 0.7], "before"),
        expected_max_curve([0.85, 0.86], "after"),
    ]
    leaders = leader_by_budget(curves, DEFAULT_QUESTION)

    assert list(leaders["leader"]) == ["after", "before"]  # after's mean is higher, not its max
    assert (
        describe_leaders(leaders)
        == "the lead changes with the budget: after at 1, before at 2 trials"
    )
    same = leader_by_budget(
        [expected_max_curve([0.8, 0.9], "before"), expected_max_curve([0.9, 0.95], "after")],
        DEFAULT_QUESTION,
    )
    assert describe_leaders(same) == "after is ahead at every budget from 1 to 2 trials"


def test_for_a_study_that_minimises_the_curves_are_expected_minima_and_lower_leads():
    frame = pd.DataFrame({"state": ["COMPLETE"] * 4, "value": [2.0, 3.0, 2.5, 2.6],
                          "bn_position": ["before", "before", "after", "after"]})

    before, after = placement_curves(frame, DEFAULT_QUESTION, lower_is_better=True)

    assert list(before.mean) == pytest.approx([2.5, 2.0])  # best of both: the lower
    assert list(after.mean) == pytest.approx([2.55, 2.5])
    leaders = leader_by_budget([before, after], DEFAULT_QUESTION, lower_is_better=True)
    assert list(leaders["leader"]) == ["before", "before"]
