from __future__ import annotations

import math

import pandas as pd
from optuna.distributions import CategoricalDistribution, FloatDistribution

from analysis.findings.boundary import divergence, divergence_warning, edge_warnings
from study.storage.question import DEFAULT_QUESTION

DISTRIBUTIONS = {
    "bn_position": CategoricalDistribution(["before", "after"]),
    "learning_rate": FloatDistribution(1e-4, 1.0, log=True),
    "dropout": FloatDistribution(0.0, 0.5),
    "alpha": CategoricalDistribution([0.35, 1.0]),
}


def _frame(learning_rates, dropouts):
    n = len(learning_rates)
    return pd.DataFrame(
        {
            "number": range(n),
            "state": ["COMPLETE"] * n,
            "value": [0.9 - 0.01 * i for i in range(n)],  # best first
            "bn_position": ["before", "after"] * (n // 2) + ["before"] * (n % 2),
            "learning_rate": learning_rates,
            "dropout": dropouts,
            "alpha": [1.0] * n,  # always the largest choice: categorical, never flagged
        }
    )


def test_best_trials_at_the_top_of_a_log_range_are_flagged():
    # 0.5 is at 92% of [1e-4, 1] in log space, though at 50% on a linear scale.
    frame = _frame([0.5, 0.6, 0.9, 1e-2, 1e-3, 1e-4], [0.2] * 6)

    (warning,) = edge_warnings(frame, DISTRIBUTIONS)

    assert (warning.param, warning.edge, warning.n_near, warning.n_top) == (
        "learning_rate",
        "high",
        3,
        5,
    )
    assert "widen the search" in warning.message() and "beyond 1" in warning.message()


def test_low_edge_of_a_linear_range_and_a_centred_optimum():
    frame = _frame([1e-2] * 6, [0.01, 0.02, 0.04, 0.3, 0.25, 0.49])

    (warning,) = edge_warnings(frame, DISTRIBUTIONS)

    assert (warning.param, warning.edge) == ("dropout", "low")
    assert edge_warnings(_frame([1e-2] * 6, [0.25] * 6), DISTRIBUTIONS) == []


def test_divergence_counts_fail_reasons_and_nan_values_per_placement():
    frame = pd.DataFrame(
        {
            "state": ["FAIL", "FAIL", "FAIL", "COMPLETE", "COMPLETE", "PRUNED"],
            "value": [math.nan, math.nan, math.nan, math.nan, 0.9, 0.5],
            "bn_position": ["after", "after", "before", "before", "before", "after"],
            "failure_reason": [
                "diverged: loss is nan at epoch 2",
                "diverged: loss is inf at epoch 0",
                "out of memory",
                None,
                None,
                None,
            ],
        }
    )

    counts = divergence(frame, DEFAULT_QUESTION)

    assert (counts.n_failed, counts.n_diverged, counts.n_nan) == (3, 2, 1)
    assert counts.diverged_by_placement == {"before": 0, "after": 2}
    assert counts.unstable_fraction == 0.5
    assert "3 of 6 trials diverged or ended with NaN" in divergence_warning(counts)


def test_divergence_counts_trials_the_search_pruned_because_they_diverged():
    frame = pd.DataFrame(
        {
            "state": ["PRUNED", "PRUNED", "COMPLETE"],
            "value": [0.1, 0.6, 0.9],
            "bn_position": ["before", "after", "after"],
            "failure_reason": ["diverged: loss is nan at epoch 1", None, None],
        }
    )

    counts = divergence(frame, DEFAULT_QUESTION)

    assert counts.n_diverged == 1
    assert counts.diverged_by_placement == {"before": 1, "after": 0}


def test_no_divergence_warning_when_stable_or_without_failure_reasons():
    frame = pd.DataFrame(
        {"state": ["COMPLETE"] * 4, "value": [0.9] * 4, "bn_position": ["before"] * 4}
    )

    assert divergence_warning(divergence(frame, DEFAULT_QUESTION)) is None


def test_for_a_study_that_minimises_the_best_trials_are_the_lowest():
    # The best five by accuracy sit at the top of the learning-rate range; the lowest five
    # (the last five rows) in its middle.
    frame = _frame([0.5, 0.6, 0.7, 0.8, 0.9, 1e-2, 1e-2, 1e-2, 1e-2, 1e-2], [0.25] * 10)

    assert [w.param for w in edge_warnings(frame, DISTRIBUTIONS)] == ["learning_rate"]
    assert edge_warnings(frame, DISTRIBUTIONS, lower_is_better=True) == []
