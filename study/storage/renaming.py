"""Renaming a study inside its storage, resumable if cut off half-way.

Optuna has no rename: the study is copied under the new name (`optuna.copy_study`: its trials
with their numbers, dates, values and attributes, and the study's attributes) and the old one
deleted. A rename cut off between the two leaves the old study beside its complete copy;
running it again finishes it. A copy is told from another study by its trials (number, start
and values), never by their count alone.
"""

from __future__ import annotations

import optuna

from study.errors import StorageError
from study.storage.opener import has_study, load_study

__all__ = ["rename_study"]


def _fingerprint(study: optuna.Study) -> list[tuple[object, ...]]:
    """What a copy shares with its original: each trial's number, start and values."""
    return [(trial.number, trial.datetime_start, trial.values)
            for trial in study.get_trials(deepcopy=False)]


def rename_study(storage: optuna.storages.BaseStorage, old: str, new: str, *,
                 once: bool = False) -> str:
    """Renames the study `old` to `new`; returns one line saying what was done.

    Already renamed (no `old`, a `new`) is nothing to do. With `once`, a `new` that exists
    beside an `old` of other trials is nothing to do either: for a script that runs the rename
    on every resume, after a new study has taken the old name.

    Raises:
        StorageError: when the names are equal, neither study exists, or (without `once`) `new`
            exists beside `old` and is not its copy.
    """
    if old == new:
        raise StorageError(f"`new` must differ from `old`, but both are {old!r}.")
    has_new = has_study(storage, new)
    if has_new and not has_study(storage, old):
        return f"Nothing to do: the study {old!r} is already renamed {new!r}."
    source = _fingerprint(load_study(storage, old))  # refuses a missing `old`, listing studies
    if has_new:
        target = _fingerprint(load_study(storage, new))
        if target != source:
            if once:
                return (f"Nothing to do: the study {new!r} exists already (--once); {old!r} "
                        "is another study now.")
            raise StorageError(
                f"`new` must not name another study, but {new!r} exists beside {old!r} with "
                f"other trials ({len(target)} against {len(source)}); if it is a copy cut off "
                "half-way, delete it (optuna.delete_study) and rename again.")
    else:
        optuna.copy_study(from_study_name=old, from_storage=storage, to_storage=storage,
                          to_study_name=new)
    optuna.delete_study(study_name=old, storage=storage)
    return f"Renamed the study {old!r} ({len(source)} trials) to {new!r}."
