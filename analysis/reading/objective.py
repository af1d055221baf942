"""What a study's values are: which way is better, and in what units a difference is shown.

bnstudy's own studies maximise accuracy, a fraction: differences read in percentage points
(pp) and the margin is a fraction in (0, 1) (`study.stats.decision.check_margin`). Any other
Optuna study may minimise or maximise a value in its own units (a loss, seconds, an error
count): differences read as they are, with the units the caller names, and the margin is in
those units, with no default, since no one value suits every objective. Light on purpose: no
Optuna, no pandas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from study.errors import ConfigError
from study.stats.decision import DEFAULT_MARGIN, check_margin
from study.storage.contract import CONFIG_ATTR
from study.storage.question import QUESTION_ATTR

if TYPE_CHECKING:
    import optuna

__all__ = ["ACCURACY", "FRACTION", "UNBOUNDED", "Objective", "study_objective",
           "written_by_bnstudy"]

FRACTION = "fraction"  # values in [0, 1] (accuracy): differences in pp, margin in (0, 1)
UNBOUNDED = "not yet bounded"
OTHER_NAME = "objective value"  # what another study's values are called without a metric name


@dataclass(frozen=True)
class Objective:
    """What the values of a study are.

    Attributes:
        name: What they measure, as the report names them ("validation accuracy").
        lower_is_better: The study minimises them.
        units: FRACTION, or the units they are in ("" where unnamed).
    """

    name: str = "validation accuracy"
    lower_is_better: bool = False
    units: str = FRACTION

    @property
    def fraction(self) -> bool:
        """Whether the values are fractions (of accuracy), shown in pp."""
        return self.units == FRACTION

    @property
    def better(self) -> str:
        """"higher" or "lower": which way is better."""
        return "lower" if self.lower_is_better else "higher"

    @property
    def sign(self) -> float:
        """+1 where higher is better, -1 where lower is: `sign * value` ranks best highest."""
        return -1.0 if self.lower_is_better else 1.0

    def label(self, prefix: str = "") -> str:
        """An axis label: "best validation accuracy", "best val_loss (lower is better)"."""
        text = f"{prefix} {self.name}".strip()
        return f"{text} (lower is better)" if self.lower_is_better else text

    def _suffix(self) -> str:
        return f" {self.units}" if self.units else ""

    def difference(self, value: float) -> str:
        """A signed difference: "+0.31 pp" for fractions, "-0.0412 s" otherwise."""
        if self.fraction:
            return f"{100 * value:+.2f} pp"
        return f"{value:+.4g}{self._suffix()}"

    def amount(self, value: float) -> str:
        """The size of a difference, unsigned: "0.31 pp", "0.0412 s"."""
        if self.fraction:
            return f"{100 * abs(value):.2f} pp"
        return f"{abs(value):.4g}{self._suffix()}"

    def margin(self, margin: float) -> str:
        """The margin as reports show it: "±0.50 pp"."""
        return f"±{self.amount(margin)}"

    def interval(self, low: float, high: float) -> str:
        """An interval of differences, or UNBOUNDED where the data cannot bound it.

        Differences of fractions lie in [-1, 1], so an end at -1 or 1 is one the data did not
        bound (the intervals are clipped there); in other units such an end is infinite.
        """
        if self.fraction:
            if low <= -1.0 or high >= 1.0:
                return UNBOUNDED
            return f"[{100 * low:+.2f}, {100 * high:+.2f}] pp"
        if not (math.isfinite(low) and math.isfinite(high)):
            return UNBOUNDED
        return f"[{low:+.4g}, {high:+.4g}]{self._suffix()}"

    def check_margin(self, margin: float | None, name: str = "margin") -> float:
        """`margin`, checked against the values' units; DEFAULT_MARGIN for fractions if None.

        Raises:
            ConfigError: for fractions, unless 0 < margin < 1.
            in other units, for a missing, non-finite or non-positive margin.
        """
        if self.fraction:
            return check_margin(DEFAULT_MARGIN if margin is None else margin, name)
        if margin is None or not math.isfinite(margin) or margin <= 0:
            units = f"in {self.units}" if self.units else "in the objective's own units"
            raise ConfigError(
                f"`{name}` must be a positive difference of {self.name} {units}, the smallest "
                f"that would matter (no default: the values are not fractions of accuracy), "
                f"but got {margin}.")
        return margin

    def description(self) -> str:
        """One sentence on what the values are, for a report of a study bnstudy did not write."""
        units = ("fractions, differences in percentage points" if self.fraction
                 else f"in {self.units}" if self.units else "in the objective's own units")
        return (f"Values: {self.name}, {units}; {self.better} is better. The margin and every "
                f"difference are in these units.")

    def record(self) -> dict[str, object]:
        """What verdict.json stores of it."""
        return {"name": self.name, "direction": "minimize" if self.lower_is_better
                else "maximize", "units": self.units}


ACCURACY = Objective()  # bnstudy's own studies: validation accuracy, a fraction, maximised


def written_by_bnstudy(study: optuna.Study) -> bool:
    """Whether `study` carries the records a bnstudy search writes (its config or question)."""
    return CONFIG_ATTR in study.user_attrs or QUESTION_ATTR in study.user_attrs


def study_objective(study: optuna.Study, *, units: str | None, fraction: bool) -> Objective:
    """The objective of a single-objective study.

    Args:
        study: The search study.
        units: What the caller says the values are in: FRACTION, a unit's name, or None.
        fraction: Whether the values are fractions when `units` is None.

    Returns:
        ACCURACY for bnstudy's own studies; otherwise the study's direction, its first metric
        name (or OTHER_NAME) and the units.

    Raises:
        ConfigError: for `units` other than FRACTION on a study bnstudy wrote.
    """
    lower = study.direction.name == "MINIMIZE"
    if written_by_bnstudy(study):
        if units not in (None, FRACTION):
            raise ConfigError(
                f"`units` must be left out for {study.study_name!r}, which bnstudy wrote (its "
                f"values are accuracies, fractions shown in pp), but got {units!r}.")
        if not lower:
            return ACCURACY
    names = study.metric_names
    name = names[0] if names and names[0] else OTHER_NAME
    return Objective(name, lower, (FRACTION if fraction else "") if units is None else units)
