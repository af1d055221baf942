"""The words and numbers of the report: verdict sentence, verdict.json content, report.md text.

Pure text from an `Analysis`; `analysis.writer` puts it on disk and in the dashboard.
Accuracy differences are shown in percentage points (pp), stored as fractions.
"""

from __future__ import annotations

import math
import shlex
from typing import Any

import pandas as pd

from analysis.expected_max import describe_leaders
from analysis.importance import ROUGH_NOTE_START
from analysis.pipeline import Analysis
from analysis.verdict import (
    ASSUMED_SEED_STD,
    DEFAULT_SEEDS,
    SEEDS_NEEDED_CAP,
    UNBOUNDED,
    Comparison,
    describe_interval,
    more_reruns_by_spread,
)
from study.contract import PLACEMENTS, SCIENTIFIC_PARAM
from study.progress import format_params
from study.storage import mask_password

# optuna-dashboard's importance panel runs `PedAnovaImportanceEvaluator()`: Optuna's default
# target quantile, which it does not change.
DASHBOARD_PED_ANOVA_QUANTILE = 0.1

MEANING = {
    "matters": ("the placements differ: the 95% interval excludes zero and the measured "
                "difference is at least the margin"),
    "equivalent": "the placements are equivalent within the margin (TOST, 90% interval inside)",
    "inconclusive": "the data cannot tell yet whether the placements differ by the margin",
}


def _pp(fraction: float) -> str:
    return f"{100 * fraction:+.2f}"


def _interval(low: float, high: float, sizes: str) -> str:
    text = describe_interval(low, high)
    return f"{text} ({sizes})" if text == UNBOUNDED else text


def _sizes(c: Comparison) -> str:
    if c.n_before == c.n_after:
        return f"n = {c.n_before} per placement"
    return f"n = {c.n_before} before, {c.n_after} after"


def source_label(analysis: Analysis) -> str:
    """Return "provisional, from the search" or "from the confirmation reruns"."""
    if analysis.source == "search":
        return "provisional, from the search"
    return "from the confirmation reruns"


def verdict_sentence(analysis: Analysis) -> str:
    """One line: the verdict, the difference, its 95% interval and the sample sizes.

    Args:
        analysis: The analysis.

    Returns:
        E.g. "Verdict (provisional, from the search): inconclusive - after minus before =
        +0.31 pp, 95% CI [-0.80, +1.42] pp (n = 4 per placement)."
    """
    c = analysis.comparison
    interval = _interval(c.ci_low, c.ci_high, _sizes(c))
    if interval.startswith(UNBOUNDED):
        return (f"Verdict ({source_label(analysis)}): {c.verdict} - after minus before = "
                f"{_pp(c.difference)} pp, 95% CI {interval}.")
    return (
        f"Verdict ({source_label(analysis)}): {c.verdict} - after minus before = "
        f"{_pp(c.difference)} pp, 95% CI {interval} ({_sizes(c)})."
    )


