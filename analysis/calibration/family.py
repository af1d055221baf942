"""A synthetic family of training budgets with a known truth, written without training.

Each member is what `study.run --budgets` leaves in a storage: a search study (the synthetic
search of `analysis.calibration.simulate`, its configuration naming the member's epochs), its
selection study NAME/select (each value's top candidates rerun on validation, the pick's mean
set exactly) and optionally its paired confirmation NAME/confirm, every rerun stored by
`study.storage.reruns.store_rerun` with a per-epoch history and a code version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import optuna
from optuna.storages import BaseStorage

from analysis.calibration.simulate import BASE_ACCURACY, write_synthetic_study
from study.engine.budgets import member_name
from study.reruns.candidates import top_candidates
from study.reruns.selection_reruns import selections
from study.storage.contract import CONFIG_ATTR, CONFIRM_METRIC, SEARCH_METRIC
from study.storage.opener import name_metric
from study.storage.question import DEFAULT_QUESTION
from study.storage.reruns import (
    SELECT_SEED_BASE,
    confirm_study_name,
    rerun_seeds,
    select_study_name,
    store_rerun,
)

__all__ = ["SyntheticMember", "write_synthetic_family"]

TOP_K, SELECT_SEEDS = 2, 3
RUNNER_UP_GAP = 0.01  # the second candidate's mean below the pick's: never a near-tie


@dataclass(frozen=True)
class SyntheticMember:
    """One budget of a synthetic family and its truth."""

    epochs: int
    effect: float  # after minus before, in the confirmation's test accuracy
    selection_means: tuple[float, float]  # before's pick, after's pick (validation)
    pairs: int = 0  # paired confirmation reruns (0: no confirmation)
    code_version: str = "0123456789ab"  # stored on every rerun ("+dirty" for a dirty tree)
    validation_curves: bool = True  # False: histories as stored before val_* was scored
    pair_std: float = 0.001  # spread of a pair's difference


def _history(final: float, epochs: int, validation: bool) -> list[dict[str, float]]:
    """A rising curve ending at `final`: validation (and training) accuracy per epoch."""
    curve = [final - 0.1 * (epochs - epoch) / epochs for epoch in range(1, epochs + 1)]
    return [{"loss": 1.0 - value, "accuracy": value + 0.02,
             **({"val_loss": 1.1 - value, "val_accuracy": value} if validation else {})}
            for value in curve]


def _write_member(storage: BaseStorage, name: str, member: SyntheticMember, seed: int) -> None:
    search = write_synthetic_study(storage, name, effect=member.effect, n_trials=12, seed=seed)
    search.set_user_attr(CONFIG_ATTR, {"dataset": "synthetic", "epochs": member.epochs,
                                       "seed": seed})
    question = DEFAULT_QUESTION
    select = optuna.create_study(storage=storage, study_name=select_study_name(name),
                                 direction="maximize")
    name_metric(select, SEARCH_METRIC)
    select.set_user_attr(CONFIG_ATTR, {"top_k": TOP_K, "seeds": SELECT_SEEDS})
    candidates = top_candidates(search.get_trials(deepcopy=False), TOP_K, question)
    rerun = {"question": question, "loss": 0.3, "seconds": 1.0, "compiled_model": "new",
             "dtype_policy": "float32", "code_version": member.code_version}
    for value, mean in zip(question.values, member.selection_means, strict=True):
        for rank, source in enumerate(candidates[value]):
            for offset, select_seed in zip((-0.001, 0.0, 0.001),
                                           rerun_seeds(SELECT_SEEDS, SELECT_SEED_BASE),
                                           strict=True):
                accuracy = mean - rank * RUNNER_UP_GAP + offset
                store_rerun(select, source, select_seed, accuracy, loss_name="val_loss",
                            history=_history(accuracy, member.epochs,
                                             member.validation_curves), **rerun)
    if not member.pairs:
        return
    by_number = {trial.number: trial for trial in search.get_trials(deepcopy=False)}
    picks = {value: by_number[chosen.pick]
             for value, chosen in selections(search, select, TOP_K).items()}
    confirm = optuna.create_study(storage=storage, study_name=confirm_study_name(name),
                                  direction="maximize")
    name_metric(confirm, CONFIRM_METRIC)
    confirm.set_user_attr(CONFIG_ATTR, {"pairing": "paired"})
    rng = np.random.default_rng([seed, 2])
    for confirm_seed in rerun_seeds(member.pairs):
        before = BASE_ACCURACY + rng.normal(0, 0.003)
        after = before + member.effect + rng.normal(0, member.pair_std)
        for value, accuracy in zip(question.values, (before, after), strict=True):
            store_rerun(confirm, picks[value], confirm_seed, float(accuracy),
                        history=_history(accuracy, member.epochs, member.validation_curves),
                        **rerun)


def write_synthetic_family(storage: str | BaseStorage, family: str,
                           members: tuple[SyntheticMember, ...], *, seed: int = 0) -> None:
    """Writes a family: the first member under `family`, each longer one as family/epochs-E.

    Args:
        storage: Storage URL or object.
        family: The family's (and its first study's) name.
        members: The members, shortest budget first.
        seed: Seed of the searches and the reruns' noise.
    """
    for index, member in enumerate(members):
        _write_member(storage, member_name(family, member.epochs, first=index == 0), member,
                      seed + index)
