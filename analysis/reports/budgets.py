"""budgets.md: one question at each training budget of a family, side by side.

Pure text from a `FamilyAnalysis`: the sentence saying whether the verdict depends on the
budget, a table of the members' verdicts, intervals and picks' selection means, the plateau
reading, the figures (`analysis.figures.budget_plots`) and the reruns that did not run from a
clean commit. Each member's own report.md lies in its folder (`member_folder`). budgets.json
(`budget_record`) holds the same numbers for other programs, as verdict.json does for a study.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis.family_analysis import FamilyAnalysis
from analysis.findings.budgets import (
    PLATEAU_RISE,
    BudgetFamily,
    BudgetResult,
    PlateauStep,
    dependence,
    plateau_at,
)
from analysis.findings.learning_curves import TRAINING
from analysis.reports.markdown import DIRTY_INTRO, dirty_rerun_lines, markdown_table
from analysis.reports.verdict_text import (
    finite_or_none,
    interval_label,
    interval_text,
    pp,
    sizes_text,
)
from study.engine.budgets import member_folder

__all__ = ["BUDGET_FIGURES", "budget_record", "budgets_markdown", "dependence_sentence",
           "pending_line", "plateau_lines"]

# The family's figures, written beside budgets.md (names no per-study figure has).
BUDGET_FIGURES = {"budgets": "budgets.png", "learning_curves": "budget_learning_curves.png"}


def _listed(budgets: Sequence[int]) -> str:
    """(8,) -> "8"; (8, 16) -> "8 and 16"; (8, 16, 32) -> "8, 16 and 32"."""
    shown = [str(epochs) for epochs in budgets]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _verdicts_by_budget(results: Sequence[BudgetResult], family: BudgetFamily) -> str:
    """"'matters' at 8 epochs, 'equivalent' at 16": each verdict with its budgets, naming the
    leader where one verdict word stands for two leaders."""
    groups: dict[tuple[str, bool], list[BudgetResult]] = {}
    for result in results:
        c = result.comparison
        ahead = c.verdict in ("matters", "nonzero") and c.difference > 0
        groups.setdefault((c.verdict, ahead), []).append(result)
    words = [verdict for verdict, _ in groups]
    reference, other = family.question.values
    parts = []
    for index, ((verdict, ahead), members) in enumerate(groups.items()):
        leader = f" ({other if ahead else reference} ahead)" if words.count(verdict) > 1 else ""
        unit = " epochs" if index == 0 else ""
        parts.append(f"'{verdict}'{leader} at {_listed([r.epochs for r in members])}{unit}")
    return ", ".join(parts)


def dependence_sentence(family: BudgetFamily) -> str:
    """One sentence: whether the confirmed members' verdict depends on the budget."""
    confirmed = [result for result in family.results if result.confirmed]
    reading = dependence(family.results)
    if reading == "too few":
        if not confirmed:
            return ("Whether the verdict depends on the budget is not known yet: no member is "
                    "confirmed (every verdict is provisional, from its search).")
        only = confirmed[0]
        return (f"Whether the verdict depends on the budget is not known yet: only the "
                f"{only.epochs}-epoch member is confirmed ('{only.comparison.verdict}'); the "
                "others' verdicts are provisional, from their searches.")
    shown = _verdicts_by_budget(confirmed, family)
    return {"same": f"The verdict does not depend on the budget: {shown}.",
            "depends": f"The verdict depends on the budget: {shown}.",
            "unsettled": (f"Whether the verdict depends on the budget is not settled yet: "
                          f"{shown}.")}[reading]


def _mean(result: BudgetResult, value: object) -> str:
    if result.selection_means is None or value not in result.selection_means:
        return "no selection"
    running = "" if result.selection_finished else ", selection running"
    return (f"{100 * result.selection_means[value]:.2f}% "
            f"({result.selection_seeds[value]} seeds{running})")


def _sizes(result: BudgetResult) -> str:
    c = result.comparison
    if not result.confirmed:
        return f"top {c.n_before} trials each"
    return str(c.n_before) if c.paired else f"{c.n_before} + {c.n_after} (unpaired)"


