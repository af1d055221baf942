from __future__ import annotations

import math

import optuna
import pandas as pd
import pytest

from analysis.calibration.simulate import write_synthetic_study
from analysis.reading.studies import AnalysisError
from analysis.study_analysis import analyze, confirm_runs, search_top_trials
from study.storage.question import DEFAULT_QUESTION


def _frame(n_before: int, n_after: int) -> pd.DataFrame:
    rows = [("before", 0.80 + 0.01 * i) for i in range(n_before)]
    rows += [("after", 0.70 + 0.01 * i) for i in range(n_after)]
    return pd.DataFrame(
        {
            "number": range(len(rows)),
            "state": "COMPLETE",
            "value": [value for _, value in rows],
            "bn_position": [placement for placement, _ in rows],
        }
    )


@pytest.mark.parametrize(("n_before", "n_after", "k"), [(2, 9, 2), (12, 9, 2), (16, 20, 4)])
def test_top_k_is_a_quarter_of_the_smaller_placement_and_at_least_two(n_before, n_after, k):
    top = search_top_trials(_frame(n_before, n_after), DEFAULT_QUESTION)

    assert len(top["before"]) == len(top["after"]) == k
    assert list(top["before"]["value"]) == sorted(top["before"]["value"], reverse=True)
    assert top["before"]["value"].iloc[0] == pytest.approx(0.80 + 0.01 * (n_before - 1))


def test_fewer_than_two_complete_trials_per_placement_is_an_error():
    with pytest.raises(
        AnalysisError, match="at least 2 COMPLETE .* but the study has before: 5, after: 1"
    ):
        search_top_trials(_frame(5, 1), DEFAULT_QUESTION)


def test_reruns_need_two_complete_per_placement():
    confirm = pd.DataFrame(
        {
            "number": [0, 1, 2, 3],
            "state": ["COMPLETE", "COMPLETE", "COMPLETE", "FAIL"],
            "value": [0.9, 0.91, 0.92, math.nan],
            "bn_position": ["before", "before", "after", "after"],
        }
    )

    runs, reason = confirm_runs(confirm, question=DEFAULT_QUESTION)
    assert runs is None and "(before: 2, after: 1; at least 2 per value" in reason
    assert confirm_runs(None, question=DEFAULT_QUESTION) == (None, "")
    runs, reason = confirm_runs(confirm.assign(state="COMPLETE", value=0.9),
                                question=DEFAULT_QUESTION)
    assert reason == "" and len(runs["after"]) == 2


def test_a_confirmation_without_a_finished_rerun_leaves_the_verdict_to_the_search():
    # As a long run's snapshot holds it minutes after the confirmation started: the study
    # exists, its first rerun not yet stored (the table then has no parameter columns).
    storage = optuna.storages.InMemoryStorage()
    write_synthetic_study(storage, "s", effect=0.0, n_trials=24, seed=1)
    optuna.create_study(storage=storage, study_name="s/confirm", direction="maximize")
    empty = pd.DataFrame({"number": [], "state": [], "value": []})

    for paired in (False, True):
        runs, reason = confirm_runs(empty, paired=paired, question=DEFAULT_QUESTION)
        assert runs is None and "(before: 0, after: 0; at least 2 per value" in reason
    analysis = analyze(storage, "s", importance_seeds=(0,), n_trees=8)
    assert analysis.source == "search"


def test_analyze_an_in_memory_study():
    storage = optuna.storages.InMemoryStorage()
    write_synthetic_study(storage, "s", effect=0.0, n_trials=24, n_confirm_seeds=3, seed=1)

    analysis = analyze(storage, "s", importance_seeds=(0,), n_trees=8)

    assert analysis.source == "confirm" and analysis.comparison.n_before == 3
    assert analysis.axis_params == ("learning_rate",)
    assert [curve.placement for curve in analysis.curves] == ["before", "after"]
    assert set(analysis.isolation["group"]) == {"all", "0.35", "0.5", "0.75", "1.0"}
    assert analysis.divergence.n_trials == 24
