"""Looking after every rerun: simulated confirmations through the loop `study.confirm` runs.

Each simulated confirmation draws test accuracies for the seeds of both placements, then runs
`study.reruns.stopping.rerun_until_stopped` on them, the loop of the real command, with
allocation by spread and a stop rule that looks after every rerun:

- "anytime": `study.confirm --stop decided` (the anytime-valid interval and the verdict rule,
  no decision before the minimum);
- "welch": the same loop stopped by Welch's fixed-n 95% interval (TOST's 90% for
  "equivalent") looked at after every rerun past the same minimum: what reading a fixed-n
  interval while reruns accumulate amounts to. Both rules see the same draws.

Two seed shapes: "normal" (std `seed_std` per placement), and "bimodal" for "before", shaped
like the first publication's "before" reruns (four in five in a tight core, one in five about
4 pp lower), its mean where a normal one would be. `peeking_rates` counts how the
confirmations ended; `python -m analysis.calibration.peeking` prints the table
benchmarks/README.md quotes.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from study.reruns.stopping import rerun_until_stopped
from study.stats.decision import DECIDED, DEFAULT_MARGIN, MIN_RERUNS_TO_DECIDE, split_alpha
from study.stats.intervals import fixed_n_intervals
from study.stats.looks import interval_verdict
from study.storage.contract import PLACEMENTS
from study.storage.reruns import CONFIRM_SEED_BASE, rerun_seeds

__all__ = ["SHAPES", "PeekingRates", "draw_accuracies", "family_miss_rate", "miss_rate",
           "peeking_rates", "simulate_confirmation"]

SHAPES = ("normal", "bimodal")
BASE_ACCURACY = 0.86  # the first publication's level
SEED_STD = 0.005  # per placement: the first publication's "after" reruns spread by 0.53 pp
# The bimodal "before": a core of this std, and a tail of this share, this much lower and
# this spread (the first publication: 61% within 0.6 pp of 86.4%, 20% between 76% and 82.6%).
CORE_STD, TAIL_SHARE, TAIL_OFFSET, TAIL_STD = 0.005, 0.2, -0.04, 0.015


def draw_accuracies(rng: np.random.Generator, shape: str, mean: float, count: int
                    ) -> np.ndarray:
    """`count` rerun accuracies of one placement whose true mean is `mean`.

    Args:
        rng: The random generator.
        shape: "normal" (std SEED_STD) or "bimodal" (core and tail, see the module constants).
        mean: The true mean.
        count: How many.
    """
    if shape == "normal":
        return rng.normal(mean, SEED_STD, count)
    if shape != "bimodal":
        raise ValueError(f"`shape` must be one of {list(SHAPES)}, but got {shape!r}.")
    core = mean - TAIL_SHARE * TAIL_OFFSET  # puts the mixture's mean at `mean`
    tail = rng.random(count) < TAIL_SHARE
    return np.where(tail, rng.normal(core + TAIL_OFFSET, TAIL_STD, count),
                    rng.normal(core, CORE_STD, count))


def _verdict(done: Mapping[str, Mapping[int, float]], interval: str, margin: float,
             minimum: int) -> str | None:
    """The verdict of `interval` on the reruns so far; None before the minimum."""
    before, after = (list(done[p].values()) for p in PLACEMENTS)
    return interval_verdict(before, after, interval=interval, margin=margin, minimum=minimum)[0]


def _upper_bound(found: int, n: int) -> float:
    """The Clopper-Pearson 95% upper bound of a rate of `found` in `n`."""
    from scipy.stats import beta

    return 1.0 if found == n else float(beta.ppf(0.975, found + 1, n - found))


def simulate_confirmation(draws: Mapping[str, np.ndarray], *, interval: str = "anytime",
                          margin: float = DEFAULT_MARGIN, minimum: int = MIN_RERUNS_TO_DECIDE
                          ) -> tuple[str, int, int, bool]:
    """One confirmation, by spread, stopped by the rule of `interval`, on given draws.

    Args:
        draws: Per placement, the accuracy of each of its seeds in seed order (equal lengths:
            the most reruns per placement).
        interval: "anytime" (`--stop decided`) or "welch" (its fixed-n interval, looked at
            after every rerun).
        margin: The practical margin.
        minimum: Reruns per placement before any decision.

    Returns:
        (final verdict, reruns before, reruns after, whether any look said "matters").
    """
    seeds = rerun_seeds(len(draws["before"]))
    done: dict[str, dict[int, float]] = {placement: {} for placement in PLACEMENTS}
    said_matters = False

    def rerun(placement: str, seed: int) -> float:
        return float(draws[placement][seed - CONFIRM_SEED_BASE])

    def look(done: Mapping[str, Mapping[int, float]]) -> str | None:
        # Stops exactly where `StopRule("decided").reason_to_stop` does (for "anytime"):
        # on a decided verdict, each verdict computed once a look.
        nonlocal said_matters
        verdict = _verdict(done, interval, margin, minimum)
        said_matters = said_matters or verdict == "matters"
        return verdict if verdict in DECIDED else None

    rerun_until_stopped(done, seeds, "by-spread", look, rerun)
    final = _verdict(done, interval, margin, minimum) or "inconclusive"
    return final, len(done["before"]), len(done["after"]), said_matters


@dataclass(frozen=True)
class PeekingRates:
    """How simulated confirmations ended, and a 95% interval on the false-"matters" rate."""

    matters: float  # final verdict "matters", either sign
    matters_right_sign: float
    equivalent: float
    nonzero: float
    inconclusive: float
    differs: float  # "matters" or "nonzero": the interval excludes zero at the end
    any_look_matters: float  # some look along the way said "matters"
    mean_reruns: float  # per confirmation, both placements together
    matters_upper: float  # Clopper-Pearson 95% upper bound of `matters`
    n_studies: int


def peeking_rates(effect: float, *, before_shape: str = "normal", interval: str = "anytime",
                  n_studies: int = 1000, max_reruns: int = 200, margin: float = DEFAULT_MARGIN,
                  minimum: int = MIN_RERUNS_TO_DECIDE, seed: int = 0) -> PeekingRates:
    """How `n_studies` simulated confirmations with a true difference `effect` ended.

    Args:
        effect: True mean(after) - mean(before).
        before_shape: The seed shape of "before" ("after" is always normal).
        interval: The stop rule's interval (see `simulate_confirmation`).
        n_studies: Simulated confirmations.
        max_reruns: The most reruns per placement.
        margin: The practical margin.
        minimum: Reruns per placement before any decision.
        seed: Seeds the draws; the same seed gives both intervals the same studies.
    """
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(("matters", "matters_right_sign", "equivalent", "nonzero",
                            "inconclusive", "any_look_matters"), 0)
    reruns = 0
    for _ in range(n_studies):
        draws = {"before": draw_accuracies(rng, before_shape, BASE_ACCURACY, max_reruns),
                 "after": draw_accuracies(rng, "normal", BASE_ACCURACY + effect, max_reruns)}
        verdict, n_before, n_after, said = simulate_confirmation(
            draws, interval=interval, margin=margin, minimum=minimum)
        counts[verdict] += 1
        done = {p: draws[p][:n] for p, n in (("before", n_before), ("after", n_after))}
        right_sign = (done["after"].mean() - done["before"].mean()) * effect > 0
        counts["matters_right_sign"] += verdict == "matters" and right_sign
        counts["any_look_matters"] += said
        reruns += n_before + n_after
    upper = _upper_bound(counts["matters"], n_studies)
    counts["differs"] = counts["matters"] + counts["nonzero"]
    return PeekingRates(**{name: count / n_studies for name, count in counts.items()},
                        mean_reruns=reruns / n_studies, matters_upper=upper,
                        n_studies=n_studies)


def miss_rate(effect: float, *, before_shape: str = "normal", interval: str = "anytime",
              n_studies: int = 1000, max_reruns: int = 200, minimum: int = 2,
              seed: int = 0) -> tuple[float, float]:
    """How often some look's interval misses the true difference, with no stopping at all.

    Every study runs its `max_reruns` reruns per placement by spread, and the interval of
    `interval` (95%: the anytime sequence or Welch's) is looked at after every rerun from
    `minimum` reruns per placement on. A confidence sequence should miss in at most 5% of
    studies; a fixed-n interval looked at this often misses in far more.

    Returns:
        (the rate, its Clopper-Pearson 95% upper bound).
    """
    from study.stats.sequential import confidence_sequence

    rng = np.random.default_rng(seed)
    seeds = rerun_seeds(max_reruns)
    missed = 0
    for _ in range(n_studies):
        draws = {"before": draw_accuracies(rng, before_shape, BASE_ACCURACY, max_reruns),
                 "after": draw_accuracies(rng, "normal", BASE_ACCURACY + effect, max_reruns)}
        misses = False

        def look(done: Mapping[str, Mapping[int, float]]) -> str | None:
            nonlocal misses
            before, after = (np.fromiter(done[p].values(), float) for p in PLACEMENTS)
            if not misses and min(before.size, after.size) >= max(minimum, 2):
                low, high = (confidence_sequence(after, before) if interval == "anytime"
                             else fixed_n_intervals(before, after)[0])
                misses = not low <= effect <= high
            return None

        rerun_until_stopped({p: {} for p in PLACEMENTS}, seeds, "by-spread", look,
                            lambda p, s, draws=draws: float(draws[p][s - CONFIRM_SEED_BASE]))
        missed += misses
    return missed / n_studies, _upper_bound(missed, n_studies)


def family_miss_rate(n_values: int, *, n_studies: int = 1000, max_reruns: int = 200,
                     minimum: int = MIN_RERUNS_TO_DECIDE, split: bool = True, seed: int = 0
                     ) -> tuple[float, float]:
    """How often some look misses the truth in some comparison of a question of `n_values`.

    Every value has the same true mean, each of the `n_values - 1` others is compared with the
    reference (the first) by its anytime-valid interval (`anytime_verdict`), looked at after
    every rerun from `minimum` reruns each, reruns going seed by seed over the values as
    `study.confirm` runs them. With `split`, each interval runs at the 5% level split across
    the comparisons (Bonferroni), as `study.confirm` and `analysis` do; without it, at 5% each.

    Returns:
        (the rate, its Clopper-Pearson 95% upper bound).
    """
    from study.stats.sequential import confidence_sequence

    if n_values < 2:
        raise ValueError(f"`n_values` must be at least 2, but got {n_values}.")
    rng = np.random.default_rng(seed)
    seeds = rerun_seeds(max_reruns)
    alpha = split_alpha(0.05, n_values - 1) if split else 0.05
    missed = 0
    for _ in range(n_studies):
        draws = {value: rng.normal(BASE_ACCURACY, SEED_STD, max_reruns)
                 for value in range(n_values)}
        misses = False

        def look(done: Mapping[int, Mapping[int, float]]) -> str | None:
            nonlocal misses
            reference, *others = (np.fromiter(found.values(), float) for found in done.values())
            for other in others:
                size = min(reference.size, other.size)
                if not misses and size >= minimum:
                    low, high = confidence_sequence(other[:size], reference[:size], alpha=alpha)
                    misses = not low <= 0.0 <= high
            return None

        rerun_until_stopped({value: {} for value in draws}, seeds, "equal", look,
                            lambda v, s, draws=draws: float(draws[v][s - CONFIRM_SEED_BASE]))
        missed += misses
    return missed / n_studies, _upper_bound(missed, n_studies)


def peeking_table(n_studies: int = 1000, *, minimums: tuple[int, ...] = (MIN_RERUNS_TO_DECIDE,)
                  ) -> pd.DataFrame:
    """The rates of both stop rules on the same simulated studies, per scenario."""
    rows = []
    scenarios = [("0", 0.0, "normal"), ("0", 0.0, "bimodal"),
                 ("+0.5 pp (the margin)", DEFAULT_MARGIN, "normal"),
                 ("+1 pp (twice the margin)", 2 * DEFAULT_MARGIN, "normal"),
                 ("+1 pp (twice the margin)", 2 * DEFAULT_MARGIN, "bimodal")]
    for minimum in minimums:
        for truth, effect, shape in scenarios:
            for interval in ("anytime", "welch"):
                rates = peeking_rates(effect, before_shape=shape, interval=interval,
                                      n_studies=n_studies, minimum=minimum, seed=minimum)
                rows.append({"truth": truth, "before": shape, "interval": interval,
                             "minimum": minimum, "matters": rates.matters,
                             "matters 95% upper": rates.matters_upper,
                             "right-sign matters": rates.matters_right_sign,
                             "differs": rates.differs, "equivalent": rates.equivalent,
                             "any look matters": rates.any_look_matters,
                             "reruns": math.floor(rates.mean_reruns + 0.5)})
    return pd.DataFrame(rows)


def miss_table(n_studies: int = 1000) -> pd.DataFrame:
    """How often some look's 95% interval misses the truth, reruns never stopped early."""
    rows = []
    for shape in SHAPES:
        for interval in ("anytime", "welch"):
            for minimum in (2, 10, MIN_RERUNS_TO_DECIDE):
                rate, upper = miss_rate(0.0, before_shape=shape, interval=interval,
                                        n_studies=n_studies, minimum=minimum, seed=minimum)
                rows.append({"before": shape, "interval": interval, "looks from": minimum,
                             "some look misses": rate, "95% upper": upper})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """Prints `peeking_table` (about 10 minutes on a 2-core CPU for 1,000 studies a cell)."""
    parser = argparse.ArgumentParser(prog="python -m analysis.calibration.peeking",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000, help="per cell (default 1000)")
    parser.add_argument("--minimums", type=int, nargs="+", default=[MIN_RERUNS_TO_DECIDE],
                        help=f"reruns before any decision (default {MIN_RERUNS_TO_DECIDE})")
    args = parser.parse_args(argv)
    show = {"index": False, "float_format": lambda value: f"{value:.4f}"}
    print(peeking_table(args.studies, minimums=tuple(args.minimums)).to_string(**show))
    print()
    print(miss_table(args.studies).to_string(**show))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
