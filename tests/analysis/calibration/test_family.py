"""The synthetic family is what `study.run --budgets` leaves in a storage, with its truth."""

from __future__ import annotations

import optuna
import pytest

from analysis.calibration.family import SyntheticMember, write_synthetic_family
from study.reruns.selection_reruns import selection_picks
from study.storage.contract import CONFIG_ATTR


@pytest.fixture(scope="module")
def storage() -> optuna.storages.InMemoryStorage:
    storage = optuna.storages.InMemoryStorage()
    write_synthetic_family(storage, "f", (
        SyntheticMember(8, -0.02, (0.86, 0.85), pairs=2, code_version="abc+dirty",
                        validation_curves=False),
        SyntheticMember(16, 0.0, (0.88, 0.87))))
    return storage


def test_the_members_are_named_and_configured_as_a_family_run_names_them(storage):
    names = sorted(study.study_name for study in storage.get_all_studies())

    assert names == ["f", "f/confirm", "f/epochs-16", "f/epochs-16/select", "f/select"]
    epochs = [optuna.load_study(study_name=name, storage=storage).user_attrs[CONFIG_ATTR]
              ["epochs"] for name in ("f", "f/epochs-16")]
    assert epochs == [8, 16]


def test_the_selection_picks_the_candidate_whose_mean_is_the_members_truth(storage):
    search = optuna.load_study(study_name="f/epochs-16", storage=storage)
    select = optuna.load_study(study_name="f/epochs-16/select", storage=storage)

    picks, how = selection_picks(storage, search)

    assert "the best mean of 3 validation reruns among each value's top 2" in how
    for value, mean in (("before", 0.88), ("after", 0.87)):
        values = [trial.value for trial in select.trials
                  if trial.user_attrs["source_trial"] == picks[value].number]
        assert sum(values) / len(values) == pytest.approx(mean)


def test_the_reruns_are_paired_and_carry_their_history_and_code_version(storage):
    confirm = optuna.load_study(study_name="f/confirm", storage=storage)

    assert confirm.user_attrs[CONFIG_ATTR] == {"pairing": "paired"}
    assert [trial.user_attrs["seed"] for trial in confirm.trials] == [1000, 1000, 1001, 1001]
    assert {trial.user_attrs["code_version"] for trial in confirm.trials} == {"abc+dirty"}
    assert set(confirm.trials[0].user_attrs["history"][0]) == {"loss", "accuracy"}
    later = optuna.load_study(study_name="f/epochs-16/select", storage=storage).trials[0]
    assert len(later.user_attrs["history"]) == 16 and "val_accuracy" in later.user_attrs[
        "history"][-1]
