from __future__ import annotations

import optuna
import pytest
from matplotlib.axes import Axes

from analysis.calibration.simulate import write_synthetic_study
from analysis.figures import plots
from analysis.findings.expected_max import placement_curves
from analysis.findings.importance import param_importances
from analysis.findings.isolation import isolation_table
from analysis.reading.objective import Objective
from analysis.reading.studies import load_studies
from analysis.study_analysis import decide
from study.storage.question import DEFAULT_QUESTION


@pytest.fixture(scope="module")
def loaded():
    storage = optuna.storages.InMemoryStorage()
    write_synthetic_study(storage, "s", effect=0.01, n_trials=30, n_confirm_seeds=4, seed=7)
    return load_studies(storage, "s")


def _legend(ax: Axes) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_importance_plot_has_a_bar_per_method_and_parameter(loaded):
    table = param_importances(loaded.study, seeds=(0, 1), n_trees=8).table

    ax = plots.plot_importance(table)

    assert _legend(ax) == ["fANOVA (± std over 2 seeds)", "PED-ANOVA (± std over 2 seeds)"]
    assert {tick.get_text() for tick in ax.get_yticklabels()} == set(loaded.param_names)
    assert ax.get_xlabel().startswith("importance")


def test_importance_plot_of_an_empty_table_says_why(loaded):
    table = param_importances(loaded.study, seeds=(0,)).table.iloc[0:0]

    ax = plots.plot_importance(table)

    assert ax.get_legend() is None
    assert any("too few COMPLETE trials" in text.get_text() for text in ax.texts)


def test_isolation_plot(loaded):
    ax = plots.plot_isolation(isolation_table(loaded.trials, question=DEFAULT_QUESTION),
                              question=DEFAULT_QUESTION)

    assert (
        _legend(ax) == ["before", "after"]
        and ax.get_legend().get_title().get_text() == "bn_position"
    )
    assert [t.get_text() for t in ax.get_xticklabels()] == ["all", "0.35", "0.5", "0.75", "1.0"]
    assert ax.get_ylabel() == "best validation accuracy"


def test_expected_max_plot_has_a_band_per_placement(loaded):
    ax = plots.plot_expected_max(placement_curves(loaded.trials, DEFAULT_QUESTION),
                                 question=DEFAULT_QUESTION)

    assert _legend(ax) == ["before", "after"]
    assert len(ax.collections) == 2  # the ± std bands
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "expected best validation accuracy"


def test_expected_max_plot_labels_whole_trial_counts_from_one(loaded):
    curves = placement_curves(loaded.trials, DEFAULT_QUESTION)
    ax = plots.plot_expected_max(curves, question=DEFAULT_QUESTION)
    ax.figure.canvas.draw()

    largest = max(max(curve.budgets) for curve in curves)
    labels = [t.get_text() for t in ax.get_xticklabels(which="both") if t.get_text()]
    assert ax.get_xlim() == (1, largest)
    assert labels and all(label.isdigit() and 1 <= int(label) <= largest for label in labels)
    assert labels[0] == "1"


def test_axis_plot_is_log_scaled_and_marks_states(loaded):
    ax = plots.plot_axis(loaded.trials, "learning_rate", loaded.distributions["learning_rate"],
                         question=DEFAULT_QUESTION)

    assert ax.get_xscale() == "log" and ax.get_xlabel() == "learning_rate (log scale)"
    frame = loaded.trials
    shown = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}
    pairs = zip(frame["bn_position"], frame["state"], strict=True)
    expected = {f"{placement}, {shown[state]}" for placement, state in pairs}
    assert set(_legend(ax)) == expected
    assert {"failed", "pruned"} <= {label.split(", ")[1] for label in expected}  # all kinds


def test_comparison_plot_names_the_difference(loaded, tmp_path):
    decision = decide(loaded)

    ax = plots.plot_comparison(decision.compared, decision.comparison, decision.source,
                               question=DEFAULT_QUESTION)
    path = plots.save(ax, tmp_path / "verdict.png")

    assert ax.get_ylabel() == "test accuracy of reruns"
    assert ax.get_title().startswith("after - before = +")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_values_of_another_study_are_labelled_in_their_units_and_direction(loaded):
    decision = decide(loaded)
    seconds = Objective("latency", lower_is_better=True, units="s")

    ax = plots.plot_comparison(decision.compared, decision.comparison, "search",
                               question=DEFAULT_QUESTION, objective=seconds)
    table = isolation_table(loaded.trials, None, question=DEFAULT_QUESTION)
    isolation = plots.plot_isolation(table, question=DEFAULT_QUESTION, objective=seconds)

    assert ax.get_ylabel() == "latency (lower is better), top-k trials"
    assert " s,\n" in ax.get_title() and "pp" not in ax.get_title()
    assert isolation.get_ylabel() == "best latency (lower is better)"
    assert isolation.get_xlabel() == ""  # one group: no width multiplier to name
