"""Whether the verdict depends on the budget, and the plateau rule, on hand-made members."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.findings.budgets import (
    PLATEAU_RISE,
    BudgetResult,
    dependence,
    plateau_at,
    plateau_steps,
)
from analysis.findings.verdict import compare_placements

_BASE = compare_placements([0.90, 0.91, 0.89], [0.88, 0.89, 0.87], n_bootstrap=0)


def _member(epochs: int, verdict: str = "matters", difference: float = -0.02, *,
            source: str = "confirm", means: tuple[float, float] | None = (0.86, 0.85)
            ) -> BudgetResult:
    comparison = dataclasses.replace(_BASE, verdict=verdict, difference=difference)
    selection = None if means is None else dict(zip(("before", "after"), means, strict=True))
    return BudgetResult(epochs, f"s/epochs-{epochs}", source, comparison, selection,
                        None if means is None else dict.fromkeys(("before", "after"), 3))


@pytest.mark.parametrize(("verdicts", "expected"), [
    ([("matters", -0.02), ("matters", -0.01)], "same"),
    ([("equivalent", 0.0), ("equivalent", 0.001)], "same"),
    ([("matters", -0.02), ("equivalent", 0.0)], "depends"),
    ([("matters", -0.02), ("matters", +0.02)], "depends"),  # the other value leads
    ([("nonzero", -0.004), ("matters", +0.02)], "depends"),
    ([("matters", -0.02), ("inconclusive", -0.01)], "unsettled"),
    ([("matters", -0.02), ("nonzero", -0.004)], "unsettled"),
    ([("nonzero", -0.003), ("equivalent", -0.001)], "unsettled"),
])
def test_the_confirmed_verdicts_agree_contradict_or_leave_it_unsettled(verdicts, expected):
    members = [_member(8 * 2 ** index, verdict, difference)
               for index, (verdict, difference) in enumerate(verdicts)]
    assert dependence(members) == expected


def test_provisional_verdicts_from_a_search_are_not_compared():
    members = [_member(8), _member(16, "equivalent", 0.0, source="search")]
    assert dependence(members) == "too few"
    assert dependence([_member(8, source="search")]) == "too few"


def test_a_doubling_that_raises_both_picks_by_less_than_the_rule_is_the_plateau():
    small = PLATEAU_RISE / 2
    members = [_member(8, means=(0.85, 0.84)), _member(16, means=(0.87, 0.86)),
               _member(32, means=(0.87 + small, 0.86 - 0.001))]

    steps = plateau_steps(members)

    assert [(step.shorter, step.longer) for step in steps] == [(8, 16), (16, 32)]
    assert steps[0].rises == pytest.approx({"before": 0.02, "after": 0.02})
    assert [step.flat for step in steps] == [False, True]  # a fall counts as under the rule
    assert plateau_at(steps) == 16


def test_one_pick_rising_by_the_rule_is_no_plateau():
    steps = plateau_steps([_member(8, means=(0.85, 0.84)),
                           _member(16, means=(0.85, 0.84 + PLATEAU_RISE))])
    assert steps[0].flat is False and plateau_at(steps) is None


def test_the_rule_is_not_read_without_a_doubling_or_a_selection():
    less_than_double = plateau_steps([_member(8), _member(12)])
    no_selection = plateau_steps([_member(8), _member(16, means=None)])

    assert less_than_double[0].doubling is False and less_than_double[0].flat is None
    assert no_selection[0].rises is None and no_selection[0].flat is None
    assert plateau_at(less_than_double + no_selection) is None


def test_a_selection_still_running_is_shown_but_not_read_for_the_plateau():
    running = dataclasses.replace(_member(16, means=(0.86, 0.85)), selection_finished=False)

    (step,) = plateau_steps([_member(8, means=(0.86, 0.85)), running])

    assert step.rises is None and step.flat is None  # flat by its means, but not read
    assert plateau_at([step]) is None
