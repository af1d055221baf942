from __future__ import annotations

import threading
import time

import optuna
import pytest

from study.tuning.balance import BalancedSampler, balanced_choice

CHOICES = ["before", "after"]


def test_workers_asking_at_the_same_moment_still_take_turns():
    study = optuna.create_study(direction="maximize",
                                sampler=BalancedSampler(optuna.samplers.TPESampler(seed=0),
                                                        "bn_position"))
    # Four workers ask before any of them has suggested its placement...
    trials = [study.ask() for _ in range(4)]
    placements = {}

    def suggest(trial, delay):
        time.sleep(delay)
        placements[trial.number] = trial.suggest_categorical("bn_position", CHOICES)

    # ...and suggest in the opposite order: the last-numbered first.
    workers = [threading.Thread(target=suggest, args=(trial, 0.1 * (3 - trial.number)))
               for trial in trials]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert [placements[n] for n in range(4)] == ["before", "after", "before", "after"]


def test_the_other_parameters_are_left_to_the_base_sampler():
    sampler = BalancedSampler(optuna.samplers.RandomSampler(seed=3), "bn_position")
    study = optuna.create_study(sampler=sampler)
    values = [study.ask().suggest_float("learning_rate", 1e-4, 0.5, log=True) for _ in range(5)]

    plain = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    assert values == [plain.ask().suggest_float("learning_rate", 1e-4, 0.5, log=True)
                      for _ in range(5)]


@pytest.mark.parametrize(("earlier", "expected"), [
    ([], "before"), (["before"], "after"), (["after"], "before"),
    (["before", "after"], "before"), (["before", "before", "after"], "after")])
def test_balanced_choice(earlier, expected):
    assert balanced_choice(earlier, CHOICES) == expected
