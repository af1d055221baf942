"""Which configuration of each placement the confirmation reruns: a pick aware of selection.

A search ranks trials by one seed's validation accuracy, so its best trial is partly the
luckiest seed (the winner's curse: the first publication's "before" pick scored at the 97th
percentile of its own reruns), and a runner-up a fraction of one seed's spread behind is as
likely the better configuration. `study.select` therefore reruns each placement's top `k`
search trials with new seeds on the validation split and picks the best MEAN:

- candidates (`top_candidates`): the top `k` COMPLETE trials of each placement by validation
  accuracy; where a placement has fewer than `k`, its best PRUNED trials at their last
  reported epoch fill in (they are retrained for every epoch);
- pick (`pick_from_scores`): the candidate with the highest mean over its reruns;
- near-ties: the other candidates whose mean is within one seed standard deviation of the
  pick's. The standard deviation is pooled over the placement's candidates (each has only a
  few seeds, so one candidate's own spread is too noisy to judge by).

Studies run before `study.select` existed have no selection reruns; `search_near_ties` then
names the candidates whose single search value lies within one seed standard deviation (of the
pick's confirmation reruns) of the pick's. Pure Python on trial-like objects: no Optuna import.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from study.errors import ConfigError
from study.storage.question import Question

__all__ = ["CandidateScore", "Selection", "pick_from_scores", "scores_from_reruns",
           "search_near_ties", "search_value", "top_candidates"]


class TrialLike(Protocol):
    """What is read of a trial: Optuna's FrozenTrial has it all."""

    number: int
    value: float | None
    params: dict[str, object]
    intermediate_values: dict[int, float]
    user_attrs: dict[str, object]

    @property
    def state(self) -> object: ...


def _state(trial: TrialLike) -> str:
    return getattr(trial.state, "name", str(trial.state))


def search_value(trial: TrialLike) -> float:
    """A search trial's validation accuracy: its value, or for a PRUNED trial its last epoch's."""
    if trial.value is not None:
        return float(trial.value)
    if trial.intermediate_values:
        return float(trial.intermediate_values[max(trial.intermediate_values)])
    return math.nan


def top_candidates(trials: Iterable[TrialLike], k: int, question: Question
                   ) -> dict[object, list[TrialLike]]:
    """Each value's top `k` trials by validation accuracy, COMPLETE first, PRUNED filling in.

    Args:
        trials: The search's trials.
        k: Candidates per value of the question.
        question: What the study asks: its parameter's values, in order (reference first).

    Raises:
        ConfigError: for k < 1, or a value without a single COMPLETE or PRUNED trial with a
            finite validation accuracy.
    """
    if k < 1:
        raise ConfigError(f"`top_k` must be at least 1, but got {k}.")
    found: dict[object, list[TrialLike]] = {}
    trials = list(trials)
    for placement in question.values:
        ranked: list[TrialLike] = []
        for state in ("COMPLETE", "PRUNED"):
            pool = [trial for trial in trials if _state(trial) == state
                    and trial.params.get(question.param) == placement
                    and math.isfinite(search_value(trial))]
            ranked += sorted(pool, key=lambda t: (-search_value(t), t.number))
        if not ranked:
            raise ConfigError(
                f"`study_name` must name a search with a finished trial for each value of "
                f"`{question.param}`, but none has {question.param}={placement!r}; run more of "
                "the search first.")
        found[placement] = ranked[:k]
    return found


@dataclass(frozen=True)
class CandidateScore:
    """One candidate: its search result and its selection reruns' validation accuracies."""

    trial: int
    placement: str
    search_value: float
    state: str
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean validation accuracy of its reruns (NaN without any)."""
        return statistics.fmean(self.values) if self.values else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation of its reruns (NaN under two)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else math.nan


@dataclass(frozen=True)
class Selection:
    """One placement's candidates, the pick (best mean) and its near-ties."""

    placement: str
    candidates: tuple[CandidateScore, ...]
    pick: int
    pooled_std: float
    near_ties: tuple[int, ...]

    def candidate(self, number: int) -> CandidateScore:
        """The candidate that is search trial `number`."""
        return next(c for c in self.candidates if c.trial == number)


def scores_from_reruns(candidates: Mapping[str, Sequence[TrialLike]],
                       reruns: Iterable[TrialLike]) -> dict[str, list[CandidateScore]]:
    """Each candidate's selection reruns, by the `source_trial` each rerun stores."""
    values: dict[int, list[tuple[int, float]]] = {}
    for rerun in reruns:
        if _state(rerun) == "COMPLETE" and rerun.value is not None:
            source = rerun.user_attrs.get("source_trial")
            values.setdefault(source, []).append((rerun.user_attrs.get("seed"), rerun.value))
    return {placement: [CandidateScore(trial.number, placement, search_value(trial),
                                       _state(trial),
                                       tuple(v for _, v in sorted(values.get(trial.number, []))))
                        for trial in trials]
            for placement, trials in candidates.items()}


def pick_from_scores(scores: Sequence[CandidateScore]) -> Selection:
    """The candidate with the best mean (ties: the better search value), and its near-ties.

    Raises:
        ConfigError: when a candidate has no rerun yet.
    """
    missing = [score.trial for score in scores if not score.values]
    if not scores or missing:
        raise ConfigError(f"every candidate must have a selection rerun before a pick, but "
                          f"trials {missing} have none.")
    best = max(scores, key=lambda s: (s.mean, s.search_value, -s.trial))
    deviations = [(v - s.mean) ** 2 for s in scores for v in s.values]
    dof = sum(len(s.values) - 1 for s in scores)
    pooled = math.sqrt(sum(deviations) / dof) if dof > 0 else math.nan
    ties = tuple(s.trial for s in scores
                 if s.trial != best.trial and math.isfinite(pooled)
                 and s.mean >= best.mean - pooled)
    return Selection(best.placement, tuple(scores), best.trial, pooled, ties)


def search_near_ties(candidates: Sequence[TrialLike], pick: TrialLike, seed_std: float
                     ) -> list[TrialLike]:
    """Candidates other than `pick` whose search value is within `seed_std` of the pick's.

    For studies without selection reruns: a single search value against the seed spread the
    pick's confirmation reruns measured.
    """
    if not math.isfinite(seed_std):
        return []
    floor = search_value(pick) - seed_std
    return [trial for trial in candidates
            if trial.number != pick.number and search_value(trial) >= floor]
