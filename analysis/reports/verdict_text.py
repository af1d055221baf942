"""The verdict in words: the sentence, what to do next, and verdict.json's record.

Pure text from an `Analysis`; `analysis.reports.markdown` builds report.md and the dashboard notes
on it.
Accuracy differences are shown in percentage points (pp), stored as fractions; the values of a
study bnstudy did not write in their own units (`analysis.reading.objective`).
"""

from __future__ import annotations

import dataclasses
import math
import shlex
from typing import Any

import pandas as pd

from analysis.findings.settling import SEEDS_NEEDED_CAP, more_reruns_by_spread
from analysis.findings.verdict import ASSUMED_SEED_STD, DEFAULT_SEEDS, UNBOUNDED, Comparison
from analysis.reading.objective import ACCURACY, Objective
from analysis.study_analysis import Analysis

MEANING = {
    "matters": ("the two values differ by at least the margin: the whole interval lies beyond "
                "it on one side"),
    "equivalent": "the two values are equivalent: the whole interval lies inside the margin",
    "nonzero": ("the two values differ, but by how much is uncertain: the interval excludes "
                "zero and reaches inside the margin"),
    "inconclusive": "the data cannot tell yet whether the two values differ by the margin",
}
# What each interval is, in the verdict sentence.
INTERVAL_LABEL = {"anytime": "anytime-valid 95%", "welch": "Welch 95%", "permutation": "95%"}


def interval_label(c: Comparison) -> str:
    """INTERVAL_LABEL at the comparison's own level ("anytime-valid 97.5%" when split)."""
    return INTERVAL_LABEL[c.interval].replace("95%", f"{100 * c.level:.3g}%")
# Why the interval matters, in report.md.
INTERVAL_WHY = {
    "anytime": ("a confidence sequence (Waudby-Smith, Arnold, Wu and Ramdas 2024): it stays "
                "valid however often the reruns were looked at and whenever they were stopped, "
                "which a fixed-n interval does not (looked at after every few reruns, a 95% "
                "Welch interval excludes zero in 27-30% of studies without any difference); "
                "it is wider, and decides nothing before {minimum} reruns per value"),
    "welch": ("Welch's fixed-n interval: valid only if the number of reruns was fixed in "
              "advance and the verdict read once; with looks along the way use `--interval "
              "anytime`"),
    "permutation": ("a permutation interval over the search's COMPLETE trials, provisional: "
                    "the best trials are selected on one validation run each"),
}


def pp(fraction: float) -> str:
    """An accuracy difference (a fraction) in signed percentage points: 0.0031 -> "+0.31"."""
    return f"{100 * fraction:+.2f}"


def interval_text(low: float, high: float, sizes: str, objective: Objective = ACCURACY) -> str:
    """An interval in pp (or the objective's units), or "not yet bounded (SIZES)" where the
    data cannot bound it."""
    text = objective.interval(low, high)
    return f"{text} ({sizes})" if text == UNBOUNDED else text


def sizes_text(c: Comparison) -> str:
    """The sample sizes behind a comparison, e.g. "n = 4 before, 5 after"."""
    if c.n_before == c.n_after:
        return f"n = {c.n_before} per value"
    return f"n = {c.n_before} {c.labels[0]}, {c.n_after} {c.labels[1]}"


def source_label(analysis: Analysis) -> str:
    """Return "provisional, from the search" or "from the confirmation reruns"."""
    if analysis.source == "search":
        return "provisional, from the search"
    return "from the confirmation reruns"


def verdict_sentence(analysis: Analysis) -> str:
    """One line: the verdict, the difference, its interval and the sample sizes.

    Args:
        analysis: The analysis.

    Returns:
        E.g. "Verdict (provisional, from the search): inconclusive - after minus before =
        +0.31 pp, 95% CI [-0.80, +1.42] pp (n = 4 per placement)."
    """
    c, objective = analysis.comparison, analysis.loaded.objective
    interval = interval_text(c.ci_low, c.ci_high, sizes_text(c), objective)
    sizes = "" if interval.startswith(UNBOUNDED) else f" ({sizes_text(c)})"  # else inside it
    return (f"Verdict ({source_label(analysis)}): {c.verdict} - {c.labels[1]} minus "
            f"{c.labels[0]} = "
            f"{objective.difference(c.difference)}, {interval_label(c)} CI {interval}{sizes}.")


