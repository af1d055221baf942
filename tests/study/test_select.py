"""`python -m study.select`: candidates, reseeded validation reruns, the pick, confirm after."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

import study.data.pipeline
import study.engine.setup
import study.reruns.training as training_module
from study.config import ConfigError, preset
from study.engine.search_run import open_study
from study.reruns.confirmation import run_confirmation
from study.reruns.selection_reruns import run_selection
from study.reruns.training import RerunResult
from study.select import main
from study.storage.contract import SCIENTIFIC_PARAM
from study.storage.opener import open_storage
from study.storage.reruns import SELECT_SEED_BASE, select_study_name

SEARCH = "s"
DISTRIBUTIONS = {
    "bn_position": CategoricalDistribution(["before", "after"]),
    "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
    "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0]),
}
# (bn_position, learning_rate, state, value or last epoch's): "after" has two COMPLETE trials,
# so its best PRUNED one (trial 6, not trial 5) fills in as third candidate.
TRIALS = [("before", 0.10, "COMPLETE", 0.80), ("before", 0.01, "COMPLETE", 0.79),
          ("before", 0.03, "COMPLETE", 0.70), ("before", 0.3, "COMPLETE", 0.60),
          ("after", 0.02, "COMPLETE", 0.78), ("after", 0.2, "PRUNED", 0.40),
          ("after", 0.05, "PRUNED", 0.65), ("after", 0.002, "COMPLETE", 0.75)]
# True validation accuracy of each trial when reseeded: trial 0 was the lucky one.
TRUE = {0: 0.76, 1: 0.785, 2: 0.70, 4: 0.77, 6: 0.60, 7: 0.74}


def _search_study(url: str) -> optuna.Study:
    config = preset("smoke", train_size=256, val_size=128, epochs=1, storage=url,
                    study_name=SEARCH)
    search = open_study(config, open_storage(url), dataclasses.asdict(config),
                        scientific_param=SCIENTIFIC_PARAM)
    for position, learning_rate, state, value in TRIALS:
        complete = state == "COMPLETE"
        search.add_trial(optuna.trial.create_trial(
            params={"bn_position": position, "learning_rate": learning_rate, "alpha": 0.35},
            distributions=DISTRIBUTIONS, value=value if complete else None,
            intermediate_values={0: value}, state=TrialState[state]))
    return search


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'search.db'}"
    _search_study(url)
    return url


@pytest.fixture
def fake_training(monkeypatch):
    calls: list[tuple[float, int]] = []
    by_rate = {TRIALS[n][1]: n for n in TRUE}

    def train_and_score(models, params, inputs, config, seeds):
        number = by_rate[params["learning_rate"]]
        calls.append((number, seeds.seed))
        offset = (seeds.seed - SELECT_SEED_BASE - 1) * 0.004  # -0.004, 0, +0.004
        return RerunResult(TRUE[number] + offset, 1.0, 0.1, [], f"w{seeds.weights}")

    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    return calls


def test_picks_the_best_mean_of_the_top_k_with_pruned_filling_in_and_resumes(url,
                                                                           fake_training):
    stream = io.StringIO()
    select = run_selection(url, SEARCH, stream=stream)

    seeds = [SELECT_SEED_BASE, SELECT_SEED_BASE + 1, SELECT_SEED_BASE + 2]
    assert fake_training == [(n, seed) for seed in seeds for n in (0, 1, 2, 4, 7, 6)]
    trials = select.trials
    assert len(trials) == 18 and all(t.params.keys() == {"bn_position"} for t in trials)
    assert {t.user_attrs["search_value"] for t in trials if t.user_attrs["source_trial"] == 6} \
        == {0.65}
    assert select.user_attrs["config"]["candidates"] == {"before": [0, 1, 2],
                                                         "after": [4, 7, 6]}
    out = stream.getvalue()
    # The pick is trial 1 (mean 0.785), not the search's best trial 0 (mean 0.76, more than
    # one pooled seed std of 0.4 pp behind: no near-tie).
    assert "Pick for bn_position=before: trial 1, mean val accuracy 0.7850 over 3 seeds" in out
    assert "Pick for bn_position=after: trial 4, mean val accuracy 0.7700 over 3 seeds" in out
    assert "trial 6 (PRUNED), val_accuracy 0.6500" in out

    fake_training.clear()
    run_selection(url, SEARCH, stream=(again := io.StringIO()))
    assert fake_training == [] and "All 18 reruns already finished." in again.getvalue()


def test_candidates_within_one_seed_std_of_the_pick_are_named_near_ties(url, monkeypatch):
    def train_and_score(models, params, inputs, config, seeds):  # trials 0 and 1 tie
        spread = (seeds.seed - SELECT_SEED_BASE - 1) * 0.01
        return RerunResult({0.10: 0.780, 0.01: 0.785}.get(params["learning_rate"], 0.5)
                           + spread, 1.0, 0.1)

    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    stream = io.StringIO()
    run_selection(url, SEARCH, stream=stream)

    assert "Pick for bn_position=before: trial 1, mean val accuracy 0.7850 over 3 seeds; " \
           "near-ties (within one seed std, 1.00 pp): trials 0" in stream.getvalue()


def test_confirm_reruns_the_selection_picks_and_refuses_an_unfinished_selection(
        url, fake_training, monkeypatch):
    run_selection(url, SEARCH, seeds=2, stream=io.StringIO())
    select = optuna.load_study(study_name=select_study_name(SEARCH), storage=url)
    record = dict(select.user_attrs["config"], seeds=3)  # as if a 3-seed run had stopped
    select.set_user_attr("config", record)

    with pytest.raises(ConfigError, match=r"must be finished before confirming, but trials "
                                          r"\[0, 1, 2, 4, 6, 7\] have fewer than 3 reruns"):
        run_confirmation(url, SEARCH, 2, stream=io.StringIO())

    run_selection(url, SEARCH, seeds=3, stream=io.StringIO())
    stream = io.StringIO()
    confirm = run_confirmation(url, SEARCH, 1, stream=stream)
    assert confirm.user_attrs["config"]["source_trials"] == {"before": 1, "after": 4}
    assert "Picks of the selection 's/select'" in stream.getvalue()


@pytest.mark.parametrize(("argv", "message"), [
    (["--seeds", "1"], "`seeds` must be between 2 (a mean and a spread) and 400 per candidate"),
    (["--top-k", "0"], "`top_k` must be between 1 and 100 candidates per value, but got 0"),
])
def test_bad_counts_are_one_line_errors_that_write_nothing(url, capsys, argv, message):
    assert main(["--storage", url, "--study-name", SEARCH, *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


@pytest.mark.slow
def test_real_selection_never_reads_the_test_split(url, monkeypatch, eager_models):
    """Tiny real training, eager; every array the pipeline or `evaluate` gets is checked."""
    load_data = study.engine.setup.load_data
    loaded = {}

    def marked_splits(config):
        splits = load_data(config)
        loaded["test"] = splits.test_images
        return splits

    seen: list[np.ndarray] = []
    make_dataset = study.data.pipeline.make_dataset

    def watched(images, *args, **kwargs):
        seen.append(images)
        return make_dataset(images, *args, **kwargs)

    monkeypatch.setattr(study.engine.setup, "load_data", marked_splits)
    monkeypatch.setattr(study.engine.setup, "make_dataset", watched)
    held_out = []
    training_inputs = study.engine.setup.training_inputs
    monkeypatch.setattr(study.engine.setup, "training_inputs",
                        lambda *a, **k: held_out.append(k.get("held_out")) or
                        training_inputs(*a, **k))

    select = run_selection(url, SEARCH, top_k=1, seeds=2, stream=io.StringIO())

    assert held_out == ["val"]
    assert seen and all(images is not loaded["test"] for images in seen)
    assert not any(np.shares_memory(images, loaded["test"]) for images in seen)
    assert len(select.trials) == 4 and all(0 <= t.value <= 1 for t in select.trials)
    assert all({"loss", "accuracy"} <= set(t.user_attrs["history"][-1]) for t in select.trials)
