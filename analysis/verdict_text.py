"""The verdict in words: the sentence, what to do next, and verdict.json's record.

Pure text from an `Analysis`; `analysis.report` builds report.md and the dashboard notes on it.
Accuracy differences are shown in percentage points (pp), stored as fractions.
"""

from __future__ import annotations

import shlex
from typing import Any

import pandas as pd

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
from study.storage.contract import PLACEMENTS
from study.storage.opener import mask_password

MEANING = {
    "matters": ("the placements differ: the 95% interval excludes zero and the measured "
                "difference is at least the margin"),
    "equivalent": "the placements are equivalent within the margin (TOST, 90% interval inside)",
    "inconclusive": "the data cannot tell yet whether the placements differ by the margin",
}


def pp(fraction: float) -> str:
    """An accuracy difference (a fraction) in signed percentage points: 0.0031 -> "+0.31"."""
    return f"{100 * fraction:+.2f}"


def interval_text(low: float, high: float, sizes: str) -> str:
    """An interval in pp, or "not yet bounded (SIZES)" where the data cannot bound it."""
    text = describe_interval(low, high)
    return f"{text} ({sizes})" if text == UNBOUNDED else text


def sizes_text(c: Comparison) -> str:
    """The sample sizes behind a comparison, e.g. "n = 4 before, 5 after"."""
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
    interval = interval_text(c.ci_low, c.ci_high, sizes_text(c))
    sizes = "" if interval.startswith(UNBOUNDED) else f" ({sizes_text(c)})"  # else inside it
    return (f"Verdict ({source_label(analysis)}): {c.verdict} - after minus before = "
            f"{pp(c.difference)} pp, 95% CI {interval}{sizes}.")


def _confirm_command(analysis: Analysis, storage_url: str, seeds: int, *extra: str) -> str:
    """The `python -m study.confirm` command for this study, its password masked."""
    return shlex.join(["python", "-m", "study.confirm", "--storage", mask_password(storage_url),
                       "--study-name", analysis.study_name, "--seeds", str(seeds), *extra])


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
        command = _confirm_command(analysis, storage_url, DEFAULT_SEEDS)
        return (
            f"Provisional: the best search trials are selected on validation accuracy, so their "
            f"lead can be luck. Rerun each placement's best trial with several seeds to settle "
            f"it: `{command}`."
        )
    if c.verdict == "matters":
        winner = "after" if c.difference > 0 else "before"
        text = (f"BN {winner} the activation is better by {abs(100 * c.difference):.2f} pp "
                f"(margin {margin}).")
        near = min(abs(c.ci_low), abs(c.ci_high))  # the interval excludes zero: one sign
        if near < c.margin:
            text += (f" The interval's end nearest zero is {100 * near:.2f} pp, inside the "
                     f"margin: a difference smaller than the margin is not ruled out.")
        return text
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
        command = _confirm_command(analysis, storage_url,
                                   max(c.n_before + more["before"], c.n_after + more["after"]),
                                   "--allocation", "by-spread")
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
        "reproduced_search_trials": reproduced_trials(analysis),
        "warnings": list(analysis.warnings),
    }


def reproduced_trials(analysis: Analysis) -> dict[str, list[int]] | None:
    """Search trials the reruns reproduce (user attribute `source_trial`), per placement."""
    if analysis.source != "confirm":
        return None
    reproduced = {}
    for placement in PLACEMENTS:
        rows = analysis.compared[placement]
        column = rows["source_trial"] if "source_trial" in rows else pd.Series(dtype=float)
        reproduced[placement] = sorted({int(n) for n in column.dropna()})
    return reproduced
