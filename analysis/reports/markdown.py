"""report.md: the verdict first, then the evidence, each figure with one sentence.

Pure text from an `Analysis`, built on `analysis.reports.verdict_text`; the dashboard's notes
(`analysis.reports.notes`) share its sections on the reruns and on importance, and
`analysis.reports.writer` puts both on disk and in the dashboard.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.findings.expected_max import describe_leaders
from analysis.findings.provenance import DirtyReruns, number_ranges
from analysis.findings.selection_view import SelectionView, selection_frame, selection_intro
from analysis.findings.verdict import Comparison, describe_interval
from analysis.reading.objective import ACCURACY
from analysis.reports.verdict_text import (
    INTERVAL_WHY,
    MEANING,
    interval_label,
    interval_text,
    pp,
    recommendation,
    reproduced_trials,
    sizes_text,
    verdict_sentence,
)
from analysis.study_analysis import Analysis
from study.storage.opener import mask_password
from study.storage.question import Question
from study.tuning.progress import format_params


def markdown_table(frame: pd.DataFrame, floats: str = "{:.4f}") -> str:
    """Render a small DataFrame as a GitHub markdown table."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    lines = [header, "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        cells = [
            floats.format(v) if isinstance(v, float) and math.isfinite(v) else str(v) for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _isolation_shown(isolation: pd.DataFrame) -> pd.DataFrame:
    """The isolation table as a reader wants it: a cell without a COMPLETE trial says so.

    The table itself keeps NaN and -1 there (numbers stay numbers for the CSV and the plot).
    """
    shown = isolation.astype({"best_value": object, "best_trial": object})
    empty = shown["n_complete"] == 0
    shown.loc[empty, ["best_value", "best_trial"]] = "none complete"
    return shown


def rerun_sources(analysis: Analysis) -> list[str]:
    """Which search trial each value's reruns retrain, with its parameters."""
    reproduced = reproduced_trials(analysis)
    if not reproduced:
        return []
    trials = analysis.loaded.trials.set_index("number")
    nuisance = [name for name in analysis.loaded.param_names if name != analysis.loaded.param]
    lines = [f"- {placement}: search trial {number} "
             f"({format_params({name: trials.loc[number, name] for name in nuisance})})"
             for placement, numbers in reproduced.items() for number in numbers
             if number in trials.index]
    return ["Reruns of:", "", *lines, ""]


def _robust_lines(c: Comparison, question: Question) -> list[str]:
    """Median, IQM and P(after > before) with their stratified-bootstrap intervals."""
    reference, other = question.values
    r = c.robust
    if r is None:
        return []
    return [
        "",
        "Seed distributions can be skewed (a few low seeds pull a mean down), so the same "
        "comparison without the mean, with 95% stratified-bootstrap intervals (Agarwal et al. "
        "2021):",
        "",
        f"- median difference: {pp(r.median_difference)} pp "
        f"{describe_interval(r.median_low, r.median_high)}",
        f"- interquartile-mean difference: {pp(r.iqm_difference)} pp "
        f"{describe_interval(r.iqm_low, r.iqm_high)}",
        f"- P({other} > {reference}): {r.prob_after_greater:.2f} [{r.prob_low:.2f}, "
        f"{r.prob_high:.2f}]",
    ]


def _selection_section(view: SelectionView | None) -> list[str]:
    """How each value's configuration was chosen (`analysis.findings.selection_view`)."""
    if view is None:
        return []
    return ["## How each value's configuration was chosen", "", selection_intro(view), "",
            markdown_table(selection_frame(view)), ""]


def _pairing_lines(analysis: Analysis) -> list[str]:
    """How the reruns were paired, how alike the pairs started, and what pairing saved."""
    c = analysis.comparison
    if analysis.source != "confirm":
        return []
    if not c.paired:
        return ["- unpaired reruns: each value's seeds ran independently (intervals from "
                "the two samples)"]
    question = analysis.loaded.question
    r, o = question.values
    before, after = (analysis.compared[p] for p in question.values)
    shared = ""
    if "weights_digest" in before.columns and "weights_digest" in after.columns:
        same = int((before["weights_digest"].to_numpy() == after["weights_digest"].to_numpy())
                   .sum())
        shared = (f"; {same} of {c.n_before} pairs started from the same initial weights "
                  "(digests equal: the widths match)")
    correlation = ("n/a" if c.pair_correlation is None or math.isnan(c.pair_correlation)
                   else f"{c.pair_correlation:+.2f}")
    saved = ("n/a" if c.variance_saved is None or math.isnan(c.variance_saved)
             else f"{100 * c.variance_saved:+.0f}%")
    return [f"- paired by seed: {c.n_before} pairs, each sharing its data order{shared}; "
            f"correlation of the pairs {correlation}; variance of the difference saved by "
            f"pairing {saved} (1 - var({o} - {r}) / (var({o}) + var({r})))"]


def _comparison_section(analysis: Analysis) -> list[str]:
    c, question = analysis.comparison, analysis.loaded.question
    objective = analysis.loaded.objective
    what = (
        "test accuracy of the reruns of each value's pick (seeds vary)"
        if analysis.source == "confirm"
        else f"{objective.name} of the top {c.n_before} COMPLETE trials of each value"
        + ("" if objective == ACCURACY else f" ({objective.better} is better)")
    )
    interval = (
        f"the verdict's interval is {INTERVAL_WHY[c.interval].format(minimum=c.minimum)}"
        if analysis.source == "confirm"
        else "intervals from a permutation test over all COMPLETE trials "
        "(the spread of the top trials alone understates the luck of the search)"
    )
    summary = pd.DataFrame(
        {
            question.param: [str(value) for value in question.values],
            "n": [c.n_before, c.n_after],
            "mean": [c.mean_before, c.mean_after],
            "std": [c.std_before, c.std_after],
        }
    )
    return [
        "## The comparison behind the verdict",
        "",
        f"Compared: {what}; {interval}.",
        "",
        *rerun_sources(analysis),
        markdown_table(summary),
        "",
        f"- difference ({question.difference_label(question.others[0])}): "
        f"{objective.difference(c.difference)}",
        f"- {interval_label(c)} interval (the verdict's): "
        f"{interval_text(c.ci_low, c.ci_high, sizes_text(c), objective)}",
        *([f"- {'paired t' if c.paired else 'Welch'} 95% interval (fixed n, for comparison): "
           f"{interval_text(c.welch_low, c.welch_high, sizes_text(c))} "
           f"(p = {c.welch_p_value:.3g})"] if c.interval == "anytime" else
          [f"- p = {c.welch_p_value:.3g} (no difference)"]),
        f"- 90% interval (TOST against {objective.margin(c.margin)}): "
        f"{interval_text(c.tost_low, c.tost_high, sizes_text(c), objective)} "
        f"(TOST p = {c.tost_p_value:.3g})",
        f"- bootstrap 95% interval: "
        f"{interval_text(c.bootstrap_low, c.bootstrap_high, sizes_text(c), objective)}",
        f"- P({question.others[0]} > {question.reference}) = {c.prob_after_greater:.2f} "
        "(Mann-Whitney U / (n_a n_b))",
        *_pairing_lines(analysis),
        *_robust_lines(c, question),
        "",
        "![comparison](verdict.png)",
        "",
        f"The figure shows each {'accuracy' if objective == ACCURACY else 'trial value'} "
        "behind the verdict with the mean of each value as a black bar.",
        "",
    ]


def scientific_rank(importance: pd.DataFrame, param: str) -> str:
    """Where `param` ranks in each method, e.g. "`bn_position` ranks 4 of 4 by fANOVA"."""
    parts = []
    for method, rows in importance.groupby("method", sort=False):
        params = list(rows["param"])  # sorted by decreasing mean
        if param in params:
            parts.append(f"{params.index(param) + 1} of {len(params)} by {method}")
    return f" `{param}` ranks " + " and ".join(parts) + "." if parts else ""


def _evidence_sections(analysis: Analysis, axis_files: dict[str, str]) -> list[str]:
    leaders = (
        describe_leaders(analysis.leaders)
        if analysis.leaders is not None
        else "only one value has finished trials"
    )
    quantile = analysis.importance.target_quantile
    ped_anova = f"PED-ANOVA, top {quantile:.0%}" if quantile else "PED-ANOVA"
    name = analysis.loaded.objective.name
    groups = " and per width multiplier alpha" if analysis.loaded.written_by_bnstudy else ""
    lines = [
        "## Isolation: each value with its nuisance parameters tuned",
        "",
        "![isolation](isolation.png)",
        "",
        f"The figure shows the best {name} of each value over all COMPLETE trials{groups} "
        "(n = COMPLETE trials in each cell).",
        "",
        markdown_table(_isolation_shown(analysis.isolation)),
        "",
        f"## Expected best {'accuracy' if name == ACCURACY.name else name} against the "
        "number of trials",
        "",
        "![expected max](expected_max.png)",
        "",
        f"The figure shows the expected best {name} of n trials drawn without "
        f"replacement from each value's COMPLETE and PRUNED trials (Dodge et al. 2019, "
        f"unbiased estimator of Tang et al. 2020), ± the std of that best: {leaders}.",
        "",
        "## Hyperparameter importance",
        "",
        "![importance](importance.png)",
        "",
        f"The figure shows how much each hyperparameter explains {name} across the "
        f"whole search (fANOVA) and among the best trials ({ped_anova}); "
        f"`{analysis.loaded.param}` is "
        f"the scientific parameter, the others are nuisance."
        + scientific_rank(analysis.importance.table, analysis.loaded.param),
        "",
    ]
    if len(analysis.importance.table):
        lines += [markdown_table(analysis.importance.table), ""]
    lines += [f"- {note}" for note in analysis.importance.notes]
    lines += ["", f"## {name[:1].upper() + name[1:]} along each numeric hyperparameter", ""]
    for param, file_name in axis_files.items():
        lines += [
            f"![{param}]({file_name})",
            "",
            f"The figure shows every trial's {name} against `{param}` by value "
            f"of `{analysis.loaded.param}` (hollow: pruned, crosses: failed; dotted: search "
            "range).",
            "",
        ]
    return lines


def _failures(frame: pd.DataFrame) -> list[str]:
    """One sentence on the FAIL trials: which were cut off and trained again, which were not."""
    failed = frame.loc[frame["state"] == "FAIL", "number"].astype(int).tolist()
    if not failed:
        return []
    retries = {int(row.retry_of): int(row.number)
               for row in frame.itertuples() if pd.notna(row.retry_of)}
    retried = [n for n in failed if n in retries]
    lines = []
    if retried:
        pairs = ", ".join(f"{n} as {retries[n]}" for n in retried)
        lines.append(f"FAIL trials stopped before their end (their process ended: a kill, a "
                     f"lost machine, Ctrl-C) and trained again with the same parameters: {pairs}.")
    others = [n for n in failed if n not in retries]
    if others:
        lines.append(f"FAIL trials not trained again (an error in the trial, or retries used "
                     f"up): {', '.join(map(str, others))}.")
    return [" ".join(lines), ""]


DIRTY_INTRO = ("Reruns not from a clean commit (their `code_version` ends in +dirty, or none "
               "was recorded), so no commit holds the code they ran on:")


def dirty_rerun_lines(dirty: tuple[DirtyReruns, ...]) -> list[str]:
    """One list item per rerun study: how many of its reruns, which, and their code versions."""
    return [f"- `{found.study_name}`: {len(found.numbers)} of {found.total} reruns (trials "
            f"{number_ranges(found.numbers)}); code versions "
            + ", ".join(f"{version} ({count})" for version, count in found.versions.items())
            for found in dirty]


def _provenance_section(analysis: Analysis) -> list[str]:
    """The reruns not from a clean commit, where there are any."""
    if not analysis.dirty_reruns:
        return []
    return ["## Reruns not from a clean commit", "", DIRTY_INTRO, "",
            *dirty_rerun_lines(analysis.dirty_reruns), ""]


def _study_section(analysis: Analysis) -> list[str]:
    frame = analysis.loaded.trials
    states = frame.groupby([analysis.loaded.param, "state"], dropna=False).size().unstack(
        fill_value=0)
    config = analysis.loaded.config
    lines = ["## The study", "", f"Study `{analysis.study_name}`, {len(frame)} trials:", ""]
    lines += [markdown_table(states.reset_index()), ""]
    lines += _failures(frame)
    confirm = analysis.loaded.confirm
    if confirm is not None:
        lines += [
            f"Confirmation study `{analysis.study_name}/confirm`: {len(confirm)} reruns "
            f"({int((confirm['state'] == 'COMPLETE').sum())} COMPLETE).",
            "",
        ]
    if config:
        lines += ["Configuration (study user attribute `config`):", ""]
        # Studies stored before URLs were masked may hold a password in theirs.
        shown = {key: mask_password(value) if key == "storage" and isinstance(value, str)
                 else value for key, value in config.items()}
        lines += [f"- {key}: {value}" for key, value in shown.items()]
        lines += [""]
    return lines


def report_markdown(analysis: Analysis, axis_files: dict[str, str]) -> str:
    """The whole report.md: verdict first, then the evidence, each figure with one sentence.

    Args:
        analysis: The analysis.
        axis_files: Numeric parameter -> PNG file name of its axis plot.

    Returns:
        Markdown text.
    """
    c, objective = analysis.comparison, analysis.loaded.objective
    lines = [
        f"# Does `{analysis.loaded.param}` matter once the rest is tuned? Study "
        f"`{analysis.study_name}`",
        "",
        f"**{verdict_sentence(analysis)}**",
        "",
        f"Meaning: {MEANING[c.verdict]}, with a margin of {objective.margin(c.margin)}. "
        + recommendation(analysis),
        "",
    ]
    if objective != ACCURACY:
        lines += [objective.description(), ""]
    lines += [f"Note: {note}" for note in analysis.source_notes]
    lines += ["## Warnings", ""]
    lines += [f"- {warning}" for warning in analysis.warnings] or [
        "- none: the best trials are away from the search-space edges, few trials diverged, none "
        "ended at chance accuracy and no value has a heavy tail of bad reruns."
        if analysis.loaded.written_by_bnstudy else
        "- none: the best trials are away from the search-space edges and few trials diverged."
    ]
    lines += [""]
    lines += _comparison_section(analysis)
    lines += _selection_section(analysis.selection)
    lines += _evidence_sections(analysis, axis_files)
    lines += _provenance_section(analysis)
    lines += _study_section(analysis)
    return "\n".join(lines).rstrip() + "\n"
