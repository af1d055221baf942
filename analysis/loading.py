"""Open the storage, load the search study (and its confirmation study) as tidy tables.

Nothing here writes: a sqlite URL must name an existing Optuna database (SQLAlchemy would
otherwise create an empty file, and Optuna its tables, silently), and the tables are built from
copies of the trials.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.distributions import BaseDistribution
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from study.contract import CONFIG_ATTR, CONFIRM_SUFFIX, SCIENTIFIC_PARAM
from study.errors import UsageError

# Columns every trials table starts with; parameters and user attributes follow.
BASE_COLUMNS = ("number", "state", "value", "duration_s", "last_step")


class AnalysisError(UsageError):
    """A problem with the input (storage, study, trials) that the user has to fix."""


@dataclass(frozen=True)
class LoadedStudies:
    """The search study, its tidy trials table and, when present, the confirmation reruns.

    `trials` has one row per search trial: BASE_COLUMNS, then one column per parameter (named
    as the parameter), then one per user attribute (prefixed `user_attrs_` only where the name
    is already taken). `confirm` has one row per confirmation trial, with `bn_position`.
    """

    study: optuna.Study
    trials: pd.DataFrame
    distributions: dict[str, BaseDistribution]
    param_names: tuple[str, ...]
    config: dict[str, Any]
    confirm: pd.DataFrame | None


def _sqlite_path(url: str) -> Path | None:
    """Return the database file of a sqlite URL, None for other URLs."""
    if not url.startswith("sqlite:"):
        return None
    path = url.split("?", 1)[0][len("sqlite:") :]
    if not path.startswith("///"):
        raise AnalysisError(f"A sqlite `--storage` must look like sqlite:///path.db, got {url!r}.")
    path = path[3:]
    if path in ("", ":memory:"):
        raise AnalysisError(f"`--storage` must name a sqlite file, but {url!r} is in memory.")
    return Path(path)


def open_storage(url: str) -> BaseStorage:
    """Open an existing Optuna RDB storage without creating anything.

    Args:
        url: SQLAlchemy URL, e.g. sqlite:///studies/bnstudy.db or postgresql://host/db.

    Returns:
        The storage.
    """
    sqlite_path = _sqlite_path(url)
    if sqlite_path is not None:
        if not sqlite_path.is_file():
            raise AnalysisError(f"`--storage` must name an existing file, but {url!r} does not.")
        try:
            with sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True) as connection:
                tables = connection.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name='studies'"
                ).fetchall()
        except sqlite3.DatabaseError as error:
            message = f"`--storage` {url!r} is not a sqlite database: {error}."
            raise AnalysisError(message) from None
        if not tables:
            raise AnalysisError(f"`--storage` {url!r} holds no Optuna studies.")
    try:
        return optuna.storages.RDBStorage(url, skip_table_creation=True)
    except Exception as error:  # SQLAlchemy raises many types for bad URLs and drivers
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise AnalysisError(f"Cannot open `--storage` {url!r}: {message}") from None


def _load_study(storage: BaseStorage, study_name: str) -> optuna.Study | None:
    try:
        storage.get_study_id_from_name(study_name)
    except KeyError:
        return None
    return optuna.load_study(study_name=study_name, storage=storage)


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
        }
        row.update({name: trial.params.get(name) for name in param_names})
        for key, attr in trial.user_attrs.items():
            column = f"user_attrs_{key}" if key in row else key
            row[column] = attr
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else list(BASE_COLUMNS))
    return frame.sort_values("number", kind="stable").reset_index(drop=True)


def _param_names(trials: list[FrozenTrial]) -> tuple[str, ...]:
    names: dict[str, None] = {SCIENTIFIC_PARAM: None}
    for trial in trials:
        names.update(dict.fromkeys(trial.distributions))
    return tuple(names)


def _distributions(trials: list[FrozenTrial]) -> dict[str, BaseDistribution]:
    """Return each parameter's distribution as the latest trial that has it defines it."""
    distributions: dict[str, BaseDistribution] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        distributions.update(trial.distributions)
    return distributions


def _confirm_frame(confirm: optuna.Study, search: pd.DataFrame) -> pd.DataFrame:
    frame = trials_frame(confirm.get_trials(deepcopy=True), (SCIENTIFIC_PARAM,))
    if "source_trial" in frame and frame[SCIENTIFIC_PARAM].isna().any():
        # Older reruns may only name the trial they reproduce: take its placement from there.
        placement_of = dict(zip(search["number"], search[SCIENTIFIC_PARAM], strict=True))
        missing = frame[SCIENTIFIC_PARAM].isna()
        frame.loc[missing, SCIENTIFIC_PARAM] = frame.loc[missing, "source_trial"].map(placement_of)
    return frame


def load_studies(storage: str | BaseStorage, study_name: str) -> LoadedStudies:
    """Load the search study NAME and, if present, NAME/confirm from one storage.

    Args:
        storage: Storage URL (opened read-only in spirit, see `open_storage`) or storage object.
        study_name: Name of the search study.

    Returns:
        The loaded studies and their tidy tables.
    """
    if isinstance(storage, str):
        storage = open_storage(storage)
    study = _load_study(storage, study_name)
    if study is None:
        names = sorted(frozen.study_name for frozen in storage.get_all_studies())
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") or "none"
        raise AnalysisError(
            f"`--study-name` must name a study in the storage, but {study_name!r} is not there "
            f"(studies: {shown})."
        )
    if study._is_multi_objective():
        raise AnalysisError(f"Study {study_name!r} must have one objective, but has several.")
    trials = study.get_trials(deepcopy=True)
    if not any(SCIENTIFIC_PARAM in trial.params for trial in trials):
        raise AnalysisError(
            f"Study {study_name!r} must have trials with the parameter `{SCIENTIFIC_PARAM}`, "
            f"but none of its {len(trials)} trials has it."
        )
    param_names = _param_names(trials)
    frame = trials_frame(trials, param_names)
    confirm_study = _load_study(storage, study_name + CONFIRM_SUFFIX)
    confirm = None if confirm_study is None else _confirm_frame(confirm_study, frame)
    config = study.user_attrs.get(CONFIG_ATTR, {})
    return LoadedStudies(
        study=study,
        trials=frame,
        distributions=_distributions(trials),
        param_names=param_names,
        config=config if isinstance(config, dict) else {CONFIG_ATTR: config},
        confirm=confirm,
    )


def complete_values(frame: pd.DataFrame, placement: str) -> pd.Series:
    """Return the finite values of the COMPLETE trials of one placement, best first.

    Args:
        frame: A trials table from `trials_frame`.
        placement: "before" or "after".

    Returns:
        Values indexed like `frame`, sorted in decreasing order.
    """
    selected = frame[(frame["state"] == "COMPLETE") & (frame[SCIENTIFIC_PARAM] == placement)]
    values = selected["value"].astype(float)
    return values[values.map(math.isfinite)].sort_values(ascending=False, kind="stable")
