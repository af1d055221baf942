"""Open the storage, load the search study (and its confirmation study) as tidy tables.

Nothing here writes: the storage is opened read-only (`study.storage.opener.open_storage`: a SQLite
URL must name an existing Optuna database, no file or table is created), and the tables are
built from copies of the trials. Any single-objective Optuna study can be read, given as a
study object or by storage and name: bnstudy's own with the question it stored, another with
the categorical parameter the caller names (`analysis.reading.questions`) and its objective's
direction and units (`analysis.reading.objective`).
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

from analysis.reading.errors import AnalysisError
from analysis.reading.objective import ACCURACY, Objective, study_objective, written_by_bnstudy
from analysis.reading.questions import asked_question
from study.private_api import study_storage
from study.storage.contract import CONFIG_ATTR, CONFIRM_SUFFIX, SELECT_SUFFIX
from study.storage.heartbeat import retried_trial
from study.storage.opener import load_study, load_study_if_any, open_storage
from study.storage.question import Question, stored_question

__all__ = ["BASE_COLUMNS", "AnalysisError", "LoadedStudies", "complete_values",
           "compared_question", "load_question", "load_studies", "open_storage", "trials_frame"]

# Columns every trials table starts with; parameters and user attributes follow.
BASE_COLUMNS = ("number", "state", "value", "duration_s", "last_step", "retry_of")


@dataclass(frozen=True)
class LoadedStudies:
    """The search study, its tidy trials table and, when present, the confirmation reruns.

    `trials` has one row per search trial: BASE_COLUMNS, then one column per parameter (named
    as the parameter), then one per user attribute (prefixed `user_attrs_` only where the name
    is already taken). `confirm` has one row per confirmation trial, with the scientific
    parameter; `confirm_study` is the confirmation study it was read from (for its dashboard
    note). `question` is the comparison analysed: the study's question, or with more than two
    values one value against the reference (`comparisons` of them share the error level).
    `objective` says which way is better and what the values are in.
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
    objective: Objective = ACCURACY  # which way is better, and the values' units
    # Whether bnstudy wrote the study (its config or question is stored): only then is a
    # dashboard note written into it by default, and only then are reruns looked for.
    written_by_bnstudy: bool = True

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


def _search_study(source: str | BaseStorage | optuna.Study, study_name: str | None
                  ) -> tuple[optuna.Study, BaseStorage]:
    """The search study `source` is or holds, and the storage it reads from."""
    if isinstance(source, optuna.Study):
        if study_name is not None and study_name != source.study_name:
            raise AnalysisError(f"`study_name` must be the given study's own name, "
                                f"{source.study_name!r}, or left out, but got {study_name!r}.")
        return source, study_storage(source)
    if study_name is None:
        raise AnalysisError("`study_name` must name the study in the storage (only an "
                            "optuna.Study comes with its name), but got None.")
    storage = open_storage(source, read_only=True) if isinstance(source, str) else source
    return load_study(storage, study_name), storage


def _check_fractions(frame: pd.DataFrame, study_name: str) -> None:
    """Refuses values read as fractions of accuracy that are not in [0, 1]."""
    finished = frame[frame["state"].isin(["COMPLETE", "PRUNED"])]
    outside = finished[~finished["value"].between(0.0, 1.0) & finished["value"].map(math.isfinite)]
    if len(outside):
        first = outside.iloc[0]
        raise AnalysisError(
            f"The values of study {study_name!r} must be fractions in [0, 1] to be read as "
            f"accuracy (in pp), but trial {int(first['number'])} has {first['value']:g}; name "
            f"their units with `units` (--units) and give `margin` in them.")


def load_studies(source: str | BaseStorage | optuna.Study, study_name: str | None = None,
                 compare: object | None = None, *, param: str | None = None,
                 reference: object | None = None, units: str | None = None) -> LoadedStudies:
    """Load the search study NAME and, if present, NAME/confirm and NAME/select from one storage.

    Args:
        source: The search study itself, or a storage URL (opened read-only: see
            `study.storage.opener.open_storage`) or storage object holding it.
        study_name: Name of the search study; may be left out for a study object.
        compare: With a question of more than two values, the value compared with the
            reference (`load_question` lists them); None for a two-value question.
        param: The categorical parameter compared (`analysis.reading.questions`); None: the
            question bnstudy stored, or `bn_position`.
        reference: The value the others are compared with; None: the question's first.
        units: What the values are in (`analysis.reading.objective`); None: fractions of
            accuracy for bnstudy's studies and the default question, else the objective's own.

    Returns:
        The loaded studies and their tidy tables. A study bnstudy did not write is read alone:
        it has no reruns of bnstudy's.

    Raises:
        StorageError: when the storage cannot be read or the study is not there.
        AnalysisError, ConfigError: when the study is not one this analysis can read, or the
            question or units asked do not fit it.
    """
    study, storage = _search_study(source, study_name)
    study_name = study.study_name
    if len(study.directions) > 1:
        raise AnalysisError(
            f"Study {study_name!r} must have one objective to compare values on, but has "
            f"{len(study.directions)} ({', '.join(d.name for d in study.directions)}); analyse "
            f"one objective at a time from a single-objective study.")
    trials = study.get_trials(deepcopy=True)
    own = written_by_bnstudy(study)
    full = asked_question(trials, study_name=study_name, param=param, reference=reference,
                          stored=stored_question(study) if own else None)
    question = compared_question(full, compare)
    if not any(question.param in trial.params for trial in trials):
        raise AnalysisError(
            f"Study {study_name!r} must have trials with the parameter `{question.param}`, "
            f"but none of its {len(trials)} trials has it."
        )
    param_names = _param_names(trials, question.param)
    frame = trials_frame(trials, param_names)
    objective = study_objective(study, units=units, fraction=own or param is None)
    if objective.fraction:
        _check_fractions(frame, study_name)
    # Reruns are bnstudy's: looked for beside its studies, and beside any study asked the
    # default question (studies stored before the question was recorded, the tests' ones).
    ours = own or param is None
    confirm_study = load_study_if_any(storage, study_name + CONFIRM_SUFFIX) if ours else None
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
        select_study=load_study_if_any(storage, study_name + SELECT_SUFFIX) if ours else None,
        question=question,
        comparisons=len(full.others),
        objective=objective,
        written_by_bnstudy=own,
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


def load_question(source: str | BaseStorage | optuna.Study, study_name: str | None = None, *,
                  param: str | None = None, reference: object | None = None) -> Question:
    """The whole question asked of study NAME (all its values), for analysing each comparison.

    `param` and `reference` as in `load_studies`.
    """
    study, _ = _search_study(source, study_name)
    trials = study.get_trials(deepcopy=False)
    return asked_question(trials, study_name=study.study_name, param=param,
                          reference=reference,
                          stored=stored_question(study) if written_by_bnstudy(study) else None)


def complete_values(frame: pd.DataFrame, placement: object, param: str, *,
                    lower_is_better: bool = False) -> pd.Series:
    """Return the finite values of the COMPLETE trials of one value, best first.

    Args:
        frame: A trials table from `trials_frame`.
        placement: The value of `param`, e.g. "before" or "after".
        param: The scientific parameter.
        lower_is_better: The study minimises: best is lowest.

    Returns:
        Values indexed like `frame`, sorted best first (decreasing, or increasing when lower
        is better).
    """
    selected = frame[(frame["state"] == "COMPLETE") & (frame[param] == placement)]
    values = selected["value"].astype(float)
    return values[values.map(math.isfinite)].sort_values(ascending=lower_is_better,
                                                        kind="stable")
