"""Drawing only: each function takes a computed result and returns the Axes it drew on.

Figures are made with `matplotlib.figure.Figure`, not pyplot, so nothing here touches a global
backend or figure list: they render to PNG anywhere and are freed when dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from optuna.distributions import BaseDistribution

from analysis.findings.expected_max import ExpectedMaxCurve
from analysis.findings.verdict import Comparison
from analysis.reading.objective import ACCURACY, Objective
from study.storage.question import Question

PAIR_COLORS = ("tab:blue", "tab:orange")  # the reference, then the value compared with it
METHOD_COLORS = {"fANOVA": "tab:gray", "PED-ANOVA": "tab:green"}
_TRIAL_TICKS = (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000)


def _axes(ax: Axes | None, size: tuple[float, float] = (6.4, 4.0)) -> Axes:
    if ax is not None:
        return ax
    return Figure(figsize=size, layout="constrained").add_subplot()


def save(ax: Axes, path: str | Path) -> Path:
    """Write the figure of `ax` as a PNG.

    Args:
        ax: Axes returned by one of the plot functions.
        path: Target file.

    Returns:
        The path written.
    """
    ax.figure.savefig(path, dpi=120)
    return Path(path)


def plot_importance(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Horizontal bars of importance per parameter and method, with std over seeds as error bars.

    Args:
        table: `ImportanceResult.table` (may be empty).
        ax: Axes to draw on; a new figure if None.

    Returns:
        The Axes.
    """
    params = sorted(
        set(table["param"]), key=lambda p: -table.loc[table["param"] == p, "mean"].max()
    )
    ax = _axes(ax, (6.4, 1.2 + 0.6 * max(len(params), 1)))
    methods = [m for m in METHOD_COLORS if m in set(table["method"])]
    height = 0.8 / max(len(methods), 1)
    positions = np.arange(len(params))
    for index, method in enumerate(methods):
        rows = table[table["method"] == method].set_index("param").reindex(params)
        n_seeds = int(rows["n_seeds"].max())
        ax.barh(
            positions + (index - (len(methods) - 1) / 2) * height,
            rows["mean"].fillna(0.0),
            height=height,
            xerr=rows["std"].fillna(0.0),
            color=METHOD_COLORS[method],
            label=f"{method} (± std over {n_seeds} seeds)",
        )
    ax.set_yticks(positions, params)
    ax.invert_yaxis()  # most important on top
    ax.set_xlabel("importance (normalized to sum to 1 per method)")
    ax.set_title("Hyperparameter importance")
    if methods:
        ax.legend(loc="lower right")
    else:
        ax.text(0.5, 0.5, "too few COMPLETE trials", ha="center", transform=ax.transAxes)
    return ax


def colors(question: Question) -> dict[object, str]:
    """Each of the question's two values' colour: the reference blue, the other orange."""
    return dict(zip(question.values, PAIR_COLORS, strict=True))


def plot_isolation(isolation: pd.DataFrame, ax: Axes | None = None, *,
                   question: Question, objective: Objective = ACCURACY) -> Axes:
    """Best value (validation accuracy) of each placement, overall and per width multiplier.

    Args:
        isolation: Output of `analysis.findings.isolation.isolation_table`.
        ax: Axes to draw on; a new figure if None.
        question: The scientific parameter and its two values compared.
        objective: What the values are, for the axis label.

    Returns:
        The Axes.
    """
    ax = _axes(ax)
    groups = list(dict.fromkeys(isolation["group"]))
    positions = np.arange(len(groups))
    for index, placement in enumerate(question.values):
        rows = isolation[isolation[question.param] == placement].set_index("group").reindex(
            groups)
        x = positions + (index - 0.5) * 0.25
        ax.plot(x, rows["best_value"], "o", ms=8, color=colors(question)[placement],
                label=str(placement))
        for xi, value, n in zip(x, rows["best_value"], rows["n_complete"], strict=True):
            if not math.isnan(value):
                ax.annotate(
                    f"n={n}",
                    (xi, value),
                    textcoords="offset points",
                    xytext=(0, 7),
                    ha="center",
                    fontsize=7,
                )
    if len(groups) > 1:
        ax.axvline(0.5, color="0.8", lw=1)
    ax.set_xticks(positions, groups)
    ax.set_xlabel("width multiplier alpha ('all': every width)" if len(groups) > 1 else "")
    ax.set_ylabel(objective.label("best"))
    ax.set_title(f"Isolation: best trial per {question.param}, nuisance parameters tuned")
    ax.legend(title=question.param)
    ax.margins(y=0.15)
    return ax