def budget_table(family: BudgetFamily) -> pd.DataFrame:
    """One row per member: epochs, verdict, difference and interval, n pairs, selection means."""
    question = family.question
    rows = []
    for result in family.results:
        c = result.comparison
        rows.append({
            "epochs": result.epochs,
            "study": f"`{result.study_name}`",
            "verdict": c.verdict if result.confirmed else f"{c.verdict} (provisional, search)",
            f"{question.difference_label(question.others[0])}": f"{pp(c.difference)} pp",
            "interval": f"{interval_text(c.ci_low, c.ci_high, sizes_text(c))} "
                        f"({interval_label(c)})",
            "n pairs": _sizes(result),
            **{f"selection mean, {value}": _mean(result, value) for value in question.values},
        })
    return pd.DataFrame(rows)


def _step_line(step: PlateauStep, question_values: Sequence[object]) -> str:
    head = f"- {step.shorter} → {step.longer} epochs (×{step.longer / step.shorter:.3g})"
    if step.rises is None:
        return f"{head}: not known (a member has no finished selection)."
    rises = ", ".join(f"{value} {pp(step.rises[value])} pp" for value in question_values
                      if value in step.rises)
    if not step.doubling:
        return f"{head}: {rises}; less than a doubling, so the plateau rule does not apply."
    state = (f"flat (both under +{100 * PLATEAU_RISE:.2f} pp)" if step.flat
             else f"still rising (by +{100 * PLATEAU_RISE:.2f} pp or more)")
    return f"{head}: {rises}: {state}."


def plateau_lines(family: BudgetFamily) -> list[str]:
    """The plateau reading, then one line per consecutive pair of budgets."""
    steps = family.steps
    at = plateau_at(steps)
    rule = f"{100 * PLATEAU_RISE:.2f} pp"
    if at is not None:
        step = next(step for step in steps if step.shorter == at)
        reading = (f"The plateau is reached at {at} epochs: doubling to {step.longer} raised "
                   f"both picks' selection means by less than {rule}.")
    else:
        reading = (f"No plateau is shown yet: no doubling of the budget raised both picks' "
                   f"selection means by less than {rule}.")
    return [reading, "", *(_step_line(step, family.question.values) for step in steps)]


def _curve_note(family: BudgetFamily) -> str:
    """Which curves show training accuracy, for want of a validation curve."""
    training = [result.epochs for result in family.results
                if any(curve.metric == TRAINING for curve in result.curves)]
    if not training:
        return "Every curve is validation accuracy."
    return (f"At {_listed(training)} epochs some reruns were stored before validation was scored "
            "every epoch: their curves (labelled 'training') show training accuracy instead.")


def pending_line(analysis: FamilyAnalysis) -> str:
    """The longer members left out for now, each with why."""
    parts = [f"{member.epochs} epochs (`{member.study_name}`: {reason.rstrip('.')})"
             for member, reason in analysis.pending]
    return f"Not analysed yet: {'; '.join(parts)}."


def _report_paths(analysis: FamilyAnalysis) -> list[str]:
    """Each member's report.md, relative to budgets.md."""
    folders = [member_folder(member.epochs, first=index == 0)
               for index, member in enumerate(analysis.members)]
    return [f"{folder}/report.md" if folder else "report.md" for folder in folders]


