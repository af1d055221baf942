from __future__ import annotations

import math

import pandas as pd

from analysis.findings.isolation import isolation_table
from study.storage.question import DEFAULT_QUESTION

FRAME = pd.DataFrame(
    {
        "number": [0, 1, 2, 3, 4, 5],
        "state": ["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED", "COMPLETE", "FAIL"],
        "value": [0.90, 0.85, 0.88, 0.99, 0.80, math.nan],
        "bn_position": ["before", "before", "after", "after", "after", "before"],
        "alpha": [1.0, 0.5, 1.0, 0.5, 0.5, 1.0],
    }
)


def test_best_complete_trial_per_placement_overall_and_per_width():
    table = isolation_table(FRAME, question=DEFAULT_QUESTION)

    assert list(table["group"]) == ["all", "all", "0.5", "0.5", "1.0", "1.0"]
    rows = table.set_index(["group", "bn_position"])
    assert rows.loc[("all", "before"), "best_value"] == 0.90
    assert rows.loc[("all", "after"), "best_trial"] == 2  # the pruned 0.99 does not count
    assert rows.loc[("0.5", "after"), "best_value"] == 0.80
    assert rows.loc[("all", "before"), "n_complete"] == 2


def test_group_without_a_placement_is_nan_not_missing():
    table = isolation_table(FRAME[FRAME["number"] != 4], question=DEFAULT_QUESTION)
    row = table[(table["group"] == "0.5") & (table["bn_position"] == "after")].iloc[0]

    assert math.isnan(row["best_value"]) and row["best_trial"] == -1 and row["n_complete"] == 0


def test_without_alpha_only_the_overall_group_remains():
    table = isolation_table(FRAME.drop(columns="alpha"), question=DEFAULT_QUESTION)

    assert list(table["group"]) == ["all", "all"]



def test_a_study_that_minimises_keeps_each_placements_lowest_trial():
    table = isolation_table(FRAME, None, question=DEFAULT_QUESTION, lower_is_better=True)

    rows = table.set_index("bn_position")
    assert rows.loc["before", "best_trial"] == 1 and rows.loc["after", "best_trial"] == 4
    assert list(table["group"]) == ["all", "all"]  # no split without a group parameter
