"""Search-space boundary check and divergence count: can the search be trusted as tuned?

If the best trials crowd an edge of a numeric range, the optimum may lie outside it and each
placement is compared at a handicap; if many trials diverged, one placement may simply be less
stable at the learning rates tried. Both are warnings for the report, not errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

from study.storage.contract import DIVERGED_PREFIX
from study.storage.question import Question

TOP_K = 5  # best trials inspected; one lucky trial at an edge is not a pattern
EDGE_FRACTION = 0.1  # "near an edge": the outer 10% of the range (in log space for log params)
DIVERGED_WARN_FRACTION = 0.2  # above this, instability is itself a finding worth a look


@dataclass(frozen=True)
class EdgeWarning:
    """Best trials near one edge of a numeric parameter's range."""

    param: str
    edge: str  # "low" or "high"
    n_near: int
    n_top: int
    low: float
    high: float

    def message(self) -> str:
        """Return the sentence for the report."""
        bound = self.low if self.edge == "low" else self.high
        return (
            f"{self.n_near} of the best {self.n_top} trials have `{self.param}` within the "
            f"{self.edge} {EDGE_FRACTION:.0%} of its range [{self.low:g}, {self.high:g}]: the "
            f"optimum may lie beyond {bound:g}; widen the search there."
        )


@dataclass(frozen=True)
class Divergence:
    """How many trials failed, diverged or reported NaN, overall and per placement."""

    n_trials: int
    n_failed: int
    n_diverged: int
    n_nan: int
    diverged_by_placement: dict[str, int]
    trials_by_placement: dict[str, int]

    @property
    def unstable_fraction(self) -> float:
        """Fraction of trials that diverged or ended with a NaN value."""
        return (self.n_diverged + self.n_nan) / self.n_trials if self.n_trials else 0.0


def _unit_position(values: np.ndarray, distribution: BaseDistribution) -> np.ndarray:
    low, high = float(distribution.low), float(distribution.high)
    if distribution.log:
        values, low, high = np.log(values), math.log(low), math.log(high)
    return (values - low) / (high - low)


def edge_warnings(
    frame: pd.DataFrame,
    distributions: dict[str, BaseDistribution],
    top_k: int = TOP_K,
    edge_fraction: float = EDGE_FRACTION,
    *,
    lower_is_better: bool = False,
) -> list[EdgeWarning]:
    """Find numeric parameters whose best trials sit near an edge of the search range.

    A parameter is flagged at an edge when at least half of the best `top_k` COMPLETE trials
    (overall) lie within `edge_fraction` of that edge. Categorical parameters are skipped:
    their choices are the whole space, not samples of a range that could be widened.

    Args:
        frame: A trials table from `analysis.reading.studies.trials_frame`.
        distributions: Search-space distribution per parameter.
        top_k: Number of best trials inspected.
        edge_fraction: Width of each edge zone, as a fraction of the (log) range.
        lower_is_better: The study minimises: the best trials are the lowest.

    Returns:
        One warning per flagged parameter and edge.
    """
    complete = frame[(frame["state"] == "COMPLETE") & frame["value"].map(math.isfinite)]
    top = (complete.nsmallest if lower_is_better else complete.nlargest)(top_k, "value")
    warnings = []
    for param, distribution in distributions.items():
        if not isinstance(distribution, FloatDistribution | IntDistribution):
            continue
        if param not in top or distribution.high <= distribution.low:
            continue
        values = top[param].dropna().to_numpy(float)
        if values.size == 0:
            continue
        position = _unit_position(values, distribution)
        zones = {"low": position <= edge_fraction, "high": position >= 1 - edge_fraction}
        for edge, near in zones.items():
            if near.sum() * 2 >= values.size:
                warnings.append(
                    EdgeWarning(
                        param=param,
                        edge=edge,
                        n_near=int(near.sum()),
                        n_top=int(values.size),
                        low=float(distribution.low),
                        high=float(distribution.high),
                    )
                )
    return warnings


def divergence(frame: pd.DataFrame, question: Question) -> Divergence:
    """Count failed, diverged and NaN-valued trials.

    Args:
        frame: A trials table; `failure_reason` is read when present.
        question: Whose values the diverged trials are counted by.

    Returns:
        The counts.
    """
    reasons = (
        frame["failure_reason"] if "failure_reason" in frame else pd.Series(index=frame.index)
    )
    diverged_reason = reasons.map(lambda r: isinstance(r, str) and r.startswith(DIVERGED_PREFIX))
    # The search stores a diverged trial as PRUNED (it ends early and the study goes on);
    # the reason, not the state, says it diverged.
    diverged = diverged_reason.astype(bool)
    nan_value = frame["state"].isin(["COMPLETE", "PRUNED"]) & frame["value"].isna()
    return Divergence(
        n_trials=len(frame),
        n_failed=int((frame["state"] == "FAIL").sum()),
        n_diverged=int(diverged.sum()),
        n_nan=int(nan_value.sum()),
        diverged_by_placement={
            p: int((diverged & (frame[question.param] == p)).sum()) for p in question.values
        },
        trials_by_placement={p: int((frame[question.param] == p).sum())
                             for p in question.values},
    )


def divergence_warning(counts: Divergence) -> str | None:
    """Return a warning sentence when too many trials diverged, else None.

    Args:
        counts: Output of `divergence`.

    Returns:
        The sentence or None.
    """
    if counts.unstable_fraction <= DIVERGED_WARN_FRACTION:
        return None
    per_placement = ", ".join(
        f"{p}: {counts.diverged_by_placement[p]} of {counts.trials_by_placement[p]}"
        for p in counts.trials_by_placement
    )
    return (
        f"{counts.n_diverged + counts.n_nan} of {counts.n_trials} trials diverged or ended "
        f"with NaN ({counts.unstable_fraction:.0%}; diverged by placement: {per_placement}): "
        f"lower the top of the learning-rate range, or report stability as a finding."
    )
