"""The verdict rule: what an interval of after - before says against the practical margin.

One rule for the verdict `analysis` reports and for the stop rule of `study.confirm --stop
decided`, so that the run stops exactly when the report would decide:

- "matters": the interval clears the margin on one side (the whole interval is at least
  `margin` away from zero), so the placement changes accuracy by at least the margin;
- "equivalent": the interval lies inside (-margin, +margin): any difference is too small to
  matter;
- "nonzero": the interval excludes zero but reaches inside the margin: a difference exists,
  its size is uncertain (the first publication's case: [-1.15, -0.16] pp against 0.5 pp);
- "inconclusive": anything else.

No decision before `MIN_RERUNS_TO_DECIDE` reruns per placement: normal-based intervals are
fooled by rare low seeds at small counts (the published "before" reruns: a tight core near
86.4% and one in five near 82.5%; at 10 + 10 reruns a normal-mixture sequence excluded zero,
then lost it). benchmarks/README.md, "Looking after every rerun", measures the rule's error
rates with that minimum.
"""

from __future__ import annotations

from typing import Literal

from study.errors import ConfigError

__all__ = ["DECIDED", "DEFAULT_MARGIN", "MIN_RERUNS_TO_DECIDE", "VERDICTS", "Verdict",
           "check_margin", "decide", "split_alpha"]

Verdict = Literal["matters", "equivalent", "nonzero", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = ("matters", "equivalent", "nonzero", "inconclusive")
DECIDED: tuple[Verdict, ...] = ("matters", "equivalent")  # what `--stop decided` stops on
MIN_RERUNS_TO_DECIDE = 30
DEFAULT_MARGIN = 0.005  # half a percentage point: below this nobody would change their model


def check_margin(margin: float, name: str = "margin") -> float:
    """`margin`, checked: the one rule every command and function that takes a margin applies.

    Args:
        margin: The practical margin, a fraction of accuracy.
        name: How the caller names it (`--margin` at a command line).

    Raises:
        ConfigError: unless 0 < margin < 1.
    """
    if not 0.0 < margin < 1.0:
        raise ConfigError(f"`{name}` must be a fraction of accuracy in (0, 1), but got {margin}.")
    return margin


def decide(low: float, high: float, margin: float,
           equivalence: tuple[float, float] | None = None) -> Verdict:
    """The verdict an interval (low, high) of after - before gives against `margin`.

    Args:
        low: The interval's lower end.
        high: Its upper end.
        margin: Differences inside (-margin, +margin) do not matter, in (0, 1).
        equivalence: The interval "equivalent" is judged on, when it differs: Welch's 90%
            interval of the two one-sided tests (TOST); None judges on (low, high).

    Raises:
        ValueError: for a margin outside (0, 1) or an interval whose ends are reversed.
    """
    check_margin(margin)
    equivalence_low, equivalence_high = equivalence or (low, high)
    if low > high or equivalence_low > equivalence_high:
        raise ValueError(f"an interval's `low` must not exceed its `high`, but got ({low}, "
                         f"{high}) and ({equivalence_low}, {equivalence_high}).")
    if low >= margin or high <= -margin:
        return "matters"
    if -margin < equivalence_low and equivalence_high < margin:
        return "equivalent"
    if low > 0.0 or high < 0.0:
        return "nonzero"
    return "inconclusive"


def split_alpha(alpha: float, comparisons: int) -> float:
    """Each comparison's error level when `alpha` is split across `comparisons` (Bonferroni).

    The one place the split is made: the stop rule, the verdict and the simulations call it.
    """
    if comparisons < 1:
        raise ValueError(f"`comparisons` must be at least 1, but got {comparisons}.")
    return alpha / comparisons