def recommendation(analysis: Analysis, storage_url: str) -> str:
    """Say what the verdict means and what to do next.

    Args:
        analysis: The analysis.
        storage_url: Storage as the user named it, for the command to run next (shown with
            its password masked).

    Returns:
        One or two sentences.
    """
    c = analysis.comparison
    margin = f"±{100 * c.margin:.2f} pp"
    if analysis.source == "search":
        command = shlex.join(["python", "-m", "study.confirm", "--storage",
                              mask_password(storage_url), "--study-name", analysis.study_name,
                              "--seeds", str(DEFAULT_SEEDS)])
        return (
            f"Provisional: the best search trials are selected on validation accuracy, so their "
            f"lead can be luck. Rerun each placement's best trial with several seeds to settle "
            f"it: `{command}`."
        )
    if c.verdict == "matters":
        winner = "after" if c.difference > 0 else "before"
        return (
            f"BN {winner} the activation is better by {abs(100 * c.difference):.2f} pp "
            f"(margin {margin})."
        )
    if c.verdict == "equivalent":
        return f"Once tuned, the placement makes no practical difference (margin {margin})."
    if c.seeds_needed is not None and c.seeds_needed > SEEDS_NEEDED_CAP:
        return (
            f"Even {SEEDS_NEEDED_CAP} seeds per placement would not settle it: the difference "
            f"sits on the margin ({margin}). Treat it as too small to matter, or choose the "
            f"margin you care about with `--margin`."
        )
    text = (f"About {c.seeds_needed} seeds per placement would settle it at the observed "
            f"spread (80% power at the observed difference; margin {margin}).")
    more = more_reruns_by_spread(c) if c.seeds_needed is not None else None
    if more is not None and (  # worth a second command only where it saves a tenth or more
            sum(more.values()) <= 0.9 * (2 * c.seeds_needed - c.n_before - c.n_after)):
        command = shlex.join(["python", "-m", "study.confirm", "--storage",
                              mask_password(storage_url), "--study-name", analysis.study_name,
                              "--seeds", str(max(c.n_before + more["before"],
                                                 c.n_after + more["after"])),
                              "--allocation", "by-spread"])
        text += (f" Allocated by spread, fewer would: {more['before']} more of BN before and "
                 f"{more['after']} more of BN after (`{command}`).")
    return text


def verdict_record(analysis: Analysis) -> dict[str, Any]:
    """The content of verdict.json: the contract's keys first, then the details.

    Args:
        analysis: The analysis.

    Returns:
        A JSON-serializable dict; accuracies and differences are fractions.
    """
    c = analysis.comparison
    # Trial numbers in the study the values came from (NAME/confirm when source is "confirm").
    compared = {p: [int(n) for n in analysis.compared[p]["number"]] for p in PLACEMENTS}
    return {
        "verdict": c.verdict,
        "difference": c.difference,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "margin": c.margin,
        "source": analysis.source,
        "n_per_position": {"before": c.n_before, "after": c.n_after},
        "provisional": analysis.source == "search",
        "study_name": analysis.study_name,
        "interval_method": "Welch t" if analysis.source == "confirm" else "permutation, top-k",
        "tost_ci90_low": c.tost_low,
        "tost_ci90_high": c.tost_high,
        "tost_p_value": c.tost_p_value,
        "p_value": c.welch_p_value,
        "bootstrap_ci_low": c.bootstrap_low,
        "bootstrap_ci_high": c.bootstrap_high,
        "prob_after_greater": c.prob_after_greater,
        "mean": {"before": c.mean_before, "after": c.mean_after},
        "std": {"before": c.std_before, "after": c.std_after},
        "seeds_needed": c.seeds_needed,
        "more_reruns_by_spread": (more_reruns_by_spread(c) if analysis.source == "confirm"
                                  else None),
        "recommended_confirm_seeds": DEFAULT_SEEDS,
        "assumed_seed_std": ASSUMED_SEED_STD,
        "compared_trials": compared,
        "reproduced_search_trials": _reproduced(analysis),
        "warnings": list(analysis.warnings),
    }


def _reproduced(analysis: Analysis) -> dict[str, list[int]] | None:
    """Search trials the reruns reproduce (user attribute `source_trial`), per placement."""
    if analysis.source != "confirm":
        return None
    reproduced = {}
    for placement in PLACEMENTS:
        rows = analysis.compared[placement]
        column = rows["source_trial"] if "source_trial" in rows else pd.Series(dtype=float)
        reproduced[placement] = sorted({int(n) for n in column.dropna()})
    return reproduced


def _table(frame: pd.DataFrame, floats: str = "{:.4f}") -> str:
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


def _rerun_sources(analysis: Analysis) -> list[str]:
    """Which search trial each placement's reruns retrain, with its parameters."""
    reproduced = _reproduced(analysis)
    if not reproduced:
        return []
    trials = analysis.loaded.trials.set_index("number")
    nuisance = [name for name in analysis.loaded.param_names if name != SCIENTIFIC_PARAM]
    lines = [f"- {placement}: search trial {number} "
             f"({format_params({name: trials.loc[number, name] for name in nuisance})})"
             for placement, numbers in reproduced.items() for number in numbers
             if number in trials.index]
    return ["Reruns of:", "", *lines, ""]


