from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution

from study.pruning import SameValuePruner, make_pruner

PLACEMENT = {"bn_position": CategoricalDistribution(["before", "after"])}


def _finished(study, bn_position, curve):
    study.add_trial(optuna.trial.create_trial(
        params={"bn_position": bn_position}, distributions=PLACEMENT, value=max(curve.values()),
        intermediate_values=curve))


def _slow_starter(study, bn_position="after", curve=((1, 0.1), (2, 0.65))):
    trial = study.ask(fixed_distributions=PLACEMENT)
    while trial.params["bn_position"] != bn_position:  # ask until the placement we want
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        trial = study.ask(fixed_distributions=PLACEMENT)
    for step, value in curve:
        trial.report(value, step)
    return trial


def test_a_slow_starting_placement_is_judged_only_against_itself():
    study = optuna.create_study(direction="maximize",
                                pruner=make_pruner("median", epochs=3))
    for _ in range(3):
        _finished(study, "before", {1: 0.8, 2: 0.85, 3: 0.9})  # quick learners
        _finished(study, "after", {1: 0.2, 2: 0.6, 3: 0.9})   # slow starters that catch up

    assert not _slow_starter(study).should_prune()


def test_without_grouping_the_same_trial_would_have_been_pruned():
    study = optuna.create_study(direction="maximize",
                                pruner=make_pruner("median", epochs=3, per_value_of=None))
    for _ in range(3):
        _finished(study, "before", {1: 0.8, 2: 0.85, 3: 0.9})
        _finished(study, "after", {1: 0.2, 2: 0.6, 3: 0.9})

    assert _slow_starter(study).should_prune()


def test_a_bad_trial_is_still_pruned_within_its_placement():
    study = optuna.create_study(direction="maximize", pruner=make_pruner("median", epochs=3))
    for _ in range(3):
        _finished(study, "after", {1: 0.5, 2: 0.8, 3: 0.9})

    assert _slow_starter(study).should_prune()


def test_no_trial_is_pruned_on_its_first_epoch():
    study = optuna.create_study(direction="maximize", pruner=make_pruner("median", epochs=3))
    for _ in range(3):
        _finished(study, "after", {1: 0.5, 2: 0.8, 3: 0.9})

    assert not _slow_starter(study, curve=((1, 0.0),)).should_prune()


@pytest.mark.parametrize(("name", "kind"), [
    ("median", SameValuePruner), ("successive_halving", SameValuePruner),
    ("hyperband", optuna.pruners.HyperbandPruner), ("none", optuna.pruners.NopPruner)])
def test_pruners_by_name(name, kind):
    assert isinstance(make_pruner(name, epochs=4), kind)


def test_an_unknown_pruner_names_the_choices():
    with pytest.raises(ValueError, match=r"`pruner` must be one of \['median'.*got 'x'"):
        make_pruner("x", epochs=4)
