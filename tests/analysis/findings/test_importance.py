from __future__ import annotations

import optuna
import pytest

from analysis.calibration.simulate import synthetic_search_trials
from analysis.findings.importance import (
    PED_ANOVA_MIN_TOP,
    ROUGH_BELOW,
    param_importances,
    ped_anova_quantile,
)

PARAMS = {"bn_position", "learning_rate", "alpha"}


def _study(n_trials: int) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    study.add_trials(synthetic_search_trials(n_trials, effect=0.0, seed=2))
    return study


def test_both_methods_rank_every_parameter_with_a_spread_over_seeds():
    study = _study(40)

    result = param_importances(study, seeds=(0, 1, 2), n_trees=16)
    table = result.table

    assert list(table["method"].unique()) == ["fANOVA", "PED-ANOVA"]
    for method, rows in table.groupby("method"):
        assert set(rows["param"]) == PARAMS, method
        assert rows["mean"].sum() == pytest.approx(1.0, abs=0.05)  # normalized per run
        assert (rows["std"] >= 0).all() and (rows["n_seeds"] == 3).all()
        assert list(rows["mean"]) == sorted(rows["mean"], reverse=True)
    # The synthetic surface is driven by the learning rate and the width, not by placement.
    fanova = table[table["method"] == "fANOVA"].set_index("param")["mean"]
    assert fanova["bn_position"] < min(fanova["learning_rate"], fanova["alpha"])
    assert table.loc[table["method"] == "fANOVA", "std"].max() > 0  # the seeds do differ


def test_importances_only_read_the_study():
    study = _study(20)
    before = study.trials

    param_importances(study, seeds=(0,), n_trees=8)

    assert study.trials == before


def test_too_few_trials_skip_everything_with_a_note():
    result = param_importances(_study(4), seeds=(0,))

    assert result.table.empty and result.target_quantile is None
    assert result.notes[0].startswith("Importance skipped: it needs at least 5 COMPLETE trials")


def test_few_trials_widen_the_ped_anova_quantile_with_a_note():
    result = param_importances(_study(24), seeds=(0,), n_trees=8, target_quantile=0.1)

    assert result.target_quantile is not None and result.target_quantile > 0.1
    assert any("PED-ANOVA uses the top" in note for note in result.notes)


@pytest.mark.parametrize("n_trials", [12, 60])
def test_a_ranking_from_few_complete_trials_is_called_rough(n_trials):
    study = _study(n_trials)
    complete = len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)))

    result = param_importances(study, seeds=(0,), n_trees=8)

    rough = [note for note in result.notes if note.startswith("Rough ranking")]
    assert rough == ([f"Rough ranking: it rests on {complete} COMPLETE trials (pruned trials "
                      f"have no final value); below {ROUGH_BELOW} a few more trials can reorder "
                      f"it. The verdict does not use importance."]
                     if complete < ROUGH_BELOW else [])
    assert (complete < ROUGH_BELOW) == (n_trials == 12)  # both cases are exercised


@pytest.mark.parametrize(
    ("n_trials", "expected"), [(100, 0.25), (12, PED_ANOVA_MIN_TOP / 12), (9, None)]
)
def test_ped_anova_quantile_keeps_enough_good_trials(n_trials, expected):
    assert ped_anova_quantile(n_trials, 0.25) == expected


def test_ped_anova_reads_the_good_trials_of_a_study_that_minimises_as_its_lowest():
    maximised = _study(40)
    minimised = optuna.create_study(direction="minimize")
    minimised.add_trials([  # the same trials, their values negated
        optuna.trial.create_trial(value=None if trial.value is None else -trial.value,
                                  params=trial.params, distributions=trial.distributions,
                                  state=trial.state) for trial in maximised.trials])

    ped_anova = [param_importances(study, seeds=(0,), n_trees=8).table.query(
        "method == 'PED-ANOVA'").set_index("param")["mean"] for study in (maximised, minimised)]

    assert ped_anova[1].to_dict() == pytest.approx(ped_anova[0].to_dict())
