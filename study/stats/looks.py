"""What the reruns so far say at one look: the interval, and the verdict once there are enough.

`interval_verdict` is the one rule "no verdict before the minimum count, then decide" on two
arrays, with either interval: "anytime" (the confidence sequence of `study.stats.sequential`,
valid at every look) or "welch" (the fixed-n t interval of `study.stats.intervals`, TOST's for
"equivalent"). The verdict `analysis` reports, the stop rule of `study.confirm --stop decided`
and the simulated looks of `analysis.calibration.peeking` all call it.

The stop rule reads the reruns as they are stored: `done` maps each value of the study's
question to its reruns' accuracies by seed, the reference first
(`study.storage.reruns.done_reruns`). `anytime_verdict` and `half_width` read that mapping,
paired (the seeds both values have) or not; with more than two values each other value is
compared with the reference at the error level split across the comparisons (Bonferroni).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from study.stats.decision import (
    DEFAULT_MARGIN,
    MIN_RERUNS_TO_DECIDE,
    Verdict,
    check_margin,
    decide,
    split_alpha,
)
from study.stats.intervals import (
    MIN_RERUNS_EACH,
    difference_error,
    fixed_n_intervals,
    t_half_width,
)

__all__ = ["INTERVALS", "anytime_verdict", "anytime_verdicts", "half_width", "interval_verdict",
           "paired_values"]

INTERVALS = ("anytime", "welch")
UNBOUNDED = (-1.0, 1.0)  # a difference of accuracies: what is known before two values each


def interval_verdict(before: Sequence[float], after: Sequence[float], *,
                     interval: str = "anytime", margin: float = DEFAULT_MARGIN,
                     alpha: float = 0.05, minimum: int = MIN_RERUNS_TO_DECIDE,
                     paired: bool = False) -> tuple[Verdict | None, tuple[float, float]]:
    """The interval of mean(after) - mean(before), and its verdict once each has `minimum`.

    Args:
        before: The reference's values in the order they ran.
        after: The compared value's, likewise.
        interval: "anytime" or "welch" (see the module docstring).
        margin: The practical margin.
        alpha: The interval's error level (already split, where several comparisons share it).
        minimum: Values each (pairs, when paired) before any verdict.
        paired: `before[i]` and `after[i]` share seed i.

    Returns:
        (verdict, (low, high)); the verdict is None below `minimum`, and the interval is
        (-1, 1) below 2 values each.
    """
    check_margin(margin)
    if interval not in INTERVALS:
        raise ValueError(f"`interval` must be one of {list(INTERVALS)}, but got {interval!r}.")
    if min(len(before), len(after)) < 2:
        return None, UNBOUNDED
    if interval == "welch":
        ci, tost = fixed_n_intervals(before, after, paired=paired, alpha=alpha)
        verdict = decide(*ci, margin, equivalence=tost)
    else:
        # Imported here: the commands import this module before they can turn a Ctrl-C into
        # one line, and the sequence needs numpy (tests/test_interrupts.py).
        from study.stats.sequential import confidence_sequence

        ci = confidence_sequence(after, before, alpha=alpha, paired=paired)
        verdict = decide(*ci, margin)
    return (verdict if min(len(before), len(after)) >= minimum else None), ci


def _compared(done: Mapping[object, Mapping[int, float]], value: object | None) -> object:
    """`value`, or the only value compared with the reference when None."""
    values = list(done)
    if len(values) < 2:
        raise ValueError(f"`done` must hold a reference and a value to compare, but has "
                         f"{values}.")
    if value is None:
        if len(values) > 2:
            raise ValueError(f"`value` must be named when {len(values) - 1} values are "
                             f"compared with the reference, but got None.")
        return values[1]
    if value not in values[1:]:
        raise ValueError(f"`value` must be one of {values[1:]}, but got {value!r}.")
    return value


def paired_values(done: Mapping[object, Mapping[int, float]], value: object | None = None
                  ) -> tuple[list[float], list[float]]:
    """(reference, value) of the seeds both have rerun, in the order the reference ran them.

    Args:
        done: Per value, reruns by seed, the reference first.
        value: The value compared; None for the only one.
    """
    reference, other = done[next(iter(done))], done[_compared(done, value)]
    common = [seed for seed in reference if seed in other]
    return [reference[seed] for seed in common], [other[seed] for seed in common]


def _samples(done: Mapping[object, Mapping[int, float]], value: object | None, paired: bool
             ) -> tuple[list[float], list[float]]:
    """(reference, value) as the interval reads them: the common seeds when paired."""
    if paired:
        return paired_values(done, value)
    return (list(done[next(iter(done))].values()), list(done[_compared(done, value)].values()))


def anytime_verdict(done: Mapping[object, Mapping[int, float]], *,
                    margin: float = DEFAULT_MARGIN,
                    alpha: float = 0.05, minimum: int = MIN_RERUNS_TO_DECIDE,
                    paired: bool = False, value: object | None = None
                    ) -> tuple[Verdict, tuple[float, float]] | None:
    """The verdict of the anytime-valid interval of value - reference, with the interval.

    Args:
        done: Per value of the question, the test accuracy of each seed rerun, in the order
            they ran; the reference first.
        margin: The practical margin.
        alpha: The error level of the whole question: with k values compared with the
            reference, each sequence runs at alpha / k (Bonferroni).
        minimum: Reruns each value needs before any decision (pairs, when paired).
        paired: The sequence of the pairs' differences, over the seeds both values have.
        value: The value compared with the reference; None for the only one.

    Returns:
        (verdict, (low, high)) of value - reference; None until each has `minimum`.
    """
    reference, other = _samples(done, value, paired)
    verdict, interval = interval_verdict(
        reference, other, interval="anytime", margin=margin,
        alpha=split_alpha(alpha, len(done) - 1), minimum=max(minimum, 2), paired=paired)
    return None if verdict is None else (verdict, interval)


def anytime_verdicts(done: Mapping[object, Mapping[int, float]], **options: object
                     ) -> dict[object, tuple[Verdict, tuple[float, float]] | None]:
    """`anytime_verdict` of each value compared with the reference, in `done`'s order."""
    return {value: anytime_verdict(done, value=value, **options)  # type: ignore[arg-type]
            for value in list(done)[1:]}


def half_width(done: Mapping[object, Mapping[int, float]], *, paired: bool = False
               ) -> float | None:
    """The 95% half-width of the fixed-n interval of value - reference from the reruns so far,
    in the accuracies' unit (the widest, with several values); None until each value has
    MIN_RERUNS_EACH reruns (pairs, when paired).

    Args:
        done: Per value of the question (the reference first), the test accuracy of each seed
            rerun.
        paired: The paired t interval over the seeds both values have, as the verdict of
            paired reruns computes it; otherwise Welch's.
    """
    if len(done) < 2:
        return None
    widths = []
    for value in list(done)[1:]:
        reference, other = _samples(done, value, paired)
        if min(len(reference), len(other)) < MIN_RERUNS_EACH:
            return None
        _, standard_error, dof = difference_error(reference, other, paired=paired)
        widths.append(t_half_width(standard_error, dof, 0.95))
    return max(widths)
