"""The members of a family of training budgets in one storage, found by their names.

A family (`study.engine.budgets`) is the study NAME at its first budget and NAME/epochs-E at
each longer budget E, each with its own /select and /confirm studies.
"""

from __future__ import annotations

from dataclasses import dataclass

from optuna.storages import BaseStorage

from analysis.reading.studies import AnalysisError
from study.engine.budgets import budget_of, family_members
from study.storage.contract import CONFIG_ATTR
from study.storage.opener import load_study, open_storage

__all__ = ["Member", "family_studies"]


@dataclass(frozen=True)
class Member:
    """One study of a family: its budget in epochs and its search study's name."""

    epochs: int
    study_name: str


def family_studies(storage: str | BaseStorage, study_name: str) -> list[Member]:
    """The family whose first study is `study_name`: every member, shortest budget first.

    Args:
        storage: Storage URL (opened read-only) or storage object.
        study_name: The family's first study (its name is the family's).

    Returns:
        The members; the first budget is the epochs its study's configuration records.

    Raises:
        StorageError: when the storage cannot be read or the study is not there.
        AnalysisError: for a longer member named instead of the first, a study without
            longer members, or a first study that does not record its epochs.
    """
    if isinstance(storage, str):
        storage = open_storage(storage, read_only=True)
    first = load_study(storage, study_name)  # refuses a missing study, listing those there
    names = [frozen.study_name for frozen in storage.get_all_studies()]
    family, epochs = budget_of(study_name)
    if epochs is not None and family in names:
        raise AnalysisError(f"`--study-name` must name the family's first study with "
                            f"--budgets, {family!r}, but got {study_name!r}, its member at "
                            f"{epochs} epochs.")
    members = family_members(names, study_name)
    longer = sorted((epochs, name) for epochs, name in members.items() if epochs is not None)
    if not longer:
        raise AnalysisError(f"`--budgets` needs a family of two budgets or more (studies "
                            f"{study_name}/epochs-E beside {study_name!r}), but the storage "
                            f"holds no longer member of {study_name!r}; leave --budgets out, "
                            "or run `python -m study.run --budgets ...` first.")
    config = first.user_attrs.get(CONFIG_ATTR)
    first_epochs = config.get("epochs") if isinstance(config, dict) else None
    if not isinstance(first_epochs, int) or first_epochs >= longer[0][0]:
        raise AnalysisError(f"`--budgets` needs the first study's configuration to record "
                            f"its epochs, fewer than its longer members' ({longer[0][0]}), but "
                            f"{study_name!r} records {first_epochs!r}.")
    return [Member(first_epochs, study_name), *(Member(e, name) for e, name in longer)]
