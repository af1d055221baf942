"""What a search space needs to know about the run it builds models for."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SpaceContext"]


@dataclass(frozen=True)
class SpaceContext:
    """Facts of the run that are not hyperparameters, given to every `build(hp, context)`.

    Attributes:
        input_shape: Model input, (height, width, channels).
        num_classes: Number of classes; the model returns that many logits.
        steps_per_epoch: Optimizer steps per epoch, for learning-rate schedules.
        epochs: Epochs per trial, for learning-rate schedules.
        jit_compile: Passed to `model.compile`; "auto" lets Keras decide (XLA off on CPU).
    """

    input_shape: tuple[int, int, int]
    num_classes: int
    steps_per_epoch: int
    epochs: int
    jit_compile: bool | str = "auto"

    @property
    def total_steps(self) -> int:
        """Optimizer steps in a whole trial."""
        return self.steps_per_epoch * self.epochs