def _confirm_command(analysis: Analysis, *extra: str) -> str:
    """The `python -m study.confirm` command for this study, its password masked."""
    return shlex.join(["python", "-m", "study.confirm", "--storage", analysis.shown_storage,
                       "--study-name", analysis.study_name, *extra])


def _more_reruns_command(analysis: Analysis, most: int) -> str:
    """The confirm command that goes on with `most` reruns per value at the most: paired
    as the study ran, else unpaired and allocated by spread."""
    design = ([] if analysis.comparison.paired
              else ["--pairing", "unpaired", "--allocation", "by-spread"])
    if analysis.comparison.interval == "welch":
        return _confirm_command(analysis, "--max-reruns", str(most), *design)
    return _confirm_command(analysis, "--stop", "decided", "--max-reruns", str(most), *design)


def recommendation(analysis: Analysis) -> str:
    """Say what the verdict means and what to do next.

    Args:
        analysis: The analysis; the command to run next names its storage, password masked.

    Returns:
        One or two sentences.
    """
    c, question = analysis.comparison, analysis.loaded.question
    objective = analysis.loaded.objective
    reference, other = question.values
    margin = objective.margin(c.margin)
    # The better of the two by the observed difference: the higher, or the lower value when
    # the study minimises.
    winner = other if objective.sign * c.difference > 0 else reference
    if analysis.source == "search" and not analysis.loaded.written_by_bnstudy:
        ahead = ("" if c.difference == 0 else
                 f"{question.label(winner)} is ahead ({objective.better} is better), but ")
        return (f"Provisional: {ahead}each value's best trials are picked on one evaluation "
                f"each, so their lead can be luck. To settle it, rerun each value's best "
                f"configuration with new seeds (on data the search did not pick it on) and "
                f"compare the reruns with the same margin ({margin}).")
    if analysis.source == "search":
        select = shlex.join(["python", "-m", "study.select", "--storage",
                             analysis.shown_storage, "--study-name", analysis.study_name])
        command = _confirm_command(analysis, "--stop", "decided")
        return (
            f"Provisional: the best search trials are selected on validation accuracy, so their "
            f"lead can be luck. Rerun each value's top trials with new seeds to pick by the "
            f"mean (`{select}`, if not done yet), then the picks, paired, on the test split to "
            f"settle it: `{command}`."
        )
    if c.verdict == "matters":
        near = min(abs(c.ci_low), abs(c.ci_high))
        return (f"{question.label(winner)} is better by {objective.amount(c.difference)}, "
                f"by at least {objective.amount(near)} (margin {margin}).")
    if c.verdict == "equivalent":
        return (f"Once tuned, {question.param} makes no practical difference between "
                f"{reference} and {other} (margin {margin}).")
    text = ""
    if c.verdict == "nonzero":
        near = min(abs(c.ci_low), abs(c.ci_high))
        far = objective.amount(max(abs(c.ci_low), abs(c.ci_high)))
        text = (f"{question.label(winner)} is ahead, by between "
                f"{objective.amount(near).removesuffix(' pp')} and {far}: whether by the "
                f"margin ({margin}) is not settled. ")
    elif c.below_minimum:
        text = (f"The anytime interval decides nothing before {c.minimum} reruns per value "
                f"(rare low seeds fool it at fewer). ")
    if c.seeds_needed is not None and c.seeds_needed > SEEDS_NEEDED_CAP:
        gap = abs(abs(c.difference) - c.margin)
        return text + (
            f"Even {SEEDS_NEEDED_CAP} seeds per value would not settle it at the observed "
            f"spread: the difference ({objective.difference(c.difference)}) sits "
            f"{objective.amount(gap)} from the margin ({margin}). Treat it as too close to the "
            f"margin to call, or choose the margin you care about with `--margin`."
        )
    text += (f"About {c.seeds_needed} seeds per value would settle it at the observed "
             f"spread (80% power at the observed difference; margin {margin}).")
    if c.paired:  # each seed reruns both placements: no allocation by spread
        command = _more_reruns_command(analysis, c.seeds_needed)
        return text + f" Go on with `{command}`."
    more = more_reruns_by_spread(c) if c.seeds_needed is not None else None
    if more is not None and (  # worth a second command only where it saves a tenth or more
            sum(more.values()) <= 0.9 * (2 * c.seeds_needed - c.n_before - c.n_after)):
        command = _more_reruns_command(
            analysis, max(c.n_before + more["before"], c.n_after + more["after"]))
        text += (f" Allocated by spread, fewer would: {more['before']} more of "
                 f"{question.label(reference)} and {more['after']} more of "
                 f"{question.label(other)} (`{command}`).")
    return text


