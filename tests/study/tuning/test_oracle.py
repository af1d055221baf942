"""The oracle driven directly (create_trial / update_trial / end_trial), without training."""

from __future__ import annotations

import threading

import keras_tuner
import optuna
import pytest
from keras_tuner.engine.trial import TrialStatus
from optuna.trial import TrialState

from study.tuning.oracle import OptunaOracle


def _space() -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hp.Choice("bn_position", ["before", "after"])
    hp.Float("learning_rate", 1e-3, 1.0, sampling="log")
    hp.Choice("alpha", [0.35, 0.5])
    return hp


def _oracle(tmp_path, study=None, **kwargs) -> OptunaOracle:
    study = study or optuna.create_study(direction="maximize",
                                         sampler=optuna.samplers.TPESampler(seed=0))
    kwargs.setdefault("max_trials", 10)
    kwargs.setdefault("balanced_param", "bn_position")
    oracle = OptunaOracle(study, hyperparameters=_space(), **kwargs)
    oracle._set_project_dir(str(tmp_path), "oracle")
    return oracle


def _finish(oracle, tuner_id="tuner0", values=(0.5,), status=TrialStatus.COMPLETED):
    trial = oracle.create_trial(tuner_id)
    if trial.status != TrialStatus.RUNNING:
        return trial
    for step, value in enumerate(values, start=1):
        oracle.report(trial.trial_id, value, step)
    oracle.update_trial(trial.trial_id, {"val_accuracy": max(values)})
    trial.status = status
    oracle.end_trial(trial)
    return trial


def test_completed_trial_is_stored_in_optuna_with_its_params_and_best_value(tmp_path):
    oracle = _oracle(tmp_path)

    trial = _finish(oracle, values=(0.4, 0.7, 0.6))

    (stored,) = oracle.study.trials
    assert stored.state == TrialState.COMPLETE
    assert stored.value == pytest.approx(0.7)
    assert stored.params == trial.hyperparameters.values
    assert stored.intermediate_values == {1: 0.4, 2: 0.7, 3: 0.6}


def test_placements_alternate_so_each_gets_an_equal_share(tmp_path):
    oracle = _oracle(tmp_path)

    for _ in range(8):
        _finish(oracle)

    placements = [trial.params["bn_position"] for trial in oracle.study.trials]
    assert placements.count("before") == placements.count("after") == 4
    assert all(a != b for a, b in zip(placements, placements[1:], strict=False))


def test_balance_counts_trials_of_other_workers_in_the_storage(tmp_path):
    study = optuna.create_study(direction="maximize")
    for value in (0.1, 0.2, 0.3):
        study.add_trial(optuna.trial.create_trial(
            params={"bn_position": "before"}, value=value,
            distributions={"bn_position": optuna.distributions.CategoricalDistribution(
                ["before", "after"])}))
    oracle = _oracle(tmp_path, study)

    for _ in range(3):
        _finish(oracle)

    new = [trial.params["bn_position"] for trial in study.trials[3:]]
    assert new == ["after", "after", "after"]


def test_budget_is_counted_from_the_storage_not_per_process(tmp_path):
    study = optuna.create_study(direction="maximize")
    first = _oracle(tmp_path / "a", study, max_trials=3)
    second = _oracle(tmp_path / "b", study, max_trials=3)

    _finish(first)
    _finish(second)
    _finish(first)

    assert second.create_trial("tuner1").status == TrialStatus.STOPPED
    assert first.create_trial("tuner0").status == TrialStatus.STOPPED
    assert len(study.trials) == 3
    assert first.remaining_trials() == second.remaining_trials() == 0


def test_running_trials_of_other_workers_hold_their_place_in_the_budget(tmp_path):
    study = optuna.create_study(direction="maximize")
    study.ask()  # another worker's trial, still training
    oracle = _oracle(tmp_path, study, max_trials=1)

    assert oracle.create_trial("tuner0").status == TrialStatus.STOPPED


def test_a_trial_asked_beyond_the_budget_is_failed_as_surplus(tmp_path, monkeypatch):
    study = optuna.create_study(direction="maximize")
    study.ask()  # another worker took the last place between our count and our ask
    oracle = _oracle(tmp_path, study, max_trials=1)
    monkeypatch.setattr(oracle, "_count", lambda states: 0)

    assert oracle.create_trial("tuner0").status == TrialStatus.STOPPED
    surplus = study.trials[-1]
    assert surplus.state == TrialState.FAIL
    assert surplus.user_attrs["failure_reason"].startswith("surplus")


def test_pruned_trial_is_stored_as_pruned_with_its_last_reported_value(tmp_path):
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    oracle = _oracle(tmp_path, study)
    trial = oracle.create_trial("tuner0")

    assert oracle.report(trial.trial_id, 0.8, 1) is False
    assert oracle.report(trial.trial_id, 0.2, 2) is True
    oracle.update_trial(trial.trial_id, {"val_accuracy": 0.8})
    trial.status = TrialStatus.COMPLETED
    oracle.end_trial(trial)

    (stored,) = study.trials
    assert stored.state == TrialState.PRUNED
    assert stored.value == pytest.approx(0.2)
    assert oracle.remaining_trials() == 9


