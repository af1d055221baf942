"""Isolation table: the best value of each placement once the nuisance parameters are tuned
(the highest accuracy, or the lowest value of a study that minimises).

The Tuning Playbook compares scientific values (here `bn_position`) by the best trial of each,
the nuisance hyperparameters (learning rate, ...) having been optimized for each separately.
Splitting by the width multiplier `alpha` shows whether the answer depends on model size.
"""

from __future__ import annotations

import math

import pandas as pd

from study.storage.question import Question

GROUP_PARAM = "alpha"  # the width multiplier: the one nuisance parameter worth splitting by
ALL_GROUP = "all"


def isolation_table(frame: pd.DataFrame, group_param: str | None = GROUP_PARAM, *,
                    question: Question, lower_is_better: bool = False) -> pd.DataFrame:
    """Best COMPLETE value per placement, overall and per value of `group_param`.

    Args:
        frame: A trials table from `analysis.reading.studies.trials_frame`.
        group_param: Parameter to split by; skipped if None or absent from the table.
        question: The scientific parameter and its values.
        lower_is_better: The study minimises: the best trial is the lowest.

    Returns:
        Columns group ("all" or the group value as text), the scientific parameter (named
        as it is, e.g. bn_position), best_value (NaN when the
        group has no COMPLETE trial of that placement), best_trial (-1 then), n_complete.
        Groups are "all" first, then sorted by value.
    """
    complete = frame[(frame["state"] == "COMPLETE") & frame["value"].map(math.isfinite)]
    groups: list[tuple[str, pd.DataFrame]] = [(ALL_GROUP, complete)]
    if group_param is not None and group_param in complete and complete[group_param].notna().any():
        for value in sorted(complete[group_param].dropna().unique()):
            groups.append((_label(value), complete[complete[group_param] == value]))
    rows = []
    for label, trials in groups:
        for placement in question.values:
            own = trials[trials[question.param] == placement]
            best = None if not len(own) else own.loc[
                own["value"].idxmin() if lower_is_better else own["value"].idxmax()]
            rows.append(
                {
                    "group": label,
                    question.param: placement,
                    "best_value": float(best["value"]) if best is not None else math.nan,
                    "best_trial": int(best["number"]) if best is not None else -1,
                    "n_complete": len(own),
                }
            )
    return pd.DataFrame(rows, columns=["group", question.param, "best_value", "best_trial",
                                       "n_complete"])


def _label(value: object) -> str:
    return str(value)  # 1.0 stays "1.0", as the search space spells it

