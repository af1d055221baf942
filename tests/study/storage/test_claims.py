"""Reruns taken through the storage: one claim per key, duplicates failed, a killed worker's
claim queued again, an interrupted one put back; several workers are several study objects."""

from __future__ import annotations

import time

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from study.storage.claims import claim_rerun, drop_queued, fail_stale, read_board
from study.storage.heartbeat import retried_trial
from study.storage.opener import open_storage
from study.storage.reruns import rerun_key

KEY_OF = rerun_key("bn_position")
FIELDS = {"distributions": {"bn_position": CategoricalDistribution(["before", "after"])}}


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/claims.db"
    optuna.create_study(study_name="S/confirm", storage=open_storage(url), direction="maximize")
    return url


def _worker(url: str, **storage: int) -> optuna.Study:
    """One worker's view of the rerun study: its own storage connection."""
    return optuna.load_study(study_name="S/confirm", storage=open_storage(url, **storage))


def _claim(study: optuna.Study, value: str, seed: int):
    return claim_rerun(study, (value, seed), key_of=KEY_OF, params={"bn_position": value},
                       user_attrs={"seed": seed}, describe=lambda key: f"{key[0]} {key[1]}",
                       **FIELDS)


def test_a_key_is_taken_once_and_a_second_claim_of_it_is_a_duplicate(url):
    first, second = _worker(url), _worker(url)

    claim = _claim(first, "before", 1000)
    assert _claim(second, "before", 1000) is None
    other = _claim(second, "after", 1000)

    trials = first.get_trials()
    assert [(t.number, t.state.name) for t in trials] == [(0, "RUNNING"), (1, "FAIL"),
                                                          (2, "RUNNING")]
    assert trials[1].user_attrs["failure_reason"] == ("duplicate: trial 0 already reruns "
                                                      "before 1000")
    assert claim.finish(0.8, {"test_loss": 0.5}) and other.finish(0.7, {})
    board = read_board(first.get_trials(), KEY_OF)
    assert {key: trial.number for key, trial in board.complete.items()} == {
        ("before", 1000): 0, ("after", 1000): 2}
    assert board.running == {} and first.trials[0].user_attrs["test_loss"] == 0.5
    assert first.trials[0].params == {"bn_position": "before"}


def test_a_stopped_rerun_is_put_back_and_the_next_claim_takes_that_trial(url):
    study = _worker(url)
    _claim(study, "before", 1000).put_back()

    assert [t.state for t in study.get_trials()] == [TrialState.WAITING]
    again = _claim(study, "before", 1000)
    assert again.number == 0 and len(study.get_trials()) == 1
    again.give_up("failed: ValueError: no data")
    assert study.trials[0].state == TrialState.FAIL
    assert study.trials[0].user_attrs["failure_reason"] == "failed: ValueError: no data"


def test_a_killed_workers_claim_goes_stale_and_its_copy_is_taken_next(url):
    study = _worker(url, heartbeat_interval=1, grace_period=1)
    killed = _claim(study, "after", 1001)
    killed._stop()  # its heartbeat stops, as when the worker is killed
    time.sleep(2.5)

    fail_stale(study)

    board = read_board(study.get_trials(), KEY_OF)
    assert study.trials[0].state == TrialState.FAIL and board.running == {}
    assert [t.number for t in board.waiting[("after", 1001)]] == [1]
    retry = _claim(study, "after", 1001)
    assert retry.number == 1 and retried_trial(study.trials[1]) == 0
    assert retry.finish(0.9, {})


def test_a_queued_trial_of_a_finished_key_is_dropped_once(url):
    study = _worker(url)
    _claim(study, "before", 1000).finish(0.8, {})
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.WAITING, params={"bn_position": "before"}, user_attrs={"seed": 1000},
        **FIELDS))
    board = read_board(study.get_trials(), KEY_OF)

    drop_queued(study, board.waiting[("before", 1000)], "duplicate: trial 0 already reruns it")
    drop_queued(_worker(url), board.waiting[("before", 1000)], "twice")

    assert study.trials[1].state == TrialState.FAIL
    assert study.trials[1].user_attrs["failure_reason"] == "duplicate: trial 0 already reruns it"