def test_diverged_trial_is_pruned_with_the_reason_and_counts_against_the_budget(tmp_path):
    oracle = _oracle(tmp_path, max_trials=2)
    trial = oracle.create_trial("tuner0")
    oracle.report(trial.trial_id, 0.1, 1)
    oracle.stop_early(trial.trial_id, "diverged: loss is nan at epoch 1")
    oracle.update_trial(trial.trial_id, {"val_accuracy": 0.1})
    trial.status = TrialStatus.COMPLETED
    oracle.end_trial(trial)

    (stored,) = oracle.study.trials
    assert stored.state == TrialState.PRUNED
    assert stored.user_attrs["failure_reason"] == "diverged: loss is nan at epoch 1"
    assert oracle.remaining_trials() == 1


def test_crashed_trial_is_failed_with_its_error_and_does_not_use_the_budget(tmp_path):
    oracle = _oracle(tmp_path, max_trials=2)
    trial = oracle.create_trial("tuner0")
    trial.status = TrialStatus.FAILED
    trial.message = "Traceback ...\nValueError: out of memory"
    oracle.end_trial(trial)

    (stored,) = oracle.study.trials
    assert stored.state == TrialState.FAIL
    assert stored.user_attrs["failure_reason"] == "ValueError: out of memory"
    assert oracle.remaining_trials() == 2


def test_best_trials_come_from_the_whole_study(tmp_path):
    study = optuna.create_study(direction="maximize")
    oracle = _oracle(tmp_path, study)
    _finish(oracle, values=(0.6,))
    best_elsewhere = study.trials[0].params | {"learning_rate": 0.0123}
    study.add_trial(optuna.trial.create_trial(params=best_elsewhere, value=0.9,
                                              distributions=study.trials[0].distributions))

    (best,) = oracle.get_best_trials()
    assert best.score == pytest.approx(0.9)
    assert best.hyperparameters.values["learning_rate"] == pytest.approx(0.0123)


def test_the_study_must_go_the_objectives_way(tmp_path):
    with pytest.raises(ValueError, match="must maximize 'val_accuracy'.*MINIMIZE"):
        _oracle(tmp_path, optuna.create_study(direction="minimize"))
    with pytest.raises(ValueError, match="must minimize 'val_loss'.*'min'.*MAXIMIZE"):
        _oracle(tmp_path, optuna.create_study(direction="maximize"), objective="val_loss")
    oracle = _oracle(tmp_path, optuna.create_study(direction="minimize"),
                     objective=keras_tuner.Objective("val_error", "min"))
    assert not oracle.maximizes
    made = OptunaOracle(objective="val_loss", max_trials=2, hyperparameters=_space())
    assert made.study.direction == optuna.study.StudyDirection.MINIMIZE


def test_max_trials_must_be_positive_and_n_trials_is_its_deprecated_name(tmp_path):
    with pytest.raises(ValueError, match="`max_trials` must be positive, but got 0"):
        _oracle(tmp_path, max_trials=0)
    with pytest.deprecated_call(match="`n_trials` is deprecated .* pass `max_trials`"):
        assert _oracle(tmp_path, max_trials=None, n_trials=4).n_trials == 4
    with pytest.raises(ValueError, match="old name of `max_trials`: pass one of them"):
        _oracle(tmp_path, max_trials=3, n_trials=4)


def test_a_minimising_study_ranks_its_lowest_trial_best(tmp_path):
    study = optuna.create_study(direction="minimize")
    for rate, loss in ((0.01, 0.5), (0.02, 0.2), (0.03, 0.9)):
        study.add_trial(optuna.trial.create_trial(
            params={"learning_rate": rate}, value=loss,
            distributions={"learning_rate": optuna.distributions.FloatDistribution(0.001, 1.0)}))
    oracle = _oracle(tmp_path, study, objective="val_loss", balanced_param=None)

    assert [t.score for t in oracle.get_best_trials(3)] == [0.2, 0.5, 0.9]


def test_end_trial_waits_for_the_oracles_lock_as_keras_tuner_asks(tmp_path, monkeypatch):
    """Keras Tuner's `@synchronized`: no trial is told while another thread holds the oracle."""
    oracle = _oracle(tmp_path)
    trial = oracle.create_trial("tuner0")
    oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
    trial.status = TrialStatus.COMPLETED
    inside, leave = threading.Event(), threading.Event()

    def held_populate_space(trial_id):  # called by `create_trial`, inside the oracle's lock
        inside.set()
        leave.wait(timeout=30)
        return {"status": TrialStatus.STOPPED}

    monkeypatch.setattr(oracle, "populate_space", held_populate_space)
    creating = threading.Thread(target=oracle.create_trial, args=("tuner1",))
    creating.start()
    assert inside.wait(timeout=30)
    ending = threading.Thread(target=oracle.end_trial, args=(trial,))
    ending.start()
    ending.join(timeout=0.5)
    state_while_held = oracle.study.trials[0].state
    leave.set()
    creating.join(timeout=30)
    ending.join(timeout=30)

    assert state_while_held == TrialState.RUNNING
    assert not creating.is_alive() and not ending.is_alive()  # and no deadlock after
    assert oracle.study.trials[0].state == TrialState.COMPLETE
