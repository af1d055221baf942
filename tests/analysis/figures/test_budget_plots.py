"""The family's figures, checked by their labels, legends and points."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.figures import budget_plots


def _legend(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_the_difference_and_the_selection_means_are_drawn_against_the_budget(families):
    difference, means = budget_plots.plot_budgets(families["shifting"].budgets)

    assert difference.figure is means.figure
    assert difference.get_ylabel() == "after - before (pp)"
    assert _legend(difference) == ["margin ±0.50 pp", "anytime 95% interval"]
    margins = sorted(line.get_ydata()[0] for line in difference.get_lines()
                     if line.get_linestyle() == "--")
    assert margins == [-0.5, 0.5]
    assert _legend(means) == ["before", "after"]
    assert [list(line.get_xdata()) for line in means.get_lines()] == [[8, 16], [8, 16]]
    assert list(means.get_lines()[0].get_ydata()) == pytest.approx([86.0, 88.0])
    assert [tick.get_text() for tick in means.get_xticklabels()] == ["8", "16"]
    assert means.get_xlabel() == "training budget (epochs, log scale)"


def test_an_unconfirmed_member_is_marked_so(families):
    family = families["steady"].budgets
    provisional = dataclasses.replace(family.results[1], source="search")
    difference, _ = budget_plots.plot_budgets(
        dataclasses.replace(family, results=(family.results[0], provisional)))

    assert [text.get_text() for text in difference.texts] == ["not confirmed"]


def test_the_learning_curves_are_one_panel_per_budget_and_say_which_are_training(families):
    axes = budget_plots.plot_learning_curves(families["shifting"].budgets)

    assert [ax.get_title() for ax in axes] == ["8 epochs", "16 epochs"]
    assert _legend(axes[0]) == ["before, selection, training (n=3)",
                                "before, confirmation, training (n=30)",
                                "after, selection, training (n=3)",
                                "after, confirmation, training (n=30)"]
    assert _legend(axes[1])[0] == "before, selection (n=3)"
    assert [line.get_linestyle() for line in axes[1].get_lines()] == ["--", "-", "--", "-"]
    assert len(axes[1].get_lines()[0].get_xdata()) == 16
