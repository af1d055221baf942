"""Samplers by name: reproducible, and a resumed study never repeats what it drew before."""

from __future__ import annotations

import optuna
import pytest

from study.tuning.samplers import SAMPLERS, TrialSeededSampler, make_sampler


def _draw(study: optuna.Study, count: int) -> list[tuple[float, str]]:
    values = []
    for _ in range(count):
        trial = study.ask()
        values.append((trial.suggest_float("learning_rate", 1e-4, 0.5, log=True),
                       trial.suggest_categorical("alpha", [0.35, 0.5, 0.75, 1.0])))
        study.tell(trial, values[-1][0])
    return values


@pytest.mark.parametrize("name", SAMPLERS)
def test_a_resumed_study_draws_new_values(name):
    storage = optuna.storages.InMemoryStorage()
    first = optuna.create_study(study_name="s", storage=storage,
                                sampler=make_sampler(name, seed=0))
    before = _draw(first, 3)
    # A new process resumes the study with the same seed, as `study.search` does.
    resumed = optuna.load_study(study_name="s", storage=storage, sampler=make_sampler(name, 0))
    after = _draw(resumed, 3)
    assert not set(before) & set(after)


@pytest.mark.parametrize("name", SAMPLERS)
def test_the_same_seed_gives_the_same_study(name):
    runs = [_draw(optuna.create_study(sampler=make_sampler(name, seed=5)), 4) for _ in range(2)]
    assert runs[0] == runs[1]


def test_each_trial_gets_a_sampler_seeded_by_its_number():
    seeds = []

    def make(seed: int) -> optuna.samplers.BaseSampler:
        seeds.append(seed)
        return optuna.samplers.RandomSampler(seed=seed)

    study = optuna.create_study(sampler=TrialSeededSampler(make, seed=10))
    _draw(study, 3)
    assert seeds == [10, 10, 11, 12]  # the first is built with the sampler itself