def plot_expected_max(curves: Sequence[ExpectedMaxCurve], ax: Axes | None = None, *,
                      question: Question, objective: Objective = ACCURACY) -> Axes:
    """Expected best value against the number of trials, with ± std bands.

    Args:
        curves: One curve per value of the question.
        ax: Axes to draw on; a new figure if None.
        question: The scientific parameter and its two values compared.
        objective: What the values are, for the axis label.

    Returns:
        The Axes.
    """
    ax = _axes(ax)
    for curve in curves:
        color = colors(question).get(curve.placement)
        ax.plot(curve.budgets, curve.mean, color=color, label=str(curve.placement))
        ax.fill_between(
            curve.budgets,
            curve.mean - curve.std,
            curve.mean + curve.std,
            color=color,
            alpha=0.2,
            lw=0,
        )
    ax.set_xscale("log")
    # Whole trial counts from 1 to the largest budget: matplotlib's own log ticks label
    # fractions of a trial (0.9) left of 1 and crowd every minor tick past 10.
    largest = max((int(max(curve.budgets)) for curve in curves if len(curve.budgets)), default=2)
    largest = max(largest, 2)  # a log axis needs a range: 1 to 2 for a single trial
    ax.set_xlim(1, largest)
    ax.set_xticks([n for n in _TRIAL_TICKS if n <= largest])
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda n, _: f"{n:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel("number of trials n (log scale)")
    ax.set_ylabel(objective.label("expected best"))
    ax.set_title("Expected best of n trials (band: ± std of the best)")
    ax.legend(title=question.param)
    return ax


def plot_axis(
    frame: pd.DataFrame, param: str, distribution: BaseDistribution, ax: Axes | None = None,
    *, question: Question, objective: Objective = ACCURACY,
) -> Axes:
    """The value of every trial against one numeric parameter, coloured by placement.

    COMPLETE trials are filled, PRUNED hollow (at the value they were stopped with), FAILED
    ones are crosses along the bottom edge; the dotted lines mark the search range.

    Args:
        frame: A trials table.
        param: Numeric parameter (column of `frame`).
        distribution: Its search-space distribution (range and log scale).
        ax: Axes to draw on; a new figure if None.
        question: The scientific parameter and its two values compared.
        objective: What the values are, for the axis label.

    Returns:
        The Axes.
    """
    ax = _axes(ax)
    styles = {"COMPLETE": {}, "PRUNED": {"facecolors": "none"}}
    color_of = colors(question)
    for placement in question.values:
        own = frame[frame[question.param] == placement]
        for state, style in styles.items():
            rows = own[own["state"] == state]
            if len(rows):
                ax.scatter(
                    rows[param],
                    rows["value"],
                    s=22,
                    edgecolors=color_of[placement],
                    color=color_of[placement],
                    label=f"{placement}, {state.lower()}",
                    **style,
                )
        failed = own[own["state"] == "FAIL"]
        if len(failed):
            ax.scatter(
                failed[param],
                np.zeros(len(failed)),
                marker="x",
                color=color_of[placement],
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                label=f"{placement}, failed",
            )
    if getattr(distribution, "log", False):
        ax.set_xscale("log")
    for bound in (distribution.low, distribution.high):
        ax.axvline(bound, color="0.6", ls=":", lw=1)
    ax.set_xlabel(param + (" (log scale)" if getattr(distribution, "log", False) else ""))
    ax.set_ylabel(objective.label())
    ax.set_title(f"{objective.name[:1].upper() + objective.name[1:]} against {param}")
    ax.legend(fontsize=7, title=question.param, title_fontsize=8)
    return ax


def plot_comparison(
    compared: dict[object, pd.DataFrame], comparison: Comparison, source: str,
    ax: Axes | None = None, *, question: Question, objective: Objective = ACCURACY,
) -> Axes:
    """The values (accuracies) behind the verdict, one column per value, with their means.

    Args:
        compared: Value -> rows with a `value` column (reruns or top search trials).
        comparison: The comparison drawn from them.
        source: "confirm" (test accuracy of reruns) or "search" (validation accuracy).
        ax: Axes to draw on; a new figure if None.
        question: The scientific parameter and its two values compared.
        objective: What the values are, for the labels and the difference's units.

    Returns:
        The Axes.
    """
    ax = _axes(ax, (5.0, 4.0))
    rng = np.random.default_rng(0)  # jitter only, fixed so the picture does not change
    for index, placement in enumerate(question.values):
        values = compared[placement]["value"].to_numpy(float)
        jitter = rng.uniform(-0.08, 0.08, values.size)
        ax.plot(index + jitter, values, "o", color=colors(question)[placement], alpha=0.7,
                label=str(placement))
        ax.hlines(values.mean(), index - 0.2, index + 0.2, color="black", lw=2)
    ax.set_xticks(range(len(question.values)), [str(v) for v in question.values])
    ax.set_xlim(-0.6, len(question.values) - 0.4)
    what = (
        "test accuracy of reruns" if source == "confirm" else f"{objective.label()}, top-k trials"
    )
    ax.set_ylabel(what)
    ax.set_xlabel(question.param)
    # A difference in other units may be long: its interval then goes on a line of its own.
    separator = ", " if objective.fraction else ",\n"
    ax.set_title(
        f"{question.difference_label(question.others[0])} = "
        f"{objective.difference(comparison.difference)}{separator}{comparison.interval} "
        f"{100 * comparison.level:.3g}% CI "
        f"{objective.interval(comparison.ci_low, comparison.ci_high)}",
        fontsize=10,
    )
    return ax
