"""The reruns that did not run from a clean commit, per rerun study."""

from __future__ import annotations

import optuna
from optuna.trial import create_trial

from analysis.findings.provenance import DirtyReruns, dirty_reruns, number_ranges


def _study(name: str, versions: list[str | None]) -> optuna.Study:
    study = optuna.create_study(study_name=name, direction="maximize")
    for version in versions:
        attrs = {} if version is None else {"code_version": version}
        study.add_trial(create_trial(value=0.9, user_attrs=attrs))
    return study


def test_dirty_unknown_and_unrecorded_versions_are_listed_with_their_counts():
    confirm = _study("s/confirm", ["abc", "abc+dirty", "abc", "def+dirty", "abc+dirty",
                                   "unknown", None])

    (found,) = dirty_reruns([None, _study("s/select", ["abc", "abc"]), confirm])

    assert found == DirtyReruns("s/confirm", 7, (1, 3, 4, 5, 6),
                                {"abc+dirty": 2, "def+dirty": 1, "not recorded": 1,
                                 "unknown": 1})
    assert list(found.versions) == ["abc+dirty", "def+dirty", "not recorded", "unknown"]


def test_studies_of_clean_reruns_only_give_nothing():
    assert dirty_reruns([_study("s/select", ["abc"]), None]) == ()


def test_trial_numbers_read_as_runs():
    assert number_ranges([7, 0, 1, 2, 5, 8]) == "0-2, 5, 7-8"
    assert number_ranges([3]) == "3"
    assert number_ranges([]) == ""
