"""Instability the verdict's numbers hide: trials that ended at chance, reruns with a heavy tail.

The divergence check (`analysis.findings.boundary`) counts only non-finite losses; a trial
whose loss stays finite but whose accuracy falls to chance (a learning rate too high to settle)
is as unstable, and so is a learning rate next to the pick's whose trial collapsed between two
epochs. And a placement whose reruns sometimes collapse shows it as a spread, not as a
warning, unless the report says so: here the heavy tail is measured as the share of one
placement's reruns below every rerun of the other (the first publication: 21 of 105 "before"
reruns below the lowest "after" one).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from optuna.trial import FrozenTrial

from study.storage.question import Question
from study.storage.trials import best_per_value

__all__ = ["CHANCE_MARGIN", "COLLAPSE_DROP", "TAIL_MAX_SHARE", "TAIL_WARN_SHARE", "chance_trials",
           "chance_warning", "collapsed_neighbour_warnings", "heavy_tail_warning", "share_below"]

CHANCE_MARGIN = 0.02  # within 2 points of chance (0.12 for ten classes) counts as "at chance"
TAIL_WARN_SHARE = 0.1  # a tenth of a placement's reruns below all of the other's is a tail
TAIL_MAX_SHARE = 0.5  # from half on it is no tail: the two values are shifted apart
COLLAPSE_DROP = 0.1  # validation accuracy falling 10 points in one epoch is a collapse


def chance_trials(trials: pd.DataFrame, num_classes: int) -> pd.DataFrame:
    """The finished trials (COMPLETE or PRUNED) whose accuracy ended at chance level."""
    finished = trials[trials["state"].isin(["COMPLETE", "PRUNED"])]
    return finished[finished["value"] <= 1.0 / num_classes + CHANCE_MARGIN]


def chance_warning(trials: pd.DataFrame, num_classes: int | None,
                   param: str) -> str | None:
    """A sentence naming the trials that ended at chance, or None (also without num_classes).

    Each trial is named with its value of `param`, the scientific parameter.
    """
    if not num_classes:
        return None
    found = chance_trials(trials, num_classes)
    if found.empty:
        return None
    listed = ", ".join(
        f"{int(row.number)} ({row[param]}"
        + (f", learning_rate {row['learning_rate']:.3g}" if "learning_rate" in row else "") + ")"
        for _, row in found.sort_values("number").iterrows())
    return (f"{len(found)} of {len(trials)} trials ended at chance accuracy (at most "
            f"{1.0 / num_classes + CHANCE_MARGIN:.2f} for {num_classes} classes) without a "
            f"non-finite loss, so the divergence count misses them: trials {listed}.")


def share_below(values: pd.Series, others: pd.Series) -> float:
    """The share of `values` below every one of `others`."""
    return float((values < others.min()).mean()) if len(values) and len(others) else 0.0


def heavy_tail_warning(compared: dict[object, pd.DataFrame]) -> str | None:
    """A sentence when a tenth or more, but under half, of one value's reruns fall below all of
    the other's: a minority of bad seeds. Half or more below is a shift of the whole
    distribution, which the mean and its interval describe, not a tail.

    Args:
        compared: The two values -> their reruns (a `value` column), as the verdict compared
            them, the reference first.
    """
    found = []
    pair = tuple(compared)
    for placement, other in (pair, pair[::-1]):
        values, others = compared[placement]["value"], compared[other]["value"]
        share = share_below(values, others)
        if TAIL_WARN_SHARE <= share < TAIL_MAX_SHARE:
            found.append(f"{int(round(share * len(values)))} of {len(values)} \"{placement}\" "
                         f"reruns ({share:.0%}) lie below every \"{other}\" rerun")
    if not found:
        return None
    return ("; ".join(found) + ": a heavy tail of bad seeds, which a mean and a normal-based "
            f"interval summarise poorly; read the median, IQM and P({pair[1]} > {pair[0]}) "
            "beside them.")


def collapsed_neighbour_warnings(trials: Sequence[FrozenTrial], *, factor: float = 2.0,
                                 drop: float = COLLAPSE_DROP,
                                 picks: dict[object, int] | None = None,
                                 question: Question) -> list[str]:
    """Sentences on learning-rate neighbours of each placement's pick that collapsed.

    A neighbour has the pick's placement and other parameters and a learning rate within
    `factor` of the pick's; it collapsed when its validation accuracy fell by `drop` or more
    from one epoch to the next. Such a neighbour puts the pick near where training turns
    unstable, a likely cause of bad seeds in its reruns.

    Args:
        trials: The search's trials.
        factor: How far, as a ratio, a neighbour's learning rate may be from the pick's.
        drop: The fall of validation accuracy between two epochs that counts as a collapse.
        picks: Each placement's pick by trial number (the selection's); None: each
            placement's best COMPLETE trial.
        question: The scientific parameter and the values whose picks are looked at.
    """
    found = []
    by_number = {trial.number: trial for trial in trials}
    chosen = (best_per_value(trials, question) if picks is None
              else {placement: by_number[number] for placement, number in picks.items()})
    for placement, pick in chosen.items():
        rate = pick.params.get("learning_rate")
        if rate is None:
            continue
        others = {k: v for k, v in pick.params.items() if k != "learning_rate"}
        for trial in sorted(trials, key=lambda t: t.number):
            neighbour_rate = trial.params.get("learning_rate")
            if (trial.number == pick.number or neighbour_rate is None
                    or any(trial.params.get(k) != v for k, v in others.items())
                    or not rate / factor <= neighbour_rate <= rate * factor):
                continue
            steps = sorted(trial.intermediate_values)
            values = [trial.intermediate_values[step] for step in steps]
            for epoch, (earlier, later) in enumerate(zip(values, values[1:], strict=False), 1):
                if earlier - later >= drop:
                    found.append(
                        f"Trial {trial.number} (learning_rate {neighbour_rate:.3g}), a "
                        f"learning-rate neighbour of the \"{placement}\" pick (trial "
                        f"{pick.number}, learning_rate {rate:.3g}), collapsed from "
                        f"{earlier:.0%} to {later:.0%} between epochs {epoch} and {epoch + 1}: "
                        f"the pick sits near where training turns unstable.")
                    break
    return found
