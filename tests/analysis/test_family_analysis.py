"""A family analysed member by member, then side by side."""

from __future__ import annotations

import dataclasses

import optuna
import pytest

from analysis.family_analysis import family_analysis
from analysis.findings.budgets import plateau_steps
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
    assert eight.selection_finished and sixteen.selection_finished
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


def test_a_longer_selection_short_of_its_planned_seeds_is_read_as_still_running():
    from analysis.calibration.family import SyntheticMember, write_synthetic_family
    from analysis.family_analysis import analyze_family
    from study.storage.contract import CONFIG_ATTR

    storage = optuna.storages.InMemoryStorage()
    write_synthetic_family(storage, "steady", (SyntheticMember(8, -0.02, (0.86, 0.85), pairs=30),
                                               SyntheticMember(16, -0.02, (0.862, 0.852))))
    select = optuna.load_study(study_name="steady/epochs-16/select", storage=storage)
    record = select.user_attrs[CONFIG_ATTR]
    select.set_user_attr(CONFIG_ATTR, record | {"seeds": int(record["seeds"]) + 1})

    eight, sixteen = analyze_family(storage, "steady", importance_seeds=(0,),
                                    n_trees=8).budgets.results

    assert eight.selection_finished and not sixteen.selection_finished
    assert sixteen.selection_means is not None  # still shown, with its seeds
    assert [step.rises for step in plateau_steps([eight, sixteen])] == [None]
