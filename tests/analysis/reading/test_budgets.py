"""A family's members found by name: the first study, then NAME/epochs-E, shortest first."""

from __future__ import annotations

import optuna
import pytest

from analysis.reading.budgets import Member, family_studies
from analysis.reading.studies import AnalysisError
from study.errors import StorageError
from study.storage.contract import CONFIG_ATTR


def _storage(names_and_epochs: dict[str, object]) -> optuna.storages.InMemoryStorage:
    storage = optuna.storages.InMemoryStorage()
    for name, epochs in names_and_epochs.items():
        study = optuna.create_study(storage=storage, study_name=name)
        study.set_user_attr(CONFIG_ATTR, {"epochs": epochs})
    return storage


def test_the_members_are_the_first_study_and_its_longer_budgets_in_order():
    storage = _storage({"s/epochs-32": 32, "s": 8, "s/confirm": None, "s/epochs-16": 16,
                        "s/epochs-16/select": None, "other/epochs-64": 64, "s2/epochs-9": 9})

    assert family_studies(storage, "s") == [Member(8, "s"), Member(16, "s/epochs-16"),
                                            Member(32, "s/epochs-32")]


def test_a_study_without_longer_members_is_refused_in_one_line():
    with pytest.raises(AnalysisError, match=r"^`--budgets` needs a family of two budgets or "
                                            r"more .* no longer member of 's';"):
        family_studies(_storage({"s": 8, "s/confirm": None}), "s")


def test_a_longer_member_named_instead_of_the_first_is_refused():
    storage = _storage({"s": 8, "s/epochs-16": 16})
    with pytest.raises(AnalysisError, match=r"must name the family's first study with "
                                            r"--budgets, 's', but got 's/epochs-16'"):
        family_studies(storage, "s/epochs-16")


@pytest.mark.parametrize("epochs", [None, "8", 16, 20])
def test_a_first_study_must_record_fewer_epochs_than_its_longer_members(epochs):
    with pytest.raises(AnalysisError, match=f"but 's' records {epochs!r}"):
        family_studies(_storage({"s": epochs, "s/epochs-16": 16}), "s")


def test_a_missing_study_is_the_storage_error_naming_those_there():
    with pytest.raises(StorageError, match=r"'t' is not there \(studies: s\)"):
        family_studies(_storage({"s": 8}), "t")
