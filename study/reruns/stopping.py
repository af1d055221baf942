"""When `study.confirm` stops, and the loop that reruns until then.

`StopRule` says, after each rerun, whether the reruns so far are enough:

- "all": every seed asked for, each placement (`--seeds`);
- "half-width": Welch's 95% interval is at most `half_width` on each side
  (`--stop-at-half-width`), a precision target for designs that fix their n in advance;
- "decided": the anytime-valid interval (`study.reruns.sequential`), past
  `MIN_RERUNS_TO_DECIDE` reruns per placement, gives "matters" or "equivalent" under the
  verdict rule of `study.reruns.decision`, so the run stops exactly when the report would
  decide; at `--max-reruns` per placement it stops undecided. A confidence sequence may be
  looked at after every rerun and stopped on, which is what makes this rule valid.

`rerun_until_stopped` is the loop itself, with training passed in: `study.reruns.confirmation`
trains and stores, `analysis.simulate` draws accuracies, so the simulations measure the loop
that runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass

from study.errors import ConfigError
from study.reruns.allocation import next_rerun
from study.reruns.decision import DECIDED, DEFAULT_MARGIN, MIN_RERUNS_TO_DECIDE, Verdict, decide
from study.reruns.intervals import half_width
from study.storage.contract import PLACEMENTS

__all__ = ["STOPS", "StopRule", "anytime_verdict", "paired_values", "rerun_until_stopped"]

STOPS = ("all", "half-width", "decided")


def paired_values(done: Mapping[str, Mapping[int, float]]) -> tuple[list[float], list[float]]:
    """(before, after) of the seeds both placements have rerun, in the order "before" ran them."""
    before, after = (done.get(placement, {}) for placement in PLACEMENTS)
    common = [seed for seed in before if seed in after]
    return [before[seed] for seed in common], [after[seed] for seed in common]


def anytime_verdict(done: Mapping[str, Mapping[int, float]], *, margin: float = DEFAULT_MARGIN,
                    alpha: float = 0.05, minimum: int = MIN_RERUNS_TO_DECIDE,
                    paired: bool = False) -> tuple[Verdict, tuple[float, float]] | None:
    """The verdict of the anytime-valid interval on the reruns so far, with the interval.

    Args:
        done: Per placement, the test accuracy of each seed rerun, in the order they ran.
        margin: The practical margin.
        alpha: The sequence's error level.
        minimum: Reruns each placement needs before any decision (pairs, when paired).
        paired: Reruns of one seed share initial weights and data order: the sequence of the
            pairs' differences, over the seeds both placements have.

    Returns:
        (verdict, (low, high)) of after - before; None until each placement has `minimum`.
    """
    # Imported here: `python -m study.confirm` imports this module before it can turn a
    # Ctrl-C into one line, and the sequence needs numpy (tests/test_interrupts.py).
    from study.reruns.sequential import confidence_sequence

    if paired:
        before, after = paired_values(done)
    else:
        before, after = (list(done.get(placement, {}).values()) for placement in PLACEMENTS)
    if min(len(before), len(after)) < max(minimum, 2):
        return None
    low, high = confidence_sequence(after, before, alpha=alpha, paired=paired)
    return decide(low, high, margin), (low, high)


@dataclass(frozen=True)
class StopRule:
    """When the reruns are enough (see the module docstring).

    Attributes:
        stop: One of STOPS.
        half_width: With "half-width": Welch's 95% half-width to reach, in (0, 1).
        margin: With "decided": the practical margin of the verdict rule, in (0, 1).
        alpha: With "decided": the error level of the anytime-valid interval.
        minimum: With "decided": reruns each placement needs before any decision.
        paired: With "decided": decide on the paired sequence (`anytime_verdict`).
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
        if not 0 < self.margin < 1:
            raise ConfigError(f"`margin` must be a fraction of accuracy in (0, 1), but got "
                              f"{self.margin}.")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"`alpha` must be in (0, 1), but got {self.alpha}.")
        if self.minimum < 2:
            raise ConfigError(f"`minimum` must be at least 2 reruns, but got {self.minimum}.")

    def reason_to_stop(self, done: Mapping[str, Mapping[int, float]]) -> str | None:
        """A line saying why the reruns so far are enough, or None to go on."""
        if self.stop == "half-width":
            width = half_width(done)
            if width is None or width > self.half_width:
                return None
            return (f"The 95% interval of the difference is \N{PLUS-MINUS SIGN}"
                    f"{100 * width:.3f} pp, at most the \N{PLUS-MINUS SIGN}"
                    f"{100 * self.half_width:.2f} pp asked for: no more reruns.")
        if self.stop == "decided":
            found = anytime_verdict(done, margin=self.margin, alpha=self.alpha,
                                    minimum=self.minimum, paired=self.paired)
            if found is None or found[0] not in DECIDED:
                return None
            verdict, (low, high) = found
            return (f"The anytime-valid {100 * (1 - self.alpha):g}% interval of the difference "
                    f"is [{100 * low:+.2f}, {100 * high:+.2f}] pp: \"{verdict}\" at a margin of "
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
    """Reruns until each placement had every seed or `stop` gives a reason.

    Args:
        done: Per placement, the accuracy of each seed rerun so far; filled in as it goes.
        seeds: The seeds each placement may use (`study.storage.reruns.rerun_seeds`).
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
        done.setdefault(placement, {})[seed] = rerun(placement, seed)
        reason = stop(done)
    return reason
