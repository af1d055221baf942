"""A family analysed member by member, then side by side."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.family_analysis import family_analysis
from analysis.reading.budgets import Member


def test_each_member_brings_its_verdict_and_its_picks_selection_means(families):
    family = families["shifting"]

    assert [member.epochs for member in family.members] == [8, 16]
    assert family.family == "shifting" and family.budgets.margin == 0.005
    eight, sixteen = family.budgets.results
    assert (eight.study_name, eight.source, eight.comparison.verdict) == (
        "shifting", "confirm", "matters")
    assert (sixteen.study_name, sixteen.comparison.verdict) == ("shifting/epochs-16",
                                                                "equivalent")
    assert eight.selection_means == pytest.approx({"before": 0.86, "after": 0.85})
    assert sixteen.selection_means == pytest.approx({"before": 0.88, "after": 0.879})
    assert eight.selection_seeds == {"before": 3, "after": 3}
    assert eight.comparison is family.analyses[0].comparison  # the member's own verdict


def test_members_of_another_question_or_margin_are_not_one_family(families):
    first, second = families["steady"].analyses
    members = families["steady"].members
    wider = dataclasses.replace(second, comparison=dataclasses.replace(second.comparison,
                                                                       margin=0.01))

    with pytest.raises(ValueError, match="must share one question and margin"):
        family_analysis(members, [first, wider])
    with pytest.raises(ValueError, match=r"one analysis per member \(2\), but got 1"):
        family_analysis(members, [first])
    assert family_analysis([Member(8, "steady")], [first]).budgets.steps == ()
