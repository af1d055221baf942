"""The short notes optuna-dashboard shows beside a study: the verdict, what to do next, and
which importance the dashboard's own panel computes (it is not the report's).

Built on the same sentences as report.md (`analysis.reports.markdown`,
`analysis.reports.verdict_text`); `analysis.reports.writer` saves them into the storage.
"""

from __future__ import annotations

from analysis.findings.importance import ROUGH_NOTE_START
from analysis.reports.markdown import rerun_sources, scientific_rank
from analysis.reports.verdict_text import recommendation, verdict_sentence
from analysis.study_analysis import Analysis

# optuna-dashboard's importance panel: `PedAnovaImportanceEvaluator()` at Optuna's default
# target quantile (checked against the installed packages by a test).
DASHBOARD_PED_ANOVA_QUANTILE = 0.1


def dashboard_note(analysis: Analysis, report_path: str) -> str:
    """The short markdown note attached to the search study in optuna-dashboard.

    Args:
        analysis: The analysis.
        report_path: Where the full report was written.

    Returns:
        Markdown text.
    """
    lines = [
        f"## `{analysis.loaded.param}` verdict",
        "",
        f"**{verdict_sentence(analysis)}**",
        "",
        recommendation(analysis),
        "",
    ]
    lines += [f"- Warning: {warning}" for warning in analysis.warnings]
    lines += ["", importance_note(analysis)]
    lines += ["", f"Full report: `{report_path}` (written by `python -m analysis`)."]
    return "\n".join(lines)


def confirm_note(analysis: Analysis, report_path: str) -> str | None:
    """The note for the confirmation study, or None when the verdict does not use reruns.

    The confirmation study holds one configuration per value, so the value and the other
    parameters change together: the dashboard's importance panel and "Best Trial" there
    describe seeds, not hyperparameters, and the note says so beside the verdict.
    """
    if analysis.source != "confirm":
        return None
    lines = [
        f"## Confirmation reruns of `{analysis.study_name}`",
        "",
        "Not a search: each trial retrains one search trial with a new seed and tests it once.",
        "",
        *rerun_sources(analysis),
        f"Here {analysis.loaded.param} and the other parameters change together (one "
        "configuration per value), so this study's Hyperparameter Importance panel cannot tell "
        "them apart, and its Best Trial is the luckiest seed, not a better configuration. "
        f"Importance is read on the search study `{analysis.study_name}`; the verdict compares "
        "the means:",
        "",
        f"**{verdict_sentence(analysis)}**",
        "",
        f"Full report: `{report_path}` (written by `python -m analysis`).",
    ]
    return "\n".join(lines)


def importance_note(analysis: Analysis) -> str:
    """Which importance method the dashboard's panel shows and which the report uses.

    optuna-dashboard computes its "Hyperparameter Importance" panel with Optuna's
    `PedAnovaImportanceEvaluator()` at its defaults, once, on all COMPLETE trials; the report
    averages fANOVA and PED-ANOVA (at its own quantile) over seeds, so the rankings can differ.
    """
    methods = set(analysis.importance.table["method"])
    used = []
    if "fANOVA" in methods:
        used.append("fANOVA over all COMPLETE trials")
    if "PED-ANOVA" in methods and analysis.importance.target_quantile is not None:
        used.append(f"PED-ANOVA among the top {analysis.importance.target_quantile:.0%}")
    dashboard = (
        f"Importance: the dashboard's panel shows PED-ANOVA (its top "
        f"{DASHBOARD_PED_ANOVA_QUANTILE:.0%} of COMPLETE trials against all, computed once)"
    )
    if not used:
        return f"{dashboard}; the report computed no importance (too few COMPLETE trials)."
    rough = [note for note in analysis.importance.notes if note.startswith(ROUGH_NOTE_START)]
    return (
        f"{dashboard}; the report uses {' and '.join(used)}, each averaged over seeds, so the "
        "rankings can differ."
        + scientific_rank(analysis.importance.table, analysis.loaded.param)
        + "".join(f" {note}" for note in rough)
    )
