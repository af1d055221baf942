from __future__ import annotations

import dataclasses
import importlib
import inspect

import pytest
from optuna.importance import PedAnovaImportanceEvaluator

from analysis.reports.markdown import report_markdown
from analysis.reports.notes import DASHBOARD_PED_ANOVA_QUANTILE, dashboard_note, importance_note
from analysis.reports.verdict_text import verdict_sentence
from analysis.reports.writer import default_out_dir, safe_name


def test_markdown_starts_with_the_verdict_and_the_note_is_short(analysis):
    text = report_markdown(analysis, {"learning_rate": "learning_rate.png"})
    note = dashboard_note(analysis, "reports/s/report.md")

    assert text.splitlines()[0] == "# Does `bn_position` matter once the rest is tuned? Study `s`"
    assert text.splitlines()[2] == f"**{verdict_sentence(analysis)}**"
    assert "![learning_rate](learning_rate.png)" in text
    assert verdict_sentence(analysis) in note and "reports/s/report.md" in note
    assert len(note) < len(text) / 3


def test_an_isolation_cell_without_a_complete_trial_reads_as_such_not_nan(analysis):
    isolation = analysis.isolation.copy()
    isolation.loc[0, ["best_value", "best_trial", "n_complete"]] = [float("nan"), -1, 0]
    changed = dataclasses.replace(analysis, isolation=isolation)
    text = report_markdown(changed, {})

    group, placement = isolation.loc[0, ["group", "bn_position"]]
    assert f"| {group} | {placement} | none complete | none complete | 0 |" in text
    assert "| nan |" not in text and "| -1 |" not in text


def test_a_confirmed_verdict_names_the_search_trials_its_reruns_retrain(analysis):
    trials = analysis.loaded.trials.set_index("number")
    text = report_markdown(analysis, {})

    for placement in ("before", "after"):
        (number,) = analysis.compared[placement]["source_trial"].unique()
        row = trials.loc[number]
        assert row["bn_position"] == placement
        assert (f"- {placement}: search trial {number} (learning_rate="
                f"{row['learning_rate']:.4g} alpha={row['alpha']:.4g})") in text


def test_the_study_section_says_which_failed_trials_were_trained_again(analysis):
    frame = analysis.loaded.trials.copy()
    frame.loc[[0, 1], "state"] = "FAIL"
    frame.loc[2, "retry_of"] = 0  # trial 0 stopped and came back as trial 2; trial 1 did not
    loaded = dataclasses.replace(analysis.loaded, trials=frame)

    text = report_markdown(dataclasses.replace(analysis, loaded=loaded), {})

    assert "trained again with the same parameters: 0 as 2." in text
    others = frame.loc[(frame["state"] == "FAIL") & (frame["number"] != 0), "number"].tolist()
    assert others[0] == 1
    listed = ", ".join(map(str, others))
    not_again = "FAIL trials not trained again (an error in the trial, or retries used up)"
    assert f"{not_again}: {listed}." in text


def test_reruns_not_from_a_clean_commit_are_listed_with_their_count_and_numbers(analysis):
    # The fixture's reruns record no code version: nothing says they came from a commit.
    text = report_markdown(analysis, {})

    section = text.split("## Reruns not from a clean commit\n\n", 1)[1].split("\n## ", 1)[0]
    assert section.splitlines()[2] == ("- `s/confirm`: 8 of 8 reruns (trials 0-7); code "
                                       "versions not recorded (8)")
    clean = report_markdown(dataclasses.replace(analysis, dirty_reruns=()), {})
    assert "not from a clean commit" not in clean


def test_note_says_which_importance_the_dashboard_shows_and_which_the_report_uses(analysis):
    note = dashboard_note(analysis, "reports/s/report.md")
    importance = analysis.importance
    fanova = importance.table[importance.table["method"] == "fANOVA"]
    fanova_only = dataclasses.replace(importance, target_quantile=None, table=fanova)
    none = dataclasses.replace(importance, target_quantile=None, table=importance.table.iloc[0:0])

    assert "the dashboard's panel shows PED-ANOVA (its top 10% of COMPLETE trials" in note
    quantile = f"{importance.target_quantile:.0%}"
    assert (f"the report uses fANOVA over all COMPLETE trials and PED-ANOVA among the top "
            f"{quantile}, each averaged over seeds, so the rankings can differ.") in note
    assert "`bn_position` ranks" in note
    fanova_note = importance_note(dataclasses.replace(analysis, importance=fanova_only))
    assert "the report uses fANOVA over all COMPLETE trials, each" in fanova_note
    assert "the report computed no importance" in importance_note(
        dataclasses.replace(analysis, importance=none))


def test_the_note_repeats_that_a_ranking_from_few_trials_is_rough(analysis):
    rough = "Rough ranking: it rests on 6 COMPLETE trials (and so on)."
    thin = dataclasses.replace(analysis.importance, notes=(*analysis.importance.notes, rough))

    assert rough not in importance_note(analysis)
    assert importance_note(dataclasses.replace(analysis, importance=thin)).endswith(f" {rough}")


def test_the_dashboard_panel_is_ped_anova_at_optunas_default_quantile():
    # The note's claim about optuna-dashboard, checked against the installed version.
    source = inspect.getsource(importlib.import_module("optuna_dashboard._importance"))
    default = inspect.signature(PedAnovaImportanceEvaluator).parameters["target_quantile"].default

    assert "evaluator=PedAnovaImportanceEvaluator()," in source
    assert default == DASHBOARD_PED_ANOVA_QUANTILE


@pytest.mark.parametrize(
    ("name", "expected"),
    [("bn/placement", "bn_placement"), ("a b/c:d", "a_b_c_d"), ("../..", "study")],
)
def test_safe_names_for_folders(name, expected):
    assert safe_name(name) == expected
    assert default_out_dir(name).parts == ("reports", expected)