def verdict_record(analysis: Analysis) -> dict[str, Any]:
    """The content of verdict.json: the contract's keys first, then the details.

    Args:
        analysis: The analysis.

    Returns:
        A JSON-serializable dict; accuracies and differences are fractions. For values that
        are not accuracy fractions to maximise, "objective" says their direction and units
        (absent otherwise, as before it was added).
    """
    c, question = analysis.comparison, analysis.loaded.question
    reference, other = (str(value) for value in question.values)
    # Trial numbers in the study the values came from (NAME/confirm when source is "confirm").
    compared = {str(p): [int(n) for n in analysis.compared[p]["number"]]
                for p in question.values}
    record = {
        "verdict": c.verdict,
        "difference": c.difference,
        "ci_low": finite_or_none(c.ci_low),  # null: an end the data did not bound (not fractions)
        "ci_high": finite_or_none(c.ci_high),
        "margin": c.margin,
        "source": analysis.source,
        "n_per_position": {reference: c.n_before, other: c.n_after},
        "provisional": analysis.source == "search",
        "study_name": analysis.study_name,
        "question": {"param": question.param, "reference": question.reference,
                     "compared": question.others[0],
                     "comparisons": analysis.loaded.comparisons, "level": c.level},
        "interval": c.interval,
        "interval_method": {"anytime": "asymptotic confidence sequence (normal mixture)",
                            "welch": "Welch t", "permutation": "permutation, top-k"}[c.interval],
        "welch_ci_low": finite_or_none(c.welch_low),  # the paired t interval when paired
        "welch_ci_high": finite_or_none(c.welch_high),
        "paired": c.paired,
        "pair_correlation": finite_or_none(c.pair_correlation),
        "variance_saved_by_pairing": finite_or_none(c.variance_saved),
        "selection": None if analysis.selection is None else {
            str(placement): {"pick": s.pick, "near_ties": list(s.near_ties),
                        "seed_std": finite_or_none(s.pooled_std),
                        "rerun": analysis.selection.rerun}
            for placement, s in analysis.selection.selections.items()},
        "minimum_reruns": c.minimum if c.interval == "anytime" else None,
        "tost_ci90_low": finite_or_none(c.tost_low),
        "tost_ci90_high": finite_or_none(c.tost_high),
        "tost_p_value": c.tost_p_value,
        "p_value": c.welch_p_value,
        "bootstrap_ci_low": c.bootstrap_low,
        "bootstrap_ci_high": c.bootstrap_high,
        "prob_after_greater": c.prob_after_greater,
        "robust": None if c.robust is None else dataclasses.asdict(c.robust),
        "mean": {reference: c.mean_before, other: c.mean_after},
        "std": {reference: c.std_before, other: c.std_after},
        "seeds_needed": c.seeds_needed,
        "more_reruns_by_spread": _by_value(more_reruns_by_spread(c), reference, other)
        if analysis.source == "confirm" else None,
        "recommended_confirm_seeds": DEFAULT_SEEDS,
        "assumed_seed_std": ASSUMED_SEED_STD,
        "compared_trials": compared,
        "reproduced_search_trials": reproduced_trials(analysis),
        "warnings": list(analysis.warnings),
    }
    if analysis.loaded.objective != ACCURACY:  # absent: accuracy fractions, maximised
        record["objective"] = analysis.loaded.objective.record()
    return record


def _by_value(more: dict[str, int] | None, reference: str, other: str) -> dict[str, int] | None:
    """`more_reruns_by_spread`'s counts keyed by the values they are for."""
    return None if more is None else {reference: more["before"], other: more["after"]}


def finite_or_none(value: float | None) -> float | None:
    """The value, or None where it is undefined (NaN, infinite): JSON has no NaN."""
    return value if value is not None and math.isfinite(value) else None


def reproduced_trials(analysis: Analysis) -> dict[str, list[int]] | None:
    """Search trials the reruns reproduce (user attribute `source_trial`), per value."""
    if analysis.source != "confirm":
        return None
    reproduced = {}
    for placement in analysis.loaded.question.values:
        rows = analysis.compared[placement]
        column = rows["source_trial"] if "source_trial" in rows else pd.Series(dtype=float)
        reproduced[str(placement)] = sorted({int(n) for n in column.dropna()})
    return reproduced
