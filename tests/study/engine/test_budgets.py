"""A family of training budgets: the checks of a budget list, names, and the warm start."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from study.config import preset
from study.engine.budgets import (
    WARM_START_ATTR,
    budget_of,
    family_members,
    member_folder,
    parse_budget_list,
    plan_family,
    warm_start,
)
from study.errors import ConfigError

CONFIG = preset("smoke", study_name="F", epochs=8)


def test_the_first_budget_keeps_the_name_and_longer_ones_are_named_by_their_epochs():
    members = plan_family(CONFIG, (8, 16, 32), trials=(48, 12, 8), confirm=(16,))

    assert [(m.epochs, m.study_name, m.n_trials, m.confirm) for m in members] == [
        (8, "F", 48, False), (16, "F/epochs-16", 12, True), (32, "F/epochs-32", 8, False)]
    assert budget_of("F/epochs-16") == ("F", 16) and budget_of("F") == ("F", None)
    assert budget_of("F/epochs-016") == ("F/epochs-016", None)
    assert family_members(["F", "F/epochs-16", "F/select", "G/epochs-16", "F/epochs-32"],
                          "F") == {None: "F", 16: "F/epochs-16", 32: "F/epochs-32"}


@pytest.mark.parametrize(("budgets", "message"), [
    ((8, 8), "`budgets` must increase (each member trains longer than the one before, which "
             "warm-starts it), but got 8 before 8 in 8,8."),
    ((16, 8), "`budgets` must increase (each member trains longer than the one before, which "
              "warm-starts it), but got 16 before 8 in 16,8."),
    ((0, 8), "`budgets` must be epochs between 1 and 10,000, but got 0."),
    ((2, 8), "`budgets` must be longer than 2 epochs, the first epoch the median pruner judges "
             "(a shorter search would never be pruned), but got 2; pass --pruner none for "
             "shorter budgets."),
    ((), "`budgets` must list at least one number of epochs, but got none."),
])
def test_a_wrong_budget_list_is_one_line_naming_the_rule_and_the_value(budgets, message):
    with pytest.raises(ConfigError) as error:
        plan_family(CONFIG, budgets)
    assert str(error.value) == message


def test_wrong_trial_counts_confirmed_budgets_and_list_syntax_are_refused():
    with pytest.raises(ConfigError, match=r"one count per budget \(2\), but got 1: 4"):
        plan_family(CONFIG, (8, 16), trials=(4,))
    with pytest.raises(ConfigError, match="must be positive, but got 0"):
        plan_family(CONFIG, (8, 16), trials=(4, 0))
    with pytest.raises(ConfigError, match=r"must be budgets of the family \(8,16\), but got 4"):
        plan_family(CONFIG, (8, 16), confirm=(4,))
    with pytest.raises(ConfigError, match="whole numbers separated by commas"):
        parse_budget_list("8,,16", "budgets")
    assert parse_budget_list(" 8, 16 ,32", "budgets") == (8, 16, 32)
    assert plan_family(preset("smoke", pruner="none"), (1, 2))[1].epochs == 2
    assert plan_family(preset("smoke", epochs=1), (1,))[0].epochs == 1  # a plain run


def _space():
    return {"bn_position": CategoricalDistribution(["before", "after"]),
            "learning_rate": FloatDistribution(1e-4, 0.5, log=True)}


def test_the_warm_start_queues_each_values_best_complete_trials_once():
    shorter = optuna.create_study(study_name="F", direction="maximize")
    for position, rate, value, state in (
            ("before", 0.01, 0.80, "COMPLETE"), ("before", 0.02, 0.85, "COMPLETE"),
            ("before", 0.03, 0.95, "PRUNED"), ("after", 0.04, 0.70, "COMPLETE"),
            ("after", 0.05, 0.60, "COMPLETE"), ("after", 0.06, 0.65, "COMPLETE")):
        shorter.add_trial(optuna.trial.create_trial(
            params={"bn_position": position, "learning_rate": rate}, distributions=_space(),
            value=value, state=optuna.trial.TrialState[state],
            intermediate_values={0: value} if state == "PRUNED" else None))
    longer = optuna.create_study(study_name="F/epochs-16", direction="maximize")

    queued = warm_start(longer, shorter, param="bn_position", per_value=2)

    assert queued == [3, 5, 1, 0]  # "after" then "before", best first; the PRUNED one not
    waiting = longer.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert [t.user_attrs[WARM_START_ATTR] for t in waiting] == ["F#3", "F#5", "F#1", "F#0"]
    assert longer.user_attrs[WARM_START_ATTR] == {"study": "F", "trials": [3, 5, 1, 0]}
    trial = longer.ask()  # the first queued configuration comes out of `ask` unchanged
    assert trial.suggest_float("learning_rate", 1e-4, 0.5, log=True) == 0.04
    assert warm_start(longer, shorter, param="bn_position") == []  # started already: no more
    assert len(longer.get_trials()) == 4


def test_member_folders_are_the_first_members_and_epochs_e():
    assert member_folder(8, first=True) == ""
    assert member_folder(16, first=False) == "epochs-16"


def test_two_workers_warm_starting_one_new_search_at_once_leave_each_trial_queued_once(
        tmp_path):
    url = f"sqlite:///{tmp_path}/family.db"
    shorter = optuna.create_study(study_name="F", storage=url, direction="maximize")
    for position, rate, value in (("before", 0.01, 0.80), ("before", 0.02, 0.85),
                                  ("after", 0.04, 0.70)):
        shorter.add_trial(optuna.trial.create_trial(
            params={"bn_position": position, "learning_rate": rate}, distributions=_space(),
            value=value))
    optuna.create_study(study_name="F/epochs-16", storage=url, direction="maximize")
    first, second = (optuna.load_study(study_name="F/epochs-16", storage=url)
                     for _ in range(2))
    # The second worker found the search empty just before the first one queued into it.
    looks = []
    real_get_trials = second.get_trials

    def get_trials(*args, **kwargs):  # its first look finds nothing, later ones the storage
        looks.append(args)
        return [] if len(looks) == 1 else real_get_trials(*args, **kwargs)

    second.get_trials = get_trials

    assert warm_start(first, shorter, param="bn_position") == [2, 1, 0]
    assert warm_start(second, shorter, param="bn_position") == [2, 1, 0]

    trials = optuna.load_study(study_name="F/epochs-16", storage=url).get_trials()
    states = [(t.number, t.state.name, t.user_attrs[WARM_START_ATTR]) for t in trials]
    assert states == [(0, "WAITING", "F#2"), (1, "WAITING", "F#1"), (2, "WAITING", "F#0"),
                      (3, "FAIL", "F#2"), (4, "FAIL", "F#1"), (5, "FAIL", "F#0")]
    assert trials[3].user_attrs["failure_reason"].startswith(
        "a second warm-start copy of F#2 (trial 0 is the one queued)")
