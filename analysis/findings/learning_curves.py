"""The learning curves of each value's pick: accuracy per epoch, averaged over its reruns.

Reruns store each epoch's metrics (user attribute "history": loss, accuracy, val_loss,
val_accuracy). The validation accuracy per epoch is the learning curve; reruns stored before
it was scored every epoch kept only the training loss and accuracy, so a group of reruns falls
back to training accuracy when any of them lacks the validation one, and the curve says which
it shows (`metric`). The test split is scored once, at the end, and never read per epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from analysis.findings.selection_view import SelectionView
from analysis.reading.studies import LoadedStudies

__all__ = ["TRAINING", "VALIDATION", "LearningCurve", "curve_of", "pick_curves"]

VALIDATION = "val_accuracy"
TRAINING = "accuracy"  # what reruns stored before validation was scored every epoch have
METRIC_LABEL = {VALIDATION: "validation accuracy", TRAINING: "training accuracy"}


@dataclass(frozen=True)
class LearningCurve:
    """One value's pick, one kind of reruns: the mean and std of `metric` at each epoch."""

    value: object  # the scientific parameter's value
    reruns_of: str  # "selection" (validation reruns) or "confirmation" (test reruns)
    trial: int | None  # the search trial the reruns retrain
    metric: str  # VALIDATION, or TRAINING where a rerun lacks the validation curve
    mean: tuple[float, ...]  # epoch 1 first
    std: tuple[float, ...]  # NaN where fewer than two reruns reached the epoch
    n: int  # reruns averaged

    @property
    def metric_label(self) -> str:
        """"validation accuracy" or "training accuracy"."""
        return METRIC_LABEL[self.metric]


def _series(trial: FrozenTrial, metric: str) -> list[float]:
    return [math.nan if epoch.get(metric) is None else float(epoch[metric])
            for epoch in trial.user_attrs.get("history") or []]


def curve_of(reruns: Sequence[FrozenTrial], *, value: object, reruns_of: str
             ) -> LearningCurve | None:
    """The mean learning curve of some reruns of one configuration; None without a history.

    Args:
        reruns: COMPLETE reruns of one pick.
        value: The scientific parameter's value they are of.
        reruns_of: "selection" or "confirmation".

    Returns:
        The curve: validation accuracy where every rerun has it at every epoch, else training
        accuracy.
    """
    reruns = [trial for trial in reruns if trial.user_attrs.get("history")]
    if not reruns:
        return None
    metric = (VALIDATION if all(VALIDATION in epoch for trial in reruns
                                for epoch in trial.user_attrs["history"]) else TRAINING)
    series = [_series(trial, metric) for trial in reruns]
    table = np.full((len(series), max(map(len, series))), math.nan)
    for row, values in enumerate(series):
        table[row, :len(values)] = values
    columns = [column[np.isfinite(column)] for column in table.T]  # a diverged epoch is None
    mean = tuple(float(column.mean()) if column.size else math.nan for column in columns)
    std = tuple(float(column.std(ddof=1)) if column.size > 1 else math.nan for column in columns)
    sources = {trial.user_attrs.get("source_trial") for trial in reruns} - {None}
    return LearningCurve(value, reruns_of, int(sources.pop()) if len(sources) == 1 else None,
                         metric, mean, std, len(reruns))

def pick_curves(loaded: LoadedStudies, selection: SelectionView | None
                ) -> tuple[LearningCurve, ...]:
    """Each value's pick's learning curves: of its selection reruns and its confirmation reruns.

    Args:
        loaded: The study, with its selection and confirmation studies where run.
        selection: Its picks (`analysis.findings.selection_view`); without one, only the
            confirmation reruns' curves.

    Returns:
        The curves found, value by value (the question's order), selection first.
    """
    param, curves = loaded.param, []

    def complete(study: object) -> list[FrozenTrial]:
        return [] if study is None else list(study.get_trials(
            deepcopy=False, states=(TrialState.COMPLETE,)))

    selected, confirmed = complete(loaded.select_study), complete(loaded.confirm_study)
    for value in loaded.question.values:
        pick = (None if selection is None or value not in selection.selections
                else selection.selections[value].pick)
        groups = {
            "selection": [trial for trial in selected if pick is not None
                          and trial.user_attrs.get("source_trial") == pick],
            "confirmation": [trial for trial in confirmed if trial.params.get(param) == value],
        }
        for reruns_of, reruns in groups.items():
            curve = curve_of(reruns, value=value, reruns_of=reruns_of)
            if curve is not None:
                curves.append(curve)
    return tuple(curves)
