"""Optuna pruners by the names the CLI uses, under one rule: never before the first prunable
epoch, and each trial judged only among its own placement (Hyperband: within its bracket, both
placements together; see `make_pruner`)."""

from __future__ import annotations

from collections.abc import Container, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

__all__ = ["FIRST_PRUNABLE_EPOCH", "MEDIAN_STARTUP_TRIALS", "PRUNERS", "SameValuePruner",
           "make_pruner"]

PRUNERS = ("median", "successive_halving", "hyperband", "none")
MEDIAN_STARTUP_TRIALS = 2  # finished trials of a placement before the median prunes any of it
# No pruner judges a trial before this epoch: in the smoke study, trials that ended at 0.71-0.79
# validation accuracy stood at 0.09-0.17 after epoch 1 (BN statistics not yet settled), no
# better than ones that went nowhere, so the first epoch says nothing about a trial.
FIRST_PRUNABLE_EPOCH = 2


class SameValuePruner(optuna.pruners.BasePruner):
    """Prunes as `base` would if the study held only trials sharing the trial's `param` value.

    Pruning compares a trial's early epochs with other trials' early epochs. When the value of
    a scientific hyperparameter changes how fast a model learns (measured here: with BN after
    ReLU6, MobileNetV2 lags in its first epochs and catches up later), a pruner that mixes both
    values would stop that placement's trials more often and bias the very comparison the study
    makes. Each placement is therefore pruned only against itself.

    Args:
        base: The pruner doing the judging (median, successive halving...).
        param: The parameter whose value defines the groups, e.g. "bn_position".
    """

    def __init__(self, base: optuna.pruners.BasePruner, param: str) -> None:
        self.base = base
        self.param = param

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        if self.param not in trial.params:
            return self.base.prune(study, trial)
        return self.base.prune(_SameValueView(study, self.param, trial.params[self.param]),
                               trial)


class _SameValueView:
    """A study, as seen by a pruner, that lists only the trials with one parameter value."""

    def __init__(self, study: optuna.Study, param: str, value: object) -> None:
        self._study = study
        self._param = param
        self._value = value

    def get_trials(self, deepcopy: bool = True,
                   states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        return [trial for trial in self._study.get_trials(deepcopy=deepcopy, states=states)
                if trial.params.get(self._param) == self._value]

    @property
    def trials(self) -> Sequence[FrozenTrial]:
        return self.get_trials()

    def __getattr__(self, name: str) -> object:
        return getattr(self._study, name)


def make_pruner(name: str, epochs: int, *, per_value_of: str | None = None
                ) -> optuna.pruners.BasePruner:
    """The pruner called `name`, for trials of `epochs` epochs (one step per epoch).

    Every pruner first judges a trial at epoch `FIRST_PRUNABLE_EPOCH` (steps count epochs
    from 1): the median pruner warms up until then, successive halving and Hyperband take it
    as their smallest resource, so their first rung sits there. Trials shorter than that are
    never pruned.

    Args:
        name: "median", "successive_halving", "hyperband" or "none".
        epochs: Epochs per trial, the largest resource a trial can use.
        per_value_of: Judge each trial only among trials with its value of this parameter
            (median and successive halving). Optuna's Hyperband judges a trial among the
            trials of its bracket and reads them from the storage itself, so a wrapper cannot
            narrow them: there both placements are judged together, within each bracket.

    Returns:
        The pruner.
    """
    if name not in PRUNERS:
        raise ValueError(f"`pruner` must be one of {list(PRUNERS)}, but got {name!r}.")
    if name == "none" or epochs < FIRST_PRUNABLE_EPOCH:
        return optuna.pruners.NopPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=FIRST_PRUNABLE_EPOCH,
                                              max_resource=epochs)
    if name == "median":
        # Two finished trials of the placement before any of its trials is pruned, so that
        # early trials are not judged against a single lucky run. Optuna prunes from
        # step == n_warmup_steps on.
        base: optuna.pruners.BasePruner = optuna.pruners.MedianPruner(
            n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=FIRST_PRUNABLE_EPOCH)
    else:
        base = optuna.pruners.SuccessiveHalvingPruner(min_resource=FIRST_PRUNABLE_EPOCH)
    return base if per_value_of is None else SameValuePruner(base, per_value_of)