def budgets_markdown(analysis: FamilyAnalysis) -> str:
    """The whole budgets.md of a family.

    Args:
        analysis: The family, each member analysed.

    Returns:
        Markdown text; its figures are BUDGET_FIGURES, beside it.
    """
    family = analysis.budgets
    reports = ", ".join(f"{member.epochs} epochs: [{path}]({path})"
                        for member, path in zip(analysis.members, _report_paths(analysis),
                                                strict=True))
    lines = [
        f"# Does `{family.question.param}` matter at every training budget? Family "
        f"`{family.family}`",
        "",
        f"**{dependence_sentence(family)}**",
        "",
        "Each member is the study at one budget, with its own search (a longer one warm-started "
        "from the shorter's best trials), selection and, where run, paired confirmation, decided "
        f"by the same rule with a margin of ±{100 * family.margin:.2f} pp; only the confirmed "
        f"verdicts are compared. Each member's own report: {reports}.",
        "",
        "## The verdict at each budget",
        "",
        markdown_table(budget_table(family)),
        "",
        *([pending_line(analysis), ""] if analysis.pending else []),
        "## Where the picks stop improving",
        "",
        *plateau_lines(family),
        "",
        f"![budgets]({BUDGET_FIGURES['budgets']})",
        "",
        "The figure shows, above, each confirmed member's difference with the interval its "
        "verdict was decided on and the margin dashed; below, each value's pick's mean "
        "validation accuracy over its selection reruns, by budget.",
        "",
        "## Learning curves",
        "",
        f"![learning curves]({BUDGET_FIGURES['learning_curves']})",
        "",
        "The figure shows each value's pick's accuracy per epoch at each budget, averaged over "
        "its selection reruns (dashed) and its confirmation reruns (solid). A flat tail within "
        "one run says little: the cosine decay to zero flattens every run's last epochs, so "
        f"the plateau is read across budgets, above. {_curve_note(family)}",
        "",
        "## Reruns not from a clean commit",
        "",
    ]
    dirty = [(member, found) for member, found in zip(
        analysis.members, (a.dirty_reruns for a in analysis.analyses), strict=True) if found]
    if not dirty:
        lines.append("None: every selection and confirmation rerun of the family ran from a "
                     "clean commit.")
    else:
        lines += [DIRTY_INTRO, ""]
        for member, found in dirty:
            lines += [f"{member.epochs} epochs:", "", *dirty_rerun_lines(found), ""]
    return "\n".join(lines).rstrip() + "\n"


def _str_keys(values: dict[object, Any] | None) -> dict[str, Any] | None:
    """JSON keys are strings: the values of the question, as `str`."""
    return None if values is None else {str(value): found for value, found in values.items()}


def budget_record(analysis: FamilyAnalysis) -> dict[str, Any]:
    """The content of budgets.json: the family's numbers as budgets.md shows them.

    Args:
        analysis: The family, each member analysed.

    Returns:
        A JSON-serializable dict: the sentence on the budget, one entry per member (verdict,
        difference and interval as fractions, sizes, the picks' selection means) and the
        plateau reading with each step's rises.
    """
    family = analysis.budgets
    question = family.question
    members = []
    for result, path in zip(family.results, _report_paths(analysis), strict=True):
        c = result.comparison
        members.append({
            "epochs": result.epochs, "study_name": result.study_name, "source": result.source,
            "provisional": not result.confirmed, "verdict": c.verdict,
            "difference": c.difference, "ci_low": finite_or_none(c.ci_low),
            "ci_high": finite_or_none(c.ci_high), "interval": c.interval,
            "interval_label": interval_label(c), "paired": c.paired,
            "n_per_position": {str(question.reference): c.n_before,
                               str(question.others[0]): c.n_after},
            "selection_means": _str_keys(result.selection_means),
            "selection_seeds": _str_keys(result.selection_seeds),
            "selection_finished": result.selection_finished, "report": path})
    return {
        "family": family.family,
        "question": {"param": question.param, "reference": question.reference,
                     "compared": question.others[0]},
        "margin": family.margin,
        "dependence": dependence(family.results),
        "sentence": dependence_sentence(family),
        "members": members,
        "pending": [{"epochs": member.epochs, "study_name": member.study_name,
                     "reason": reason} for member, reason in analysis.pending],
        "plateau": {"at": plateau_at(family.steps), "rise_rule": PLATEAU_RISE,
                    "reading": plateau_lines(family)[0],
                    "steps": [{"shorter": step.shorter, "longer": step.longer,
                               "rises": _str_keys(step.rises), "doubling": step.doubling,
                               "flat": step.flat} for step in family.steps]},
    }
