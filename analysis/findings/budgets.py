"""One question at several training budgets: whether its verdict depends on the budget, and
where the picks stop improving.

A family (`study.engine.budgets`) runs the same study at several numbers of epochs, each
member with its own search, selection and confirmation. Read side by side:

- the verdict's dependence on the budget (`dependence`), from the confirmed members only (a
  provisional verdict from the search says too little to compare). Two verdicts contradict
  each other when they point to different leaders ("matters" or "nonzero" with opposite
  signs) or when one says "matters" and the other "equivalent"; an "inconclusive" or a
  "nonzero" beside a verdict it does not contradict leaves the question unsettled;
- the plateau (issue 39): doubling the budget raises both picks' selection means (validation
  accuracy, seeds averaged) by less than PLATEAU_RISE. A flat tail within one run says nothing
  (the cosine decay to zero flattens every run's last epochs), so the plateau is read across
  budgets, per consecutive pair (`plateau_steps`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from analysis.findings.learning_curves import LearningCurve
from analysis.findings.verdict import Comparison
from study.storage.question import Question

__all__ = ["PLATEAU_RISE", "BudgetFamily", "BudgetResult", "Dependence", "PlateauStep",
           "dependence", "plateau_at", "plateau_steps"]

PLATEAU_RISE = 0.003  # 0.3 pp: issue 39's rule, below the seed-to-seed spread of a pick's mean

Dependence = Literal["same", "depends", "unsettled", "too few"]


@dataclass(frozen=True)
class BudgetResult:
    """One member of a family: its budget, its verdict and its picks' validation means."""

    epochs: int
    study_name: str
    source: str  # "confirm" (the paired test reruns) or "search" (provisional)
    comparison: Comparison
    selection_means: dict[object, float] | None  # value -> its pick's selection rerun mean
    selection_seeds: dict[object, int] | None  # value -> the selection reruns behind the mean
    curves: tuple[LearningCurve, ...] = ()
    # Whether every candidate of the selection has all its seeds; means of a selection still
    # running are shown but not read for the plateau (its pick may still change).
    selection_finished: bool = True

    @property
    def confirmed(self) -> bool:
        """Whether the verdict comes from the confirmation reruns."""
        return self.source == "confirm"


@dataclass(frozen=True)
class PlateauStep:
    """From one budget to the next: how much each value's pick's selection mean rose."""

    shorter: int
    longer: int
    rises: dict[object, float] | None  # None where a member has no finished selection

    @property
    def doubling(self) -> bool:
        """Whether the longer budget is at least twice the shorter (the rule is for doubling)."""
        return self.longer >= 2 * self.shorter

    @property
    def flat(self) -> bool | None:
        """Both picks rose by less than PLATEAU_RISE; None where the rule cannot be read (no
        selection means, or less than a doubling)."""
        if self.rises is None or not self.doubling:
            return None
        return all(rise < PLATEAU_RISE for rise in self.rises.values())


@dataclass(frozen=True)
class BudgetFamily:
    """A family's members, shortest budget first, with the question and margin they share."""

    family: str  # the first member's study name
    question: Question  # the reference and the value compared with it, at every budget
    margin: float  # the equivalence margin every member's verdict was decided with
    results: tuple[BudgetResult, ...]

    @property
    def steps(self) -> tuple[PlateauStep, ...]:
        """`plateau_steps` of the members."""
        return plateau_steps(self.results)


def _leader(result: BudgetResult) -> int:
    """+1 where the compared value leads, -1 where the reference does, 0 for no lead."""
    return int(math.copysign(1, result.comparison.difference)) \
        if result.comparison.verdict in ("matters", "nonzero") else 0


def dependence(results: Sequence[BudgetResult]) -> Dependence:
    """Whether the confirmed members' verdicts agree across budgets.

    Returns:
        "too few" under two confirmed members; "same" where every verdict (and its leader) is
        alike; "depends" where two contradict each other (opposite leaders, or "matters" beside
        "equivalent"); "unsettled" otherwise (an undecided verdict beside a decided one).
    """
    confirmed = [result for result in results if result.confirmed]
    if len(confirmed) < 2:
        return "too few"
    if len({(result.comparison.verdict, _leader(result)) for result in confirmed}) == 1:
        return "same"
    verdicts = {result.comparison.verdict for result in confirmed}
    leaders = {_leader(result) for result in confirmed} - {0}
    if len(leaders) > 1 or {"matters", "equivalent"} <= verdicts:
        return "depends"
    return "unsettled"


def plateau_steps(results: Sequence[BudgetResult]) -> tuple[PlateauStep, ...]:
    """Each consecutive pair of budgets with the rise of each pick's selection mean (None
    unless both members' selections are finished)."""
    steps = []
    for shorter, longer in zip(results, results[1:], strict=False):
        rises = None
        if all(result.selection_means is not None and result.selection_finished
               for result in (shorter, longer)):
            rises = {value: longer.selection_means[value] - shorter.selection_means[value]
                     for value in shorter.selection_means if value in longer.selection_means}
        steps.append(PlateauStep(shorter.epochs, longer.epochs, rises or None))
    return tuple(steps)


def plateau_at(steps: Sequence[PlateauStep]) -> int | None:
    """The shortest budget from which doubling no longer helped (the first flat step's shorter
    budget), or None where no step is flat."""
    return next((step.shorter for step in steps if step.flat), None)
