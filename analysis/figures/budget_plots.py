"""Drawing a family of training budgets: the verdict's difference and the picks' selection
means against the budget, and the picks' learning curves at each budget.

Like `analysis.figures.plots`, each function takes a computed finding
(`analysis.findings.budgets.BudgetFamily`) and returns the Axes it drew on, on a
`matplotlib.figure.Figure` of its own.
"""

from __future__ import annotations

from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.figures.plots import colors
from analysis.findings.budgets import BudgetFamily
from analysis.findings.learning_curves import TRAINING
from analysis.findings.verdict import UNBOUNDED, describe_interval

__all__ = ["plot_budgets", "plot_learning_curves"]

LINE_STYLES = {"selection": "--", "confirmation": "-"}  # validation reruns dashed, test solid


def _budget_axis(ax: Axes, budgets: list[int]) -> None:
    """A log-2 axis of epochs, ticked at each member's budget (doublings evenly spaced)."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(budgets)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda epochs, _: f"{epochs:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlim(budgets[0] / 1.3, budgets[-1] * 1.3)


def plot_budgets(family: BudgetFamily) -> tuple[Axes, Axes]:
    """The difference with its verdict's interval, and each pick's selection mean, by budget.

    Top: the confirmed members' difference (compared value minus reference, pp) with the
    interval the verdict was decided on, the margin dashed. Bottom: each value's pick's mean
    validation accuracy over its selection reruns.

    Args:
        family: The family's members.

    Returns:
        The two Axes (difference, selection means), on one figure.
    """
    figure = Figure(figsize=(6.4, 6.0), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    question, results = family.question, family.results
    budgets = [result.epochs for result in results]
    confirmed = [result for result in results if result.confirmed]
    for result in confirmed:
        c = result.comparison
        bounded = describe_interval(c.ci_low, c.ci_high) != UNBOUNDED
        # An unbounded interval (clipped at ±100 pp) would flatten every other bar.
        error = [[100 * (c.difference - c.ci_low)], [100 * (c.ci_high - c.difference)]]
        top.errorbar([result.epochs], [100 * c.difference], yerr=error if bounded else None,
                     fmt="o", color="black", capsize=4,
                     label=(f"{c.interval} {100 * c.level:.3g}% interval"
                            if result is confirmed[0] else None))
        if not bounded:
            top.annotate(UNBOUNDED, (result.epochs, 100 * c.difference), fontsize=8,
                         textcoords="offset points", xytext=(0, 8), ha="center")
    for result in results:
        if not result.confirmed:
            top.annotate("not confirmed", (result.epochs, 0), textcoords="offset points",
                         xytext=(0, 8), ha="center", fontsize=8, color="0.4")
    top.axhline(0, color="0.6", lw=1)
    for sign in (-1, 1):
        top.axhline(sign * 100 * family.margin, color="0.4", ls="--", lw=1,
                    label=f"margin ±{100 * family.margin:.2f} pp" if sign > 0 else None)
    top.set_ylabel(f"{question.difference_label(question.others[0])} (pp)")
    top.set_title("The verdict's difference by training budget (confirmed members)")
    top.legend(fontsize=8)
    for value in question.values:
        points = [(result.epochs, 100 * result.selection_means[value]) for result in results
                  if result.selection_means is not None and value in result.selection_means]
        if points:
            bottom.plot(*zip(*points, strict=True), "o-", color=colors(question)[value],
                        label=str(value))
    bottom.set_ylabel("pick's selection mean (validation accuracy, %)")
    bottom.set_xlabel("training budget (epochs, log scale)")
    bottom.set_title("Each value's pick, mean of its selection reruns")
    if bottom.lines:
        bottom.legend(title=question.param, fontsize=8)
    _budget_axis(bottom, budgets)
    return top, bottom


def plot_learning_curves(family: BudgetFamily) -> list[Axes]:
    """Each value's pick's mean accuracy per epoch, one panel per budget.

    Dashed: the pick's selection reruns; solid: its confirmation reruns. Each line's label
    says its metric where it is training accuracy (reruns stored before validation was scored
    every epoch).

    Args:
        family: The family's members.

    Returns:
        One Axes per member, shortest budget first, on one figure.
    """
    results = family.results
    figure = Figure(figsize=(3.2 * len(results) + 1.0, 4.0), layout="constrained")
    axes = list(figure.subplots(1, len(results), sharey=True, squeeze=False)[0])
    for ax, result in zip(axes, results, strict=True):
        for curve in result.curves:
            epochs = range(1, len(curve.mean) + 1)
            metric = ", training" if curve.metric == TRAINING else ""
            ax.plot(epochs, [100 * value for value in curve.mean],
                    LINE_STYLES[curve.reruns_of], color=colors(family.question)[curve.value],
                    label=f"{curve.value}, {curve.reruns_of}{metric} (n={curve.n})")
        ax.set_title(f"{result.epochs} epochs")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        if result.curves:
            ax.legend(fontsize=7, title=family.question.param, title_fontsize=7)
        else:
            ax.text(0.5, 0.5, "no rerun history", ha="center", transform=ax.transAxes)
    axes[0].set_ylabel("accuracy per epoch, %\n(validation; training where the label says)")
    figure.suptitle("Learning curves of each value's pick (mean over its reruns)")
    return axes
