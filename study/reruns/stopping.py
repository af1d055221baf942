"""When `study.confirm` stops, and the loop that reruns until then.

`StopRule` says, after each rerun, whether the reruns so far are enough:

- "all": every seed asked for, each placement (`--seeds`);
- "half-width": the fixed-n 95% interval (Welch's; the paired t's for paired reruns) is at
  most `half_width` on each side (`--stop half-width`), a precision target for designs that
  fix their n in advance;
- "decided": the anytime-valid interval, past `MIN_RERUNS_TO_DECIDE` reruns per placement,
  gives "matters" or "equivalent" under the verdict rule of `study.stats.decision`, so the run
  stops exactly when the report would decide; at `--max-reruns` per placement it stops
  undecided. A confidence sequence may be looked at after every rerun and stopped on, which is
  what makes this rule valid.

`done`, the reruns so far, maps each value of the study's question to its reruns' accuracies by
seed, the reference first (`study.storage.reruns.done_reruns`); both rules read it with the
functions of `study.stats.looks`, which the verdict of `analysis` reads its intervals from too.
With more than two values each other value is compared with the reference at the level split
across the comparisons (Bonferroni), and "decided" waits until every comparison is.

`rerun_until_stopped` is the loop of one process, with training passed in:
`analysis.calibration.peeking` draws accuracies into it. `study.confirm`'s workers share their
reruns through the storage (`study.reruns.workers`) and make the same two calls on what is
stored, the rule and then `next_rerun`; with the "equal" allocation they look through
`LooksInOrder`, which reads the stored reruns in the seed-major order one process would have
run them, so that any number of workers stop at the rerun one process stops at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass

from study.errors import ConfigError
from study.reruns.allocation import next_rerun
from study.stats.decision import (
    DECIDED,
    DEFAULT_MARGIN,
    MIN_RERUNS_TO_DECIDE,
    check_margin,
    split_alpha,
)
from study.stats.looks import anytime_verdicts, half_width

__all__ = ["STOPS", "LooksInOrder", "StopRule", "rerun_until_stopped"]

STOPS = ("all", "half-width", "decided")


@dataclass(frozen=True)
class StopRule:
    """When the reruns are enough (see the module docstring).

    Attributes:
        stop: One of STOPS.
        half_width: With "half-width": the 95% half-width to reach, in (0, 1).
        margin: With "decided": the practical margin of the verdict rule, in (0, 1).
        alpha: With "decided": the error level of the anytime-valid interval.
        minimum: With "decided": reruns each value needs before any decision.
        paired: Read the pairs: the paired sequence with "decided", the paired t interval with
            "half-width" (`study.stats.looks`), as the verdict of paired reruns reads them.
    """

    stop: str = "all"
    half_width: float | None = None
    margin: float = DEFAULT_MARGIN
    alpha: float = 0.05
    minimum: int = MIN_RERUNS_TO_DECIDE
    paired: bool = False

    def __post_init__(self) -> None:
        if self.stop not in STOPS:
            raise ConfigError(f"`stop` must be one of {list(STOPS)}, but got {self.stop!r}.")
        if (self.stop == "half-width") != (self.half_width is not None):
            raise ConfigError(f"`stop_at_half_width` must be given exactly with stop "
                              f"'half-width', but got stop={self.stop!r} and "
                              f"stop_at_half_width={self.half_width}.")
        if self.half_width is not None and not 0 < self.half_width < 1:
            raise ConfigError(f"`stop_at_half_width` must be a fraction of accuracy in (0, 1), "
                              f"but got {self.half_width}.")
        check_margin(self.margin)
        if not 0 < self.alpha < 1:
            raise ConfigError(f"`alpha` must be in (0, 1), but got {self.alpha}.")
        if self.minimum < 2:
            raise ConfigError(f"`minimum` must be at least 2 reruns, but got {self.minimum}.")

    def reason_to_stop(self, done: Mapping[str, Mapping[int, float]]) -> str | None:
        """A line saying why the reruns so far are enough, or None to go on."""
        if self.stop == "half-width":
            width = half_width(done, paired=self.paired)
            if width is None or width > self.half_width:
                return None
            return (f"The 95% interval of the difference is \N{PLUS-MINUS SIGN}"
                    f"{100 * width:.3f} pp, at most the \N{PLUS-MINUS SIGN}"
                    f"{100 * self.half_width:.2f} pp asked for: no more reruns.")
        if self.stop == "decided":
            found = anytime_verdicts(done, margin=self.margin, alpha=self.alpha,
                                     minimum=self.minimum, paired=self.paired)
            if any(one is None or one[0] not in DECIDED for one in found.values()):
                return None
            reference = next(iter(done))
            level = f"{100 * (1 - split_alpha(self.alpha, len(found))):g}%"
            parts = [f"{value} - {reference} [{100 * low:+.2f}, {100 * high:+.2f}] pp: "
                     f"\"{verdict}\"" for value, (verdict, (low, high)) in found.items()]
            split = (f" (the {100 * self.alpha:g}% error level split over {len(found)} "
                     "comparisons)" if len(found) > 1 else "")
            return (f"The anytime-valid {level} interval{split} of the difference"
                    f"{'s' if len(found) > 1 else ''} "
                    f"{'is' if len(found) == 1 else 'are'} {'; '.join(parts)} at a margin of "
                    f"\N{PLUS-MINUS SIGN}{100 * self.margin:.2f} pp; no more reruns.")
        return None

    def record(self) -> dict[str, object]:
        """What the confirmation study stores about its stop rule."""
        return {"stop": self.stop, "stop_at_half_width": self.half_width,
                "margin": self.margin, "alpha": self.alpha, "minimum": self.minimum,
                "paired": self.paired}


def rerun_until_stopped(done: MutableMapping[str, MutableMapping[int, float]],
                        seeds: Sequence[int], allocation: str,
                        stop: Callable[[Mapping[str, Mapping[int, float]]], str | None],
                        rerun: Callable[[str, int], float]) -> str | None:
    """Reruns until each value had every seed or `stop` gives a reason.

    Args:
        done: Per value (every value a key, the reference first), the accuracy of each seed
            rerun so far; filled in as it goes.
        seeds: The seeds each value may use (`study.storage.reruns.rerun_seeds`).
        allocation: Which placement reruns next (`study.reruns.allocation`).
        stop: Looks at the reruns so far, after each: a reason to stop, or None to go on
            (`StopRule.reason_to_stop`).
        rerun: Trains (placement, seed) and returns its accuracy.

    Returns:
        The reason when `stop` ended the reruns (also before the first one), else None.
    """
    reason = stop(done)
    while reason is None and (chosen := next_rerun(done, seeds, allocation)) is not None:
        placement, seed = chosen
        done[placement][seed] = rerun(placement, seed)
        reason = stop(done)
    return reason


class LooksInOrder:
    """A stop rule looked at after each rerun of the seed-major order, as one process looks.

    Workers finish their reruns in any order, so the reruns stored at one moment may have a
    gap (pair 7 still running, pair 8 done). Only the longest gap-free start of the order
    (seed 1000 of each value, then seed 1001, ...) is looked at, one rerun at a time: the first
    look that gives a reason is the reason, for every worker and for one process alike. Each
    look is made once; a reason, once found, stays.

    Args:
        rule: The stop rule.
        values: The question's values, the reference first.
        seeds: The seeds each value may use, in order.
    """

    def __init__(self, rule: StopRule, values: Sequence[object], seeds: Sequence[int]) -> None:
        self._rule = rule
        self._order = [(value, seed) for seed in seeds for value in values]
        self._seen: dict[object, dict[int, float]] = {value: {} for value in values}
        self._looked = 0
        self._reason: str | None = None

    def reason_to_stop(self, done: Mapping[object, Mapping[int, float]]) -> str | None:
        """The rule's reason at the first look that gives one, or None (so far)."""
        while self._reason is None and self._looked < len(self._order):
            value, seed = self._order[self._looked]
            if seed not in done[value]:
                break
            self._seen[value][seed] = done[value][seed]
            self._looked += 1
            if self._rule.stop != "all":
                self._reason = self._rule.reason_to_stop(self._seen)
        return self._reason
