"""Which rerun `study.confirm` trains next: both placements alike, or where the spread is.

"equal" reruns seed by seed, both placements alike (seed 1000 before, 1000 after, 1001 before,
...), so an interrupted run leaves them with nearly equal counts, and workers sharing one
confirmation (`study.reruns.workers`) finish a half-done pair before they start a new one.

"by-spread" spends reruns where they narrow the verdict's interval most. That interval is
Welch's, whose half-width goes with sqrt(s_before²/n_before + s_after²/n_after); one more rerun
of placement p shrinks the sum by s_p²/n_p - s_p²/(n_p + 1), so the next rerun goes where that
gain is largest, and the counts end up in proportion to each placement's std (Neyman
allocation). When one placement is far noisier than the other, a given half-width then costs
far fewer reruns than with equal counts. Each placement first gets MIN_RERUNS_EACH reruns in
the "equal" order, so that its spread is estimated at all.

The rule looks at the spreads only, never at the means, and chooses from past reruns alone, so
the anytime-valid interval of `study.stats.sequential` stays valid under it. That does not
make it neutral for a fixed-n interval: with skewed seeds a sample's spread and mean move
together (the first publication's "before" reruns: a correlation of -0.76, a low seed raising
the spread and lowering the mean), so stopping on the spread (`--stop half-width`) steers
Welch's interval; a review measured 8.8-9.5% false "matters" from it on that shape.

That interval, and the half-width `study.confirm --stop half-width` stops on, are computed in
`study.stats.intervals`.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Mapping, Sequence

from study.errors import ConfigError
from study.stats.intervals import MIN_RERUNS_EACH

__all__ = ["ALLOCATIONS", "next_rerun", "variance_gain"]

ALLOCATIONS = ("equal", "by-spread")


def next_rerun(done: Mapping[str, Mapping[int, float]], seeds: Sequence[int],
               allocation: str = "equal", *,
               taken: Mapping[str, Collection[int]] | None = None) -> tuple[str, int] | None:
    """The (placement, seed) to rerun next, or None when each placement has had every seed.

    Args:
        done: Per value of the question (every value a key, the reference first), the test
            accuracy of each seed already rerun.
        seeds: The seeds each placement may use, in the order they are used.
        allocation: One of ALLOCATIONS (see the module docstring).
        taken: Per value, the seeds other workers are rerunning now: not free, so the
            seed-major order goes on past them ("by-spread" runs in one process only).

    Returns:
        The placement and its first seed neither rerun nor taken yet.

    Raises:
        ConfigError: for an unknown allocation.
    """
    if allocation not in ALLOCATIONS:
        raise ConfigError(f"`allocation` must be one of {list(ALLOCATIONS)}, but got "
                          f"{allocation!r}.")
    values = list(done)
    taken = taken or {}
    first_free = {placement: next((seed for seed in seeds if seed not in done[placement]
                                   and seed not in taken.get(placement, ())), None)
                  for placement in values}
    open_placements = [placement for placement in values if first_free[placement] is not None]
    if not open_placements:
        return None
    counts = {placement: len(done[placement]) for placement in values}
    if allocation == "by-spread" and all(counts[p] >= MIN_RERUNS_EACH for p in open_placements):
        placement = max(open_placements,  # the first value on a tie
                        key=lambda p: variance_gain(statistics.variance(done[p].values()),
                                                    counts[p]))
    else:  # seed-major: the smallest free seed, the reference first on a tie
        placement = min(open_placements,
                        key=lambda p: (seeds.index(first_free[p]), values.index(p)))
    return placement, first_free[placement]


def variance_gain(variance: float, n: int) -> float:
    """How much one more rerun shrinks a placement's s²/n (its squared standard error), for
    `n` reruns so far that vary by `variance`: the rule "by-spread" allocates with."""
    return variance / (n * (n + 1))
