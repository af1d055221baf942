"""Fixtures of the confirmation tests: a search study written directly into SQLite (no search
run), a fake training that records what it reran, the stored reruns, and the check of a
one-line error from `python -m study.confirm`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from study.config import preset
from study.confirm import main
from study.engine.search_run import open_study
from study.reruns.training import RerunResult
from study.storage.contract import SCIENTIFIC_PARAM
from study.storage.opener import open_storage
from study.storage.reruns import confirm_study_name

SEARCH = "s"  # the test files name it SEARCH too
DISTRIBUTIONS = {  # the bn_placement space, as the search stores it
    "bn_position": CategoricalDistribution(["before", "after"]),
    "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
    "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0]),
}
# (bn_position, learning_rate, val_accuracy): the second of each placement is its best, trials
# 1 and 3 (the test files' BEST).
SEARCH_TRIALS = [("before", 0.01, 0.40), ("before", 0.1, 0.60),
                 ("after", 0.02, 0.45), ("after", 0.2, 0.55)]


def _search_study(url: str, placements: Sequence[str] = ("before", "after")) -> optuna.Study:
    """A search study as `study.search` leaves it, with made-up finished trials."""
    config = preset("smoke", train_size=256, val_size=128, epochs=1, storage=url,
                    study_name=SEARCH)
    study = open_study(config, open_storage(url), dataclasses.asdict(config),
                       scientific_param=SCIENTIFIC_PARAM)
    for position, learning_rate, value in SEARCH_TRIALS:
        if position not in placements:
            continue
        study.add_trial(optuna.trial.create_trial(
            params={"bn_position": position, "learning_rate": learning_rate, "alpha": 0.35},
            distributions=DISTRIBUTIONS, value=value))
    return study


@pytest.fixture
def write_search_study() -> Callable[..., optuna.Study]:
    """Writes the search study SEARCH into a storage, as `study.search` leaves it.

    Returns:
        A function of (url, placements=("before", "after")): the trials of SEARCH_TRIALS
        with those placements, as finished trials.
    """
    return _search_study


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A SQLite storage holding the search study SEARCH with all of SEARCH_TRIALS."""
    url = f"sqlite:///{tmp_path / 'search.db'}"
    _search_study(url)
    return url


def _fake_training(calls: list):
    def train_and_score(models, params, inputs, config, seeds):
        calls.append((params["bn_position"], seeds.seed))
        return RerunResult(0.5 + seeds.seed % 10 / 100, 1.0, 0.1,
                           [{"loss": 1.0, "accuracy": 0.5}], "digest")
    return train_and_score


@pytest.fixture
def fake_training() -> Callable[[list], Callable[..., RerunResult]]:
    """A stand-in for `study.reruns.training.train_and_score`, to monkeypatch in.

    Returns:
        A function of a list, returning a `train_and_score` that appends each rerun's
        (bn_position, seed) to it and scores it 0.5 + seed % 10 / 100.
    """
    return _fake_training


def _confirm_trials(url: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=confirm_study_name(SEARCH), storage=url).trials


@pytest.fixture
def confirm_trials() -> Callable[[str], list[optuna.trial.FrozenTrial]]:
    """Returns a function of a storage URL: the trials of SEARCH's confirmation study."""
    return _confirm_trials


def _assert_one_line_error(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m study.confirm: error: ")
    assert "Traceback" not in err
    assert match in err


@pytest.fixture
def assert_one_line_error() -> Callable[..., None]:
    """Returns a function of (capsys, argv, match) asserting that `python -m study.confirm`
    with `argv` exits 2 with one line on stderr, no traceback, that contains `match`."""
    return _assert_one_line_error
