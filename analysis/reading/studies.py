"""Open the storage, load the search study (and its confirmation study) as tidy tables.

Nothing here writes: the storage is opened read-only (`study.storage.opener.open_storage`: a SQLite
URL must name an existing Optuna database, no file or table is created), and the tables are
built from copies of the trials.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import optuna
import pandas as pd
from optuna.distributions import BaseDistribution
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from study.errors import UsageError
from study.storage.contract import CONFIG_ATTR, CONFIRM_SUFFIX, SELECT_SUFFIX
from study.storage.heartbeat import retried_trial
from study.storage.opener import load_study, load_study_if_any, open_storage
from study.storage.question import Question, stored_question

# Columns every trials table starts with; parameters and user attributes follow.
BASE_COLUMNS = ("number", "state", "value", "duration_s", "last_step", "retry_of")


class AnalysisError(UsageError):
    """A problem with the input (storage, study, trials) that the user has to fix."""


@dataclass(frozen=True)
class LoadedStudies:
    """The search study, its tidy trials table and, when present, the confirmation reruns.

    `trials` has one row per search trial: BASE_COLUMNS, then one column per parameter (named
    as the parameter), then one per user attribute (prefixed `user_attrs_` only where the name
    is already taken). `confirm` has one row per confirmation trial, with the scientific
    parameter; `confirm_study` is the confirmation study it was read from (for its dashboard
    note). `question` is the comparison analysed: the study's question, or with more than two
    values one value against the reference (`comparisons` of them share the error level).
    """

    study: optuna.Study
    trials: pd.DataFrame
    distributions: dict[str, BaseDistribution]
    param_names: tuple[str, ...]
    config: dict[str, Any]
    confirm: pd.DataFrame | None
    confirm_study: optuna.Study | None
    question: Question  # the reference and the one value compared with it
    select_study: optuna.Study | None = None  # NAME/select, the selection's reruns, if run
    comparisons: int = 1  # values compared with the reference in the whole question

    @property
    def param(self) -> str:
        """The scientific parameter's name (its column in `trials` and `confirm`)."""
        return self.question.param

    @property
    def paired(self) -> bool:
        """Whether the confirmation reruns were paired by seed (its stored record says)."""
        record = {} if self.confirm_study is None else self.confirm_study.user_attrs.get(
            CONFIG_ATTR)
        return isinstance(record, dict) and record.get("pairing") == "paired"


def trials_frame(trials: list[FrozenTrial], param_names: tuple[str, ...]) -> pd.DataFrame:
    """Build one tidy row per trial: state, value, parameters and user attributes.

    Args:
        trials: Trials of one study.
        param_names: Parameter columns, in order; missing parameters become NaN/None.

    Returns:
        The table, sorted by trial number.
    """
    rows = []
    for trial in trials:
        duration = trial.duration.total_seconds() if trial.duration is not None else math.nan
        row: dict[str, Any] = {
            "number": trial.number,
            "state": trial.state.name,
            "value": trial.value if trial.value is not None else math.nan,
            "duration_s": duration,
            "last_step": trial.last_step,
            # The trial whose process stopped before its end (heartbeat) and that this one
            # trains again; None for a first try.
            "retry_of": retried_trial(trial),
        }
        row.update({name: trial.params.get(name) for name in param_names})
        for key, attr in trial.user_attrs.items():
            column = f"user_attrs_{key}" if key in row else key
            row[column] = attr
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else list(BASE_COLUMNS))
    frame["retry_of"] = frame["retry_of"].astype("Int64")  # trial numbers, not 5.0
    return frame.sort_values("number", kind="stable").reset_index(drop=True)


def _param_names(trials: list[FrozenTrial], param: str) -> tuple[str, ...]:
    names: dict[str, None] = {param: None}
    for trial in trials:
        names.update(dict.fromkeys(trial.distributions))
    return tuple(names)


def _distributions(trials: list[FrozenTrial]) -> dict[str, BaseDistribution]:
    """Return each parameter's distribution as the latest trial that has it defines it."""
    distributions: dict[str, BaseDistribution] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        distributions.update(trial.distributions)
    return distributions


def load_studies(storage: str | BaseStorage, study_name: str, compare: object | None = None
                 ) -> LoadedStudies:
    """Load the search study NAME and, if present, NAME/confirm and NAME/select from one storage.

    Args:
        storage: Storage URL (opened read-only: see `study.storage.opener.open_storage`) or storage
            object.
        study_name: Name of the search study.
        compare: With a question of more than two values, the value compared with the
            reference (`load_question` lists them); None for a two-value question.

    Returns:
        The loaded studies and their tidy tables.

    Raises:
        StorageError: when the storage cannot be read or the study is not there.
        AnalysisError: when the study is not one this analysis can read.
    """
    if isinstance(storage, str):
        storage = open_storage(storage, read_only=True)
    study = load_study(storage, study_name)
    if len(study.directions) > 1:
        raise AnalysisError(f"Study {study_name!r} must have one objective, but has several.")
    trials = study.get_trials(deepcopy=True)
    full = stored_question(study)
    question = compared_question(full, compare)
    if not any(question.param in trial.params for trial in trials):
        raise AnalysisError(
            f"Study {study_name!r} must have trials with the parameter `{question.param}`, "
            f"but none of its {len(trials)} trials has it."
        )
    param_names = _param_names(trials, question.param)
    frame = trials_frame(trials, param_names)
    confirm_study = load_study_if_any(storage, study_name + CONFIRM_SUFFIX)
    confirm = None if confirm_study is None else trials_frame(  # reruns store only that param
        confirm_study.get_trials(deepcopy=True), (question.param,))
    config = study.user_attrs.get(CONFIG_ATTR, {})
    return LoadedStudies(
        study=study,
        trials=frame,
        distributions=_distributions(trials),
        param_names=param_names,
        config=config if isinstance(config, dict) else {CONFIG_ATTR: config},
        confirm=confirm,
        confirm_study=confirm_study,
        select_study=load_study_if_any(storage, study_name + SELECT_SUFFIX),
        question=question,
        comparisons=len(full.others),
    )


def compared_question(full: Question, compare: object | None) -> Question:
    """The two-value question analysed: `full`, or its reference against `compare`.

    Raises:
        AnalysisError: when `compare` is missing with more than two values, or is not one of
            the values compared with the reference.
    """
    if compare is None and len(full.values) == 2:
        return full
    matches = [value for value in full.others if str(value) == str(compare)]
    if not matches:
        raise AnalysisError(
            f"`compare` must be one of {[str(value) for value in full.others]} (each is "
            f"compared with the reference {full.reference!r}), but got {compare!r}.")
    return Question(full.param, (full.reference, matches[0]))


def load_question(storage: str | BaseStorage, study_name: str) -> Question:
    """The whole question study NAME stored (all its values), for analysing each comparison."""
    if isinstance(storage, str):
        storage = open_storage(storage, read_only=True)
    return stored_question(load_study(storage, study_name))


def complete_values(frame: pd.DataFrame, placement: object,
                    param: str) -> pd.Series:
    """Return the finite values of the COMPLETE trials of one value, best first.

    Args:
        frame: A trials table from `trials_frame`.
        placement: The value of `param`, e.g. "before" or "after".
        param: The scientific parameter.

    Returns:
        Values indexed like `frame`, sorted in decreasing order.
    """
    selected = frame[(frame["state"] == "COMPLETE") & (frame[param] == placement)]
    values = selected["value"].astype(float)
    return values[values.map(math.isfinite)].sort_values(ascending=False, kind="stable")
