"""What a search and its confirmation store, read back by `analysis` as it expects.

The oracle is driven as `OptunaTuner` drives it, without training (`_play`); reruns are stored
by `study.storage.reruns.store_rerun`. The simulated studies the analysis tests run on
(`analysis.calibration.simulate`) must store the same records.
"""

from __future__ import annotations

import datetime
import math

import keras_tuner
import optuna
import pytest
from keras_tuner.engine.trial import TrialStatus
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from analysis.calibration import simulate
from analysis.findings.boundary import divergence
from analysis.reading.studies import load_studies, trials_frame
from analysis.study_analysis import confirm_runs
from study.model import spaces
from study.storage.contract import DIVERGED_PREFIX, PLACEMENTS, SCIENTIFIC_PARAM, SEARCH_METRIC
from study.storage.question import DEFAULT_QUESTION
from study.storage.reruns import (
    best_trials,
    confirm_study_name,
    rerun_seeds,
    source_params,
    store_rerun,
)
from study.storage.trials import (
    best_per_value,
    diverged_reason,
    epoch_history,
    epoch_summary,
    trial_measurements,
)
from study.tuning.distributions import to_optuna_distribution
from study.tuning.oracle import OptunaOracle

CRASH = "Traceback (most recent call last):\n  ...\nResourceExhaustedError: OOM when allocating"
# Trial number -> how it goes: (per-epoch val_accuracy, epoch its loss diverges, error).
PLAN = {
    0: ([0.6, 0.8, 0.7], None, None),  # best epoch 2
    1: ([0.5, 0.7, 0.75], None, None),  # best epoch 3
    2: ([0.6, 0.1, 0.1], 2, None),  # diverges at epoch 2
    3: ([0.3, 0.35, 0.4], None, None),  # below the pruner's threshold at epoch 1
    4: ([0.6], None, CRASH),  # training raises
    5: ([0.7, 0.85, 0.8], None, None),  # best epoch 2
}


@pytest.fixture(scope="module")
def space() -> keras_tuner.HyperParameters:
    """The hyperparameters the real space declares (its smallest model is built once)."""
    hp = keras_tuner.HyperParameters()
    context = spaces.SpaceContext(input_shape=(32, 32, 1), num_classes=10, steps_per_epoch=1,
                                  epochs=1, jit_compile=False)
    spaces.get_search_space("bn_placement", context)(hp)
    return hp


def _play(oracle: OptunaOracle, curve: list[float], diverges_at: int | None,
          error: str | None) -> None:
    """One trial as `OptunaTuner` plays it: epochs reported from 1, measurements, the end."""
    trial = oracle.create_trial("tuner0")
    assert trial.status == TrialStatus.RUNNING
    number = oracle.optuna_trial(trial.trial_id).number
    history = []
    for step, value in enumerate(curve, start=1):
        history.append({SEARCH_METRIC: value})
        stop = oracle.report(trial.trial_id, value, step)
        if step == diverges_at:
            oracle.stop_early(trial.trial_id, diverged_reason(math.nan, step))
            stop = True
        if stop or error:
            break
    if error:
        trial.status, trial.message = TrialStatus.FAILED, error
    else:
        oracle.set_user_attrs(trial.trial_id, trial_measurements(
            history, SEARCH_METRIC, epoch_seconds=[2.0] * len(history), param_count=1000,
            seed=number, compiled_model="new", dtype_policy="float32", images_per_epoch=100))
        oracle.update_trial(trial.trial_id, {SEARCH_METRIC: max(curve[:len(history)])})
        trial.status = TrialStatus.COMPLETED
    oracle.end_trial(trial)


@pytest.fixture(scope="module")
def storage(space, tmp_path_factory) -> optuna.storages.BaseStorage:
    """A search of PLAN's trials through the oracle, and two reruns per placement."""
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize",
                                pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    oracle = OptunaOracle(study, max_trials=len(PLAN), hyperparameters=space,
                          balanced_param=SCIENTIFIC_PARAM, seed=0)
    oracle._set_project_dir(str(tmp_path_factory.mktemp("oracle")), "oracle")
    for number in sorted(PLAN):
        _play(oracle, *PLAN[number])
    confirm = optuna.create_study(storage=storage, study_name=confirm_study_name("s"),
                                  direction="maximize")
    for seed in rerun_seeds(2):
        for source in best_trials(study, DEFAULT_QUESTION).values():
            store_rerun(confirm, source, seed, 0.9 + seed / 1e5, question=DEFAULT_QUESTION,
                        loss=0.3, seconds=4.0,
                        compiled_model="reused", dtype_policy="float32")
    return storage


def test_search_trials_read_back_with_states_params_and_reasons(storage, space):
    loaded = load_studies(storage, "s")
    frame = loaded.trials.set_index("number")

    assert list(frame["state"]) == ["COMPLETE", "COMPLETE", "PRUNED", "PRUNED", "FAIL",
                                    "COMPLETE"]
    assert loaded.param_names == tuple(hp.name for hp in space.space)
    assert set(frame[SCIENTIFIC_PARAM]) == set(PLACEMENTS)
    assert list(frame.loc[[0, 1, 5], "best_epoch"]) == [2, 3, 2]  # counted from 1
    assert list(frame.loc[[0, 1, 2, 3], "epochs_run"]) == [3, 3, 2, 1]
    assert frame.loc[2, "failure_reason"] == f"{DIVERGED_PREFIX}: loss is nan at epoch 2"
    assert frame.loc[4, "failure_reason"] == "ResourceExhaustedError: OOM when allocating"
    assert frame.loc[0, "value"] == frame.loc[0, "best_val_accuracy"] == 0.8
    assert frame.loc[2, "value"] == 0.1  # a stopped trial keeps its last epoch's value
    assert loaded.study.trials[0].intermediate_values == {1: 0.6, 2: 0.8, 3: 0.7}
    counts = divergence(loaded.trials, DEFAULT_QUESTION)
    assert (counts.n_failed, counts.n_diverged) == (1, 1)


