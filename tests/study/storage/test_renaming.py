"""Renaming a study keeps its trials and attributes, and finishes a rename cut off half-way."""

from __future__ import annotations

import optuna
import pytest

from study.errors import StorageError
from study.rename import main
from study.storage.opener import has_study, open_storage
from study.storage.renaming import rename_study


def _study_with_trials(url: str, name: str, n: int) -> optuna.Study:
    study = optuna.create_study(study_name=name, storage=url, direction="maximize")
    study.set_user_attr("config", {"dataset": "fashion_mnist"})
    for number in range(n):
        trial = study.ask()
        trial.suggest_categorical("bn_position", ["before", "after"])
        trial.set_user_attr("seed", 100 + number)
        study.tell(trial, 0.8 + number / 100)
    return study


def test_a_renamed_study_keeps_its_trials_and_attributes_and_the_old_name_is_free(tmp_path):
    url = f"sqlite:///{tmp_path}/x.db"
    old = _study_with_trials(url, "s/confirm", 3)
    old_attrs, old_trials = old.user_attrs, old.trials
    storage = open_storage(url)

    line = rename_study(storage, "s/confirm", "s/confirm-unpaired")

    assert line == "Renamed the study 's/confirm' (3 trials) to 's/confirm-unpaired'."
    assert not has_study(storage, "s/confirm")
    new = optuna.load_study(study_name="s/confirm-unpaired", storage=url)
    assert new.user_attrs == old_attrs
    assert [(t.number, t.value, t.params, t.user_attrs, t.datetime_start) for t in new.trials] == [
        (t.number, t.value, t.params, t.user_attrs, t.datetime_start) for t in old_trials]
    # Again: nothing to do, so a script can call it on every run.
    assert rename_study(storage, "s/confirm", "s/confirm-unpaired") == (
        "Nothing to do: the study 's/confirm' is already renamed 's/confirm-unpaired'.")


def test_a_rename_cut_off_after_the_copy_is_finished_by_running_it_again(tmp_path):
    url = f"sqlite:///{tmp_path}/x.db"
    _study_with_trials(url, "old", 2)
    optuna.copy_study(from_study_name="old", from_storage=url, to_storage=url,
                      to_study_name="new")  # the rename stopped before deleting "old"

    assert main(["old", "new", "--storage", url]) == 0

    storage = open_storage(url)
    assert not has_study(storage, "old")
    assert len(optuna.load_study(study_name="new", storage=url).trials) == 2


def test_another_study_under_the_new_name_or_no_old_study_is_refused_and_nothing_changes(
        tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/x.db"
    _study_with_trials(url, "old", 2)
    _study_with_trials(url, "other", 1)
    storage = open_storage(url)

    with pytest.raises(StorageError, match=r"'other' exists beside 'old' with other trials "
                                           r"\(1 against 2\)"):
        rename_study(storage, "old", "other")
    with pytest.raises(StorageError, match=r"'missing' is not there \(studies: old, other\)"):
        rename_study(storage, "missing", "new")
    assert main(["old", "old", "--storage", url]) == 2
    assert capsys.readouterr().err.strip() == (
        "python -m study.rename: error: `new` must differ from `old`, but both are 'old'.")
    assert sorted(s.study_name for s in optuna.get_all_study_summaries(url)) == ["old", "other"]
    assert len(optuna.load_study(study_name="other", storage=url).trials) == 1


def test_with_once_a_new_study_under_the_old_name_is_left_alone_even_with_as_many_trials(
        tmp_path, capsys):
    # A script renames the first confirmation on every resume; once renamed, a new confirmation
    # takes the old name and must never be deleted, even when its count matches the copy's.
    url = f"sqlite:///{tmp_path}/x.db"
    _study_with_trials(url, "s/confirm", 2)
    command = ["s/confirm", "s/confirm-first", "--storage", url, "--once"]
    assert main(command) == 0
    _study_with_trials(url, "s/confirm", 2)  # the new one, other trials (other start times)

    assert main(command) == 0

    assert "exists already (--once)" in capsys.readouterr().out
    assert sorted(s.study_name for s in optuna.get_all_study_summaries(url)) == [
        "s/confirm", "s/confirm-first"]