def _comparison_section(analysis: Analysis) -> list[str]:
    c = analysis.comparison
    what = (
        "test accuracy of the reruns of each placement's best trial (seeds vary)"
        if analysis.source == "confirm"
        else f"validation accuracy of the top {c.n_before} COMPLETE trials of each placement"
    )
    interval = (
        "Welch t intervals"
        if analysis.source == "confirm"
        else "intervals from a permutation test over all COMPLETE trials "
        "(the spread of the top trials alone understates the luck of the search)"
    )
    summary = pd.DataFrame(
        {
            SCIENTIFIC_PARAM: list(PLACEMENTS),
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
        *_rerun_sources(analysis),
        _table(summary),
        "",
        f"- difference (after - before): {_pp(c.difference)} pp",
        f"- 95% interval: {_interval(c.ci_low, c.ci_high, _sizes(c))} "
        f"(p = {c.welch_p_value:.3g})",
        f"- 90% interval (TOST against ±{100 * c.margin:.2f} pp): "
        f"{_interval(c.tost_low, c.tost_high, _sizes(c))} (TOST p = {c.tost_p_value:.3g})",
        f"- bootstrap 95% interval: "
        f"{_interval(c.bootstrap_low, c.bootstrap_high, _sizes(c))}",
        f"- P(after > before) = {c.prob_after_greater:.2f} (Mann-Whitney U / (n_a n_b))",
        "",
        "![comparison](verdict.png)",
        "",
        "The figure shows each accuracy behind the verdict with the mean of each placement "
        "as a black bar.",
        "",
    ]


def _scientific_rank(importance: pd.DataFrame) -> str:
    """Where `bn_position` ranks in each method, e.g. "`bn_position` ranks 4 of 4 by fANOVA"."""
    parts = []
    for method, rows in importance.groupby("method", sort=False):
        params = list(rows["param"])  # sorted by decreasing mean
        if SCIENTIFIC_PARAM in params:
            parts.append(f"{params.index(SCIENTIFIC_PARAM) + 1} of {len(params)} by {method}")
    return f" `{SCIENTIFIC_PARAM}` ranks " + " and ".join(parts) + "." if parts else ""


def _evidence_sections(analysis: Analysis, axis_files: dict[str, str]) -> list[str]:
    leaders = (
        describe_leaders(analysis.leaders)
        if analysis.leaders is not None
        else "only one placement has finished trials"
    )
    quantile = analysis.importance.target_quantile
    ped_anova = f"PED-ANOVA, top {quantile:.0%}" if quantile else "PED-ANOVA"
    lines = [
        "## Isolation: each placement with its nuisance parameters tuned",
        "",
        "![isolation](isolation.png)",
        "",
        "The figure shows the best validation accuracy of each placement over all COMPLETE "
        "trials and per width multiplier alpha (n = COMPLETE trials in each cell).",
        "",
        _table(_isolation_shown(analysis.isolation)),
        "",
        "## Expected best accuracy against the number of trials",
        "",
        "![expected max](expected_max.png)",
        "",
        f"The figure shows the expected best validation accuracy of n trials drawn without "
        f"replacement from each placement's COMPLETE and PRUNED trials (Dodge et al. 2019, "
        f"unbiased estimator of Tang et al. 2020), ± the std of that best: {leaders}.",
        "",
        "## Hyperparameter importance",
        "",
        "![importance](importance.png)",
        "",
        f"The figure shows how much each hyperparameter explains validation accuracy across the "
        f"whole search (fANOVA) and among the best trials ({ped_anova}); `{SCIENTIFIC_PARAM}` is "
        f"the scientific parameter, the others are nuisance."
        + _scientific_rank(analysis.importance.table),
        "",
    ]
    if len(analysis.importance.table):
        lines += [_table(analysis.importance.table), ""]
    lines += [f"- {note}" for note in analysis.importance.notes]
    lines += ["", "## Validation accuracy along each numeric hyperparameter", ""]
    for param, file_name in axis_files.items():
        lines += [
            f"![{param}]({file_name})",
            "",
            f"The figure shows every trial's validation accuracy against `{param}` by "
            f"placement (hollow: pruned, crosses: failed; dotted: search range).",
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


def _study_section(analysis: Analysis) -> list[str]:
    frame = analysis.loaded.trials
    states = frame.groupby([SCIENTIFIC_PARAM, "state"], dropna=False).size().unstack(fill_value=0)
    config = analysis.loaded.config
    lines = ["## The study", "", f"Study `{analysis.study_name}`, {len(frame)} trials:", ""]
    lines += [_table(states.reset_index()), ""]
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


def report_markdown(analysis: Analysis, storage_url: str, axis_files: dict[str, str]) -> str:
    """The whole report.md: verdict first, then the evidence, each figure with one sentence.

    Args:
        analysis: The analysis.
        storage_url: Storage as the user named it.
        axis_files: Numeric parameter -> PNG file name of its axis plot.

    Returns:
        Markdown text.
    """
    c = analysis.comparison
    lines = [
        f"# Does BN placement matter? Study `{analysis.study_name}`",
        "",
        f"**{verdict_sentence(analysis)}**",
        "",
        f"Meaning: {MEANING[c.verdict]}, with a margin of ±{100 * c.margin:.2f} pp. "
        + recommendation(analysis, storage_url),
        "",
    ]
    lines += [f"Note: {note}" for note in analysis.source_notes]
    lines += ["## Warnings", ""]
    lines += [f"- {warning}" for warning in analysis.warnings] or [
        "- none: the best trials are away from the search-space edges and few trials diverged."
    ]
    lines += [""]
    lines += _comparison_section(analysis)
    lines += _evidence_sections(analysis, axis_files)
    lines += _study_section(analysis)
    return "\n".join(lines).rstrip() + "\n"


def dashboard_note(analysis: Analysis, storage_url: str, report_path: str) -> str:
    """The short markdown note attached to the study in optuna-dashboard.

    Args:
        analysis: The analysis.
        storage_url: Storage as the user named it.
        report_path: Where the full report was written.

    Returns:
        Markdown text.
    """
    lines = [
        "## BN placement verdict",
        "",
        f"**{verdict_sentence(analysis)}**",
        "",
        recommendation(analysis, storage_url),
        "",
    ]
    lines += [f"- Warning: {warning}" for warning in analysis.warnings]
    lines += ["", importance_note(analysis)]
    lines += ["", f"Full report: `{report_path}` (written by `python -m analysis`)."]
    return "\n".join(lines)


def confirm_note(analysis: Analysis, report_path: str) -> str | None:
    """The note for the confirmation study in optuna-dashboard, or None without reruns in use.

    The confirmation study holds one configuration per placement, so its placement, learning
    rate and width change together: the dashboard's importance panel and "Best Trial" there
    describe seeds, not hyperparameters, and the note says so beside the verdict.
    """
    if analysis.source != "confirm":
        return None
    lines = [
        f"## Confirmation reruns of `{analysis.study_name}`",
        "",
        "Not a search: each trial retrains one search trial with a new seed and tests it once.",
        "",
        *_rerun_sources(analysis),
        f"Here {SCIENTIFIC_PARAM} and the other parameters change together (one configuration "
        "per placement), so this study's Hyperparameter Importance panel cannot tell them apart, "
        "and its Best Trial is the luckiest seed, not a better configuration. Importance is read "
        f"on the search study `{analysis.study_name}`; the verdict compares the means:",
        "",
        f"**{verdict_sentence(analysis)}**",
        "",
        f"Full report: `{report_path}` (written by `python -m analysis`).",
    ]
    return "\n".join(lines)


def importance_note(analysis: Analysis) -> str:
    """Which importance method the dashboard's panel shows and which the report uses.

    optuna-dashboard (0.x) computes its "Hyperparameter Importance" panel with Optuna's
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
        f"rankings can differ." + _scientific_rank(analysis.importance.table)
        + "".join(f" {note}" for note in rough)
    )
