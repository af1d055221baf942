from __future__ import annotations

import collections
import dataclasses
import math

import keras_tuner
import optuna
import pytest
from keras_tuner.engine.trial import TrialStatus
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from study.config import PRUNERS, SAMPLERS, preset
from study.engine.search_run import open_study
from study.storage.contract import SCIENTIFIC_PARAM
from study.tuning.balance import COUNTED_STATES
from study.tuning.oracle import OptunaOracle
from study.tuning.pruning import FIRST_PRUNABLE_EPOCH, SameValuePruner, make_pruner

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


def _study_judged_per_placement() -> optuna.Study:
    return optuna.create_study(direction="maximize",
                               pruner=make_pruner("median", epochs=3, per_value_of="bn_position"))


def test_a_slow_starting_placement_is_judged_only_against_itself():
    study = _study_judged_per_placement()
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
    study = _study_judged_per_placement()
    for _ in range(3):
        _finished(study, "after", {1: 0.5, 2: 0.8, 3: 0.9})

    assert _slow_starter(study).should_prune()


def test_no_trial_is_pruned_on_its_first_epoch():
    study = _study_judged_per_placement()
    for _ in range(3):
        _finished(study, "after", {1: 0.5, 2: 0.8, 3: 0.9})

    assert not _slow_starter(study, curve=((1, 0.0),)).should_prune()


@pytest.mark.parametrize(("name", "kind"), [
    ("median", SameValuePruner), ("successive_halving", SameValuePruner),
    ("hyperband", optuna.pruners.HyperbandPruner), ("none", optuna.pruners.NopPruner)])
def test_pruners_by_name(name, kind):
    assert isinstance(make_pruner(name, epochs=4, per_value_of="bn_position"), kind)


def test_an_unknown_pruner_names_the_choices():
    with pytest.raises(ValueError, match=r"`pruner` must be one of \['median'.*got 'x'"):
        make_pruner("x", epochs=4)


EPOCHS = 6


def _train(oracle: OptunaOracle) -> None:
    """One trial with a made-up learning curve, reported epoch by epoch as the tuner does."""
    trial = oracle.create_trial("tuner0")
    values = trial.hyperparameters.values
    # Best near learning rate 1e-2; BN after ReLU6 starts slower, as measured.
    final = 0.9 - 0.1 * abs(math.log10(values["learning_rate"]) + 2)
    history = []
    for epoch in range(1, EPOCHS + 1):
        progress = epoch / EPOCHS
        history.append(final * (progress ** 2 if values["bn_position"] == "after" else progress))
        if oracle.report(trial.trial_id, history[-1], epoch):
            break
    oracle.update_trial(trial.trial_id, {"val_accuracy": max(history)})
    trial.status = TrialStatus.COMPLETED
    oracle.end_trial(trial)


@pytest.mark.parametrize("pruner", PRUNERS)
@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_sampler_and_pruner_keeps_the_balance_and_the_first_prunable_epoch(
        sampler, pruner, tmp_path):
    config = preset("smoke", sampler=sampler, pruner=pruner, epochs=EPOCHS, n_trials=14)
    study = open_study(config, optuna.storages.InMemoryStorage(), dataclasses.asdict(config),
                       scientific_param=SCIENTIFIC_PARAM)
    hp = keras_tuner.HyperParameters()
    hp.Choice("bn_position", ["before", "after"])
    hp.Float("learning_rate", 1e-4, 0.5, sampling="log")
    hp.Choice("alpha", [0.35, 0.5, 0.75, 1.0])
    oracle = OptunaOracle(study, max_trials=config.n_trials, hyperparameters=hp,
                          balanced_param="bn_position", seed=config.seed)
    oracle._set_project_dir(str(tmp_path), "matrix")

    shares = collections.Counter()
    for _ in range(config.n_trials):
        _train(oracle)
        shares[study.trials[-1].params["bn_position"]] += 1
        assert abs(shares["before"] - shares["after"]) <= 1, shares  # after every trial

    trials = study.get_trials(states=COUNTED_STATES)
    assert len(trials) == config.n_trials
    pruned = [trial for trial in trials if trial.state == TrialState.PRUNED]
    assert all(trial.last_step >= FIRST_PRUNABLE_EPOCH for trial in pruned)
    if pruner != "none":  # else the rule above would hold by default
        assert pruned, f"{pruner} pruned nothing in {config.n_trials} trials"


def test_trials_shorter_than_the_first_prunable_epoch_are_never_pruned():
    for name in PRUNERS:
        assert isinstance(make_pruner(name, epochs=FIRST_PRUNABLE_EPOCH - 1),
                          optuna.pruners.NopPruner)
