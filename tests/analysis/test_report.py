from __future__ import annotations

import dataclasses
import importlib
import inspect
import json

import optuna
import pytest
from optuna.importance import PedAnovaImportanceEvaluator

from analysis.pipeline import Analysis, analyze
from analysis.report import (
    DASHBOARD_PED_ANOVA_QUANTILE,
    dashboard_note,
    importance_note,
    recommendation,
    report_markdown,
    verdict_record,
    verdict_sentence,
)
from analysis.simulate import write_synthetic_study
from analysis.verdict import SEEDS_NEEDED_CAP, more_reruns_by_spread
from analysis.writer import default_out_dir, safe_name


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    storage = optuna.storages.InMemoryStorage()
    write_synthetic_study(storage, "s", effect=0.01, n_trials=24, n_confirm_seeds=4, seed=2)
    return analyze(storage, "s", importance_seeds=(0,), n_trees=8)


def _with(analysis: Analysis, **changes) -> Analysis:
    return dataclasses.replace(
        analysis, comparison=dataclasses.replace(analysis.comparison, **changes)
    )


def test_verdict_sentence_in_percentage_points(analysis):
    changed = _with(
        analysis,
        verdict="inconclusive",
        difference=0.0031,
        ci_low=-0.008,
        ci_high=0.0142,
        n_after=5,
    )

    assert verdict_sentence(changed) == (
        "Verdict (from the confirmation reruns): inconclusive - after minus before = +0.31 pp, "
        "95% CI [-0.80, +1.42] pp (n = 4 before, 5 after)."
    )
    provisional = dataclasses.replace(analysis, source="search")
    assert verdict_sentence(provisional).startswith("Verdict (provisional, from the search): ")


def test_an_interval_the_data_cannot_bound_is_said_so_not_printed_as_100_pp(analysis):
    unbounded = _with(analysis, verdict="inconclusive", difference=-0.0078, ci_low=-1.0,
                      ci_high=1.0, n_before=2, n_after=2)

    assert verdict_sentence(unbounded) == (
        "Verdict (from the confirmation reruns): inconclusive - after minus before = -0.78 pp, "
        "95% CI not yet bounded (n = 2 per placement).")
    assert "100.00" not in report_markdown(unbounded, "sqlite:///x.db", {})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"verdict": "matters", "difference": -0.012},
            "BN before the activation is better by 1.20 pp",
        ),
        ({"verdict": "equivalent"}, "makes no practical difference"),
        ({"verdict": "inconclusive", "seeds_needed": 23}, "About 23 seeds per placement"),
        ({"verdict": "inconclusive", "seeds_needed": SEEDS_NEEDED_CAP + 1}, "would not settle it"),
    ],
)
def test_recommendation_follows_the_verdict(analysis, changes, expected):
    assert expected in recommendation(_with(analysis, **changes), "sqlite:///x.db")


def test_an_inconclusive_recommendation_offers_reruns_by_spread_where_they_save(analysis):
    unequal = _with(analysis, verdict="inconclusive", difference=0.0, std_before=0.027,
                    std_after=0.005, n_before=10, n_after=10, seeds_needed=188)
    more = more_reruns_by_spread(unequal.comparison)
    most = max(10 + more["before"], 10 + more["after"])

    assert recommendation(unequal, "sqlite:///x.db").endswith(
        f" Allocated by spread, fewer would: {more['before']} more of BN before and "
        f"{more['after']} more of BN after (`python -m study.confirm --storage sqlite:///x.db "
        f"--study-name s --seeds {most} --allocation by-spread`).")
    alike = _with(analysis, verdict="inconclusive", difference=0.0, std_before=0.01,
                  std_after=0.01, n_before=10, n_after=10, seeds_needed=51)
    assert "by spread" not in recommendation(alike, "sqlite:///x.db")


def test_provisional_recommendation_gives_the_confirm_command(analysis):
    text = recommendation(dataclasses.replace(analysis, source="search"), "sqlite:///x.db")

    assert "`python -m study.confirm --storage sqlite:///x.db --study-name s --seeds 10`" in text


def test_verdict_record_is_json_with_the_contract_keys(analysis, verdict_contract):
    record = json.loads(json.dumps(verdict_record(analysis)))

    assert list(record)[:len(verdict_contract)] == verdict_contract
    assert record["n_per_position"] == {"before": 4, "after": 4}
    assert record["reproduced_search_trials"]["before"] == [
        int(analysis.compared["before"]["source_trial"].iloc[0])
    ]


def test_markdown_starts_with_the_verdict_and_the_note_is_short(analysis):
    text = report_markdown(analysis, "sqlite:///x.db", {"learning_rate": "learning_rate.png"})
    note = dashboard_note(analysis, "sqlite:///x.db", "reports/s/report.md")

    assert text.splitlines()[0] == "# Does BN placement matter? Study `s`"
    assert text.splitlines()[2] == f"**{verdict_sentence(analysis)}**"
    assert "![learning_rate](learning_rate.png)" in text
    assert verdict_sentence(analysis) in note and "reports/s/report.md" in note
    assert len(note) < len(text) / 3


def test_an_isolation_cell_without_a_complete_trial_reads_as_such_not_nan(analysis):
    isolation = analysis.isolation.copy()
    isolation.loc[0, ["best_value", "best_trial", "n_complete"]] = [float("nan"), -1, 0]
    changed = dataclasses.replace(analysis, isolation=isolation)
    text = report_markdown(changed, "sqlite:///x.db", {})

    group, placement = isolation.loc[0, ["group", "bn_position"]]
    assert f"| {group} | {placement} | none complete | none complete | 0 |" in text
    assert "| nan |" not in text and "| -1 |" not in text


def test_a_confirmed_verdict_names_the_search_trials_its_reruns_retrain(analysis):
    trials = analysis.loaded.trials.set_index("number")
    text = report_markdown(analysis, "sqlite:///x.db", {})

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

    text = report_markdown(dataclasses.replace(analysis, loaded=loaded), "sqlite:///x.db", {})

    assert "trained again with the same parameters: 0 as 2." in text
    others = frame.loc[(frame["state"] == "FAIL") & (frame["number"] != 0), "number"].tolist()
    assert others[0] == 1
    listed = ", ".join(map(str, others))
    not_again = "FAIL trials not trained again (an error in the trial, or retries used up)"
    assert f"{not_again}: {listed}." in text


def test_note_says_which_importance_the_dashboard_shows_and_which_the_report_uses(analysis):
    note = dashboard_note(analysis, "sqlite:///x.db", "reports/s/report.md")
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
