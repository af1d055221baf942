"""Concise progress lines for a running study: one line per trial start, epoch and end.

`time_left` is the estimate every step's lines end with (search, selection, confirmation): the
mean time of what this process has finished so far, times what is left.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # annotations only: the CLIs import format_params before Keras is needed
    import optuna

__all__ = ["Progress", "format_duration", "format_params", "time_left"]


def format_params(values: dict[str, object]) -> str:
    """`name=value` pairs, floats to 4 significant digits."""
    return " ".join(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
                    for name, value in values.items())


class Progress:
    """Prints trial i of N, its parameters, epochs, its result, the best so far and time left.

    Args:
        n_trials: The study's trial budget (None when unbounded).
        epochs: Epochs per trial, for "epoch 2/5".
        objective: The metric being maximised.
        stream: Where the lines go.
    """

    def __init__(self, n_trials: int | None, epochs: int, objective: str = "val_accuracy",
                 stream: TextIO | None = None) -> None:
        self.n_trials = n_trials
        self.epochs = epochs
        self.objective = objective
        self.stream = stream or sys.stdout
        self._durations: list[float] = []
        self._trial_started = 0.0

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def search_started(self, remaining: int | None) -> None:
        if self.n_trials is not None and remaining is not None and remaining < self.n_trials:
            self._print(f"Resuming: {self.n_trials - remaining} of {self.n_trials} trials "
                        "already finished.")

    def trial_started(self, number: int, values: dict[str, object],
                      remaining: int | None) -> None:
        self._trial_started = time.perf_counter()
        position = "" if remaining is None else f" ({self.n_trials - remaining + 1} of " \
            f"{self.n_trials})"
        self._print(f"Trial {number}{position}: {format_params(values)}")

    def epoch_ended(self, step: int, logs: dict[str, float], pruned: bool) -> None:
        metrics = "  ".join(f"{name} {value:.4f}" for name, value in logs.items()
                            if name in ("loss", "accuracy", "val_loss", self.objective))
        self._print(f"  epoch {step}/{self.epochs}  {metrics}" + ("  -> stop" if pruned else ""))

    def trial_ended(self, trial: optuna.trial.FrozenTrial | None,
                    best: optuna.trial.FrozenTrial | None, remaining: int | None) -> None:
        duration = time.perf_counter() - self._trial_started
        self._durations.append(duration)
        if trial is None:
            return
        reason = trial.user_attrs.get("failure_reason")
        value = "" if trial.value is None else f" {self.objective} {trial.value:.4f}"
        line = f"  -> {trial.state.name.lower()}{value} in {duration:.1f} s"
        if reason:
            line += f" ({reason})"
        if best is not None:
            line += f"; best so far {best.value:.4f} (trial {best.number})"
        if remaining:
            line += f"; {time_left(sum(self._durations), len(self._durations), remaining)}"
        self._print(line)


def time_left(elapsed: float, done: int, remaining: int) -> str:
    """"about 12 min left": `remaining` units at the mean time of the `done` ones so far.

    Args:
        elapsed: Seconds the `done` units took together.
        done: Units measured (at least 1).
        remaining: Units left.
    """
    if done < 1:
        raise ValueError(f"`done` must be at least 1 to measure a mean, but got {done}.")
    return f"about {format_duration(elapsed / done * remaining)} left"


def format_duration(seconds: float) -> str:
    """Seconds as "42 s", "12 min" or "3.5 h"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
