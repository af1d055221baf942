"""A sampler wrapper giving each value of one categorical parameter an equal share of trials."""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.trial import FrozenTrial, TrialState

__all__ = ["COUNTED_STATES", "LIVE_STATES", "BalancedSampler"]

# Finished trials that use up a study's budget. FAIL is left out: a crashed or killed trial is
# retried, and a surplus trial never trained.
COUNTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
# Trials that hold a place in the budget and in the balance: finished, or training now.
LIVE_STATES = (*COUNTED_STATES, TrialState.RUNNING)
# A trial asked by another worker gets its parameters within milliseconds; one that has none
# after this long lost its worker between ask and suggest, and is not waited for.
_PENDING_SECONDS = 10.0
_POLL_SECONDS = 0.05


class BalancedSampler(optuna.samplers.BaseSampler):
    """Lets `base` sample everything except `param`, whose values take turns.

    Trial `n` takes the value used least by the live trials numbered before it (ties go in
    turn). The storage numbers trials in one order for every worker, so workers asking at the
    same moment still agree, and the values stay balanced within one trial overall. Adaptive
    samplers would otherwise starve one value of a scientific hyperparameter (Deep Learning
    Tuning Playbook); the other parameters are still sampled by `base`, from every trial.

    Args:
        base: The sampler for the other parameters (TPE, random, Sobol...).
        param: The categorical parameter to balance, e.g. "bn_position".
        study: The study whose trials are counted; None counts the trials of whatever study
            the sampler is handed. Give it: with Optuna's `HyperbandPruner` a sampler is
            handed a view holding only the trials of the new trial's bracket
            (`optuna.pruners._filter_study`), and counting there balances each bracket, not
            the study (seen: 4 trials against 2 in 6).
    """

    def __init__(self, base: optuna.samplers.BaseSampler, param: str, *,
                 study: optuna.Study | None = None) -> None:
        self.base = base
        self.param = param
        self.study = study

    def reseed_rng(self) -> None:
        self.base.reseed_rng()

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        space = self.base.infer_relative_search_space(study, trial)
        return {name: dist for name, dist in space.items() if name != self.param}

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, object]:
        return self.base.sample_relative(study, trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> object:
        if param_name != self.param or not isinstance(param_distribution,
                                                      CategoricalDistribution):
            return self.base.sample_independent(study, trial, param_name, param_distribution)
        # The whole study's trials, never a pruner's view of them (see `study` above).
        counted = study if self.study is None else self.study
        return balanced_choice(self._earlier_values(counted, trial.number),
                               param_distribution.choices)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.base.before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self.base.after_trial(study, trial, state, values)

    def _earlier_values(self, study: optuna.Study, number: int) -> list[object]:
        """The param's values in live trials numbered before `number`, once they all have one."""
        while True:
            earlier = [t for t in study.get_trials(deepcopy=False, states=LIVE_STATES)
                       if t.number < number]
            if not any(self._pending(t) for t in earlier):
                return [t.params[self.param] for t in earlier if self.param in t.params]
            time.sleep(_POLL_SECONDS)

    def _pending(self, trial: FrozenTrial) -> bool:
        if trial.state != TrialState.RUNNING or self.param in trial.params:
            return False
        started = trial.datetime_start or datetime.datetime.now()
        return (datetime.datetime.now() - started).total_seconds() < _PENDING_SECONDS


def balanced_choice(earlier: Sequence[object], choices: Sequence[object]) -> object:
    """The choice used least in `earlier`; ties go in turn, by how many came before.

    Args:
        earlier: Values already given, in any order.
        choices: The allowed values, in their declared order.

    Returns:
        The value for the next trial.
    """
    counts = {choice: 0 for choice in choices}
    for value in earlier:
        if value in counts:
            counts[value] += 1
    fewest = min(counts.values())
    tied = [choice for choice, count in counts.items() if count == fewest]
    return tied[sum(counts.values()) % len(tied)]