def test_reruns_read_back_with_their_placement_seed_and_source(storage):
    loaded = load_studies(storage, "s")
    best = best_per_value(loaded.study.trials, DEFAULT_QUESTION)
    reruns = loaded.confirm

    assert list(reruns["seed"]) == [seed for seed in rerun_seeds(2) for _ in best]
    for placement, source in best.items():
        own = reruns[reruns[SCIENTIFIC_PARAM] == placement]
        assert set(own["source_trial"]) == {source.number}
    stored = optuna.load_study(study_name=confirm_study_name("s"), storage=storage).trials
    # The scientific parameter is the reruns' only parameter; the rest is `source_params`.
    assert all(trial.params.keys() == {SCIENTIFIC_PARAM} for trial in stored)
    assert all(source_params(trial, SCIENTIFIC_PARAM) == source_params(
        best[trial.params[SCIENTIFIC_PARAM]], SCIENTIFIC_PARAM)
               for trial in stored)
    runs, reason = confirm_runs(reruns, question=DEFAULT_QUESTION)
    assert reason == "" and {p: len(rows) for p, rows in runs.items()} == {"before": 2,
                                                                          "after": 2}


def test_a_rerun_stored_with_its_start_spans_its_training(storage):
    search = optuna.load_study(study_name="s", storage=storage)
    source = best_per_value(search.trials, DEFAULT_QUESTION)["before"]
    confirm = optuna.create_study(storage=optuna.storages.InMemoryStorage(), study_name="c",
                                  direction="maximize")
    started = datetime.datetime.now() - datetime.timedelta(minutes=9)

    store_rerun(confirm, source, 1000, 0.86, question=DEFAULT_QUESTION, loss=0.4, seconds=500.0,
                compiled_model="new", dtype_policy="float32", started=started)

    rerun = confirm.trials[0]
    assert rerun.datetime_start == started
    assert rerun.datetime_complete - rerun.datetime_start >= datetime.timedelta(minutes=9)


def test_simulated_studies_store_what_the_search_stores(storage, space):
    real = load_studies(storage, "s").study.trials
    simulated = simulate.synthetic_search_trials(60, effect=0.0, seed=0)

    assert simulate.DISTRIBUTIONS == {hp.name: to_optuna_distribution(hp) for hp in space.space}
    assert {name: d for name, d in real[0].distributions.items()} == simulate.DISTRIBUTIONS

    def kind(trial: optuna.trial.FrozenTrial) -> str:
        reason = trial.user_attrs.get("failure_reason", "")
        return "diverged" if reason.startswith(DIVERGED_PREFIX) else trial.state.name

    def records(trials: list[optuna.trial.FrozenTrial]) -> dict[str, set[str]]:
        return {kind(trial): set(trial.user_attrs) for trial in trials}

    assert records(simulated) == records(real)  # COMPLETE, PRUNED, diverged and FAIL alike
    for trial in simulated:
        assert min(trial.intermediate_values, default=1) == 1  # epochs counted from 1
        if "best_epoch" in trial.user_attrs:
            values = list(trial.intermediate_values.values())
            assert trial.user_attrs["best_epoch"] == values.index(max(values)) + 1
    assert set(trials_frame(simulated, ()).columns) == set(
        trials_frame(real, ()).columns)


def test_each_epoch_is_stored_with_its_losses_and_accuracies():
    history = [{"loss": 2.3, "accuracy": 0.1234567, "val_accuracy": 0.1, "lr": 0.1},
               {"loss": float("nan"), "accuracy": 0.1, "val_loss": float("inf")}]

    assert epoch_history(history) == [
        {"loss": 2.3, "accuracy": 0.123457, "val_accuracy": 0.1},
        {"loss": None, "accuracy": 0.1, "val_loss": None}]  # None: JSON has no NaN
    attrs = trial_measurements(history, "accuracy", epoch_seconds=[1.0, 1.0], param_count=1,
                               seed=0, compiled_model="new", dtype_policy="float32",
                               code_version="4f5d5e0e37aa")
    assert attrs["history"] == epoch_history(history)
    assert attrs["code_version"] == "4f5d5e0e37aa"


def test_epoch_summary_counts_epochs_from_one():
    history = [{"val_accuracy": 0.5}, {"val_accuracy": 0.8}, {"val_accuracy": 0.7}]
    assert epoch_summary(history, "val_accuracy") == {
        "best_val_accuracy": 0.8, "final_val_accuracy": 0.7, "best_epoch": 2, "epochs_run": 3}
    assert epoch_summary([], "val_accuracy") == {"epochs_run": 0}


def test_best_per_placement_takes_complete_finite_trials_only():
    placement = {SCIENTIFIC_PARAM: CategoricalDistribution(list(PLACEMENTS))}

    def trial(number, position, value, state=TrialState.COMPLETE):
        frozen = optuna.trial.create_trial(params={SCIENTIFIC_PARAM: position}, state=state,
                                           distributions=placement, value=value)
        frozen.number = number
        return frozen

    trials = [trial(0, "before", 0.7), trial(1, "before", 0.9, TrialState.PRUNED),
              trial(2, "before", 0.8), trial(3, "before", 0.8), trial(4, "after", math.inf),
              trial(5, "after", 0.6)]

    best = best_per_value(trials, DEFAULT_QUESTION)

    assert {p: t.number for p, t in best.items()} == {"before": 2, "after": 5}
    assert list(best) == list(PLACEMENTS)
    assert best_per_value(trials[:3], DEFAULT_QUESTION).keys() == {"before"}
